"""The operator's own CPU per evaluation cycle, without Prometheus or an apiserver: N objects of the operator
phase's shapes (``bench.objects``) in the runtime's Store, evaluated in this process as the loop does
(``Snapshot.from_bodies`` through the loop's model cache, ``Evaluator.evaluate`` with ``--sli-source raw``),
against a query function that answers every batched member at once with a fixed error ratio.

What it isolates: the operator's CPU per cycle (building the snapshot, assembling and tagging every window's
expressions, splitting the answers, computing and comparing every status) apart from the time Prometheus takes
to answer. The first cycle writes every status (as after a start); the figures are those of the cycles after it,
when nothing changes (the steady state: no status to write). CPU seconds are the whole process's (the batched
queries' worker threads included) less what the stand-in for Prometheus spent answering.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from bench import objects
from okr_operator.api.identity import ModelCache
from okr_operator.evaluation.batch import union_members
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.prometheus.types import Sample
from okr_operator.runtime.store import Store

SERVICES = 100
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # inside the objects' period (2026-Q4)
_TAG = re.compile(r'"okr_name", "(?P<name>[^"]*)", "", ""\), "okr_namespace", "(?P<ns>[^"]*)", "", ""\)$', re.S)


def say(msg: str) -> None:
    print(f"[bench evaluation] {msg}", flush=True)


class Answerer:
    """Every member of a batched query: one series with the member's identity labels and a 0.1% ratio; counts the
    CPU it spends itself (Prometheus's share, left out of the evaluation's)."""

    def __init__(self) -> None:
        self.cpu_seconds = 0.0

    def __call__(self, expr: str, at: datetime | None = None) -> list[Sample]:
        started = time.thread_time()
        out = []
        for part in union_members(expr):
            match = _TAG.search(part)
            if match:
                out.append(Sample({"okr_namespace": match["ns"], "okr_name": match["name"]}, 0.001))
        self.cpu_seconds += time.thread_time() - started
        return out


def answer(expr: str, at: datetime | None = None) -> list[Sample]:
    """One batched query answered (see :class:`Answerer`)."""
    return Answerer()(expr, at)


def store_of(n: int) -> Store:
    store = Store()
    for i, (namespace, body) in enumerate(objects.tree(n, SERVICES)):
        meta = {**body["metadata"], "namespace": namespace, "uid": f"uid-{i}", "generation": 1}
        store.upsert({**body, "metadata": meta})
    return store


def measure(n: int, cycles: int) -> dict[str, Any]:
    store = store_of(n)
    models = ModelCache()

    def cycle() -> tuple[float, float, Any]:
        started = time.process_time()
        snapshot = Snapshot.from_bodies(store.bodies(), None, models)
        built = time.process_time()
        answerer = Answerer()
        outcome = Evaluator(answerer).evaluate(snapshot, NOW)
        return built - started, time.process_time() - built - answerer.cpu_seconds, outcome

    _, _, first = cycle()
    for ref, status in first.changed.items():
        store.set_status(ref, status)
    snapshots, evaluations, changed = [], [], []
    for _ in range(cycles):
        snap_s, eval_s, outcome = cycle()
        snapshots.append(snap_s)
        evaluations.append(eval_s)
        changed.append(len(outcome.changed))
    best = min(range(cycles), key=lambda k: snapshots[k] + evaluations[k])
    return {
        "objects": n,
        "cycles": cycles,
        "first_cycle_writes": len(first.changed),
        "queries_per_cycle": first.queries,
        "snapshot_cpu_seconds": round(snapshots[best], 3),
        "evaluate_cpu_seconds": round(evaluations[best], 3),
        "cpu_seconds_per_cycle": round(snapshots[best] + evaluations[best], 3),
        "status_writes_per_cycle": max(changed),
    }


def run(sizes: tuple[int, ...], cycles: int = 3) -> dict[str, Any]:
    out = []
    for n in sizes:
        result = measure(n, cycles)
        say(f"{n} objects: {result}")
        out.append(result)
    note = "best of the steady cycles; CPU seconds of this process (time.process_time) less the stand-in's answering"
    return {"sizes": out, "note": note}


def markdown(result: dict[str, Any] | None) -> list[str]:
    if not result:
        return []
    lines = [
        "",
        "## The evaluation's own CPU (in process, no Prometheus)",
        "",
        "The operator phase's objects in the runtime's Store, evaluated as the loop does (model cache, "
        "`--sli-source raw`) against a query function answering every member at once (bench/evaluation.py): what "
        "one cycle costs the operator apart from waiting for Prometheus. Steady cycles (nothing to write); "
        f"{result['note']}.",
        "",
        "| objects | queries/cycle | snapshot CPU s | evaluate CPU s | CPU s/cycle | status writes/cycle |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["sizes"]:
        lines.append(
            f"| {r['objects']:,} | {r['queries_per_cycle']} | {r['snapshot_cpu_seconds']} | "
            f"{r['evaluate_cpu_seconds']} | {r['cpu_seconds_per_cycle']} | {r['status_writes_per_cycle']} |"
        )
    return lines
