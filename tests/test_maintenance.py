"""MaintenanceWindow: the model, its occurrences in time (one-off, cron in a time zone across daylight saving),
which SLOs it covers, what the generated rules carry, and the statuses (SLO InMaintenance, the window's own)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from okr_operator.api import MaintenanceWindow
from okr_operator.api.identity import entry_from_body
from okr_operator.api.loader import validate_document
from okr_operator.evaluation.maintenance_status import maintenance_window_status
from okr_operator.evaluation.slo_status import maintenance_condition
from okr_operator.generate import RenderOptions, objects_for_slo
from okr_operator.maintenance import active_interval, applicable, intervals, next_start, occurrences, rule_intervals
from okr_operator.slo.maintenance_rules import in_window
from okr_operator.slo.rules import slo_rule_groups
from tests.helpers import slo


def mw(name: str = "db", **spec: Any) -> MaintenanceWindow:
    body = {"slos": {"names": ["checkout-availability"]}, "duration": "2h", "reason": "database upgrade", **spec}
    if "start" not in body and "schedule" not in body:
        body["start"] = "2026-11-20T02:00:00Z"
    return MaintenanceWindow.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "MaintenanceWindow",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": body,
        }
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_one_off_window():
    spec = mw().spec
    assert occurrences(spec, utc(2026, 11, 19), utc(2026, 11, 21)) == [(utc(2026, 11, 20, 2), utc(2026, 11, 20, 4))]
    assert occurrences(spec, utc(2026, 11, 20, 4), utc(2026, 11, 21)) == []  # end is exclusive
    assert active_interval(spec, utc(2026, 11, 20, 3)) == (utc(2026, 11, 20, 2), utc(2026, 11, 20, 4))
    assert active_interval(spec, utc(2026, 11, 20, 4)) is None
    assert next_start(spec, utc(2026, 11, 19)) == utc(2026, 11, 20, 2)
    assert next_start(spec, utc(2026, 11, 20, 3)) is None


def test_cron_in_a_time_zone_follows_daylight_saving():
    # Saturdays 02:00 in Berlin: 01:00 UTC in winter, 00:00 UTC in summer (DST began 2026-03-29).
    spec = mw(schedule="0 2 * * 6", timeZone="Europe/Berlin").spec
    got = occurrences(spec, utc(2026, 3, 20), utc(2026, 4, 5))
    assert got == [
        (utc(2026, 3, 21, 1), utc(2026, 3, 21, 3)),
        (utc(2026, 3, 28, 1), utc(2026, 3, 28, 3)),
        (utc(2026, 4, 4, 0), utc(2026, 4, 4, 2)),
    ]
    assert next_start(spec, utc(2026, 3, 28, 1, 30)) == utc(2026, 4, 4, 0)
    assert active_interval(spec, utc(2026, 3, 28, 1, 30)) == (utc(2026, 3, 28, 1), utc(2026, 3, 28, 3))


def test_a_window_that_started_before_the_range_still_counts():
    spec = mw(schedule="0 23 * * *").spec  # daily 23:00 UTC for 2h
    assert occurrences(spec, utc(2026, 11, 20, 0, 30), utc(2026, 11, 20, 1)) == [
        (utc(2026, 11, 19, 23), utc(2026, 11, 20, 1))
    ]


def test_rule_intervals_are_the_same_all_day():
    windows = [mw(schedule="0 2 * * *")]
    morning, evening = rule_intervals(windows, utc(2026, 11, 20, 0, 1)), rule_intervals(windows, utc(2026, 11, 20, 23))
    assert morning == evening
    assert [i.start for i in morning] == [utc(2026, 11, 20, 2), utc(2026, 11, 21, 2), utc(2026, 11, 22, 2)]
    assert rule_intervals(windows, utc(2026, 11, 21, 0, 1))[0].start == utc(2026, 11, 21, 2)


def test_which_slos_a_window_covers():
    by_name, by_label = mw(), mw("team", slos={"selector": {"matchLabels": {"team": "checkout"}}})
    assert applicable([by_name, by_label], "shop", "checkout-availability", None) == [by_name]
    assert applicable([by_name, by_label], "shop", "checkout-latency", {"team": "checkout"}) == [by_label]
    assert applicable([by_name, by_label], "other", "checkout-availability", {"team": "checkout"}) == []


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"schedule": "0 2 * *"}, "spec.schedule", "use 5 cron fields"),
        ({"schedule": "0 25 * * *"}, "spec.schedule", "not a 5-field cron expression"),
        ({"schedule": "0 2 * * 6", "timeZone": "Mars/Olympus"}, "spec.timeZone", "unknown time zone"),
        ({"schedule": "0 2 * * 6", "start": "2026-11-20T02:00:00Z"}, "spec", "exactly one of start or schedule"),
        ({"slos": {"names": ["a"], "selector": {"matchLabels": {"a": "b"}}}}, "spec.slos", "exactly one of names"),
        ({"reason": ""}, "spec.reason", "at least 1 character"),
    ],
)
def test_invalid_windows_say_which_field(spec, field, message):
    body = mw().to_wire()
    body["spec"].update(spec)
    if "schedule" in spec and "start" not in spec:
        del body["spec"]["start"]
    problems = validate_document("mw.yaml", 0, body).problems
    assert problems and problems[0].field.startswith(field), problems
    assert message in problems[0].message or message in str(problems)
    with pytest.raises(ValidationError):
        MaintenanceWindow.model_validate(body)


def test_rules_quiet_alerts_and_exclude_records_only_as_asked():
    day = utc(1970, 1, 1)
    quiet = slo_rule_groups(slo(), rule_intervals([mw(start="1970-01-01T01:00:00Z", duration="1h")], day))
    rules = {r.get("record") or f"{r['alert']}/{r['labels']['severity']}": r["expr"] for r in quiet[0]["rules"]}
    assert rules["slo:sli_errors:rate5m"] == slo_rule_groups(slo())[0]["rules"][0]["expr"]
    for name in ("SLOErrorBudgetBurn/page", "SLOErrorBudgetBurn/ticket", "SLOMetricsAbsent/ticket"):
        assert rules[name].endswith("unless on ()\n((vector(time()) >= 3600 < 7200))"), name
    excluded = slo_rule_groups(
        slo(),
        rule_intervals(
            [mw(start="1970-01-01T01:00:00Z", duration="1h", suppressAlerts=False, excludeFromBudget=True)], day
        ),
    )
    rules = {r.get("record") or f"{r['alert']}/{r['labels']['severity']}": r["expr"] for r in excluded[0]["rules"]}
    assert rules["slo:sli_total:rate5m"].endswith("unless on ()\n((vector(time()) >= 3600 < 7500))")  # +5m
    assert "unless" not in rules["SLOErrorBudgetBurn/page"]
    assert rules["SLOMetricsAbsent/ticket"].endswith("((vector(time()) >= 3600 < 7500))")


def test_overlapping_intervals_merge_in_rules():
    windows = [mw("a", start="1970-01-01T01:00:00Z"), mw("b", start="1970-01-01T02:00:00Z")]
    assert in_window(intervals(windows, utc(1970, 1, 1), utc(1970, 1, 2))) == "(vector(time()) >= 3600 < 14400)"


def test_gate_reads_the_records_when_a_window_excludes_events():
    gated = slo(gate={"enabled": True})
    options = RenderOptions()
    plain = objects_for_slo(gated, options)[1]["spec"]["metrics"][1]["provider"]["prometheus"]["query"]
    window = mw(excludeFromBudget=True)
    excluding = objects_for_slo(gated, options, [window], utc(2026, 11, 20))[1]
    query = excluding["spec"]["metrics"][1]["provider"]["prometheus"]["query"]
    assert "http_requests_total" in plain and "slo:sli_errors:rate5m" not in plain
    # the remaining budget from the recordings (which leave the window's events out), not the raw series
    assert query.startswith("1 - sum(") and "slo:sli_errors:rate5m{" in query and "http_requests_total" not in query
    with pytest.raises(ValueError, match="give the time"):
        objects_for_slo(gated, options, [window])


def test_slo_in_maintenance_condition_says_until_when_and_why():
    found = intervals([mw(schedule="0 2 * * *", excludeFromBudget=True)], utc(2026, 11, 19), utc(2026, 11, 27))
    on = maintenance_condition(found, utc(2026, 11, 20, 3))
    assert on == {
        "type": "InMaintenance",
        "status": "True",
        "reason": "MaintenanceWindow",
        "message": "MaintenanceWindow db until 2026-11-20T04:00:00Z: database upgrade (alerts quiet, events left out "
        "of the budget)",
    }
    off = maintenance_condition(found, utc(2026, 11, 20, 5))
    assert (off["status"], off["message"]) == ("False", "next: MaintenanceWindow db at 2026-11-21T02:00:00Z")
    assert maintenance_condition([], utc(2026, 11, 20)) is None


def test_window_status_for_kubectl_get_mw():
    window = mw(schedule="0 2 * * *").to_wire()
    window["metadata"]["generation"] = 3
    e = entry_from_body(window)
    slos = [entry_from_body(slo().to_wire()), entry_from_body(slo("checkout-latency").to_wire())]
    status = maintenance_window_status(e, slos, utc(2026, 11, 20, 3))
    picked = {k: status[k] for k in ("active", "activeUntil", "nextStart", "slos", "observedGeneration")}
    assert picked == {
        "active": True,
        "activeUntil": "2026-11-20T04:00:00Z",
        "nextStart": "2026-11-21T02:00:00Z",
        "slos": ["checkout-availability"],
        "observedGeneration": 3,
    }
    later = maintenance_window_status(e, slos, utc(2026, 11, 20, 5) + timedelta(minutes=1))
    assert later["active"] is False and "activeUntil" not in later
