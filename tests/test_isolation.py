"""Tenant isolation inside one evaluation cycle: a bad member of a batch, or an object whose evaluation
raises, is that object's condition; every other object gets its figures of the same cycle.

The query function here stands in for Prometheus (no network); what it refuses is what Prometheus refuses
(HTTP 400/422: the query's fault) or what an outage looks like (unreachable: nobody's fault in particular).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from okr_operator.api import KeyResult, Objective
from okr_operator.api.identity import Ref
from okr_operator.evaluation.batch import MAX_SPLIT_QUERIES, run_parts, union_members
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.prometheus.types import PrometheusError, Sample
from tests.helpers import slo

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


class FakePrometheus:
    """Answers every object's tagged expression with a value; refuses any query containing ``poison``."""

    def __init__(self, poison: str = "poisoned_metric", value: float = 0.001, down: bool = False) -> None:
        self.poison, self.value, self.down = poison, value, down
        self.queries: list[str] = []

    def __call__(self, expr: str) -> list[Sample]:
        self.queries.append(expr)
        if self.down:
            raise PrometheusError("PrometheusUnreachable", "cannot reach http://prometheus")
        if self.poison in expr:
            raise PrometheusError(
                "QueryFailed", "bad_data: vector cannot contain metrics with the same labelset", refused=True
            )
        samples = []
        for part in union_members(expr):
            name = part.split('"okr_name", "', 1)[1].split('"', 1)[0]
            namespace = part.split('"okr_namespace", "', 1)[1].split('"', 1)[0]
            samples.append(Sample({"okr_name": name, "okr_namespace": namespace}, self.value))
        return samples


def parts(n: int, bad: set[int]) -> list[tuple[tuple[str, str], str]]:
    return [((f"team-{i}", f"kr-{i}"), "poisoned_metric" if i in bad else f"sum(metric_{i})") for i in range(n)]


def test_one_query_without_failure():
    prom = FakePrometheus()
    answer = run_parts(prom, parts(40, set()))
    assert len(prom.queries) == 1
    assert answer.error is None and not answer.member_errors
    assert len(answer.values) == 40


@pytest.mark.parametrize(("n", "bad"), [(1, {0}), (2, {1}), (16, {5}), (64, {0, 63}), (100, {13, 14, 77})])
def test_bisection_fails_only_the_members_at_fault(n: int, bad: set[int]):
    prom = FakePrometheus()
    answer = run_parts(prom, parts(n, bad))
    assert set(answer.member_errors) == {(f"team-{i}", f"kr-{i}") for i in bad}
    assert all(e.reason == "QueryFailed" for e in answer.member_errors.values())
    assert set(answer.values) == {(f"team-{i}", f"kr-{i}") for i in range(n) if i not in bad}
    assert answer.error is None
    assert len(prom.queries) <= 1 + 2 * len(bad) * max(1, n.bit_length())


def test_an_outage_is_not_split():
    prom = FakePrometheus(down=True)
    answer = run_parts(prom, parts(32, set()))
    assert len(prom.queries) == 1
    assert answer.error is not None and answer.error.reason == "PrometheusUnreachable"
    assert answer.error_for(("team-3", "kr-3")) is answer.error


def test_splitting_is_bounded_when_everything_is_refused():
    prom = FakePrometheus()
    answer = run_parts(prom, parts(1000, set(range(1000))))
    assert len(prom.queries) <= 1 + MAX_SPLIT_QUERIES + 2
    assert len(answer.member_errors) == 1000


def test_a_member_that_cannot_be_spliced_is_failed_without_a_query():
    prom = FakePrometheus()

    def broken() -> str:
        raise ValueError("expression cannot be printed back")

    answer = run_parts(prom, [(("a", "ok"), "sum(up)"), (("b", "bad"), broken)])
    assert len(prom.queries) == 1
    assert set(answer.values) == {("a", "ok")}
    assert "cannot be used" in answer.member_errors[("b", "bad")].message


# ------------------------------------------------------------------ the cycle


def key_result(name: str, namespace: str, query: str) -> KeyResult:
    return KeyResult.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "KeyResult",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "objectiveRef": {"name": "goal"},
                "description": "d",
                "baseline": 0,
                "target": 1,
                "source": {"prometheus": {"query": query}},
            },
        }
    )


def objective(namespace: str) -> Objective:
    return Objective.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "Objective",
            "metadata": {"name": "goal", "namespace": namespace},
            "spec": {"title": "t", "period": "2026-Q4"},
        }
    )


def condition_of(status: dict, kind: str) -> dict:
    return next(c for c in status["conditions"] if c["type"] == kind)


def test_a_poisoned_key_result_query_fails_only_its_own_key_result():
    models = [
        objective("team-a"),
        objective("team-b"),
        key_result("bad", "team-a", "sum(poisoned_metric)"),
        key_result("good", "team-b", "sum(healthy_metric)"),
        slo("web", "team-b"),
    ]
    prom = FakePrometheus(value=0.5)
    outcome = Evaluator(prom).evaluate(Snapshot.from_models(models), NOW)
    bad = outcome.statuses[Ref("KeyResult", "team-a", "bad")]
    good = outcome.statuses[Ref("KeyResult", "team-b", "good")]
    assert condition_of(bad, "MetricsAvailable")["reason"] == "QueryFailed"
    assert good["current"] == 0.5 and condition_of(good, "MetricsAvailable")["status"] == "True"
    web = outcome.statuses[Ref("ServiceLevelObjective", "team-b", "web")]
    assert condition_of(web, "MetricsAvailable")["status"] == "True"
    # ... and a Warning Event on the key result at fault only.
    events = [(t.ref, t.new, t.warning) for t in outcome.transitions]
    assert events == [(Ref("KeyResult", "team-a", "bad"), "QueryFailed", True)]


def test_an_object_whose_evaluation_raises_is_its_own_condition():
    """A model the engine cannot handle (here: a target of 100, as stored before validation refused it; the
    model is changed after validation) fails alone; the SLO next to it is evaluated in the same cycle."""
    snapshot = Snapshot.from_models([slo("web", "team-b"), slo("broken", "team-a")])
    entry = next(e for e in snapshot.slos if e.ref.name == "broken")
    entry.model = entry.model.model_copy(update={"spec": entry.model.spec.model_copy(update={"target": 100.0})})
    prom = FakePrometheus(value=0.0005)
    outcome = Evaluator(prom).evaluate(snapshot, NOW)
    failed = outcome.statuses[Ref("ServiceLevelObjective", "team-a", "broken")]
    assert condition_of(failed, "Valid")["reason"] == "EvaluationFailed"
    assert "ValueError: target 100.0" in condition_of(failed, "Valid")["message"]
    # ... and a Warning Event on the SLO at fault only.
    broken = Ref("ServiceLevelObjective", "team-a", "broken")
    assert [(t.ref, t.new, t.warning) for t in outcome.transitions] == [(broken, "EvaluationFailed", True)]
    fine = outcome.statuses[Ref("ServiceLevelObjective", "team-b", "web")]
    assert fine["sli"] == 99.95
    assert condition_of(fine, "Valid")["status"] == "True"
