"""Figures that go stale say so (issue 19): a Prometheus that answers every query, but slowly, makes a cycle last
far longer than the interval; before the figures are one interval past due, the objects say
``MetricsAvailable=False`` reason ``Stale`` (since when and why), ``okr_stale_objects`` counts them, and once
Prometheus is quick again the next cycle clears the mark.

Its own operator (a 3 s interval and a 5 s query timeout, so a 1 s delay per request slows every cycle without
a query timing out) against the session's cluster and Prometheus, through a FaultProxy.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from e2e.harness import wait_until
from e2e.harness.faultproxy import FaultProxy
from e2e.harness.operator import OperatorProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 3.0
DELAY = 1.0  # per request chunk; the query timeout is 5 s
SLO = "checkout-availability"


def status(cluster: Any, ns: str, kind: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", kind, name, "-n", ns, "-o", "json", check=False)
    return (json.loads(out.stdout).get("status") or {}) if out.returncode == 0 else {}


def metrics_condition(st: dict[str, Any]) -> dict[str, Any]:
    return next((c for c in st.get("conditions") or [] if c["type"] == "MetricsAvailable"), {})


def test_slow_prometheus_marks_figures_stale_and_the_mark_clears(cluster, namespace, prometheus, tmp_path):
    cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    proxy = FaultProxy(("127.0.0.1", prometheus.port)).start()
    op = OperatorProcess(
        cluster.kubeconfig,
        f"http://127.0.0.1:{proxy.port}",
        tmp_path / "operator.log",
        interval=f"{INTERVAL:g}s",
        args=("--standalone", "--namespace", namespace),
        extra_env={"OKR_PROMETHEUS_TIMEOUT_SECONDS": "5"},
    ).start()
    try:
        cluster.kubectl("apply", "-n", namespace, "-f", str(ROOT / "config" / "samples"))
        wait_until(lambda: status(cluster, namespace, "slo", SLO).get("lastEvaluated"), 90, "the SLO's first status")
        op.wait_for_cycles(2)
        assert op.metric("okr_stale_objects") == 0
        assert metrics_condition(status(cluster, namespace, "slo", SLO)).get("reason") != "Stale"

        proxy.delay(DELAY)
        marked = wait_until(
            lambda: (c := metrics_condition(status(cluster, namespace, "slo", SLO))).get("reason") == "Stale" and c,
            60,
            "MetricsAvailable=False/Stale",
            interval=0.2,
        )
        seen = datetime.now(UTC)
        assert marked["status"] == "False"
        found = re.match(r"the figures are from (\S+) and were not refreshed since: (.+)", marked["message"])
        assert found, marked["message"]
        since = datetime.strptime(found[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        # stale two intervals after their instant, marked before they are one more interval past (+2 s: the
        # timestamp's resolution and the poll)
        assert (seen - since).total_seconds() <= 3 * INTERVAL + 2, (seen, marked)
        assert "still running" in found[2], found[2]
        ready = next(c for c in status(cluster, namespace, "slo", SLO)["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "False"
        assert op.metric("okr_stale_objects") >= 1
    finally:
        proxy.heal()
    try:
        started = time.monotonic()
        wait_until(
            lambda: metrics_condition(status(cluster, namespace, "slo", SLO)).get("reason") not in ("Stale", None),
            90,
            "the Stale mark cleared",
            interval=0.5,
        )
        print(f"mark cleared {time.monotonic() - started:.1f} s after Prometheus was quick again")
        op.wait_for_cycles(1)
        assert op.metric("okr_stale_objects") == 0
    finally:
        op.stop()
        proxy.stop()
