"""The OKR half of the evaluation with a fake query function and exact numbers: roll-up through alignment,
final grades as of the period end, owners, check-ins that are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from okr_operator.api.identity import Ref
from okr_operator.evaluation.cycle import Evaluator, Outcome
from okr_operator.evaluation.snapshot import Snapshot
from tests.fakeprom import FakePrometheus, window_of

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)  # 2026-Q4 is 45.5 of 92 days old
OCTOBER_END = datetime(2026, 11, 1, tzinfo=UTC)


def objective(name: str, ns: str = "org", *, generation: int = 1, status: dict | None = None, **spec: Any) -> dict:
    body = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "Objective",
        "metadata": {"name": name, "namespace": ns, "generation": generation},
        "spec": {"title": name, "period": "2026-Q4", "owner": f"{name}-team", **spec},
    }
    if status is not None:
        body["status"] = status
    return body


def manual(name: str, objective_name: str, value: float, ns: str = "org", *, weight: float = 1, **spec: Any) -> dict:
    """An increase key result from 0 to 100 whose check-in says ``value`` (progress value/100)."""
    return {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "KeyResult",
        "metadata": {"name": name, "namespace": ns, "generation": 1},
        "spec": {
            "objectiveRef": {"name": objective_name},
            "description": name,
            "baseline": 0,
            "target": 100,
            "weight": weight,
            "source": {"manual": {"checkIns": [{"date": "2026-10-05", "value": value}]}},
            **spec,
        },
    }


def promql(name: str, objective_name: str, ns: str = "org", *, generation: int = 1, status: dict | None = None, **spec):
    body = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "KeyResult",
        "metadata": {"name": name, "namespace": ns, "generation": generation},
        "spec": {
            "objectiveRef": {"name": objective_name},
            "description": name,
            "direction": "decrease",
            "baseline": 0.30,
            "target": 0.20,
            "source": {"prometheus": {"query": f'latency_p95{{kr="{name}"}}'}},
            **spec,
        },
    }
    if status is not None:
        body["status"] = status
    return body


def evaluate(bodies: list[dict], now: datetime = NOW, prom: FakePrometheus | None = None) -> Outcome:
    prom = prom or FakePrometheus(lambda key, expr, at: pytest.fail(f"unexpected query {expr}"))
    return Evaluator(prom).evaluate(Snapshot.from_bodies(bodies), now)


def st(outcome: Outcome, kind: str, name: str, ns: str = "org") -> dict[str, Any]:
    return outcome.statuses[Ref(kind, ns, name)]


def children(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in status.get("children") or []}


# ---------------------------------------------------------------------------------------------- roll-up


def family(**company_spec: Any) -> list[dict]:
    """company (org) with a key result at 0.5 and four aligned children:

    a (org, weight 2, progress 1.0), b (org, contributes: false, progress 0.0),
    c (namespace team, progress 0.25), root (org) above company with no key result of its own.
    """
    return [
        objective("root"),
        objective("company", parentRef={"name": "root"}, **company_spec),
        manual("company-kr", "company", 50),
        objective("a", parentRef={"name": "company", "weight": 2}),
        manual("a-kr", "a", 100),
        objective("b", parentRef={"name": "company", "contributes": False}),
        manual("b-kr", "b", 0),
        objective("c", "team", parentRef={"name": "company", "namespace": "org"}),
        manual("c-kr", "c", 25, ns="team"),
    ]


def test_children_count_with_their_weight_and_contributes_false_and_foreign_ones_do_not():
    out = evaluate(family())
    company = st(out, "Objective", "company")
    assert company["progress"] == pytest.approx((1 * 0.5 + 2 * 1.0) / 3, abs=1e-4) == 0.8333
    assert company["score"] == 0.83
    kids = children(company)
    assert kids["a"] == {
        "name": "a",
        "namespace": "org",
        "counted": True,
        "weight": 2.0,
        "progress": 1.0,
        "score": 1.0,
        "state": "Achieved",
    }
    assert kids["b"]["counted"] is False and kids["b"]["reason"].startswith("NotContributing:")
    assert kids["b"]["progress"] == 0.0 and kids["b"]["weight"] == 1.0
    assert kids["c"]["counted"] is False and kids["c"]["namespace"] == "team" and kids["c"]["progress"] == 0.25
    assert kids["c"]["reason"] == (
        "NamespaceNotAllowed: objectives of namespace team count only when the parent lists it in "
        "spec.children.fromNamespaces"
    )
    # the key result counts are still the objective's own key results
    assert company["keyResults"] == {
        "total": 1,
        "onTrack": 1,
        "atRisk": 0,
        "offTrack": 0,
        "achieved": 0,
        "missed": 0,
        "unknown": 0,
    }


def test_a_namespace_the_parent_lists_counts():
    out = evaluate(family(children={"fromNamespaces": ["team"]}))
    company = st(out, "Objective", "company")
    assert company["progress"] == pytest.approx((0.5 + 2 * 1.0 + 0.25) / 4) == 0.6875
    assert children(company)["c"]["counted"] is True and "reason" not in children(company)["c"]


def test_an_objective_with_only_children_is_measured_by_them():
    out = evaluate(family())
    root, company = st(out, "Objective", "root"), st(out, "Objective", "company")
    assert root["progress"] == company["progress"] == 0.8333
    assert root["state"] == "OnTrack"  # expected 45.5/92 = 0.49
    cond = {c["type"]: c for c in root["conditions"]}["MetricsAvailable"]
    assert cond["status"] == "True" and cond["message"] == "0 of 0 key results have data, 1 of 1 counted children"


def test_weight_zero_child_is_listed_but_moves_nothing():
    bodies = [
        objective("p"),
        manual("p-kr", "p", 40),
        objective("z", parentRef={"name": "p", "weight": 0}),
        manual("z-kr", "z", 100),
    ]
    p = st(evaluate(bodies), "Objective", "p")
    assert p["progress"] == 0.4 and children(p)["z"]["counted"] is True and children(p)["z"]["weight"] == 0.0


def test_cycles_stay_errors_and_do_not_roll_up_each_other():
    bodies = [
        objective("x", parentRef={"name": "y"}),
        manual("x-kr", "x", 20),
        objective("y", parentRef={"name": "x"}),
        manual("y-kr", "y", 80),
    ]
    out = evaluate(bodies)
    for name, progress in (("x", 0.2), ("y", 0.8)):
        status = st(out, "Objective", name)
        assert status["progress"] == progress
        valid = {c["type"]: c for c in status["conditions"]}["Valid"]
        assert (valid["status"], valid["reason"]) == ("False", "ParentCycle")
        (child,) = status["children"]
        assert child["counted"] is False and child["reason"].startswith("ParentCycle:")


def test_owners_default_to_the_objectives():
    bodies = [objective("o", owner="team-a"), manual("k1", "o", 10), manual("k2", "o", 10, owner="alice")]
    out = evaluate(bodies)
    assert st(out, "KeyResult", "k1")["owner"] == "team-a"
    assert st(out, "KeyResult", "k2")["owner"] == "alice"
    assert st(out, "Objective", "o")["owner"] == "team-a"


# ---------------------------------------------------------------------------------------------- final grades


def latency_at(values: dict[str, float]):
    """p95 latency 0.22 until the end of October, 0.30 after it (the grade must not see the later value)."""

    def answer(key: tuple[str, str], expr: str, at: datetime | None) -> float:
        assert at is not None, "a key result of an ended period is queried at the end instant"
        return values["before"] if at <= OCTOBER_END else values["after"]

    return answer


def october(**kr_status: Any) -> list[dict]:
    return [
        objective("speed", period="2026-10"),
        promql("latency", "speed", status=kr_status or None),
    ]


def test_a_promql_key_result_is_graded_at_the_end_instant():
    prom = FakePrometheus(latency_at({"before": 0.22, "after": 0.30}))
    out = evaluate(october(), prom=prom)
    assert prom.instants() == [OCTOBER_END]  # one batched query, at the end of the period
    kr = st(out, "KeyResult", "latency")
    assert kr["final"] == {
        "value": 0.22,
        "progress": 0.8,  # (0.22 - 0.30) / (0.20 - 0.30)
        "score": 0.8,
        "state": "Missed",
        "period": "2026-10",
        "gradedAt": "2026-11-15T12:00:00Z",
        "observedGeneration": 1,
    }
    assert (kr["current"], kr["progress"], kr["score"], kr["state"], kr["expected"]) == (0.22, 0.8, 0.8, "Missed", 1)
    objective_final = st(out, "Objective", "speed")["final"]
    assert objective_final == {
        "progress": 0.8,
        "score": 0.8,
        "state": "Missed",
        "period": "2026-10",
        "gradedAt": "2026-11-15T12:00:00Z",
        "observedGeneration": 1,
        "keyResults": [
            {
                "name": "latency",
                "owner": "speed-team",
                "weight": 1.0,
                "value": 0.22,
                "progress": 0.8,
                "score": 0.8,
                "state": "Missed",
            }
        ],
    }
    assert st(out, "Objective", "speed")["score"] == 0.8
    graded = [t for t in out.transitions if t.what == "final"]
    assert [(t.ref.kind, t.new) for t in graded] == [("KeyResult", "Graded"), ("Objective", "Graded")]
    assert graded[0].message == "final score 0.8 (Missed) as of the end of period 2026-10"


def written(out: Outcome, bodies: list[dict]) -> list[dict]:
    """The bodies with the statuses the cycle wrote (what the next cycle reads)."""
    result = []
    for body in bodies:
        ref = Ref(body["kind"], body["metadata"]["namespace"], body["metadata"]["name"])
        result.append({**body, "status": out.statuses[ref]})
    return result


def test_a_value_that_changes_after_the_end_leaves_the_grade_unchanged():
    prom = FakePrometheus(latency_at({"before": 0.22, "after": 0.30}))
    bodies = october()
    first = evaluate(bodies, prom=prom)
    later = FakePrometheus(latency_at({"before": 0.25, "after": 0.10}))  # even history "changed"
    second = evaluate(written(first, bodies), now=NOW + timedelta(days=20), prom=later)
    assert later.calls == []  # graded: nothing is measured any more
    assert st(second, "KeyResult", "latency")["final"] == st(first, "KeyResult", "latency")["final"]
    assert st(second, "Objective", "speed")["final"] == st(first, "Objective", "speed")["final"]
    assert second.changed == {} and [t for t in second.transitions if t.what == "final"] == []


def test_a_spec_change_re_grades_and_says_so():
    prom = FakePrometheus(latency_at({"before": 0.22, "after": 0.30}))
    first = evaluate(october(), prom=prom)
    bodies = written(first, october())
    bodies[1] = {**promql("latency", "speed", generation=2, target=0.21), "status": bodies[1]["status"]}
    second = evaluate(bodies, now=NOW + timedelta(hours=1), prom=prom)
    kr = st(second, "KeyResult", "latency")
    assert kr["final"]["progress"] == pytest.approx(0.08 / 0.09, abs=1e-4) == 0.8889
    assert kr["final"]["observedGeneration"] == 2 and kr["final"]["gradedAt"] == "2026-11-15T13:00:00Z"
    regraded = {t.ref.kind: t for t in second.transitions if t.what == "final"}
    assert regraded["KeyResult"].new == "Regraded"
    assert regraded["KeyResult"].message == (
        "re-graded: final score 0.8 -> 0.89 because the spec changed (generation 1 -> 2)"
    )
    assert regraded["Objective"].message == (
        "re-graded: final score 0.8 -> 0.89 because the grades it rolls up changed"
    )


def test_no_grade_without_data_at_the_end_and_the_next_cycle_tries_again():
    prom = FakePrometheus(lambda key, expr, at: None)
    out = evaluate(october(), prom=prom)
    kr = st(out, "KeyResult", "latency")
    assert "final" not in kr and "final" not in st(out, "Objective", "speed")
    metrics = {c["type"]: c for c in kr["conditions"]}["MetricsAvailable"]
    assert (metrics["status"], metrics["reason"]) == ("False", "NoData")
    again = FakePrometheus(latency_at({"before": 0.24, "after": 0.30}))
    second = evaluate(written(out, october()), now=NOW + timedelta(minutes=1), prom=again)
    assert st(second, "KeyResult", "latency")["final"]["progress"] == 0.6
    assert again.instants() == [OCTOBER_END]


def test_prometheus_down_at_grading_keeps_the_last_values_and_writes_no_grade():
    out = evaluate(
        october(current=0.21, progress=0.9), prom=FakePrometheus(lambda *a: 0.0, fail="PrometheusUnreachable")
    )
    kr = st(out, "KeyResult", "latency")
    assert kr["current"] == 0.21 and "final" not in kr


def test_manual_key_results_are_graded_from_check_ins_up_to_the_end():
    kr = manual("nps", "survey", 0)
    kr["spec"]["source"]["manual"]["checkIns"] = [
        {"date": "2026-10-10", "value": 30, "confidence": 0.5},
        {"date": "2026-10-31", "value": 60, "confidence": 0.7},
        {"date": "2026-11-02", "value": 90, "confidence": 0.9},  # after the end: not part of the grade
    ]
    out = evaluate([objective("survey", period="2026-10"), kr])
    final = st(out, "KeyResult", "nps")["final"]
    assert (final["value"], final["progress"], final["confidence"], final["state"]) == (60, 0.6, 0.7, "Missed")


def slo_body(name: str, ns: str = "org") -> dict:
    return {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": ns, "generation": 1},
        "spec": {
            "service": "checkout",
            "target": 99.9,
            "window": "28d",
            "indicator": {
                "ratio": {
                    "errors": 'sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
                    "total": "sum(rate(http_requests_total[{{window}}]))",
                }
            },
        },
    }


def test_an_slo_key_result_is_graded_with_the_slo_figures_at_the_end_instant():
    def ratio(key: tuple[str, str], expr: str, at: datetime | None) -> float:
        if at is None:
            return 0.002  # now: 2x the budget over 28d
        assert at == OCTOBER_END
        return 0.0005 if window_of(expr) == "28d" else 0.001

    kr = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "KeyResult",
        "metadata": {"name": "budget", "namespace": "org", "generation": 1},
        "spec": {
            "objectiveRef": {"name": "reliability"},
            "description": "spend less budget",
            "direction": "decrease",
            "baseline": 1.0,
            "target": 0.2,
            "source": {"slo": {"name": "availability", "field": "errorBudgetConsumed"}},
        },
    }
    prom = FakePrometheus(ratio)
    out = evaluate([slo_body("availability"), objective("reliability", period="2026-10"), kr], prom=prom)
    assert st(out, "ServiceLevelObjective", "availability")["errorBudget"]["consumed"] == 2.0  # live, now
    final = st(out, "KeyResult", "budget")["final"]
    assert final["value"] == 0.5 and final["progress"] == pytest.approx((0.5 - 1) / (0.2 - 1)) == 0.625
    assert {at for at in prom.instants() if at is not None} == {OCTOBER_END}


# ---------------------------------------------------------------------------------------------- check-ins


def checking_in(**spec: Any) -> list[dict]:
    kr = manual("mttr", "ops", 0, checkInEvery="14d", **spec)
    kr["spec"]["source"]["manual"]["checkIns"] = [
        {"date": "2026-10-01", "value": 20},
        {"date": "2026-10-22", "value": 35},
    ]
    return [objective("ops"), kr]


def conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


def test_a_check_in_is_due_every_check_in_every_after_the_latest():
    early = st(evaluate(checking_in(), now=datetime(2026, 11, 4, tzinfo=UTC)), "KeyResult", "mttr")
    assert early["lastCheckIn"] == "2026-10-22T00:00:00Z" and early["checkInDue"] == "2026-11-05T00:00:00Z"
    due = conditions(early)["CheckInDue"]
    assert (due["status"], due["reason"]) == ("False", "CheckedIn")
    assert due["message"] == "the next check-in is due on 2026-11-05T00:00:00Z (every 14d)"
    assert conditions(early)["Ready"]["status"] == "True"


def test_an_overdue_check_in_is_a_condition_and_an_event_but_still_ready():
    out = evaluate(checking_in(), now=datetime(2026, 11, 5, tzinfo=UTC))
    status = st(out, "KeyResult", "mttr")
    due = conditions(status)["CheckInDue"]
    assert (due["status"], due["reason"]) == ("True", "Overdue")
    assert conditions(status)["Ready"]["status"] == "True"  # a due check-in is work to do, not a fault
    (event,) = [t for t in out.transitions if t.what == "CheckInDue"]
    assert event.warning and event.new == "CheckInDue"
    assert event.message.startswith("a check-in was due on 2026-11-05T00:00:00Z (every 14d)")
    again = evaluate(written(out, checking_in()), now=datetime(2026, 11, 6, tzinfo=UTC))
    assert [t for t in again.transitions if t.what == "CheckInDue"] == []  # one Event, not one per cycle


def test_no_check_in_is_due_after_the_period():
    status = st(evaluate(checking_in(), now=datetime(2027, 1, 2, tzinfo=UTC)), "KeyResult", "mttr")
    assert conditions(status)["CheckInDue"]["reason"] == "PeriodOver"


def test_check_in_every_needs_a_manual_source():
    body = promql("latency", "ops", checkInEvery="7d")
    out = evaluate([objective("ops"), body])
    valid = conditions(st(out, "KeyResult", "latency"))["Valid"]
    assert valid["reason"] == "InvalidSpec" and "checkInEvery is for manual key results" in valid["message"]
