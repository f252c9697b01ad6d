"""What each key-result source says at an instant: PromQL (one batched query for all key results), an SLO's
status, or the check-ins in the manifest.

The same reading serves the live status (at ``now``) and the final grade (at the period end): PromQL key
results and SLO figures are then queried at the end instant, manual key results read the check-ins up to
the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from ..api import KeyResult
from ..api.identity import Entry, Ref
from ..api.promql import canonical
from ..okr.checkins import check_in_points, until
from ..okr.compliance import time_in_range
from ..okr.period import Period
from ..okr.rules import IN_RANGE_RECORD, VALUE_RECORD
from ..prometheus.types import PrometheusError, finite
from ..promtext import number, quote
from .batch import Answer, QueryFn, run, run_parts
from .status import kept_note

Point = tuple[datetime, float]


@dataclass
class PromAnswers:
    """The batched answers for PromQL key results at one instant: values, and maintain compliance."""

    values: Answer | None = None
    compliance: Answer | None = None


@dataclass
class Reading:
    """A key result's value (and what goes with it) from its source at one instant."""

    metrics: tuple[bool, str, str]  # the MetricsAvailable condition: ok, reason, message
    current: float | None = None
    confidence: float | None = None
    compliance: float | None = None  # maintain key results: share of the period within bounds
    error: PrometheusError | None = None  # Prometheus failed: the last values stay
    problems: list[str] = field(default_factory=list)
    trend: list[Point] | None = None  # manual: the check-ins before the latest one (the forecast's points)
    trend_end: datetime | None = None  # manual: the latest check-in's time
    last_check_in: datetime | None = None


def measure_key_results(
    query: QueryFn, entries: list[Entry], periods: dict[Ref, Period | None], at: datetime, sli_source: str
) -> PromAnswers:
    """Values of every PromQL key result in ``entries`` in one query, and maintain compliance in one more."""
    prom = [e for e in entries if e.model.spec.source.prometheus is not None]
    answers = PromAnswers()
    if prom:
        if sli_source == "recorded":
            answers.values = run(query, VALUE_RECORD, namespace_label="namespace", name_label="key_result")
        else:
            answers.values = run_parts(query, ((e.ref.key, e.model.spec.source.prometheus.query) for e in prom))
    maintain = [(e, period) for e in prom if e.model.spec.direction == "maintain" and (period := periods.get(e.ref))]
    if maintain:
        parts = [(e.ref.key, partial(compliance_expr, e.model, period, at, sli_source)) for e, period in maintain]
        answers.compliance = run_parts(query, parts)
    return answers


def compliance_expr(kr: KeyResult, period: Period, now: datetime, sli_source: str) -> str:
    """Share of the elapsed period the value was within min/max, as a subquery (maintain key results)."""
    elapsed = max(int((min(now, period.end) - period.start).total_seconds()), 60)
    step = max(60, elapsed // 240 // 60 * 60)
    if sli_source == "recorded":
        sel = f"{{key_result={quote(kr.metadata.name)}, namespace={quote(kr.metadata.namespace or '')}}}"
        return f"avg_over_time({IN_RANGE_RECORD}{sel}[{elapsed}s:{step}s])"
    assert kr.spec.source.prometheus is not None
    q = f"({canonical(kr.spec.source.prometheus.query)})"
    parts = []
    if kr.spec.minimum is not None:
        parts.append(f"({q} >= bool {number(kr.spec.minimum)})")
    if kr.spec.maximum is not None:
        parts.append(f"({q} <= bool {number(kr.spec.maximum)})")
    return f"avg_over_time(({' * '.join(parts)})[{elapsed}s:{step}s])"


def read_prometheus(e: Entry, answers: PromAnswers, old: dict[str, Any]) -> Reading:
    """The value the key result's query returned (exactly one series)."""
    values = answers.values
    assert values is not None
    error = values.error_for(e.ref.key)
    if error is not None:
        return Reading((False, error.reason, error.message + kept_note(old)), error=error)
    samples = values.of(e.ref.key)
    if len(samples) > 1:
        reading = Reading((False, "TooManySeries", f"the query returned {len(samples)} series; it must return one"))
    elif not samples or finite(samples[0].value) is None:
        reading = Reading((False, "NoData", "the query returned no data (no series, or NaN)"))
    else:
        reading = Reading((True, "Measured", "value from the query"), current=samples[0].value)
    compliance = answers.compliance
    if e.model.spec.direction == "maintain" and compliance is not None and compliance.error_for(e.ref.key) is None:
        comp_samples = compliance.of(e.ref.key)
        reading.compliance = finite(comp_samples[0].value) if len(comp_samples) == 1 else None
    return reading


def read_slo(
    e: Entry,
    slo_statuses: dict[tuple[str, str], dict[str, Any]],
    history: list[Point],
    period: Period | None,
    at: datetime,
) -> Reading:
    """A figure of the SLO's status (same namespace); maintain compliance from the history and this value."""
    spec = e.model.spec
    ref = spec.source.slo
    assert ref is not None
    key = (e.ref.namespace, ref.name)
    if key not in slo_statuses:
        return Reading(
            (False, "SLONotFound", "the SLO does not exist"),
            problems=[
                f"SLONotFound: ServiceLevelObjective {e.ref.namespace}/{ref.name} does not exist "
                "(slo sources read SLOs in the key result's own namespace)"
            ],
        )
    current = slo_field(slo_statuses[key], str(ref.field))
    metrics = (
        (True, "Measured", f"{ref.field} of SLO {ref.name}")
        if current is not None
        else (False, "NoData", f"SLO {ref.name} has no {ref.field} yet")
    )
    reading = Reading(metrics, current=current)
    if spec.direction == "maintain" and period is not None:
        points = [*(p for p in history if p[0] <= at), *([(at, current)] if current is not None else [])]
        reading.compliance = time_in_range(
            points, minimum=spec.minimum, maximum=spec.maximum, start=period.start, now=at
        )
    return reading


def read_manual(kr: KeyResult, period: Period | None, at: datetime) -> Reading:
    """The latest check-in dated on or before ``at``; maintain compliance over the check-ins."""
    spec = kr.spec
    assert spec.source.manual is not None
    points = until(check_in_points(spec.source.manual.check_ins), at)
    if not points:
        return Reading((False, "NoCheckIns", "no check-in dated on or before today"))
    latest = points[-1]
    reading = Reading(
        (True, "CheckIns", f"{len(points)} check-in(s), latest {latest.time.date().isoformat()}"),
        current=latest.value,
        confidence=latest.confidence,
        trend=[(p.time, p.value) for p in points[:-1]],
        trend_end=latest.time,
        last_check_in=latest.time,
    )
    if spec.direction == "maintain" and period is not None:
        reading.compliance = time_in_range(
            [(p.time, p.value) for p in points], minimum=spec.minimum, maximum=spec.maximum, start=period.start, now=at
        )
    return reading


def slo_field(status: dict[str, Any] | None, field_name: str) -> float | None:
    """The figure a key result reads from an SLO's status (sli, errorBudgetConsumed, ...)."""
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


def parse_history(status: dict[str, Any]) -> list[Point]:
    """``status.history`` as points (malformed entries are skipped)."""
    points = []
    for point in status.get("history") or []:
        try:
            points.append((datetime.fromisoformat(str(point["time"]).replace("Z", "+00:00")), float(point["value"])))
        except (KeyError, TypeError, ValueError):
            continue
    return points
