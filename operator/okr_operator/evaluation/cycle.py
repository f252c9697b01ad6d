"""One evaluation cycle: batched queries -> pure SLO/OKR engines -> the status of every object.

Used unchanged by the operator's loop and by ``okrctl evaluate``. It never talks to Kubernetes: it gets
a :class:`Snapshot` and a query function, and returns the status each object should have, which of
those differ from what the objects have now, and the state transitions worth an Event.

Queries per cycle: one per distinct SLO window (burn-rate windows plus compliance windows), one for
key-result values, one for maintain compliance, one for latency buckets — whatever the object count.
The status of each kind is built in its own module: :mod:`.slo_status`, :mod:`.key_result_status`,
:mod:`.objective_status`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from ..api.identity import Entry, Ref
from ..generate import key_result_period
from ..okr.period import Period
from ..prometheus.types import PrometheusError, Sample
from .batch import Key, QueryFn, TimedQueryFn
from .conditions import changed_fields, find, observed_generation
from .coverage import Coverage
from .group_status import GroupKey, statuses_by_group
from .key_result_reading import (
    PromAnswers,
    Reading,
    measure_key_results,
    parse_history,
    read_manual,
    read_prometheus,
    read_slo,
)
from .key_result_status import (
    KR_FIELDS,
    KeyResultContext,
    graded_status,
    kept_status,
    live_status,
    needs_grade,
    objective_key,
)
from .maintenance_status import MW_FIELDS, maintenance_window_status, slo_intervals
from .objective_status import OBJECTIVE_FIELDS, KeyResultInput, alignment_of, objective_status
from .slo_status import SLO_FIELDS, measure_slos, range_seconds, slo_status, slo_windows
from .snapshot import Snapshot
from .status import guarded, invalid_status, keep_written, log

OWNED_FIELDS = {
    "ServiceLevelObjective": SLO_FIELDS,
    "KeyResult": KR_FIELDS,
    "Objective": OBJECTIVE_FIELDS,
    "MaintenanceWindow": MW_FIELDS,
}


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


class Evaluator:
    """Evaluate a snapshot at ``now``. ``sli_source`` is raw (indicator expressions), recorded (our rules) or
    auto (our rules where they cover a window, raw elsewhere; ``coverage`` remembers what they cover)."""

    def __init__(self, query: TimedQueryFn, *, sli_source: str = "raw", coverage: Coverage | None = None) -> None:
        self._query_fn = query
        self.sli_source = sli_source
        self.coverage = coverage if coverage is not None else Coverage()
        self.queries = 0
        self.errors = 0
        self._count_lock = threading.Lock()
        self._groups: dict[Key, dict[GroupKey, dict[str, Any]]] = {}

    def _query(self, expr: str, at: datetime | None = None) -> list[Sample]:
        """Ask Prometheus; ``at`` None is the evaluation instant (the query function's own time). Called from
        several threads at once (the windows' batches: ``slo_status.QUERY_CONCURRENCY``)."""
        with self._count_lock:
            self.queries += 1
        try:
            return self._query_fn(expr) if at is None else self._query_fn(expr, at)
        except PrometheusError:
            with self._count_lock:
                self.errors += 1
            raise

    def _at(self, at: datetime) -> QueryFn:
        return lambda expr: self._query(expr, at)

    def evaluate(self, snapshot: Snapshot, now: datetime) -> Outcome:
        now = now.astimezone(UTC)
        outcome = Outcome()
        self.queries = self.errors = 0

        self._slos(snapshot, now, outcome)
        inputs = self._key_results(snapshot, outcome, now)
        self._objectives(snapshot, inputs, outcome, now)

        for e in snapshot.all():
            new = outcome.statuses[e.ref]
            new["observedGeneration"] = observed_generation(new, e.generation, e.status)
            if new["observedGeneration"] is None:
                del new["observedGeneration"]
            fields = OWNED_FIELDS[e.ref.kind]
            moved = changed_fields(new, e.status, fields)
            if moved:
                outcome.changed[e.ref] = new
                outcome.changed_fields[e.ref] = moved
            else:  # nothing changed: keep what is written, timestamps included
                outcome.statuses[e.ref] = keep_written(e.status, fields, new)
            outcome.transitions.extend(_transitions(e, new))
        outcome.queries, outcome.query_errors = self.queries, self.errors
        return outcome

    def _slos(self, snapshot: Snapshot, now: datetime, outcome: Outcome) -> None:
        """The statuses of every SLO and MaintenanceWindow (windows quiet alerts and leave events out)."""
        slos = [e for e in snapshot.slos if e.model is not None]
        lookback = {r: max(map(range_seconds, w.values())) for r, w in slo_windows(slos, now).items()}
        maintenance = slo_intervals(slos, snapshot.maintenance_windows, now, lookback)
        measured = measure_slos(self._query, slos, now, self.sli_source, maintenance, self.coverage) if slos else {}
        self._groups = _groups(slos, measured)
        for e in snapshot.slos:
            if e.model is None:
                outcome.statuses[e.ref] = invalid_status(e, SLO_FIELDS, now)
            else:
                compute = partial(slo_status, e, measured[e.ref], now, maintenance.get(e.ref))
                outcome.statuses[e.ref] = guarded(e, SLO_FIELDS, now, compute)
        for e in snapshot.maintenance_windows:
            if e.model is None:
                outcome.statuses[e.ref] = invalid_status(e, MW_FIELDS, now)
            else:
                compute = partial(maintenance_window_status, e, slos, now)
                outcome.statuses[e.ref] = guarded(e, MW_FIELDS, now, compute)

    # ------------------------------------------------------------------ key results

    def _key_results(
        self, snapshot: Snapshot, outcome: Outcome, now: datetime
    ) -> dict[tuple[str, str], list[KeyResultInput]]:
        """Every key result's status; returns what each objective takes from its key results."""
        objectives = {e.ref.key: e for e in snapshot.objectives if e.model is not None}
        contexts: list[KeyResultContext] = []
        for e in snapshot.key_results:
            if e.model is None:
                outcome.statuses[e.ref] = invalid_status(e, KR_FIELDS, now)
                continue
            objective = objectives.get(objective_key(e))
            owner = e.model.spec.owner or (objective.model.spec.owner if objective is not None else "")
            contexts.append(KeyResultContext(e, objective, _period(e, objective), owner, now))
        slo_statuses = {r.key: s for r, s in outcome.statuses.items() if r.kind == "ServiceLevelObjective"}

        live = [c for c in contexts if not c.ended]
        answers = self._measure(self._query, live, now)
        for c in live:
            slos = _slo_view(c.entry, slo_statuses, self._groups)
            outcome.statuses[c.entry.ref] = _guard(c, partial(_live, c, answers, slos, now))
        grading = [c for c in contexts if needs_grade(c)]
        for end in sorted({c.period.end for c in grading if c.period is not None}):
            due = [c for c in grading if c.period is not None and c.period.end == end]
            answers = self._measure(self._at(end), due, end)
            at_end, groups = self._slo_statuses_at(snapshot, due, end)
            for c in due:
                slos = _slo_view(c.entry, at_end, groups)
                outcome.statuses[c.entry.ref] = _guard(c, partial(_graded, c, answers, slos, end))
        for c in contexts:
            if c.ended and not needs_grade(c):
                outcome.statuses[c.entry.ref] = _guard(c, partial(kept_status, c))

        inputs: dict[tuple[str, str], list[KeyResultInput]] = defaultdict(list)
        for c in contexts:
            spec = c.kr.spec
            inputs[objective_key(c.entry)].append(
                KeyResultInput(c.entry.ref.name, float(spec.weight), c.owner, outcome.statuses[c.entry.ref])
            )
        return inputs

    def _measure(self, query: QueryFn, contexts: list[KeyResultContext], at: datetime) -> PromAnswers:
        periods: dict[Ref, Period | None] = {c.entry.ref: c.period for c in contexts}
        return measure_key_results(query, [c.entry for c in contexts], periods, at, self.sli_source)

    def _slo_statuses_at(
        self, snapshot: Snapshot, contexts: list[KeyResultContext], end: datetime
    ) -> tuple[dict[Key, dict[str, Any]], dict[Key, dict[GroupKey, dict[str, Any]]]]:
        """The figures of the SLOs these key results read (and of their groups), measured at the period end."""
        wanted = {
            (c.entry.ref.namespace, c.kr.spec.source.slo.name) for c in contexts if c.kr.spec.source.slo is not None
        }
        entries = [e for e in snapshot.slos if e.model is not None and e.ref.key in wanted]
        if not entries:
            return {}, {}
        lookback = {r: max(map(range_seconds, w.values())) for r, w in slo_windows(entries, end).items()}
        maintenance = slo_intervals(entries, snapshot.maintenance_windows, end, lookback)
        measured = measure_slos(self._at(end), entries, end, self.sli_source, maintenance)
        statuses = {e.ref.key: slo_status(e, measured[e.ref], end, maintenance.get(e.ref)) for e in entries}
        return statuses, _groups(entries, measured)

    # ------------------------------------------------------------------ objectives

    def _objectives(
        self, snapshot: Snapshot, inputs: dict[tuple[str, str], list[KeyResultInput]], outcome: Outcome, now: datetime
    ) -> None:
        alignment = alignment_of(snapshot)
        by_key = {e.ref.key: e for e in snapshot.objectives}
        foreign = {e.ref.key: e for e in snapshot.foreign_objectives}
        done: dict[tuple[str, str], dict[str, Any]] = {}
        for key in alignment.roll_up_order():
            if key in foreign:  # another shard's: roll up what its owner wrote
                done[key] = foreign[key].status
                continue
            e = by_key[key]
            if e.model is None:
                status = invalid_status(e, OBJECTIVE_FIELDS, now)
            else:
                compute = partial(objective_status, e, alignment, inputs.get(key, []), done, now)
                status = guarded(e, OBJECTIVE_FIELDS, now, compute)
            outcome.statuses[e.ref] = done[key] = status


def _groups(slos: list[Entry], measured: dict[Ref, Any]) -> dict[Key, dict[GroupKey, dict[str, Any]]]:
    """The figures of every group of the grouped SLOs (what ``source.slo.group`` key results read)."""
    return {
        e.ref.key: statuses_by_group(e.model.spec, measured[e.ref].groups)
        for e in slos
        if e.model.spec.indicator.group_by and measured[e.ref].error is None
    }


def _slo_view(
    kr: Entry, slo_statuses: dict[Key, dict[str, Any]], groups: dict[Key, dict[GroupKey, dict[str, Any]]]
) -> dict[Key, dict[str, Any]]:
    """What a key result reads of SLOs: for ``source.slo.group``, that group's figures instead of the SLO's."""
    source = kr.model.spec.source.slo
    if source is None or not source.group:
        return slo_statuses
    key = (kr.ref.namespace, source.name)
    if key not in slo_statuses:
        return slo_statuses
    mine = next((st for k, st in groups.get(key, {}).items() if dict(k) == source.group), {})
    return {**slo_statuses, key: mine}


def _read(
    c: KeyResultContext, answers: PromAnswers, slo_statuses: dict[tuple[str, str], dict[str, Any]], at: datetime
) -> Reading:
    """What the key result's source says at ``at``."""
    e = c.entry
    source = e.model.spec.source.kind
    if source == "prometheus":
        return read_prometheus(e, answers, e.status)
    if source == "slo":
        return read_slo(e, slo_statuses, parse_history(e.status), c.period, at)
    return read_manual(e.model, c.period, at)


def _live(c: KeyResultContext, answers: PromAnswers, slos: dict[tuple[str, str], Any], at: datetime) -> dict[str, Any]:
    return live_status(c, _read(c, answers, slos, at))


def _graded(
    c: KeyResultContext, answers: PromAnswers, slos: dict[tuple[str, str], Any], at: datetime
) -> dict[str, Any]:
    return graded_status(c, _read(c, answers, slos, at))


def _guard(c: KeyResultContext, compute: Any) -> dict[str, Any]:
    """One key result's status; its failure is its own condition (Valid=False EvaluationFailed)."""
    return guarded(c.entry, KR_FIELDS, c.now, compute)


def _period(e: Entry, objective: Entry | None) -> Period | None:
    """The key result's period; None (the key result says NoPeriod) when it cannot be worked out."""
    try:
        return key_result_period(e.model, objective.model if objective is not None else None)
    except Exception:  # a period the models accepted but the calendar code refuses: that key result's problem
        log.exception("period of %s", e.ref)
        return None


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
    # The object's own query refused (not an outage, which every object shares): a Warning Event too.
    old_metrics = find(e.status.get("conditions"), "MetricsAvailable") or {}
    new_metrics = find(new.get("conditions"), "MetricsAvailable") or {}
    if new_metrics.get("reason") == "QueryFailed" and old_metrics.get("reason") != "QueryFailed":
        out.append(Transition(e.ref, "MetricsAvailable", "", "QueryFailed", new_metrics.get("message", ""), True))
    out.extend(_grade_transitions(e, new))
    old_due = find(e.status.get("conditions"), "CheckInDue")
    new_due = find(new.get("conditions"), "CheckInDue")
    if new_due and new_due["status"] == "True" and (old_due or {}).get("status") != "True":
        out.append(Transition(e.ref, "CheckInDue", "", "CheckInDue", new_due["message"], True))
    return out


def _grade_transitions(e: Entry, new: dict[str, Any]) -> list[Transition]:
    """Graded (first final grade) or Regraded (a new grade replaced the written one)."""
    old_final, new_final = e.status.get("final"), new.get("final")
    if not new_final or (old_final and old_final.get("gradedAt") == new_final.get("gradedAt")):
        return []
    score = new_final.get("score")
    if not old_final:
        message = f"final score {score} ({new_final.get('state')}) as of the end of period {new_final.get('period')}"
        return [Transition(e.ref, "final", "", "Graded", message, False)]
    if old_final.get("observedGeneration") != new_final.get("observedGeneration"):
        why = f"the spec changed (generation {old_final.get('observedGeneration')} -> {e.generation})"
    elif old_final.get("period") != new_final.get("period"):
        why = f"the period changed ({old_final.get('period')} -> {new_final.get('period')})"
    else:
        why = "the grades it rolls up changed"
    message = f"re-graded: final score {old_final.get('score')} -> {score} because {why}"
    return [Transition(e.ref, "final", str(old_final.get("score")), "Regraded", message, False)]
