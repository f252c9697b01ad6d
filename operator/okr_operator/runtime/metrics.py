"""Self-metrics (``/metrics``), liveness (``/healthz``) and readiness (``/readyz``) on one small aiohttp server."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ..api.identity import Entry, Ref
from ..series import exposition, status_families
from .health import Health

# Query errors that mean Prometheus did not answer (QueryFailed is an answer: it refused the query).
NO_ANSWER = ("PrometheusUnreachable", "PrometheusTimeout", "BadResponse")


class StatusSeries:
    """The status gauges of the last evaluation (``series.status_families``) as exposition text, rendered once
    per cycle (in the loop's worker thread); scrapes append the bytes. Objects that are gone leave no series."""

    def __init__(self) -> None:
        self.text = b""

    def update(self, entries: Iterable[Entry], statuses: Mapping[Ref, Mapping[str, Any]]) -> None:
        self.text = exposition(status_families(entries, statuses))


class Metrics:
    """Every metric the operator exports, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.statuses = StatusSeries()
        self.reconciles = Counter("okr_reconcile", "Reconciles of okr.dev objects.", ["kind", "result"], registry=r)
        self.reconcile_seconds = Histogram(
            "okr_reconcile_duration_seconds", "Reconcile duration.", ["kind"], registry=r
        )
        self.evaluations = Counter("okr_evaluation", "Evaluation cycles.", ["result"], registry=r)
        self.evaluation_seconds = Histogram(
            "okr_evaluation_duration_seconds",
            "Evaluation cycle duration.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.queries = Counter("okr_prometheus_queries", "Queries sent to Prometheus.", registry=r)
        self.cycle_queries = Gauge(
            "okr_evaluation_queries",
            "Prometheus queries the last finished evaluation cycle sent (constant in the object count; "
            "grows only while a batch searches for a failing member).",
            registry=r,
        )
        self.query_errors = Counter("okr_prometheus_query_errors", "Failed Prometheus queries.", ["reason"], registry=r)
        self.query_seconds = Histogram(
            "okr_prometheus_query_duration_seconds", "Prometheus query duration.", registry=r
        )
        self.status_writes = Counter("okr_status_writes", "Status writes to the API.", ["kind"], registry=r)
        self.leader = Gauge("okr_evaluation_leader", "1 while this replica runs the evaluation loop.", registry=r)
        self.objects = Gauge("okr_objects", "okr.dev objects the operator owns (its shard's).", ["kind"], registry=r)
        self.shard_objects = Gauge(
            "okr_shard_objects",
            "Objects owned by the shard this replica serves (shard of shards; 0 on a standby).",
            ["shard", "shards"],
            registry=r,
        )
        self.stale_objects = Gauge(
            "okr_stale_objects",
            "Objects whose figures in the API are older than twice the interval (marked MetricsAvailable=False, "
            "reason Stale, where the API server takes the write).",
            registry=r,
        )
        self.oldest_figures = Gauge(
            "okr_oldest_figures_seconds", "Age of the oldest figures the API shows for any object.", registry=r
        )
        self.prometheus_up = Gauge(
            "okr_prometheus_up",
            "1 when Prometheus answered the last query, 0 when it did not (timeout, unreachable).",
            registry=r,
        )

    def on_query(self, _expr: str, seconds: float, error: str | None) -> None:
        self.queries.inc()
        self.query_seconds.observe(seconds)
        self.prometheus_up.set(0 if error in NO_ANSWER else 1)
        if error:
            self.query_errors.labels(error).inc()


async def serve(metrics: Metrics, health: Health, port: int) -> web.AppRunner:
    """Start the /metrics, /healthz (liveness) and /readyz (readiness) server."""

    async def metrics_handler(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(metrics.registry) + metrics.statuses.text,
            headers={"Content-Type": "text/plain; version=0.0.4"},
        )

    async def health_handler(_: web.Request) -> web.Response:
        ok, why = health.live()
        return web.Response(status=200 if ok else 503, text=f"{why}\n")

    async def ready_handler(_: web.Request) -> web.Response:
        ok, why = health.ready()
        return web.Response(status=200 if ok else 503, text=f"{why}\n")

    app = web.Application()
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", health_handler)
    app.router.add_get("/readyz", ready_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    return runner
