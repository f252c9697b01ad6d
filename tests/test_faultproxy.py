"""The chaos tier's TCP proxy does what it says: passes bytes, delays them, freezes open connections (silent,
not closed) while new ones pass, and refuses new connections."""

from __future__ import annotations

import socket
import socketserver
import threading
import time

import pytest

from e2e.harness.faultproxy import FaultProxy


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(1024):
            self.request.sendall(data)


@pytest.fixture
def proxy():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with FaultProxy(server.server_address) as p:
        yield p
    server.shutdown()
    server.server_close()


def connect(proxy: FaultProxy) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
    conn.settimeout(2)
    return conn


def roundtrip(conn: socket.socket, data: bytes = b"ping") -> bytes:
    conn.sendall(data)
    return conn.recv(1024)


def test_passes_and_delays(proxy):
    conn = connect(proxy)
    assert roundtrip(conn) == b"ping"
    proxy.delay(0.5)
    started = time.monotonic()
    assert roundtrip(conn) == b"ping"
    assert time.monotonic() - started >= 0.5
    proxy.heal()
    started = time.monotonic()
    assert roundtrip(conn) == b"ping" and time.monotonic() - started < 0.4


def test_freeze_silences_open_connections_and_lets_new_ones_pass(proxy):
    old = connect(proxy)
    assert roundtrip(old) == b"ping"
    assert proxy.freeze() == 1
    old.settimeout(0.5)
    old.sendall(b"lost")
    with pytest.raises(TimeoutError):
        old.recv(1024)  # no answer, and no close either (recv would return b"")
    assert roundtrip(connect(proxy)) == b"ping"


def test_refuse_closes_new_connections(proxy):
    proxy.refuse()
    conn = connect(proxy)
    assert conn.recv(1024) == b""  # closed at once
    proxy.heal()
    assert roundtrip(connect(proxy)) == b"ping"
