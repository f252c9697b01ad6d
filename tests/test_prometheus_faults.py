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
