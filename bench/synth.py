"""Synthetic request series for the rule benchmarks: many services, several pods each, three codes.

Every counter is an exact linear function of time from the history's start ``t0``:
``http_requests_total{service, pod, code}(t) = per_second * (t - t0)``. The backfilled history
(OpenMetrics for ``promtool tsdb create-blocks-from openmetrics``) and the live exporter that Prometheus
scrapes afterwards use the same function, so the series continue without a reset or a gap.

Cardinality per service: 1-4 pods (``1 + i % 4``) x codes 200, 404, 500 = 3-12 series, 7.5 on average;
only code 500 counts as an error. Request rates and error ratios vary by service; every service is
healthy (error ratio 0.01%-0.05%, below a 99.9% SLO's budget).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from time import time

from e2e.harness.procs import free_port

METRIC = "http_requests_total"
CODES = ("200", "404", "500")
NOT_FOUND_RATIO = 0.02


@dataclass(frozen=True)
class Service:
    """One synthetic service: ``pods`` pods each serving ``rate`` requests/s with ``error_ratio`` 5xx."""

    name: str
    pods: int
    rate: float
    error_ratio: float

    def per_second(self, code: str) -> float:
        """Requests per second per pod with ``code``."""
        if code == "500":
            return self.rate * self.error_ratio
        if code == "404":
            return self.rate * NOT_FOUND_RATIO
        return self.rate * (1.0 - self.error_ratio - NOT_FOUND_RATIO)

    def series(self) -> Iterator[tuple[str, float]]:
        """(OpenMetrics series name with labels, increase per second) for each series of the service."""
        for pod in range(self.pods):
            for code in CODES:
                labels = f'service="{self.name}",pod="{self.name}-{pod}",code="{code}"'
                yield f"{METRIC}{{{labels}}}", self.per_second(code)


def service_name(i: int) -> str:
    return f"svc-{i:04d}"


def services(n: int) -> list[Service]:
    """``n`` services with varied pods, rates (1-20 req/s per pod) and error ratios (1-5 in 10 000)."""
    # Rates are multiples of 1/8 req/s and error counts exact binary fractions, so counters print exactly.
    return [
        Service(service_name(i), pods=1 + i % 4, rate=1.0 + (i * 7) % 20, error_ratio=(1 + i % 5) / 10_000)
        for i in range(n)
    ]


def series_count(svcs: list[Service]) -> int:
    return sum(s.pods * len(CODES) for s in svcs)


def write_history(path: Path, svcs: list[Service], t0: float, t1: float, step: float = 60.0) -> int:
    """Write OpenMetrics counters from ``t0`` to ``t1`` (every ``step`` s) to ``path``; returns samples."""
    n = int((t1 - t0) // step)
    samples = 0
    with open(path, "w", encoding="ascii") as out:
        out.write("# HELP http_requests Synthetic requests.\n# TYPE http_requests counter\n")
        for svc in svcs:
            for name, per_second in svc.series():
                inc = per_second * step
                out.write("\n".join([f"{name} {inc * k!r} {t0 + k * step:.0f}" for k in range(n + 1)]))
                out.write("\n")
                samples += n + 1
        out.write("# EOF\n")
    return samples


class LiveExporter:
    """Serves the same counters at the current time on a free loopback port (``/metrics``)."""

    def __init__(self, svcs: list[Service], t0: float) -> None:
        self.svcs = svcs
        self.t0 = t0
        self.port = free_port()
        self._server: ThreadingHTTPServer | None = None
        self._series = [(name, per_second) for svc in svcs for name, per_second in svc.series()]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def render(self, at: float | None = None) -> bytes:
        """The counters at ``at`` (default now), each stamped with that time in milliseconds.

        The explicit timestamp keeps every series exactly linear in Prometheus's time: without it a
        scrape that the busy exporter answers 0.5 s late records a later value at the scrape's start
        time, and ``rate()`` over it moves by a few tenths of a percent from cycle to cycle.
        """
        millis = round((at if at is not None else time()) * 1000)
        elapsed = millis / 1000 - self.t0
        lines = ["# HELP http_requests_total Synthetic requests.", "# TYPE http_requests_total counter"]
        lines += [f"{name} {per_second * elapsed!r} {millis}" for name, per_second in self._series]
        return ("\n".join(lines) + "\n").encode()

    def start(self) -> LiveExporter:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.render()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="bench-exporter", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
