"""One home for the alignment rule: the evaluation (status.children), `okrctl validate` (its warnings and
errors) and `kubectl okr tree` (counted / not counted) all ask ``okr.alignment``, so for the same objects they
agree on which aligned children count, why the others do not, and which objectives are in a cycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from okr_operator.api.identity import Ref
from okr_operator.api.loader import load_manifests
from okr_operator.tree.build import build_forest
from okr_operator.tree.model import to_data
from tests.test_evaluation_okr import evaluate, family, manual, objective

Edge = tuple[tuple[str, str], tuple[str, str]]  # (parent, child), each (namespace, name)


def scenarios() -> dict[str, list[dict]]:
    nested = [
        objective("top"),
        objective("mid", "team", parentRef={"name": "top", "namespace": "org"}, children={"fromNamespaces": ["org"]}),
        objective("leaf", parentRef={"name": "mid", "namespace": "team", "weight": 3}),
        manual("leaf-kr", "leaf", 40),
        objective("x", parentRef={"name": "y"}),
        objective("y", parentRef={"name": "x"}),
        objective("tail", parentRef={"name": "x"}),
    ]
    return {
        "foreign child refused": family(),
        "foreign child accepted": family(children={"fromNamespaces": ["team"]}),
        "nested across namespaces with a cycle": nested,
    }


def engine_edges(bodies: list[dict]) -> dict[Edge, str | None]:
    """Per aligned child: None when it counts, else the reason's code (from the statuses the engine writes)."""
    out: dict[Edge, str | None] = {}
    for ref, status in evaluate(bodies).statuses.items():
        for child in status.get("children") or []:
            reason = None if child["counted"] else child["reason"].partition(":")[0]
            out[((ref.namespace, ref.name), (child["namespace"], child["name"]))] = reason
    return out


def tree_edges(bodies: list[dict]) -> dict[Edge, str | None]:
    """The same, from `kubectl okr tree`'s model, built from the objects without any status."""
    objectives = [{k: v for k, v in b.items() if k != "status"} for b in bodies if b["kind"] == "Objective"]
    key_results = [b for b in bodies if b["kind"] == "KeyResult"]
    out: dict[Edge, str | None] = {}

    def walk(node: dict[str, Any]) -> None:
        for child in node["children"]:
            out[((node["namespace"], node["name"]), (child["namespace"], child["name"]))] = (
                None if child["counted"] else child["notCounted"]
            )
            walk(child)

    for root in to_data(build_forest(objectives, key_results)):
        walk(root)
    return out


def validate(bodies: list[dict], tmp_path: Path) -> list[str]:
    path = tmp_path / "okrs.yaml"
    path.write_text(yaml.safe_dump_all([{k: v for k, v in b.items() if k != "status"} for b in bodies]))
    return [str(p) for p in load_manifests([str(path)]).problems]


@pytest.mark.parametrize("name", sorted(scenarios()))
def test_the_engine_okrctl_and_the_tree_agree_on_what_counts(name, tmp_path):
    bodies = scenarios()[name]
    engine = engine_edges(bodies)
    assert engine, "the scenario aligns something"
    tree = tree_edges(bodies)
    # the tree draws a cycle once, cut at its first member: every edge it draws is one the engine lists
    assert {edge: tree[edge] for edge in tree} == {edge: engine[edge] for edge in tree}
    assert {e for e, why in engine.items() if why != "ParentCycle"} <= set(tree)

    problems = validate(bodies, tmp_path)
    children = {child for _, child in engine}

    def flagged(text: str) -> set[tuple[str, str]]:
        return {c for c in children if any(f"Objective/{c[1]}: spec.parentRef: {text}" in p for p in problems)}

    assert flagged("warning: aligned without counting") == {
        c for (_, c), why in engine.items() if why == "NamespaceNotAllowed"
    }
    assert flagged("parentRef forms a cycle") == {c for (_, c), why in engine.items() if why == "ParentCycle"}


def test_the_scenarios_cover_every_reason():
    reasons = {why for bodies in scenarios().values() for why in engine_edges(bodies).values()}
    assert reasons == {None, "NotContributing", "NamespaceNotAllowed", "ParentCycle"}


def test_an_objective_whose_spec_does_not_validate_counts_nowhere():
    """The engine aligns an invalid objective to nothing (its parent's status.children leaves it out); the
    tree, given the statuses the engine wrote, still draws it under its parent but as not counted."""
    bodies = [
        objective("top"),
        manual("top-kr", "top", 50),
        objective("broken", parentRef={"name": "top"}, period="2026-Q5"),
        objective("fine", parentRef={"name": "top"}),
    ]
    outcome = evaluate(bodies)
    assert {child for _, child in engine_edges(bodies)} == {("org", "fine")}
    written = [{**b, "status": outcome.statuses[ref]} for b in bodies if (ref := _ref(b)) in outcome.statuses]
    objectives = [b for b in written if b["kind"] == "Objective"]
    (top,) = to_data(build_forest(objectives, [b for b in written if b["kind"] == "KeyResult"]))
    drawn = {child["name"]: (child["counted"], child["notCounted"]) for child in top["children"]}
    assert drawn == {"broken": (False, "InvalidSpec"), "fine": (True, None)}


def _ref(body: dict) -> Ref:
    return Ref(body["kind"], body["metadata"]["namespace"], body["metadata"]["name"])
