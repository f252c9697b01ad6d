"""Check-ins and the period review end to end, with the real operator (shipped RBAC) and Prometheus of
e2e/test_operator.py: `kubectl okr checkin -f` on a copy of a sample changes only the intended lines and the
applied result updates status; `kubectl okr checkin --live` appends (concurrent check-ins all land, a
conflicting write in between is retried against the real API server) and status follows; Argo CD's tracking
is warned about; `kubectl okr report` shows the samples' live statuses (Markdown, and HTML in Chromium).
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

import e2e.test_operator as op
from e2e.harness.browser import dump_dom, screenshot
from okr_operator.checkin import parse_check_in
from okr_operator.checkin.live import FIELD_MANAGER, append

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The operator tier's module fixtures (its own Prometheus with a week of traffic, the operator as its
# ServiceAccount, the samples applied in a fresh namespace), instantiated again for this module.
service, prom, crds_installed, rules_loaded = op.service, op.prom, op.crds_installed, op.rules_loaded
operator_identity, operator, applied = op.operator_identity, op.operator, op.applied
get, status, wait_status = op.get, op.status, op.wait_status

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "out" / "e2e-artifacts"
BIN = Path(sys.executable).parent


def okr(cluster, *args: str) -> subprocess.CompletedProcess[str]:
    """kubectl okr ... through kubectl's plugin mechanism (kubectl-okr on PATH)."""
    from e2e.harness.cluster import kubectl_binary

    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "KUBECONFIG": str(cluster.kubeconfig),
    }
    return subprocess.run(
        [kubectl_binary(), "okr", *args], capture_output=True, text=True, timeout=120, check=False, env=env
    )


def mttr_check_ins(cluster, namespace: str) -> list[dict[str, Any]]:
    return get(cluster, "kr", namespace, "checkout-mttr")["spec"]["source"]["manual"]["checkIns"]


def test_checkin_file_changes_only_the_intended_lines_and_the_applied_result_updates_status(
    cluster, applied, service, tmp_path
):
    ns = applied
    wait_status(cluster, "kr", ns, "checkout-mttr", lambda s: s.get("current") == 42, what="the sample's value")
    copy = tmp_path / "keyresults.yaml"
    original = (ROOT / "config" / "samples" / "keyresults.yaml").read_text()
    copy.write_text(original.replace('service="checkout"', f'service="{service}"'))
    before = copy.read_text()
    out = okr(cluster, "checkin", "checkout-mttr", "41", "--confidence", "0.85", "--note", "Game day: rollback",
              "--date", "2026-11-30", "-f", str(copy))  # fmt: skip
    assert out.returncode == 0, out.stderr
    added = [line for line in difflib.unified_diff(before.splitlines(), copy.read_text().splitlines(), lineterm="",
                                                   n=0)][2:]  # fmt: skip
    assert added == [
        "@@ -29,0 +30,4 @@",
        "+        - date: 2026-11-30",
        "+          value: 41",
        "+          confidence: 0.85",
        "+          note: 'Game day: rollback'",
    ]
    cluster.kubectl("apply", "-n", ns, "-f", str(copy))
    st = wait_status(cluster, "kr", ns, "checkout-mttr", lambda s: s.get("current") == 41, what="the new check-in")
    assert st["progress"] == pytest.approx((45 - 41) / 4.5, abs=1e-4)
    assert st["confidence"] == 0.85
    objective = wait_status(
        cluster, "obj", ns, "checkout-reliability", lambda s: s.get("progress", 0) > 0.9, what="the roll-up"
    )
    assert objective["progress"] == pytest.approx((2 * 1 + (45 - 41) / 4.5) / 3, abs=1e-4)


def test_checkin_live_appends_concurrently_and_status_follows(cluster, applied):
    ns = applied
    wait_status(cluster, "kr", ns, "checkout-mttr", lambda s: s.get("current") == 42, what="the sample's value")
    runs = [("41.5", "2026-11-20"), ("41", "2026-11-22"), ("40.8", "2026-11-24"), ("40.5", "2026-11-26")]
    with ThreadPoolExecutor(len(runs)) as pool:
        results = list(pool.map(lambda r: okr(cluster, "checkin", "checkout-mttr", r[0], "--date", r[1], "--live",
                                              "-n", ns, "-o", "json"), runs))  # fmt: skip
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    entries = mttr_check_ins(cluster, ns)
    assert len(entries) == 3 + len(runs)  # none replaced another
    assert sorted((str(e["value"]), e["date"]) for e in entries[3:]) == sorted(runs)
    assert sorted(json.loads(r.stdout)["checkIns"] for r in results) == [4, 5, 6, 7]
    shown = cluster.kubectl("get", "kr", "checkout-mttr", "-n", ns, "-o", "json", "--show-managed-fields").stdout
    managers = {m["manager"] for m in json.loads(shown)["metadata"]["managedFields"]}
    assert FIELD_MANAGER in managers
    st = wait_status(cluster, "kr", ns, "checkout-mttr", lambda s: s.get("current") == 40.5, what="latest check-in")
    assert st["progress"] == 1


class _Racing:
    """The real CustomObjectsApi; after the first read, someone else checks in (a real write on the real API
    server) before our patch goes out."""

    def __init__(self, api: Any, interfere: Any) -> None:
        self.api, self.interfere, self.reads = api, interfere, 0

    def get_namespaced_custom_object(self, *args: Any, **kwargs: Any) -> Any:
        body = self.api.get_namespaced_custom_object(*args, **kwargs)
        self.reads += 1
        if self.reads == 1:
            self.interfere()
        return body

    def patch_namespaced_custom_object(self, *args: Any, **kwargs: Any) -> Any:
        return self.api.patch_namespaced_custom_object(*args, **kwargs)


def test_a_write_between_read_and_patch_is_retried_without_losing_it(cluster, applied):
    ns = applied
    other = [{"op": "add", "path": "/spec/source/manual/checkIns/-", "value": {"date": "2026-11-27", "value": 43}}]

    def interfere() -> None:
        cluster.kubectl("patch", "kr", "checkout-mttr", "-n", ns, "--type=json", "-p", json.dumps(other))

    racing = _Racing(client.CustomObjectsApi(cluster.api_client), interfere)
    entry = parse_check_in("40", confidence=None, note="mine", when="2026-11-28", now=_now())
    done = append(racing, ns, "checkout-mttr", entry, timeout=30)
    # the stale patch's test failed; read again, sent again (more than once when the operator's status writes,
    # which also move the resourceVersion, came in between too)
    assert done.attempts >= 2 and racing.reads == done.attempts
    assert [(e["date"], e["value"]) for e in mttr_check_ins(cluster, ns)[3:]] == [("2026-11-27", 43),
                                                                                  ("2026-11-28", 40)]  # fmt: skip


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_checkin_live_warns_when_argo_cd_tracks_the_key_result(cluster, applied):
    ns = applied
    cluster.kubectl("label", "kr", "checkout-mttr", "-n", ns, "app.kubernetes.io/instance=okrs")
    out = okr(cluster, "checkin", "checkout-mttr", "41", "--live", "-n", ns)
    assert out.returncode == 0, out.stderr
    assert "warning: KeyResult" in out.stderr and "managed by Argo CD (label app.kubernetes.io/instance=okrs)" in (
        out.stderr
    )
    assert "-f FILE" in out.stderr
    bad = okr(cluster, "checkin", "sli-coverage", "99", "--live", "-n", ns)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert bad.stderr.startswith(f"error: KeyResult {ns}/sli-coverage is measured by source.prometheus")
    missing = okr(cluster, "checkin", "nope", "1", "--live", "-n", ns)
    assert missing.returncode == 1 and missing.stderr == f"error: KeyResult nope not found in namespace {ns}\n"


def test_kubectl_okr_report_of_the_samples(cluster, applied):
    ns = applied
    for name in ("checkout-reliability", "platform-excellence", "checkout-speed"):
        wait_status(cluster, "obj", ns, name, lambda s: s.get("progress") is not None, what="progress")
    md = okr(cluster, "report", "-n", ns)
    assert md.returncode == 0, md.stderr
    lines = md.stdout.splitlines()
    assert lines[0] == "# OKR review: 2026-Q4"
    reliability = status(cluster, "obj", ns, "checkout-reliability")
    row = next(line for line in lines if line.startswith("| ↳ checkout-reliability |"))
    assert f"| {100 * reliability['progress']:.0f}% | {reliability['score']:.2f} | {reliability['state']} |" in row
    mttr = status(cluster, "kr", ns, "checkout-mttr")
    kr_row = next(line for line in lines if line.startswith("| checkout-mttr |"))
    assert f"| {mttr['current']:g} minutes / 40.5 minutes |" in kr_row
    assert "2026-11-12: 42 minutes (One-click rollback shipped)" in kr_row and "improving (43.5 -> 42" in kr_row
    availability = status(cluster, "slo", ns, "checkout-availability")
    slo_row = next(line for line in lines if line.startswith(f"| {ns}/checkout-availability |"))
    assert f"{availability['sli']:.3f}%" in slo_row

    html = okr(cluster, "report", "-n", ns, "-o", "html")
    assert html.returncode == 0, html.stderr
    path = ARTIFACTS / f"review-{ns}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html.stdout)
    dom = dump_dom(path.as_uri())
    assert f'data-name="checkout-reliability" data-namespace="{ns}" data-progress="{reliability["progress"]!r}"' in dom
    assert "<script" not in html.stdout
    shot = screenshot(path.as_uri(), ARTIFACTS / "review.png", height=1800)
    print(f"\nscreenshot of the report: {shot}")
    if os.environ.get("OKR_UPDATE_DOCS_PICTURES"):
        shutil.copy(shot, ROOT / "docs" / "review.png")


def test_kubectl_okr_report_of_an_ended_period_shows_the_final_grade(cluster, namespace, service, operator):
    """A period that ended yesterday: the operator grades it as of the end (status.final) and the report shows
    that grade, not the live figures."""
    from datetime import UTC, datetime, timedelta

    import yaml

    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    period = f"{(end - timedelta(days=3)).date()}/{(end - timedelta(days=1)).date()}"
    query = f'sum(rate(http_requests_total{{service="{service}"}}[5m]))'
    docs = [
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "Objective",
            "metadata": {"name": "last-sprint"},
            "spec": {"title": "Serve more", "owner": "team-sprint", "period": period},
        },
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "KeyResult",
            "metadata": {"name": "sprint-traffic"},
            "spec": {
                "objectiveRef": {"name": "last-sprint"},
                "description": "Serve four times the traffic",
                "baseline": 0,
                "target": 4 * op.RATE,
                "source": {"prometheus": {"query": query}},
            },
        },
    ]
    op.apply(cluster, namespace, yaml.safe_dump_all(docs))
    final = wait_status(cluster, "obj", namespace, "last-sprint", lambda s: "final" in s, what="final grade")["final"]
    out = okr(cluster, "report", "-n", namespace, "--period", period)
    assert out.returncode == 0, out.stderr
    graded = final["gradedAt"][:10]
    row = f"| last-sprint | team-sprint | {100 * final['progress']:.0f}% | {final['score']:.2f} | {final['state']} |"
    assert f"{row} final grade (graded {graded}) |" in out.stdout
    kr = status(cluster, "kr", namespace, "sprint-traffic")["final"]
    assert f"| sprint-traffic (final) | team-sprint | {kr['value']:.4g} / {4 * op.RATE:.4g} |" in out.stdout
    assert ", ended." in out.stdout
