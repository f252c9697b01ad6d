"""Generated rules through the real prometheus-operator v0.85: its rule selection and its admission webhook.

prometheus-operator runs against the Testbed apiserver as its own ServiceAccount (upstream's ClusterRole) and
writes the ``prometheus-okr-rulefiles-N`` ConfigMaps for a ``Prometheus`` resource; RuleFileProjection puts
them into a LocalPrometheus (the pod that would mount them) and reloads it. The okr-operator runs with the
shipped RBAC. Its RulesSynced condition must agree with what prometheus-operator actually loaded.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.harness import LocalPrometheus, SyntheticExporter, upstream_crds, wait_until
from e2e.harness.cluster import kubectl_binary
from e2e.harness.operator import OperatorProcess, serviceaccount_kubeconfig
from e2e.harness.prometheus_operator import WEBHOOK_NAME, PrometheusOperator
from okr_operator.generated import MANAGED_BY
from okr_operator.runtime.settings import from_env
from okr_operator.slo.expressions import TOTAL_RECORD, identity_selector

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = "okr"  # the Prometheus resource, in namespace "monitoring"
INTERVAL = 2


def shipped_rule_labels() -> dict[str, str]:
    """The labels the kustomize config and the chart put on generated rules by default (they must agree)."""
    manager = yaml.safe_load((ROOT / "config" / "manager" / "manager.yaml").read_text())
    env = {e["name"]: e.get("value", "") for e in manager["spec"]["template"]["spec"]["containers"][0]["env"]}
    kustomize = from_env({"OKR_RULE_LABELS": env["OKR_RULE_LABELS"]}).rule_labels
    chart = yaml.safe_load((ROOT / "charts" / "okr-operator" / "values.yaml").read_text())["ruleLabels"] or {}
    assert kustomize == chart, "config/ and the chart disagree on the labels of generated rules"
    return {**kustomize, **MANAGED_BY}


DEFAULT_SELECTOR = {"matchLabels": shipped_rule_labels()}


@pytest.fixture(scope="module")
def promop(prometheus_operator) -> PrometheusOperator:
    return prometheus_operator


@pytest.fixture(scope="module")
def prom(promop, cluster):
    exporter = SyntheticExporter().start()
    exporter.set("checkout", "v1", rate=10.0, error_ratio=0.001)  # the samples' service
    local = LocalPrometheus(targets=[exporter.target]).start()
    try:
        with promop.loading_into(local, PROMETHEUS, DEFAULT_SELECTOR, {}):
            yield local
    finally:
        local.close()
        exporter.stop()


@pytest.fixture(scope="module")
def operator(cluster, prom, promop, tmp_path_factory):
    cluster.install_crds([*sorted((ROOT / "crds").glob("*.yaml")), *upstream_crds("argoproj.io")])
    cluster.kubectl("create", "namespace", "okr-system", check=False)
    rbac = subprocess.run(
        [kubectl_binary(), "kustomize", str(ROOT / "config" / "rbac")], capture_output=True, text=True, check=True
    ).stdout
    cluster.kubectl("apply", "-f", "-", input=rbac)
    identity = serviceaccount_kubeconfig(cluster, "okr-system", "okr-operator", tmp_path_factory.mktemp("sa") / "sa")
    op = OperatorProcess(
        identity, prom.url, tmp_path_factory.mktemp("okr") / "operator.log", interval=f"{INTERVAL}s"
    ).start()
    try:
        yield op
    finally:
        op.stop()
        print(f"\nokr-operator log: {op.proc.log_path}")


def get(cluster, kind: str, namespace: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    return json.loads(out.stdout) if out.returncode == 0 else {}


def condition(cluster, kind: str, namespace: str, name: str, type_: str) -> dict[str, Any]:
    st = get(cluster, kind, namespace, name).get("status") or {}
    return next((c for c in st.get("conditions") or [] if c["type"] == type_), {})


def wait_synced(cluster, kind: str, ns: str, name: str, reason: str, timeout: float = 60) -> dict[str, Any]:
    box: dict[str, Any] = {}

    def check() -> bool:
        box["c"] = condition(cluster, kind, ns, name, "RulesSynced")
        return box["c"].get("reason") == reason

    try:
        wait_until(check, timeout, f"{kind}/{name} RulesSynced reason {reason}", interval=0.5)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; last: {json.dumps(box.get('c'), indent=1)}") from None
    return box["c"]


def rule_files_of(promop, namespace: str) -> set[str]:
    """Names of the rule files (``<namespace>-<rule>-<uid>.yaml``) prometheus-operator wrote for a namespace."""
    files = set()
    for data in promop.rule_files(PROMETHEUS).values():
        files |= {f for f in data if f.startswith(f"{namespace}-")}
    return files


def loaded_groups(prom: LocalPrometheus, namespace: str) -> set[str]:
    return {g for g in prom.rule_groups() if namespace in g}


def sample_rules(namespace: str) -> list[dict[str, Any]]:
    """The PrometheusRules the operator generates for config/samples/ in ``namespace`` (okrctl generate)."""
    from okr_operator.api.loader import load_manifests
    from okr_operator.cli.main import generated_objects
    from okr_operator.generate import RenderOptions

    samples = load_manifests([str(ROOT / "config" / "samples")], default_namespace=namespace)
    return [o for o in generated_objects(samples, RenderOptions()) if o["kind"] == "PrometheusRule"]


def sample_groups(namespace: str) -> set[str]:
    return {g["name"] for rule in sample_rules(namespace) for g in rule["spec"]["groups"]}


@pytest.fixture
def samples(cluster, namespace, operator):
    cluster.kubectl("apply", "-n", namespace, "-f", str(ROOT / "config" / "samples"))
    return namespace


def set_selector(cluster, promop, field: str, selector: dict[str, Any]) -> None:
    """Replace one selector of the Prometheus resource (a merge patch would merge matchLabels)."""
    patch = [{"op": "replace", "path": f"/spec/{field}", "value": selector}]
    cluster.kubectl("patch", "prometheus", PROMETHEUS, "-n", promop.namespace, "--type=json", "-p", json.dumps(patch))


def uids(cluster, namespace: str) -> dict[str, str]:
    items = json.loads(cluster.kubectl("get", "prometheusrules", "-n", namespace, "-o", "json").stdout)["items"]
    return {r["metadata"]["name"]: r["metadata"]["uid"] for r in items}


def test_generated_rules_are_selected_and_loaded_with_the_default_labels(cluster, promop, prom, samples):
    ns = samples
    for kind, name in (("slo", "checkout-availability"), ("slo", "checkout-latency"), ("kr", "sli-coverage")):
        synced = wait_synced(cluster, kind, ns, name, "Selected")
        assert synced["status"] == "True"
        assert synced["message"].endswith(f"; loaded by Prometheus monitoring/{PROMETHEUS}")
    ours = sorted(r["metadata"]["name"] for r in sample_rules(ns))
    found = wait_until(lambda: sorted(uids(cluster, ns)) == ours and uids(cluster, ns), 60, f"our rules {ours}")
    wanted = {f"{ns}-{rule}-{uid}.yaml" for rule, uid in found.items()}
    wait_until(lambda: rule_files_of(promop, ns) == wanted, 60, "prometheus-operator to write our rule files")
    groups = sample_groups(ns)
    assert f"okr-slo-{ns}-checkout-availability" in groups and f"okr-kr-{ns}-sli-coverage" in groups
    wait_until(lambda: loaded_groups(prom, ns) == groups, 60, "the projected rule files to be loaded")
    # ... and evaluated: the recording rule prometheus-operator passed on records the SLI's total rate (a rate
    # over 5m of a series younger than that, so below the exporter's 10/s until the window fills)
    recorded = f"{TOTAL_RECORD}{identity_selector('checkout-availability', ns)}"
    assert 0 < prom.wait_for(recorded, lambda v: v > 0, timeout=60) <= 10.5


def test_a_mislabelled_rule_is_not_loaded_and_the_slo_says_not_selected(cluster, promop, prom, samples):
    ns = samples
    wait_synced(cluster, "slo", ns, "checkout-availability", "Selected")
    wait_until(lambda: loaded_groups(prom, ns), 60, "our rules to be loaded first")
    # kube-prometheus-stack's default: only rules labelled with its release are loaded
    set_selector(cluster, promop, "ruleSelector", {"matchLabels": {"release": "kube-prometheus-stack"}})
    try:
        synced = wait_synced(cluster, "slo", ns, "checkout-availability", "NotSelected")
        assert synced["status"] == "False"
        assert (
            f"no Prometheus selects PrometheusRule {ns}/checkout-availability-slo, so its rules are not loaded"
            in synced["message"]
        )
        assert (
            f"monitoring/{PROMETHEUS}: ruleSelector release=kube-prometheus-stack does not match the rule's labels"
            in synced["message"]
        )
        assert "app.kubernetes.io/managed-by=okr-operator,okr.dev/owner=checkout-availability" in synced["message"]
        wait_synced(cluster, "kr", ns, "sli-coverage", "NotSelected")
        # what prometheus-operator really did: our rules left its rule files and the Prometheus unloaded them
        wait_until(lambda: not rule_files_of(promop, ns), 60, "prometheus-operator to drop our rule files")
        wait_until(lambda: not loaded_groups(prom, ns), 60, "the Prometheus to unload our rules")
        ready = lambda: condition(cluster, "slo", ns, "checkout-availability", "Ready")  # noqa: E731
        wait_until(lambda: ready().get("reason") == "RulesSyncedFalse", 30, "Ready=False because of RulesSynced")
        events = json.loads(cluster.kubectl("get", "events", "-n", ns, "-o", "json").stdout)["items"]
        assert any(e["reason"] == "RulesNotSelected" and e["type"] == "Warning" for e in events)
    finally:
        set_selector(cluster, promop, "ruleSelector", DEFAULT_SELECTOR)
    wait_synced(cluster, "slo", ns, "checkout-availability", "Selected")
    wait_until(lambda: loaded_groups(prom, ns) == sample_groups(ns), 60, "our rules to be loaded again")


def test_namespace_labels_are_followed_without_a_restart(cluster, promop, prom, samples):
    ns = samples
    wait_synced(cluster, "slo", ns, "checkout-latency", "Selected")
    label = f"okr-e2e/monitored-{secrets.token_hex(2)}"
    set_selector(cluster, promop, "ruleNamespaceSelector", {"matchLabels": {label: "yes"}})
    try:
        synced = wait_synced(cluster, "slo", ns, "checkout-latency", "NotSelected")
        assert (
            f"ruleNamespaceSelector {label}=yes does not match namespace {ns} (kubernetes.io/metadata.name={ns})"
            in (synced["message"])
        )
        wait_until(lambda: not loaded_groups(prom, ns), 60, "the Prometheus to unload our rules")
        cluster.kubectl("label", "namespace", ns, f"{label}=yes")
        synced = wait_synced(cluster, "slo", ns, "checkout-latency", "Selected")
        assert synced["message"].endswith(f"loaded by Prometheus monitoring/{PROMETHEUS}")
        wait_until(lambda: loaded_groups(prom, ns) == sample_groups(ns), 60, "our rules to be loaded again")
    finally:
        set_selector(cluster, promop, "ruleNamespaceSelector", {})


# ------------------------------------------------------------------------------ prometheus-operator's webhook

RATIO = {
    "errors": 'sum(rate(http_requests_total{service="checkout",code=~"5..",{{canary}}}[{{window}}]))',
    "total": 'sum(rate(http_requests_total{service="checkout",{{canary}}}[{{window}}]))',
}
LATENCY = {"latency": {"histogram": "http_request_duration_seconds", "threshold": 0.3, "selector": 'service="c"'}}
BOOL_GAUGE = {"boolGauge": {"metric": 'probe_success{job="blackbox",instance="https://checkout.example.com"}'}}
SLO_VARIANTS: dict[str, dict[str, Any]] = {
    "ratio-28d": {},
    "ratio-7d": {"window": "7d"},
    "ratio-30d": {"window": "30d"},
    "ratio-4w": {"window": "4w"},
    "calendar-month": {"window": "month"},
    "calendar-quarter": {"window": "quarter"},
    "good-ratio": {
        "indicator": {
            "ratio": {"good": RATIO["total"].replace("service=", 'code!~"5..",service='), "total": RATIO["total"]}
        }
    },
    "target-99": {"target": 99},
    "target-99-99": {"target": 99.99},
    "latency": {"indicator": LATENCY},
    "latency-canary": {"indicator": LATENCY, "gate": {"enabled": True, "canary": {"label": "version", "arg": "v"}}},
    "bool-gauge": {"indicator": BOOL_GAUGE},
    "bool-gauge-canary": {"indicator": BOOL_GAUGE, "gate": {"enabled": True, "canary": {"label": "v", "arg": "v"}}},
    "ratio-canary": {
        "gate": {
            "enabled": True,
            "maxBurnRate": 3,
            "minBudgetRemaining": 0.2,
            "initialDelay": "1m",
            "canary": {"label": "rollouts_pod_template_hash", "arg": "canary-hash"},
        }
    },
    "gate-without-canary": {"gate": {"enabled": True}},
    "no-page": {"alerting": {"page": {"enabled": False}}},
    "no-ticket": {"alerting": {"ticket": {"enabled": False}}},
    "no-alerts": {"alerting": {"enabled": False}},
    "burn-rate-overrides": {
        "alerting": {
            "burnRateWindows": [
                {"severity": "page", "long": "30m", "short": "2m", "burnRate": 20},
                {"severity": "page", "long": "2h", "short": "10m", "burnRate": 10},
                {"severity": "ticket", "long": "12h", "short": "1h", "burnRate": 2.5},
            ]
        }
    },
    "burn-rate-overrides-calendar": {
        "window": "quarter",
        "alerting": {"burnRateWindows": [{"severity": "ticket", "long": "3d", "short": "6h", "burnRate": 1}]},
    },
    "alert-text": {
        "description": "Checkout {{ $value }} 100% literal",
        "alerting": {
            "runbookUrl": "https://runbooks.example.com/checkout?a=1&b=2#x",
            "labels": {"team": "checkout", "tier": "1"},
            "annotations": {"summary": "{{ $labels.instance }} is literal text, not a template", "x": "'\"`"},
            "page": {"labels": {"pager": "yes"}},
            "noDataFor": "30m",
        },
    },
}
KR_VARIANTS: dict[str, dict[str, Any]] = {
    "increase": {"direction": "increase", "baseline": 95, "target": 100},
    "decrease": {"direction": "decrease", "baseline": 0.24, "target": 0.2},
    "maintain-min": {"direction": "maintain", "min": 99},
    "maintain-max": {"direction": "maintain", "max": 0.5},
    "maintain-range": {"direction": "maintain", "min": 10, "max": 20},
    "boolean": {"direction": "boolean"},
    "own-period": {"direction": "increase", "baseline": 0, "target": 1, "period": "2026-11"},
    "custom-period": {"direction": "increase", "baseline": 0, "target": 1e6, "period": "2026-10-01/2027-03-31"},
}


def variant_manifests() -> list[dict[str, Any]]:
    """An SLO of every shape and a PromQL key result of every direction, on a committed and an aspirational
    objective (so the pace thresholds of both are in the rules)."""
    docs: list[dict[str, Any]] = []
    for name, spec in SLO_VARIANTS.items():
        body = {"service": "checkout", "target": 99.9, "window": "28d", "indicator": {"ratio": dict(RATIO)}, **spec}
        docs.append(
            {
                "apiVersion": "okr.dev/v1alpha1",
                "kind": "ServiceLevelObjective",
                "metadata": {"name": name},
                "spec": body,
            }
        )
    for objective, kind in (("committed", "committed"), ("stretch", "aspirational")):
        docs.append(
            {
                "apiVersion": "okr.dev/v1alpha1",
                "kind": "Objective",
                "metadata": {"name": objective},
                "spec": {"title": objective, "period": "2026-Q4", "type": kind},
            }
        )
        for name, spec in KR_VARIANTS.items():
            docs.append(
                {
                    "apiVersion": "okr.dev/v1alpha1",
                    "kind": "KeyResult",
                    "metadata": {"name": f"{objective}-{name}"},
                    "spec": {
                        "objectiveRef": {"name": objective},
                        "description": name,
                        "source": {"prometheus": {"query": 'sum(up{job="checkout"})'}},
                        **spec,
                    },
                }
            )
    return docs


def generated_rules(tmp_path: Path, manifests: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The PrometheusRules the operator generates for ``manifests`` (okrctl generate, default labels)."""
    from okr_operator.api.loader import load_manifests
    from okr_operator.cli.main import generated_objects
    from okr_operator.generate import RenderOptions

    source = tmp_path / "variants.yaml"
    source.write_text(yaml.safe_dump_all(manifests))
    loaded = load_manifests([str(source)], default_namespace=namespace)
    assert not loaded.errors, loaded.errors
    objects = generated_objects(loaded, RenderOptions())
    return [o for o in objects if o["kind"] == "PrometheusRule"]


def dry_run_create(cluster, objects: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    """``kubectl create --dry-run=server`` of the objects as okrctl writes them (``yamlio``: go-yaml reads
    ``1234e567`` as a number where PyYAML writes it plain): admission (the webhook included) runs, nothing is
    stored."""
    from okr_operator import yamlio

    return cluster.kubectl(
        "create", "--dry-run=server", "-o", "name", "-f", "-", input=yamlio.dump_all(objects), check=False
    )


def test_the_webhook_accepts_every_rule_the_operator_generates(cluster, promop, namespace, tmp_path):
    samples = sample_rules(namespace)
    assert {"checkout-availability-slo", "checkout-latency-slo", "sli-coverage-kr"} <= {
        r["metadata"]["name"] for r in samples
    }
    rules = samples + generated_rules(tmp_path, variant_manifests(), namespace)
    assert len(rules) == len(samples) + len(SLO_VARIANTS) + 2 * len(KR_VARIANTS)
    done = dry_run_create(cluster, rules)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == sorted(
        f"prometheusrule.monitoring.coreos.com/{r['metadata']['name']}" for r in rules
    )


BROKEN = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {"name": "broken"},
    "spec": {"groups": [{"name": "g", "rules": [{"record": "x:y", "expr": "sum(rate(http_requests_total[5m])"}]}]},
}


def test_the_webhook_refuses_a_broken_rule_and_fails_closed(cluster, promop, namespace):
    broken = {**BROKEN, "metadata": {"name": "broken", "namespace": namespace}}
    fine = {**broken, "spec": {"groups": [{"name": "g", "rules": [{"record": "x:y", "expr": "vector(1)"}]}]}}
    refused = dry_run_create(cluster, [broken])
    assert refused.returncode != 0
    # the webhook answers with prometheus' own rule parser (rulefmt), as an Invalid status
    assert "could not parse expression: 1:34: parse error: unclosed left parenthesis" in refused.stderr, refused.stderr
    assert promop.webhook is not None
    promop.webhook.stop()
    try:
        closed = dry_run_create(cluster, [fine])
        assert closed.returncode != 0, "failurePolicy Fail: nothing passes while the webhook is down"
        assert 'failed calling webhook "prometheusrulevalidate.monitoring.coreos.com"' in closed.stderr
    finally:
        promop.webhook.start()
        wait_until(lambda: dry_run_create(cluster, [fine]).returncode == 0, 30, "the webhook to answer again")
    # The refusal is the webhook's: without its registration the CRD schema alone accepts the broken rule.
    cluster.kubectl("delete", "validatingwebhookconfiguration", WEBHOOK_NAME)
    try:
        unchecked = wait_until(
            lambda: (done := dry_run_create(cluster, [broken])).returncode == 0 and done, 30, "the webhook to be gone"
        )
        assert unchecked.stdout.split() == ["prometheusrule.monitoring.coreos.com/broken"]
    finally:
        cluster.apply(promop.webhook_configuration())
    wait_until(lambda: dry_run_create(cluster, [broken]).returncode != 0, 30, "the webhook to be registered again")


# ------------------------------------------------------------------------------ what the operator can see


def test_nothing_visible_is_said_and_not_guessed(tmp_path):
    """The adapter read on its own control plane: no CRD, no Prometheus, no permission, unreadable namespaces."""
    from e2e.harness import LocalCluster
    from e2e.harness.upstream import prometheus_operator_crds
    from okr_operator.kube.client import KubeAdapter

    with LocalCluster(controller_manager=False, workdir=tmp_path / "cluster") as own:
        admin = KubeAdapter(own.api_client)
        assert admin.selection_view(timeout=5).unavailable == (
            "the Prometheus CRD (prometheuses.monitoring.coreos.com) is not installed, so no Prometheus resource exists"
        )
        own.install_crds(prometheus_operator_crds("prometheuses"))
        assert admin.selection_view(timeout=5).unavailable == "no Prometheus resource exists in the cluster"
        own.kubectl("create", "namespace", "monitoring")
        own.apply(
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "Prometheus",
                "metadata": {"name": "k8s", "namespace": "monitoring"},
                "spec": {"ruleSelector": {}, "ruleNamespaceSelector": {"matchLabels": {"team": "a"}}},
            }
        )
        seen = admin.selection_view(timeout=5)
        assert [p.key for p in seen.prometheuses] == ["monitoring/k8s"]
        assert seen.namespace_labels is not None and seen.namespace_labels["monitoring"] == {
            "kubernetes.io/metadata.name": "monitoring"
        }

        from kubernetes import config

        nobody = own.mint_user("nobody")
        blind = KubeAdapter(config.new_client_from_config(config_file=str(own.kubeconfig_for(nobody.name))))
        assert blind.selection_view(timeout=5).unavailable == (
            "the operator may not list prometheuses.monitoring.coreos.com (forbidden; grant the optional read-only "
            "RBAC rule, see docs/rule-selection.md), so it cannot see which Prometheus loads rules"
        )
        own.apply(
            [
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRole",
                    "metadata": {"name": "p"},
                    "rules": [
                        {"apiGroups": ["monitoring.coreos.com"], "resources": ["prometheuses"], "verbs": ["list"]}
                    ],
                },
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": "p"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "p"},
                    "subjects": [{"kind": "User", "name": "nobody"}],
                },
            ]
        )
        box: dict[str, Any] = {}

        def sees_prometheuses() -> bool:
            box["view"] = blind.selection_view(timeout=5)
            return bool(box["view"].prometheuses)

        wait_until(sees_prometheuses, 30, "the RBAC rule to apply")
        half = box["view"]  # namespaces stay unreadable: a label selector cannot be decided, and it says why
        assert half.namespace_labels is None
        assert half.namespace_problem.startswith(
            'cannot list namespaces: forbidden: namespaces is forbidden: User "nobody"'
        )
