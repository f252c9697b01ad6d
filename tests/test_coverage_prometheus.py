"""``--sli-source auto`` against raw queries on a real Prometheus with backfilled history and recordings.

Eight days of traffic with incidents (one across the start of the 7-day window, one in the middle, one
two days ago) and a steady last 12 hours. Three SLOs over the same service:

* ``covered``: its 5m recordings and tiles go back to the start of the history;
* ``partial``: recordings only for the last 2 days (the 3d and 7d windows partly covered);
* ``fresh``: no recordings at all (created a minute ago).

The recordings are what the rules would have written: each rule's own expression evaluated by Prometheus
at the rule's instants (5m rates every minute, tiles every 10 minutes at an odd phase), written as blocks.
Every window of every SLO must agree with the raw figure within 0.1% of the error budget (the error ratios
differ by at most 0.001 x (1 - target): a burn rate by at most 0.001, the budget consumed by at most 0.1
percentage points), and the cheap path must really have read the tiles where they cover a window (3d and
7d; windows up to a day are raw). (The two are different estimates of the same counts: every range
extrapolates from its outer samples to its ends at its own average rate, so where the rate jumps within a
scrape interval of a boundary the raw 7-day range and the 10-minute tiles, or the raw head before the first
tile, attribute those seconds differently: 0.08% of the budget here.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from e2e.harness.history import SeriesSpec, Span, openmetrics_history
from e2e.harness.prometheus import LocalPrometheus
from e2e.harness.traffic import Traffic
from okr_operator.api import ServiceLevelObjective
from okr_operator.api.promql_print import duration
from okr_operator.evaluation.coverage import Coverage
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.slo_status import measure_slos, range_seconds, slo_windows
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.prometheus.adapter import PrometheusAdapter
from okr_operator.prometheus.config import PrometheusSettings
from okr_operator.slo.rules import slo_rule_groups
from okr_operator.slo.tiles import TILE_SECONDS, middle_grid_ms, middle_window

SERVICE = "cov-checkout"
NS = "team"
DAY = 86400
T = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
NOW = T.timestamp()
START = NOW - 8 * DAY
PHASE = 137  # seconds past each 10 minutes at which the tile group "ran"
TARGET = 99.5
BUDGET = 1 - TARGET / 100
TOLERANCE = 0.001 * BUDGET  # on the error ratio of every window: 0.1% of the error budget
SCRAPE = 15  # seconds between samples of the raw series (a common scrape interval)


def traffic() -> SeriesSpec:
    edges = [
        (START, NOW - 7 * DAY - 1200, Traffic(rate=20, error_ratio=0.0004)),
        (NOW - 7 * DAY - 1200, NOW - 7 * DAY + 1300, Traffic(rate=25, error_ratio=0.05)),  # across the 7d start
        (NOW - 7 * DAY + 1300, NOW - 4 * DAY, Traffic(rate=18, error_ratio=0.0006)),
        (NOW - 4 * DAY, NOW - 4 * DAY + 3600, Traffic(rate=30, error_ratio=0.2)),
        (NOW - 4 * DAY + 3600, NOW - 2 * DAY - 1800, Traffic(rate=22, error_ratio=0.0003)),
        (NOW - 2 * DAY - 1800, NOW - 2 * DAY + 900, Traffic(rate=40, error_ratio=0.1)),  # across the partial seam
        (NOW - 2 * DAY + 900, NOW - 12 * 3600, Traffic(rate=15, error_ratio=0.001)),
        (NOW - 12 * 3600, NOW + 3600, Traffic(rate=12, error_ratio=0.0008)),
    ]
    return SeriesSpec(SERVICE, "v1", [Span(a, b, t) for a, b, t in edges])


def slo(name: str, window: str = "7d") -> ServiceLevelObjective:
    return ServiceLevelObjective.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "ServiceLevelObjective",
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "service": SERVICE,
                "target": TARGET,
                "window": window,
                "indicator": {
                    "ratio": {
                        "errors": f'sum(rate(http_requests_total{{service="{SERVICE}",code="500"}}[{{{{window}}}}]))',
                        "total": f'sum(rate(http_requests_total{{service="{SERVICE}"}}[{{{{window}}}}]))',
                    }
                },
            },
        }
    )


def _label_text(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def recorded_history(prom: LocalPrometheus, model: ServiceLevelObjective, since: float) -> list[str]:
    """OpenMetrics lines of the SLO's recordings as its rules would have written them since ``since``."""
    lines: list[str] = []
    for group in slo_rule_groups(model):
        step = TILE_SECONDS if group.get("interval") == "10m" else 60
        first = since - since % step + (PHASE if step == TILE_SECONDS else 0)
        while first < since + step:
            first += step
        last = NOW - (NOW - first) % step
        for rule in group["rules"]:
            if "record" not in rule:
                continue
            name = rule["record"] + _label_text(rule["labels"])
            t = first
            while t <= last:  # 6-hour range queries, as many points as Prometheus allows at once
                end = min(t + 6 * 3600, last)
                for series in prom.query_range(rule["expr"], t, end, step=step):
                    lines += [f"{name} {v!r} {ts:.3f}" for ts, v in series["values"]]
                t = end + step
    return lines


@pytest.fixture(scope="module")
def prom():
    with LocalPrometheus() as local:
        local.backfill(openmetrics_history([traffic()], step=SCRAPE, histogram=False))
        lines = recorded_history(local, slo("covered"), START + 600)
        lines += recorded_history(local, slo("partial"), NOW - 2 * DAY)
        text = "".join(f"# TYPE {m} gauge\n" for m in sorted({line.split("{")[0] for line in lines}))
        by_metric: dict[str, list[str]] = {}
        for line in lines:
            by_metric.setdefault(line.split("{")[0], []).append(line)
        text = "".join(f"# TYPE {m} gauge\n" + "\n".join(ls) + "\n" for m, ls in sorted(by_metric.items()))
        local.backfill(text + "# EOF\n", max_block_duration="2160h")
        yield local


def query_fn(prom: LocalPrometheus, sent: list[str]) -> Any:
    adapter = PrometheusAdapter(PrometheusSettings(url=prom.url, timeout_seconds=60))

    def query(expr: str) -> Any:
        sent.append(expr)
        return adapter.query(expr, at=T)

    return query


def measured(prom: LocalPrometheus, source: str, names: tuple[str, ...], coverage: Coverage | None = None) -> dict:
    sent: list[str] = []
    entries = Snapshot.from_models([slo(n) for n in names]).slos
    result = measure_slos(query_fn(prom, sent), entries, T, source, coverage=coverage)
    return {ref.name: m for ref, m in result.items()}, sent


@pytest.mark.parametrize("name", ["covered", "partial", "fresh"])
def test_auto_agrees_with_raw_on_every_window(prom, name, capsys):
    raw, _ = measured(prom, "raw", (name,))
    auto, sent = measured(prom, "auto", (name,))
    assert raw[name].error is None and auto[name].error is None
    assert set(auto[name].ratios) == set(raw[name].ratios)
    for window, expected in raw[name].ratios.items():
        got = auto[name].ratios[window]
        assert expected is not None and expected > 0, (window, expected)
        assert got == pytest.approx(expected, abs=TOLERANCE), (name, window, got, expected)
    worst = max(abs(auto[name].ratios[w] - r) / BUDGET for w, r in raw[name].ratios.items())
    with capsys.disabled():
        print(f"\n{name}: largest auto-raw difference {100 * worst:.4f}% of the error budget (allowed 0.1%)")
    reads_tiles = any("slo:sli_errors:rate10m" in q for q in sent)
    assert reads_tiles == (name != "fresh")
    assert not any("slo:sli_errors:rate5m" in q for q in sent)  # windows up to a day are raw


def test_the_incidents_move_the_long_windows(prom):
    """The figures compared above are not all alike: the 7d window holds two incidents the 1d does not."""
    raw, _ = measured(prom, "raw", ("covered",))
    ratios = raw["covered"].ratios
    assert ratios["window"] > 4 * ratios["5m"]


def test_the_partial_window_reads_raw_before_the_first_tile(prom):
    coverage = Coverage()
    _, sent = measured(prom, "auto", ("partial",), coverage)
    (since,) = [v for (key, _h, _w), v in coverage.tiles_since.items() if key == (NS, "partial")]
    assert since is not None
    assert NOW - 2 * DAY < since / 1000 <= NOW - 2 * DAY + 2 * TILE_SECONDS
    tiled = [q for q in sent if "sum_over_time(slo:sli_errors:rate10m" in q]
    heads = [int(ms) for q in tiled for ms in re.findall(r'code="500"}\[(\d+)ms\]', q)]
    assert max(heads) > 4 * DAY * 1000  # the 7d window: raw back to the first tile, about 5 days


def test_a_second_cycle_asks_only_for_the_newest_tiles(prom):
    """One coverage query per cycle: the first also counts every SLO's tiles, later ones only the unknown."""
    coverage = Coverage()
    _, first = measured(prom, "auto", ("covered", "partial", "fresh"), coverage)
    _, second = measured(prom, "auto", ("covered", "partial", "fresh"), coverage)
    assert len(first) == len(second)
    (asked,) = [q for q in second if "timestamp(slo:sli_total:rate10m)" in q]
    counted = re.findall(r'count_over_time\(slo:sli_total:rate10m\{slo="(\w+)"', asked)
    assert counted == ["fresh"]  # no tiles yet: asked again every cycle, in the same one query
    (asked,) = [q for q in first if "timestamp(slo:sli_total:rate10m)" in q]
    assert sorted(re.findall(r'count_over_time\(slo:sli_total:rate10m\{slo="(\w+)"', asked)) == [
        "covered",
        "fresh",
        "partial",
    ]


def test_evaluator_with_auto_gives_the_raw_statuses(prom):
    snapshot = Snapshot.from_models([slo("covered"), slo("partial")])
    raw = Evaluator(query_fn(prom, []), sli_source="raw").evaluate(snapshot, T)
    auto = Evaluator(query_fn(prom, []), sli_source="auto").evaluate(snapshot, T)
    for ref, status in raw.statuses.items():
        assert auto.statuses[ref]["sli"] == pytest.approx(status["sli"], abs=0.0005)
        assert auto.statuses[ref]["errorBudget"]["remaining"] == pytest.approx(
            status["errorBudget"]["remaining"], abs=0.001
        )
        assert auto.statuses[ref]["state"] == status["state"]


def measured_at(prom: LocalPrometheus, at: datetime, source: str, names: tuple[str, ...], coverage: Coverage) -> tuple:
    adapter = PrometheusAdapter(PrometheusSettings(url=prom.url, timeout_seconds=60))
    sent: list[str] = []

    def query(expr: str) -> Any:
        sent.append(expr)
        return adapter.query(expr, at=at)

    entries = Snapshot.from_models([slo(n) for n in names]).slos
    return {ref.name: m for ref, m in measure_slos(query, entries, at, source, coverage=coverage).items()}, sent


def printed(rng: str) -> str:
    """A range selector's text as the queries print it (``[16h48m]`` for 1008m)."""
    return f"[{duration(timedelta(seconds=range_seconds(rng)))}]"


def middle_windows() -> list[str]:
    """The ranges of the test's SLOs (7d: windows scaled from 30d's) measured with a kept middle: 1h to 1d."""
    (windows,) = slo_windows(Snapshot.from_models([slo("covered")]).slos, T).values()
    return sorted({r for r in windows.values() if middle_window(range_seconds(r))}, key=range_seconds)


def test_kept_middles_agree_with_raw_and_leave_the_whole_windows_unread(prom, capsys):
    """Windows from 1h to 1d: the first cycle reads each raw and asks for its middle's counts; the next cycle on
    the same grid reads only the raw ends and adds the kept counts. Within 0.1% of the budget of raw, there."""
    ranges = middle_windows()
    assert len(ranges) >= 3
    coverage = Coverage()
    first_at = T + timedelta(seconds=90)  # the tiles end at T: later, the newest would be too old to be used
    _, first = measured_at(prom, first_at, "auto", ("covered", "fresh"), coverage)
    assert all(any(printed(rng) in q for q in first) for rng in ranges)  # whole windows, with their middles' requests
    kept = {(key[1], rng): m for (key, _h, rng), m in coverage.middles.items()}
    tiled = {("covered", "7d")}  # the long window's tile sum ("fresh" has no tiles)
    assert set(kept) == {(name, rng) for name in ("covered", "fresh") for rng in ranges} | tiled
    assert all(m.total > 0 for m in kept.values())
    at = first_at + timedelta(seconds=60)  # the same grid cell for every middle (10 to 40 minutes), same tiles
    auto, second = measured_at(prom, at, "auto", ("covered", "fresh"), coverage)
    raw, _ = measured_at(prom, at, "raw", ("covered", "fresh"), Coverage())
    assert not any(printed(rng) in q for rng in ranges for q in second)  # only the ends were read
    assert not any("sum_over_time(slo:sli_" in q for q in second)  # and no tile: their sums are kept too
    assert {(key[1], rng): m for (key, _h, rng), m in coverage.middles.items()} == kept
    worst = 0.0
    for name in ("covered", "fresh"):
        for label, expected in raw[name].ratios.items():
            got = auto[name].ratios[label]
            assert got == pytest.approx(expected, abs=TOLERANCE), (name, label, got, expected)
            worst = max(worst, abs(got - expected) / BUDGET)
    with capsys.disabled():
        print(f"\nkept middles: largest auto-raw difference {100 * worst:.4f}% of the error budget (allowed 0.1%)")


@pytest.mark.parametrize("later", [600, 2400, 3600])
def test_a_moved_grid_asks_for_the_middle_again(prom, later):
    coverage = Coverage()
    first_at = T + timedelta(seconds=1530)
    measured_at(prom, first_at, "auto", ("covered",), coverage)
    before = {rng: m for (_k, _h, rng), m in coverage.middles.items()}
    _, sent = measured_at(prom, first_at + timedelta(seconds=later), "auto", ("covered",), coverage)
    after = {rng: m for (_k, _h, rng), m in coverage.middles.items()}
    assert set(after) == set(before) == set(middle_windows())  # (the tiles end at T: too old by then)
    moved = 0
    for rng, old in before.items():
        grid = middle_grid_ms(range_seconds(rng) * 1000)
        new = after[rng]
        assert new.end - old.end == new.start - old.start and (new.end - old.end) % grid == 0
        assert (new != old) == any(printed(rng) in q for q in sent)  # read whole again only when the grid moved
        moved += new != old
    assert moved
