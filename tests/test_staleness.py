"""Stale figures say so (issue 19: no figure goes stale by more than one interval without a condition saying so):
the status that marks them (evaluation/staleness.py), when figures are overdue (runtime/freshness.py), and that a
mark is not cleared by a cycle that overran its interval."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from okr_operator.api.identity import Ref
from okr_operator.evaluation.cycle import Outcome
from okr_operator.evaluation.staleness import STALE, says_stale, stale_status
from okr_operator.runtime.freshness import Freshness, clear_marks_made_meanwhile, keep_stale_marks
from okr_operator.runtime.metrics import Metrics
from okr_operator.runtime.store import Store

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(seconds=75)
REF = Ref("ServiceLevelObjective", "shop", "checkout")


def written(metrics_reason: str = "Measured", metrics_ok: bool = True) -> dict[str, Any]:
    return {
        "sli": 99.95,
        "errorBudget": {"total": 0.1, "remaining": 50.0},
        "state": "Healthy",
        "observedGeneration": 3,
        "lastEvaluated": "2026-12-01T11:58:00Z",
        "conditions": [
            {
                "type": "Valid",
                "status": "True",
                "reason": "Valid",
                "message": "",
                "lastTransitionTime": "2026-11-30T00:00:00Z",
            },
            {
                "type": "MetricsAvailable",
                "status": "True" if metrics_ok else "False",
                "reason": metrics_reason,
                "message": "6 windows measured",
                "lastTransitionTime": "2026-11-30T00:00:00Z",
            },
            {
                "type": "Ready",
                "status": "True",
                "reason": "Ready",
                "message": "",
                "lastTransitionTime": "2026-11-30T00:00:00Z",
            },
            {
                "type": "RulesSynced",
                "status": "True",
                "reason": "Applied",
                "message": "applied",
                "observedGeneration": 3,
            },
        ],
    }


def test_a_stale_mark_keeps_the_figures_and_says_since_when_and_why():
    marked = stale_status("ServiceLevelObjective", written(), T0, "the evaluation cycle is still running", NOW)
    assert {k: marked[k] for k in ("sli", "errorBudget", "state", "observedGeneration", "lastEvaluated")} == {
        "sli": 99.95,
        "errorBudget": {"total": 0.1, "remaining": 50.0},
        "state": "Healthy",
        "observedGeneration": 3,
        "lastEvaluated": "2026-12-01T11:58:00Z",
    }
    assert marked["conditions"] == [
        {
            "type": "Valid",
            "status": "True",
            "reason": "Valid",
            "message": "",
            "lastTransitionTime": "2026-11-30T00:00:00Z",
        },
        {
            "type": "MetricsAvailable",
            "status": "False",
            "reason": "Stale",
            "message": "the figures are from 2026-12-01T12:00:00Z and were not refreshed since: "
            "the evaluation cycle is still running",
            "lastTransitionTime": "2026-12-01T12:01:15Z",
        },
        {
            "type": "Ready",
            "status": "False",
            "reason": "MetricsAvailableFalse",
            "message": "the figures are from 2026-12-01T12:00:00Z and were not refreshed since: "
            "the evaluation cycle is still running",
            "lastTransitionTime": "2026-12-01T12:01:15Z",
        },
    ]  # RulesSynced is the reconcile's (another field manager): not in the evaluation's status
    assert says_stale(marked)


def test_nothing_to_mark_without_figures_or_when_the_status_already_says_they_are_old():
    assert stale_status("ServiceLevelObjective", {}, T0, "why", NOW) is None
    assert stale_status("ServiceLevelObjective", written("PrometheusTimeout", False), T0, "why", NOW) is None
    assert stale_status("ServiceLevelObjective", written(STALE, False), T0, "why", NOW) is None
    assert stale_status("ServiceLevelObjective", written("NoTraffic", False), T0, "why", NOW) is not None


def freshness(store: Store | None = None) -> Freshness:
    return Freshness(store or Store(), writer=None, metrics=Metrics(), interval=30)  # type: ignore[arg-type]


def test_figures_are_overdue_two_intervals_after_their_instant():
    f = freshness()
    other = Ref("KeyResult", "shop", "latency")
    f.confirm([REF], T0)
    f.confirm([other], T0 + timedelta(seconds=30))
    assert f.seconds_to_deadline(T0) == 60
    assert f.overdue(T0 + timedelta(seconds=60)) == []
    assert f.overdue(T0 + timedelta(seconds=61)) == [(REF, T0)]
    assert f.overdue(T0 + timedelta(seconds=31), older_than=30) == [(REF, T0)]  # after a failed cycle
    assert f.seconds_to_deadline(T0 + timedelta(seconds=70)) == 0
    f.forget_gone({other})
    assert f.seconds_to_deadline(T0 + timedelta(seconds=70)) == 20


class Recorder:
    """The status writer's write_many, recording what it is asked to write."""

    def __init__(self) -> None:
        self.items: list[tuple[Ref, dict[str, Any]]] = []

    async def write_many(self, items: list[tuple[Ref, dict[str, Any]]], *, manager: str) -> Any:
        from okr_operator.runtime.status import Written

        self.items += items
        return Written(written={r for r, _ in items})


def test_marking_writes_only_overdue_objects_and_names_a_failed_write():
    store = Store()
    fresh_ref = Ref("ServiceLevelObjective", "shop", "fresh")
    for ref in (REF, fresh_ref):
        store.upsert(
            {"kind": ref.kind, "metadata": {"namespace": ref.namespace, "name": ref.name}, "status": written()}
        )
    f = freshness(store)
    f.writer = Recorder()  # type: ignore[assignment]
    f.confirm([REF], T0)
    f.confirm([fresh_ref], NOW)
    f.write_failed(REF, "its status write failed: 422")
    assert asyncio.run(f.mark(NOW, "the loop's reason", among={fresh_ref})) == 0  # after a cycle: what it did not write
    assert asyncio.run(f.mark(NOW, "the loop's reason")) == 1
    [(ref, status)] = f.writer.items  # type: ignore[attr-defined]
    assert ref == REF
    message = next(c["message"] for c in status["conditions"] if c["type"] == "MetricsAvailable")
    assert message.endswith("not refreshed since: its status write failed: 422")
    assert f.metrics.stale_objects._value.get() == 1
    assert f.metrics.oldest_figures._value.get() == 75


def test_a_cycle_that_overran_does_not_clear_a_mark_whose_figures_did_not_move():
    store = Store()
    moved = Ref("ServiceLevelObjective", "shop", "moved")
    for ref in (REF, moved):
        store.upsert(
            {
                "kind": ref.kind,
                "metadata": {"namespace": ref.namespace, "name": ref.name},
                "status": written(STALE, False),
            }
        )
    outcome = Outcome(
        changed={REF: {"sli": 99.95}, moved: {"sli": 99.0}},
        changed_fields={REF: ["conditions"], moved: ["conditions", "sli"]},
    )
    keep_stale_marks(outcome, store)
    assert list(outcome.changed) == [moved]  # new figures are written (and clear the mark)


def test_a_mark_written_while_the_cycle_ran_is_cleared_by_its_figures():
    from okr_operator.evaluation.snapshot import Snapshot

    body = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"namespace": "shop", "name": "checkout"},
    }
    snapshot = Snapshot.from_bodies([{**body, "status": written()}])  # what the cycle started from
    store = Store()
    store.upsert({**body, "status": written(STALE, False)})  # marked meanwhile (the watchdog)
    [entry] = snapshot.all()
    outcome = Outcome(statuses={entry.ref: written()})  # the cycle found nothing to write
    clear_marks_made_meanwhile(outcome, snapshot, store)
    assert outcome.changed == {entry.ref: written()} and outcome.changed_fields == {entry.ref: ["conditions"]}
