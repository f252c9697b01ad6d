"""Grafana dashboards: golden files for the samples, the shipped copies, structure (uids, ids, variables,
annotations), valid PromQL in every query, and the chart's and the kustomize component's ConfigMaps.

Regenerate the golden files after an intended change with: UPDATE_GOLDEN=1 make unit
(the shipped copies with `make dashboards`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import promql_parser
import pytest
from click.testing import CliRunner

from okr_operator.api.loader import load_manifests
from okr_operator.cli.main import cli
from okr_operator.dashboards import dashboard_text, debug_uid, render_dashboards
from okr_operator.dashboards.queries import interpolate, panel_queries
from okr_operator.series_names import HELP

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "dashboards"
SAMPLES = ROOT / "config" / "samples"


def samples() -> dict:
    manifests = load_manifests([str(SAMPLES)], default_namespace="demo")
    return render_dashboards(manifests.of_kind("ServiceLevelObjective"))


def test_samples_match_golden_files(tmp_path):
    result = CliRunner().invoke(cli, ["dashboards", "-f", str(SAMPLES), "-n", "demo", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = {p.name: p.read_text() for p in sorted(tmp_path.iterdir())}
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN.glob("*.json"):
            old.unlink()
        for name, text in written.items():
            (GOLDEN / name).write_text(text)
    golden = {p.name: p.read_text() for p in sorted(GOLDEN.glob("*.json"))}
    assert sorted(written) == [
        "okr-debug.demo.checkout-availability.json",
        "okr-debug.demo.checkout-latency.json",
        "okr-executive.json",
        "okr-on-call.json",
    ]
    assert written == golden, "dashboards changed; UPDATE_GOLDEN=1 to accept"


@pytest.mark.parametrize("where", ["charts/okr-operator/dashboards", "config/dashboards"])
def test_shipped_copies_are_current(where):
    result = CliRunner().invoke(cli, ["dashboards", "-o", str(ROOT / where), "--check"])
    assert result.exit_code == 0, f"{result.output}run `make dashboards`"
    assert sorted(p.name for p in (ROOT / where).glob("*.json")) == ["okr-executive.json", "okr-on-call.json"]


def test_bad_manifests_write_nothing(tmp_path):
    bad = ROOT / "tests" / "data" / "bad" / "target-0.yaml"
    result = CliRunner().invoke(cli, ["dashboards", "-f", str(bad), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "no dashboards written" in result.output
    assert not (tmp_path / "out").exists()


def test_uids_are_stable_and_short():
    dashboards = samples()
    uids = [d["uid"] for d in dashboards.values()]
    assert uids[:2] == ["okr-executive", "okr-on-call"]
    assert len(set(uids)) == len(uids) and all(len(u) <= 40 for u in uids)
    manifests = load_manifests([str(SAMPLES)], default_namespace="demo")
    availability = next(s for s in manifests.of_kind("ServiceLevelObjective") if s.metadata.name.endswith("ty"))
    assert (
        debug_uid(availability)
        == "okr-debug-" + __import__("hashlib").sha1(b"demo/checkout-availability").hexdigest()[:12]
    )
    assert samples() == dashboards  # deterministic


def test_panels_have_unique_ids_titles_descriptions_and_ref_ids():
    for dashboard in samples().values():
        panels = dashboard["panels"]
        assert len({p["id"] for p in panels}) == len(panels), dashboard["uid"]
        for panel in panels:
            assert panel["title"]
            if panel["type"] == "row":
                continue
            assert panel["description"], panel["title"]
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            refs = [t["refId"] for t in panel["targets"]]
            assert refs == [chr(ord("A") + i) for i in range(len(refs))]


def test_variables_and_annotations():
    dashboards = samples()
    names = {uid: [v["name"] for v in d["templating"]["list"]] for uid, d in dashboards.items()}
    assert names["okr-executive.json"] == ["datasource", "namespace", "objective", "service"]
    assert names["okr-on-call.json"] == ["datasource", "namespace", "service"]
    assert names["okr-debug.demo.checkout-latency.json"] == ["datasource"]
    for dashboard in dashboards.values():
        annotations = {a["name"]: a["expr"] for a in dashboard["annotations"]["list"]}
        assert "rollout_info" in annotations["Deployments (Argo Rollouts)"]
        assert 'severity="page", alertstate="firing"' in annotations["Incidents (firing page alerts)"]


def test_every_query_is_valid_promql_for_any_choice_of_variables():
    for dashboard in samples().values():
        queries = list(panel_queries(dashboard))
        assert queries
        for query in queries:
            for chosen in (None, {"namespace": ["demo"], "objective": ["a.b", "c"], "service": ["checkout"]}):
                expr = interpolate(query.expr, dashboard, chosen)
                assert "$" not in expr, expr
                promql_parser.parse(expr)


def test_interpolation_like_grafana():
    dashboard = {"templating": {"list": [{"name": "namespace", "allValue": ".*", "current": {"value": ["$__all"]}}]}}
    assert interpolate('x{namespace=~"$namespace"}', dashboard) == 'x{namespace=~".*"}'
    assert interpolate('x{namespace=~"${namespace}"}', dashboard, {"namespace": ["a.b"]}) == 'x{namespace=~"a\\\\.b"}'
    assert interpolate('x{namespace=~"$namespace"}', dashboard, {"namespace": ["a", "b"]}) == 'x{namespace=~"(a|b)"}'


def _metric_names(node) -> set[str]:
    """Names of the series an expression selects (walks promql_parser's tree)."""
    kind = type(node).__name__
    if kind == "VectorSelector":
        return {node.name} if node.name else set()
    children = []
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        if hasattr(node, attr) and getattr(node, attr) is not None:
            children.append(getattr(node, attr))
    children.extend(getattr(node, "args", None) or [])
    return set().union(*(_metric_names(c) for c in children)) if children else set()


def test_queries_read_only_exported_or_generated_series():
    """A dashboard that names a metric the operator does not export shows nothing: catch typos here."""
    known = set(HELP) | {"ALERTS", "rollout_info", "slo:sli_errors:rate5m", "slo:sli_total:rate5m"}
    indicator = {"http_requests_total", "http_request_duration_seconds_count", "http_request_duration_seconds_bucket"}
    seen = set()
    for dashboard in samples().values():
        for query in panel_queries(dashboard):
            names = _metric_names(promql_parser.parse(interpolate(query.expr, dashboard)))
            allowed = known | (indicator if query.panel == "Raw indicator queries" else set())
            assert names <= allowed, f"{dashboard['uid']} {query.panel}: {names - allowed}"
            seen |= names
    assert {"okr_slo_time_to_exhaustion_seconds", "okr_key_result_expected_progress_ratio", "ALERTS"} <= seen


def test_dashboard_text_is_stable_json():
    data = samples()["okr-executive.json"]
    text = dashboard_text(data)
    assert text.endswith("}\n") and json.loads(text) == data


# ------------------------------------------------------------------------- shipped as ConfigMaps


def _configmaps(objs):
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == "ConfigMap"}


@pytest.mark.tools  # helm
def test_chart_ships_dashboards_for_the_sidecar_when_enabled():
    from tests.test_chart import CHART, template

    helm = _helm()
    assert _configmaps(template(helm)) == {}
    maps = _configmaps(template(helm, "--set", "dashboards.enabled=true"))
    assert sorted(maps) == ["okr-operator-dashboard-executive", "okr-operator-dashboard-on-call"]
    executive = maps["okr-operator-dashboard-executive"]
    assert executive["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert executive["metadata"]["namespace"] == "okr-system"
    shipped = (CHART / "dashboards" / "okr-executive.json").read_text()
    assert json.loads(executive["data"]["okr-executive.json"]) == json.loads(shipped)
    custom = _configmaps(
        template(
            helm,
            *("--set", "dashboards.enabled=true", "--set", "dashboards.label=my_dashboards"),
            *("--set", "dashboards.labelValue=okr", "--set", "dashboards.namespace=monitoring"),
            *("--set", "dashboards.annotations.grafana_folder=OKR"),
        )
    )["okr-operator-dashboard-on-call"]["metadata"]
    assert custom["labels"]["my_dashboards"] == "okr" and "grafana_dashboard" not in custom["labels"]
    assert custom["namespace"] == "monitoring" and custom["annotations"] == {"grafana_folder": "OKR"}


def _helm():
    from e2e.tools import build

    if not (build.TOOLS_DIR / build.TOOLS["helm"].wrapper / "go.mod").exists():
        pytest.skip("the Testbed has no helm wrapper module yet (e2e/tools/helm/go.mod)")
    return build.tool_path("helm")


def test_kustomize_component_ships_the_same_dashboards(tmp_path):
    from tests.test_kustomize import CONFIG, kustomize

    overlay = tmp_path / "overlay"
    overlay.mkdir()
    rel = os.path.relpath(CONFIG, overlay)
    (overlay / "kustomization.yaml").write_text(f"resources: [{rel}/default]\ncomponents: [{rel}/dashboards]\n")
    maps = _configmaps(kustomize(overlay))
    assert sorted(maps) == ["okr-operator-dashboard-executive", "okr-operator-dashboard-on-call"]
    on_call = maps["okr-operator-dashboard-on-call"]
    assert on_call["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert on_call["metadata"]["namespace"] == "okr-system"
    assert json.loads(on_call["data"]["okr-on-call.json"]) == render_dashboards()["okr-on-call.json"]
