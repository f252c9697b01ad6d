"""What the period review shows, computed from the objects as the API lists them (dicts, with status).

Per objective (in alignment order, children under their parent): progress, score and state, or the final
grade from ``status.final`` once the period is over; its owner. Per key result: current and target,
progress, state, confidence, owner, the last check-in and the trend since the one before. Per SLO: the SLI
and the error budget per month of the period (``slo_months``: measured at each month end by
``okrctl report``; otherwise what the status holds, which is the latest figure only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..bodies import as_dict, as_number, as_str, as_time, namespaced_name
from ..okr.period import Period, PeriodError, elapsed_fraction, parse_period
from ..tree import KeyResultNode, Node, build_forest
from ..webview.model import Trend, progress_of, trend
from .months import month_ends
from .slos import SLORow, slo_rows

Key = tuple[str, str]  # namespace, name
FLAT = 0.005  # a progress change below half a percent point is "flat"


def _objective_key(kr: Mapping[str, Any]) -> Key:
    return (namespaced_name(kr)[0], as_str(as_dict(as_dict(kr.get("spec")).get("objectiveRef")).get("name")))


def _period(text: Any) -> Period | None:
    try:
        return parse_period(text) if isinstance(text, str) and text else None
    except PeriodError:
        return None


# ------------------------------------------------------------------------------------ the model


@dataclass(frozen=True)
class Measurement:
    """A check-in (or, without check-ins, a point of ``status.history``)."""

    when: datetime
    value: float
    confidence: float | None = None
    note: str = ""

    @property
    def day(self) -> str:
        return self.when.date().isoformat()


@dataclass
class KeyResultRow:
    name: str
    namespace: str
    description: str
    owner: str
    direction: str
    unit: str
    current: float | None
    target: float | None
    minimum: float | None
    maximum: float | None
    progress: float | None
    score: float | None
    state: str | None
    confidence: float | None
    final: bool  # the figures are the final grade (status.final)
    last_check_in: Measurement | None  # manual key results: the latest check-in
    last: Measurement | None  # the latest measurement: check-in, or status.history point
    previous: Measurement | None  # the measurement before the last one
    trend: str  # improving, worsening, flat, or "" (fewer than two measurements)
    chart: Trend | None
    source: str  # manual, prometheus, slo
    check_in_due: datetime | None = None  # status.checkInDue (spec.checkInEvery)
    overdue: bool = False


@dataclass
class ObjectiveRow:
    name: str
    namespace: str
    title: str
    owner: str
    period: str
    type: str
    depth: int
    parent: str  # namespace/name of the objective it is shown under, or ""
    progress: float | None
    score: float | None
    expected: float | None
    state: str | None
    grade: str  # "final" (status.final), "current" (period running), "not graded" (ended, no final grade)
    graded_at: str
    problem: str
    not_counted: list[str] = field(default_factory=list)  # aligned children that do not count, with the reason
    key_results: list[KeyResultRow] = field(default_factory=list)


@dataclass
class Report:
    title: str
    period: str  # label, e.g. 2026-Q4 ("" when no objective says)
    start: datetime | None
    end: datetime | None
    now: datetime
    elapsed: float | None
    ended: bool
    source: str  # where the figures come from, in words
    slo_source: str  # where the SLO figures per month come from, in words
    objectives: list[ObjectiveRow]
    slos: list[SLORow]
    notes: list[str]

    @property
    def namespaces(self) -> list[str]:
        """The namespaces the report covers (names are shown with theirs when there are several)."""
        return sorted({o.namespace for o in self.objectives} | {s.namespace for s in self.slos})


# ------------------------------------------------------------------------------------ the period


def report_period(objectives: Iterable[Mapping[str, Any]], now: datetime, wanted: str | None = None) -> Period | None:
    """The period to review: ``wanted`` (PeriodError when it does not parse), else among the objectives'
    periods the one running at ``now``, else the latest that has ended, else the earliest to come."""
    if wanted:
        return parse_period(wanted)
    periods = {p for p in (_period(as_dict(o.get("spec")).get("period")) for o in objectives) if p is not None}
    running = sorted((p for p in periods if p.start <= now < p.end), key=lambda p: (p.end - p.start, p.start))
    if running:
        return running[0]  # the shortest running one: a quarter rather than its year
    ended = sorted((p for p in periods if p.end <= now), key=lambda p: (p.end, p.start))
    if ended:
        return ended[-1]
    return min(periods, key=lambda p: p.start) if periods else None


# ------------------------------------------------------------------------------------ key results


def _measurements(spec: Mapping[str, Any], status: Mapping[str, Any], until: datetime) -> list[Measurement]:
    """Check-ins (manual key results) or status.history up to ``until``, oldest first."""
    check_ins = as_dict(as_dict(spec.get("source")).get("manual")).get("checkIns")
    out = []
    if isinstance(check_ins, list):
        for item in map(as_dict, check_ins):
            when, value = as_time(item.get("date")), as_number(item.get("value"))
            if when is not None and value is not None and when < until:
                out.append(Measurement(when, value, as_number(item.get("confidence")), as_str(item.get("note"))))
    else:
        for item in map(as_dict, status.get("history") or []):
            when, value = as_time(item.get("time")), as_number(item.get("value"))
            if when is not None and value is not None and when < until:
                out.append(Measurement(when, value))
    return sorted(out, key=lambda m: m.when)


def trend_word(spec: Mapping[str, Any], previous: Measurement | None, last: Measurement | None) -> str:
    """improving / worsening / flat: the change of progress from the measurement before the last to the last
    (progress knows the direction: a falling MTTR improves)."""
    if previous is None or last is None:
        return ""
    before, after = progress_of(spec, previous.value), progress_of(spec, last.value)
    if before is None or after is None:
        return ""
    change = after - before
    return "flat" if abs(change) < FLAT else ("improving" if change > 0 else "worsening")


def _key_result_row(
    node: KeyResultNode,
    body: Mapping[str, Any],
    objective: Mapping[str, Any] | None,
    objective_owner: str,
    now: datetime,
    ended: bool,
) -> KeyResultRow:
    spec, status = as_dict(body.get("spec")), as_dict(body.get("status"))
    final = as_dict(status.get("final")) if ended else {}
    period = _period(spec.get("period")) or _period(as_dict(as_dict(objective).get("spec")).get("period"))
    until = min(now, period.end) if period is not None else now
    measured = _measurements(spec, status, until)
    last = measured[-1] if measured else None
    previous = measured[-2] if len(measured) > 1 else None
    source = next((k for k in ("manual", "prometheus", "slo") if as_dict(spec.get("source")).get(k)), "")
    graded = bool(final)

    def pick(name: str, fallback: Any) -> Any:
        return final[name] if graded and as_number(final.get(name)) is not None else fallback

    confidence = as_number(status.get("confidence"))
    if graded and as_number(final.get("confidence")) is not None:
        confidence = as_number(final.get("confidence"))
    state = final.get("state") if graded and isinstance(final.get("state"), str) else node.state
    due = as_time(status.get("checkInDue")) if status.get("checkInDue") else None
    return KeyResultRow(
        name=node.name,
        namespace=node.namespace,
        description=node.description,
        owner=as_str(status.get("owner")) or as_str(spec.get("owner")) or objective_owner,
        direction=node.direction,
        unit=node.unit,
        current=as_number(pick("value", node.current)),
        target=node.target,
        minimum=node.minimum,
        maximum=node.maximum,
        progress=as_number(pick("progress", node.progress)),
        score=as_number(pick("score", node.score)),
        state=state,
        confidence=confidence,
        final=graded,
        last_check_in=last if source == "manual" else None,
        last=last,
        previous=previous,
        trend=trend_word(spec, previous, last),
        chart=trend(body, objective, now),
        source=source,
        check_in_due=due,
        overdue=due is not None and due <= now and not ended,
    )


# ------------------------------------------------------------------------------------ objectives


def _objective_row(
    node: Node, body: Mapping[str, Any], depth: int, parent: str, ended: bool, problem: str
) -> ObjectiveRow:
    status = as_dict(body.get("status"))
    final = as_dict(status.get("final"))
    spec = as_dict(body.get("spec"))
    if ended and final:
        progress, score, state = as_number(final.get("progress")), as_number(final.get("score")), final.get("state")
        grade, graded_at = "final", as_str(final.get("gradedAt"))
    else:
        progress, score, state = node.progress, node.score, node.state
        grade, graded_at = ("not graded" if ended else "current"), ""
    return ObjectiveRow(
        name=node.name,
        namespace=node.namespace,
        title=node.title,
        owner=as_str(status.get("owner")) or node.owner,
        period=node.period,
        type=as_str(spec.get("type")) or "committed",
        depth=depth,
        parent=parent,
        progress=progress,
        score=score,
        expected=None if ended else node.expected,
        state=state if isinstance(state, str) else None,
        grade=grade,
        graded_at=graded_at,
        problem=problem,
        not_counted=[
            f"{as_str(c.get('namespace'))}/{as_str(c.get('name'))} ({as_str(c.get('reason')) or 'not counted'})"
            for c in map(as_dict, status.get("children") or [])
            if c.get("counted") is False
        ],
    )


def _walk(nodes: Iterable[Node], depth: int, parent: str) -> Iterable[tuple[Node, int, str]]:
    for node in nodes:
        yield node, depth, parent
        yield from _walk(node.children, depth + 1, f"{node.namespace}/{node.name}")


# ------------------------------------------------------------------------------------ SLOs


# ------------------------------------------------------------------------------------ the report


def _objective_rows(
    shown: list[Mapping[str, Any]],
    key_results: list[Mapping[str, Any]],
    slos: list[Mapping[str, Any]],
    now: datetime,
    ended: bool,
) -> list[ObjectiveRow]:
    """One row per objective shown, in alignment order (the tree's), each with its key results' rows."""
    forest = build_forest(shown, key_results, slos)
    bodies = {("Objective", *namespaced_name(o)): o for o in shown} | {
        ("KeyResult", *namespaced_name(k)): k for k in key_results
    }
    rows = []
    for node, depth, parent in _walk(forest, 0, ""):
        body = bodies.get(("Objective", node.namespace, node.name), {})
        problem = node.problem.message or node.problem.reason if node.problem else ""
        if node.missing:
            problem = "objective not found (its key results refer to it)"
        row = _objective_row(node, body, depth, parent, ended, problem)
        for kr in node.key_results:
            kr_body = bodies.get(("KeyResult", kr.namespace, kr.name), {})
            row.key_results.append(_key_result_row(kr, kr_body, body or None, row.owner, now, ended))
        rows.append(row)
    return rows


def build_report(
    objectives: Iterable[Mapping[str, Any]],
    key_results: Iterable[Mapping[str, Any]],
    slos: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    period: Period | None,
    source: str,
    slo_months: Mapping[Key, Mapping[str, Mapping[str, Any]]] | None = None,
    title: str = "OKR review",
) -> Report:
    """The report of ``period`` as of ``now``. ``slo_months``: per SLO, its status at each month's instant
    (``okrctl report``); without it the SLO figures are what the statuses hold."""
    now = now.astimezone(UTC)
    objectives, key_results, slos = list(objectives), list(key_results), list(slos)
    notes: list[str] = []
    shown = [o for o in objectives if period is None or _period(as_dict(o.get("spec")).get("period")) == period]
    if len(shown) < len(objectives):
        notes.append(f"{len(objectives) - len(shown)} objective(s) of other periods are not shown (--period).")
    ended = period is not None and now >= period.end
    hidden = {namespaced_name(o) for o in objectives} - {namespaced_name(o) for o in shown}
    key_results = [k for k in key_results if _objective_key(k) not in hidden]  # of objectives not shown
    rows = _objective_rows(shown, key_results, slos, now, ended)
    if ended and any(r.grade == "not graded" for r in rows):
        notes.append(
            "The period is over but some objectives have no final grade in status.final (yet): their figures are "
            "the latest status."
        )
    months = month_ends(period, now) if period is not None else []
    slo_figures = slo_rows(slos, months, slo_months)
    slo_source = (
        "measured at the end of each month (the month in progress: as of the report time)"
        if slo_months is not None
        else "from the SLO status, which keeps only the latest figures (as of its lastEvaluated)"
    )
    return Report(
        title=title,
        period=period.label if period is not None else "",
        start=period.start if period is not None else None,
        end=period.end if period is not None else None,
        now=now,
        elapsed=elapsed_fraction(period, now) if period is not None else None,
        ended=ended,
        source=source,
        slo_source=slo_source,
        objectives=rows,
        slos=slo_figures,
        notes=notes,
    )
