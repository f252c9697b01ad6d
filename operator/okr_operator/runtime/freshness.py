"""How old the figures the API shows are, per object, and marking them stale when they are too old.

A cycle confirms an object's figures when they reach the API (written, or unchanged from what is written);
the instant they are from is the cycle's evaluation instant. Figures are due for a refresh one interval after
that instant and stale one interval later (``allowed``: twice the interval). Where nothing refreshes them in
time the loop marks them (evaluation/staleness.py): while a cycle is still running at the deadline (Prometheus
slow but answering), after a cycle that failed, and after a cycle whose write of that object failed. Nothing is
written while figures are current, so steady state stays at 0 status writes; the cycle that next confirms an
object's figures clears its mark with the status it computed.

``okr_stale_objects`` counts the objects whose figures are older than allowed (marked or not: a mark cannot be
written while the API server does not answer), ``okr_oldest_figures_seconds`` the age of the oldest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..api.identity import Ref
from ..evaluation.conditions import find
from ..evaluation.cycle import Outcome
from ..evaluation.snapshot import Snapshot
from ..evaluation.staleness import STALE, says_stale, stale_status
from ..kube.client import EVALUATION_MANAGER
from .metrics import Metrics
from .status import StatusWriter
from .store import Store

log = logging.getLogger("okr_operator.evaluation")


def clear_marks_made_meanwhile(outcome: Outcome, snapshot: Snapshot, store: Store) -> None:
    """Marks written while the cycle ran are not in the statuses it compared with: where its figures found nothing
    to write, write the status it kept, which clears the mark."""
    for e in snapshot.all():
        if e.ref in outcome.changed or says_stale(e.status):
            continue
        if _marked_stale((store.get(e.ref) or {}).get("status") or {}):
            outcome.changed[e.ref] = outcome.statuses[e.ref]
            outcome.changed_fields[e.ref] = ["conditions"]


def _marked_stale(status: dict[str, Any]) -> bool:
    metrics = find(status.get("conditions"), "MetricsAvailable") or {}
    return metrics.get("reason") == STALE and metrics.get("status") == "False"


def keep_stale_marks(outcome: Outcome, store: Store) -> None:
    """After a cycle that overran its interval: do not clear the Stale marks whose figures did not move (the
    next cycle would likely mark them again: two writes per object per cycle for a slow evaluation). The first
    cycle that ends within its interval clears them."""
    for ref in [r for r, moved in outcome.changed_fields.items() if moved == ["conditions"]]:
        if _marked_stale((store.get(ref) or {}).get("status") or {}):
            outcome.changed.pop(ref, None)
            outcome.changed_fields.pop(ref, None)


class Freshness:
    def __init__(self, store: Store, writer: StatusWriter, metrics: Metrics, interval: float) -> None:
        self.store, self.writer, self.metrics = store, writer, metrics
        self.interval = interval
        self.allowed = 2 * interval
        self.shown: dict[Ref, datetime] = {}  # the instant of the figures the API shows
        self.failed: dict[Ref, str] = {}  # why the last write of an object's status failed

    def confirm(self, refs: Iterable[Ref], instant: datetime) -> None:
        for ref in refs:
            self.shown[ref] = instant
            self.failed.pop(ref, None)

    def write_failed(self, ref: Ref, why: str) -> None:
        self.failed[ref] = why

    def forget_gone(self, present: set[Ref]) -> None:
        for ref in [r for r in self.shown if r not in present]:
            del self.shown[ref]
            self.failed.pop(ref, None)

    def seconds_to_deadline(self, now: datetime) -> float | None:
        """Seconds until the oldest figures become stale (0 when some already are); None without figures."""
        if not self.shown:
            return None
        return max((min(self.shown.values()) - now).total_seconds() + self.allowed, 0.0)

    def overdue(self, now: datetime, older_than: float | None = None) -> list[tuple[Ref, datetime]]:
        limit = self.allowed if older_than is None else older_than
        return sorted((r, t) for r, t in self.shown.items() if (now - t).total_seconds() > limit)

    def export(self, now: datetime) -> None:
        self.metrics.stale_objects.set(len(self.overdue(now)))
        oldest = min(self.shown.values(), default=None)
        self.metrics.oldest_figures.set((now - oldest).total_seconds() if oldest is not None else 0)

    async def mark(
        self, now: datetime, why: str, older_than: float | None = None, among: set[Ref] | None = None
    ) -> int:
        """Mark the overdue objects (of ``among``, when given) whose status does not say so yet; returns how many
        were written. ``why`` is the loop's reason; an object whose own write failed gets that reason instead."""
        items = []
        for ref, since in self.overdue(now, older_than):
            if among is not None and ref not in among:
                continue
            status = (self.store.get(ref) or {}).get("status") or {}
            marked = stale_status(ref.kind, status, since, self.failed.get(ref, why), now)
            if marked is not None:
                items.append((ref, marked))
        done = await self.writer.write_many(items, manager=EVALUATION_MANAGER)
        if done.written:
            log.warning("%d objects marked stale: %s", len(done.written), why)
        if done.unanswered is not None:
            log.warning("stale figures not marked (the API server does not answer): %s", done.unanswered)
        for ref, failure in done.failed.items():
            log.warning("stale figures of %s not marked: %s", ref, failure)
        self.export(now)
        return len(done.written)
