"""The report as one HTML page: tables, progress bars and key-result trend charts as inline SVG drawn on
the server (the web view's pictures, :mod:`okr_operator.webview.svg`), no JavaScript. Everything taken
from the objects is escaped. Elements carry ``data-kind``/``data-name`` and their figures for tests."""

from __future__ import annotations

from html import escape

from ..webview.render import state_badge
from ..webview.style import CSS
from ..webview.svg import budget_bar, pct, progress_bar, sparkline
from . import text
from .model import KeyResultRow, ObjectiveRow, Report
from .slos import SLORow

REPORT_CSS = """
table.review{border-collapse:collapse;margin:.5em 0 1.5em;width:100%;font-size:.9rem}
table.review th[scope=row] .title{display:block}table.review th[scope=row] .name{margin-left:0}
table.review th,table.review td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:middle}
section.objective{margin:1.5em 0;padding-left:calc(var(--depth,0)*1.5em)}
section.objective h3{margin:.2em 0}
.facts{color:#444}
.grade-final{font-weight:bold}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4em .8em}
@media print{header nav{display:none}}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num_attr(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _grade_cell(row: ObjectiveRow) -> str:
    return f'<td class="grade-{_e(row.grade.replace(" ", "-"))}">{_e(text.grade(row))}</td>'


def _summary(report: Report) -> str:
    rows = "".join(
        f'<tr data-kind="ObjectiveSummary" data-name="{_e(o.name)}">'
        f'<th scope="row" style="padding-left:{0.5 + 1.5 * o.depth}em">{_e(text.objective_name(report, o))}</th>'
        f"<td>{_e(o.owner or 'n/a')}</td>"
        f"<td>{progress_bar(o.progress, o.expected)} {pct(o.progress)}</td><td>{text.score(o.score)}</td>"
        f"<td>{state_badge(o.state)}</td>{_grade_cell(o)}</tr>"
        for o in report.objectives
    )
    head = "".join(f'<th scope="col">{h}</th>' for h in ("Objective", "Owner", "Progress", "Score", "State", "Grade"))
    return f'<table class="review summary"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _key_result(kr: KeyResultRow) -> str:
    chart = sparkline(kr.chart.points, kr.chart.pace, kr.chart.now, kr.chart.period) if kr.chart else ""
    return (
        f'<tr data-kind="KeyResult" data-name="{_e(kr.name)}" data-namespace="{_e(kr.namespace)}" '
        f'data-progress="{_num_attr(kr.progress)}" data-score="{_num_attr(kr.score)}" data-state="{_e(kr.state or "")}"'
        f' data-final="{str(kr.final).lower()}">'
        f'<th scope="row"><span class="title">{_e(kr.description or kr.name)}</span>'
        f'<span class="name">{_e(kr.name)}{" · final" if kr.final else ""}</span></th>'
        f"<td>{_e(kr.owner or 'n/a')}</td>"
        f'<td class="value">{_e(text.current(kr))} / {_e(text.goal(kr))}</td>'
        f"<td>{progress_bar(kr.progress)} {pct(kr.progress)}</td><td>{text.score(kr.score)}</td>"
        f"<td>{state_badge(kr.state)}</td><td>{_e(text.confidence(kr.confidence))}</td>"
        f'<td class="check-in">{_e(text.check_in(kr))}</td>'
        f'<td class="trend">{chart}<span class="trend-word">{_e(text.trend(kr))}</span></td></tr>'
    )


def _objective(row: ObjectiveRow) -> str:
    facts = [f"owner {row.owner or 'n/a'}", row.type, f"period {row.period}"]
    if row.parent:
        facts.append(f"aligned to {row.parent}")
    if row.not_counted:
        facts.append("not counted: " + ", ".join(row.not_counted))
    head = "".join(f'<th scope="col">{h}</th>' for h in text.KEY_RESULT_COLUMNS)
    krs = "".join(_key_result(kr) for kr in row.key_results)
    table = (
        f'<table class="review key-results"><thead><tr>{head}</tr></thead><tbody>{krs}</tbody></table>'
        if krs
        else "<p>No key results of its own.</p>"
    )
    problem = f'<p class="note">Problem: {_e(row.problem)}</p>' if row.problem else ""
    return (
        f'<section class="objective" style="--depth:{row.depth}" data-kind="Objective" data-name="{_e(row.name)}" '
        f'data-namespace="{_e(row.namespace)}" data-progress="{_num_attr(row.progress)}" '
        f'data-score="{_num_attr(row.score)}" data-state="{_e(row.state or "")}" data-grade="{_e(row.grade)}">'
        f'<h3>{_e(row.title or row.name)} <span class="name">{_e(row.namespace)}/{_e(row.name)}</span></h3>'
        f'<p class="facts">{_e(" · ".join(facts))}</p>'
        f'<p class="figures">{progress_bar(row.progress, row.expected)} <span class="progress">{pct(row.progress)}'
        f'</span> <span class="score">score {text.score(row.score)}</span> {state_badge(row.state)} '
        f'<span class="grade-{_e(row.grade.replace(" ", "-"))}">{_e(text.grade(row))}</span></p>'
        f"{problem}{table}</section>"
    )


def _slo(slo: SLORow) -> str:
    cells = "".join(
        f'<td data-month="{_e(m.month)}" data-sli="{_num_attr(m.sli)}" data-remaining="{_num_attr(m.remaining)}">'
        + (f"{_e(text.sli(m))}<br>{budget_bar(m.remaining)} {_e(text.budget(m))}" if m.at else "n/a")
        + "</td>"
        for m in slo.months
    )
    target = f"{slo.target:g}% over {slo.window}" if slo.target is not None else "n/a"
    return (
        f'<tr data-kind="ServiceLevelObjective" data-name="{_e(slo.name)}" data-namespace="{_e(slo.namespace)}">'
        f'<th scope="row"><span class="title">{_e(slo.description or slo.name)}</span>'
        f'<span class="name">{_e(slo.namespace)}/{_e(slo.name)} · {_e(slo.service)}</span></th>'
        f"<td>{_e(target)}</td>{cells}</tr>"
    )


def _slos(report: Report) -> str:
    if not report.slos:
        return "<p>No service level objectives.</p>"
    months = report.slos[0].months
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("SLO", "Target", *(_e(m.month + ("" if m.complete else " (to date)")) for m in months))
    )
    rows = "".join(_slo(s) for s in report.slos)
    return (
        f'<table class="review slos"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        f'<p class="muted">Per month: SLI and error budget, {_e(report.slo_source)}.</p>'
    )


def render_html(report: Report) -> str:
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in report.notes)
    objectives = "".join(_objective(o) for o in report.objectives)
    title = f"{report.title}: {report.period or 'all objectives'}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}{REPORT_CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="muted">As of <time datetime="{_e(report.now.isoformat())}">{_e(text.stamp(report))}</time>; '
        f"{_e(text.heading(report))}. Figures: {_e(report.source)}.</p>{notes}</header><main>"
        '<section aria-labelledby="h-summary"><h2 id="h-summary">Objectives</h2>'
        + (_summary(report) if report.objectives else "<p>No objectives in this period.</p>")
        + '<p class="legend muted">Bars: progress; the tick is the progress expected by now. Trend charts: '
        "progress over the period (solid) against the expected pace (dashed); the vertical line is the report "
        "time.</p></section>"
        f'<section aria-labelledby="h-detail"><h2 id="h-detail">Objectives and key results</h2>{objectives}</section>'
        f'<section aria-labelledby="h-slos"><h2 id="h-slos">Service level objectives</h2>{_slos(report)}</section>'
        "</main></body></html>"
    )
