"""Rules side by side: okr-operator vs Sloth vs Pyrra in one Prometheus on the same synthetic series.

1. Raw history: ``services`` services (see ``bench.synth``), 4 days 2 hours of counters every 60 s,
   backfilled with promtool; afterwards a live exporter continues the same counters (scraped every 60 s).
2. Recorded history: the recording rules that other rules read over long windows (ours:
   ``slo:sli_errors:rate5m`` and ``slo:sli_total:rate5m``; Sloth: ``slo:sli_error:ratio_rate5m``, read by its
   28-day rule) get 3 days 1 hour of history computed by Prometheus from the raw series (see
   ``backfill_recorded``), so that those rules read as many samples as in a Prometheus that has run them
   for days.
3. For each N: every tool's rules for SLOs 0..N-1 are loaded into the same Prometheus
   (evaluation_interval 60 s as scraping, Prometheus's defaults; Pyrra's groups set their own 30 s and
   2m30s), and after every group has evaluated, ``prometheus_rule_group_last_duration_seconds`` is
   summed per tool once per cycle; the table
   gives the median over the cycles. Recording series produced are counted from the series written
   since the load; rule evaluation failures are counted too.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import requests

from bench import slos, synth
from e2e.harness import LocalPrometheus, PrometheusError, wait_until

SCRAPE_INTERVAL = 60
EVALUATION_INTERVAL = 60  # Prometheus's default, like its default scrape interval
RAW_HISTORY = 4 * 86400 + 2 * 3600
RECORDED_HISTORY = 3 * 86400 + 3600
MAX_GROUP_INTERVAL = 150  # Pyrra's increase group


def say(msg: str) -> None:
    print(f"[bench rules] {msg}", flush=True)


def backfill_raw(prom: LocalPrometheus, svcs: list[synth.Service], t0: float, t1: float) -> dict[str, Any]:
    started = time.monotonic()
    source = prom.dir / "history.om"
    samples = synth.write_history(source, svcs, t0, t1, step=SCRAPE_INTERVAL)
    generated = time.monotonic() - started
    try:
        prom.backfill_file(source, max_block_duration="2160h")
    finally:
        source.unlink(missing_ok=True)
    return {
        "series": synth.series_count(svcs),
        "samples": samples,
        "generate_seconds": round(generated, 1),
        "backfill_seconds": round(time.monotonic() - started - generated, 1),
    }


# The recording rules that other rules read over long windows, and how to compute them for every service at
# once: ours keep the 5m rate of errors and of all requests, Sloth keeps their ratio (its 28-day rule
# averages it). The per-service PromQL is the rules' own expression with ``sum by (service)`` instead of one
# selector per service, so Prometheus computes exactly what each rule would have recorded.
RECORDED = {
    "okr-operator": {
        "slo:sli_errors:rate5m": 'sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))',
        "slo:sli_total:rate5m": "sum by (service) (rate(http_requests_total[5m]))",
    },
    "sloth": {
        "slo:sli_error:ratio_rate5m": 'sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))'
        " / sum by (service) (rate(http_requests_total[5m]))",
    },
}


def _label_text(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def backfill_recorded(
    prom: LocalPrometheus, generated: dict[str, slos.Generated], start: float, end: float, step: int
) -> dict[str, Any]:
    """History of the recording rules read over long windows, as if Prometheus had run them since ``start``.

    For each such record, one range query per 6 hours (step = the evaluation interval) gives every
    service's values; they are written with each rule's own labels as OpenMetrics gauges, turned into
    blocks with promtool, and Prometheus is restarted to load them. (``promtool tsdb create-blocks-from
    rules`` does the same one rule and 2 hours at a time: hours for a thousand SLOs.)
    """
    started = time.monotonic()
    source = prom.dir / "recorded.om"
    samples = 0
    chunk = 6 * 3600
    with open(source, "w", encoding="ascii") as out:
        for tool, records in RECORDED.items():
            gen = generated.get(tool)
            if gen is None:
                continue
            for record, expr in records.items():
                by_service: dict[str, list[tuple[float, float]]] = defaultdict(list)
                t = start
                while t < end:
                    t_end = min(t + chunk, end)
                    for series in prom.query_range(expr, t, t_end, step=step):
                        by_service[series["metric"].get("service", "")].extend(
                            (ts, v) for ts, v in series["values"] if t_end == end or ts < t_end
                        )
                    t = t_end
                out.write(f"# TYPE {record} gauge\n")
                for rule in (r for g in gen.groups for r in g["rules"] if r.get("record") == record):
                    labels = rule.get("labels") or {}
                    points = by_service.get(labels.get("service") or labels.get("sloth_service") or "", [])
                    name = record + _label_text(labels)
                    out.write("\n".join(f"{name} {v!r} {ts:.3f}" for ts, v in points))
                    out.write("\n")
                    samples += len(points)
        out.write("# EOF\n")
    queried = time.monotonic() - started
    try:
        moved = prom.backfill_file(source, max_block_duration="2160h")
    finally:
        source.unlink(missing_ok=True)
    return {
        "records": {tool: sorted(r) for tool, r in RECORDED.items() if tool in generated},
        "samples": samples,
        "blocks": moved,
        "query_seconds": round(queried, 1),
        "seconds": round(time.monotonic() - started, 1),
    }


# ------------------------------------------------------------------------------------------ measuring


def _self_metrics(prom: LocalPrometheus) -> str:
    return requests.get(f"{prom.url}/metrics", timeout=60).text


def _parse_group_metrics(text: str) -> dict[str, dict[str, float]]:
    """rule_group label ("<file>;<group>") -> {metric name: value} for the rule-group metrics."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for line in text.splitlines():
        if not line.startswith("prometheus_rule_") or "rule_group=" not in line:
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        start = labels.index('rule_group="') + len('rule_group="')
        group = labels[start : labels.index('"', start)]
        try:
            out[group][name] = float(value)
        except ValueError:
            continue
    return out


def _tool_of(group: str, files: dict[str, str]) -> str | None:
    path = group.split(";", 1)[0]
    return files.get(Path(path).name)


def _per_tool(metrics: dict[str, dict[str, float]], files: dict[str, str], name: str) -> dict[str, float]:
    sums: dict[str, float] = defaultdict(float)
    for group, values in metrics.items():
        tool = _tool_of(group, files)
        if tool is not None and name in values:
            sums[tool] += values[name]
    return sums


def _per_minute(metrics: dict[str, dict[str, float]], files: dict[str, str]) -> dict[str, float]:
    """Seconds of rule evaluation per minute: each group's last duration x evaluations per minute."""
    sums: dict[str, float] = defaultdict(float)
    for group, values in metrics.items():
        tool = _tool_of(group, files)
        interval = values.get("prometheus_rule_group_interval_seconds")
        if tool is not None and interval:
            sums[tool] += values.get("prometheus_rule_group_last_duration_seconds", 0.0) * 60.0 / interval
    return sums


def measure_size(
    prom: LocalPrometheus, generated: dict[str, slos.Generated], cycles: int, warmup_max: float, interval: int
) -> dict[str, Any]:
    """Load every tool's rules for this N together and sample their evaluation cost for ``cycles`` cycles."""
    files = {f"bench-{tool}.yml": tool for tool in generated}
    loaded_at = time.time()
    load_errors: dict[str, str] = {}
    for name, tool in files.items():
        try:
            prom.load_rules(generated[tool].groups, name=name.removesuffix(".yml"), wait=120)
        except (PrometheusError, TimeoutError) as exc:
            load_errors[tool] = str(exc)[:2000]
            say(f"{tool}: rules did not load: {exc}")
    load_seconds = time.time() - loaded_at

    # Warm-up: every group evaluated at least once (Pyrra's increase group runs every 2m30s).
    def all_evaluated() -> bool:
        metrics = _parse_group_metrics(_self_metrics(prom))
        stamps = [
            v.get("prometheus_rule_group_last_evaluation_timestamp_seconds", 0.0)
            for g, v in metrics.items()
            if _tool_of(g, files) is not None
        ]
        return bool(stamps) and min(stamps) > loaded_at

    try:
        wait_until(all_evaluated, warmup_max, "every rule group evaluated once", interval=5)
        warm = True
    except TimeoutError:
        warm = False
    failures_before = _per_tool(
        _parse_group_metrics(_self_metrics(prom)), files, "prometheus_rule_evaluation_failures_total"
    )
    per_cycle: dict[str, list[float]] = defaultdict(list)
    per_minute: dict[str, list[float]] = defaultdict(list)
    samples_out: dict[str, float] = {}
    for _ in range(cycles):
        time.sleep(interval)
        metrics = _parse_group_metrics(_self_metrics(prom))
        for tool, value in _per_tool(metrics, files, "prometheus_rule_group_last_duration_seconds").items():
            per_cycle[tool].append(value)
        for tool, value in _per_minute(metrics, files).items():
            per_minute[tool].append(value)
        samples_out = _per_tool(metrics, files, "prometheus_rule_group_last_evaluation_samples")
    metrics = _parse_group_metrics(_self_metrics(prom))
    failures_after = _per_tool(metrics, files, "prometheus_rule_evaluation_failures_total")
    groups = _per_tool(
        {g: {"n": 1.0} for g in metrics if "prometheus_rule_group_interval_seconds" in metrics[g]}, files, "n"
    )
    since = max(int(time.time() - loaded_at) - 5, interval)
    result: dict[str, Any] = {"load_seconds": round(load_seconds, 1), "warm": warm, "tools": {}}
    for tool, gen in generated.items():
        series = None
        names = gen.record_names()
        if names and tool not in load_errors:
            # One query per record name: *_over_time drops the name, so two records with the same labels collide.
            series = sum(int(prom.query_value(f"count(count_over_time({name}[{since}s]))") or 0) for name in names)
        health = _health(prom, f"bench-{tool}.yml") if tool not in load_errors else None
        cycle_values = per_cycle.get(tool, [])
        result["tools"][tool] = {
            "slos": gen.slos,
            "rules": gen.rules,
            "rules_per_slo": round(gen.rules_per_slo, 2),
            "record_rules": sum(1 for g in gen.groups for r in g["rules"] if "record" in r),
            "alert_rules": sum(1 for g in gen.groups for r in g["rules"] if "alert" in r),
            "groups": int(groups.get(tool, 0)),
            "recording_series": series,
            "samples_per_evaluation": int(samples_out.get(tool, 0)),
            "eval_seconds_per_cycle_median": _median(cycle_values),
            "eval_seconds_per_cycle_samples": [round(v, 6) for v in cycle_values],
            "eval_seconds_per_minute_median": _median(per_minute.get(tool, [])),
            "evaluation_failures": int(failures_after.get(tool, 0) - failures_before.get(tool, 0)),
            "unhealthy_rules": health,
            "load_error": load_errors.get(tool),
            "generate_seconds": round(gen.seconds, 2),
        }
    for name in files:
        prom.remove_rules(name.removesuffix(".yml"))
    return result


def _health(prom: LocalPrometheus, file_name: str) -> list[str]:
    """Rules of this file whose health is not ok (with their last error)."""
    bad = []
    for group in prom._api("rules")["groups"]:
        if Path(group["file"]).name != file_name:
            continue
        for rule in group["rules"]:
            if rule.get("health") not in ("ok", "unknown"):
                bad.append(f"{group['name']}/{rule.get('name')}: {rule.get('lastError')}")
    return bad[:20]


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 6) if values else None


def run(
    sizes: tuple[int, ...],
    tools_available: list[str],
    cycles: int,
    warmup_max: float,
    interval: int = EVALUATION_INTERVAL,
) -> dict[str, Any]:
    services = max(sizes)
    svcs = synth.services(services)
    now = time.time()
    t1 = now - now % SCRAPE_INTERVAL
    t0 = t1 - RAW_HISTORY
    result: dict[str, Any] = {
        "services": services,
        "series": synth.series_count(svcs),
        "pods_per_service": "1-4",
        "codes": list(synth.CODES),
        "scrape_interval_seconds": SCRAPE_INTERVAL,
        "evaluation_interval_seconds": interval,
        "raw_history_hours": RAW_HISTORY / 3600,
        "recorded_history_hours": RECORDED_HISTORY / 3600,
        "cycles": cycles,
        "sizes": {},
    }
    full = {tool: slos.GENERATORS[tool](list(range(services))) for tool in tools_available}
    full = {k: v for k, v in full.items() if v is not None}
    exporter = synth.LiveExporter(svcs, t0).start()
    prom = LocalPrometheus(
        scrape_interval=f"{SCRAPE_INTERVAL}s",
        evaluation_interval=f"{interval}s",
        targets=[exporter.target],
    )
    try:
        say(f"raw history: {services} services, {result['series']} series, {RAW_HISTORY / 3600:g} h ...")
        result["raw_backfill"] = backfill_raw(prom, svcs, t0, t1)
        say(f"raw history: {result['raw_backfill']}")
        prom.start()
        wait_until(lambda: prom.query_value("up") == 1, 3 * SCRAPE_INTERVAL, "the first scrape", interval=1)
        say(f"recorded history: {RECORDED_HISTORY / 3600:g} h of the 5m recordings read over long windows")
        result["recorded_backfill"] = backfill_recorded(prom, full, t1 - RECORDED_HISTORY, t1, step=interval)
        say(f"recorded history: {result['recorded_backfill']}")
        wait_until(lambda: prom.query_value("up") == 1, 3 * SCRAPE_INTERVAL, "scrapes after restart", interval=1)
        for n in sizes:
            generated = {tool: slos.GENERATORS[tool](list(range(n))) for tool in full}
            say(f"N={n}: loading {', '.join(f'{t} {g.rules} rules' for t, g in generated.items())}")
            size = measure_size(
                prom, {k: v for k, v in generated.items() if v is not None}, cycles, warmup_max, interval
            )
            result["sizes"][str(n)] = size
            say(
                f"N={n}: "
                + ", ".join(
                    f"{t}: {v['eval_seconds_per_cycle_median']} s/cycle, {v['recording_series']} series"
                    for t, v in size["tools"].items()
                )
            )
    finally:
        prom.close()
        exporter.stop()
    return result
