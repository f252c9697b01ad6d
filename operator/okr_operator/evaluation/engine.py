"""One evaluation cycle: batched queries -> pure SLO/OKR engines -> the status of every object.

Used unchanged by the operator's loop and by ``okrctl evaluate``. It never talks to Kubernetes: it gets
a :class:`Snapshot` and a query function, and returns the status each object should have, which of
those differ from what the objects have now, and the state transitions worth an Event.

Queries per cycle: one per distinct SLO window (burn-rate windows plus compliance windows), one for
key-result values, one for maintain compliance, one for latency buckets — whatever the object count.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..api import KeyResult, Objective
from ..api.identity import Entry, Ref
from ..generate import key_result_period
from ..okr.alignment import find_cycles
from ..okr.compliance import time_in_range
from ..okr.forecast import linear_forecast
from ..okr.pace import expected_progress, pace_state
from ..okr.period import Period, elapsed_fraction, parse_period
from ..okr.progress import key_result_progress, progress_towards, score
from ..okr.rollup import KeyResultSummary, roll_up
from ..okr.rules import IN_RANGE_RECORD, VALUE_RECORD
from ..prometheus.types import PrometheusError, Sample, finite
from ..slo.budget import evaluate_budget
from ..slo.expressions import le_value, raw_ratio, recorded_ratio
from ..slo.windows import burn_rate_conditions, status_windows, window_seconds
from .batch import Answer, QueryFn, batch, run
from .conditions import (
    EVALUATION_CONDITIONS,
    changed_fields,
    condition,
    find,
    human_duration,
    iso,
    rounded,
    significant,
    stamp,
)
from .snapshot import Snapshot

SLO_FIELDS = ("sli", "errorBudget", "burnRates", "timeToExhaustion", "state", "alerts", "lastEvaluated")
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
# Objectives generate nothing, so no reconcile writes their status: the evaluation owns observedGeneration too.
OBJECTIVE_FIELDS = (
    "progress",
    "score",
    "expected",
    "state",
    "keyResults",
    "children",
    "observedGeneration",
    "lastEvaluated",
)
OWNED_FIELDS = {"ServiceLevelObjective": SLO_FIELDS, "KeyResult": KR_FIELDS, "Objective": OBJECTIVE_FIELDS}
HISTORY_POINTS = 26


@dataclass(frozen=True)
class Transition:
    """A change worth an Event: a state (OnTrack -> AtRisk, Healthy -> Critical) or validity."""

    ref: Ref
    what: str
    old: str
    new: str
    message: str
    warning: bool


@dataclass
class Outcome:
    """What one cycle computed."""

    statuses: dict[Ref, dict[str, Any]] = field(default_factory=dict)  # evaluation-owned status, complete
    changed: dict[Ref, dict[str, Any]] = field(default_factory=dict)  # the ones worth writing
    changed_fields: dict[Ref, list[str]] = field(default_factory=dict)  # why each is worth writing
    transitions: list[Transition] = field(default_factory=list)
    queries: int = 0
    query_errors: int = 0


@dataclass
class _Measured:
    """What Prometheus said about one object this cycle."""

    ratios: dict[str, float | None] = field(default_factory=dict)
    error: PrometheusError | None = None
    problems: list[str] = field(default_factory=list)


class Evaluator:
    """Evaluate a snapshot at ``now``. ``sli_source`` is raw (indicator expressions) or recorded (our rules)."""

    def __init__(self, query: QueryFn, *, sli_source: str = "raw") -> None:
        self._query_fn = query
        self.sli_source = sli_source
        self.queries = 0
        self.errors = 0

    def _query(self, expr: str) -> list[Sample]:
        self.queries += 1
        try:
            return self._query_fn(expr)
        except PrometheusError:
            self.errors += 1
            raise

    # ------------------------------------------------------------------ SLOs

    def _slo_windows(self, entries: list[Entry], now: datetime) -> dict[Ref, dict[str, str]]:
        """Per SLO: label -> PromQL range (burn windows, plus "window" for the compliance window)."""
        plan = {}
        for e in entries:
            spec = e.model.spec
            windows = {w: w for w in status_windows(spec)}
            windows["window"] = compliance_range(spec.window, now)
            plan[e.ref] = windows
        return plan

    def _measure_slos(self, entries: list[Entry], now: datetime) -> dict[Ref, _Measured]:
        plan = self._slo_windows(entries, now)
        by_range: dict[str, list[Entry]] = defaultdict(list)
        for e in entries:
            for rng in set(plan[e.ref].values()):
                by_range[rng].append(e)
        answers: dict[str, Answer] = {}
        for rng, members in sorted(by_range.items(), key=lambda kv: range_seconds(kv[0])):
            if self.sli_source == "recorded":
                answers[rng] = run(self._query, recorded_ratio(rng), namespace_label="namespace", name_label="slo")
            else:
                answers[rng] = run(self._query, batch((m.ref.key, raw_ratio(m.model.spec, rng)) for m in members))
        measured: dict[Ref, _Measured] = {}
        for e in entries:
            m = _Measured()
            for label, rng in plan[e.ref].items():
                answer = answers[rng]
                if answer.error is not None:
                    m.error = answer.error
                    continue
                values = [finite(s.value) for s in answer.of(e.ref.key)]
                m.ratios[label] = values[0] if len(values) == 1 else None
            measured[e.ref] = m
        self._check_buckets([e for e in entries if e.model.spec.indicator.latency is not None], measured)
        return measured

    def _check_buckets(self, entries: list[Entry], measured: dict[Ref, _Measured]) -> None:
        """Latency SLOs: the threshold must be one of the histogram's bucket boundaries (ask Prometheus)."""
        if not entries:
            return
        parts = []
        for e in entries:
            lat = e.model.spec.indicator.latency
            selector = f"{{{lat.selector}}}" if lat.selector else ""
            parts.append((e.ref.key, f"count by (le) ({lat.histogram}_bucket{selector})"))
        answer = run(self._query, batch(parts))
        if answer.error is not None:
            return
        for e in entries:
            lat = e.model.spec.indicator.latency
            found = sorted({s.labels.get("le", "") for s in answer.of(e.ref.key)}, key=_le_order)
            if found and not any(_same_bound(le, lat.threshold) for le in found):
                measured[e.ref].problems.append(
                    f'BucketNotFound: {lat.histogram}_bucket has no bucket le="{le_value(lat.threshold)}"; '
                    f"the threshold must be one of its bucket boundaries: {', '.join(found)}"
                )

    def _slo_status(self, e: Entry, m: _Measured, now: datetime) -> dict[str, Any]:
        spec: Any = e.model.spec
        old = e.status
        conds = [condition("Valid", not m.problems, *(_problem(m.problems) if m.problems else ("Valid", "")))]
        if m.error is not None:
            status = {k: old[k] for k in SLO_FIELDS if k in old}
            conds.append(condition("MetricsAvailable", False, m.error.reason, m.error.message + _kept(old)))
        else:
            conditions = burn_rate_conditions(spec)
            figures = evaluate_budget(
                target_percent=spec.target,
                window_seconds=window_seconds(spec.window),
                window_ratio=m.ratios.get("window"),
                window_ratios={w: r for w, r in m.ratios.items() if w != "window"},
                page=[(c.long, c.short, c.factor) for c in conditions if c.severity == "page"],
                ticket=[(c.long, c.short, c.factor) for c in conditions if c.severity == "ticket"],
            )
            status = {
                "sli": rounded(figures.sli, 4),
                "errorBudget": _drop_none(
                    {
                        "total": rounded(figures.total, 6),
                        "consumed": rounded(figures.consumed, 4),
                        "remaining": rounded(figures.remaining, 4),
                    }
                ),
                "burnRates": {w: rounded(b, 3) for w, b in figures.burn_rates.items()} or None,
                "timeToExhaustion": human_duration(figures.time_to_exhaustion),
                "state": str(figures.state),
                "alerts": list(figures.alerts) or None,
            }
            if figures.sli is None:
                conds.append(
                    condition(
                        "MetricsAvailable",
                        False,
                        "NoTraffic",
                        f"no events over {spec.window}: the indicator's series are missing or the service had "
                        "no traffic, so there is no SLI (not 100%)",
                    )
                )
            else:
                conds.append(condition("MetricsAvailable", True, "Measured", f"{len(m.ratios)} windows measured"))
        return _finish(status, conds, old, now)

    # ------------------------------------------------------------------ key results

    def _measure_key_results(self, entries: list[Entry], periods: dict[Ref, Period | None], now: datetime) -> Any:
        prom = [e for e in entries if e.model.spec.source.prometheus is not None]
        values: Answer | None = None
        if prom:
            if self.sli_source == "recorded":
                values = run(self._query, VALUE_RECORD, namespace_label="namespace", name_label="key_result")
            else:
                values = run(self._query, batch((e.ref.key, e.model.spec.source.prometheus.query) for e in prom))
        maintain = [e for e in prom if e.model.spec.direction == "maintain" and periods.get(e.ref)]
        compliance: Answer | None = None
        if maintain:
            parts = []
            for e in maintain:
                period = periods[e.ref]
                assert period is not None
                parts.append((e.ref.key, compliance_expr(e.model, period, now, self.sli_source)))
            compliance = run(self._query, batch(parts))
        return values, compliance

    # ------------------------------------------------------------------ the cycle

    def evaluate(self, snapshot: Snapshot, now: datetime) -> Outcome:
        now = now.astimezone(UTC)
        outcome = Outcome()
        self.queries = self.errors = 0

        slos = [e for e in snapshot.slos if e.model is not None]
        measured = self._measure_slos(slos, now) if slos else {}
        for e in snapshot.slos:
            if e.model is None:
                outcome.statuses[e.ref] = _invalid_status(e, now)
            else:
                outcome.statuses[e.ref] = self._slo_status(e, measured[e.ref], now)

        objectives = {e.ref.key: e for e in snapshot.objectives if e.model is not None}
        slo_status = {r.key: s for r, s in outcome.statuses.items() if r.kind == "ServiceLevelObjective"}
        krs = [e for e in snapshot.key_results if e.model is not None]
        periods = {e.ref: key_result_period(e.model, _model(objectives.get(_objective_key(e)))) for e in krs}
        values, compliance = self._measure_key_results(krs, periods, now)
        for e in snapshot.key_results:
            if e.model is None:
                outcome.statuses[e.ref] = _invalid_status(e, now)
                continue
            objective = objectives.get(_objective_key(e))
            outcome.statuses[e.ref] = key_result_status(
                e, objective, periods[e.ref], now, values=values, compliance=compliance, slo_status=slo_status
            )

        alignment = Alignment.of(snapshot)
        summaries: dict[tuple[str, str], list[KeyResultSummary]] = defaultdict(list)
        for kr in krs:
            st = outcome.statuses[kr.ref]
            summaries[_objective_key(kr)].append(
                KeyResultSummary(
                    kr.ref.name, float(kr.model.spec.weight), st.get("progress"), st.get("state", "Unknown")
                )
            )
        for e in snapshot.objectives:
            if e.model is None:
                outcome.statuses[e.ref] = _invalid_status(e, now)
                continue
            outcome.statuses[e.ref] = objective_status(e, alignment, summaries.get(e.ref.key, []), now)

        for e in snapshot.all():
            new = outcome.statuses[e.ref]
            fields = OWNED_FIELDS[e.ref.kind]
            moved = changed_fields(new, e.status, fields)
            if moved:
                outcome.changed[e.ref] = new
                outcome.changed_fields[e.ref] = moved
            else:  # nothing changed: keep what is written, timestamps included
                outcome.statuses[e.ref] = _keep_written(e.status, fields, new)
            outcome.transitions.extend(_transitions(e, new))
        outcome.queries, outcome.query_errors = self.queries, self.errors
        return outcome


# ---------------------------------------------------------------------- key results (pure)


def _model(entry: Entry | None) -> Any:
    return entry.model if entry is not None else None


def _objective_key(e: Entry) -> tuple[str, str]:
    return e.ref.namespace, e.model.spec.objective_ref.name


def compliance_expr(kr: KeyResult, period: Period, now: datetime, sli_source: str) -> str:
    """Share of the elapsed period the value was within min/max, as a subquery (maintain key results)."""
    elapsed = max(int((min(now, period.end) - period.start).total_seconds()), 60)
    step = max(60, elapsed // 240 // 60 * 60)
    if sli_source == "recorded":
        sel = f'{{key_result="{kr.metadata.name}", namespace="{kr.metadata.namespace}"}}'
        return f"avg_over_time({IN_RANGE_RECORD}{sel}[{elapsed}s:{step}s])"
    assert kr.spec.source.prometheus is not None
    q = f"({kr.spec.source.prometheus.query})"
    parts = []
    if kr.spec.minimum is not None:
        parts.append(f"({q} >= bool {kr.spec.minimum!r})")
    if kr.spec.maximum is not None:
        parts.append(f"({q} <= bool {kr.spec.maximum!r})")
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
        if values.error is not None:
            error = values.error
            metrics = (False, values.error.reason, values.error.message + _kept(old))
        else:
            samples = values.of(e.ref.key)
            if len(samples) > 1:
                metrics = (False, "TooManySeries", f"the query returned {len(samples)} series; it must return one")
            elif not samples or finite(samples[0].value) is None:
                metrics = (False, "NoData", "the query returned no data (no series, or NaN)")
            else:
                current = samples[0].value
                metrics = (True, "Measured", "value from the query")
        if spec.direction == "maintain" and compliance is not None and compliance.error is None:
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

    conds = [condition("Valid", not problems, *(_problem(problems) if problems else ("Valid", "")))]
    conds.append(condition("MetricsAvailable", *metrics))
    if error is not None:  # Prometheus failed: keep every value as it was
        return _finish({k: old[k] for k in KR_FIELDS if k in old}, conds, old, now)

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
    conds[0] = condition("Valid", not problems, *(_problem(problems) if problems else ("Valid", "")))
    return _finish(status, conds, old, now)


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


# ---------------------------------------------------------------------- objectives (pure)


@dataclass(frozen=True)
class Alignment:
    """Parent/child relations of every objective, computed once per cycle."""

    parents: dict[tuple[str, str], tuple[str, str] | None]
    cycles: set[tuple[str, str]]
    children: dict[tuple[str, str], list[tuple[str, str]]]

    @classmethod
    def of(cls, snapshot: Snapshot) -> Alignment:
        parents: dict[tuple[str, str], tuple[str, str] | None] = {}
        for o in snapshot.objectives:
            ref = o.model.spec.parent_ref if o.model is not None else None
            parents[o.ref.key] = (ref.namespace or o.ref.namespace, ref.name) if ref else None
        children: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for key, parent in sorted(parents.items()):
            if parent is not None and parent != key:
                children[parent].append(key)
        return cls(parents, find_cycles(parents), children)


def objective_status(
    e: Entry, alignment: Alignment, summaries: list[KeyResultSummary], now: datetime
) -> dict[str, Any]:
    """Roll-up of the objective's key results (same namespace) and its place in the alignment tree."""
    objective: Objective = e.model
    problems: list[str] = []
    if e.ref.key in alignment.cycles:
        problems.append("ParentCycle: parentRef forms a cycle; an objective cannot align to itself or its children")
    parent = alignment.parents.get(e.ref.key)
    if parent is not None and parent not in alignment.parents:
        problems.append(f"ParentNotFound: parent objective {parent[0]}/{parent[1]} does not exist")
    children = alignment.children.get(e.ref.key, [])
    period = parse_period(objective.spec.period)
    expected = expected_progress(elapsed_fraction(period, now), objective.spec.type)
    ended = now >= period.end
    roll = roll_up(summaries, expected=expected, ended=ended)
    status = {
        "progress": rounded(roll.progress, 4),
        "score": roll.score,
        "expected": rounded(expected, 2),
        "state": str(roll.state),
        "keyResults": {
            "total": roll.total,
            "onTrack": roll.on_track,
            "atRisk": roll.at_risk,
            "offTrack": roll.off_track,
            "achieved": roll.achieved,
            "missed": roll.missed,
            "unknown": roll.unknown,
        },
        "children": [{"name": name, "namespace": ns} for ns, name in children] or None,
        "observedGeneration": e.generation,
    }
    measured = roll.progress is not None
    conds = [
        condition("Valid", not problems, *(_problem(problems) if problems else ("Valid", ""))),
        condition(
            "MetricsAvailable",
            measured,
            "KeyResultsMeasured" if measured else "NoKeyResultData",
            f"{roll.total - roll.unknown} of {roll.total} key results have data",
        ),
    ]
    return _finish(status, conds, e.status, now)


# ---------------------------------------------------------------------- shared


def compliance_range(window: str, now: datetime) -> str:
    """PromQL range of an SLO's compliance window: the rolling window, or the calendar period so far."""
    if window not in ("month", "quarter"):
        return window
    start = calendar_start(window, now)
    return f"{max(int((now - start).total_seconds()), 300)}s"


def range_seconds(rng: str) -> int:
    """Seconds in a PromQL range such as ``5m`` or ``2073600s``."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    return int(rng[:-1]) * units[rng[-1]]


def calendar_start(window: str, now: datetime) -> datetime:
    month = now.month if window == "month" else 3 * ((now.month - 1) // 3) + 1
    return datetime(now.year, month, 1, tzinfo=UTC)


def _problem(problems: list[str]) -> tuple[str, str]:
    reason, _, message = problems[0].partition(": ")
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return reason, message + more


def _kept(old: dict[str, Any]) -> str:
    return "; showing the last values" if old.get("lastEvaluated") else ""


def _drop_none(d: dict[str, Any]) -> dict[str, Any] | None:
    out = {k: v for k, v in d.items() if v is not None}
    return out or None


def _finish(status: dict[str, Any], conds: list[dict[str, Any]], old: dict[str, Any], now: datetime) -> dict[str, Any]:
    status = {k: v for k, v in status.items() if v is not None}
    ready = _ready(conds, old)
    conds.append(ready)
    status["conditions"] = stamp(conds, old.get("conditions"), now)
    status["lastEvaluated"] = iso(now)
    return status


def _ready(conds: list[dict[str, Any]], old: dict[str, Any]) -> dict[str, Any]:
    synced = find(old.get("conditions"), "RulesSynced")
    everything = [*conds, *([synced] if synced else [])]
    bad = [c for c in everything if c["status"] != "True"]
    if not bad:
        return condition("Ready", True, "Ready", "")
    first = bad[0]
    return condition("Ready", False, f"{first['type']}{first['status']}", first.get("message", ""))


def _keep_written(old: dict[str, Any], fields: tuple[str, ...], new: dict[str, Any]) -> dict[str, Any]:
    kept = {k: old[k] for k in fields if k in old}
    kept["conditions"] = [c for c in old.get("conditions") or [] if c.get("type") in EVALUATION_CONDITIONS]
    return kept or new


def _invalid_status(e: Entry, now: datetime) -> dict[str, Any]:
    conds = [condition("Valid", False, "InvalidSpec", e.invalid or "the spec does not validate")]
    return _finish({k: e.status[k] for k in OWNED_FIELDS[e.ref.kind] if k in e.status}, conds, e.status, now)


def _transitions(e: Entry, new: dict[str, Any]) -> list[Transition]:
    out = []
    old_state, new_state = e.status.get("state"), new.get("state")
    if old_state and new_state and old_state != new_state:
        bad = new_state in ("AtRisk", "OffTrack", "Missed", "Warning", "Critical", "Exhausted", "Unknown")
        out.append(Transition(e.ref, "state", old_state, new_state, f"state {old_state} -> {new_state}", bad))
    old_valid = find(e.status.get("conditions"), "Valid")
    new_valid = find(new.get("conditions"), "Valid")
    if new_valid and (old_valid or {}).get("status") != new_valid["status"] and new_valid["status"] == "False":
        out.append(Transition(e.ref, "Valid", "", new_valid["reason"], new_valid["message"], True))
    return out


def _same_bound(le: str, threshold: float) -> bool:
    try:
        return float(le) == float(threshold)
    except ValueError:
        return False


def _le_order(le: str) -> float:
    try:
        return float(le)
    except ValueError:
        return math.inf
