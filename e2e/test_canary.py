"""Canary gating end to end: SLO -> operator -> AnalysisTemplate -> real argo-rollouts controller ->
Prometheus -> AnalysisRun -> Rollout promoted, aborted or paused.

The module runs its own control plane with kube-scheduler, kwok (``--manage-all-nodes``, one fake Node)
and the rollouts controller (``e2e/harness/rollouts.py``), its own Prometheus and a synthetic exporter, and
the operator. Pods are fake (kwok makes them Running/Ready); the traffic is the exporter's, labelled by
``version``. Each Rollout's pod template carries ``version: <v>`` and passes it to the gate with
``valueFrom.fieldRef.fieldPath: spec.template.metadata.labels.version``, so the burn-rate query selects
``version="<canary version>"``: the canary's traffic only. Nginx traffic routing (no nginx runs: the
controller only writes the canary Ingress) gives real weights in ``status.canary.weights``.

Every scenario has its own service and SLO (99.9%, gate: window 1m, interval 5s): 3 days of backfilled
history for the stable version v1, which keeps serving live.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.harness import LocalPrometheus, SyntheticExporter, constant, openmetrics_history, upstream_crds, wait_until
from e2e.harness.operator import OperatorProcess
from e2e.harness.procs import free_port
from e2e.harness.rollouts import (
    CanaryTestbed,
    analysis_runs,
    get_object,
    nginx_ingress,
    rollout_manifest,
    wait_object,
    web_service,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
TARGET = 99.9
BUDGET = 1 - TARGET / 100
RATE = 20.0  # requests per second, per version
HEALTHY = 0.0002  # error ratio: burn rate 0.2
BAD = 0.01  # burn rate 10
OVERSPENT = 0.003  # burn rate 3 for three days: remaining budget -2
INTERVAL = "5s"
GATE = {"enabled": True, "window": "1m", "interval": INTERVAL, "count": 3, "consecutiveErrorLimit": 2}
CANARY = {"label": "version", "arg": "canary-version"}
CANARY_ARGS = [
    {"name": "canary-version", "valueFrom": {"fieldRef": {"fieldPath": "spec.template.metadata.labels.version"}}}
]
STABLE_HISTORY = {"promote": HEALTHY, "abort": HEALTHY, "budget": OVERSPENT, "idle": HEALTHY, "paths": HEALTHY}
TIMEOUT = 90.0
# {{canary}}: where the gate puts version="{{args.canary-version}}"; removed in recording rules.
RATIO_ERRORS = 'sum(rate(http_requests_total{service="SERVICE",code=~"5..",{{canary}}}[{{window}}]))'
RATIO_TOTAL = 'sum(rate(http_requests_total{service="SERVICE",{{canary}}}[{{window}}]))'
FIGURES: dict[str, str] = {}


def service(scenario: str) -> str:
    return f"web-{scenario}"


# ------------------------------------------------------------------------------ module fixtures


@pytest.fixture(scope="module")
def bed(request: pytest.FixtureRequest) -> Iterator[CanaryTestbed]:
    testbed = CanaryTestbed(
        extra_crds=[*sorted((ROOT / "crds").glob("*.yaml")), *upstream_crds("monitoring.coreos.com")],
    ).start()
    FIGURES["testbed start"] = ", ".join(f"{k} {v:.1f} s" for k, v in testbed.started_in.items())
    try:
        yield testbed
    finally:
        testbed.stop()


@pytest.fixture(scope="module")
def cluster(bed: CanaryTestbed):
    """This module's cluster (overrides the session one, so ``namespace`` and log capture use it)."""
    return bed.cluster


@pytest.fixture(scope="module")
def exporter() -> Iterator[SyntheticExporter]:
    exp = SyntheticExporter().start()
    for scenario, ratio in STABLE_HISTORY.items():
        exp.set(service(scenario), "v1", rate=RATE, error_ratio=ratio)
    try:
        yield exp
    finally:
        exp.stop()


@pytest.fixture(scope="module")
def prometheus(exporter: SyntheticExporter) -> Iterator[LocalPrometheus]:
    prom = LocalPrometheus(targets=[exporter.target])
    now = time.time()
    history = [
        constant(service(s), "v1", now - 3 * 86400, now - 30, rate=RATE, error_ratio=ratio)
        for s, ratio in STABLE_HISTORY.items()
    ]
    prom.backfill(openmetrics_history(history, step=60))
    prom.start()
    try:
        yield prom
    finally:
        prom.close()


@pytest.fixture(scope="module")
def operator(bed: CanaryTestbed, prometheus: LocalPrometheus, tmp_path_factory) -> Iterator[OperatorProcess]:
    op = OperatorProcess(
        bed.cluster.kubeconfig,
        prometheus.url,
        tmp_path_factory.mktemp("operator") / "operator.log",
        interval="5s",
        extra_env={"OKR_GATE_PROMETHEUS_ADDRESS": prometheus.url},
    ).start()
    try:
        yield op
    finally:
        op.stop()


@pytest.fixture(scope="module", autouse=True)
def print_figures() -> Iterator[None]:
    yield
    if FIGURES:
        print("\ncanary e2e figures:\n" + "\n".join(f"  {k}: {v}" for k, v in FIGURES.items()))


# ------------------------------------------------------------------------------ helpers


def slo_manifest(scenario: str, **gate: Any) -> dict[str, Any]:
    svc = service(scenario)
    return {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": scenario},
        "spec": {
            "service": svc,
            "target": TARGET,
            "window": "28d",
            "indicator": {
                "ratio": {
                    "errors": RATIO_ERRORS.replace("SERVICE", svc),
                    "total": RATIO_TOTAL.replace("SERVICE", svc),
                }
            },
            "gate": {**GATE, "canary": CANARY, **gate},
        },
    }


def gated_service(cluster, namespace: str, scenario: str, **gate: Any) -> dict[str, Any]:
    """Apply the scenario's SLO and wait for the operator's AnalysisTemplate; returns the template."""
    cluster.apply(slo_manifest(scenario, **gate), "-n", namespace)
    return wait_object(
        cluster, "analysistemplate", namespace, f"{scenario}-gate", lambda t: True, 60, "generated by the operator"
    )


def deploy(cluster, namespace: str, name: str, version: str, **kwargs: Any) -> None:
    """Apply the Rollout (with services and the stable Ingress) at ``version``."""
    objects = [
        web_service(f"{name}-stable", name),
        web_service(f"{name}-canary", name),
        nginx_ingress(name, f"{name}-stable", f"{name}.example"),
        rollout_manifest(
            name,
            version=version,
            stable_service=f"{name}-stable",
            canary_service=f"{name}-canary",
            ingress=name,
            **kwargs,
        ),
    ]
    cluster.apply(objects, "-n", namespace)


def step_analysis(template: str) -> list[dict[str, Any]]:
    return [{"setWeight": 25}, {"analysis": {"templates": [{"templateName": template}], "args": CANARY_ARGS}}]


def rollout(cluster, namespace: str, name: str) -> dict[str, Any]:
    obj = get_object(cluster, "rollout", namespace, name)
    assert obj is not None
    return obj


def settled(obj: dict[str, Any]) -> bool:
    return obj.get("status", {}).get("observedGeneration") == str(obj["metadata"]["generation"])


def phase(obj: dict[str, Any]) -> str | None:
    return obj.get("status", {}).get("phase") if settled(obj) else None


def start_stable(cluster, namespace: str, name: str, **kwargs: Any) -> str:
    """Deploy v1 (first revision: straight to 100%) and return its pod-template hash."""
    cluster.wait_for_service_account(namespace)
    deploy(cluster, namespace, name, "v1", **kwargs)
    obj = wait_object(cluster, "rollout", namespace, name, lambda r: phase(r) == "Healthy", TIMEOUT, "v1 Healthy")
    return obj["status"]["stableRS"]


def wait_canary_traffic(prom: LocalPrometheus, svc: str, version: str) -> None:
    """Until Prometheus can compute the canary's request rate over the gate window."""
    prom.wait_for(f'sum(rate(http_requests_total{{service="{svc}",version="{version}"}}[1m]))', lambda v: v > 0)


def weights(obj: dict[str, Any]) -> dict[str, Any]:
    w = obj["status"].get("canary", {}).get("weights") or {}
    return {k: (w[k]["weight"], w[k].get("podTemplateHash")) for k in ("stable", "canary") if k in w}


def canary_ingress_weight(cluster, namespace: str, name: str) -> str | None:
    ing = get_object(cluster, "ingress", namespace, f"{name}-{name}-canary")
    return None if ing is None else ing["metadata"]["annotations"].get("nginx.ingress.kubernetes.io/canary-weight")


def metric_result(run: dict[str, Any], metric: str) -> dict[str, Any]:
    return next(m for m in run["status"].get("metricResults") or [] if m["name"] == metric)


def summary(run: dict[str, Any]) -> str:
    parts = [f"{run['status'].get('phase')}: {run['status'].get('message', '')}".strip()]
    for m in run["status"].get("metricResults") or []:
        values = [f"{x['phase']} {x.get('value', x.get('message', ''))}" for x in m.get("measurements") or []]
        parts.append(f"{m['name']} {m['phase']} [{'; '.join(values)}]")
    return " | ".join(parts)


def only_run(cluster, namespace: str, predicate=lambda r: True) -> dict[str, Any]:
    runs = [r for r in analysis_runs(cluster, namespace) if predicate(r)]
    assert len(runs) == 1, [r["metadata"]["name"] for r in runs]
    return runs[0]


def wait_run(cluster, namespace: str, done, what: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    box: dict[str, Any] = {}

    def check() -> bool:
        runs = analysis_runs(cluster, namespace)
        box["runs"] = runs
        return bool(runs) and done(runs[-1])

    try:
        wait_until(check, timeout, what, interval=0.25)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; runs: {[summary(r) for r in box.get('runs', [])]}") from None
    return box["runs"][-1]


# ------------------------------------------------------------------------------ scenarios


def test_generated_template_selects_the_canary_by_rollout_arg(cluster, namespace, operator):
    tmpl = gated_service(cluster, namespace, "promote")
    assert tmpl["spec"]["args"] == [
        {"name": "prometheus-address", "value": operator.proc.env["OKR_GATE_PROMETHEUS_ADDRESS"]},
        {"name": "canary-version"},
    ]
    burn = next(m for m in tmpl["spec"]["metrics"] if m["name"] == "burn-rate")
    assert 'version="{{args.canary-version}}"' in burn["provider"]["prometheus"]["query"]
    assert burn["interval"] == INTERVAL and burn["count"] == 3
    # The CEL rule: gate.canary without {{canary}} in the ratio expressions is refused by the apiserver.
    broken = slo_manifest("broken")
    broken["spec"]["indicator"]["ratio"]["total"] = "sum(rate(http_requests_total[{{window}}]))"
    refused = cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(broken), check=False)
    assert refused.returncode != 0
    assert "gate.canary needs the {{canary}} placeholder" in refused.stderr


def test_healthy_canary_is_promoted(cluster, namespace, prometheus, exporter, operator):
    """Step analysis: AnalysisRun Successful -> Rollout Healthy at the new version, 100% weight."""
    gated_service(cluster, namespace, "promote")
    steps = step_analysis("promote-gate")
    stable_hash = start_stable(cluster, namespace, "web", steps=steps)
    exporter.set(service("promote"), "v2", rate=RATE, error_ratio=HEALTHY)
    wait_canary_traffic(prometheus, service("promote"), "v2")

    started = time.monotonic()
    deploy(cluster, namespace, "web", "v2", steps=steps)
    run = wait_run(
        cluster,
        namespace,
        lambda r: r["status"].get("phase") in ("Successful", "Failed", "Error", "Inconclusive"),
        "the AnalysisRun to finish",
    )
    assert run["status"]["phase"] == "Successful", summary(run)
    assert run["spec"]["args"][-1] == {"name": "canary-version", "value": "v2"}
    for name in ("burn-rate", "error-budget"):
        result = metric_result(run, name)
        assert result["phase"] == "Successful" and result["count"] == 3 and result["successful"] == 3, summary(run)
    burns = [float(m["value"].strip("[]")) for m in metric_result(run, "burn-rate")["measurements"]]
    assert all(0 < b < 1 for b in burns), burns  # the canary's 0.2x, not the stable's
    left = [float(m["value"].strip("[]")) for m in metric_result(run, "error-budget")["measurements"]]
    assert all(0.7 < x < 0.9 for x in left), left  # the service's budget: 0.2x burn leaves 0.8

    obj = wait_object(cluster, "rollout", namespace, "web", lambda r: phase(r) == "Healthy", TIMEOUT, "v2 promoted")
    elapsed = time.monotonic() - started
    assert obj["status"]["stableRS"] == obj["status"]["currentPodHash"] != stable_hash
    assert weights(obj)["stable"] == (100, obj["status"]["stableRS"])
    assert weights(obj).get("canary", (0, None))[0] == 0
    assert canary_ingress_weight(cluster, namespace, "web") in (None, "0")
    FIGURES["healthy canary"] = (
        f"update -> AnalysisRun Successful ({len(burns)} measurements per metric, canary burn "
        f"{min(burns):.2f}-{max(burns):.2f}, budget left {min(left):.3f}) -> Rollout Healthy in {elapsed:.1f} s"
    )


def test_bad_canary_is_aborted_and_stable_keeps_all_traffic(cluster, namespace, prometheus, exporter, operator):
    """Background analysis: a canary that turns bad (10x burn) mid-flight fails the gate, the Rollout aborts."""
    gated_service(cluster, namespace, "abort", count=120)
    analysis = {"templates": [{"templateName": "abort-gate"}], "args": CANARY_ARGS, "startingStep": 1}
    steps = [{"setWeight": 25}, {"pause": {}}]
    stable_hash = start_stable(cluster, namespace, "web", steps=steps, analysis=analysis)
    exporter.set(service("abort"), "v2", rate=RATE, error_ratio=HEALTHY)
    wait_canary_traffic(prometheus, service("abort"), "v2")
    deploy(cluster, namespace, "web", "v2", steps=steps, analysis=analysis)

    def healthy_measurements(run: dict[str, Any]) -> bool:
        burn = [m for m in run["status"].get("metricResults") or [] if m["name"] == "burn-rate"]
        return bool(burn) and burn[0].get("successful", 0) >= 2

    run = wait_run(cluster, namespace, healthy_measurements, "two healthy canary measurements")
    paused = rollout(cluster, namespace, "web")
    assert weights(paused)["canary"][0] == 25 and weights(paused)["stable"] == (75, stable_hash)

    # The canary goes bad: 1% errors on a 99.9% SLO, 10x the budget.
    bad_at = time.monotonic()
    exporter.set(service("abort"), "v2", error_ratio=BAD)
    marks: dict[str, float] = {}

    def aborted() -> bool:
        obj = rollout(cluster, namespace, "web")
        runs = analysis_runs(cluster, namespace)
        if runs and runs[-1]["status"].get("phase") == "Failed":
            marks.setdefault("failed", time.monotonic() - bad_at)
        if obj["status"].get("abort"):
            marks.setdefault("abort", time.monotonic() - bad_at)
        w = weights(obj)
        if obj["status"].get("abort") and w.get("canary", (0,))[0] == 0 and w.get("stable") == (100, stable_hash):
            marks.setdefault("weight", time.monotonic() - bad_at)
        return phase(obj) == "Degraded" and "weight" in marks

    wait_until(aborted, TIMEOUT, "the Rollout to abort", interval=0.2)
    obj = rollout(cluster, namespace, "web")
    run = analysis_runs(cluster, namespace)[-1]
    assert run["status"]["phase"] == "Failed", summary(run)
    burn = metric_result(run, "burn-rate")
    assert burn["phase"] == "Failed" and burn["failed"] == 1, summary(run)
    failed_value = float(next(m for m in burn["measurements"] if m["phase"] == "Failed")["value"].strip("[]"))
    assert failed_value > GATE.get("maxBurnRate", 2)
    assert 'Metric "burn-rate" assessed Failed due to failed (1) > failureLimit (0)' in run["status"]["message"]
    assert obj["status"]["phase"] == "Degraded" and obj["status"]["abort"] is True
    assert "RolloutAborted" in obj["status"]["message"] and "burn-rate" in obj["status"]["message"], obj["status"][
        "message"
    ]
    assert obj["status"]["stableRS"] == stable_hash
    assert weights(obj)["stable"] == (100, stable_hash)
    assert canary_ingress_weight(cluster, namespace, "web") == "0"
    print(f"\nRollout message: {obj['status']['message']}")
    FIGURES["bad canary (10x burn)"] = (
        f"bad metrics -> AnalysisRun Failed in {marks['failed']:.1f} s, -> Rollout aborted in {marks['abort']:.1f} s, "
        f"-> stable 100% weight in {marks['weight']:.1f} s (analysis interval {INTERVAL}, scrape 1 s; the errors "
        f"begin just after a measurement, so this is the worst case of one interval); failing "
        f"measurement {failed_value:.2f}x"
    )


def test_exhausted_budget_fails_a_healthy_canary(cluster, namespace, prometheus, exporter, operator):
    """Error-budget policy: the service overspent its budget, so even a healthy canary does not ship."""
    gated_service(cluster, namespace, "budget")
    steps = step_analysis("budget-gate")
    stable_hash = start_stable(cluster, namespace, "web", steps=steps)
    exporter.set(service("budget"), "v2", rate=RATE, error_ratio=HEALTHY)
    wait_canary_traffic(prometheus, service("budget"), "v2")
    deploy(cluster, namespace, "web", "v2", steps=steps)

    run = wait_run(
        cluster,
        namespace,
        lambda r: r["status"].get("phase") in ("Successful", "Failed", "Error", "Inconclusive"),
        "the AnalysisRun to finish",
    )
    assert run["status"]["phase"] == "Failed", summary(run)
    message = run["status"]["message"]
    assert message == 'Metric "error-budget" assessed Failed due to failed (1) > failureLimit (0)', summary(run)
    budget = metric_result(run, "error-budget")
    left = float(budget["measurements"][0]["value"].strip("[]"))
    assert budget["phase"] == "Failed" and left < 0, summary(run)
    burn = metric_result(run, "burn-rate")
    assert all(m["phase"] == "Successful" for m in burn["measurements"]), summary(run)  # the canary is fine
    obj = wait_object(
        cluster,
        "rollout",
        namespace,
        "web",
        lambda r: phase(r) == "Degraded" and weights(r).get("stable") == (100, stable_hash),
        TIMEOUT,
        "aborted, stable back to 100%",
    )
    assert obj["status"]["abort"] is True and "error-budget" in obj["status"]["message"]
    assert canary_ingress_weight(cluster, namespace, "web") == "0"
    print(f"\nAnalysisRun message: {message}\nRollout message: {obj['status']['message']}")
    FIGURES["exhausted budget, healthy canary"] = (
        f"error-budget measured {left:.2f} (< 0) -> AnalysisRun Failed ({message!r}) -> Rollout Degraded, "
        f"burn-rate {burn['measurements'][0]['value']}"
    )


def test_no_canary_traffic_pauses_the_rollout(cluster, namespace, prometheus, exporter, operator):
    """No series for the canary: the measurement is Inconclusive, the Rollout pauses; nothing passes."""
    gated_service(cluster, namespace, "idle")
    steps = step_analysis("idle-gate")
    stable_hash = start_stable(cluster, namespace, "web", steps=steps)
    deploy(cluster, namespace, "web", "v2", steps=steps)  # the exporter never serves v2

    run = wait_run(
        cluster,
        namespace,
        lambda r: r["status"].get("phase") in ("Successful", "Failed", "Error", "Inconclusive"),
        "the AnalysisRun to finish",
    )
    assert run["status"]["phase"] == "Inconclusive", summary(run)
    burn = metric_result(run, "burn-rate")
    assert burn["phase"] == "Inconclusive" and burn["measurements"][0]["value"] == "[]", summary(run)
    assert (
        'Metric "burn-rate" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)'
        in run["status"]["message"]
    )
    obj = wait_object(
        cluster,
        "rollout",
        namespace,
        "web",
        lambda r: any(c["reason"] == "InconclusiveAnalysisRun" for c in r["status"].get("pauseConditions") or []),
        TIMEOUT,
        "paused for a human",
    )
    time.sleep(3)  # and it stays there: not promoted, not aborted
    obj = rollout(cluster, namespace, "web")
    assert obj["status"]["phase"] == "Paused" and not obj["status"].get("abort"), obj["status"]
    assert obj["status"]["stableRS"] == stable_hash
    assert weights(obj)["stable"] == (75, stable_hash)  # where setWeight left it, until someone decides
    FIGURES["no canary traffic"] = f"AnalysisRun {summary(run)} -> Rollout Paused (InconclusiveAnalysisRun)"


def test_each_no_data_path_with_the_real_controller(cluster, namespace, prometheus, exporter, operator):
    """AnalysisRuns made straight from the generated template: empty vector and NaN are Inconclusive,
    an unreachable Prometheus is Error after consecutiveErrorLimit, traffic is Successful."""
    tmpl = gated_service(cluster, namespace, "paths", consecutiveErrorLimit=1)
    exporter.set(service("paths"), "v-good", rate=RATE, error_ratio=HEALTHY)
    exporter.set(service("paths"), "v-idle", rate=0)  # series exist, never increase: 0/0 = NaN
    wait_canary_traffic(prometheus, service("paths"), "v-good")
    prometheus.wait_for(
        f'count(http_requests_total{{service="{service("paths")}",version="v-idle"}})', lambda v: v == 2
    )
    time.sleep(2)  # two scrapes of the idle series, so rate() has its two points and is 0, not absent
    address = prometheus.url
    closed = f"http://127.0.0.1:{free_port()}"
    cases = {
        "absent": (address, "v-none"),
        "nan": (address, "v-idle"),
        "unreachable": (closed, "v-good"),
        "traffic": (address, "v-good"),
    }
    for case, (prom_address, version) in cases.items():
        cluster.apply(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AnalysisRun",
                "metadata": {"name": case},
                "spec": {
                    "metrics": [m for m in tmpl["spec"]["metrics"] if m["name"] == "burn-rate"],
                    "args": [
                        {"name": "prometheus-address", "value": prom_address},
                        {"name": "canary-version", "value": version},
                    ],
                },
            },
            "-n",
            namespace,
        )
    done = ("Successful", "Failed", "Error", "Inconclusive")
    runs = {
        case: wait_object(
            cluster, "analysisrun", namespace, case, lambda r: r.get("status", {}).get("phase") in done, TIMEOUT, "done"
        )
        for case in cases
    }
    got = {
        case: (r["status"]["phase"], metric_result(r, "burn-rate")["measurements"][-1].get("value"))
        for case, r in runs.items()
    }
    assert got["absent"] == ("Inconclusive", "[]"), summary(runs["absent"])
    assert got["nan"] == ("Inconclusive", "[NaN]"), summary(runs["nan"])
    assert got["unreachable"][0] == "Error", summary(runs["unreachable"])
    assert "consecutiveErrors (2) > consecutiveErrorLimit (1)" in runs["unreachable"]["status"]["message"]
    assert got["traffic"][0] == "Successful", summary(runs["traffic"])
    FIGURES["no-data paths"] = "; ".join(f"{case}: {summary(r)}" for case, r in runs.items())


def test_rollout_without_the_canary_arg_is_refused(cluster, namespace, operator):
    """The template declares the canary arg without a value: a Rollout that does not pass it is InvalidSpec."""
    gated_service(cluster, namespace, "promote")
    cluster.wait_for_service_account(namespace)
    steps = [{"setWeight": 25}, {"analysis": {"templates": [{"templateName": "promote-gate"}]}}]
    deploy(cluster, namespace, "web", "v1", steps=steps)
    obj = wait_object(cluster, "rollout", namespace, "web", lambda r: phase(r) == "Degraded", TIMEOUT, "InvalidSpec")
    invalid = next(c for c in obj["status"]["conditions"] if c["type"] == "InvalidSpec")
    assert invalid["status"] == "True" and "args.canary-version was not resolved" in invalid["message"]
    assert analysis_runs(cluster, namespace) == []
    FIGURES["Rollout without the canary arg"] = obj["status"]["message"]


def test_dashboards_deployment_annotation_finds_the_rollout_underway(bed, cluster, namespace, prometheus):
    """The Grafana dashboards mark deployments with Argo Rollouts' own rollout_info: this rollout while paused."""
    from okr_operator.dashboards import render_dashboards
    from okr_operator.dashboards.queries import interpolate, panel_queries

    prometheus.add_target(f"127.0.0.1:{bed.controller.metrics_port}", job="argo-rollouts")
    steps = [{"setWeight": 25}, {"pause": {}}]  # stays paused until promoted
    start_stable(cluster, namespace, "web", steps=steps)
    deploy(cluster, namespace, "web", "v2", steps=steps)
    wait_object(cluster, "rollout", namespace, "web", lambda r: phase(r) == "Paused", TIMEOUT, "v2 paused")
    executive = render_dashboards()["okr-executive.json"]
    (annotation,) = [q for q in panel_queries(executive) if q.panel.startswith("Deployments")]
    expr = interpolate(annotation.expr, executive, {"namespace": [namespace]})
    wait_until(lambda: bool(prometheus.query(expr)), 30, "the deployments annotation to find the paused rollout")
    assert [r["metric"] for r in prometheus.query(expr)] == [{"namespace": namespace, "name": "web"}]


def test_logs_have_no_controller_errors_about_our_template(bed):
    log = bed.cluster.log_dir / "rollouts-controller.log"
    text = log.read_text(errors="replace")
    assert "could not evaluate" not in text  # the guard keeps result[0] off empty vectors
