"""The Kubernetes adapter against an API server that never answers or is not there: a timeout or a
connection failure becomes KubeUnavailable within the configured time, never a hang. A black-hole socket
stands in (a real kube-apiserver cannot be made to accept and then say nothing on cue in the unit tier; the
chaos tier in e2e/test_faults.py does it with a real one, stopped)."""

from __future__ import annotations

import socket
import threading
import time

import kopf
import pytest
from kubernetes import client

from okr_operator.kube.client import KubeAdapter, KubeUnavailable
from okr_operator.kube.config import KubeSettings
from okr_operator.kube.lease import LeaderLease
from okr_operator.runtime.kopf_settings import configure_kopf
from okr_operator.runtime.settings import from_env


@pytest.fixture
def black_hole():
    """A TCP server that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def adapter(url: str, timeout: float = 0.5) -> KubeAdapter:
    configuration = client.Configuration()
    configuration.host = url
    configuration.retries = 0
    return KubeAdapter(client.ApiClient(configuration), timeout=timeout, connect_timeout=timeout)


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.apply_status("KeyResult", "ns", "kr", {"current": 1}, field_manager="m"),
        lambda a: a.apply(
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "PrometheusRule",
                "metadata": {"name": "r", "namespace": "n"},
            }
        ),
        lambda a: a.get("KeyResult", "ns", "kr"),
        lambda a: a.list("Objective"),
        lambda a: a.delete("PrometheusRule", "ns", "r"),
        lambda a: a.event({"kind": "KeyResult", "metadata": {"name": "kr", "namespace": "ns"}}, "R", "m"),
        lambda a: LeaderLease(a, "lease", "ns", "me").acquire_or_renew(),
    ],
    ids=["apply_status", "apply", "get", "list", "delete", "event", "lease"],
)
def test_every_call_times_out(black_hole, call):
    kube = adapter(black_hole)  # the first one takes a while: the client loads its models
    started = time.monotonic()
    with pytest.raises(KubeUnavailable) as err:
        call(kube)
    took = time.monotonic() - started
    assert err.value.timed_out, err.value
    assert "no answer within 0.5 s" in str(err.value)
    assert took < 2, f"took {took:.1f}s with a 0.5s timeout"


def test_a_call_can_shorten_its_timeout(black_hole):
    kube = adapter(black_hole, timeout=30)
    started = time.monotonic()
    with pytest.raises(KubeUnavailable):
        kube.get("KeyResult", "ns", "kr", timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_refused_connection_is_unavailable_not_a_timeout():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(KubeUnavailable) as err:
        adapter(f"http://127.0.0.1:{port}").list("Objective")
    assert not err.value.timed_out
    assert err.value.reason == "Connection refused"
    assert str(err.value) == "list Objective: cannot reach the API server: Connection refused"


def test_default_timeouts_are_sane():
    kube = KubeSettings()
    assert kube.request_timeout == (5.0, 15.0)
    # A silent watch is noticed by the inactivity timeout, well before the client gives up on the request,
    # and within about 90 s (the API server sends a bookmark about once a minute, so 75 s is safe).
    assert kube.watch_inactivity_seconds < kube.watch_client_timeout_seconds
    assert kube.watch_inactivity_seconds <= 90
    assert kube.watch_timeout_seconds < kube.watch_client_timeout_seconds
    kube.check()


def test_inactivity_above_the_client_timeout_is_refused():
    with pytest.raises(ValueError, match="watch_inactivity_seconds 400 must be below the watch client timeout"):
        KubeSettings(watch_inactivity_seconds=400).check()
    with pytest.raises(ValueError, match="timeout_seconds 0"):
        KubeSettings(timeout_seconds=0).check()


def test_kopf_gets_the_same_timeouts():
    """What the settings say is what kopf's watches and requests use (a silent watch is dropped after 75 s,
    well before the 330 s client timeout), and no retry pause of kopf's is longer than one interval."""
    ours = from_env({"OKR_INTERVAL": "10s"})
    theirs = kopf.OperatorSettings()
    configure_kopf(theirs, ours)
    assert theirs.watching.server_timeout == 300
    assert theirs.watching.inactivity_timeout == 75 < theirs.watching.client_timeout == 330
    assert theirs.watching.connect_timeout == theirs.networking.connect_timeout == 5
    assert theirs.networking.request_timeout == 15
    assert max(theirs.networking.error_backoffs) == 10  # kopf's own go up to 21 s
