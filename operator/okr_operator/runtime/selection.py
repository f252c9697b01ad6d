"""Keep RulesSynced true to the Prometheus resources: re-read them every interval and re-decide on change.

prometheus-operator loads a PrometheusRule only when a ``Prometheus`` resource selects it
(``rule_selection``). Those resources and the namespaces' labels change without any okr.dev object
changing, so a reconcile alone would keep reporting what was true when the rule was applied. This task
reads them (read only, through the kube adapter, with a timeout) once per evaluation interval and lets the
reconcile module re-decide ``RulesSynced`` for every object whose rule is applied; only what changed is
written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ..generated import generated_labels
from ..kube.client import KubeAdapter
from ..rule_selection import SelectionView
from .reconcile import Reconciled, reselect
from .store import Store

log = logging.getLogger("okr_operator.selection")
NOT_READ = SelectionView(unavailable="the Prometheus resources have not been read yet")
Write = Callable[[dict[str, Any], Reconciled], Awaitable[None]]


class RuleSelectionWatch:
    """The current :class:`SelectionView` and the loop that refreshes it."""

    def __init__(
        self, kube: KubeAdapter, store: Store, rule_labels: dict[str, str], interval: float, timeout: float = 10.0
    ) -> None:
        self.kube, self.store, self.rule_labels = kube, store, dict(rule_labels)
        self.interval, self.timeout = interval, timeout
        self.view: SelectionView = NOT_READ

    async def refresh(self) -> SelectionView:
        view = await asyncio.to_thread(self.kube.selection_view, self.timeout)
        for what in ("unavailable", "namespace_problem"):  # say it once per change, not every interval
            problem = getattr(view, what)
            if problem and problem != getattr(self.view, what):
                log.warning("rule selection: %s", problem)
        self.view = view
        return view

    def due(self, view: SelectionView) -> list[tuple[dict[str, Any], Reconciled]]:
        """The objects whose RulesSynced ``view`` changes, with the status part to write."""
        now = datetime.now(UTC)
        out = []
        for kind in ("ServiceLevelObjective", "KeyResult"):
            for body in self.store.of_kind(kind):
                name = (body.get("metadata") or {}).get("name", "")
                done = reselect(body, view, generated_labels(name, self.rule_labels), now)
                if done is not None:
                    out.append((body, done))
        return out

    async def run(self, write: Write) -> None:
        """Every interval: read the view, write what it changes (``write`` is the reconcile's status writer)."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                view = await self.refresh()
                for body, done in self.due(view):
                    await write(body, done)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad round must not end the task
                log.exception("re-deciding rule selection failed")
