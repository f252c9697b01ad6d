"""The local demo behind ``make demo``: a real control plane, prometheus-operator, Prometheus with four weeks
of synthetic checkout traffic, the operator, and the sample OKRs — ending in ``kubectl get objectives``.

prometheus-operator turns the generated PrometheusRules into the rule files of the ``Prometheus`` resource
``monitoring/demo``; the local Prometheus plays that resource's pod (there is no kubelet) and loads them.

    python -m e2e.demo up      # start everything in the background, apply config/samples/, print status
    python -m e2e.demo status  # print status again
    python -m e2e.demo down    # stop everything and remove .demo/
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = ROOT / ".demo"
STATE = STATE_DIR / "state.json"
LOG = STATE_DIR / "demo.log"
NAMESPACE = "demo"
PROMETHEUS = "demo"  # the Prometheus resource (namespace monitoring) whose pod the local Prometheus plays
SERVICE = "checkout"
# Four weeks of checkout traffic: 20 req/s, 0.04% errors, 0.5% of requests slower than 250 ms.
TRAFFIC = {
    "rate": 20.0,
    "error_ratio": 0.0004,
    "latency": ((0.05, 0.6), (0.12, 0.3), (0.2, 0.095), (0.4, 0.005)),
}


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _state() -> dict[str, Any] | None:
    try:
        return json.loads(STATE.read_text())
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------------------- supervisor


def serve() -> None:
    """Run every component in this process until SIGTERM (started detached by ``up``)."""
    from e2e.harness import LocalCluster, LocalPrometheus, SyntheticExporter, constant, openmetrics_history
    from e2e.harness.operator import OperatorProcess
    from e2e.harness.prometheus_operator import PrometheusOperator, RuleFileProjection
    from e2e.harness.upstream import upstream_crds
    from e2e.tools.build import ensure
    from okr_operator.generated import MANAGED_BY

    stop = {"now": False}

    def on_term(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    started = time.monotonic()
    say("building or finding the tools (cached under ~/.cache/okr-operator)")
    ensure(["core", "prometheus-operator"], log=say)
    for part in ("cluster", "prometheus"):
        (STATE_DIR / part).mkdir(parents=True, exist_ok=True)
    cluster = LocalCluster(workdir=STATE_DIR / "cluster", log=say)
    prometheus = LocalPrometheus(
        workdir=STATE_DIR / "prometheus", scrape_interval="5s", evaluation_interval="5s", log=say
    )
    exporter = SyntheticExporter()
    promop = projection = operator = None
    try:
        say("starting etcd, kube-apiserver and kube-controller-manager")
        cluster.start()
        say(f"control plane ready at {cluster.server}")
        now = time.time()
        say("backfilling 28 days of checkout traffic into Prometheus")
        history = constant(SERVICE, "v1", now - 28 * 86400, now - 60, **TRAFFIC)  # type: ignore[arg-type]
        prometheus.backfill(openmetrics_history([history], step=120))
        exporter.set(SERVICE, "v1", **TRAFFIC)  # type: ignore[arg-type]
        exporter.start()
        prometheus.add_target(exporter.target, reload=False)
        prometheus.start()
        say(f"prometheus ready at {prometheus.url}, scraping the synthetic checkout service")
        say("installing CRDs: okr.dev (ours), prometheus-operator's and Argo Rollouts (upstream)")
        cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
        cluster.install_crds(upstream_crds("argoproj.io"))
        promop = PrometheusOperator(cluster, log_dir=STATE_DIR / "prometheus-operator").start()
        promop.register_webhook()
        # The default labels of generated rules (OKR_RULE_LABELS empty): what a ruleSelector must match.
        promop.create_prometheus(PROMETHEUS, {"matchLabels": dict(MANAGED_BY)}, {})
        projection = RuleFileProjection(cluster.api_client, prometheus, promop.namespace, PROMETHEUS).start()
        say(f"prometheus-operator ready at {promop.url}; Prometheus {promop.namespace}/{PROMETHEUS} selects our rules")
        say("starting okr-operator (kopf)")
        operator = OperatorProcess(
            cluster.kubeconfig,
            prometheus.url,
            STATE_DIR / "operator.log",
            interval="10s",
            extra_env={"OKR_GATE_PROMETHEUS_ADDRESS": prometheus.url},
        ).start()
        prometheus.add_target(operator.metrics_url.split("/")[2], job="okr-operator")  # for the dashboards
        STATE.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "kubeconfig": str(cluster.kubeconfig),
                    "prometheus": prometheus.url,
                    "prometheus_operator": promop.url,
                    "prometheus_resource": f"{promop.namespace}/{PROMETHEUS}",
                    "operator_metrics": operator.metrics_url,
                    "web_view": operator.web_url,
                    "started_in": round(time.monotonic() - started, 1),
                }
            )
        )
        say(f"everything is up in {time.monotonic() - started:.0f} s")
        while not stop["now"]:
            time.sleep(0.5)
            if not operator.proc.running():
                say("the operator exited; see .demo/operator.log")
                break
    finally:
        say("stopping")
        for part in (operator, projection, exporter, promop):
            if part is not None:
                part.stop()
        prometheus.close()
        cluster.stop()
        STATE.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------- commands


def kubectl(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess[str]:
    state = _state() or {}
    env = {**os.environ, "KUBECONFIG": state.get("kubeconfig", "")}
    binary = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or "kubectl"
    return subprocess.run([binary, *args], env=env, text=True, capture_output=capture, check=check)


def up(timeout: float) -> int:
    state = _state()
    if state and _alive(state["pid"]):
        say("already running; `make demo-down` stops it")
        return status()
    STATE_DIR.mkdir(exist_ok=True)
    STATE.unlink(missing_ok=True)
    with open(LOG, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "e2e.demo", "serve"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            start_new_session=True,
        )
    shown = 0
    deadline = time.monotonic() + timeout
    while _state() is None:
        lines = LOG.read_text(errors="replace").splitlines()
        for line in lines[shown:]:
            print(line, flush=True)
        shown = len(lines)
        if proc.poll() is not None:
            say(f"start-up failed (exit {proc.returncode}); full log: {LOG}")
            return 1
        if time.monotonic() > deadline:
            say(f"start-up took longer than {timeout:.0f} s; log: {LOG}")
            down()
            return 1
        time.sleep(0.5)
    for line in LOG.read_text(errors="replace").splitlines()[shown:]:
        print(line, flush=True)
    kubectl("create", "namespace", NAMESPACE, check=False)
    say(f"kubectl apply -n {NAMESPACE} -f config/samples/")
    print(kubectl("apply", "-n", NAMESPACE, "-f", str(ROOT / "config" / "samples")).stdout, end="")
    say("waiting for the operator to write status (PrometheusRules load, then the next evaluation)")
    if not _wait_for_status(deadline=time.monotonic() + 120):
        say("some objects have no figures after 120 s; operator log: .demo/operator.log")
    return status()


def _wait_for_status(deadline: float) -> bool:
    while time.monotonic() < deadline:
        got = kubectl("get", "objectives,keyresults,slo", "-n", NAMESPACE, "-o", "json", check=False)
        if got.returncode == 0:
            items = json.loads(got.stdout)["items"]
            states = [(i.get("status") or {}).get("state") for i in items]
            if items and all(s and s != "Unknown" for s in states):
                return True
        time.sleep(2)
    return False


def status() -> int:
    state = _state()
    if not state:
        say("not running; `make demo` starts it")
        return 1
    result = kubectl("get", "objectives,keyresults,slo", "-n", NAMESPACE, check=False, capture=False)
    print()
    print(f"export KUBECONFIG={state['kubeconfig']}   # then: kubectl get obj,kr,slo -n {NAMESPACE}")
    print(f"Prometheus: {state['prometheus']}   operator metrics: {state['operator_metrics']}")
    print(f"Web view:   {state.get('web_view', 'not running')}   (read-only; the page reloads itself)")
    print(
        f"Rules:      prometheus-operator {state['prometheus_operator']} loads them for Prometheus "
        f"{state['prometheus_resource']} (kubectl get prometheus,configmaps -n monitoring)"
    )
    print(f"Tree view:  KUBECONFIG={state['kubeconfig']} .venv/bin/kubectl-okr tree -n {NAMESPACE}")
    print("Stop:       make demo-down")
    return result.returncode


def down() -> int:
    state = _state()
    pid = state["pid"] if state else None
    if pid is None:
        # a supervisor that died before writing its state: find it by its command line
        found = subprocess.run(["pgrep", "-f", "e2e.demo serve"], capture_output=True, text=True, check=False)
        pid = int(found.stdout.split()[0]) if found.stdout.strip() else None
    if pid and _alive(pid):
        say(f"stopping the demo (pid {pid})")
        os.kill(pid, signal.SIGTERM)
        for _ in range(120):
            if not _alive(pid):
                break
            time.sleep(0.5)
        else:
            os.killpg(pid, signal.SIGKILL)
    shutil.rmtree(STATE_DIR, ignore_errors=True)
    say("stopped; .demo/ removed")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e.demo", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "status", "down", "serve"])
    parser.add_argument("--timeout", type=float, default=3600, help="start-up limit in seconds (tool builds included)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve()
        return 0
    return {"up": lambda: up(args.timeout), "status": status, "down": down}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
