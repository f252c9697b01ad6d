"""The views end to end: the operator (shipped RBAC) scraped by a real Prometheus that has the generated rules
loaded; every query of every dashboard returns data from it; the operator's web view in headless Chromium
shows each sample objective's progress; `kubectl okr serve` shows only what the viewer may list.

Besides the samples (constant healthy traffic, backfilled for a week) the module applies what the other
panels need to show something: a key result that measures cost, is off track and has low confidence, an SLO
whose service fails 5% of requests (its page alert fires), and one whose series do not exist (no data).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
import yaml

from e2e.harness import LocalPrometheus, SyntheticExporter, constant, openmetrics_history, upstream_crds, wait_until
from e2e.harness.browser import dump_dom, screenshot
from e2e.harness.operator import OperatorProcess
from e2e.harness.procs import free_port
from e2e.test_operator import ERROR_RATIO, LATENCY, RATE, apply, operator_identity, samples, status  # noqa: F401
from okr_operator.api.loader import load_manifests
from okr_operator.dashboards import render_dashboards
from okr_operator.dashboards.queries import interpolate, panel_queries
from okr_operator.generated import MANAGED_BY

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "out" / "e2e-artifacts"
SAMPLE_OBJECTIVES = ("platform-excellence", "checkout-reliability", "checkout-speed")


@pytest.fixture(scope="module")
def services() -> dict[str, str]:
    tag = secrets.token_hex(3)
    return {"shop": f"shop{tag}", "burning": f"burn{tag}", "silent": f"silent{tag}"}


@pytest.fixture(scope="module")
def prom(services):
    exporter = SyntheticExporter().start()
    exporter.set(services["shop"], "v1", rate=RATE, error_ratio=ERROR_RATIO, latency=LATENCY)
    exporter.set(services["burning"], "v1", rate=RATE, error_ratio=0.05, latency=LATENCY)
    local = LocalPrometheus(targets=[exporter.target])
    now = time.time()
    history = constant(
        services["shop"], "v1", now - 7 * 86400, now - 30, rate=RATE, error_ratio=ERROR_RATIO, latency=LATENCY
    )
    local.backfill(openmetrics_history([history], step=60))
    local.start()
    try:
        yield local
    finally:
        local.close()
        exporter.stop()


@pytest.fixture(scope="module")
def operator(cluster, prom, operator_identity, prometheus_operator, tmp_path_factory):  # noqa: F811
    cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    cluster.install_crds([*upstream_crds("monitoring.coreos.com"), *upstream_crds("argoproj.io")])
    # the generated rules reach prom through prometheus-operator (a Prometheus resource prom plays)
    with prometheus_operator.loading_into(prom, "e2e-views", {"matchLabels": dict(MANAGED_BY)}, {}):
        op = OperatorProcess(
            operator_identity, prom.url, tmp_path_factory.mktemp("operator") / "operator.log", interval="3s"
        ).start()
        prom.add_target(f"127.0.0.1:{op.metrics_port}", job="okr-operator")
        try:
            yield op
        finally:
            op.stop()


def extras(services: dict[str, str]) -> list[dict]:
    """What the samples lack for the panels: cost, off track, low confidence, a burning SLO, an SLO without data."""

    def slo(name: str, service: str, **alerting: str) -> dict:
        ratio = {
            "errors": f'sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[{{{{window}}}}]))',
            "total": f'sum(rate(http_requests_total{{service="{service}"}}[{{{{window}}}}]))',
        }
        spec = {"service": service, "target": 99.9, "indicator": {"ratio": ratio}, "alerting": alerting}
        meta = {"name": name}
        return {"apiVersion": "okr.dev/v1alpha1", "kind": "ServiceLevelObjective", "metadata": meta, "spec": spec}

    cost = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "KeyResult",
        "metadata": {"name": "cost-per-order", "labels": {"okr.dev/measures": "cost"}},
        "spec": {
            "objectiveRef": {"name": "checkout-efficiency"},
            "description": "Cut infrastructure cost per 1 000 orders from 4.20 to 3.50 USD",
            "direction": "decrease",
            "baseline": 4.2,
            "target": 3.5,
            "unit": "USD",
            "source": {
                "manual": {
                    "checkIns": [
                        {"date": "2026-10-01", "value": 4.2, "confidence": 0.6},
                        {"date": "2026-11-15", "value": 4.1, "confidence": 0.3},
                    ]
                }
            },
        },
    }
    objective = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "Objective",
        "metadata": {"name": "checkout-efficiency"},
        "spec": {"title": "Checkout costs less to run", "owner": "team-checkout", "period": "2026-Q4"},
    }
    return [
        objective,
        cost,
        slo("payments-availability", services["burning"]),
        slo("search-availability", services["silent"], noDataFor="1m"),
    ]


@pytest.fixture(scope="module")
def applied(cluster, operator, prom, services):
    namespace = f"views-{secrets.token_hex(3)}"
    cluster.kubectl("create", "namespace", namespace)
    text = samples(services["shop"]) + "\n---\n" + yaml.safe_dump_all(extras(services))
    apply(cluster, namespace, text)
    ns = f'namespace="{namespace}"'
    for expr, what in (
        (f'okr_objective_progress_ratio{{{ns}, objective="checkout-reliability"}}', "operator metrics scraped"),
        (f'okr_key_result_state{{{ns}, key_result="cost-per-order", state="OffTrack"}} == 1', "cost KR off track"),
        (f'ALERTS{{{ns}, alertname="SLOErrorBudgetBurn", severity="page", alertstate="firing"}}', "a page alert"),
        (f'ALERTS{{{ns}, alertname="SLOMetricsAbsent", alertstate="firing"}}', "the no-data alert"),
        (f'okr_slo_time_to_exhaustion_seconds{{{ns}, slo="checkout-availability"}}', "time to exhaustion"),
        (f'slo:sli_total:rate5m{{{ns}, slo="checkout-latency"}}', "recording rules"),
    ):
        wait_until(lambda e=expr: bool(prom.query(e)), 150, what, interval=1)
    wait_until(
        lambda: all(status(cluster, "obj", namespace, n).get("progress") is not None for n in SAMPLE_OBJECTIVES),
        60,
        "sample objectives evaluated",
    )
    return namespace, text


def _dashboards(namespace: str, text: str) -> dict:
    path = ARTIFACTS / f"manifests-{namespace}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    manifests = load_manifests([str(path)], default_namespace=namespace)
    assert not manifests.errors, manifests.errors
    return render_dashboards(manifests.of_kind("ServiceLevelObjective"))


def test_every_dashboard_query_returns_data(applied, prom):
    """Every panel query and variable returns data; annotations run without error (the incidents annotation
    finds the burning SLO's page alert). The debug dashboard of the SLO without series is the one place where
    no data is the right answer: its queries only have to run."""
    namespace, text = applied
    dashboards = _dashboards(namespace, text)
    assert len(dashboards) == 2 + 4  # executive, on-call, one debug dashboard per SLO
    empty, incidents, ran = [], 0, 0
    now = time.time()
    for name, dashboard in dashboards.items():
        without_data = name.endswith(".search-availability.json")
        for query in panel_queries(dashboard):
            expr = interpolate(query.expr, dashboard, {"namespace": [namespace]})
            result = prom.query(expr) if query.instant else prom.query_range(expr, now - 300, now, step=15)
            ran += 1
            if query.ref == "annotation":
                incidents += bool(result) and query.panel.startswith("Incidents")
            elif not result and not without_data:
                empty.append(f"{name} / {query.panel} / {query.ref}: {expr}")
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query":  # label_values(selector, label) as Grafana runs it
                selector, label = variable["query"].removeprefix("label_values(").removesuffix(")").rsplit(", ", 1)
                chosen = interpolate(selector, dashboard, {"namespace": [namespace]})
                if not prom.query(f"count by ({label}) ({chosen})"):
                    empty.append(f"{name} / variable {variable['name']}")
    print(f"\n{ran} dashboard queries ran against Prometheus without error")
    assert not empty, "queries without data:\n" + "\n".join(empty)
    assert incidents == 3  # executive, on-call, and the burning SLO's debug dashboard


class _Objects(HTMLParser):
    """Elements carrying data-kind (objectives, key results) with the text inside them."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[dict] = []
        self.open: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, **dict(attrs), "text": ""}
        self.open.append(element)
        if "data-kind" in element:
            self.found.append(element)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        while self.open and self.open.pop()["tag"] != tag:
            pass

    def handle_data(self, data):
        for element in self.open:
            element["text"] += data


def test_web_view_in_chromium_shows_each_objective_progress(applied, operator, cluster):
    namespace, _ = applied
    url = f"{operator.web_url}?namespace={namespace}"
    dom = dump_dom(url)
    shown = {e["data-name"]: e for e in _Objects(dom).found if e["data-kind"] == "Objective"}
    for name in (*SAMPLE_OBJECTIVES, "checkout-efficiency"):
        progress = status(cluster, "obj", namespace, name)["progress"]
        element = shown[name]
        assert float(element["data-progress"]) == progress, name
        assert f"{100 * progress:.0f}%" in element["text"], name
        assert (status(cluster, "obj", namespace, name)["state"]) in element["text"]
    krs = {e["data-name"]: e for e in _Objects(dom).found if e["data-kind"] == "KeyResult"}
    assert "confidence 30%" in krs["cost-per-order"]["text"] and "OffTrack" in krs["cost-per-order"]["text"]
    assert "search-availability" in dom and "no data" in dom
    path = screenshot(url, ARTIFACTS / "webview.png")
    print(f"\nscreenshot of the web view: {path}")


def test_kubectl_okr_serve_shows_only_what_the_viewer_may_list(cluster, applied, operator):
    namespace, _ = applied
    hidden = f"hidden-{secrets.token_hex(3)}"
    cluster.kubectl("create", "namespace", hidden)
    secret = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "Objective",
        "metadata": {"name": "secret-plans", "namespace": hidden},
        "spec": {"title": "Not for the viewer", "period": "2026-Q4"},
    }
    cluster.apply(secret)
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "okr-view", "namespace": namespace},
        "rules": [
            {
                "apiGroups": ["okr.dev"],
                "resources": ["objectives", "keyresults", "servicelevelobjectives"],
                "verbs": ["get", "list"],
            }
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "okr-view", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "okr-view"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "okr-viewers"}],
    }
    # Viewers usually may list namespaces; the page then asks, namespace by namespace, where they may list ours.
    namespaces = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "okr-view-namespaces"},
        "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list"]}],
    }
    namespaces_binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "okr-view-namespaces"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "okr-view-namespaces"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "okr-viewers"}],
    }
    cluster.apply([role, binding, namespaces, namespaces_binding])
    port = free_port()
    kubectl_okr = Path(sys.executable).parent / "kubectl-okr"
    proc = subprocess.Popen(
        [str(kubectl_okr), "serve", "--port", str(port), "--kubeconfig", str(cluster.kubeconfig_for("viewer"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until(lambda: proc.poll() is None and _ok(url), 30, "kubectl okr serve")
        page = requests.get(url, timeout=10).text
        assert 'data-name="checkout-reliability"' in page and 'data-name="secret-plans"' not in page
        assert hidden not in page
        assert "token" not in page.lower() and str(cluster.server) not in page
        admin = cluster.kubectl("get", "objectives", "-A", "-o", "json").stdout
        assert "secret-plans" in json.dumps(json.loads(admin))  # it exists; the viewer just may not see it
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert f"objectives: {namespace}" in err, err


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
