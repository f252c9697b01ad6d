"""Tests of the Testbed itself: real etcd, kube-apiserver, kube-controller-manager and Prometheus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes import config as kube_config
from kubernetes.client.rest import ApiException

from e2e.harness import (
    LocalCluster,
    LocalPrometheus,
    PrometheusError,
    SeriesSpec,
    Span,
    Traffic,
    openmetrics_history,
    upstream_crds,
)
from e2e.harness.procs import wait_until
from e2e.tools.build import KUBERNETES_VERSION, TOOLS

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent

# A minimal CRD with an OpenAPI bound and a CEL rule, standing in until the project's crds/ land.
WIDGET_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.testbed.okr.dev
spec:
  group: testbed.okr.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [target, window]
              properties:
                target: {type: number, minimum: 0, maximum: 100}
                window: {type: string}
              x-kubernetes-validations:
                - rule: "self.window.matches('^[0-9]+[dhm]$')"
                  message: "window must be a duration like 28d"
                  fieldPath: ".window"
"""


def widget(name: str, target: float, window: str) -> dict:
    return {
        "apiVersion": "testbed.okr.dev/v1alpha1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"target": target, "window": window},
    }


@pytest.fixture(scope="module")
def widget_crd(cluster, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("crd") / "widgets.yaml"
    path.write_text(WIDGET_CRD)
    (name,) = cluster.install_crds([path])
    return name


@pytest.fixture(scope="module")
def upstream(cluster) -> list[str]:
    return cluster.install_crds([*upstream_crds("monitoring.coreos.com"), *upstream_crds("argoproj.io")])


# ------------------------------------------------------------------------------ control plane


def test_apiserver_reports_pinned_version(cluster, e2e_backend):
    if e2e_backend != "local":
        pytest.skip("the version pin is about the locally built kube-apiserver")
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == f"v{KUBERNETES_VERSION}"


def test_crd_schema_and_cel_validation(cluster, namespace, widget_crd):
    assert widget_crd == "widgets.testbed.okr.dev"
    cluster.apply(widget("good", 99.9, "28d"), "-n", namespace)
    got = json.loads(cluster.kubectl("get", "widget", "good", "-n", namespace, "-o", "json").stdout)
    assert got["spec"] == {"target": 99.9, "window": "28d"}

    schema = cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(widget("too-high", 150, "28d")), check=False
    )
    assert schema.returncode != 0
    assert "spec.target" in schema.stderr and "100" in schema.stderr, schema.stderr

    cel = cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(widget("bad-window", 99, "monthly")), check=False
    )
    assert cel.returncode != 0
    assert "spec.window" in cel.stderr and "window must be a duration like 28d" in cel.stderr, cel.stderr
    names = cluster.kubectl("get", "widgets", "-n", namespace, "-o", "name").stdout.split()
    assert names == ["widget.testbed.okr.dev/good"]


def _project_crd_files() -> list[Path]:
    return sorted(p for p in (REPO / "crds").glob("*.yaml") if p.is_file())


@pytest.mark.skipif(not _project_crd_files(), reason="no crds/*.yaml in the repo yet (Foundation issue)")
def test_project_crds_accept_samples_and_reject_invalid(cluster, namespace):
    names = cluster.install_crds(_project_crd_files())
    assert "servicelevelobjectives.okr.dev" in names
    samples = sorted((REPO / "config" / "samples").glob("*.yaml"))
    assert samples, "config/samples/*.yaml is empty"
    for sample in samples:
        result = cluster.kubectl("apply", "-n", namespace, "-f", str(sample), check=False)
        assert result.returncode == 0, f"{sample.name}: {result.stderr}"
    slos = [d for d in yaml.safe_load_all((REPO / "config/samples/slos.yaml").read_text()) if d]
    stored = cluster.kubectl("get", "servicelevelobjectives", "-n", namespace, "-o", "name").stdout.split()
    assert len(stored) == len(slos)

    slo = json.loads(json.dumps(slos[0]))
    slo["metadata"]["name"] = "invalid-target"
    slo["spec"]["target"] = 150
    bad = cluster.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(slo), check=False)
    assert bad.returncode != 0
    assert "spec.target" in bad.stderr, bad.stderr

    slo = json.loads(json.dumps(slos[0]))
    slo["metadata"]["name"] = "two-indicators"
    slo["spec"]["indicator"]["latency"] = {"histogram": "http_request_duration_seconds", "threshold": 0.3}
    bad = cluster.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(slo), check=False)
    assert bad.returncode != 0
    assert "spec.indicator" in bad.stderr and "exactly one of" in bad.stderr, bad.stderr


def _okrctl() -> Path:
    return Path(sys.executable).parent / "okrctl"


def _generated(namespace: str) -> list[dict]:
    out = subprocess.run(
        [str(_okrctl()), "generate", "-f", str(REPO / "config" / "samples"), "-n", namespace],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


# ------------------------------------------------------------------------------ upstream CRDs

VALID_PROMETHEUS_RULE = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {"name": "checkout-slo"},
    "spec": {
        "groups": [
            {
                "name": "checkout-slo",
                "interval": "30s",
                "rules": [
                    {
                        "record": "slo:sli_error:ratio_rate5m",
                        "expr": 'sum(rate(http_requests_total{code="500"}[5m])) / sum(rate(http_requests_total[5m]))',
                        "labels": {"service": "checkout"},
                    },
                    {
                        "alert": "CheckoutErrorBudgetBurn",
                        "expr": "slo:sli_error:ratio_rate5m > 14.4 * 0.001",
                        "for": "2m",
                        "labels": {"severity": "page"},
                    },
                ],
            }
        ]
    },
}

VALID_ANALYSIS_TEMPLATE = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AnalysisTemplate",
    "metadata": {"name": "checkout-error-budget"},
    "spec": {
        "args": [{"name": "service"}],
        "metrics": [
            {
                "name": "error-ratio",
                "interval": "1m",
                "count": 5,
                "failureLimit": 1,
                "successCondition": "result[0] < 0.01",
                "provider": {
                    "prometheus": {
                        "address": "http://prometheus.monitoring:9090",
                        "query": 'sum(rate(http_requests_total{service="{{args.service}}",code="500"}[5m]))',
                    }
                },
            }
        ],
    },
}


def _dry_run(cluster, namespace: str, obj: dict):
    """As okrctl writes it (``yamlio``: strings go-yaml would read as numbers are quoted)."""
    from okr_operator import yamlio

    return cluster.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", input=yamlio.dump(obj), check=False)


def test_upstream_crds_installed(cluster, upstream):
    assert "prometheusrules.monitoring.coreos.com" in upstream
    assert "servicemonitors.monitoring.coreos.com" in upstream
    for crd in ("rollouts", "analysistemplates", "clusteranalysistemplates", "analysisruns", "experiments"):
        assert f"{crd}.argoproj.io" in upstream


def test_prometheus_rule_dry_run(cluster, namespace, upstream):
    ok = _dry_run(cluster, namespace, VALID_PROMETHEUS_RULE)
    assert ok.returncode == 0, ok.stderr
    assert "(server dry run)" in ok.stdout

    wrong = json.loads(json.dumps(VALID_PROMETHEUS_RULE))
    rule = wrong["spec"]["groups"][0]["rules"][1]
    del rule["expr"]
    rule["for"] = "two minutes"
    bad = _dry_run(cluster, namespace, wrong)
    assert bad.returncode != 0
    assert "spec.groups[0].rules[1].expr" in bad.stderr, bad.stderr
    assert "spec.groups[0].rules[1].for" in bad.stderr, bad.stderr
    # Dry run stored nothing.
    assert cluster.kubectl("get", "prometheusrules", "-n", namespace, "-o", "name").stdout.strip() == ""


def test_analysis_template_dry_run(cluster, namespace, upstream):
    ok = _dry_run(cluster, namespace, VALID_ANALYSIS_TEMPLATE)
    assert ok.returncode == 0, ok.stderr

    wrong = json.loads(json.dumps(VALID_ANALYSIS_TEMPLATE))
    del wrong["spec"]["metrics"][0]["provider"]
    wrong["spec"]["metrics"][0]["count"] = "five"
    bad = _dry_run(cluster, namespace, wrong)
    assert bad.returncode != 0
    assert "spec.metrics[0].provider" in bad.stderr, bad.stderr


@pytest.mark.skipif(not _okrctl().exists(), reason="okrctl is not installed in this environment")
def test_generated_objects_pass_upstream_schemas(cluster, namespace, upstream):
    objects = _generated(namespace)
    kinds = {o["kind"] for o in objects}
    assert {"PrometheusRule", "AnalysisTemplate"} <= kinds, kinds
    for obj in objects:
        result = _dry_run(cluster, namespace, obj)
        assert result.returncode == 0, f"{obj['kind']}/{obj['metadata']['name']}: {result.stderr}"


@pytest.mark.skipif(not _okrctl().exists(), reason="okrctl is not installed in this environment")
def test_generated_prometheus_rules_load_into_prometheus(prometheus):
    rules = [o for o in _generated("default") if o["kind"] == "PrometheusRule"]
    assert rules
    for i, rule in enumerate(rules):
        prometheus.load_rules(rule, name=f"generated-{i}")
    loaded = prometheus.rule_groups()
    for rule in rules:
        for group in rule["spec"]["groups"]:
            assert len(loaded[group["name"]]) == len(group["rules"])
    for i in range(len(rules)):
        prometheus.remove_rules(f"generated-{i}")


# ------------------------------------------------------------------------------ RBAC and GC


def test_rbac_denies_until_granted(cluster, namespace, widget_crd):
    if not isinstance(cluster, LocalCluster):
        pytest.skip("test identities exist only on the local backend")
    user = f"nobody-{namespace}"
    cluster.mint_user(user, ["okr-testers"])
    denied = cluster.kubectl("get", "widgets", "-n", namespace, user=user, check=False)
    assert denied.returncode != 0
    assert "Forbidden" in denied.stderr and user in denied.stderr, denied.stderr

    api = client.CustomObjectsApi(kube_config.new_client_from_config(config_file=str(cluster.kubeconfig_for(user))))
    with pytest.raises(ApiException) as exc:
        api.list_namespaced_custom_object("testbed.okr.dev", "v1alpha1", namespace, "widgets")
    assert exc.value.status == 403

    cluster.kubectl("create", "role", "widget-reader", "--verb=list,get", "--resource=widgets", "-n", namespace)
    cluster.kubectl("create", "rolebinding", "testers", "--role=widget-reader", "--group=okr-testers", "-n", namespace)
    wait_until(
        lambda: cluster.kubectl("get", "widgets", "-n", namespace, user=user, check=False).returncode == 0,
        30,
        "the RoleBinding to take effect",
    )
    # The grant is namespaced: the default namespace stays forbidden.
    other = cluster.kubectl("get", "widgets", "-n", "default", user=user, check=False)
    assert other.returncode != 0 and "Forbidden" in other.stderr


def test_token_identity_from_static_file(cluster, namespace):
    if not isinstance(cluster, LocalCluster):
        pytest.skip("test identities exist only on the local backend")
    whoami = json.loads(cluster.kubectl("auth", "whoami", "-o", "json", user="viewer").stdout)
    assert whoami["status"]["userInfo"]["username"] == "viewer"
    assert "okr-viewers" in whoami["status"]["userInfo"]["groups"]
    denied = cluster.kubectl("get", "configmaps", "-n", namespace, user="viewer", check=False)
    assert denied.returncode != 0 and "Forbidden" in denied.stderr


def test_garbage_collector_deletes_dependents(cluster, namespace):
    v1 = client.CoreV1Api(cluster.api_client)
    owner = v1.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"), data={"role": "owner"})
    )
    ref = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    v1.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dependent", owner_references=[ref]), data={"a": "b"}),
    )
    v1.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="bystander"), data={"a": "b"})
    )
    v1.delete_namespaced_config_map("owner", namespace)

    def dependent_gone() -> bool:
        try:
            v1.read_namespaced_config_map("dependent", namespace)
        except ApiException as exc:
            return exc.status == 404
        return False

    wait_until(dependent_gone, 60, "the garbage collector to delete the dependent ConfigMap", interval=0.5)
    assert v1.read_namespaced_config_map("bystander", namespace).data == {"a": "b"}


# ------------------------------------------------------------------------------ Prometheus

DAY = 86400


def test_backfilled_history_queries_exactly(prometheus):
    end = (int(time.time()) // 3600 - 1) * 3600  # an hour boundary, 1-2 h ago
    start = end - 14 * DAY
    latency = ((0.05, 0.9), (0.3, 0.1))
    spec = SeriesSpec(
        "backfill-svc",
        "v1",
        [
            Span(start, start + 7 * DAY, Traffic(rate=2, error_ratio=0.01, latency=latency)),
            Span(start + 7 * DAY, end, Traffic(rate=4, error_ratio=0.05, latency=latency)),
        ],
    )
    began = time.monotonic()
    text = openmetrics_history([spec], step=300)
    prometheus.backfill(text)
    print(f"\n14 days of history ({len(text.splitlines())} samples) backfilled in {time.monotonic() - began:.1f} s")

    errors = prometheus.query_value('http_requests_total{service="backfill-svc",code="500"}', at=end)
    assert errors == spec.requests_at(end, code="500")
    assert errors == pytest.approx(2 * 7 * DAY * 0.01 + 4 * 7 * DAY * 0.05, rel=1e-12)  # 133056
    second_week = prometheus.query_value(
        'http_requests_total{service="backfill-svc",code="500"}'
        ' - http_requests_total{service="backfill-svc",code="500"} offset 7d',
        at=end,
    )
    assert second_week == pytest.approx(4 * 7 * DAY * 0.05, rel=1e-12)
    fast = prometheus.query_value(
        'http_request_duration_seconds_bucket{service="backfill-svc",le="0.1"}'
        ' / ignoring(le) http_request_duration_seconds_count{service="backfill-svc"}',
        at=end,
    )
    assert fast == pytest.approx(0.9, rel=1e-12)
    # Nothing after the history ends.
    assert prometheus.query_value('http_requests_total{service="backfill-svc"}', at=end + 3600) is None

    # The data survives a restart (tests stop and start Prometheus to test resilience).
    prometheus.stop()
    assert not prometheus.running()
    prometheus.start()
    assert prometheus.query_value('http_requests_total{service="backfill-svc",code="500"}', at=end) == errors


def test_rules_from_a_prometheus_rule_evaluate(prometheus):
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "testbed"},
        "spec": {
            "groups": [
                {
                    "name": "testbed-rules",
                    "interval": "1s",
                    "rules": [
                        {"record": "testbed:answer", "expr": "vector(42)", "labels": {"origin": "testbed"}},
                        {"alert": "TestbedAlwaysFiring", "expr": "testbed:answer > 40", "labels": {"sev": "x"}},
                    ],
                }
            ]
        },
    }
    path = prometheus.load_rules(rule, name="testbed")
    assert path.exists()
    assert prometheus.wait_for('testbed:answer{origin="testbed"}', timeout=30) == 42
    assert prometheus.wait_for('ALERTS{alertname="TestbedAlwaysFiring",alertstate="firing"}', timeout=30) == 1

    with pytest.raises(PrometheusError, match="promtool check rules"):
        prometheus.load_rules([{"name": "broken", "rules": [{"record": "x", "expr": "sum(("}]}], name="broken")
    assert "broken" not in prometheus.rule_groups()
    prometheus.remove_rules("testbed")
    assert "testbed-rules" not in prometheus.rule_groups()


def test_exporter_error_ratio_changes_at_runtime(prometheus, exporter):
    exporter.set("exp-svc", "v1", rate=200, error_ratio=0.0)
    exporter.set("exp-svc", "v2", rate=200, error_ratio=0.5)
    ratio = (
        'sum by (version) (rate(http_requests_total{{service="exp-svc",version="{v}",code="500"}}[3s]))'
        ' / sum by (version) (rate(http_requests_total{{service="exp-svc",version="{v}"}}[3s]))'
    )
    assert prometheus.wait_for(ratio.format(v="v1"), lambda r: r == 0.0, timeout=30) == 0.0
    assert prometheus.wait_for(ratio.format(v="v2"), lambda r: abs(r - 0.5) < 0.02, timeout=30)

    exporter.set("exp-svc", "v1", error_ratio=0.2)
    value = prometheus.wait_for(ratio.format(v="v1"), lambda r: abs(r - 0.2) < 0.01, timeout=30)
    print(f"\nerror ratio after the change: {value:.4f}")
    rate = prometheus.wait_for('sum(rate(http_requests_total{service="exp-svc",version="v1"}[3s]))', timeout=10)
    assert rate == pytest.approx(200, rel=0.15)


# ------------------------------------------------------------------------------ warm start


def test_warm_start_under_15_seconds():
    began = time.monotonic()
    prom = LocalPrometheus()
    local = LocalCluster()
    try:
        prom.start()
        local.start()
        elapsed = time.monotonic() - began
        print(
            f"\nwarm start: cluster {local.started_in:.1f} s + prometheus {prom.started_in:.1f} s"
            f" = {elapsed:.1f} s total"
        )
        assert local.kubectl("get", "namespace", "default", "-o", "name").stdout.strip() == "namespace/default"
        assert prom.query_value("vector(1)") == 1
        pids = [p.pid for p in local.processes.values()] + [prom.proc.pid]
    finally:
        local.stop()
        prom.close()
    for pid in pids:  # no orphans: every process is gone (and reaped)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not local.dir.exists() and not prom.dir.exists()
    assert elapsed < 15, f"warm start took {elapsed:.1f} s (target < 15 s)"


# ------------------------------------------------------------------------------ optional components


@pytest.mark.slow
@pytest.mark.skipif(
    not (TOOLS["kwok"].cached and TOOLS["kube-scheduler"].cached),
    reason="optional tools not built: python -m e2e.tools.build kwok scheduler",
)
def test_kwok_fake_node_runs_a_scheduled_pod():
    with LocalCluster(scheduler=True) as local:
        local.start_kwok()
        local.apply(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "fake-0", "annotations": {"kwok.x-k8s.io/node": "fake"}},
            }
        )
        local.wait_for_service_account()
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "containers": [{"name": "web", "image": "example.invalid/web:1"}],
                # New Nodes get node.kubernetes.io/not-ready:NoSchedule at admission; the node-lifecycle
                # controller that would lift it is off (no kubelets), so pods tolerate it.
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}],
            },
        }
        local.apply(pod)
        phase = ("get", "pod", "web", "-o", "jsonpath={.spec.nodeName}/{.status.phase}")
        wait_until(lambda: local.kubectl(*phase).stdout == "fake-0/Running", 60, "the pod to run on fake-0")
        node = json.loads(local.kubectl("get", "node", "fake-0", "-o", "json").stdout)
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True"
