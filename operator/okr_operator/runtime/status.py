"""The one way a status and an Event reach the API, for both writers (the reconcile and the evaluation loop).

A status is server-side applied by one field manager (each manager owns its fields; see
docs/architecture.md). After a write the store takes the status as the API server answered it: fields this
manager no longer sets are gone from it at once, so the next cycle does not compare against a field that
vanished (and write the same status again) while the watch event is still on its way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..api.identity import Ref
from ..kube.client import KubeAdapter, KubeError, KubeUnavailable
from .metrics import Metrics
from .store import Store

log = logging.getLogger("okr_operator")


# Status writes in flight at once: one at a time, 10 000 new objects wait minutes for theirs (a round trip
# each); a few at a time fill the API server's and etcd's batches. The worker threads are shared with kopf.
WRITERS = 4


@dataclass
class Written:
    """What :meth:`StatusWriter.write_many` did."""

    written: set[Ref] = field(default_factory=set)
    failed: dict[Ref, str] = field(default_factory=dict)  # refused by the API server: why
    unanswered: KubeUnavailable | None = None  # the API server stopped answering: the rest was not sent


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

    async def write_many(
        self,
        items: list[tuple[Ref, dict[str, Any]]],
        *,
        manager: str,
        on_written: Callable[[Ref], None] | None = None,
    ) -> Written:
        """Write ``items``, :data:`WRITERS` at a time, until the API server stops answering (one timeout, not one
        per object: each writer stops at its first unanswered write and no new write starts)."""
        done = Written()
        queue = iter(items)  # shared by the writers: each takes the next status when its last one is done

        async def one_writer() -> None:
            for ref, status in queue:
                try:
                    if await self.write(ref, status, manager=manager):
                        done.written.add(ref)
                        if on_written is not None:
                            on_written(ref)
                except KubeUnavailable as exc:
                    done.unanswered = done.unanswered or exc
                except KubeError as exc:
                    done.failed[ref] = str(exc)
                if done.unanswered is not None:
                    return

        await asyncio.gather(*(one_writer() for _ in range(min(WRITERS, len(items)))))
        return done

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
