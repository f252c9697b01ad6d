"""What the period review shows, computed from the objects as the API lists them (dicts, with status).

Per objective (in alignment order, children under their parent): progress, score and state, or the final
grade from ``status.final`` once the period is over; its owner. Per key result: current and target,
progress, state, confidence, owner, the last check-in and the trend since the one before. Per SLO: the SLI
and the error budget per month of the period (``slo_months``: measured at each month end by
``okrctl report``; otherwise what the status holds, which is the latest figure only).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ..okr.period import Period, PeriodError, elapsed_fraction, parse_period
from ..okr.progress import key_result_progress
from ..tree import KeyResultNode, Node, build_forest
from ..webview.model import Trend, trend
from .months import Month, month_ends

Key = tuple[str, str]  # namespace, name
FLAT = 0.005  # a progress change below half a percent point is "flat"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _key(body: Mapping[str, Any]) -> Key:
    meta = _dict(body.get("metadata"))
    return (_str(meta.get("namespace")) or "default", _str(meta.get("name")))


def _objective_key(kr: Mapping[str, Any]) -> Key:
    return (_key(kr)[0], _str(_dict(_dict(kr.get("spec")).get("objectiveRef")).get("name")))


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time(), tzinfo=UTC)
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


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


@dataclass(frozen=True)
class SLOMonth:
    month: str
    at: datetime | None  # when the figures were measured (None: not kept)
    complete: bool
    sli: float | None = None
    remaining: float | None = None  # fraction of the budget left
    consumed: float | None = None
    state: str | None = None


@dataclass
class SLORow:
    name: str
    namespace: str
    service: str
    description: str
    target: float | None
    window: str
    months: list[SLOMonth]


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
    periods = {p for p in (_period(_dict(o.get("spec")).get("period")) for o in objectives) if p is not None}
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
    check_ins = _dict(_dict(spec.get("source")).get("manual")).get("checkIns")
    out = []
    if isinstance(check_ins, list):
        for item in map(_dict, check_ins):
            when, value = _when(item.get("date")), _num(item.get("value"))
            if when is not None and value is not None and when < until:
                out.append(Measurement(when, value, _num(item.get("confidence")), _str(item.get("note"))))
    else:
        for item in map(_dict, status.get("history") or []):
            when, value = _when(item.get("time")), _num(item.get("value"))
            if when is not None and value is not None and when < until:
                out.append(Measurement(when, value))
    return sorted(out, key=lambda m: m.when)


def _progress_of(spec: Mapping[str, Any], value: float) -> float | None:
    try:
        return key_result_progress(
            _str(spec.get("direction")) or "increase",
            value,
            baseline=_num(spec.get("baseline")),
            target=_num(spec.get("target")),
            minimum=_num(spec.get("min")),
            maximum=_num(spec.get("max")),
        )
    except ValueError:
        return None


def trend_word(spec: Mapping[str, Any], previous: Measurement | None, last: Measurement | None) -> str:
    """improving / worsening / flat: the change of progress from the measurement before the last to the last
    (progress knows the direction: a falling MTTR improves)."""
    if previous is None or last is None:
        return ""
    before, after = _progress_of(spec, previous.value), _progress_of(spec, last.value)
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
    spec, status = _dict(body.get("spec")), _dict(body.get("status"))
    final = _dict(status.get("final")) if ended else {}
    period = _period(spec.get("period")) or _period(_dict(_dict(objective).get("spec")).get("period"))
    until = min(now, period.end) if period is not None else now
    measured = _measurements(spec, status, until)
    last = measured[-1] if measured else None
    previous = measured[-2] if len(measured) > 1 else None
    source = next((k for k in ("manual", "prometheus", "slo") if _dict(spec.get("source")).get(k)), "")
    graded = bool(final)

    def pick(name: str, fallback: Any) -> Any:
        return final[name] if graded and _num(final.get(name)) is not None else fallback

    confidence = _num(status.get("confidence"))
    if graded and _num(final.get("confidence")) is not None:
        confidence = _num(final.get("confidence"))
    state = final.get("state") if graded and isinstance(final.get("state"), str) else node.state
    due = _when(status.get("checkInDue")) if status.get("checkInDue") else None
    return KeyResultRow(
        name=node.name,
        namespace=node.namespace,
        description=node.description,
        owner=_str(status.get("owner")) or _str(spec.get("owner")) or objective_owner,
        direction=node.direction,
        unit=node.unit,
        current=_num(pick("value", node.current)),
        target=node.target,
        minimum=node.minimum,
        maximum=node.maximum,
        progress=_num(pick("progress", node.progress)),
        score=_num(pick("score", node.score)),
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
    status = _dict(body.get("status"))
    final = _dict(status.get("final"))
    spec = _dict(body.get("spec"))
    if ended and final:
        progress, score, state = _num(final.get("progress")), _num(final.get("score")), final.get("state")
        grade, graded_at = "final", _str(final.get("gradedAt"))
    else:
        progress, score, state = node.progress, node.score, node.state
        grade, graded_at = ("not graded" if ended else "current"), ""
    return ObjectiveRow(
        name=node.name,
        namespace=node.namespace,
        title=node.title,
        owner=_str(status.get("owner")) or node.owner,
        period=node.period,
        type=_str(spec.get("type")) or "committed",
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
            f"{_str(c.get('namespace'))}/{_str(c.get('name'))} ({_str(c.get('reason')) or 'not counted'})"
            for c in map(_dict, status.get("children") or [])
            if c.get("counted") is False
        ],
    )


def _walk(nodes: Iterable[Node], depth: int, parent: str) -> Iterable[tuple[Node, int, str]]:
    for node in nodes:
        yield node, depth, parent
        yield from _walk(node.children, depth + 1, f"{node.namespace}/{node.name}")


# ------------------------------------------------------------------------------------ SLOs


def status_months(slo: Mapping[str, Any], months: list[Month]) -> list[SLOMonth]:
    """What an SLO's status holds, per month: its figures as of ``lastEvaluated``, in that month; the status
    keeps no earlier figures, so the other months are empty."""
    status = _dict(slo.get("status"))
    at = _when(status.get("lastEvaluated"))
    budget = _dict(status.get("errorBudget"))
    out = []
    for month in months:
        holds = at is not None and month.start <= at < month.end
        out.append(
            SLOMonth(
                month.label,
                at if holds else None,
                month.complete,
                _num(status.get("sli")) if holds else None,
                _num(budget.get("remaining")) if holds else None,
                _num(budget.get("consumed")) if holds else None,
                _str(status.get("state")) or None if holds else None,
            )
        )
    return out


def measured_months(statuses: Mapping[str, Mapping[str, Any]], months: list[Month]) -> list[SLOMonth]:
    """An SLO's figures measured at each month's instant (``statuses``: month label -> SLO status then)."""
    out = []
    for month in months:
        status = _dict(statuses.get(month.label))
        budget = _dict(status.get("errorBudget"))
        out.append(
            SLOMonth(
                month.label,
                month.at if status else None,
                month.complete,
                _num(status.get("sli")),
                _num(budget.get("remaining")),
                _num(budget.get("consumed")),
                _str(status.get("state")) or None,
            )
        )
    return out


def _slo_row(slo: Mapping[str, Any], months: list[SLOMonth]) -> SLORow:
    namespace, name = _key(slo)
    spec = _dict(slo.get("spec"))
    return SLORow(
        name=name,
        namespace=namespace,
        service=_str(spec.get("service")),
        description=_str(spec.get("description")),
        target=_num(spec.get("target")),
        window=_str(spec.get("window")) or "28d",
        months=months,
    )


# ------------------------------------------------------------------------------------ the report


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
    shown = [o for o in objectives if period is None or _period(_dict(o.get("spec")).get("period")) == period]
    if len(shown) < len(objectives):
        notes.append(f"{len(objectives) - len(shown)} objective(s) of other periods are not shown (--period).")
    ended = period is not None and now >= period.end
    hidden = {_key(o) for o in objectives} - {_key(o) for o in shown}
    key_results = [k for k in key_results if _objective_key(k) not in hidden]  # of objectives not shown
    forest = build_forest(shown, key_results, slos)
    bodies = {("Objective", *_key(o)): o for o in shown} | {("KeyResult", *_key(k)): k for k in key_results}
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
    if ended and any(r.grade == "not graded" for r in rows):
        notes.append(
            "The period is over but some objectives have no final grade in status.final (yet): their figures are "
            "the latest status."
        )
    months = month_ends(period, now) if period is not None else []
    slo_rows = []
    for slo in sorted(slos, key=_key):
        measured = (slo_months or {}).get(_key(slo))
        per_month = measured_months(measured, months) if slo_months is not None else status_months(slo, months)
        slo_rows.append(_slo_row(slo, per_month if measured is not None or slo_months is None else []))
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
        slos=slo_rows,
        notes=notes,
    )
