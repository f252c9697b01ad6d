"""Pure helpers of the evaluation: rounding, durations, conditions, calendar windows, batching."""

from datetime import UTC, datetime

import pytest

from okr_operator.evaluation.batch import batch, split
from okr_operator.evaluation.conditions import (
    changed_fields,
    comparable,
    condition,
    human_duration,
    rounded,
    significant,
    stamp,
)
from okr_operator.evaluation.slo_status import calendar_start, compliance_range, range_seconds
from okr_operator.prometheus.types import PrometheusError, Sample, parse_result


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (59.6, "1m"), (90061, "1d1h"), (2419199.9, "4w"), (86460, "1d"), (86364, "23h59m"), (None, None)],
)
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_rounding_helpers():
    assert rounded(0.123456, 4) == 0.1235
    assert rounded(-0.00001, 4) == 0.0
    assert rounded(float("nan"), 4) is None
    assert significant(0.000123456789) == 0.000123457
    assert significant(123456789.0) == 123457000.0


def test_stamp_keeps_transition_time_when_status_is_unchanged():
    old = [{"type": "Ready", "status": "True", "reason": "Ready", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    now = datetime(2026, 2, 1, tzinfo=UTC)
    same = stamp([condition("Ready", True, "Ready")], old, now)
    assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    flipped = stamp([condition("Ready", False, "MetricsAvailableFalse")], old, now)
    assert flipped[0]["lastTransitionTime"] == "2026-02-01T00:00:00Z"


def test_comparable_ignores_timestamps_and_foreign_conditions():
    a = {"sli": 99.9, "lastEvaluated": "x", "conditions": [{"type": "Ready", "status": "True", "reason": "R"}]}
    b = {
        "sli": 99.9,
        "lastEvaluated": "y",
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "R", "lastTransitionTime": "t"},
            {"type": "RulesSynced", "status": "True", "reason": "Applied"},
        ],
    }
    assert comparable(a, ("sli", "lastEvaluated")) == comparable(b, ("sli", "lastEvaluated"))
    assert comparable({"sli": 1}, ("sli",)) == comparable({"sli": 1.0}, ("sli",))


def test_calendar_windows():
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert calendar_start("month", now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert calendar_start("quarter", now) == datetime(2026, 10, 1, tzinfo=UTC)
    assert compliance_range("quarter", now) == f"{(now - datetime(2026, 10, 1, tzinfo=UTC)).days * 86400 + 43200}s"
    assert compliance_range("28d", now) == "28d"
    assert range_seconds("2h") == 7200


def test_batch_tags_and_split_restores():
    expr = batch([(("ns", "a"), "vector(1)"), (("ns", "b"), "vector(2)")])
    assert expr.count("label_replace") == 4 and "\nor\n" in expr
    answer = split(
        [
            Sample({"okr_namespace": "ns", "okr_name": "a"}, 1.0),
            Sample({"okr_namespace": "ns", "okr_name": "b", "le": "0.1"}, 2.0),
            Sample({"other": "x"}, 3.0),
        ]
    )
    assert answer.of(("ns", "a")) == [Sample({}, 1.0)]
    assert answer.of(("ns", "b")) == [Sample({"le": "0.1"}, 2.0)]


def test_parse_result_shapes():
    assert parse_result([{"metric": {"a": "b"}, "value": [1, "NaN"]}])[0].labels == {"a": "b"}
    assert parse_result({"resultType": "scalar", "result": [1, "2"]}) == [Sample({}, 2.0)]
    assert parse_result([1.0, "+Inf"])[0].value == float("inf")
    with pytest.raises(PrometheusError) as err:
        parse_result({"resultType": "matrix", "result": []})
    assert err.value.reason == "BadResponse"


def test_jitter_within_tolerance_is_not_a_change():
    fields = ("sli", "burnRates", "state")
    old = {"sli": 99.95, "burnRates": {"5m": 0.5}, "state": "Healthy"}
    assert changed_fields({"sli": 99.9502, "burnRates": {"5m": 0.505}, "state": "Healthy"}, old, fields) == []
    assert changed_fields({"sli": 99.949, "burnRates": {"5m": 0.5}, "state": "Healthy"}, old, fields) == ["sli"]
    assert changed_fields({"sli": 99.95, "burnRates": {"5m": 0.52}, "state": "Warning"}, old, fields) == [
        "burnRates",
        "state",
    ]
    assert changed_fields({"sli": 99.95, "burnRates": {"5m": 0.5, "1h": 0.5}, "state": "Healthy"}, old, fields) == [
        "burnRates"
    ]
    assert changed_fields({"burnRates": {"5m": 0.5}, "state": "Healthy"}, old, fields) == ["sli"]
