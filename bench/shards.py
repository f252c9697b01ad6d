"""The operator split into shards: N objects over S operator processes (``okr-operator run --shards S --shard K``,
one process per shard, standalone: no standby), in one fresh Testbed cluster against the operator phase's kind of
Prometheus (``bench.synth``'s 100 services, raw SLI queries).

Measured: apply -> all statuses (every object's ``status.lastEvaluated``, whichever shard wrote it), the objects
each shard owns (``okr_shard_objects``; their sum must be N: every object owned by exactly one shard), and per
shard at steady state: Prometheus queries and status writes per cycle, evaluation seconds per cycle, CPU seconds
per cycle, RSS (now and peak); the apiserver's, etcd's and Prometheus' CPU over the same window; the latency of an
edit. The objects come in units of 10 (``bench.objects``), ``PER_NAMESPACE`` objects per namespace, so that the
namespaces (not the objects) are split.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench import objects, procstat, synth
from bench.operator import (
    SERVICES,
    SLI_SOURCE,
    _create_all,
    _edit_latencies,
    _evaluated,
    _percentile,
    cycle_counts,
    next_boundary,
    scrape,
    wait_for_cycles,
)
from e2e.harness import LocalCluster, LocalPrometheus, upstream_crds, wait_until
from e2e.harness.operator import OperatorProcess, metric_sum

ROOT = Path(__file__).resolve().parent.parent
PER_NAMESPACE = 100  # 10 units: 2 000 objects are 20 namespaces, 20 000 are 200
HISTORY = 2 * 3600
SCRAPE = 15


def say(msg: str) -> None:
    print(f"[bench shards] {msg}", flush=True)


def _start_shards(cluster: Any, prom: LocalPrometheus, shards: int, interval: int, workdir: Path) -> list[Any]:
    ops = []
    for k in range(shards):
        ops.append(
            OperatorProcess(
                cluster.kubeconfig,
                prom.url,
                workdir / f"shard-{k}-of-{shards}.log",
                interval=f"{interval}s",
                extra_env={"OKR_PROMETHEUS_TIMEOUT_SECONDS": "120", "OKR_SLI_SOURCE": SLI_SOURCE},
                args=("--standalone", "--shards", str(shards), "--shard", str(k))
                + (("--verbose",) if os.environ.get("BENCH_OPERATOR_VERBOSE") else ()),
            ).start()
        )
    return ops


def _steady(ops: list[Any], pids: dict[str, int], steady_cycles: int, interval: int) -> dict[str, Any]:
    """Per shard, counters between two cycle ends ``steady_cycles`` apart; CPU of every process meanwhile."""
    poll = min(10.0, interval / 3)
    starts = [next_boundary(op, interval, poll)[0] for op in ops]
    cpu = procstat.CpuMeter(pids).start()
    t0 = time.monotonic()
    ends = []
    for op, m0 in zip(ops, starts, strict=True):
        m1 = m0
        while m1["okr_evaluation_total"] - m0["okr_evaluation_total"] < steady_cycles:
            m1 = next_boundary(op, interval, poll)[0]
        ends.append(m1)
    used, wall = cpu.read(), time.monotonic() - t0
    per_shard = []
    for k, (m0, m1) in enumerate(zip(starts, ends, strict=True)):
        counts = cycle_counts(m0, m1)
        per_shard.append({**counts, "cpu_seconds_per_cycle": round(used[f"shard-{k}"] * interval / wall, 3)})
    others = {name: round(v * interval / wall, 3) for name, v in used.items() if not name.startswith("shard-")}
    return {"window_seconds": round(wall, 1), "shards": per_shard, "cpu_seconds_per_interval": others}


def measure(
    prom: LocalPrometheus,
    n: int,
    shards: int,
    edits: int,
    steady_cycles: int,
    workdir: Path,
    interval: int,
    rates_settled_at: float = 0.0,
) -> dict[str, Any]:
    items = objects.tree(n, SERVICES, per_namespace=PER_NAMESPACE)
    result: dict[str, Any] = {"objects": len(items), "shards": shards, "namespaces": len({ns for ns, _ in items})}
    with LocalCluster(log=lambda _m: None) as cluster:
        cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
        cluster.install_crds(upstream_crds("monitoring.coreos.com"))
        ops = _start_shards(cluster, prom, shards, interval, workdir)
        try:
            for op in ops:
                wait_for_cycles(op, 1, timeout=120, poll=1)
            pids = {f"shard-{k}": op.proc.pid for k, op in enumerate(ops)}
            pids["prometheus"] = prom.proc.pid  # type: ignore[union-attr]
            pids.update({name: p.pid for name, p in cluster.processes.items() if p.pid is not None})
            cpu = procstat.CpuMeter(pids).start()
            result["load_average_before"] = procstat.loadavg()
            started = time.monotonic()
            result["apply_seconds"] = round(_create_all(cluster.api_client, items), 1)
            say(f"{n} objects over {shards} shards: created in {result['apply_seconds']} s; waiting for every status")

            def all_written() -> bool:
                for op in ops:
                    op.proc.check_alive()
                return _evaluated(cluster.api_client) >= len(items)

            wait_until(all_written, 3600, f"statuses of {n} objects", interval=2 if n <= 2000 else 5)
            result["apply_to_all_status_seconds"] = round(time.monotonic() - started, 1)
            result["converge_cpu_seconds"] = cpu.read()
            texts = [scrape(op) for op in ops]
            result["owned"] = [metric_sum(t, "okr_shard_objects") for t in texts]
            result["converge_status_writes"] = [metric_sum(t, "okr_status_writes_total") for t in texts]
            say(f"all statuses after {result['apply_to_all_status_seconds']} s; owned per shard {result['owned']}")
            if (wait := rates_settled_at - time.time()) > 0:
                say(f"waiting {wait:.0f} s until no 5m window spans the backfill/scrape seam")
                time.sleep(wait)
            result["steady"] = _steady(ops, pids, steady_cycles, interval)
            result["memory"] = [procstat.memory_mb(op.proc.pid) for op in ops]
            say(f"steady {result['steady']}, memory {result['memory']}")
            cycle = interval + max(s["evaluation_seconds_per_cycle"] for s in result["steady"]["shards"])
            lat = _edit_latencies(
                cluster.api_client, items[1][0], items[1][1]["metadata"]["name"], edits, 4 * cycle + 60
            )
            result["edit_latency_seconds"] = {
                "edits": len(lat),
                "p50": _percentile(lat, 0.5),
                "p95": _percentile(lat, 0.95),
            }
            result["load_average_after"] = procstat.loadavg()
        finally:
            for op in ops:
                op.stop()
    return result


def run(
    n: int, shards: int, edits: int, steady_cycles: int, interval: int, settle_rates: bool = True
) -> dict[str, Any]:
    """One sharded measurement (its own Prometheus and exporter, as the operator phase has)."""
    svcs = synth.services(SERVICES)
    now = time.time()
    t1 = now - now % SCRAPE
    t0 = t1 - HISTORY
    exporter = synth.LiveExporter(svcs, t0).start()
    prom = LocalPrometheus(scrape_interval=f"{SCRAPE}s", evaluation_interval="30s", targets=[exporter.target])
    workdir = ROOT / "out" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        source = prom.dir / "history.om"
        synth.write_history(source, svcs, t0, t1, step=SCRAPE)
        prom.backfill(source.read_text())
        prom.start()
        wait_until(lambda: prom.query_value("up") == 1, 60, "the first scrape", interval=0.5)
        settled = time.time() + 300 + 2 * SCRAPE if settle_rates else 0.0
        measured = measure(prom, n, shards, edits, steady_cycles, workdir, interval, settled)
    finally:
        prom.close()
        exporter.stop()
    return {"interval_seconds": interval, "services": SERVICES, "sli_source": SLI_SOURCE, **measured}


def checks(result: dict[str, Any] | None) -> list[tuple[str, bool]]:
    """Every object owned by exactly one shard, every shard owning some, no status writes at steady state."""
    if not result or "owned" not in result:
        return []
    owned, n = result["owned"], result["objects"]
    out = [
        (
            f"shards: the {len(owned)} shards own {sum(owned):g} of {n} objects, each some",
            sum(owned) == n and min(owned) > 0,
        )
    ]
    steady = (result.get("steady") or {}).get("shards") or []
    writes = [s["status_writes_per_cycle"] for s in steady]
    out.append((f"shards: status writes per cycle at steady state {writes}", bool(writes) and max(writes) == 0))
    return out


def markdown(result: dict[str, Any] | None) -> list[str]:
    if not result or "owned" not in result:
        return []
    steady = result.get("steady") or {}
    edits = result.get("edit_latency_seconds") or {}
    lines = [
        f"## The operator in {result['shards']} shards "
        f"({result['objects']:,} objects, {result['namespaces']} namespaces)",
        "",
        f"One `okr-operator run --shards {result['shards']} --shard K` per shard, "
        f"interval {result['interval_seconds']} s, raw SLIs. Create {result['apply_seconds']} s, "
        f"apply -> all statuses {result['apply_to_all_status_seconds']} s, "
        f"edit -> status p50 / p95 {edits.get('p50')} / {edits.get('p95')} s. Load average before / after: "
        f"{result.get('load_average_before')} / {result.get('load_average_after')}.",
        "",
        "| shard | objects owned | queries/cycle | status writes/cycle | evaluation s | CPU s/cycle | RSS MB (peak) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows = zip(result["owned"], steady.get("shards") or [], result.get("memory") or [], strict=False)
    for k, (owned, s, mem) in enumerate(rows):
        lines.append(
            f"| {k} | {owned:,.0f} | {s['queries_per_cycle']} | {s['status_writes_per_cycle']} | "
            f"{s['evaluation_seconds_per_cycle']} | {s['cpu_seconds_per_cycle']} | "
            f"{mem['rss_mb']:.0f} ({mem['peak_rss_mb']:.0f}) |"
        )
    others = steady.get("cpu_seconds_per_interval") or {}
    lines += ["", "CPU s per interval of the others: " + ", ".join(f"{k} {v}" for k, v in sorted(others.items())), ""]
    return lines
