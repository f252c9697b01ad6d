"""The evaluation loop: every ``interval``, evaluate every object and write the statuses that changed.

One asyncio task for all objects (no per-object timers). Only the holder of the leader Lease writes
(or every replica in standalone mode, which is meant for one replica). Handlers call ``nudge()`` after a
spec change so the new figures show within a second instead of a full interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from ..api.identity import Ref
from ..evaluation.cycle import Evaluator, Outcome
from ..evaluation.snapshot import Snapshot
from ..kube.client import EVALUATION_MANAGER, KubeAdapter, KubeError
from ..kube.lease import LeaderLease
from ..prometheus.adapter import PrometheusAdapter
from . import memory
from .metrics import Metrics
from .store import Store

log = logging.getLogger("okr_operator.evaluation")
NUDGE_DELAY = 1.0


class EvaluationLoop:
    def __init__(
        self,
        *,
        store: Store,
        kube: KubeAdapter,
        prometheus: PrometheusAdapter,
        metrics: Metrics,
        interval: float,
        sli_source: str,
        lease: LeaderLease | None,
    ) -> None:
        self.store, self.kube, self.prometheus, self.metrics = store, kube, prometheus, metrics
        self.interval, self.sli_source, self.lease = interval, sli_source, lease
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self.cycles = 0
        self.last_outcome: Outcome | None = None

    def nudge(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    async def run(self) -> None:
        while not self._stopped.is_set():
            started = time.monotonic()
            try:
                await self.cycle()
            except Exception:  # never let one bad cycle kill the loop
                log.exception("evaluation cycle failed")
                self.metrics.evaluations.labels("error").inc()
            memory.release()  # the cycle's models and responses are garbage now
            self.metrics.beat()
            await self._sleep(max(self.interval - (time.monotonic() - started), 0.0))

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
            await asyncio.sleep(NUDGE_DELAY)  # let a burst of changes (kubectl apply -f dir/) settle
        except TimeoutError:
            pass
        self._wake.clear()

    async def cycle(self) -> Outcome | None:
        leader = True
        if self.lease is not None:
            leader = await asyncio.to_thread(self.lease.acquire_or_renew)
        self.metrics.leader.set(1 if leader else 0)
        if not leader:
            self.metrics.evaluations.labels("standby").inc()
            self.metrics.statuses.update([], {})  # a standby exports no (stale) figures: alerts read the leader's
            return None
        bodies = self.store.bodies()
        for kind in ("Objective", "KeyResult", "ServiceLevelObjective"):
            self.metrics.objects.labels(kind).set(sum(1 for b in bodies if b.get("kind") == kind))
        snapshot = Snapshot.from_bodies(bodies)
        now = datetime.now(UTC)
        with self.metrics.evaluation_seconds.time():
            evaluator = Evaluator(self.prometheus.query, sli_source=self.sli_source)
            outcome = await asyncio.to_thread(evaluator.evaluate, snapshot, now)
        await self._write(outcome, bodies)
        await asyncio.to_thread(self.metrics.statuses.update, snapshot.all(), outcome.statuses)
        self.metrics.evaluations.labels("ok" if not outcome.query_errors else "partial").inc()
        self.cycles += 1
        self.last_outcome = outcome
        return outcome

    async def _write(self, outcome: Outcome, bodies: list[dict[str, Any]]) -> None:
        by_ref = {Ref(b["kind"], b["metadata"].get("namespace") or "default", b["metadata"]["name"]): b for b in bodies}
        for ref, status in sorted(outcome.changed.items()):
            try:
                written = await asyncio.to_thread(
                    self.kube.apply_status, ref.kind, ref.namespace, ref.name, status, field_manager=EVALUATION_MANAGER
                )
            except KubeError as exc:
                log.warning("status of %s not written: %s", ref, exc)
                continue
            if written:
                log.info("status of %s written: %s changed", ref, ", ".join(outcome.changed_fields.get(ref, ())))
                self.metrics.status_writes.labels(ref.kind).inc()
                self.store.merge_status(ref, status)
        for t in outcome.transitions:
            body = by_ref.get(t.ref)
            if body is None:
                continue
            reason = "StateChanged" if t.what == "state" else t.new
            try:
                await asyncio.to_thread(self.kube.event, body, reason, t.message, warning=t.warning)
            except KubeError as exc:
                log.warning("event on %s not recorded: %s", t.ref, exc)
