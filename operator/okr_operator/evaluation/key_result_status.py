"""Key-result status: measuring PromQL key results in one batched query, and the status each key result gets."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from ..api import KeyResult
from ..api.identity import Entry, Ref
from ..api.promql import canonical
from ..okr.compliance import time_in_range
from ..okr.forecast import linear_forecast
from ..okr.pace import expected_progress, pace_state
from ..okr.period import Period, elapsed_fraction
from ..okr.progress import key_result_progress, progress_towards, score
from ..okr.rules import IN_RANGE_RECORD, VALUE_RECORD
from ..prometheus.types import PrometheusError, finite
from ..promtext import number
from .batch import Answer, QueryFn, run, run_parts
from .conditions import condition, iso, rounded, significant
from .status import finish, kept_note, valid_condition

KR_FIELDS = (
    "current",
    "progress",
    "score",
    "expected",
    "state",
    "forecast",
    "confidence",
    "history",
    "lastEvaluated",
)
HISTORY_POINTS = 26


def measure_key_results(
    query: QueryFn, entries: list[Entry], periods: dict[Ref, Period | None], now: datetime, sli_source: str
) -> tuple[Answer | None, Answer | None]:
    """Values of every PromQL key result in one query, and maintain compliance in one more."""
    prom = [e for e in entries if e.model.spec.source.prometheus is not None]
    values: Answer | None = None
    if prom:
        if sli_source == "recorded":
            values = run(query, VALUE_RECORD, namespace_label="namespace", name_label="key_result")
        else:
            values = run_parts(query, ((e.ref.key, e.model.spec.source.prometheus.query) for e in prom))
    maintain = [e for e in prom if e.model.spec.direction == "maintain" and periods.get(e.ref)]
    compliance: Answer | None = None
    if maintain:
        parts = [
            (e.ref.key, partial(compliance_expr, e.model, periods[e.ref], now, sli_source))  # type: ignore[arg-type]
            for e in maintain
        ]
        compliance = run_parts(query, parts)
    return values, compliance


def objective_key(e: Entry) -> tuple[str, str]:
    """(namespace, name) of the objective a key result belongs to."""
    return e.ref.namespace, e.model.spec.objective_ref.name


def compliance_expr(kr: KeyResult, period: Period, now: datetime, sli_source: str) -> str:
    """Share of the elapsed period the value was within min/max, as a subquery (maintain key results)."""
    elapsed = max(int((min(now, period.end) - period.start).total_seconds()), 60)
    step = max(60, elapsed // 240 // 60 * 60)
    if sli_source == "recorded":
        sel = f'{{key_result="{kr.metadata.name}", namespace="{kr.metadata.namespace}"}}'
        return f"avg_over_time({IN_RANGE_RECORD}{sel}[{elapsed}s:{step}s])"
    assert kr.spec.source.prometheus is not None
    q = f"({canonical(kr.spec.source.prometheus.query)})"
    parts = []
    if kr.spec.minimum is not None:
        parts.append(f"({q} >= bool {number(kr.spec.minimum)})")
    if kr.spec.maximum is not None:
        parts.append(f"({q} <= bool {number(kr.spec.maximum)})")
    return f"avg_over_time(({' * '.join(parts)})[{elapsed}s:{step}s])"


def _slo_field(status: dict[str, Any] | None, field_name: str) -> float | None:
    if not status:
        return None
    budget = status.get("errorBudget") or {}
    value = {
        "sli": status.get("sli"),
        "errorBudgetConsumed": budget.get("consumed"),
        "errorBudgetRemaining": budget.get("remaining"),
        "burnRate1h": (status.get("burnRates") or {}).get("1h"),
    }[field_name]
    return None if value is None else float(value)


def _history(status: dict[str, Any]) -> list[tuple[datetime, float]]:
    points = []
    for point in status.get("history") or []:
        try:
            points.append((datetime.fromisoformat(str(point["time"]).replace("Z", "+00:00")), float(point["value"])))
        except (KeyError, TypeError, ValueError):
            continue
    return points


def _check_in_points(kr: KeyResult) -> list[tuple[datetime, float, float | None]]:
    assert kr.spec.source.manual is not None
    points = []
    for c in kr.spec.source.manual.check_ins:
        when = c.date if isinstance(c.date, datetime) else datetime(c.date.year, c.date.month, c.date.day)
        points.append((when if when.tzinfo else when.replace(tzinfo=UTC), c.value, c.confidence))
    return sorted(points, key=lambda p: p[0])


def key_result_status(
    e: Entry,
    objective: Entry | None,
    period: Period | None,
    now: datetime,
    *,
    values: Answer | None,
    compliance: Answer | None,
    slo_status: dict[tuple[str, str], dict[str, Any]],
) -> dict[str, Any]:
    kr: KeyResult = e.model
    spec, old = kr.spec, e.status
    problems: list[str] = []
    if objective is None:
        problems.append(
            f"ObjectiveNotFound: objective {e.ref.namespace}/{spec.objective_ref.name} does not exist "
            "(key results belong to an objective in their own namespace)"
        )
    if period is None:
        problems.append("NoPeriod: no period: set spec.period or fix spec.objectiveRef")
    source = spec.source.kind
    current: float | None = None
    confidence: float | None = None
    comp: float | None = None
    metrics: tuple[bool, str, str]
    error: PrometheusError | None = None
    history = _history(old)

    if source == "prometheus":
        assert values is not None
        if values.error_for(e.ref.key) is not None:
            error = values.error_for(e.ref.key)
            metrics = (False, error.reason, error.message + kept_note(old))
        else:
            samples = values.of(e.ref.key)
            if len(samples) > 1:
                metrics = (False, "TooManySeries", f"the query returned {len(samples)} series; it must return one")
            elif not samples or finite(samples[0].value) is None:
                metrics = (False, "NoData", "the query returned no data (no series, or NaN)")
            else:
                current = samples[0].value
                metrics = (True, "Measured", "value from the query")
        if spec.direction == "maintain" and compliance is not None and compliance.error_for(e.ref.key) is None:
            comp_samples = compliance.of(e.ref.key)
            comp = finite(comp_samples[0].value) if len(comp_samples) == 1 else None
    elif source == "slo":
        assert spec.source.slo is not None
        ref = spec.source.slo
        if (e.ref.namespace, ref.name) not in slo_status:
            problems.append(
                f"SLONotFound: ServiceLevelObjective {e.ref.namespace}/{ref.name} does not exist "
                "(slo sources read SLOs in the key result's own namespace)"
            )
            metrics = (False, "SLONotFound", "the SLO does not exist")
        else:
            current = _slo_field(slo_status[(e.ref.namespace, ref.name)], str(ref.field))
            metrics = (
                (True, "Measured", f"{ref.field} of SLO {ref.name}")
                if current is not None
                else (False, "NoData", f"SLO {ref.name} has no {ref.field} yet")
            )
        if spec.direction == "maintain" and period is not None:
            points = [*history, *([(now, current)] if current is not None else [])]
            comp = time_in_range(points, minimum=spec.minimum, maximum=spec.maximum, start=period.start, now=now)
    else:
        checkins = [p for p in _check_in_points(kr) if p[0] <= now]
        if checkins:
            current, confidence = checkins[-1][1], checkins[-1][2]
            metrics = (True, "CheckIns", f"{len(checkins)} check-in(s), latest {checkins[-1][0].date().isoformat()}")
            if spec.direction == "maintain" and period is not None:
                comp = time_in_range(
                    [(t, v) for t, v, _ in checkins],
                    minimum=spec.minimum,
                    maximum=spec.maximum,
                    start=period.start,
                    now=now,
                )
        else:
            metrics = (False, "NoCheckIns", "no check-in dated on or before today")

    conds = [valid_condition(problems)]
    conds.append(condition("MetricsAvailable", *metrics))
    if error is not None:  # Prometheus failed: keep every value as it was
        return finish({k: old[k] for k in KR_FIELDS if k in old}, conds, old, now)

    progress = None
    if current is not None or comp is not None:
        try:
            progress = key_result_progress(
                spec.direction,
                current,
                baseline=spec.baseline,
                target=spec.target,
                minimum=spec.minimum,
                maximum=spec.maximum,
                compliance=comp,
            )
        except ValueError as exc:
            problems.append(f"InvalidTarget: {exc}")
    expected = ended = None
    if period is not None:
        obj_type = objective.model.spec.type if objective is not None else "committed"
        expected = expected_progress(elapsed_fraction(period, now), obj_type)
        ended = now >= period.end
    state = pace_state(progress, expected or 0.0, ended=bool(ended)) if period is not None else "Unknown"
    if spec.direction == "maintain" and state == "Achieved" and not ended:
        state = "OnTrack"  # staying within bounds is achieved only once the period is over

    if current is not None and period is not None and source != "manual":
        history = _record_history(history, now, current, period)
    if source == "manual":  # check-ins are the history
        trend = [(t, v) for t, v, _ in _check_in_points(kr) if t <= now]
        forecast = _forecast(kr, trend[:-1], current, trend[-1][0] if trend else now, period)
        history = []
    else:
        forecast = _forecast(kr, history, current, now, period)
    status = {
        "current": significant(current),
        "progress": rounded(progress, 4),
        "score": score(progress) if progress is not None else None,
        "expected": rounded(expected, 2),
        "state": str(state),
        "forecast": forecast,
        "confidence": confidence,
        "history": [{"time": iso(t), "value": significant(v)} for t, v in history] or None,
    }
    conds[0] = valid_condition(problems)
    return finish(status, conds, old, now)


def _record_history(
    history: list[tuple[datetime, float]], now: datetime, value: float, period: Period
) -> list[tuple[datetime, float]]:
    """Add a point when the last one is older than period/26 (at least an hour): a few writes a period."""
    spacing = max((period.end - period.start) / HISTORY_POINTS, timedelta(hours=1))
    if history and now - history[-1][0] < spacing:
        return history
    return [*history, (now.replace(microsecond=0), value)][-HISTORY_POINTS:]


def _forecast(
    kr: KeyResult, history: list[tuple[datetime, float]], current: float | None, now: datetime, period: Period | None
) -> dict[str, float] | None:
    spec = kr.spec
    if period is None or current is None or spec.direction not in ("increase", "decrease"):
        return None
    points = [p for p in history if p[0] < now.replace(microsecond=0)]
    if len(points) < 2:  # a trend through two points seconds apart is noise, not a forecast
        return None
    points.append((now, current))
    value = linear_forecast(points, period.end)
    if value is None or not math.isfinite(value):
        return None
    assert spec.baseline is not None and spec.target is not None
    progress = progress_towards(spec.direction, value, spec.baseline, spec.target)
    return {"value": significant(value, 4), "progress": rounded(progress, 2)}
