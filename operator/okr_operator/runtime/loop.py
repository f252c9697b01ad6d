"""The evaluation loop: every ``interval``, evaluate every object and write the statuses that changed.

One asyncio task for all objects (no per-object timers). Only the holder of the leader Lease writes
(or every replica in standalone mode, which is meant for one replica). Handlers call ``nudge()`` after a
spec change so the new figures show within a second instead of a full interval.

The loop keeps its rhythm whatever Prometheus and the API server do: every request has a timeout, a cycle
stops querying a Prometheus that stopped answering (cycle_queries.py: at most two query timeouts a cycle;
what was not answered is ``MetricsAvailable=False, reason PrometheusTimeout``, last values kept), and status
writes (a few at a time) stop at the first one the API server does not answer (one request timeout, not one per
object); an API server that answers gets every due status in the same cycle. Statuses not written are still "changed"
next cycle, so they are written then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from ..api.identity import ModelCache, Ref
from ..evaluation.conditions import iso
from ..evaluation.coverage import Coverage
from ..evaluation.cycle import Evaluator, Outcome
from ..evaluation.snapshot import Snapshot
from ..kube.client import EVALUATION_MANAGER, KubeError
from ..kube.lease import LeaderLease
from ..prometheus.adapter import PrometheusAdapter
from . import memory
from .cycle_queries import CycleQueries
from .freshness import Freshness, clear_marks_made_meanwhile, keep_stale_marks
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
        self.coverage = Coverage()  # what our recordings cover, learned once per SLO (sli_source auto)
        self.models = ModelCache()  # spec models re-used while a spec stays the same
        self.freshness = Freshness(store, writer, metrics, interval)
        self._leading = False
        self._api_answered = True  # the last cycle's writes all got an answer

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
            except Exception as exc:  # never let one bad cycle kill the loop
                log.exception("evaluation cycle failed")
                self.metrics.evaluations.labels("error").inc()
                await self._failed(exc)
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
        self._leading = bool(leader)
        if not leader:
            self.metrics.evaluations.labels("standby" if leader is False else "error").inc()
            self.metrics.statuses.update([], {})  # a standby exports no (stale) figures: alerts read the leader's
            self.metrics.shard_objects.labels(str(self.shard.index), str(self.shard.count)).set(0)
            self.freshness.shown.clear()  # what the API shows is the leader's to judge
            return None
        started = time.monotonic()
        bodies = self.store.bodies()
        snapshot = Snapshot.from_bodies(bodies, self.shard.owns if self.shard.sharded else None, self.models)
        self._count(snapshot)
        now = datetime.now(UTC)
        queries = CycleQueries(self.prometheus.query)
        with self.metrics.evaluation_seconds.time():
            evaluator = Evaluator(queries, sli_source=self.sli_source, coverage=self.coverage)
            outcome = await self._evaluate(evaluator, snapshot, now)
        if queries.skipped:
            log.warning("%d queries not sent this cycle: %s", queries.skipped, queries.unanswered)
        clear_marks_made_meanwhile(outcome, snapshot, self.store)
        took = time.monotonic() - started
        if took > self.interval:
            keep_stale_marks(outcome, self.store)
        unwritten = await self._write(outcome, bodies)
        present = {e.ref for e in snapshot.all()}
        self.freshness.forget_gone(present)
        self.freshness.confirm(present - unwritten, now)
        # what this cycle confirmed is as fresh as figures get; what it could not write may be overdue (not
        # marked while the API server does not answer: one request timeout per cycle, not two)
        if self._api_answered:
            await self.freshness.mark(datetime.now(UTC), "the API server did not take its status", among=unwritten)
        await asyncio.to_thread(self.metrics.statuses.update, snapshot.all(), outcome.statuses)
        self.metrics.cycle_queries.set(outcome.queries)  # before the cycle counter: read together, they agree
        self.metrics.evaluations.labels("ok" if not outcome.query_errors else "partial").inc()
        self.cycles += 1
        return outcome

    def _count(self, snapshot: Snapshot) -> None:
        """The objects this replica owns, per kind and in all (``okr_shard_objects``: is the split balanced?)."""
        owned = snapshot.all()
        for kind in ("Objective", "KeyResult", "ServiceLevelObjective"):
            self.metrics.objects.labels(kind).set(sum(1 for e in owned if e.ref.kind == kind))
        self.metrics.shard_objects.labels(str(self.shard.index), str(self.shard.count)).set(len(owned))

    async def _evaluate(self, evaluator: Evaluator, snapshot: Snapshot, now: datetime) -> Outcome:
        """``evaluator.evaluate`` in a worker thread; figures that go stale while it runs are marked meanwhile."""
        task = asyncio.ensure_future(asyncio.to_thread(evaluator.evaluate, snapshot, now))
        while True:
            due = self.freshness.seconds_to_deadline(datetime.now(UTC))
            timeout = None if due is None else (due or self.interval / 4)  # some overdue: look again now and then
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if done:
                return task.result()
            elapsed = (datetime.now(UTC) - now).total_seconds()
            why = (
                f"the evaluation cycle of {iso(now)} is still running after {elapsed:.0f}s (interval "
                f"{self.interval:g}s, {evaluator.queries} Prometheus queries sent so far)"
            )
            await self.freshness.mark(datetime.now(UTC), why)

    async def _failed(self, exc: Exception) -> None:
        """After a failed cycle: mark the figures already due (the next try is an interval away)."""
        if not self._leading:
            return
        why = f"the last evaluation cycle failed ({type(exc).__name__}: {exc}); it is tried again every interval"
        try:
            await self.freshness.mark(datetime.now(UTC), why, older_than=self.interval)
        except Exception:  # never let marking kill the loop
            log.exception("marking stale figures failed")

    async def _write(self, outcome: Outcome, bodies: list[dict[str, Any]]) -> set[Ref]:
        """Write what changed, a few at a time (until the API server stops answering); Events only for statuses
        written. Returns what could not be written (changed, but the API shows the old figures)."""

        def written(ref: Ref) -> None:
            log.info("status of %s written: %s changed", ref, ", ".join(outcome.changed_fields.get(ref, ())))

        pending = sorted(outcome.changed.items())
        done = await self.writer.write_many(pending, manager=EVALUATION_MANAGER, on_written=written)
        for ref, why in done.failed.items():
            log.warning("status of %s not written: %s", ref, why)
            self.freshness.write_failed(ref, f"its status write failed: {why}")
        if done.unanswered is not None:
            left = [r for r, _ in pending if r not in done.written and r not in done.failed]
            log.warning("%d statuses not written (left for the next cycle): %s", len(left), done.unanswered)
            for ref in left:
                self.freshness.write_failed(ref, f"the API server did not answer its status write ({done.unanswered})")
        by_ref = {Ref(b["kind"], b["metadata"].get("namespace") or "default", b["metadata"]["name"]): b for b in bodies}
        for t in outcome.transitions:
            body = by_ref.get(t.ref)
            if body is None or t.ref not in done.written:
                continue  # not written: the transition is seen (and recorded) again next cycle
            reason = "StateChanged" if t.what == "state" else t.new
            await self.writer.event(body, reason, t.message, warning=t.warning)
        self._api_answered = done.unanswered is None
        return set(outcome.changed) - done.written
