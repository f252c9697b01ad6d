"""The period review's model and its Markdown, from the samples' statuses: exact figures, final grades,
trends, SLO figures per month, period choice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from okr_operator.okr.period import PeriodError, parse_period
from okr_operator.report import build_report, month_ends, report_period
from okr_operator.report.markdown import render_markdown
from tests.report_data import of_kind, sample_objects

NOW = datetime(2026, 11, 16, tzinfo=UTC)  # 46 of the 92 days of 2026-Q4
Q4 = parse_period("2026-Q4")


def report(objects, now=NOW, period=Q4, **kw):
    return build_report(
        of_kind(objects, "Objective"),
        of_kind(objects, "KeyResult"),
        of_kind(objects, "ServiceLevelObjective"),
        now=now,
        period=period,
        source="test",
        **kw,
    )


def test_months_of_a_period_up_to_now():
    months = month_ends(Q4, NOW)
    assert [(m.label, m.at, m.complete) for m in months] == [
        ("2026-10", datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC), True),  # its last second
        ("2026-11", NOW, False),
    ]
    after = month_ends(Q4, datetime(2027, 2, 1, tzinfo=UTC))
    assert [(m.label, m.at.isoformat()) for m in after] == [
        ("2026-10", "2026-10-31T23:59:59+00:00"),
        ("2026-11", "2026-11-30T23:59:59+00:00"),
        ("2026-12", "2026-12-31T23:59:59+00:00"),
    ]
    odd = month_ends(parse_period("2026-10-05/2026-11-20"), datetime(2026, 12, 1, tzinfo=UTC))
    assert [(m.label, m.start.day, m.at.isoformat()) for m in odd] == [
        ("2026-10", 5, "2026-10-31T23:59:59+00:00"),
        ("2026-11", 1, "2026-11-20T23:59:59+00:00"),  # the period ends inside the month: its last second
    ]


def test_objectives_in_alignment_order_with_their_figures_and_owners():
    r = report(sample_objects())
    assert [(o.name, o.depth, o.parent, o.owner, o.progress, o.score, o.state, o.grade) for o in r.objectives] == [
        ("platform-excellence", 0, "", "platform-team", 0.963, 0.96, "OnTrack", "current"),
        ("checkout-reliability", 1, "shop/platform-excellence", "team-checkout", 0.8889, 0.89, "OnTrack", "current"),
        ("checkout-speed", 1, "shop/platform-excellence", "team-checkout", 1, 1, "Achieved", "current"),
    ]
    assert (r.period, r.elapsed, r.ended) == ("2026-Q4", 0.5, False)


def test_key_results_with_the_last_check_in_and_its_trend():
    rows = {kr.name: kr for o in report(sample_objects()).objectives for kr in o.key_results}
    mttr = rows["checkout-mttr"]
    assert (mttr.current, mttr.target, mttr.progress, mttr.confidence, mttr.owner) == (42, 40.5, 0.6667, 0.8,
                                                                                       "team-checkout")  # fmt: skip
    assert (mttr.last_check_in.day, mttr.last_check_in.value, mttr.last_check_in.note) == (
        "2026-11-12",
        42,
        "One-click rollback shipped",
    )
    assert (mttr.previous.value, mttr.trend) == (43.5, "improving")  # progress 0.3333 -> 0.6667: MTTR falls
    coverage = rows["sli-coverage"]
    assert (coverage.last_check_in, coverage.last.value, coverage.previous.value, coverage.trend) == (
        None,
        100,
        96,
        "improving",
    )
    assert rows["checkout-p95-latency"].trend == ""  # no history: no trend
    # the chart is the web view's trend: check-ins at their share of the period, then the progress now
    assert [(round(x, 4), round(y, 4)) for x, y in mttr.chart.points] == [
        (0.0, 0.0),
        (0.2283, 0.3333),
        (0.4565, 0.6667),
        (0.5, 0.6667),
    ]


def test_a_falling_check_in_is_worsening_and_an_equal_one_flat():
    objects = sample_objects()
    kr = next(o for o in objects if o["metadata"]["name"] == "checkout-mttr")
    kr["spec"]["source"]["manual"]["checkIns"].append({"date": "2026-11-14", "value": 44})
    assert report(objects).objectives[1].key_results[1].trend == "worsening"
    kr["spec"]["source"]["manual"]["checkIns"].append({"date": "2026-11-15", "value": 44})
    assert report(objects).objectives[1].key_results[1].trend == "flat"
    kr["spec"]["source"]["manual"]["checkIns"].append({"date": "2026-11-20", "value": 30})  # after the report time
    assert report(objects).objectives[1].key_results[1].last_check_in.day == "2026-11-15"


FINAL = {
    "platform-excellence": {"progress": 0.9, "score": 0.9, "state": "Missed", "gradedAt": "2027-01-01T00:00:30Z"},
    "checkout-mttr": {"value": 41, "progress": 0.8889, "score": 0.89, "state": "Missed", "confidence": 0.9},
}


def test_after_the_period_the_final_grade_is_shown_and_missing_grades_are_said():
    objects = sample_objects()
    for obj in objects:
        if obj["metadata"]["name"] in FINAL:
            obj["status"]["final"] = FINAL[obj["metadata"]["name"]]
    r = report(objects, now=datetime(2027, 1, 5, tzinfo=UTC))
    top, reliability = r.objectives[0], r.objectives[1]
    assert (top.progress, top.score, top.state, top.grade, top.graded_at, top.expected) == (
        0.9,
        0.9,
        "Missed",
        "final",
        "2027-01-01T00:00:30Z",
        None,
    )
    assert (reliability.grade, reliability.progress) == ("not graded", 0.8889)  # the latest status
    mttr = reliability.key_results[1]
    assert (mttr.final, mttr.current, mttr.progress, mttr.score, mttr.state, mttr.confidence) == (
        True,
        41,
        0.8889,
        0.89,
        "Missed",
        0.9,
    )
    assert r.ended and any("no final grade in status.final" in n for n in r.notes)
    md = render_markdown(r)
    assert "| platform-excellence | platform-team | 90% | 0.90 | Missed | final grade (graded 2027-01-01) |" in md
    assert "| ↳ checkout-reliability | team-checkout | 89% | 0.89 | OnTrack | period over, not graded yet" in md
    assert "| checkout-mttr (final) | team-checkout | 41 minutes / 40.5 minutes | 89% | 0.89 | Missed | 90% |" in md


def test_a_final_grade_is_not_shown_while_the_period_runs():
    objects = sample_objects()
    objects[4]["status"]["final"] = FINAL["platform-excellence"]  # e.g. an old grade; the period runs again
    assert objects[4]["metadata"]["name"] == "platform-excellence"
    assert report(objects).objectives[0].grade == "current"


def test_slo_figures_per_month_measured_or_from_status():
    objects = sample_objects()
    live = report(objects)
    availability = live.slos[0]
    assert [(m.month, m.sli, m.remaining) for m in availability.months] == [("2026-10", None, None),
                                                                            ("2026-11", 99.96, 0.6)]  # fmt: skip
    measured = {
        ("shop", "checkout-availability"): {
            "2026-10": {"sli": 99.92, "errorBudget": {"remaining": 0.2, "consumed": 0.8}, "state": "Warning"},
            "2026-11": {"sli": 99.96, "errorBudget": {"remaining": 0.6, "consumed": 0.4}, "state": "Healthy"},
        },
        ("shop", "checkout-latency"): {"2026-11": {"sli": 98.5, "errorBudget": {"remaining": -0.5}}},
    }
    r = report(objects, slo_months=measured)
    rows = {s.name: s for s in r.slos}
    assert [(m.month, m.at, m.sli, m.remaining, m.consumed, m.state) for m in rows["checkout-availability"].months] == [
        ("2026-10", datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC), 99.92, 0.2, 0.8, "Warning"),
        ("2026-11", NOW, 99.96, 0.6, 0.4, "Healthy"),
    ]
    md = render_markdown(r)
    assert "| SLO | Service | Target | 2026-10 | 2026-11 (to date) |" in md
    assert "| shop/checkout-availability | checkout | 99.9% over 28d | 99.920%, 20% left | 99.960%, 60% left |" in md
    assert "| shop/checkout-latency | checkout | 99% over 28d | n/a | 98.500%, overspent by 50% |" in md


def test_the_markdown_of_the_samples():
    md = render_markdown(report(sample_objects()))
    lines = md.splitlines()
    assert lines[0] == "# OKR review: 2026-Q4"
    assert lines[2] == "As of 2026-11-16 00:00 UTC; 2026-Q4 (2026-10-01 to 2026-12-31), 50% elapsed. Figures: test."
    assert "| ↳ checkout-reliability | team-checkout | 89% | 0.89 | OnTrack | in progress |" in lines
    assert (
        "| checkout-mttr | team-checkout | 42 minutes / 40.5 minutes | 67% | 0.67 | OnTrack | 80% | "
        "2026-11-12: 42 minutes (One-click rollback shipped) | improving (43.5 -> 42 since 2026-10-22) |"
    ) in lines
    assert (
        "| checkout-budget-discipline | team-checkout | 0.4 of budget / at most 0.8 of budget | 100% | 1.00 | OnTrack "
        "| n/a | n/a (slo) | n/a |"
    ) in lines
    assert "| sli-coverage | platform-team | 100% / 100% | 100% | 1.00 | Achieved | n/a | n/a (prometheus) | " \
           "improving (96 -> 100 since 2026-10-20) |" in lines  # fmt: skip
    assert (
        "owner team-checkout · aspirational · period 2026-Q4 · aligned to shop/platform-excellence · progress 100% "
        "(expected 35% by now) · score 1.00 · Achieved (in progress)"
    ) in lines
    assert "| shop/checkout-availability | checkout | 99.9% over 28d | n/a | 99.960%, 60% left |" in lines


def test_text_from_the_objects_cannot_break_a_table():
    objects = sample_objects()
    objects[4]["spec"]["owner"] = "a|b\nc"
    assert "| platform-excellence | a\\|b c | 96% |" in render_markdown(report(objects))


def test_the_period_reviewed():
    objectives = of_kind(sample_objects(), "Objective")
    assert report_period(objectives, NOW) == Q4
    yearly = [{"spec": {"period": "2026"}}, *objectives, {"spec": {"period": "2026-Q3"}}]
    assert report_period(yearly, NOW) == Q4  # the shortest running one
    assert report_period(yearly, datetime(2027, 3, 1, tzinfo=UTC)) == Q4  # the latest ended (and shortest)
    assert report_period(yearly[:1] + yearly[-1:], datetime(2027, 3, 1, tzinfo=UTC)) == parse_period("2026")
    assert report_period(yearly, NOW, "2026-Q3") == parse_period("2026-Q3")
    with pytest.raises(PeriodError):
        report_period(yearly, NOW, "2026-Q5")
    r = report(sample_objects(), period=parse_period("2026-Q3"))
    assert r.objectives == [] and r.notes == ["3 objective(s) of other periods are not shown (--period)."]
    assert [m.month for m in r.slos[0].months] == ["2026-07", "2026-08", "2026-09"]


def test_json_output_is_the_model_for_programs():
    import json

    from okr_operator.cli.report import render

    data = json.loads(render(report(sample_objects()), "json"))
    assert data["period"] == "2026-Q4" and data["now"] == "2026-11-16T00:00:00Z"
    mttr = data["objectives"][1]["key_results"][1]
    assert (mttr["name"], mttr["progress"], mttr["trend"], mttr["last_check_in"]["value"]) == (
        "checkout-mttr",
        0.6667,
        "improving",
        42,
    )
    assert data["slos"][0]["months"][1] == {
        "month": "2026-11",
        "at": "2026-11-15T23:59:00Z",
        "complete": False,
        "sli": 99.96,
        "remaining": 0.6,
        "consumed": 0.4,
        "state": "Healthy",
    }


def test_check_ins_due_and_children_that_do_not_count_are_said():
    objects = sample_objects()
    mttr = next(o for o in objects if o["metadata"]["name"] == "checkout-mttr")
    mttr["status"]["checkInDue"] = "2026-11-26T00:00:00Z"
    top = next(o for o in objects if o["metadata"]["name"] == "platform-excellence")
    top["status"]["children"] = [
        {"name": "checkout-reliability", "namespace": "shop", "counted": True, "weight": 1},
        {"name": "search-speed", "namespace": "search", "counted": False, "reason": "NamespaceNotAllowed"},
    ]
    md = render_markdown(report(objects))
    assert "2026-11-12: 42 minutes (One-click rollback shipped); next due 2026-11-26 |" in md
    assert (
        "owner platform-team · committed · period 2026-Q4 · not counted: search/search-speed (NamespaceNotAllowed)"
        in md
    )
    late = render_markdown(report(objects, now=datetime(2026, 11, 30, tzinfo=UTC)))
    assert "(One-click rollback shipped); overdue since 2026-11-26 |" in late


@pytest.mark.parametrize("command", ["okrctl", "kubectl"])
def test_a_bad_period_is_one_line_and_exit_1_before_any_request(command):
    from click.testing import CliRunner

    from okr_operator.cli import kubectl_okr, main

    if command == "okrctl":
        samples = str(Path(__file__).resolve().parent.parent / "config" / "samples")
        args = ["report", "-f", samples, "--prometheus", "http://127.0.0.1:1", "--period", "2026-Q5"]
        result = CliRunner().invoke(main.cli, args)
    else:
        result = CliRunner().invoke(kubectl_okr.cli, ["report", "--period", "2026-Q5", "--kubeconfig", "/nonexistent"])
    assert result.exit_code == 1
    assert result.stderr.startswith('error: --period: period "2026-Q5": quarter must be 1-4;'), result.stderr
    assert result.stderr.count("\n") == 1


def test_names_carry_their_namespace_when_the_report_covers_several():
    objects = sample_objects("shop") + [o for o in sample_objects("search") if o["kind"] == "Objective"]
    md = render_markdown(report(objects))
    assert "| search/platform-excellence | platform-team |" in md and "| shop/platform-excellence |" in md
    assert "### shop/checkout-reliability: Checkout is reliable" in md
    assert "| platform-excellence |" in render_markdown(report(sample_objects("shop")))
