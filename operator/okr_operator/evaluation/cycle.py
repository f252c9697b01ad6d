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

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from ..api.identity import Entry, Ref
from ..generate import key_result_period
from ..okr.rollup import KeyResultSummary
from ..prometheus.types import PrometheusError, Sample
from .batch import Key, QueryFn
from .conditions import changed_fields, find
from .group_status import GroupKey, statuses_by_group
from .key_result_status import KR_FIELDS, key_result_status, measure_key_results, objective_key
from .maintenance_status import MW_FIELDS, maintenance_window_status, slo_intervals
from .objective_status import OBJECTIVE_FIELDS, Alignment, objective_status
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
    """Evaluate a snapshot at ``now``. ``sli_source`` is raw (indicator expressions) or recorded (our rules)."""

    def __init__(self, query: QueryFn, *, sli_source: str = "raw") -> None:
        self._query_fn = query
        self.sli_source = sli_source
        self.queries = 0
        self.errors = 0
        self._groups: dict[Key, dict[GroupKey, dict[str, Any]]] = {}

    def _query(self, expr: str) -> list[Sample]:
        self.queries += 1
        try:
            return self._query_fn(expr)
        except PrometheusError:
            self.errors += 1
            raise

    def evaluate(self, snapshot: Snapshot, now: datetime) -> Outcome:
        now = now.astimezone(UTC)
        outcome = Outcome()
        self.queries = self.errors = 0

        self._slos(snapshot, now, outcome)

        objectives = {e.ref.key: e for e in snapshot.objectives if e.model is not None}
        slo_statuses = {r.key: s for r, s in outcome.statuses.items() if r.kind == "ServiceLevelObjective"}
        krs = [e for e in snapshot.key_results if e.model is not None]
        periods = {e.ref: _period(e, objectives) for e in krs}
        values, compliance = measure_key_results(self._query, krs, periods, now, self.sli_source)
        for e in snapshot.key_results:
            if e.model is None:
                outcome.statuses[e.ref] = invalid_status(e, KR_FIELDS, now)
                continue
            objective = objectives.get(objective_key(e))
            compute = partial(
                key_result_status,
                e,
                objective,
                periods[e.ref],
                now,
                values=values,
                compliance=compliance,
                slo_status=self._read(e, slo_statuses),
            )
            outcome.statuses[e.ref] = guarded(e, KR_FIELDS, now, compute)

        alignment = Alignment.of(snapshot)
        summaries: dict[tuple[str, str], list[KeyResultSummary]] = defaultdict(list)
        for kr in krs:
            st = outcome.statuses[kr.ref]
            summaries[objective_key(kr)].append(
                KeyResultSummary(
                    kr.ref.name, float(kr.model.spec.weight), st.get("progress"), st.get("state", "Unknown")
                )
            )
        for e in snapshot.objectives:
            if e.model is None:
                outcome.statuses[e.ref] = invalid_status(e, OBJECTIVE_FIELDS, now)
                continue
            compute = partial(objective_status, e, alignment, summaries.get(e.ref.key, []), now)
            outcome.statuses[e.ref] = guarded(e, OBJECTIVE_FIELDS, now, compute)

        for e in snapshot.all():
            new = outcome.statuses[e.ref]
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

    def _read(self, kr: Entry, slo_statuses: dict[Key, dict[str, Any]]) -> dict[Key, dict[str, Any]]:
        """What a key result reads of SLOs: for ``source.slo.group``, that group's figures instead of the SLO's."""
        source = kr.model.spec.source.slo
        if source is None or not source.group:
            return slo_statuses
        key = (kr.ref.namespace, source.name)
        if key not in slo_statuses:
            return slo_statuses
        mine = next((st for k, st in self._groups.get(key, {}).items() if dict(k) == source.group), {})
        return {**slo_statuses, key: mine}

    def _slos(self, snapshot: Snapshot, now: datetime, outcome: Outcome) -> None:
        """The statuses of every SLO and MaintenanceWindow (windows quiet alerts and leave events out)."""
        slos = [e for e in snapshot.slos if e.model is not None]
        lookback = {r: max(map(range_seconds, w.values())) for r, w in slo_windows(slos, now).items()}
        maintenance = slo_intervals(slos, snapshot.maintenance_windows, now, lookback)
        measured = measure_slos(self._query, slos, now, self.sli_source, maintenance) if slos else {}
        self._groups = {
            e.ref.key: statuses_by_group(e.model.spec, measured[e.ref].groups)
            for e in slos
            if e.model.spec.indicator.group_by and measured[e.ref].error is None
        }
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


def _model(entry: Entry | None) -> Any:
    return entry.model if entry is not None else None


def _period(e: Entry, objectives: dict[tuple[str, str], Entry]) -> Any:
    """The key result's period; None (the key result says NoPeriod) when it cannot be worked out."""
    try:
        return key_result_period(e.model, _model(objectives.get(objective_key(e))))
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
    return out
