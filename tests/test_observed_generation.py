"""status.observedGeneration advances only with figures computed from that generation of the spec: the
evaluation writes it with the figures, keeps it where it was while the last values are kept (Prometheus did
not answer), and the reconcile only says in RulesSynced which generation the rules were rendered from."""

from __future__ import annotations

from datetime import UTC, datetime

from okr_operator.evaluation.conditions import condition, observed_generation
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.prometheus.types import PrometheusError, Sample
from okr_operator.runtime.reconcile import reconcile_key_result

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
NS = "team"


def key_result(name: str, generation: int, source: dict, status: dict | None = None) -> dict:
    body = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "KeyResult",
        "metadata": {"name": name, "namespace": NS, "generation": generation},
        "spec": {
            "objectiveRef": {"name": "o"},
            "description": "a key result",
            "period": "2026-Q4",
            "direction": "increase",
            "baseline": 0,
            "target": 10,
            "source": source,
        },
    }
    if status is not None:
        body["status"] = status
    return body


PROMQL = {"prometheus": {"query": "sum(up)"}}
MANUAL = {"manual": {"checkIns": [{"date": "2026-11-01", "value": 4}]}}


def evaluate(bodies: list[dict], answer) -> dict:
    outcome = Evaluator(answer).evaluate(Snapshot.from_bodies(bodies), NOW)
    return {ref.name: status for ref, status in outcome.statuses.items() if ref.kind == "KeyResult"}


def unreachable(expr: str) -> list[Sample]:
    raise PrometheusError("PrometheusUnreachable", "cannot reach prometheus")


def refused(expr: str) -> list[Sample]:
    raise PrometheusError("QueryFailed", "Prometheus refused the query")


def answers(expr: str) -> list[Sample]:
    return [Sample({"okr_namespace": NS, "okr_name": "measured"}, 5.0)]


def test_figures_and_their_generation_are_written_together():
    st = evaluate([key_result("measured", 3, PROMQL, {"observedGeneration": 2, "current": 1.0})], answers)
    assert st["measured"]["current"] == 5.0 and st["measured"]["observedGeneration"] == 3
    st = evaluate([key_result("manual", 7, MANUAL)], unreachable)
    assert st["manual"]["current"] == 4 and st["manual"]["observedGeneration"] == 7  # needs no Prometheus


def test_kept_values_keep_the_generation_they_are_from():
    old = {"observedGeneration": 2, "current": 1.0, "lastEvaluated": "2026-11-20T11:00:00Z"}
    st = evaluate([key_result("measured", 3, PROMQL, old)], unreachable)["measured"]
    assert st["current"] == 1.0, "the last value is kept"
    assert st["observedGeneration"] == 2, "it is still generation 2's figure"
    never = evaluate([key_result("measured", 1, PROMQL)], unreachable)["measured"]
    assert "observedGeneration" not in never, "no figures yet: no generation to claim"


def test_a_refused_query_is_an_answer_about_this_generation():
    st = evaluate([key_result("measured", 3, PROMQL, {"observedGeneration": 2, "current": 1.0})], refused)
    assert st["measured"]["observedGeneration"] == 3


def test_the_reconcile_says_which_generation_the_rules_are_for_and_leaves_observed_generation_alone():
    body = key_result("measured", 4, PROMQL, {"observedGeneration": 3})
    body["spec"].pop("period")  # no objective and no period: RulesSynced=False, no API call
    done = reconcile_key_result(body, None, kube=None, options=None)  # type: ignore[arg-type]
    assert done.status is not None
    assert "observedGeneration" not in done.status
    (synced,) = done.status["conditions"]
    assert synced["type"] == "RulesSynced" and synced["observedGeneration"] == 4
    again = reconcile_key_result({**body, "status": done.status}, None, kube=None, options=None)  # type: ignore[arg-type]
    assert again.status is None, "nothing new to write for the same generation"


def test_a_failed_evaluation_keeps_the_generation_of_the_kept_values():
    failed = {"conditions": [condition("Valid", False, "EvaluationFailed", "boom")]}
    assert observed_generation(failed, 5, {"observedGeneration": 4}) == 4
    assert observed_generation({"conditions": [condition("Valid", True, "Valid")]}, 5, {"observedGeneration": 4}) == 5
