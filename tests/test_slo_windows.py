"""Burn-rate conditions and their windows, scaled to the SLO window, and how recorded windows are derived."""

from __future__ import annotations

import promql_parser
import pytest

from okr_operator.slo.expressions import promql_range, recorded_ratio
from okr_operator.slo.windows import burn_rate_conditions, is_chained, scale_window, status_windows, window_seconds
from tests.helpers import slo

DAY = 86400


def as_tuples(conditions):
    return [(str(c.severity), c.long, c.short, c.factor) for c in conditions]


@pytest.mark.parametrize("window", ["28d", "30d", "4w", "month"])
def test_workbook_windows_unchanged_for_28_to_30_days(window):
    assert as_tuples(burn_rate_conditions(slo(window=window).spec)) == [
        ("page", "1h", "5m", 14.4),
        ("page", "6h", "30m", 6),
        ("ticket", "1d", "2h", 3),
        ("ticket", "3d", "6h", 1),
    ]


def test_seven_day_window_scales_alert_windows():
    # 7d / 30d = 0.2333..: 1h -> 14m, 6h -> 84m = 1h24m -> "84m", 1d -> 336m, 3d -> 1008m, 2h -> 28m,
    # 30m -> 7m, 5m -> 1m10s rounds to 1m and is raised to the 5m base.
    assert as_tuples(burn_rate_conditions(slo(window="7d").spec)) == [
        ("page", "14m", "5m", 14.4),
        ("page", "84m", "7m", 6),
        ("ticket", "336m", "28m", 3),
        ("ticket", "1008m", "84m", 1),
    ]


def test_quarter_scales_by_three():
    assert scale_window("1h", window_seconds("quarter")) == "3h"
    assert scale_window("5m", window_seconds("quarter")) == "15m"
    assert window_seconds("month") == 30 * DAY


def test_override_windows_are_used_as_given_but_never_below_5m():
    spec = slo(
        alerting={
            "burnRateWindows": [
                {"severity": "page", "long": "2h", "short": "1m", "burnRate": 10},
                {"severity": "ticket", "long": "2d", "short": "4h", "burnRate": 2},
            ]
        }
    ).spec
    assert as_tuples(burn_rate_conditions(spec)) == [("page", "2h", "5m", 10), ("ticket", "2d", "4h", 2)]


def test_status_windows_are_alert_windows_plus_1h_sorted():
    assert status_windows(slo().spec) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    assert status_windows(slo(window="7d").spec) == ["5m", "7m", "14m", "28m", "1h", "84m", "336m", "1008m"]


def test_windows_up_to_an_hour_in_whole_5m_steps_are_chained():
    assert [s for s in (300, 600, 1800, 3600, 3900, 840, 21600) if is_chained(s)] == [600, 1800, 3600]


def lead_corrected(series: str, body: str) -> str:
    lead = f"{series} * (count_over_time({series}[5m]) - 1) / 2"
    return f'sum without (part) (sum_over_time({series}[{body}]) or label_replace({lead}, "part", "lead", "", ""))'


def test_recorded_windows_are_instant_chained_or_lead_corrected():
    e, t = "slo:sli_errors:rate5m", "slo:sli_total:rate5m"
    assert recorded_ratio("5m") == f"({e} / {t})"
    assert recorded_ratio("15m") == (
        f"(({e} + {e} offset 5m + {e} offset 10m) / ({t} + {t} offset 5m + {t} offset 10m)"
        f" or ({lead_corrected(e, '12m30s')} / {lead_corrected(t, '12m30s')}))"
    )
    assert recorded_ratio("1h").count("offset") == 2 * 11
    se, st = e + '{slo="a"}', t + '{slo="a"}'
    assert (
        recorded_ratio("3d", '{slo="a"}')
        == f"({lead_corrected(se, '2d23h57m30s')} / {lead_corrected(st, '2d23h57m30s')})"
    )


@pytest.mark.parametrize("window", ["5m", "7m", "30m", "1h", "84m", "6h", "3d", "28d", "2073600s"])
def test_recorded_windows_parse(window):
    promql_parser.parse(recorded_ratio(window, '{slo="a", namespace="b"}'))


def test_promql_ranges_use_descending_units():
    assert [promql_range(s) for s in (150, 3450, 21450, 258750)] == ["2m30s", "57m30s", "5h57m30s", "2d23h52m30s"]


def test_burn_alerts_read_each_long_window_in_the_cheapest_form_that_delays_no_alert():
    from okr_operator.slo.expressions import raw_ratio, recorded_plain_ratio
    from okr_operator.slo.rules import long_window_ratio

    spec, sel = slo(window="30d").spec, '{slo="a"}'
    assert long_window_ratio(spec, "1h", sel, raw=True) == raw_ratio(spec, "1h")
    assert long_window_ratio(spec, "1h", sel, raw=False) == recorded_ratio("1h", sel)  # chained
    assert long_window_ratio(spec, "6h", sel, raw=True) == recorded_plain_ratio("6h", sel)
    assert long_window_ratio(spec, "1d", sel, raw=True) == recorded_plain_ratio("1d", sel)
    assert long_window_ratio(spec, "3d", sel, raw=True) == recorded_ratio("3d", sel)  # lead-corrected
    e, t = "slo:sli_errors:rate5m" + sel, "slo:sli_total:rate5m" + sel
    assert recorded_plain_ratio("6h", sel) == f"(sum_over_time({e}[6h]) / sum_over_time({t}[6h]))"
    assert recorded_plain_ratio("5m", sel) == f"({e} / {t})"


def test_the_raw_1h_window_is_joined_on_nothing_after_the_records_and_only_where_it_is_safe():
    from okr_operator.maintenance import rule_intervals
    from okr_operator.slo.rules import raw_long_windows, slo_rule_groups
    from tests.test_promtool_maintenance import EPOCH, window

    plain = slo(window="30d")
    page = next(r for r in slo_rule_groups(plain)[0]["rules"] if r.get("labels", {}).get("severity") == "page")
    first = page["expr"].split("\nor\n")[0]
    assert first.index("slo:sli_errors:rate5m") < first.index("and on ()") < first.index("[1h]")
    assert raw_long_windows(plain)
    indicator = {
        "ratio": {"errors": "sum by (route) (rate(e[{{window}}]))", "total": "sum by (route) (rate(t[{{window}}]))"}
    }
    grouped = slo(window="30d", indicator={**indicator, "groupBy": ["route"]})
    assert not raw_long_windows(grouped)
    excluding = rule_intervals([window(290, "1h", excludeFromBudget=True)], EPOCH)
    assert not raw_long_windows(plain, excluding)
    assert raw_long_windows(plain, rule_intervals([window(290, "1h", suppressAlerts=True)], EPOCH))
