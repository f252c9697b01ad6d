"""The time-to-detect benchmark: its workbook figures, its input series and its goal rows."""

from __future__ import annotations

import pytest

from bench import detect, report


def test_workbook_times_are_the_issues():
    assert {c.name: round(detect.workbook_minutes(c), 3) for c in detect.CASES if not c.silent} == {
        "100%": 0.864,
        "10%": 8.64,
        "2%": 43.2,
        "3.5x": 144.0,  # 3d/6h above 1x with 6 h of history: 0.0035 t = 0.001 (360 + t)
    }
    assert detect.workbook_minutes(next(c for c in detect.CASES if c.silent)) is None


def test_input_series_are_clean_then_burn_at_15s():
    series = {s["series"]: s["values"] for s in detect.input_series()}
    errors = series['http_requests_total{service="det-10pct",pod="det-10pct-0",code="500"}']
    ok = series['http_requests_total{service="det-10pct",pod="det-10pct-0",code="200"}']
    # 1440 scrapes of 6 h, the onset sample at 21 600 s, then 10% of 150 requests per scrape.
    assert errors == "0+0.0x1440 15.0+15.0x239"
    assert ok == "0+150.0x1440 216135.0+135.0x239"


def rows(ours: dict[str, float | None], sloth: dict[str, float | None] | None) -> dict:
    out = []
    for case in detect.CASES:
        minutes = {report.OURS: ours.get(case.name)}
        if sloth is not None:
            minutes["sloth"] = sloth.get(case.name)
        out.append(
            {
                "case": case.name,
                "severity": case.severity,
                "silent": case.silent,
                "workbook_minutes": None if case.silent else detect.workbook_minutes(case),
                "minutes": minutes,
            }
        )
    return {"rows": out, "scenario": "s", "seconds": 1.0}


SLOTH = {"100%": 1.0, "10%": 9.0, "2%": 43.5, "3.5x": 144.0}


def test_goals_are_met_when_no_later_than_sloth_and_within_a_minute():
    goals = report.detect_goals(rows({"100%": 1.0, "10%": 9.0, "2%": 43.5, "3.5x": 144.0}, SLOTH))
    assert [g["met"] for g in goals] == [True, True, True, True]
    assert goals[0]["measured"] == "1 / 9 / 43.5 min vs 1 / 9 / 43.5 min"


@pytest.mark.parametrize(
    ("ours", "missed"),
    [
        ({"100%": 3.0, "10%": 11.0, "2%": 45.5, "3.5x": 146.5}, [0, 1, 2]),  # the lagging rules of issue 20
        ({"100%": 1.0, "10%": 7.0, "2%": 43.0, "3.5x": 144.0}, [2]),  # earlier than Sloth, but 1.6 min early
        ({"100%": 1.0, "10%": 9.0, "2%": 43.5, "3.5x": 144.0, "10x for 90 min": 61.0}, [3]),  # a false page
    ],
)
def test_goals_are_missed(ours, missed):
    goals = report.detect_goals(rows(ours, SLOTH))
    assert [i for i, g in enumerate(goals) if not g["met"]] == missed


def test_without_sloth_the_comparison_is_not_measured():
    goals = report.detect_goals(rows({"100%": 1.0, "10%": 9.0, "2%": 43.5, "3.5x": 144.0}, None))
    assert [g["met"] for g in goals] == [None, None, True, True]


def test_markdown_table():
    lines = report.detect_markdown(rows({"100%": 1.0, "10%": 9.0, "2%": 43.5, "3.5x": 144.0}, SLOTH))
    assert "| 100% | page | 0.864 | 1 | 1 |" in lines
    assert "| 10x for 90 min | no page | silent | silent | silent |" in lines
