"""What Prometheus spends: Sloth's rules alone, ours alone, ours plus the operator's status queries.

Runs in the rules phase's Prometheus (the same services, history and recorded backfill) for the largest N,
one configuration at a time, and measures the CPU seconds per minute of the Prometheus process from
/proc over ``minutes`` minutes:

* ``idle``: no rule file (scrapes, the head, this benchmark's own polling);
* ``sloth``: Sloth's rules for the N SLOs;
* ``ours``: our rules for the same SLOs;
* ``ours + status (<source>)``: our rules, and the real operator (``okr-operator run --standalone``,
  default interval 30 s) evaluating the same N ServiceLevelObjectives on a Testbed apiserver against this
  Prometheus, once per SLI source (``raw``: the indicators' own queries; ``auto``: our recordings where they
  cover a window, raw queries elsewhere).

The tiles our long windows read are backfilled over the raw history at each group's own phase (learned from
its first evaluation), as if Prometheus had run the rules since the history began; Prometheus restarts once
to load them. Where the status queries' cost goes is measured separately (``profile_queries``): every query
of one evaluation cycle, run in this process with Prometheus's ``stats=all``, with the samples it read and
the Prometheus CPU it took.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench import procstat, slos
from e2e.harness import LocalCluster, LocalPrometheus, upstream_crds, wait_until
from e2e.harness.operator import OperatorProcess, metric_sum

ROOT = Path(__file__).resolve().parent.parent
TILE_RECORDS = ("slo:sli_errors:rate10m", "slo:sli_total:rate10m")
TILE_SECONDS = 600


def say(msg: str) -> None:
    print(f"[bench cost] {msg}", flush=True)


RULE_COUNTERS = (
    "prometheus_rule_evaluations_total",
    "prometheus_rule_group_iterations_total",
    "prometheus_rule_group_iterations_missed_total",
)


def _rule_counters(prom: LocalPrometheus) -> dict[str, float]:
    text = requests.get(f"{prom.url}/metrics", timeout=60).text
    return {name: metric_sum(text, name) for name in RULE_COUNTERS}


def measure_prometheus(prom: LocalPrometheus, seconds: float) -> dict[str, Any]:
    """CPU seconds of the Prometheus process over the next ``seconds``, with the rule-group iterations it
    ran and missed (a Prometheus starved of CPU by other work skips iterations: see ``normalised``)."""
    pid = prom.proc.pid  # type: ignore[union-attr]
    rules_before = _rule_counters(prom)
    before, started = procstat.cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    used, wall = procstat.cpu_seconds(pid) - before, time.monotonic() - started
    rules_after = _rule_counters(prom)
    done = {k.removeprefix("prometheus_"): rules_after[k] - rules_before[k] for k in RULE_COUNTERS}
    return {
        "cpu_seconds": round(used, 3),
        "wall_seconds": round(wall, 1),
        "cpu_per_minute": round(used * 60 / wall, 3),
        "group_iterations": int(done["rule_group_iterations_total"]),
        "missed_iterations": int(done["rule_group_iterations_missed_total"]),
        "rule_evaluations": int(done["rule_evaluations_total"]),
        "load_average": procstat.loadavg(),
    }


def nominal_iterations(groups: list[dict[str, Any]], default_interval: int) -> float:
    """Rule-group iterations per minute when every group runs at its interval."""
    return sum(60 / _seconds(g.get("interval", f"{default_interval}s")) for g in groups)


def normalised(configs: dict[str, Any], nominal: dict[str, float], cycles_per_minute: float) -> dict[str, float]:
    """Prometheus CPU seconds per minute as if it had run every rule-group iteration and operator cycle on time.

    On a machine busy with other work Prometheus gets less CPU than it asks for and skips iterations, so raw
    CPU per minute understates the heavier configurations. Here each is rebuilt from unit costs measured in
    the same run: idle CPU per minute, plus CPU per group iteration (from the configuration with only that
    tool's rules) times the iterations due per minute, plus the status queries' CPU per operator cycle (what
    the ``ours + status`` runs used beyond idle and their rule iterations) times the cycles due per minute."""
    idle = configs["idle"]["cpu_per_minute"]
    out = {"idle": idle}
    per_iteration = {}
    for tool in ("sloth", "ours"):
        c = configs.get(tool)
        if not c or not c["group_iterations"]:
            continue
        per_iteration[tool] = (c["cpu_seconds"] - idle * c["wall_seconds"] / 60) / c["group_iterations"]
        out[tool] = round(idle + per_iteration[tool] * nominal[tool], 3)
    for name, c in configs.items():
        if not name.startswith("ours + status") or "ours" not in per_iteration or not c.get("cycles"):
            continue
        rules = per_iteration["ours"] * c["group_iterations"]
        status_per_cycle = (c["cpu_seconds"] - idle * c["wall_seconds"] / 60 - rules) / c["cycles"]
        c["status_cpu_per_cycle"] = round(status_per_cycle, 3)
        out[name] = round(out["ours"] + status_per_cycle * cycles_per_minute, 3)
    return out


def _evaluated_once(prom: LocalPrometheus, since: float) -> bool:
    groups = prom._api("rules")["groups"]
    return bool(groups) and all(
        g.get("lastEvaluation", "").startswith("2") and _ts(g["lastEvaluation"]) > since for g in groups
    )


def _ts(rfc3339: str) -> float:
    text = re.sub(r"(\.\d{6})\d+", r"\1", rfc3339.replace("Z", "+00:00"))
    return datetime.fromisoformat(text).timestamp()


def load(prom: LocalPrometheus, name: str, groups: list[dict[str, Any]], warm_timeout: float) -> bool:
    """Load one tool's rule file alone and wait until every group has been evaluated once (False when some
    had not after ``warm_timeout``: the figures are then taken anyway, and say so)."""
    for old in prom.rules_dir.glob("*.yml"):
        old.unlink()
    prom.reload()
    loaded = time.time()
    if not groups:
        return True
    prom.load_rules(groups, name=name, wait=600)
    try:
        wait_until(lambda: _evaluated_once(prom, loaded), warm_timeout, f"{name}: every group evaluated", interval=5)
    except TimeoutError:
        say(f"{name}: not every group evaluated after {warm_timeout:.0f} s; measuring anyway")
        return False
    return True


# ------------------------------------------------------------------------------------- tile backfill


def backfill_tiles(prom: LocalPrometheus, groups: list[dict[str, Any]], history_start: float) -> dict[str, Any]:
    """Tiles back to the start of the raw history, at the phase each tile group evaluates at.

    Each SLO's latest tile gives its group's phase; the earlier tiles are the group's own expressions
    evaluated by a range query with a 10-minute step ending one tile before it. Written as blocks, then
    Prometheus restarts to load them (the groups keep their phase)."""
    started = time.monotonic()
    rules = [
        (g, r) for g in groups if g.get("interval") == "10m" for r in g["rules"] if r.get("record") in TILE_RECORDS
    ]
    last = {}
    for sample in prom.query(f"max_over_time(timestamp({TILE_RECORDS[1]})[20m:1m])"):
        m = sample["metric"]
        last[(m.get("namespace"), m.get("slo"))] = sample["value"]

    def history(pair: tuple[dict[str, Any], dict[str, Any]]) -> tuple[str, list[tuple[float, float]]]:
        _group, rule = pair
        labels = rule.get("labels") or {}
        newest = last.get((labels.get("namespace"), labels.get("slo")))
        if newest is None:
            return "", []
        end = newest - TILE_SECONDS
        count = int((end - TILE_SECONDS - history_start) // TILE_SECONDS)
        if count < 1:
            return "", []
        series = prom.query_range(rule["expr"], end - (count - 1) * TILE_SECONDS, end, step=TILE_SECONDS)
        name = rule["record"] + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
        return name, series[0]["values"] if series else []

    with ThreadPoolExecutor(4) as pool:
        written = [h for h in pool.map(history, rules) if h[1]]
    source = prom.dir / "tiles.om"
    samples = 0
    with open(source, "w", encoding="ascii") as out:
        for record in TILE_RECORDS:
            out.write(f"# TYPE {record} gauge\n")
            for name, points in written:
                if name.startswith(record + "{"):
                    out.write("\n".join(f"{name} {v!r} {ts:.3f}" for ts, v in points) + "\n")
                    samples += len(points)
        out.write("# EOF\n")
    try:
        moved = prom.backfill_file(source, max_block_duration="2160h")
    finally:
        source.unlink(missing_ok=True)
    return {
        "series": len(written),
        "samples": samples,
        "blocks": moved,
        "seconds": round(time.monotonic() - started, 1),
    }


# ------------------------------------------------------------------------------------- query profile


_RANGE = re.compile(r"\[(\d+(?:ms|[smhdw])(?:\d+(?:ms|[smhdw]))*)(?::\d*[smhd]?)?\]")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _seconds(rng: str) -> float:
    return sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)(ms|[smhdw])", rng))


def label_query(expr: str) -> str:
    """What a status query is for: coverage lookups, or the window it measures (its longest range)."""
    if "timestamp(" in expr:
        return "coverage (tile and recording ends)"
    if "count_over_time(slo:" in expr:
        return "coverage (tiles since)"
    ranges = [_seconds(r) for r in _RANGE.findall(expr)]
    if not ranges:
        return "instant"
    longest = max(ranges)
    kind = "tiles + raw spans" if "rate10m" in expr else ("recorded 5m" if "slo:sli_" in expr else "raw")
    return f"{_human(longest)} ({kind})"


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size < 1:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def profile_queries(prom: LocalPrometheus, manifests: list[dict[str, Any]], sli_source: str) -> dict[str, Any]:
    """Every query of one evaluation cycle of ``manifests`` (in this process, the operator's code), with the
    samples Prometheus read for it (stats=all) and its Prometheus CPU seconds."""
    from okr_operator.evaluation.cycle import Evaluator
    from okr_operator.evaluation.snapshot import Snapshot
    from okr_operator.prometheus.types import PrometheusError as QueryError
    from okr_operator.prometheus.types import parse_result

    pid = prom.proc.pid  # type: ignore[union-attr]
    rows: list[dict[str, Any]] = []
    session = requests.Session()

    def query(expr: str) -> list[Any]:
        cpu0, t0 = procstat.cpu_seconds(pid), time.monotonic()
        resp = session.post(f"{prom.url}/api/v1/query", data={"query": expr, "stats": "all"}, timeout=600).json()
        cpu, wall = procstat.cpu_seconds(pid) - cpu0, time.monotonic() - t0
        if resp.get("status") != "success":
            rows.append({"what": label_query(expr), "error": str(resp.get("error"))[:300]})
            raise QueryError("QueryFailed", str(resp.get("error")))
        stats = resp["data"].get("stats", {}).get("samples", {})
        rows.append(
            {
                "what": label_query(expr),
                "bytes": len(expr),
                "samples": stats.get("totalQueryableSamples", 0),
                "cpu_seconds": round(cpu, 3),
                "wall_seconds": round(wall, 3),
            }
        )
        return parse_result(resp["data"])

    snapshot = Snapshot.from_bodies(manifests)
    Evaluator(query, sli_source=sli_source).evaluate(snapshot, datetime.now(UTC))  # coverage learned
    rows.clear()
    outcome = Evaluator(query, sli_source=sli_source).evaluate(snapshot, datetime.now(UTC))
    by_what: dict[str, dict[str, float]] = defaultdict(lambda: {"queries": 0, "samples": 0, "cpu_seconds": 0.0})
    for row in rows:
        agg = by_what[row["what"]]
        agg["queries"] += 1
        agg["samples"] += row.get("samples", 0)
        agg["cpu_seconds"] = round(agg["cpu_seconds"] + row.get("cpu_seconds", 0.0), 3)
    return {
        "sli_source": sli_source,
        "queries": len(rows),
        "errors": sum(1 for r in rows if "error" in r),
        "samples": sum(r.get("samples", 0) for r in rows),
        "cpu_seconds": round(sum(r.get("cpu_seconds", 0.0) for r in rows), 3),
        "by_window": dict(sorted(by_what.items(), key=lambda kv: -kv[1]["samples"])),
        "outcome_query_errors": outcome.query_errors,
    }


# ------------------------------------------------------------------------------------- the operator


class Operator:
    """The real operator on a Testbed apiserver holding the N SLOs, against the benchmark's Prometheus."""

    def __init__(self, prom: LocalPrometheus, manifests: list[dict[str, Any]], interval: int, workdir: Path) -> None:
        self.prom, self.manifests, self.interval, self.workdir = prom, manifests, interval, workdir
        self.cluster = LocalCluster(log=lambda _m: None)
        self.op: OperatorProcess | None = None

    def __enter__(self) -> Operator:
        from kubernetes import client

        self.cluster.start()
        self.cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
        self.cluster.install_crds(upstream_crds("monitoring.coreos.com"))
        core = client.CoreV1Api(self.cluster.api_client)
        custom = client.CustomObjectsApi(self.cluster.api_client)
        core.create_namespace({"metadata": {"name": slos.NAMESPACE}})
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda m: custom.create_namespaced_custom_object(
                        "okr.dev", "v1alpha1", slos.NAMESPACE, "servicelevelobjectives", m
                    ),
                    self.manifests,
                )
            )
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
        self.cluster.stop()

    def start(self, sli_source: str) -> OperatorProcess:
        self.stop()
        self.op = OperatorProcess(
            self.cluster.kubeconfig,
            self.prom.url,
            self.workdir / f"cost-operator-{sli_source}.log",
            interval=f"{self.interval}s",
            extra_env={"OKR_SLI_SOURCE": sli_source, "OKR_PROMETHEUS_TIMEOUT_SECONDS": "120"},
        ).start()
        return self.op

    def stop(self) -> None:
        if self.op is not None:
            self.op.stop()
            self.op = None

    def cycles(self) -> float:
        assert self.op is not None
        return metric_sum(self.op.metrics_text(timeout=30), "okr_evaluation_total")

    def wait_cycles(self, n: int, timeout: float) -> None:
        start = self.cycles()
        wait_until(lambda: self.cycles() >= start + n, timeout, f"{n} evaluation cycles", interval=2)

    def counters(self) -> dict[str, float]:
        assert self.op is not None
        text = self.op.metrics_text(timeout=30)
        names = ("okr_prometheus_queries_total", "okr_evaluation_total", "okr_prometheus_query_duration_seconds_sum")
        values = {name: metric_sum(text, name) for name in names}
        values["cpu"] = procstat.cpu_seconds(self.op.proc.proc.pid)  # type: ignore[union-attr]
        return values


def measure_with_operator(prom: LocalPrometheus, operator: Operator, sli_source: str, seconds: float) -> dict[str, Any]:
    """Prometheus CPU per minute with our rules and the operator evaluating with ``sli_source``."""
    operator.start(sli_source)
    operator.wait_cycles(3, timeout=1800)  # the first cycle learns coverage and writes every status
    before = operator.counters()
    measured = measure_prometheus(prom, seconds)
    after = operator.counters()
    seconds = measured["wall_seconds"]
    cycles = max(after["okr_evaluation_total"] - before["okr_evaluation_total"], 1)
    queries = after["okr_prometheus_queries_total"] - before["okr_prometheus_queries_total"]
    query_seconds = (
        after["okr_prometheus_query_duration_seconds_sum"] - before["okr_prometheus_query_duration_seconds_sum"]
    )
    return {
        **measured,
        "cycles": int(cycles),
        "queries_per_cycle": round(queries / cycles, 2),
        "query_seconds_per_cycle": round(query_seconds / cycles, 3),
        "operator_cpu_per_minute": round((after["cpu"] - before["cpu"]) * 60 / seconds, 3),
    }


def run(
    prom: LocalPrometheus,
    generated: dict[str, slos.Generated],
    history_start: float,
    *,
    minutes: float,
    interval: int,
    sources: tuple[str, ...],
    workdir: Path,
    rule_interval: int = 60,
    warm_timeout: float = 600,
) -> dict[str, Any]:
    """Every configuration in one Prometheus; see the module docstring."""
    seconds = minutes * 60
    ours = generated["okr-operator"]
    n = ours.slos
    manifests = [slos.okr_manifest(i) for i in range(n)]
    result: dict[str, Any] = {"slos": n, "minutes": minutes, "operator_interval_seconds": interval}
    configs: dict[str, Any] = {}
    result["configurations"] = configs
    load(prom, "idle", [], 0)
    configs["idle"] = measure_prometheus(prom, seconds)
    say(f"idle: {configs['idle']}")
    if "sloth" in generated:
        warm = load(prom, "bench-sloth", generated["sloth"].groups, warm_timeout)
        configs["sloth"] = {**measure_prometheus(prom, seconds), "warm": warm}
        say(f"sloth: {configs['sloth']}")
    warm = load(prom, "bench-okr-operator", ours.groups, max(warm_timeout, 900))  # every tile group ran once
    result["tile_backfill"] = backfill_tiles(prom, ours.groups, history_start)
    say(f"tiles: {result['tile_backfill']}")
    wait_until(lambda: prom.query_value("up") == 1, 180, "scrapes after restart", interval=1)
    configs["ours"] = {**measure_prometheus(prom, seconds), "warm": warm}
    say(f"ours: {configs['ours']}")
    result["profile"] = {}
    for source in sources:
        result["profile"][source] = profile_queries(prom, manifests, source)
        say(f"one cycle with {source}: {result['profile'][source]['samples']:,} samples")
    with Operator(prom, manifests, interval, workdir) as operator:
        for source in sources:
            configs[f"ours + status ({source})"] = measure_with_operator(prom, operator, source, seconds)
            say(f"ours + status ({source}): {configs[f'ours + status ({source})']}")
    load(prom, "idle", [], 0)
    nominal = {"ours": nominal_iterations(ours.groups, rule_interval)}
    if "sloth" in generated:
        nominal["sloth"] = nominal_iterations(generated["sloth"].groups, rule_interval)
    result["nominal_iterations_per_minute"] = nominal
    result["cpu_per_minute"] = normalised(configs, nominal, 60 / interval)
    return result


def phase(n: int, tools_available: list[str], *, minutes: float, interval: int, sources: tuple[str, ...]) -> dict:
    """The rules phase's set-up for ``n`` services (raw history, recorded backfill, live exporter), then
    :func:`run` in that Prometheus."""
    from bench import rules, synth

    svcs = synth.services(n)
    now = time.time()
    t1 = now - now % rules.SCRAPE_INTERVAL
    t0 = t1 - rules.RAW_HISTORY
    generated = {
        tool: slos.GENERATORS[tool](list(range(n))) for tool in tools_available if tool in ("okr-operator", "sloth")
    }
    generated = {k: v for k, v in generated.items() if v is not None}
    exporter = synth.LiveExporter(svcs, t0).start()
    prom = LocalPrometheus(
        scrape_interval=f"{rules.SCRAPE_INTERVAL}s",
        evaluation_interval=f"{rules.EVALUATION_INTERVAL}s",
        targets=[exporter.target],
    )
    workdir = ROOT / "out" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        raw = rules.backfill_raw(prom, svcs, t0, t1)
        say(f"raw history: {raw}")
        prom.start()
        wait_until(lambda: prom.query_value("up") == 1, 180, "the first scrape", interval=1)
        recorded = rules.backfill_recorded(
            prom, generated, t1 - rules.RECORDED_HISTORY, t1, step=rules.EVALUATION_INTERVAL
        )
        say(f"recorded history: {recorded}")
        wait_until(lambda: prom.query_value("up") == 1, 180, "scrapes after restart", interval=1)
        result = run(prom, generated, t0, minutes=minutes, interval=interval, sources=sources, workdir=workdir)
        result["raw_backfill"], result["recorded_backfill"] = raw, recorded
        result["raw_history_hours"] = rules.RAW_HISTORY / 3600
        return result
    finally:
        prom.close()
        exporter.stop()
