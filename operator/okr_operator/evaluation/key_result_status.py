"""Key-result status: progress, pace, forecast and history while the period runs; the final grade once it is
over (figures as of the period end, written once and kept until the spec changes).

What each source says comes from :mod:`.key_result_reading`; every OKR rule (progress, pace, history,
forecast, check-ins) from ``okr/``. Statuses are built from the typed models in ``api/okr_status.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..api import KeyResult, ObjectiveType
from ..api.common import parse_duration
from ..api.identity import Entry
from ..api.okr_status import Forecast, HistoryPoint, KeyResultFinal, KeyResultStatus
from ..okr.checkins import check_in_points, due_at
from ..okr.forecast import forecast_at_end
from ..okr.history import record_history
from ..okr.pace import expected_progress, key_result_state
from ..okr.period import Period, elapsed_fraction, is_over
from ..okr.progress import key_result_progress, score
from .conditions import condition, iso, rounded, significant
from .key_result_reading import Point, Reading, parse_history
from .status import finish, make, typed, valid_condition

KR_FIELDS = (
    "current",
    "progress",
    "score",
    "expected",
    "state",
    "owner",
    "forecast",
    "confidence",
    "lastCheckIn",
    "checkInDue",
    "history",
    "final",
    "observedGeneration",
    "lastEvaluated",
)


@dataclass(frozen=True)
class KeyResultContext:
    """One key result with what its status depends on besides its source."""

    entry: Entry
    objective: Entry | None
    period: Period | None
    owner: str
    now: datetime

    @property
    def kr(self) -> KeyResult:
        return self.entry.model

    @property
    def objective_type(self) -> ObjectiveType:
        return ObjectiveType(self.objective.model.spec.type) if self.objective is not None else ObjectiveType.COMMITTED

    @property
    def ended(self) -> bool:
        return self.period is not None and is_over(self.period, self.now)


def objective_key(e: Entry) -> tuple[str, str]:
    """(namespace, name) of the objective a key result belongs to."""
    return e.ref.namespace, e.model.spec.objective_ref.name


def needs_grade(ctx: KeyResultContext) -> bool:
    """Whether the period is over and no final grade of this spec and period is written yet."""
    if not ctx.ended:
        return False
    final = ctx.entry.status.get("final") or {}
    assert ctx.period is not None
    return not (
        final.get("observedGeneration") == ctx.entry.generation
        and final.get("period") == ctx.period.label
        and "gradedAt" in final
    )


def context_problems(ctx: KeyResultContext) -> list[str]:
    problems = []
    if ctx.objective is None:
        problems.append(
            f"ObjectiveNotFound: objective {ctx.entry.ref.namespace}/{ctx.kr.spec.objective_ref.name} does not "
            "exist (key results belong to an objective in their own namespace)"
        )
    if ctx.period is None:
        problems.append("NoPeriod: no period: set spec.period or fix spec.objectiveRef")
    return problems


@dataclass(frozen=True)
class Figures:
    """Progress, score, expected pace and state of a key result at one instant."""

    progress: float | None
    expected: float | None
    state: str
    problems: tuple[str, ...] = ()


def figures(ctx: KeyResultContext, reading: Reading, at: datetime) -> Figures:
    """Progress from the reading, and the state against the pace expected at ``at``."""
    spec = ctx.kr.spec
    progress, problems = None, []
    if reading.current is not None or reading.compliance is not None:
        try:
            progress = key_result_progress(
                spec.direction,
                reading.current,
                baseline=spec.baseline,
                target=spec.target,
                minimum=spec.minimum,
                maximum=spec.maximum,
                compliance=reading.compliance,
            )
        except ValueError as exc:
            problems.append(f"InvalidTarget: {exc}")
    if ctx.period is None:
        return Figures(progress, None, "Unknown", tuple(problems))
    expected = expected_progress(elapsed_fraction(ctx.period, at), ctx.objective_type)
    state = key_result_state(progress, expected, ended=is_over(ctx.period, at), direction=str(spec.direction))
    return Figures(progress, expected, str(state), tuple(problems))


def live_status(ctx: KeyResultContext, reading: Reading) -> dict[str, Any]:
    """The status while the period runs (or without a period): measured at ``now``."""
    now, old = ctx.now, ctx.entry.status
    problems = [*context_problems(ctx), *reading.problems]
    conds = [valid_condition(problems), condition("MetricsAvailable", *reading.metrics)]
    notices = check_in_notices(ctx)
    if reading.error is not None:  # Prometheus failed: keep every value as it was
        kept = {k: old[k] for k in KR_FIELDS if k in old}
        return finish({**kept, **_check_in_fields(ctx, reading, old)}, conds, old, now, notices)
    fig = figures(ctx, reading, now)
    problems.extend(fig.problems)
    history = parse_history(old)
    if reading.trend is not None:  # manual: the check-ins are the history
        forecast = _forecast(ctx, reading.trend, reading.current, reading.trend_end or now)
        history = []
    else:
        if reading.current is not None and ctx.period is not None:
            history = record_history(history, now, reading.current, ctx.period)
        forecast = _forecast(ctx, history, reading.current, now)
    status = typed(
        KeyResultStatus,
        current=significant(reading.current),
        progress=rounded(fig.progress, 4),
        score=score(fig.progress) if fig.progress is not None else None,
        expected=rounded(fig.expected, 2),
        state=fig.state,
        owner=ctx.owner or None,
        forecast=forecast,
        confidence=reading.confidence,
        history=[make(HistoryPoint, time=t, value=significant(v)) for t, v in history] or None,
    )
    conds[0] = valid_condition(problems)
    return finish({**status, **_check_in_fields(ctx, reading, old)}, conds, old, now, notices)


def graded_status(ctx: KeyResultContext, reading: Reading) -> dict[str, Any]:
    """The period is over and not graded yet: the figures as of the period end, written as ``final``.

    Without a value at the end (Prometheus failed, no data, no check-in) there is no grade yet and the next
    cycle tries again.
    """
    assert ctx.period is not None
    e, now, old, end = ctx.entry, ctx.now, ctx.entry.status, ctx.period.end
    problems = [*context_problems(ctx), *reading.problems]
    fig = figures(ctx, reading, end) if reading.error is None else Figures(None, None, "Unknown")
    problems.extend(fig.problems)
    if fig.progress is None:
        conds = [valid_condition(problems), condition("MetricsAvailable", *reading.metrics)]
        kept = {k: old[k] for k in KR_FIELDS if k in old and k != "final"}
        return finish(kept, conds, old, now, check_in_notices(ctx))
    final = make(
        KeyResultFinal,
        value=significant(reading.current),
        progress=rounded(fig.progress, 4),
        score=score(fig.progress),
        state=fig.state,
        confidence=reading.confidence,
        period=ctx.period.label,
        graded_at=now.replace(microsecond=0),
        observed_generation=e.generation,
    )
    conds = [
        valid_condition(problems),
        condition("MetricsAvailable", True, "Graded", f"graded as of the period end {iso(end)}"),
    ]
    return finish(_from_final(ctx, final.to_wire(), old), conds, old, now, check_in_notices(ctx))


def kept_status(ctx: KeyResultContext) -> dict[str, Any]:
    """The period is over and graded: the final grade as written, nothing is measured."""
    assert ctx.period is not None
    old = ctx.entry.status
    conds = [
        valid_condition(context_problems(ctx)),
        condition("MetricsAvailable", True, "Graded", f"graded as of the period end {iso(ctx.period.end)}"),
    ]
    return finish(_from_final(ctx, old["final"], old), conds, old, ctx.now, check_in_notices(ctx))


def _from_final(ctx: KeyResultContext, final: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """After the end the status shows the grade: current, progress, score and state are the final ones."""
    assert ctx.period is not None
    status = typed(
        KeyResultStatus,
        current=final.get("value"),
        progress=final.get("progress"),
        score=final.get("score"),
        expected=rounded(expected_progress(1.0, ctx.objective_type), 2),
        state=final.get("state"),
        owner=ctx.owner or None,
        confidence=final.get("confidence"),
    )
    status["final"] = final
    kept: dict[str, Any] = {k: old[k] for k in ("history", "lastCheckIn") if k in old}
    return {**status, **kept, **_check_in_fields(ctx, None, old)}


def _forecast(ctx: KeyResultContext, earlier: list[Point], current: float | None, now: datetime) -> Forecast | None:
    spec = ctx.kr.spec
    found = forecast_at_end(spec.direction, spec.baseline, spec.target, earlier, current, now, ctx.period)
    if found is None:
        return None
    return make(Forecast, value=significant(found.value, 4), progress=rounded(found.progress, 2))


def check_in_due(ctx: KeyResultContext) -> datetime | None:
    """When the next check-in of a manual key result with ``checkInEvery`` is due (None otherwise)."""
    spec = ctx.kr.spec
    if spec.check_in_every is None or spec.source.manual is None or ctx.period is None:
        return None
    points = check_in_points(spec.source.manual.check_ins)
    every = timedelta(seconds=parse_duration(spec.check_in_every))
    return due_at(points[-1].time if points else None, every, ctx.period.start)


def _check_in_fields(ctx: KeyResultContext, reading: Reading | None, old: dict[str, Any]) -> dict[str, Any]:
    due = check_in_due(ctx)
    fields: dict[str, Any] = {}
    if reading is not None and reading.last_check_in is not None:
        fields["lastCheckIn"] = iso(reading.last_check_in)
    if due is not None:
        fields["checkInDue"] = iso(due)
    return fields


def check_in_notices(ctx: KeyResultContext) -> list[dict[str, Any]]:
    """The CheckInDue condition of a manual key result with ``checkInEvery``: True once a check-in is overdue."""
    due = check_in_due(ctx)
    if due is None:
        return []
    every = ctx.kr.spec.check_in_every
    if ctx.ended:
        return [condition("CheckInDue", False, "PeriodOver", "the period is over: no more check-ins are due")]
    if ctx.now >= due:
        return [
            condition(
                "CheckInDue",
                True,
                "Overdue",
                f"a check-in was due on {iso(due)} (every {every}): add one to spec.source.manual.checkIns",
            )
        ]
    return [condition("CheckInDue", False, "CheckedIn", f"the next check-in is due on {iso(due)} (every {every})")]
