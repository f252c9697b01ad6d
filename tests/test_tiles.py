"""slo.tiles: which indicators can be tiled, how a window splits into raw head, tiles and raw tail, and the
PromQL of each span (exact values; the real-Prometheus agreement is tests/test_coverage_prometheus.py)."""

from __future__ import annotations

from typing import Any

import promql_parser
import pytest

from okr_operator.api import ServiceLevelObjective
from okr_operator.slo.tiles import (
    MARGIN_MS,
    Middle,
    RawTemplate,
    Span,
    additive_kind,
    indicator_hash,
    middle_bounds,
    middle_grid_ms,
    middle_ratio,
    middle_request,
    middle_window,
    span_count,
    spans_ratio,
    tile_rules,
    usable_tile_end,
    window_spans,
)

S = 1000  # ms per second


def spec(indicator: dict[str, Any]) -> Any:
    return ServiceLevelObjective.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "ServiceLevelObjective",
            "metadata": {"name": "a", "namespace": "ns"},
            "spec": {"service": "svc", "target": 99.9, "window": "28d", "indicator": indicator},
        }
    ).spec


RATIO = {
    "ratio": {
        "errors": 'sum(rate(http_requests_total{service="svc",code="500"}[{{window}}]))',
        "total": 'sum(rate(http_requests_total{service="svc"}[{{window}}]))',
    }
}


@pytest.mark.parametrize(
    ("indicator", "kind"),
    [
        (RATIO, "rate"),
        ({"latency": {"histogram": "http_request_duration_seconds", "threshold": 0.25}}, "rate"),
        ({"boolGauge": {"metric": 'probe_success{job="svc"}'}}, "count"),
        ({"ratio": {"errors": "max(rate(x_errors[{{window}}]))", "total": "sum(rate(x[{{window}}]))"}}, None),
        (
            {"ratio": {"errors": "sum(rate(e[{{window}}])) - sum(rate(e[5m]))", "total": "sum(rate(x[{{window}}]))"}},
            None,
        ),
        ({"ratio": {"errors": "sum(increase(x_errors[{{window}}]))", "total": "sum(rate(x[{{window}}]))"}}, None),
        ({"ratio": {"errors": "2 * sum(rate(x_errors[{{window}}]))", "total": "sum(rate(x[{{window}}]))"}}, "rate"),
    ],
)
def test_only_sums_of_window_rates_or_counts_are_tiled(indicator, kind):
    assert additive_kind(spec(indicator)) == kind


def test_tiles_carry_the_indicator_hash_and_change_with_it():
    rules = tile_rules(spec(RATIO), {"slo": "a", "namespace": "ns", "service": "svc"})
    assert [r["record"] for r in rules] == ["slo:sli_errors:rate10m", "slo:sli_total:rate10m"]
    assert rules[0]["labels"]["indicator"] == indicator_hash(spec(RATIO))
    assert "[10m]" in rules[0]["expr"] and "[10m]" in rules[1]["expr"]
    other = {"ratio": {**RATIO["ratio"], "errors": RATIO["ratio"]["errors"].replace('"500"', '"503"')}}
    assert indicator_hash(spec(other)) != indicator_hash(spec(RATIO))


def test_the_newest_tile_is_used_once_the_tail_after_it_holds_five_minutes():
    assert usable_tile_end(1_000 * S, 1_300 * S) == 1_000 * S
    assert usable_tile_end(1_000 * S, 1_299 * S) == 400 * S


def test_a_window_covered_by_tiles_is_head_tiles_tail():
    # Tiles since 600 s (the first ends at 1 200 s), the newest usable one ends at 9 600 s.
    assert window_spans(0, 10_000 * S, 9_600 * S, 1_200 * S) == [
        Span(0, 600 * S, tiles=False),
        Span(600 * S, 9_600 * S, tiles=True),
        Span(9_600 * S, 10_000 * S, tiles=False),
    ]


def test_a_window_starting_inside_the_tiles_takes_whole_tiles_and_a_raw_head():
    assert window_spans(1_000 * S, 10_000 * S, 9_600 * S, 600 * S) == [
        Span(1_000 * S, 1_800 * S, tiles=False),  # 200 s before a tile edge is too short for a rate: +1 tile raw
        Span(1_800 * S, 9_600 * S, tiles=True),
        Span(9_600 * S, 10_000 * S, tiles=False),
    ]


@pytest.mark.parametrize(
    ("tile_end", "tiles_since"),
    [
        (None, None),  # no tiles
        (9_800 * S, 1_200 * S),  # a tail of 200 s: too short for a rate
        (9_600 * S, 9_600 * S + 1),  # tiles starting after the newest (inconsistent answers)
        (600 * S, 600 * S),  # the only tile ends before the window
    ],
)
def test_without_usable_tiles_the_window_is_raw(tile_end, tiles_since):
    assert window_spans(1_000 * S, 10_000 * S, tile_end, tiles_since) == [Span(1_000 * S, 10_000 * S, tiles=False)]


def test_span_counts_are_rates_times_seconds_and_tiles_times_600():
    template = RawTemplate.of(spec(RATIO))
    assert template is not None
    sel = '{slo="a", namespace="ns", indicator="h"}'
    raw = span_count(template, "errors", Span(0, 90 * S, tiles=False), sel)
    assert raw == (
        '(((sum(rate(http_requests_total{service="svc",code="500"}[90000ms] @ 90.000)) or vector(0))'
        " or vector(0)) * 90)"
    )
    tiles = span_count(template, "total", Span(600 * S, 1_800 * S, tiles=True), sel)
    assert tiles == f"((sum(sum_over_time(slo:sli_total:rate10m{sel}[1200000ms] @ 1800.000)) or vector(0)) * 600)"
    ratio = spans_ratio(template, [Span(0, 600 * S, False), Span(600 * S, 1_800 * S, True)], sel)
    assert ratio.count("slo:sli_errors:rate10m") == 1 and ratio.count("slo:sli_total:rate10m") == 1


# ------------------------------------------------------------------------------------------ cached middles


@pytest.mark.parametrize(
    ("window", "grid"),
    [(3_600, 600), (7_200, 600), (21_600, 600), (5_040, 600), (60_480, 2_400), (86_400, 3_600)],
)
def test_the_middle_grid_is_a_24th_of_the_window_from_10_minutes_to_an_hour(window, grid):
    assert middle_grid_ms(window * S) == grid * S


def test_windows_from_an_hour_to_a_day_have_middles():
    assert [middle_window(s) for s in (300, 1_800, 3_600, 86_400, 259_200)] == [False, False, True, True, False]


@pytest.mark.parametrize(
    ("end", "bounds"),
    [
        (7_200, (3_600, 6_600)),  # on the grid: no head, the tail a whole grid step (at least 5 minutes)
        (7_530, (4_800, 7_200)),  # 5:30 past: a head of 4:30 would be too short: 14:30, tail 5:30
        (7_400, (4_200, 6_600)),  # 3:20 past: a tail of 3:20 would be too short: 13:20, head 6:40
        (7_740, (4_800, 7_200)),  # 9 min past: head 11 min, tail 9 min
    ],
)
def test_a_middle_is_cut_on_the_grid_with_ends_of_at_least_five_minutes(end, bounds):
    start = end - 3_600
    a, b = middle_bounds(start * S, end * S, 600 * S)
    assert (a, b) == (bounds[0] * S, bounds[1] * S)
    assert a - start * S == 0 or a - start * S >= MARGIN_MS
    assert end * S - b >= MARGIN_MS and (b - a) % (600 * S) == 0


def test_a_window_too_short_for_a_grid_step_has_no_middle():
    assert middle_bounds(0, 800 * S, 600 * S) is None  # a tail of at least 5 min leaves 500 s
    assert middle_bounds(0, 900 * S, 600 * S) == (0, 600 * S)


def test_the_kept_middle_is_a_number_between_raw_ends():
    template = RawTemplate.of(spec(RATIO))
    assert template is not None
    middle = Middle(4_800 * S, 7_200 * S, errors=12.5, total=25_000.0)
    text = middle_ratio(template, 3_930 * S, 7_530 * S, middle)
    promql_parser.parse(text)
    assert "12.5 + " in text and "25000 + " in text
    assert "[870000ms] @ 4800.000" in text and "[330000ms] @ 7530.000" in text  # head 14:30, tail 5:30
    request = middle_request(template, "vector(0.5)", Span(4_200 * S, 7_200 * S, tiles=False))
    promql_parser.parse(request)
    assert [f'"okr_part", "{p}"' in request for p in ("window", "errors", "total")] == [True] * 3
    assert request.count("[3000000ms] @ 7200.000") == 2  # the middle's errors and total
    sel = '{slo="a", namespace="ns", indicator="h"}'
    tiled = middle_request(template, "vector(0.5)", Span(600 * S, 86_400 * S, tiles=True), sel)
    promql_parser.parse(tiled)
    assert tiled.count(f"rate10m{sel}[85800000ms] @ 86400.000") == 2  # a long window's tiles, summed once
