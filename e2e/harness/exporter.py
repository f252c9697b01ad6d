"""SyntheticExporter: a /metrics endpoint whose request counters advance on a timer.

    with SyntheticExporter() as exporter:
        exporter.set("checkout", "v1", rate=20, error_ratio=0.01)
        prom.add_target(exporter.target)
        ...
        exporter.set("checkout", "v1", error_ratio=0.2)   # changes take effect on the next tick

No HTTP traffic is simulated: a background thread integrates each (service, version)'s
``Traffic`` every ``tick`` seconds into counters and histogram buckets, and a custom
prometheus-client collector exposes them (``http_requests_total{service,version,code}``,
``http_request_duration_seconds{service,version}``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from e2e.harness.procs import free_port
from e2e.harness.traffic import DEFAULT_BUCKETS, DURATION, ERROR_CODE, OK_CODE, Traffic, format_le


@dataclass
class _Series:
    traffic: Traffic
    ok: float = 0.0
    errors: float = 0.0
    duration_sum: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)


class _Collector(Collector):
    def __init__(self, exporter: SyntheticExporter) -> None:
        self.exporter = exporter

    def collect(self) -> Iterator[Any]:
        requests = CounterMetricFamily("http_requests", "Synthetic requests.", labels=["service", "version", "code"])
        durations = HistogramMetricFamily(
            self.exporter.histogram, "Synthetic request latency.", labels=["service", "version"]
        )
        with self.exporter._lock:
            for (service, version), s in sorted(self.exporter._series.items()):
                requests.add_metric([service, version, OK_CODE], s.ok)
                requests.add_metric([service, version, ERROR_CODE], s.errors)
                bounds = [*self.exporter.buckets, float("inf")]
                durations.add_metric(
                    [service, version],
                    [(format_le(le), s.buckets.get(le, 0.0)) for le in bounds],
                    s.duration_sum,
                )
        yield requests
        yield durations


class SyntheticExporter:
    """Serves synthetic request metrics on a free loopback port; traffic is changeable at runtime.

    Args:
        tick: seconds between counter updates (counters grow by ``rate * tick`` per tick).
        buckets: histogram bucket bounds (``+Inf`` is added).
        histogram: name of the latency histogram (latencies are in its unit, e.g. microseconds).
    """

    def __init__(
        self, tick: float = 0.25, buckets: tuple[float, ...] = DEFAULT_BUCKETS, histogram: str = DURATION
    ) -> None:
        self.tick = tick
        self.histogram = histogram
        self.buckets = tuple(sorted(buckets))
        self.port = free_port()
        self.host = "127.0.0.1"
        self._series: dict[tuple[str, str], _Series] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self))

    @property
    def target(self) -> str:
        """``host:port`` for a Prometheus scrape config."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.target}/metrics"

    def set(
        self,
        service: str,
        version: str,
        *,
        rate: float | None = None,
        error_ratio: float | None = None,
        latency: tuple[tuple[float, float], ...] | None = None,
    ) -> Traffic:
        """Create or change the traffic of one (service, version); unspecified fields are kept."""
        changes = {
            k: v for k, v in {"rate": rate, "error_ratio": error_ratio, "latency": latency}.items() if v is not None
        }
        with self._lock:
            series = self._series.get((service, version))
            if series is None:
                series = _Series(Traffic(**changes))
                self._series[(service, version)] = series
            else:
                series.traffic = replace(series.traffic, **changes)
            return series.traffic

    def remove(self, service: str, version: str) -> None:
        with self._lock:
            self._series.pop((service, version), None)

    def advance(self, seconds: float) -> None:
        """Add ``seconds`` worth of traffic to every series (the timer calls this each tick)."""
        with self._lock:
            for s in self._series.values():
                tr = s.traffic
                n = tr.rate * seconds
                s.errors += n * tr.error_ratio
                s.ok += n * (1.0 - tr.error_ratio)
                s.duration_sum += n * tr.mean_latency
                for le in (*self.buckets, float("inf")):
                    s.buckets[le] = s.buckets.get(le, 0.0) + n * tr.fraction_within(le)

    def totals(self, service: str, version: str) -> dict[str, float]:
        """Current counter values: ``{"200": ok, "500": errors}``."""
        with self._lock:
            s = self._series[(service, version)]
            return {OK_CODE: s.ok, ERROR_CODE: s.errors}

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.tick):
            now = time.monotonic()
            self.advance(now - last)
            last = now

    def start(self) -> SyntheticExporter:
        self._server, _ = start_http_server(self.port, addr=self.host, registry=self.registry)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="synthetic-exporter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SyntheticExporter:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
