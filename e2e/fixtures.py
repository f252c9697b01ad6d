"""pytest plugin with the Testbed fixtures (enabled by the root conftest.py: ``pytest_plugins = ["e2e.fixtures"]``).

Fixtures:

* ``cluster`` (session): a started ``LocalCluster`` (default) or, with ``E2E_BACKEND=kind``, a
  ``KindBackend`` (skipped with the reason when no Docker engine answers).
* ``prometheus`` (session): a started ``LocalPrometheus`` (1 s scrape and evaluation interval).
* ``prometheus_operator`` (session): the real prometheus-operator and its admission webhook (registered,
  failurePolicy Fail) running against ``cluster``; modules create their own ``Prometheus`` resources and
  project its rule files into their LocalPrometheus (``e2e.harness.prometheus_operator``).
* ``namespace`` (function): a fresh namespace in ``cluster``, deleted after the test.
* ``exporter`` (function): a started ``SyntheticExporter`` scraped by ``prometheus``.

Missing tools are built on demand with a progress line per tool (``make tools`` does it ahead).
When a test that uses ``cluster`` or ``prometheus`` fails, the process logs are copied to
``out/e2e-logs/<test>/`` (or ``$E2E_LOG_DIR``) and the path is shown in the failure report.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.harness.cluster import LocalCluster
from e2e.harness.exporter import SyntheticExporter
from e2e.harness.prometheus import LocalPrometheus

REPO_ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("local", "kind")

# Token users in the session cluster's static token file (name -> groups); no RBAC grants come with them.
# More at runtime: ``cluster.mint_user(name, groups)`` (client certificate).
TEST_IDENTITIES: dict[str, tuple[str, ...]] = {
    "viewer": ("okr-viewers",),
    "editor": ("okr-editors",),
    "nobody": (),
}


def pytest_configure(config: pytest.Config) -> None:
    # Also registered in pyproject.toml; repeated here so the plugin works on its own.
    config.addinivalue_line("markers", "e2e: needs the local control plane and Prometheus (the Testbed)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"_e2e_report_{report.when}", report)


def log_root() -> Path:
    """Where logs of failed tests are copied: ``$E2E_LOG_DIR`` or ``<repo>/out/e2e-logs``."""
    return Path(os.environ.get("E2E_LOG_DIR") or REPO_ROOT / "out" / "e2e-logs")


def _progress(config: pytest.Config) -> Callable[[str], None]:
    """A logger that prints through pytest's output capture (tool builds can take minutes)."""
    capman = config.pluginmanager.getplugin("capturemanager")

    def say(msg: str) -> None:
        if capman is not None:
            with capman.global_and_fixture_disabled():
                print(f"[testbed] {msg}", flush=True)
        else:
            print(f"[testbed] {msg}", flush=True)

    return say


@pytest.fixture(scope="session")
def e2e_backend() -> str:
    """``$E2E_BACKEND``: ``local`` (default) or ``kind``."""
    backend = os.environ.get("E2E_BACKEND", "local").strip() or "local"
    if backend not in BACKENDS:
        raise pytest.UsageError(f"E2E_BACKEND={backend!r}: expected one of {BACKENDS}")
    return backend


@pytest.fixture(scope="session")
def cluster(e2e_backend: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A running cluster for the whole session (LocalCluster, or KindBackend on kind)."""
    say = _progress(request.config)
    if e2e_backend == "kind":
        from e2e.harness.kind import KindBackend, docker_unavailable

        reason = docker_unavailable()
        if reason:
            pytest.skip(f"E2E_BACKEND=kind needs a working Docker engine: {reason}")
        backend = KindBackend().start()
        try:
            yield backend
        finally:
            backend.stop()
        return
    local = LocalCluster(TEST_IDENTITIES, log=say)
    try:
        local.start()
    except BaseException:
        dest = local.save_logs(log_root() / "cluster-start")
        say(f"cluster failed to start; logs copied to {dest}")
        local.stop(remove_dir=True)
        raise
    say(f"local cluster up at {local.server} in {local.started_in:.1f} s (dir {local.dir})")
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def prometheus_operator(cluster: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """prometheus-operator v0.85 and its validating webhook on the session cluster (local backend only)."""
    from e2e.harness.prometheus_operator import PrometheusOperator

    say = _progress(request.config)
    if not isinstance(cluster, LocalCluster):
        pytest.skip("prometheus-operator runs as a local process against the local control plane")
    po = PrometheusOperator(cluster)
    try:
        po.start()
        po.register_webhook()
    except BaseException:
        dest = po.save_logs(log_root() / "prometheus-operator-start")
        say(f"prometheus-operator failed to start; logs copied to {dest}")
        po.stop()
        raise
    say(f"prometheus-operator up at {po.url}, admission webhook at {po.webhook_url}")
    try:
        yield po
    finally:
        po.stop()


@pytest.fixture(scope="session")
def prometheus(request: pytest.FixtureRequest) -> Iterator[LocalPrometheus]:
    """A running Prometheus for the whole session (scrape and rule evaluation every second)."""
    say = _progress(request.config)
    prom = LocalPrometheus(scrape_interval="1s", evaluation_interval="1s", log=say)
    try:
        prom.start()
    except BaseException:
        dest = prom.save_logs(log_root() / "prometheus-start")
        say(f"prometheus failed to start; logs copied to {dest}")
        prom.close()
        raise
    say(f"prometheus up at {prom.url} in {prom.started_in:.1f} s")
    try:
        yield prom
    finally:
        prom.close()


def _namespace_name(nodeid: str) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", nodeid.split("::")[-1].lower()).strip("-")[:40].strip("-")
    return f"{base or 'test'}-{secrets.token_hex(3)}"


@pytest.fixture
def namespace(cluster: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace named after the test; deleted (without waiting) afterwards."""
    name = _namespace_name(request.node.nodeid)
    cluster.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


@pytest.fixture
def exporter(prometheus: LocalPrometheus) -> Iterator[SyntheticExporter]:
    """A started SyntheticExporter that ``prometheus`` scrapes (job ``synthetic``) during the test."""
    with SyntheticExporter() as exp:
        prometheus.add_target(exp.target)
        try:
            yield exp
        finally:
            prometheus.remove_target(exp.target)


@pytest.fixture(autouse=True)
def _e2e_logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a failed test that used the Testbed, copy the process logs and say where they are."""
    yield
    report = getattr(request.node, "_e2e_report_call", None)
    if report is None or not report.failed:
        return
    used = [name for name in ("cluster", "prometheus", "prometheus_operator") if name in request.fixturenames]
    if not used:
        return
    dest = log_root() / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
    for name in used:
        try:
            request.getfixturevalue(name).save_logs(dest)
        except Exception as exc:  # never hide the test's own failure
            report.sections.append(("testbed logs", f"could not copy {name} logs: {exc!r}"))
            continue
    report.sections.append(("testbed logs", f"process logs copied to {dest}"))
