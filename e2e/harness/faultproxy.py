"""FaultProxy: a TCP proxy on loopback in front of a real server, for the faults a real server does not make on
cue: answers that arrive late, and connections that stay open but go silent.

    with FaultProxy(("127.0.0.1", prometheus.port)) as proxy:
        url = f"http://127.0.0.1:{proxy.port}"   # give this to the client under test
        proxy.delay(20)                           # every request reaches the server 20 s late
        proxy.freeze()                            # open connections go silent (new ones still pass)
        proxy.refuse()                            # new connections are closed at once (a server that is down)
        proxy.heal()                              # back to passing everything (frozen connections stay frozen)

It forwards bytes only (TLS passes through untouched, so it works in front of kube-apiserver too). Threads:
one acceptor, two pumps per connection.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import yaml

CHUNK = 65536


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client, self.upstream = client, upstream
        self.frozen = threading.Event()
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.close()


class FaultProxy:
    """Forward ``127.0.0.1:<port>`` to ``target``; faults are switched on and off while it runs."""

    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", port))
        self._server.listen(128)
        self.port: int = self._server.getsockname()[1]
        self._delay = 0.0
        self._refusing = False
        self._links: set[_Link] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.connections = 0  # accepted so far
        self._acceptor = threading.Thread(target=self._accept, name=f"faultproxy:{self.port}", daemon=True)

    # ---------------------------------------------------------------- faults

    def delay(self, seconds: float) -> None:
        """Hold every chunk a client sends for ``seconds`` before it goes on (0: no delay)."""
        self._delay = seconds

    def freeze(self) -> int:
        """Open connections stop forwarding in both directions and are never closed; returns how many."""
        with self._lock:
            links = [link for link in self._links if not link.closed.is_set()]
        for link in links:
            link.frozen.set()
        return len(links)

    def refuse(self) -> None:
        """Close new connections at once and drop the open ones (what a client sees of a server that is down)."""
        self._refusing = True
        with self._lock:
            links = list(self._links)
        for link in links:
            if not link.frozen.is_set():
                link.close()

    def heal(self) -> None:
        """Pass everything again (connections frozen earlier stay frozen, as a black-holed one would)."""
        self._delay = 0.0
        self._refusing = False

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FaultProxy:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._server.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- internals

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            if self._refusing:
                client.close()
                continue
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        link = _Link(client, upstream)
        with self._lock:
            self._links.add(link)
        threading.Thread(target=self._pump, args=(link, client, upstream, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(link, upstream, client, False), daemon=True).start()

    def _pump(self, link: _Link, source: socket.socket, sink: socket.socket, request: bool) -> None:
        try:
            while not link.closed.is_set():
                if link.frozen.is_set():
                    link.closed.wait()  # silent until the proxy stops: no bytes, no close
                    return
                try:
                    data = source.recv(CHUNK)
                except OSError:
                    break
                if not data:
                    break
                if request and self._delay:
                    time.sleep(self._delay)
                if link.frozen.is_set():
                    link.closed.wait()
                    return
                sink.sendall(data)
        except OSError:
            pass
        if not link.frozen.is_set():
            link.close()
            with self._lock:
                self._links.discard(link)


def kubeconfig_through(kubeconfig: Path, proxy: FaultProxy, dest: Path) -> Path:
    """A copy of ``kubeconfig`` whose clusters are reached through ``proxy`` (the API server's certificate
    names 127.0.0.1, so TLS still verifies)."""
    config = yaml.safe_load(Path(kubeconfig).read_text())
    for entry in config["clusters"]:
        entry["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
    dest.write_text(yaml.safe_dump(config))
    dest.chmod(0o600)
    return dest
