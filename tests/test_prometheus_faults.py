"""The adapter against a Prometheus that misbehaves in ways a real one cannot be made to on cue:
slow, garbage, errors. A tiny HTTP server stands in (fault injection only; the normal path is tested
against a real Prometheus in test_evaluation_prometheus.py)."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from okr_operator.prometheus.adapter import PrometheusAdapter
from okr_operator.prometheus.config import PrometheusSettings
from okr_operator.prometheus.types import PrometheusError


class Faulty(BaseHTTPRequestHandler):
    mode = "ok"
    seen_headers: dict[str, str] = {}

    def log_message(self, *args):  # quiet
        pass

    def _answer(self):
        Faulty.seen_headers = dict(self.headers)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.mode == "slow":
            time.sleep(2)
        if self.mode == "error":
            self.send_response(422)
            self.end_headers()
            self.wfile.write(b'{"status":"error","error":"parse error at char 3"}')
            return
        self.send_response(200)
        self.end_headers()
        if self.mode == "garbage":
            self.wfile.write(b"<html>proxy login</html>")
        elif self.mode == "nan":
            body = {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "NaN"]}]},
            }
            self.wfile.write(json.dumps(body).encode())
        else:
            body = {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {"a": "b"}, "value": [1, "2"]}]},
            }
            self.wfile.write(json.dumps(body).encode())

    do_GET = do_POST = _answer


class QuietServer(ThreadingHTTPServer):
    """A client that gave up (the "slow" mode) leaves a handler writing to a closed socket: not an error worth
    printing; socketserver would print it to whatever sys.stderr is then, i.e. into a later test's output."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Faulty)
    httpd.daemon_threads = False  # server_close() waits for the handlers still answering
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def adapter(url, **kw):
    return PrometheusAdapter(PrometheusSettings(url=url, timeout_seconds=0.5, retries=0, **kw))


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("slow", "PrometheusTimeout"), ("garbage", "BadResponse"), ("error", "QueryFailed")],
)
def test_failures_have_a_reason(server, mode, reason):
    Faulty.mode = mode
    a = adapter(server)
    with pytest.raises(PrometheusError) as err:
        a.query("up")
    assert err.value.reason == reason
    assert a.errors == 1 and a.queries == 1


def test_nan_is_passed_on_as_nan(server):
    Faulty.mode = "nan"
    (sample,) = adapter(server).query("up")
    assert sample.value != sample.value  # NaN: the engine turns it into "no data"


def test_tenant_and_bearer_token_headers(server, tmp_path):
    Faulty.mode = "ok"
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    (sample,) = adapter(server, tenant="team-a", bearer_token_file=str(token)).query("up")
    assert sample.labels == {"a": "b"} and sample.value == 2
    assert Faulty.seen_headers.get("X-Scope-OrgID") == "team-a"
    assert Faulty.seen_headers.get("Authorization") == "Bearer s3cret"


def test_long_queries_go_in_the_body(server):
    Faulty.mode = "ok"
    expr = " or ".join(f'up{{job="{i}"}}' for i in range(1000))
    assert adapter(server).query(expr)[0].value == 2


def test_unreachable(server):
    with pytest.raises(PrometheusError) as err:
        adapter("http://127.0.0.1:9").query("up")
    assert err.value.reason == "PrometheusUnreachable"


# ------------------------------------------------------------------ deadlines and retries


class Counting(BaseHTTPRequestHandler):
    """Answers 503 ``failures`` times, then a vector; or sleeps ``delay`` s first. Records the form fields."""

    failures = 0
    delay = 0.0
    calls = 0
    fields: dict[str, list[str]] = {}

    def log_message(self, *args):
        pass

    def do_POST(self):
        from urllib.parse import parse_qs, urlsplit

        Counting.calls += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        Counting.fields = {**parse_qs(urlsplit(self.path).query), **parse_qs(body)}
        if Counting.delay:
            time.sleep(Counting.delay)
        if Counting.failures > 0:
            Counting.failures -= 1
            self.send_response(503)
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        body = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "7"]}]}}
        self.wfile.write(json.dumps(body).encode())


@pytest.fixture
def counting():
    Counting.failures, Counting.delay, Counting.calls, Counting.fields = 0, 0.0, 0, {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_quick_failures_are_retried(counting):
    Counting.failures = 2
    a = PrometheusAdapter(PrometheusSettings(url=counting, timeout_seconds=5, retries=2))
    (sample,) = a.query("up")
    assert sample.value == 7 and Counting.calls == 3
    Counting.failures, Counting.calls = 5, 0
    with pytest.raises(PrometheusError) as err:
        a.query("up")
    assert err.value.reason == "QueryFailed" and Counting.calls == 3


def test_the_query_carries_its_own_timeout(counting):
    a = PrometheusAdapter(PrometheusSettings(url=counting, timeout_seconds=4.25, retries=0))
    a.query("up")
    assert Counting.fields["timeout"] == ["4250ms"]  # a duration Prometheus parses (it refuses "4.25s")


def test_a_read_timeout_is_not_retried(counting):
    Counting.delay = 1
    a = PrometheusAdapter(PrometheusSettings(url=counting, timeout_seconds=0.3, retries=2))
    started = time.monotonic()
    with pytest.raises(PrometheusError) as err:
        a.query("up")
    assert err.value.reason == "PrometheusTimeout"
    assert Counting.calls == 1 and time.monotonic() - started < 0.9


def test_a_refused_query_says_so_and_an_overloaded_one_does_not(server, counting):
    """422/400 are Prometheus refusing the query itself (a batch is then split to find the member at fault);
    503 is Prometheus overloaded (retried, and not a reason to split)."""
    Faulty.mode = "error"  # 422
    with pytest.raises(PrometheusError) as err:
        adapter(server).query("up")
    assert (err.value.reason, err.value.refused) == ("QueryFailed", True)
    Counting.failures = 5  # 503
    with pytest.raises(PrometheusError) as err:
        PrometheusAdapter(PrometheusSettings(url=counting, retries=0)).query("up")
    assert (err.value.reason, err.value.refused) == ("QueryFailed", False)
