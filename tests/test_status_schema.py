"""Every status the evaluation writes validates against the generated CRD's status schema, structurally:
no field the apiserver would prune, no value of the wrong type. The statuses come from cycles over objects
of every kind, source and state (live, graded, kept, invalid, Prometheus down, cycles, check-ins due)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from okr_operator.api import KINDS
from okr_operator.api.crd import custom_resource_definition
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from tests import test_evaluation_okr as okr
from tests.fakeprom import FakePrometheus, window_of
from tests.schema import problems

SCHEMAS = {
    kind: custom_resource_definition(info)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    for kind, info in KINDS.items()
}


def answer(key, expr, at):
    if "count by (le)" in expr:
        return None
    if "latency_p95" in expr:
        return 0.22 if at is None or at <= okr.OCTOBER_END else 0.3
    if "avg_over_time" in expr:
        return 0.75
    return 0.0005 if window_of(expr) in ("28d",) else 0.002


def maintain_kr() -> dict:
    body = okr.promql("bounded", "speed-q4", direction="maintain", max=0.25)
    for key in ("baseline", "target"):
        body["spec"].pop(key)
    return body


def scenario() -> list[dict]:
    slo_kr = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "KeyResult",
        "metadata": {"name": "budget", "namespace": "org", "generation": 1},
        "spec": {
            "objectiveRef": {"name": "company"},
            "description": "keep within budget",
            "direction": "maintain",
            "max": 0.8,
            "source": {"slo": {"name": "availability", "field": "errorBudgetConsumed"}},
        },
    }
    invalid = okr.promql("broken", "company", checkInEvery="7d")
    return [
        okr.slo_body("availability"),
        {**okr.slo_body("quarterly"), "spec": {**okr.slo_body("quarterly")["spec"], "window": "quarter"}},
        *okr.family(children={"fromNamespaces": ["team"]}),
        *okr.october(),
        okr.objective("speed-q4"),
        okr.promql("live-latency", "speed-q4"),
        maintain_kr(),
        slo_kr,
        invalid,
        okr.objective("x", parentRef={"name": "y"}),
        okr.objective("y", parentRef={"name": "x"}),
        okr.objective("orphan", parentRef={"name": "ghost", "namespace": "elsewhere"}),
        *okr.checking_in(),
    ]


def all_problems(statuses) -> list[str]:
    out = []
    for ref, status in statuses.items():
        out.extend(f"{ref}: {p}" for p in problems(status, SCHEMAS[ref.kind], ".status"))
    return out


@pytest.mark.parametrize("days", [0, 20, 60])
def test_every_status_the_evaluation_writes_fits_the_crd_schema(days):
    bodies = scenario()
    now = okr.NOW + timedelta(days=days)  # during Q4, later, and after Q4 (everything graded)
    first = Evaluator(FakePrometheus(answer)).evaluate(Snapshot.from_bodies(bodies), okr.NOW)
    assert len(first.statuses) == len(bodies)
    assert all_problems(first.statuses) == []
    second = Evaluator(FakePrometheus(answer)).evaluate(Snapshot.from_bodies(okr.written(first, bodies)), now)
    assert all_problems(second.statuses) == []
    graded = [ref for ref, s in second.statuses.items() if "final" in s]
    assert graded, "the scenario grades something"


def test_statuses_when_prometheus_is_down_fit_too():
    bodies = scenario()
    first = Evaluator(FakePrometheus(answer)).evaluate(Snapshot.from_bodies(bodies), okr.NOW)
    down = FakePrometheus(answer, fail="PrometheusUnreachable")
    later = datetime(2026, 11, 20, tzinfo=UTC)
    second = Evaluator(down).evaluate(Snapshot.from_bodies(okr.written(first, bodies)), later)
    assert all_problems(second.statuses) == []


def test_the_checker_finds_what_would_be_pruned():
    assert problems({"progres": 0.5}, SCHEMAS["Objective"], ".status") == [
        ".status.progres: not in the schema (the apiserver would prune it)"
    ]
    assert problems({"final": {"score": "high"}}, SCHEMAS["Objective"], ".status") == [
        ".status.final.score: 'high' is not a number"
    ]
    assert problems({"children": [{"name": "a"}]}, SCHEMAS["Objective"], ".status") == [
        ".status.children[0].namespace: required"
    ]
