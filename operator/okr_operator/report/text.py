"""Words and numbers shared by the Markdown and HTML renderings of the report."""

from __future__ import annotations

from datetime import timedelta

from ..tree import fmt_number
from ..webview.svg import pct
from .model import KeyResultRow, ObjectiveRow, Report
from .slos import SLOMonth

KEY_RESULT_COLUMNS = (
    "Key result", "Owner", "Current / target", "Progress", "Score", "State", "Confidence", "Last check-in", "Trend"
)  # fmt: skip


def objective_name(report: Report, row: ObjectiveRow) -> str:
    """``name``, or ``namespace/name`` when the report covers several namespaces."""
    return f"{row.namespace}/{row.name}" if len(report.namespaces) > 1 else row.name


def unit_text(unit: str) -> str:
    return "" if not unit else unit if unit == "%" else f" {unit}"


def goal(kr: KeyResultRow) -> str:
    """What the key result aims at: ``40.5 minutes``, ``at most 0.8 of budget``, ``done``."""
    unit = unit_text(kr.unit)
    if kr.direction == "maintain":
        if kr.minimum is not None and kr.maximum is not None:
            return f"within {fmt_number(kr.minimum)} to {fmt_number(kr.maximum)}{unit}"
        if kr.maximum is not None:
            return f"at most {fmt_number(kr.maximum)}{unit}"
        return f"at least {fmt_number(kr.minimum)}{unit}"
    if kr.direction == "boolean":
        return "done"
    return f"{fmt_number(kr.target)}{unit}" if kr.target is not None else "n/a"


def current(kr: KeyResultRow) -> str:
    if kr.current is None:
        return "no value"
    if kr.direction == "boolean":
        return "done" if kr.current >= 1 else "not done"
    return f"{fmt_number(kr.current)}{unit_text(kr.unit)}"


def score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def confidence(value: float | None) -> str:
    return "n/a" if value is None else pct(value)


def check_in(kr: KeyResultRow) -> str:
    """``2026-11-12: 42 minutes (note)``, and when the next one is due (``spec.checkInEvery``)."""
    last = kr.last_check_in
    if last is None:
        text = "n/a" if kr.source == "manual" else f"n/a ({kr.source})"
    else:
        text = f"{last.day}: {fmt_number(last.value)}{unit_text(kr.unit)}" + (f" ({last.note})" if last.note else "")
    if kr.check_in_due is not None:
        text += f"; {'overdue since' if kr.overdue else 'next due'} {kr.check_in_due.date().isoformat()}"
    return text


def trend(kr: KeyResultRow) -> str:
    """``improving (43.5 -> 42 since 2026-10-22)``: the change from the measurement before the last."""
    if not kr.trend or kr.previous is None or kr.last is None:
        return "n/a"
    return f"{kr.trend} ({fmt_number(kr.previous.value)} -> {fmt_number(kr.last.value)} since {kr.previous.day})"


def grade(row: ObjectiveRow) -> str:
    if row.grade == "final":
        return "final grade" + (f" (graded {row.graded_at[:10]})" if row.graded_at else "")
    if row.grade == "not graded":
        return "period over, not graded yet: latest status"
    return "in progress"


def sli(month: SLOMonth) -> str:
    return "n/a" if month.sli is None else f"{month.sli:.3f}%"


def budget(month: SLOMonth) -> str:
    if month.remaining is None:
        return "n/a"
    if month.remaining < 0:
        return f"overspent by {pct(-month.remaining)}"
    return f"{pct(month.remaining)} left"


def heading(report: Report) -> str:
    """``2026-Q4 (2026-10-01 to 2026-12-31), 66% elapsed`` or ``... ended``."""
    if not report.period or report.start is None or report.end is None:
        return "no period"
    last_day = (report.end - timedelta(microseconds=1)).date().isoformat()
    span = f"{report.period} ({report.start.date().isoformat()} to {last_day})"
    if report.ended:
        return f"{span}, ended"
    return f"{span}, {pct(report.elapsed)} elapsed"


def stamp(report: Report) -> str:
    return report.now.strftime("%Y-%m-%d %H:%M UTC")
