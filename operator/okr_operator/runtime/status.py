"""The one way a status and an Event reach the API, for both writers (the reconcile and the evaluation loop).

A status is server-side applied by one field manager (each manager owns its fields; see
docs/architecture.md). After a write the store takes the status as the API server answered it: fields this
manager no longer sets are gone from it at once, so the next cycle does not compare against a field that
vanished (and write the same status again) while the watch event is still on its way.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..api.identity import Ref
from ..kube.client import KubeAdapter, KubeError
from .metrics import Metrics
from .store import Store

log = logging.getLogger("okr_operator")


class StatusWriter:
    def __init__(self, kube: KubeAdapter, store: Store, metrics: Metrics) -> None:
        self.kube, self.store, self.metrics = kube, store, metrics

    async def write(self, ref: Ref, status: dict[str, Any], *, manager: str, timeout: float | None = None) -> bool:
        """Apply ``status`` as ``manager``; False when the object is gone. Raises KubeError (KubeUnavailable)."""
        written = await asyncio.to_thread(
            self.kube.apply_status, ref.kind, ref.namespace, ref.name, status, field_manager=manager, timeout=timeout
        )
        if written is None:
            return False
        self.metrics.status_writes.labels(ref.kind).inc()
        log.debug("status of %s written by %s", ref, manager)
        self.store.set_status(ref, written.get("status") or {})
        return True

    async def event(
        self, involved: dict[str, Any], reason: str, message: str, *, warning: bool, timeout: float | None = None
    ) -> bool:
        """Record an Event; a failure is logged, not raised (an Event is never worth a retry loop)."""
        try:
            await asyncio.to_thread(self.kube.event, involved, reason, message, warning=warning, timeout=timeout)
        except KubeError as exc:
            log.warning("event %s on %s not recorded: %s", reason, involved.get("kind"), exc)
            return False
        return True
