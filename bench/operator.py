"""The operator at scale on the Testbed: 10, 1 000 and 10 000 objects (SLOs and key results in objectives).

Per size, a fresh LocalCluster (etcd + kube-apiserver + controller-manager; no pods are needed) with our
CRDs and prometheus-operator's, the real operator as a subprocess (``okr-operator run --standalone``,
interval 30 s, raw SLI queries), and one shared Prometheus scraping ``bench.synth``'s live exporter
(100 services, 2 hours of backfilled history). Measured:

* apply -> all statuses: from the first create until every object shows ``status.lastEvaluated``
  (objects are created by 8 client threads; the apply time itself is reported too);
* steady state over a few cycles: Prometheus queries per cycle, status writes per cycle, CPU seconds per
  cycle of the operator, kube-apiserver, etcd and Prometheus, evaluation and query time per cycle;
* operator RSS (now and peak);
* single-edit latency under that load: an SLO's target is patched and the time until its status shows
  the new budget is taken, several times (p50/p95);
* optionally a py-spy profile of the operator (convergence and steady state) summarised by module.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import objects, procstat, synth
from e2e.harness import LocalCluster, LocalPrometheus, upstream_crds, wait_until
from e2e.harness.operator import OperatorProcess, metric_sum

ROOT = Path(__file__).resolve().parent.parent
GROUP, VERSION = "okr.dev", "v1alpha1"
PLURALS = {"Objective": "objectives", "KeyResult": "keyresults", "ServiceLevelObjective": "servicelevelobjectives"}
INTERVAL = 30
SERVICES = 100
HISTORY = 2 * 3600
SCRAPE = 15


# This Prometheus loads none of our rules (no tiles): raw, as documented, whatever the operator's default.
SLI_SOURCE = "raw"


def say(msg: str) -> None:
    print(f"[bench operator] {msg}", flush=True)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 3)


def scrape(op: OperatorProcess) -> str:
    return op.metrics_text(timeout=30)


def wait_for_cycles(op: OperatorProcess, cycles: int, timeout: float, poll: float) -> None:
    """Wait for ``cycles`` more evaluation cycles, reading /metrics every ``poll`` seconds: at 10 000 objects
    one rendering of /metrics (a gauge per object) costs the operator ~0.2 s of CPU, so polling it often would
    inflate the CPU measured per cycle."""
    start = metric_sum(scrape(op), "okr_evaluation_total")
    wait_until(
        lambda: metric_sum(scrape(op), "okr_evaluation_total") >= start + cycles,
        timeout,
        f"{cycles} cycles",
        interval=poll,
    )


def cycle_counts(m0: dict[str, float], m1: dict[str, float]) -> dict[str, Any]:
    """Per-cycle figures between two scrapes of the operator's metrics taken at cycle ends (``next_boundary``)."""
    cycles = m1["okr_evaluation_total"] - m0["okr_evaluation_total"]
    evals = m1["okr_evaluation_duration_seconds_count"] - m0["okr_evaluation_duration_seconds_count"]

    def per_cycle(name: str, digits: int = 2) -> float:
        return round((m1[name] - m0[name]) / cycles, digits)

    return {
        "cycles": int(cycles),
        "queries_per_cycle": per_cycle("okr_prometheus_queries_total"),
        "status_writes_per_cycle": per_cycle("okr_status_writes_total"),
        "evaluation_seconds_per_cycle": round(
            (m1["okr_evaluation_duration_seconds_sum"] - m0["okr_evaluation_duration_seconds_sum"]) / max(evals, 1), 3
        ),
        "query_seconds_per_cycle": per_cycle("okr_prometheus_query_duration_seconds_sum", 3),
    }


def next_boundary(op: OperatorProcess, interval: float, poll: float) -> tuple[dict[str, float], float]:
    """Metrics read right after an evaluation cycle ends, and when.

    A cycle ends when ``okr_evaluation_total`` grows. Coarse polling (every ``poll`` s) finds one end; the
    next is expected a period later (the interval, or the cycle's duration when longer), so polling every
    0.5 s starts a little before it. The next cycle's first query comes after its snapshot of every object
    (> 1 s at 10 000 objects), so the read lands between two cycles.
    """
    text = scrape(op)
    count = metric_sum(text, "okr_evaluation_total")
    box: dict[str, Any] = {}

    def grew(base: float) -> bool:
        current = scrape(op)
        if metric_sum(current, "okr_evaluation_total") > base:
            box["text"], box["at"] = current, time.monotonic()
            return True
        return False

    wait_until(lambda: grew(count), 3600, "the end of a cycle", interval=poll)
    first = box["text"]
    runs = metric_sum(first, "okr_evaluation_duration_seconds_count")
    duration = metric_sum(first, "okr_evaluation_duration_seconds_sum") / runs if runs else 0.0
    period = max(interval, duration)
    time.sleep(max(period - poll - 2.0, 0.0))
    wait_until(lambda: grew(metric_sum(first, "okr_evaluation_total")), 3600, "the end of a cycle", interval=0.5)
    return Metrics.parse(box["text"]), box["at"]


class Metrics:
    """The operator's own counters that the benchmark reads (one scrape per read)."""

    NAMES = (
        "okr_prometheus_queries_total",
        "okr_status_writes_total",
        "okr_evaluation_total",
        "okr_evaluation_duration_seconds_sum",
        "okr_evaluation_duration_seconds_count",
        "okr_prometheus_query_duration_seconds_sum",
    )

    def __init__(self, op: OperatorProcess) -> None:
        self.op = op

    def read(self) -> dict[str, float]:
        return self.parse(scrape(self.op))

    @classmethod
    def parse(cls, text: str) -> dict[str, float]:
        values = {name: metric_sum(text, name) for name in cls.NAMES}
        for kind in PLURALS:
            values[f"writes:{kind}"] = metric_sum(text, "okr_status_writes_total", kind=kind)
        return values


def _create_all(api_client: Any, items: list[tuple[str, dict[str, Any]]], threads: int = 8) -> float:
    from kubernetes import client

    custom = client.CustomObjectsApi(api_client)
    core = client.CoreV1Api(api_client)
    for ns in sorted({ns for ns, _ in items}):
        with contextlib.suppress(client.ApiException):
            core.create_namespace({"metadata": {"name": ns}})
    started = time.monotonic()

    def create(pair: tuple[str, dict[str, Any]]) -> None:
        ns, body = pair
        custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURALS[body["kind"]], body)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(create, items))
    return time.monotonic() - started


WRITE_VERBS = ("POST", "PUT", "PATCH", "APPLY", "DELETE")


def apiserver_writes(cluster: LocalCluster) -> Counter[str]:
    """Write requests the kube-apiserver has served so far, by ``VERB resource[/subresource]``
    (``apiserver_request_total``, which counts server-side apply as APPLY)."""
    text = cluster.kubectl("get", "--raw", "/metrics", timeout=60).stdout
    out: Counter[str] = Counter()
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        head, _, value = line.rpartition(" ")
        labels = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if labels.get("verb") not in WRITE_VERBS:
            continue
        what = labels.get("resource", "") + (f"/{labels['subresource']}" if labels.get("subresource") else "")
        out[f"{labels['verb']} {what}"] += int(float(value))
    return out


def writes_per_object(before: Counter[str], after: Counter[str], objects: int) -> dict[str, Any]:
    """The apiserver writes between two reads, per object, without the bench's own creates (objects, namespaces)."""
    delta = {k: after[k] - before.get(k, 0) for k in after if after[k] > before.get(k, 0)}
    bench_creates = {f"POST {plural}" for plural in (*PLURALS.values(), "namespaces")}
    # The controller-manager renews its Leases every few seconds; the standalone operator takes none.
    ours = {k: v for k, v in delta.items() if k not in bench_creates and not k.endswith(" leases")}
    return {
        "per_object": round(sum(ours.values()) / max(objects, 1), 2),
        "by_request": dict(sorted(ours.items(), key=lambda kv: -kv[1])),
    }


def _evaluated(api_client: Any) -> int:
    """How many okr.dev objects show status.lastEvaluated."""
    from kubernetes import client

    custom = client.CustomObjectsApi(api_client)
    done = 0
    for plural in PLURALS.values():
        items = custom.list_cluster_custom_object(GROUP, VERSION, plural)["items"]
        done += sum(1 for o in items if (o.get("status") or {}).get("lastEvaluated"))
    return done


class Profiler:
    """py-spy record of a running process until ``stop()`` (SIGINT makes py-spy write its file)."""

    def __init__(self, pid: int, out: Path, rate: int = 50) -> None:
        self.out = out
        exe = Path(sys.executable).parent / "py-spy"
        self.available = exe.exists()
        self.proc: subprocess.Popen[bytes] | None = None
        if self.available:
            self.proc = subprocess.Popen(
                [
                    str(exe),
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    str(rate),
                    "--nonblocking",
                    "--format",
                    "raw",
                    "-o",
                    str(out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )

    def stop(self) -> dict[str, Any] | None:
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if not self.out.exists():
            return {"error": (self.proc.stderr.read().decode()[-500:] if self.proc.stderr else "no output")}
        return summarise_profile(self.out)


# Modules of okr_operator.evaluation that py-spy prints without their package path.
OUR_BARE_MODULES = {
    "cycle",
    "slo_status",
    "key_result_status",
    "objective_status",
    "status",
    "conditions",
    "snapshot",
    "batch",
}


def _module_of(frame: str) -> str:
    """'func (okr_operator/runtime/loop.py:57)' -> 'okr_operator.runtime'; 'f (kopf/_core/x.py:1)' -> 'kopf';
    'deepcopy (copy.py:146)' -> 'copy'. py-spy prints paths relative to the sys.path entry they came from."""
    path = frame.rpartition("(")[2].rstrip(")").rsplit(":", 1)[0]
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/lib/python" in path:  # the standard library by absolute path
        path = path.split("/lib/python", 1)[1].partition("/")[2]
    if "okr_operator/" in path:
        rest = path.split("okr_operator/", 1)[1]
        return "okr_operator." + rest.split("/", 1)[0].removesuffix(".py")
    parts = path.split("/")
    if len(parts) > 1:
        return parts[0]
    name = parts[0].removesuffix(".py")
    return f"okr_operator.evaluation.{name}" if name in OUR_BARE_MODULES else name


CATEGORIES = (
    ("okr_operator", "our code (okr_operator)"),
    ("kopf", "kopf (watches, handlers, progress annotations)"),
    ("kubernetes", "kubernetes client"),
    ("urllib3", "HTTP client and TLS (urllib3, requests, ssl, socket)"),
    ("requests", "HTTP client and TLS (urllib3, requests, ssl, socket)"),
    ("ssl", "HTTP client and TLS (urllib3, requests, ssl, socket)"),
    ("socket", "HTTP client and TLS (urllib3, requests, ssl, socket)"),
    ("http", "HTTP client and TLS (urllib3, requests, ssl, socket)"),
    ("urllib", "HTTP client and TLS (urllib3, requests, ssl, socket)"),
    ("email", "HTTP client and TLS (urllib3, requests, ssl, socket)"),
    ("aiohttp", "aiohttp (kopf's API client, our /metrics server)"),
    ("yarl", "aiohttp (kopf's API client, our /metrics server)"),
    ("multidict", "aiohttp (kopf's API client, our /metrics server)"),
    ("selectors", "asyncio event loop"),
    ("asyncio", "asyncio event loop"),
    ("prometheus_client", "prometheus_client (rendering our /metrics)"),
    ("json", "json"),
    ("copy", "copy.deepcopy"),
    ("pydantic", "pydantic"),
    ("pydantic_core", "pydantic"),
    ("promql_parser", "promql_parser"),
    ("threading", "threads and locks (thread pool hand-offs)"),
    ("concurrent", "threads and locks (thread pool hand-offs)"),
    ("queue", "threads and locks (thread pool hand-offs)"),
    ("logging", "logging"),
)


def category_of(module: str) -> str:
    for prefix, name in CATEGORIES:
        if module == prefix or module.startswith(prefix + "."):
            return name
    return "other"


ENTRY_FRAMES = ("runtime/main.py",)


def summarise_profile(path: Path, top: int = 12) -> dict[str, Any]:
    """Where the CPU samples went: by module of the innermost frame, and the heaviest functions of ours
    (inclusive, i.e. with everything they call)."""
    own: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    ours_inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        own[_module_of(frames[-1])] += count
        categories[category_of(_module_of(frames[-1]))] += count
        seen = set()
        for frame in frames:
            module = _module_of(frame)
            if module.startswith("okr_operator") and not any(e in frame for e in ENTRY_FRAMES):
                where = frame.rpartition("(")[2].rstrip(")").rsplit(":", 1)[0].rpartition("okr_operator/")[2]
                if "/" not in where:  # a bare okr_operator.evaluation module
                    where = f"evaluation/{where}"
                name = f"{frame.rpartition(' (')[0]} ({where})"
                if name not in seen:
                    seen.add(name)
                    ours_inclusive[name] += count
    if not total:
        return {"samples": 0}
    return {
        "samples": total,
        "by_category": [(m, round(100 * c / total, 1)) for m, c in categories.most_common()],
        "by_module": [(m, round(100 * c / total, 1)) for m, c in own.most_common(top)],
        "our_functions_inclusive": [(f, round(100 * c / total, 1)) for f, c in ours_inclusive.most_common(top)],
    }


def _object_sizes(api_client: Any, items: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, int]]:
    """JSON size of one object of each kind as the API serves it (what the operator's watch caches hold),
    and how much of it is metadata.managedFields and annotations."""
    import json as _json

    from kubernetes import client

    custom = client.CustomObjectsApi(api_client)
    out: dict[str, dict[str, int]] = {}
    for ns, body in items[:10]:
        kind = body["kind"]
        if kind in out:
            continue
        try:
            obj = custom.get_namespaced_custom_object(GROUP, VERSION, ns, PLURALS[kind], body["metadata"]["name"])
        except Exception:
            continue
        meta = obj.get("metadata") or {}
        out[kind] = {
            "total": len(_json.dumps(obj)),
            "managedFields": len(_json.dumps(meta.get("managedFields") or [])),
            "annotations": len(_json.dumps(meta.get("annotations") or {})),
            "status": len(_json.dumps(obj.get("status") or {})),
        }
    return out


def _edit_latencies(api_client: Any, namespace: str, name: str, edits: int, timeout: float) -> list[float]:
    """Patch the SLO's target back and forth; seconds until status.errorBudget.total shows the new budget."""
    from kubernetes import client

    custom = client.CustomObjectsApi(api_client)
    latencies = []
    for i in range(edits):
        target = 99.5 if i % 2 == 0 else 99.9
        started = time.monotonic()
        custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURALS["ServiceLevelObjective"], name, {"spec": {"target": target}}
        )

        def shows_new_budget(want: float = round(100 - target, 6)) -> bool:
            obj = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "servicelevelobjectives", name)
            total = ((obj.get("status") or {}).get("errorBudget") or {}).get("total")
            return total is not None and abs(float(total) - want) < 1e-6

        wait_until(shows_new_budget, timeout, f"status of {namespace}/{name} after edit {i}", interval=0.2)
        latencies.append(time.monotonic() - started)
        time.sleep(0.5)
    return latencies


def measure(
    prom: LocalPrometheus,
    n: int,
    edits: int,
    steady_cycles: int,
    profile: bool,
    workdir: Path,
    interval: int,
    rates_settled_at: float = 0.0,
) -> dict[str, Any]:
    """Measure the operator on ``n`` objects in a fresh cluster; steady state only after ``rates_settled_at``."""
    items = objects.tree(n, SERVICES)
    kinds = Counter(obj["kind"] for _, obj in items)
    result: dict[str, Any] = {
        "objects": len(items),
        "kinds": dict(kinds),
        "namespaces": len({ns for ns, _ in items}),
    }
    with LocalCluster(log=lambda _m: None) as cluster:
        cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
        cluster.install_crds(upstream_crds("monitoring.coreos.com"))
        op = OperatorProcess(
            cluster.kubeconfig,
            prom.url,
            workdir / f"operator-{n}.log",
            interval=f"{interval}s",
            extra_env={"OKR_PROMETHEUS_TIMEOUT_SECONDS": "120", "OKR_SLI_SOURCE": SLI_SOURCE},
            args=("--standalone", "--verbose") if os.environ.get("BENCH_OPERATOR_VERBOSE") else ("--standalone",),
        ).start()
        try:
            poll = min(10.0, interval / 3)
            wait_for_cycles(op, 1, timeout=120, poll=1)
            pid = op.proc.pid
            assert pid is not None
            pids = {"operator": pid, "prometheus": prom.proc.pid}  # type: ignore[union-attr]
            for name, proc in cluster.processes.items():
                if proc.pid is not None:
                    pids[name] = proc.pid
            profiler = Profiler(pid, workdir / f"profile-{n}-converge.txt") if profile else None
            cpu = procstat.CpuMeter(pids).start()
            load_before = procstat.loadavg()
            writes_before = apiserver_writes(cluster)
            started = time.monotonic()
            apply_seconds = _create_all(cluster.api_client, items)
            say(f"{n} objects: created in {apply_seconds:.1f} s; waiting for every status")
            writes_needed = len(items)

            def all_written() -> bool:
                op.proc.check_alive()
                if metric_sum(scrape(op), "okr_status_writes_total") < writes_needed:
                    return False
                return _evaluated(cluster.api_client) >= len(items)

            wait_until(all_written, 3600, f"statuses of {n} objects", interval=2 if n <= 1000 else 5)
            converge = time.monotonic() - started
            result["apply_seconds"] = round(apply_seconds, 1)
            result["apply_to_all_status_seconds"] = round(converge, 1)
            result["converge_cpu_seconds"] = cpu.read()
            result["apply_writes"] = writes_per_object(writes_before, apiserver_writes(cluster), len(items))
            say(f"{n} objects: apiserver writes during apply, per object: {result['apply_writes']}")
            result["converge_profile"] = profiler.stop() if profiler else None
            say(f"{n} objects: all statuses after {converge:.1f} s")

            # The traffic key results read rate(...[5m]): while a 5m window starts in the gap between the
            # backfilled history and the first scrape, Prometheus extrapolates less and the value really moves.
            if (wait := rates_settled_at - time.time()) > 0:
                say(f"{n} objects: waiting {wait:.0f} s until no 5m window spans the backfill/scrape seam")
                time.sleep(wait)
            # Steady state: let the cycle that saw the last writes finish, then measure.
            # Every window starts and ends right after a cycle (see next_boundary), so per-cycle counts are exact.
            wait_for_cycles(op, 1, timeout=3600, poll=poll)
            m0, t0 = next_boundary(op, interval, poll)
            profiler = Profiler(pid, workdir / f"profile-{n}-steady.txt") if profile else None
            cpu = procstat.CpuMeter(pids).start()
            m1, t1 = m0, t0
            while m1["okr_evaluation_total"] - m0["okr_evaluation_total"] < steady_cycles:
                m1, t1 = next_boundary(op, interval, poll)
            used, wall = cpu.read(), t1 - t0
            counts = cycle_counts(m0, m1)
            cycles = counts["cycles"]
            result["steady"] = {
                **counts,
                "seconds_per_cycle": round(wall / cycles, 2),
                "status_writes_by_kind": {
                    kind: int(m1[f"writes:{kind}"] - m0[f"writes:{kind}"])
                    for kind in PLURALS
                    if m1[f"writes:{kind}"] > m0[f"writes:{kind}"]
                },
                "cpu_seconds_per_cycle": {k: round(v / cycles, 3) for k, v in used.items()},
            }
            result["steady_profile"] = profiler.stop() if profiler else None
            result["memory"] = procstat.memory_mb(pid)
            result["object_json_bytes"] = _object_sizes(cluster.api_client, items)
            say(f"{n} objects: steady {result['steady']}, memory {result['memory']}")

            cycle = max(result["steady"]["seconds_per_cycle"], interval)
            lat = _edit_latencies(
                cluster.api_client, items[1][0], items[1][1]["metadata"]["name"], edits, 4 * cycle + 60
            )
            result["edit_latency_seconds"] = {
                "edits": len(lat),
                "p50": _percentile(lat, 0.5),
                "p95": _percentile(lat, 0.95),
                "max": round(max(lat), 3) if lat else None,
                "mean": round(statistics.mean(lat), 3) if lat else None,
            }
            result["memory_after_edits"] = procstat.memory_mb(pid)
            result["load_average_before"] = load_before
            result["load_average_after"] = procstat.loadavg()
            say(f"{n} objects: edit latency {result['edit_latency_seconds']}")
        finally:
            op.stop()
    return result


def run(
    sizes: tuple[int, ...],
    edits: dict[int, int],
    steady_cycles: int,
    profile_at: int | None,
    interval: int = INTERVAL,
    settle_rates: bool = True,
) -> dict[str, Any]:
    svcs = synth.services(SERVICES)
    now = time.time()
    t1 = now - now % SCRAPE
    t0 = t1 - HISTORY
    exporter = synth.LiveExporter(svcs, t0).start()
    prom = LocalPrometheus(scrape_interval=f"{SCRAPE}s", evaluation_interval="30s", targets=[exporter.target])
    workdir = ROOT / "out" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "interval_seconds": interval,
        "services": SERVICES,
        "sli_source": SLI_SOURCE,
        "sizes": {},
    }
    try:
        source = prom.dir / "history.om"
        synth.write_history(source, svcs, t0, t1, step=SCRAPE)
        prom.backfill(source.read_text())
        prom.start()
        wait_until(lambda: prom.query_value("up") == 1, 60, "the first scrape", interval=0.5)
        rates_settled_at = time.time() + 300 + 2 * SCRAPE if settle_rates else 0.0
        for n in sizes:
            say(f"--- {n} objects")
            result["sizes"][str(n)] = measure(
                prom,
                n,
                edits.get(n, 5),
                steady_cycles,
                profile=(n == profile_at),
                workdir=workdir,
                interval=interval,
                rates_settled_at=rates_settled_at,
            )
    finally:
        prom.close()
        exporter.stop()
    return result
