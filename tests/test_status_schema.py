"""Every status the evaluation writes validates against the status schema of the CRDs in crds/ (what
``kubectl apply -f crds/`` installs), structurally: no field the apiserver would prune, no value of the wrong
type. The statuses come from cycles over objects of every kind, source and state (live, graded, kept,
invalid, Prometheus down, cycles, check-ins due)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from okr_operator.api import KINDS
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.prometheus.types import Sample
from tests import test_evaluation_okr as okr
from tests.fakeprom import FakePrometheus, window_of
from tests.schema import problems
from tests.test_evaluation_live import grouped_slo

CRDS = Path(__file__).resolve().parent.parent / "crds"  # kept equal to the models by tests/test_crds.py


def status_schema(kind: str) -> dict[str, Any]:
    """The status schema of ``kind``'s served version, as the committed CRD file holds it."""
    crd = yaml.safe_load((CRDS / f"okr.dev_{KINDS[kind].plural}.yaml").read_text())
    assert crd["spec"]["names"]["kind"] == kind
    (version,) = [v for v in crd["spec"]["versions"] if v["served"] and v["storage"]]
    assert version.get("subresources", {}).get("status") == {}, "status is a subresource (written on its own)"
    return version["schema"]["openAPIV3Schema"]["properties"]["status"]


SCHEMAS = {kind: status_schema(kind) for kind in KINDS}


def answer(key, expr, at):
    if "count by (le)" in expr:
        return None
    if key[1] in ("routes", "crowded"):  # grouped SLOs: one ratio per route
        count = 3 if key[1] == "routes" else 5
        return [Sample({"route": f"/r{i}"}, 0.0005 * i) for i in range(count)]
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


def maintenance_window(name: str, **spec: Any) -> dict:
    return {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "MaintenanceWindow",
        "metadata": {"name": name, "namespace": "org", "generation": 1},
        "spec": {"slos": {"names": ["availability"]}, "duration": "2h", "reason": "database upgrade", **spec},
    }


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
    route_kr = {**slo_kr, "metadata": {**slo_kr["metadata"], "name": "route-budget"}}
    route_kr["spec"] = {
        **slo_kr["spec"],
        "source": {"slo": {"name": "routes", "field": "sli", "group": {"route": "/r1"}}},
    }
    return [
        okr.slo_body("availability"),
        {**okr.slo_body("quarterly"), "spec": {**okr.slo_body("quarterly")["spec"], "window": "quarter"}},
        *okr.family(children={"fromNamespaces": ["team"]}),
        *okr.october(),
        okr.objective("speed-q4"),
        okr.promql("live-latency", "speed-q4"),
        maintain_kr(),
        slo_kr,
        grouped_slo("routes", 10),
        grouped_slo("crowded", 4),  # 5 groups: TooManyGroups
        route_kr,
        invalid,
        okr.objective("x", parentRef={"name": "y"}),
        okr.objective("y", parentRef={"name": "x"}),
        okr.objective("orphan", parentRef={"name": "ghost", "namespace": "elsewhere"}),
        *okr.checking_in(),
        maintenance_window("now", start="2026-11-15T11:00:00Z", excludeFromBudget=True),  # holds at okr.NOW
        maintenance_window("nightly", schedule="0 2 * * *", timeZone="Europe/Berlin"),
        maintenance_window("nothing", slos={"names": ["ghost"]}, start="2026-10-01T00:00:00Z"),
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
    assert {ref.kind for ref in first.statuses} == set(KINDS), "a status of every kind is checked"
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


def subschemas(schema: dict[str, Any], path: str = ".status"):
    yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from subschemas(sub, f"{path}.{name}")
    if "items" in schema:
        yield from subschemas(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from subschemas(schema["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_part_of_a_status_escapes_the_check(kind):
    """No status subtree keeps unknown fields or leaves its fields open: every field is declared, so the
    checker above (and the apiserver) sees every misspelt one."""
    for path, schema in subschemas(SCHEMAS[kind]):
        assert not schema.get("x-kubernetes-preserve-unknown-fields"), f"{kind} {path} keeps unknown fields"
        assert schema.get("additionalProperties") is not True, f"{kind} {path} allows any field"
        if schema.get("type") == "object":
            assert "properties" in schema or isinstance(schema.get("additionalProperties"), dict), (
                f"{kind} {path}: an object without declared fields would be pruned to {{}}"
            )
