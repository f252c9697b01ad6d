"""kubectl okr tree: build_forest/render on hand-written objects, -o json|yaml, and the CLI's error paths.

The CLI tests talk to a fake API server (plain HTTP on 127.0.0.1) that answers the list calls, so the whole
command runs without a cluster; the real one is in e2e/test_kubectl_okr.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from rich.console import Console

from okr_operator.cli.kubectl_okr import cli
from okr_operator.cli.tree import progress_bar, render, shorten
from okr_operator.tree import KeyResultNode, Node, build_forest, key_result_values, to_data, walk

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------------------------------ fixtures


def objective(
    name: str,
    namespace: str = "shop",
    *,
    title: str | None = None,
    parent: str | None = None,
    parent_ns: str | None = None,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"title": title or f"Title of {name}", "owner": "team", "period": "2026-Q4"}
    if parent:
        spec["parentRef"] = {"name": parent, **({"namespace": parent_ns} if parent_ns else {})}
    obj: dict[str, Any] = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "Objective",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    if status is not None:
        obj["status"] = status
    return obj


def key_result(
    name: str,
    objective_name: str,
    namespace: str = "shop",
    *,
    status: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "objectiveRef": {"name": objective_name},
        "description": f"Description of {name}",
        "direction": "decrease",
        "baseline": 45,
        "target": 40.5,
        "unit": "minutes",
        "source": {"manual": {"checkIns": [{"date": "2026-10-01", "value": 45}]}},
    }
    body.update(spec)
    obj: dict[str, Any] = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "KeyResult",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }
    if status is not None:
        obj["status"] = status
    return obj


def slo(name: str, namespace: str = "shop", status: dict[str, Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"service": "checkout", "target": 99.9, "window": "28d"},
    }
    if status is not None:
        obj["status"] = status
    return obj


def sample_objects() -> tuple[list[dict], list[dict], list[dict]]:
    """The shape of config/samples with statuses as the operator writes them."""
    objectives = [
        objective(
            "platform-excellence",
            title="Every customer-facing service is measured and reliable",
            status={"progress": 0.62, "score": 0.62, "expected": 0.5, "state": "OnTrack"},
        ),
        objective(
            "checkout-reliability",
            title="Checkout is reliable enough that customers never notice an incident",
            parent="platform-excellence",
            status={"progress": 0.3125, "score": 0.31, "state": "AtRisk"},
        ),
        objective("checkout-speed", title="Checkout feels instant", parent="platform-excellence"),
    ]
    key_results = [
        key_result(
            "checkout-mttr",
            "checkout-reliability",
            status={"current": 42, "progress": 0.6667, "score": 0.67, "state": "OnTrack"},
        ),
        key_result(
            "checkout-budget-discipline",
            "checkout-reliability",
            direction="maintain",
            baseline=None,
            target=None,
            max=0.8,
            unit="of budget",
            source={"slo": {"name": "checkout-availability", "field": "errorBudgetConsumed"}},
            status={"current": 0.35, "progress": 0.1, "score": 0.1, "state": "OffTrack"},
        ),
        key_result(
            "sli-coverage",
            "platform-excellence",
            direction="increase",
            baseline=95,
            target=100,
            unit="%",
            status={"current": 99, "progress": 0.8, "score": 0.8, "state": "Achieved"},
        ),
        key_result("checkout-p95-latency", "checkout-speed", baseline=0.24, target=0.234, unit="s"),
    ]
    slos = [
        slo(
            "checkout-availability",
            status={"sli": 99.95, "state": "Healthy", "errorBudget": {"consumed": 0.35, "remaining": 0.65}},
        )
    ]
    return objectives, key_results, slos


def text_of(nodes: list[Node], width: int = 120, **kwargs: Any) -> str:
    console = Console(record=True, width=width, color_system=None)
    render(nodes, console, **kwargs)
    return console.export_text()


def names(nodes: list[Node]) -> list[str]:
    return [node.name for node in nodes]


# ------------------------------------------------------------------------------------------ build_forest


def test_nesting_children_and_key_results():
    forest = build_forest(*sample_objects())
    assert names(forest) == ["platform-excellence"]
    (root,) = forest
    assert names(root.children) == ["checkout-reliability", "checkout-speed"]
    assert [kr.name for kr in root.key_results] == ["sli-coverage"]
    reliability = root.children[0]
    assert [kr.name for kr in reliability.key_results] == ["checkout-budget-discipline", "checkout-mttr"]
    assert reliability.progress == 0.3125 and reliability.score == 0.31 and reliability.state == "AtRisk"
    budget = reliability.key_results[0]
    assert budget.slo is not None
    assert (budget.slo.name, budget.slo.found, budget.slo.state, budget.slo.budget_remaining) == (
        "checkout-availability",
        True,
        "Healthy",
        0.65,
    )
    speed = root.children[1]
    assert speed.evaluated is False and speed.state is None


def test_render_sample_tree():
    out = text_of(build_forest(*sample_objects()))
    lines = out.splitlines()
    assert lines[0].startswith("NAME") and "PROGRESS" in lines[0] and "STATE" in lines[0]
    assert lines[1].startswith("platform-excellence ")
    assert "██████░░░░  62%   0.62  OnTrack" in lines[1]
    # key results first, then child objectives; guides show the nesting
    assert lines[2].startswith("├── sli-coverage ")
    assert "████████░░  80%   0.80  Achieved" in lines[2]
    assert "99/100%" in lines[2]
    assert lines[3].startswith("├── checkout-reliability ")
    assert "███░░░░░░░  31%   0.31  AtRisk" in lines[3]
    assert any(line.startswith("│   ├── checkout-budget-discipline ") for line in lines)
    assert "0.35/≤0.8 of budget" in out
    assert "slo checkout-availability Healthy, budget 65% left" in out
    mttr = next(line for line in lines if "checkout-mttr" in line)
    assert mttr.startswith("│   └── checkout-mttr ")
    assert "███████░░░  67%   0.67  OnTrack    42/40.5 minutes" in mttr
    assert any(line.startswith("└── checkout-speed ") for line in lines)
    p95 = next(line for line in lines if "checkout-p95-latency" in line)
    assert p95.startswith("    └── checkout-p95-latency ")
    assert "no status" in p95 and "?/0.234 s" in p95
    # titles are shortened, every line fits the width
    assert "Checkout is reliable enough" in out
    assert "Checkout is reliable enough that customers never notice an incident" not in out
    assert "…" in lines[3]
    assert all(len(line) <= 120 for line in lines)


def test_columns_line_up():
    lines = text_of(build_forest(*sample_objects())).splitlines()
    bars = [line.index("PROGRESS") if i == 0 else _bar_start(line) for i, line in enumerate(lines)]
    bars = [b for b in bars if b is not None]
    assert len(set(bars)) == 1, lines


def _bar_start(line: str) -> int | None:
    for mark in ("█", "░", "·"):
        if mark * 1 in line:
            return min(line.index(c) for c in "█░·" if c in line)
    return None


def test_cross_namespace_parent_is_nested_and_qualified():
    objectives = [
        objective("company", "corp", status={"progress": 0.5, "score": 0.5, "state": "OnTrack"}),
        objective("checkout-reliability", "shop", parent="company", parent_ns="corp"),
        objective("checkout-speed", "shop", parent="checkout-reliability"),
    ]
    forest = build_forest(objectives, [key_result("mttr", "checkout-reliability", "shop")])
    assert names(forest) == ["company"]
    child = forest[0].children[0]
    assert (child.namespace, child.name) == ("shop", "checkout-reliability")
    assert names(child.children) == ["checkout-speed"]
    out = text_of(forest)
    lines = out.splitlines()
    assert lines[1].startswith("corp/company ")  # more than one namespace: top level is qualified
    assert lines[2].startswith("└── shop/checkout-reliability ")  # other namespace than its parent
    assert any(line.startswith("    ├── mttr ") for line in lines)
    assert any(line.startswith("    └── checkout-speed ") for line in lines)  # same namespace as parent


def test_cross_namespace_parent_not_listed():
    obj = objective("checkout-reliability", "shop", parent="company", parent_ns="corp")
    (root,) = build_forest([obj], [], listed_namespaces=["shop"])
    assert root.parent_ref == ("corp", "company") and root.parent_found is None
    assert to_data([root])[0]["parentFound"] is None
    out = text_of([root])
    assert "↑ corp/company" in out
    assert "not found" not in out


def test_orphan_parent_ref():
    objectives = [objective("child", parent="gone"), objective("other", parent="gone", parent_ns="elsewhere")]
    forest = build_forest(objectives, [])
    assert names(forest) == ["child", "other"]
    assert all(node.parent_found is False for node in forest)
    assert [d["parentFound"] for d in to_data(forest)] == [False, False]
    out = text_of(forest)
    assert "parent shop/gone not found" in out
    assert "parent elsewhere/gone not found" in out


def test_orphan_parent_with_operator_condition_shows_reason_once():
    status = {
        "state": "Unknown",
        "conditions": [
            {
                "type": "Valid",
                "status": "False",
                "reason": "ParentNotFound",
                "message": "parent objective shop/gone does not exist",
            }
        ],
    }
    out = text_of(build_forest([objective("child", parent="gone", status=status)], []))
    assert "ParentNotFound: parent objective shop/gone does not exist" in out
    assert "parent shop/gone not found" not in out


def test_valid_false_reason_is_shown_in_red():
    status = {
        "progress": 0.1,
        "score": 0.1,
        "state": "OffTrack",
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "NotReady", "message": "x"},
            {"type": "Valid", "status": "False", "reason": "InvalidSpec", "message": "spec.period: bad"},
        ],
    }
    forest = build_forest([objective("broken", status=status)], [])
    assert forest[0].problem is not None and forest[0].problem.reason == "InvalidSpec"
    console = Console(record=True, width=120, color_system="standard", force_terminal=True)
    render(forest, console)
    styled = console.export_text(styles=True)
    assert "\x1b[31mInvalidSpec: spec.period: bad" in styled
    assert "\x1b[31mOffTrack" in styled
    assert "InvalidSpec: spec.period: bad" in text_of(forest)


@pytest.mark.parametrize(
    ("state", "ansi"),
    [("OnTrack", "\x1b[32m"), ("AtRisk", "\x1b[33m"), ("Missed", "\x1b[31m"), ("Unknown", "\x1b[2m")],
)
def test_state_colours(state, ansi):
    forest = build_forest([objective("o", status={"progress": 0.5, "score": 0.5, "state": state})], [])
    console = Console(record=True, width=120, color_system="standard", force_terminal=True)
    render(forest, console)
    assert f"{ansi}{state}" in console.export_text(styles=True)


def test_achieved_is_bold():
    forest = build_forest([objective("o", status={"progress": 1, "score": 1.0, "state": "Achieved"})], [])
    console = Console(record=True, width=120, color_system="standard", force_terminal=True)
    render(forest, console)
    styled = console.export_text(styles=True)
    assert "\x1b[1;32mAchieved" in styled
    assert "██████████ 100%" in styled


def test_key_result_without_status():
    forest = build_forest([objective("o")], [key_result("kr", "o")])
    kr = forest[0].key_results[0]
    assert (kr.current, kr.progress, kr.score, kr.state, kr.evaluated) == (None, None, None, None, False)
    line = next(line for line in text_of(forest).splitlines() if "kr" in line and "──" in line)
    assert "··········    -      -  no status  ?/40.5 minutes" in line


def test_status_without_state_is_unknown():
    forest = build_forest([objective("o")], [key_result("kr", "o", status={"conditions": []})])
    line = next(line for line in text_of(forest).splitlines() if "── kr" in line)
    assert "Unknown" in line


def test_key_result_whose_objective_is_missing_gets_a_placeholder():
    forest = build_forest([objective("real")], [key_result("lost", "ghost"), key_result("mine", "real")])
    assert names(forest) == ["real", "ghost"]  # placeholders after the real trees
    ghost = forest[1]
    assert ghost.missing and [kr.name for kr in ghost.key_results] == ["lost"]
    out = text_of(forest)
    assert "objective not found (named by the key results below)" in out
    assert "└── lost " in out


def test_slo_missing_or_without_status():
    krs = [
        key_result("a", "o", source={"slo": {"name": "nope", "field": "sli"}}),
        key_result("b", "o", source={"slo": {"name": "fresh", "field": "sli"}}),
    ]
    forest = build_forest([objective("o")], krs, [slo("fresh"), slo("nope", namespace="elsewhere")])
    a, b = forest[0].key_results
    assert a.slo is not None and a.slo.found is False  # an SLO of the same name elsewhere does not count
    assert b.slo is not None and b.slo.found is True and b.slo.state is None
    out = text_of(forest)
    assert "slo nope not found" in out
    assert "slo fresh no status" in out


def test_two_cycles_and_a_branch_terminate():
    objectives = [
        objective("a", parent="b"),
        objective("b", parent="a"),
        objective("c", parent="a"),  # hangs off the cycle
        objective("self", parent="self"),
        objective("root"),
    ]
    forest = build_forest(objectives, [key_result("kr", "b")])
    assert names(forest) == ["a", "root", "self"]
    everything = [node.name for node in walk(forest)]
    assert sorted(everything) == ["a", "b", "c", "root", "self"]  # each once
    a = forest[0]
    assert a.cycle and names(a.children) == ["b", "c"]
    assert a.children[0].cycle and not a.children[1].cycle
    assert names(a.children[0].children) == []  # b's child a is already shown: the cycle is cut
    assert forest[2].cycle and forest[2].children == []
    out = text_of(forest)
    assert "ParentCycle: parentRef shop/b leads back here" in out
    assert "ParentCycle: parentRef shop/self leads back here" in out
    assert json.loads(json.dumps(to_data(forest)))[0]["cycle"] is True


def test_cross_namespace_cycle():
    objectives = [
        objective("x", "one", parent="y", parent_ns="two"),
        objective("y", "two", parent="x", parent_ns="one"),
    ]
    forest = build_forest(objectives, [])
    assert [(n.namespace, n.name) for n in walk(forest)] == [("one", "x"), ("two", "y")]


def test_long_chain_has_no_recursion_limit():
    chain = [objective("o0")] + [objective(f"o{i}", parent=f"o{i - 1}") for i in range(1, 3000)]
    forest = build_forest(chain, [])
    assert len(forest) == 1 and len(list(walk(forest))) == 3000
    data = to_data(forest)
    depth = 0
    while data:
        depth, data = depth + 1, data[0]["children"]
    assert depth == 3000
    lines = text_of(forest).splitlines()
    assert len(lines) == 3001 and all(len(line) <= 120 for line in lines)
    assert lines[-1].startswith("…") and "└── o2999 " in lines[-1]


def test_duplicate_and_malformed_objects_do_not_crash():
    objectives = [
        objective("o"),
        objective("o"),
        {"metadata": {"name": "bare"}},  # no spec, no namespace
        {"kind": "Objective"},  # no name: skipped
        objective("weird", status={"progress": "high", "score": None, "state": 3, "conditions": "nope"}),
    ]
    krs = [key_result("k", "o", status={"current": float("nan"), "progress": True}), {"spec": {}}]
    forest = build_forest(objectives, krs, [{"metadata": {}}])
    assert sorted(names(forest)) == ["bare", "o", "weird"]
    weird = next(n for n in forest if n.name == "weird")
    assert weird.progress is None and weird.state is None
    k = next(n for n in forest if n.name == "o").key_results[0]
    assert k.current is None and k.progress is None
    text_of(forest)


def test_json_output_shape():
    data = json.loads(json.dumps(to_data(build_forest(*sample_objects()))))
    (root,) = data
    assert root["kind"] == "Objective" and root["name"] == "platform-excellence" and root["namespace"] == "shop"
    assert (root["progress"], root["score"], root["state"]) == (0.62, 0.62, "OnTrack")
    assert [c["name"] for c in root["children"]] == ["checkout-reliability", "checkout-speed"]
    reliability = root["children"][0]
    assert reliability["parentRef"] == {"namespace": "shop", "name": "platform-excellence"}
    assert reliability["parentFound"] is True and root["parentRef"] is None and root["parentFound"] is None
    kr = reliability["keyResults"][1]
    assert kr == {
        "kind": "KeyResult",
        "name": "checkout-mttr",
        "namespace": "shop",
        "owner": "team",
        "description": "Description of checkout-mttr",
        "direction": "decrease",
        "unit": "minutes",
        "current": 42.0,
        "target": 40.5,
        "min": None,
        "max": None,
        "progress": 0.6667,
        "score": 0.67,
        "state": "OnTrack",
        "finalScore": None,
        "slo": None,
        "problem": None,
    }
    assert reliability["keyResults"][0]["slo"] == {
        "name": "checkout-availability",
        "field": "errorBudgetConsumed",
        "found": True,
        "state": "Healthy",
        "budgetRemaining": 0.65,
        "sli": 99.95,
    }
    speed = root["children"][1]
    assert speed["state"] is None and speed["children"] == [] and speed["keyResults"][0]["state"] is None


def test_render_empty_prints_nothing():
    assert text_of([]) == ""


def test_narrow_console_moves_details_to_their_own_line():
    lines = text_of(build_forest(*sample_objects()), width=80).splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "TITLE" not in lines[0]  # no room for titles
    i = next(i for i, line in enumerate(lines) if "checkout-budget" in line)
    assert lines[i + 1].startswith("│   │ ") and "0.35/≤0.8 of budget" in lines[i + 1]


def test_long_namespaces_are_shortened_before_names():
    company_ns = "a-very-long-namespace-name-for-the-whole-company"
    objectives = [
        objective("company", company_ns),
        objective("team-goal", "another-very-long-namespace-of-one-team", parent="company", parent_ns=company_ns),
    ]
    lines = text_of(build_forest(objectives, [])).splitlines()
    assert lines[1].startswith("a-very-long-namespace-name-for-…/company  ")
    assert lines[2].startswith("└── another-very-long-namespa…/team-goal  ")


def test_show_namespace_forced():
    out = text_of(build_forest([objective("o")], []), show_namespace=True)
    assert out.splitlines()[1].startswith("shop/o ")


@pytest.mark.parametrize(
    ("progress", "bar"),
    [
        (None, "··········    -"),
        (0.0, "░░░░░░░░░░   0%"),
        (0.62, "██████░░░░  62%"),
        (1.0, "██████████ 100%"),
        (1.3, "██████████ 130%"),
        (-0.2, "░░░░░░░░░░ -20%"),
    ],
)
def test_progress_bar(progress, bar):
    assert progress_bar(progress) == bar
    assert len(progress_bar(progress)) == 15


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ({"direction": "decrease", "current": 42.0, "target": 40.5, "unit": "minutes"}, "42/40.5 minutes"),
        ({"direction": "increase", "current": 99.5, "target": 100.0, "unit": "%"}, "99.5/100%"),
        ({"direction": "maintain", "current": 0.35, "maximum": 0.8, "unit": "of budget"}, "0.35/≤0.8 of budget"),
        ({"direction": "maintain", "current": None, "minimum": 99.0}, "?/≥99"),
        ({"direction": "maintain", "current": 99.2, "minimum": 99.0, "maximum": 99.9}, "99.2/99..99.9"),
        ({"direction": "boolean", "current": 1.0}, "1/1"),
        ({"direction": "increase", "current": 123456.0, "target": 200000.0}, "123456/200000"),
    ],
)
def test_key_result_values(spec, text):
    assert key_result_values(KeyResultNode(name="k", namespace="n", **spec)) == text


def test_shorten():
    assert shorten("a  b\nc", 10) == "a b c"
    assert shorten("abcdefghij", 5) == "abcd…"
    assert shorten("abc", 0) == ""


# ------------------------------------------------------------------------------------------ the CLI


class FakeAPI:
    """A plain-HTTP stand-in for the API server: path -> (status, body); records the paths asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, Any]]] = {}
        self.requests: list[str] = []
        self.delay = 0.0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                api.requests.append(path)
                if api.delay:
                    time.sleep(api.delay)
                status, body = api.routes.get(path, (404, _status(404, "NotFound", "the server could not find it")))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def serve(self, namespace: str | None, plural: str, items: list[dict[str, Any]]) -> None:
        path = (
            f"/apis/okr.dev/v1alpha1/namespaces/{namespace}/{plural}"
            if namespace
            else f"/apis/okr.dev/v1alpha1/{plural}"
        )
        self.routes[path] = (200, {"apiVersion": "okr.dev/v1alpha1", "kind": "List", "items": items})


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


@pytest.fixture
def fake_api() -> Iterator[FakeAPI]:
    api = FakeAPI()
    api.thread.start()
    try:
        yield api
    finally:
        api.server.shutdown()
        api.server.server_close()


def write_kubeconfig(path: Path, server: str, namespace: str | None = "shop") -> Path:
    context: dict[str, Any] = {"cluster": "c", "user": "u"}
    if namespace:
        context["namespace"] = namespace
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [
                    {"name": "main", "context": context},
                    {"name": "other", "context": {"cluster": "c", "user": "u", "namespace": "corp"}},
                ],
                "current-context": "main",
            }
        )
    )
    return path


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), prog_name="kubectl okr", env=env, catch_exceptions=False)


def serve_samples(api: FakeAPI, namespace: str | None = "shop") -> None:
    objectives, key_results, slos = sample_objects()
    api.serve(namespace, "objectives", objectives)
    api.serve(namespace, "keyresults", key_results)
    api.serve(namespace, "servicelevelobjectives", slos)


def test_cli_tree_uses_the_context_namespace(fake_api, tmp_path):
    serve_samples(fake_api)
    result = run("tree", "--kubeconfig", str(write_kubeconfig(tmp_path / "kc", fake_api.url)), "--no-color")
    assert result.exit_code == 0, result.output
    assert "platform-excellence" in result.output
    assert "slo checkout-availability Healthy, budget 65% left" in result.output
    assert "\x1b[" not in result.output
    assert fake_api.requests == [
        "/apis/okr.dev/v1alpha1/namespaces/shop/objectives",
        "/apis/okr.dev/v1alpha1/namespaces/shop/keyresults",
        "/apis/okr.dev/v1alpha1/namespaces/shop/servicelevelobjectives",
    ]


def test_cli_json_and_yaml(fake_api, tmp_path):
    serve_samples(fake_api)
    kubeconfig = str(write_kubeconfig(tmp_path / "kc", fake_api.url))
    result = run("tree", "--kubeconfig", kubeconfig, "-n", "shop", "-o", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == to_data(build_forest(*sample_objects()))
    assert data[0]["children"][0]["keyResults"][0]["slo"]["state"] == "Healthy"
    result = run("tree", "--kubeconfig", kubeconfig, "-n", "shop", "-o", "yaml")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output) == data


def test_cli_all_namespaces_and_context(fake_api, tmp_path):
    fake_api.serve(
        None, "objectives", [objective("company", "corp"), objective("o", "shop", parent="company", parent_ns="corp")]
    )
    fake_api.serve(None, "keyresults", [key_result("k", "o", "shop")])
    kubeconfig = str(write_kubeconfig(tmp_path / "kc", fake_api.url))
    result = run("tree", "--kubeconfig", kubeconfig, "-A", "--no-color")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("corp/company ")
    assert lines[2].startswith("└── shop/o ")
    assert "/apis/okr.dev/v1alpha1/servicelevelobjectives" not in fake_api.requests  # no key result needs them

    fake_api.serve("corp", "objectives", [objective("company", "corp")])
    fake_api.serve("corp", "keyresults", [])
    result = run("tree", "--kubeconfig", kubeconfig, "--context", "other", "--no-color")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("company ")


def test_cli_empty_namespace(fake_api, tmp_path):
    fake_api.serve("empty", "objectives", [])
    fake_api.serve("empty", "keyresults", [])
    kubeconfig = str(write_kubeconfig(tmp_path / "kc", fake_api.url))
    result = run("tree", "--kubeconfig", kubeconfig, "-n", "empty")
    assert result.exit_code == 0
    assert result.output == "No objectives in namespace empty.\n"
    result = run("tree", "--kubeconfig", kubeconfig, "-n", "empty", "-o", "json")
    assert result.exit_code == 0 and json.loads(result.output) == []


def test_cli_crds_not_installed(fake_api, tmp_path):
    result = run("tree", "--kubeconfig", str(write_kubeconfig(tmp_path / "kc", fake_api.url)))
    assert result.exit_code == 1
    assert result.output.startswith("error: the Objective CRD (objectives.okr.dev, okr.dev/v1alpha1) is not installed")
    assert "install the okr-operator CRDs first" in result.output
    assert len(result.output.splitlines()) == 1


def test_cli_forbidden(fake_api, tmp_path):
    message = 'objectives.okr.dev is forbidden: User "u" cannot list resource "objectives" in the namespace "shop"'
    fake_api.routes["/apis/okr.dev/v1alpha1/namespaces/shop/objectives"] = (403, _status(403, "Forbidden", message))
    result = run("tree", "--kubeconfig", str(write_kubeconfig(tmp_path / "kc", fake_api.url)))
    assert result.exit_code == 1
    assert result.output == f"error: list Objective: {message} (server {fake_api.url})\n"


def test_cli_slow_server_times_out(fake_api, tmp_path):
    fake_api.delay = 2
    kubeconfig = str(write_kubeconfig(tmp_path / "kc", fake_api.url))
    result = run("tree", "--kubeconfig", kubeconfig, "--request-timeout", "0.2")
    assert result.exit_code == 1
    assert result.output == f"error: no answer from {fake_api.url} within 0.2 s (--request-timeout)\n"


def test_cli_tls_mismatch(fake_api, tmp_path):
    https = fake_api.url.replace("http:", "https:")
    result = run("tree", "--kubeconfig", str(write_kubeconfig(tmp_path / "kc", https)))
    assert result.exit_code == 1
    assert result.output.startswith(f"error: cannot connect to {https}: [SSL")
    assert len(result.output.splitlines()) == 1


def test_cli_no_kubeconfig(tmp_path):
    env = {"KUBECONFIG": str(tmp_path / "missing"), "KUBERNETES_SERVICE_HOST": ""}
    result = run("tree", env=env)
    assert result.exit_code == 1
    assert (
        result.output
        == f"error: no kubeconfig found at {tmp_path / 'missing'}: pass --kubeconfig PATH or set KUBECONFIG\n"
    )


def test_cli_bad_kubeconfig_and_context(tmp_path):
    bad = tmp_path / "bad"
    bad.write_text("this: is: not: yaml")
    result = run("tree", "--kubeconfig", str(bad))
    assert result.exit_code == 1 and result.output.startswith(f"error: cannot load kubeconfig {bad}: ")
    assert len(result.output.splitlines()) == 1
    kubeconfig = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:1")
    result = run("tree", "--kubeconfig", str(kubeconfig), "--context", "nope")
    assert result.exit_code == 1 and "nope" in result.output and len(result.output.splitlines()) == 1


def test_cli_usage_errors():
    result = run("tree", "-n", "a", "-A")
    assert result.exit_code == 2 and "use -n/--namespace or -A/--all-namespaces, not both" in result.output
    result = run("tree", "--request-timeout", "0")
    assert result.exit_code == 2
    result = run("tree", "-o", "wide")
    assert result.exit_code == 2


def test_help_is_readable():
    result = run("--help")
    assert result.exit_code == 0
    assert "Usage: kubectl okr [OPTIONS] COMMAND" in result.output
    assert "kubectl okr tree -A" in result.output
    result = run("tree", "--help")
    assert result.exit_code == 0
    for text in (
        "Usage: kubectl okr tree [OPTIONS]",
        "-n, --namespace NS",
        "-A, --all-namespaces",
        "--kubeconfig",
        "--context",
        "-o, --output [tree|json|yaml]",
        "--no-color",
    ):
        assert text in result.output
    assert all(len(line) <= 80 for line in result.output.splitlines())


def test_unreachable_server_is_one_line(tmp_path):
    """A real process (the console script's module): exit 1, one line on stderr, no traceback."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "c", "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}}
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "okr_operator.cli.kubectl_okr", "tree", "--kubeconfig", str(kubeconfig)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == "error: cannot connect to https://127.0.0.1:1: Connection refused\n"


def test_console_script_is_declared():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'kubectl-okr = "okr_operator.cli.kubectl_okr:main"' in pyproject


def test_tree_shows_the_roll_up_owners_and_children_that_do_not_count():
    """The statuses the evaluation writes (fake Prometheus), shown by the tree."""
    from tests.test_evaluation_okr import evaluate, family, written

    bodies = written(evaluate(family()), family())
    objectives = [b for b in bodies if b["kind"] == "Objective"]
    key_results = [b for b in bodies if b["kind"] == "KeyResult"]
    nodes = build_forest(objectives, key_results)
    lines = text_of(nodes).splitlines()
    assert lines[1].startswith("org/root ") and lines[1].endswith("83%   0.83  OnTrack    owner root-team")
    assert lines[2].startswith("└── company ") and lines[2].endswith("83%   0.83  OnTrack    owner company-team")
    assert lines[4].startswith("    ├── a ") and lines[4].endswith("100%   1.00  Achieved   weight 2  owner a-team")
    assert lines[6].startswith("    ├── b ") and "not counted (NotContributing)  owner b-team" in lines[6]
    assert lines[8].startswith("    └── team/c ") and "not counted (NamespaceNotAllowed)" in lines[8]
    (root,) = to_data(nodes)
    company = root["children"][0]
    assert (company["progress"], company["owner"]) == (0.8333, "company-team")
    kids = {c["name"]: c for c in company["children"]}
    assert (kids["a"]["counted"], kids["a"]["weight"], kids["a"]["notCounted"]) == (True, 2.0, None)
    assert (kids["b"]["counted"], kids["b"]["notCounted"]) == (False, "NotContributing")
    assert kids["c"]["keyResults"][0]["owner"] == "c-team"


def test_tree_shows_the_final_score_after_the_end():
    from tests.test_evaluation_okr import FakePrometheus, evaluate, latency_at, october, written

    bodies = written(evaluate(october(), prom=FakePrometheus(latency_at({"before": 0.22, "after": 0.3}))), october())
    nodes = build_forest([bodies[0]], [bodies[1]])
    out = text_of(nodes)
    assert "80%   0.80  Missed     final 0.80  owner speed-team" in out
    assert to_data(nodes)[0]["finalScore"] == 0.8
