"""Cheap vs raw: the SLO figures of ``--sli-source auto`` against raw queries on the same data.

``make bench-quick`` fails when they disagree. One Prometheus holds 98 hours of traffic for ``n`` services
(every 60 s), each with a steady error ratio of its own and incidents at different times: one across the
3-day window's start, one across the tiles' first sample, one in the last day. The SLOs are the benchmark's
(99.9% over 28 days). Their recordings are what the rules would have written, computed by Prometheus with
the rules' own expressions (summed ``by (service)`` for all SLOs at once) and written as blocks:

* most SLOs: the 5m rates for the last 73 hours (every 60 s), the 10-minute tiles for the last 49 hours
  (at an odd phase): the 1-day window covered, the 3-day and 28-day windows only partly;
* one SLO (``recent``): both only for the last 3 hours (the 6-hour and longer windows mostly raw);
* one SLO (``fresh``): none at all (created a minute ago).

Both ways are evaluated with the operator's own code (``measure_slos``) at an instant inside the history, so
no live data plays a part; auto runs twice with the same ``Coverage`` and the second (steady) cycle is
compared and counted. Both are estimates of counts the synthetic series know exactly: every rate
extrapolates from its outer samples to its range's ends, so where the error rate moves within a scrape
interval of a boundary (the window's start, the first tile, a tile edge) the two attribute those seconds
differently. The check: on every window the cheap figure is within ``TOLERANCE`` (0.5%) of the error budget
of the raw one (issue 19 asks 0.1%, which the integration test tests/test_coverage_prometheus.py holds on
its data; these incidents sit at the seams on purpose), how much further from the exact counts the cheap
figure is than the raw one is reported beside it; and the cheap path read the tiles of every SLO that has
them and none of ``fresh``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import requests

from bench import slos
from e2e.harness import LocalPrometheus
from e2e.harness.history import SeriesSpec, Span, openmetrics_history
from e2e.harness.traffic import Traffic

HOUR = 3600
HISTORY = 98 * HOUR
RECORDS_HOURS = 73
TILES_HOURS = 49
RECENT_HOURS = 3
SCRAPE = 15  # seconds between raw samples (a common scrape interval)
RAMP_SECONDS = 120  # an incident's error ratio rises (and falls) over two minutes
TILE_PHASE = 137  # seconds past each 10 minutes at which the tile group "ran"
# Of the error budget, on each window's error ratio: the check's bound. Issue 19 asks for 0.1%, which the
# integration test (tests/test_coverage_prometheus.py) holds on its data; here incidents cross the tiles'
# first sample and the 3-day window's start, where raw and tiles attribute a scrape interval's events
# differently (measured up to about 0.3% of the budget): docs/performance.md, "How close".
TOLERANCE = 0.005
GOAL = 0.001
BY_SERVICE = {
    "slo:sli_errors:rate5m": ('sum by (service) (rate(http_requests_total{code="500"}[5m]))', 60, 0),
    "slo:sli_total:rate5m": ("sum by (service) (rate(http_requests_total[5m]))", 60, 0),
    "slo:sli_errors:rate10m": ('sum by (service) (rate(http_requests_total{code="500"}[10m]))', 600, TILE_PHASE),
    "slo:sli_total:rate10m": ("sum by (service) (rate(http_requests_total[10m]))", 600, TILE_PHASE),
}


def say(msg: str) -> None:
    print(f"[bench agreement] {msg}", flush=True)


def traffic(i: int, start: float, end: float) -> SeriesSpec:
    """Service ``i``: its own rate and error ratio, with three incidents (see the module docstring) whose
    error ratio ramps up and down over ``RAMP_SECONDS``."""
    rate, ratio = 5 + (i * 7) % 23, 0.0001 * (1 + i % 5)
    incidents = [
        (end - 72 * HOUR - 1800 + 60 * (i % 20), 2400, 0.02 + 0.01 * (i % 3)),
        (end - TILES_HOURS * HOUR - 900 + 45 * (i % 30), 1800, 0.05),
        (end - (2 + i % 20) * HOUR - 600, 1200 + 60 * (i % 10), 0.01 * (1 + i % 4)),
    ]
    spans, t = [], start
    steps = RAMP_SECONDS // SCRAPE
    for at, length, bad in sorted(incidents):
        spans.append(Span(t, at, Traffic(rate=rate, error_ratio=ratio)))
        up = [ratio + (bad - ratio) * (k + 1) / (steps + 1) for k in range(steps)]
        for k, r in enumerate(up):
            spans.append(Span(at + k * SCRAPE, at + (k + 1) * SCRAPE, Traffic(rate=rate, error_ratio=r)))
        body = at + RAMP_SECONDS
        spans.append(Span(body, body + length, Traffic(rate=rate, error_ratio=bad)))
        t = body + length
        for k, r in enumerate(reversed(up)):
            spans.append(Span(t + k * SCRAPE, t + (k + 1) * SCRAPE, Traffic(rate=rate, error_ratio=r)))
        t += RAMP_SECONDS
    spans.append(Span(t, end, Traffic(rate=rate, error_ratio=ratio)))
    return SeriesSpec(slos.service_name(i), "v1", spans)


def manifests(n: int) -> list[dict[str, Any]]:
    """The benchmark's SLOs on services 0..n-1, with their errors as code 500 (the history's error code)."""
    out = []
    for i in range(n):
        m = slos.okr_manifest(i)
        m["spec"]["indicator"]["ratio"]["errors"] = m["spec"]["indicator"]["ratio"]["errors"].replace(
            'code=~"5.."', 'code="500"'
        )
        out.append(m)
    return out


def recorded(prom: LocalPrometheus, models: list[Any], at: float, since: dict[str, dict[int, float]]) -> str:
    """OpenMetrics of the SLOs' recordings up to ``at``: ``since[name][step]`` is where the records evaluated
    every ``step`` seconds (60: the 5m rates, 600: the tiles) begin; an SLO not in ``since`` has none."""
    from okr_operator.slo.rules import slo_rule_groups

    labels: dict[str, dict[str, dict[str, str]]] = {}  # record -> service -> the rule's labels
    begin: dict[str, dict[str, float]] = {}  # record -> service -> first sample time
    for model in models:
        if model.metadata.name not in since:
            continue
        for group in slo_rule_groups(model):
            for rule in group["rules"]:
                if rule.get("record") in BY_SERVICE:
                    record, svc = rule["record"], model.spec.service
                    labels.setdefault(record, {})[svc] = rule["labels"]
                    begin.setdefault(record, {})[svc] = since[model.metadata.name][BY_SERVICE[record][1]]
    out = []
    for record, (expr, step, phase) in BY_SERVICE.items():
        out.append(f"# TYPE {record} gauge")
        earliest = min(begin[record].values())
        t = earliest - earliest % step + phase
        while t < earliest:
            t += step
        while t <= at:
            end = min(t + 6 * HOUR - step, at)
            for series in prom.query_range(expr, t, end, step=step):
                svc = series["metric"].get("service", "")
                if svc not in labels[record]:
                    continue
                name = record + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels[record][svc].items())) + "}"
                out += [f"{name} {v!r} {ts:.3f}" for ts, v in series["values"] if ts >= begin[record][svc]]
            t = end + step
    return "\n".join([*out, "# EOF"]) + "\n"


class _Counted:
    """The operator's query function at a fixed instant, counting queries and the samples Prometheus read."""

    def __init__(self, url: str, at: float) -> None:
        self.url, self.at, self.session = url, at, requests.Session()
        self.sent: list[str] = []
        self.samples = 0

    def __call__(self, expr: str, at: datetime | None = None) -> list[Any]:
        from okr_operator.prometheus.types import PrometheusError, parse_result

        self.sent.append(expr)
        when = at.timestamp() if at is not None else self.at
        body = {"query": expr, "time": f"{when:.3f}", "stats": "all"}
        resp = self.session.post(f"{self.url}/api/v1/query", data=body, timeout=600).json()
        if resp.get("status") != "success":
            raise PrometheusError("QueryFailed", str(resp.get("error"))[:500])
        self.samples += resp["data"].get("stats", {}).get("samples", {}).get("totalQueryableSamples", 0)
        return parse_result(resp["data"])


def run(n: int) -> dict[str, Any]:
    """Build the data, evaluate both ways, compare (see the module docstring)."""
    from okr_operator.evaluation.coverage import Coverage
    from okr_operator.evaluation.slo_status import measure_slos
    from okr_operator.evaluation.snapshot import Snapshot

    started = time.monotonic()
    at = time.time() // 60 * 60 - 1800
    bodies = manifests(n)
    entries = Snapshot.from_bodies(bodies).slos
    models = [e.model for e in entries]
    names = [m.metadata.name for m in models]
    since = {name: {60: at - RECORDS_HOURS * HOUR, 600: at - TILES_HOURS * HOUR} for name in names[:-2]}
    since[names[-2]] = {60: at - RECENT_HOURS * HOUR, 600: at - RECENT_HOURS * HOUR}
    with LocalPrometheus(scrape_interval=f"{SCRAPE}s", evaluation_interval="60s") as prom:
        specs = [traffic(i, at - HISTORY, at + 600) for i in range(n)]
        prom.backfill(openmetrics_history(specs, step=SCRAPE, histogram=False))
        prom.backfill(recorded(prom, models, at, since), max_block_duration="2160h")
        say(f"{n} SLOs: history and recordings backfilled in {time.monotonic() - started:.0f} s")
        when = datetime.fromtimestamp(at, UTC)
        raw_q = _Counted(prom.url, at)
        raw = measure_slos(raw_q, entries, when, "raw")
        cov = Coverage()
        learn_q = _Counted(prom.url, at)
        measure_slos(learn_q, entries, when, "auto", coverage=cov)  # learns the coverage, sums the tiles
        auto_q = _Counted(prom.url, at)
        auto = measure_slos(auto_q, entries, when, "auto", coverage=cov)
    exact = _exact(entries, specs, when)
    return _compare(raw, auto, exact, raw_q, auto_q, names, time.monotonic() - started, learn_q.sent + auto_q.sent)


def _exact(entries: list[Any], specs: list[SeriesSpec], when: datetime) -> dict[Any, dict[str, float]]:
    """The exact error ratio of every SLO window from the synthetic counters (what both ways estimate)."""
    from okr_operator.evaluation.slo_status import range_seconds, slo_windows

    at = when.timestamp()
    out: dict[Any, dict[str, float]] = {}
    for e, spec in zip(entries, specs, strict=True):
        out[e.ref] = {}
        for label, rng in slo_windows([e], when)[e.ref].items():
            lo = max(at - range_seconds(rng), spec.start)
            errors = spec.requests_at(at, "500") - spec.requests_at(lo, "500")
            out[e.ref][label] = errors / (spec.requests_at(at) - spec.requests_at(lo))
    return out


def _compare(
    raw: Any,
    auto: Any,
    exact: dict,
    raw_q: _Counted,
    auto_q: _Counted,
    names: list[str],
    seconds: float,
    auto_sent: list[str],
) -> dict[str, Any]:
    """``auto_sent``: the queries of both auto cycles (the first sums each SLO's tiles, the compared one re-uses
    the sums it kept)."""
    from okr_operator.slo.budget import budget_fraction

    budget = budget_fraction(slos.TARGET)
    worst: dict[str, Any] = {"fraction_of_budget": 0.0}
    worst_excess: dict[str, Any] = {"fraction_of_budget": 0.0}
    windows = missing = 0
    for ref, m in raw.items():
        a = auto[ref]
        for label, expected in m.ratios.items():
            got = a.ratios.get(label)
            windows += 1
            if expected is None or got is None or a.error is not None:
                missing += 1
                continue
            where = {"slo": ref.name, "window": label, "raw": expected, "auto": got, "exact": exact[ref][label]}
            if (diff := abs(got - expected) / budget) > worst["fraction_of_budget"]:
                worst = {"fraction_of_budget": diff, **where}
            excess = (abs(got - exact[ref][label]) - abs(expected - exact[ref][label])) / budget
            if excess > worst_excess["fraction_of_budget"]:
                worst_excess = {"fraction_of_budget": excess, **where}
    read = [f'sum_over_time(slo:sli_errors:rate10m{{slo="{name}"' for name in names]  # a window's tiles
    tiled = {name for name, text in zip(names, read, strict=True) if any(text in q for q in auto_sent)}
    return {
        "slos": len(names),
        "windows": windows,
        "missing": int(missing),
        "worst": worst,
        "worst_excess_over_raw_error": worst_excess,
        "tolerance_fraction_of_budget": TOLERANCE,
        "tiles_read_for": len(tiled),
        "tiles_expected_for": len(names) - 1,
        "fresh_read_tiles": names[-1] in tiled,
        "queries_per_cycle": {"raw": len(raw_q.sent), "auto": len(auto_q.sent)},
        "samples_per_cycle": {"raw": raw_q.samples, "auto": auto_q.samples},
        "seconds": round(seconds, 1),
    }


def checks(result: dict[str, Any] | None) -> list[tuple[str, bool]]:
    """Fails when the cheap path differs from raw by more than ``TOLERANCE`` of the error budget on any window,
    misses a figure raw has, or did not read the tiles it should have."""
    if not result:
        return []
    w, x = result["worst"], result["worst_excess_over_raw_error"]
    where = f" ({w['slo']} {w['window']})" if "slo" in w else ""
    return [
        (
            f"cheap (auto) and raw SLO figures within {100 * TOLERANCE:g}% of the error budget: worst "
            f"{100 * w['fraction_of_budget']:.4f}%{where} (issue 19: {100 * GOAL:g}%), further from the exact "
            f"counts than raw by at most {100 * x['fraction_of_budget']:.4f}%, over {result['windows']} windows, "
            f"{result['missing']} missing",
            w["fraction_of_budget"] <= TOLERANCE and result["missing"] == 0,
        ),
        (
            f"the cheap path read (and kept the sums of) the tiles of {result['tiles_read_for']} of "
            f"{result['tiles_expected_for']} SLOs "
            f"with tiles{' and of the fresh one' if result['fresh_read_tiles'] else ''}",
            result["tiles_read_for"] == result["tiles_expected_for"] and not result["fresh_read_tiles"],
        ),
    ]


def markdown(result: dict[str, Any] | None) -> list[str]:
    if not result:
        return []
    w, x = result["worst"], result["worst_excess_over_raw_error"]
    q, s = result["queries_per_cycle"], result["samples_per_cycle"]

    def pct(v: float) -> str:
        return f"{100 * v:.4f}%"

    return [
        "",
        "## Cheap status path vs raw queries (same data)",
        "",
        f"Check: auto - raw within {100 * TOLERANCE:g}% of the error budget (issue 19 asks {100 * GOAL:g}%; "
        "docs/performance.md, 'How close'). "
        f"{result['slos']} SLOs (99.9% over 28d) on 98 h of traffic scraped every {SCRAPE} s with incidents; "
        f"10-minute tiles for {TILES_HOURS} h ({RECENT_HOURS} h for one SLO, none for one created a minute ago); "
        "both ways evaluated with the operator's code at one instant of the history (bench/agreement.py). "
        "Differences in percent of the error budget; the exact figure is the synthetic counters' own.",
        "",
        "| windows | worst auto - raw | where | worst excess over raw's own error | where "
        "| queries/cycle raw / auto | samples read/cycle raw / auto |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {result['windows']} | {pct(w['fraction_of_budget'])} | {w.get('slo', '—')} {w.get('window', '')} "
        f"| {pct(x['fraction_of_budget'])} | {x.get('slo', '—')} {x.get('window', '')} "
        f"| {q['raw']} / {q['auto']} | {s['raw']:,} / {s['auto']:,} |",
    ]
