"""The evaluation loop: every ``interval``, evaluate every object and write the statuses that changed.

One asyncio task for all objects (no per-object timers). Only the holder of the leader Lease writes
(or every replica in standalone mode, which is meant for one replica). Handlers call ``nudge()`` after a
spec change so the new figures show within a second instead of a full interval.

The loop keeps its rhythm whatever Prometheus and the API server do: every request has a timeout, a cycle
stops querying a Prometheus that stopped answering (cycle_queries.py: at most two query timeouts a cycle;
what was not answered is ``MetricsAvailable=False, reason PrometheusTimeout``, last values kept), and status
writes stop at the first one the API server does not answer (one request timeout, not one per object); an
API server that answers gets every due status in the same cycle. Statuses not written are still "changed"
next cycle, so they are written then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from ..api.identity import Ref
from ..evaluation.coverage import Coverage
from ..evaluation.cycle import Evaluator, Outcome
from ..evaluation.snapshot import Snapshot
from ..kube.client import EVALUATION_MANAGER, KubeError, KubeUnavailable
from ..kube.lease import LeaderLease
from ..prometheus.adapter import PrometheusAdapter
from . import memory
from .cycle_queries import CycleQueries
from .health import Health
from .metrics import Metrics
from .sharding import Shard
from .status import StatusWriter
from .store import Store

log = logging.getLogger("okr_operator.evaluation")
NUDGE_DELAY = 1.0


class EvaluationLoop:
    def __init__(
        self,
        *,
        store: Store,
        writer: StatusWriter,
        prometheus: PrometheusAdapter,
        metrics: Metrics,
        health: Health,
        interval: float,
        sli_source: str,
        lease: LeaderLease | None,
        shard: Shard | None = None,
    ) -> None:
        self.store, self.writer, self.prometheus, self.metrics = store, writer, prometheus, metrics
        self.health = health
        self.interval, self.sli_source, self.lease = interval, sli_source, lease
        self.shard = shard or Shard()  # evaluate and write only its objects (other shards' objectives: read)
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self.cycles = 0
        self.last_outcome: Outcome | None = None
        self.coverage = Coverage()  # what our recordings cover, learned once per SLO (sli_source auto)

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
            self.health.beat()
            await self._sleep(max(self.interval - (time.monotonic() - started), 0.0))

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
            await asyncio.sleep(NUDGE_DELAY)  # let a burst of changes (kubectl apply -f dir/) settle
        except TimeoutError:
            pass
        self._wake.clear()

    async def _leader(self) -> bool | None:
        """Whether this replica writes this cycle; None when the Lease could not be read or renewed."""
        if self.lease is None:
            return True
        try:
            return await asyncio.to_thread(self.lease.acquire_or_renew)
        except KubeError as exc:  # cannot renew: do not write (another replica may take over)
            log.warning("leader lease not renewed, not writing this cycle: %s", exc)
            return None

    async def cycle(self) -> Outcome | None:
        leader = await self._leader()
        self.metrics.leader.set(1 if leader else 0)
        if not leader:
            self.metrics.evaluations.labels("standby" if leader is False else "error").inc()
            self.metrics.statuses.update([], {})  # a standby exports no (stale) figures: alerts read the leader's
            self.metrics.shard_objects.labels(str(self.shard.index), str(self.shard.count)).set(0)
            return None
        bodies = self.store.bodies()
        snapshot = Snapshot.from_bodies(bodies, self.shard.owns if self.shard.sharded else None)
        self._count(snapshot)
        now = datetime.now(UTC)
        queries = CycleQueries(self.prometheus.query)
        with self.metrics.evaluation_seconds.time():
            evaluator = Evaluator(queries, sli_source=self.sli_source, coverage=self.coverage)
            outcome = await asyncio.to_thread(evaluator.evaluate, snapshot, now)
        if queries.skipped:
            log.warning("%d queries not sent this cycle: %s", queries.skipped, queries.unanswered)
        await self._write(outcome, bodies)
        await asyncio.to_thread(self.metrics.statuses.update, snapshot.all(), outcome.statuses)
        self.metrics.evaluations.labels("ok" if not outcome.query_errors else "partial").inc()
        self.cycles += 1
        self.last_outcome = outcome
        return outcome

    def _count(self, snapshot: Snapshot) -> None:
        """The objects this replica owns, per kind and in all (``okr_shard_objects``: is the split balanced?)."""
        owned = snapshot.all()
        for kind in ("Objective", "KeyResult", "ServiceLevelObjective"):
            self.metrics.objects.labels(kind).set(sum(1 for e in owned if e.ref.kind == kind))
        self.metrics.shard_objects.labels(str(self.shard.index), str(self.shard.count)).set(len(owned))

    async def _write(self, outcome: Outcome, bodies: list[dict[str, Any]]) -> None:
        """Write what changed (until the API server stops answering); Events only for statuses written."""
        written: set[Ref] = set()
        pending = sorted(outcome.changed.items())
        for done, (ref, status) in enumerate(pending):
            try:
                if await self.writer.write(ref, status, manager=EVALUATION_MANAGER):
                    written.add(ref)
                    log.info("status of %s written: %s changed", ref, ", ".join(outcome.changed_fields.get(ref, ())))
            except KubeUnavailable as exc:  # the API server does not answer: the rest waits for the next cycle
                log.warning("status of %s not written (%d left for the next cycle): %s", ref, len(pending) - done, exc)
                break
            except KubeError as exc:
                log.warning("status of %s not written: %s", ref, exc)
        by_ref = {Ref(b["kind"], b["metadata"].get("namespace") or "default", b["metadata"]["name"]): b for b in bodies}
        for t in outcome.transitions:
            body = by_ref.get(t.ref)
            if body is None or t.ref not in written:
                continue  # not written: the transition is seen (and recorded) again next cycle
            reason = "StateChanged" if t.what == "state" else t.new
            await self.writer.event(body, reason, t.message, warning=t.warning)
