"""The report as Markdown: a summary table of the objectives, a section per objective with its key results,
and the SLOs per month. Text taken from the objects is escaped for table cells."""

from __future__ import annotations

from collections.abc import Sequence

from ..tree import fmt_number
from ..webview.svg import pct
from . import text
from .model import ObjectiveRow, Report
from .slos import SLORow


def _cell(value: object) -> str:
    return " ".join(str(value).split()).replace("\\", "\\\\").replace("|", "\\|")


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _name(report: Report, row: ObjectiveRow) -> str:
    return ("  " * row.depth) + ("↳ " if row.depth else "") + text.objective_name(report, row)


def _summary(report: Report) -> list[str]:
    rows = [
        (
            _name(report, o),
            o.owner or "n/a",
            pct(o.progress),
            text.score(o.score),
            o.state or "not evaluated",
            text.grade(o),
        )
        for o in report.objectives
    ]
    return _table(("Objective", "Owner", "Progress", "Score", "State", "Grade"), rows)


def _objective(report: Report, row: ObjectiveRow) -> list[str]:
    lines = [f"### {text.objective_name(report, row)}: {_cell(row.title)}", ""]
    facts = [f"owner {row.owner or 'n/a'}", row.type, f"period {row.period}"]
    if row.parent:
        facts.append(f"aligned to {row.parent}")
    if row.not_counted:
        facts.append("not counted: " + ", ".join(row.not_counted))
    figures = f"progress {pct(row.progress)}"
    if row.expected is not None:
        figures += f" (expected {pct(row.expected)} by now)"
    facts += [figures, f"score {text.score(row.score)}", f"{row.state or 'not evaluated'} ({text.grade(row)})"]
    lines += [" · ".join(_cell(f) for f in facts), ""]
    if row.problem:
        lines += [f"> Problem: {_cell(row.problem)}", ""]
    if not row.key_results:
        return [*lines, "No key results of its own.", ""]
    head = text.KEY_RESULT_COLUMNS
    rows = [
        (
            kr.name + (" (final)" if kr.final else ""),
            kr.owner or "n/a",
            f"{text.current(kr)} / {text.goal(kr)}",
            pct(kr.progress),
            text.score(kr.score),
            kr.state or "not evaluated",
            text.confidence(kr.confidence),
            text.check_in(kr),
            text.trend(kr),
        )
        for kr in row.key_results
    ]
    return [*lines, *_table(head, rows), ""]


def _slos(report: Report) -> list[str]:
    if not report.slos:
        return ["No service level objectives.", ""]
    months = [m.month + ("" if m.complete else " (to date)") for m in (report.slos[0].months or [])]
    rows = []
    for slo in report.slos:
        cells = [f"{text.sli(m)}, {text.budget(m)}" if m.at else "n/a" for m in slo.months]
        rows.append((f"{slo.namespace}/{slo.name}", slo.service, _target(slo), *cells))
    table = _table(("SLO", "Service", "Target", *months), rows)
    return [*table, "", f"Per month: SLI and error budget, {report.slo_source}.", ""]


def _target(slo: SLORow) -> str:
    return f"{fmt_number(slo.target)}% over {slo.window}" if slo.target is not None else "n/a"


def render_markdown(report: Report) -> str:
    lines = [
        f"# {report.title}: {report.period or 'all objectives'}",
        "",
        f"As of {text.stamp(report)}; {text.heading(report)}. Figures: {report.source}.",
        "",
        *(f"> {_cell(n)}" for n in report.notes),
        *([""] if report.notes else []),
        "## Objectives",
        "",
        *(_summary(report) if report.objectives else ["No objectives in this period."]),
        "",
    ]
    for row in report.objectives:
        lines += _objective(report, row)
    lines += ["## Service level objectives", "", *_slos(report)]
    return "\n".join(lines).rstrip("\n") + "\n"
