"""What the handlers share, built once at startup and kept in kopf's operator memo (no module globals).

``okr-operator run`` puts its :class:`Settings` in the memo it gives ``kopf.run``; ``kopf run -m
okr_operator.runtime`` gives none, and the settings come from the ``OKR_*`` environment. The startup
handler builds the :class:`Runtime` into ``memo.runtime``; kopf hands every resource handler a shallow copy
of that memo, so they all see the same Runtime.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import kopf
from aiohttp import web

from ..api.identity import Ref
from ..generate import RenderOptions
from ..kube.client import KubeAdapter, load_api_client
from ..kube.lease import LeaderLease
from ..prometheus.adapter import PrometheusAdapter
from ..webview.server import serve as serve_web
from .handled import HandledGenerations
from .health import Health
from .loop import EvaluationLoop
from .metrics import Metrics, serve
from .reconcile import Reconciled
from .selection import RuleSelectionWatch
from .settings import Settings
from .status import StatusWriter
from .store import Store

Reselected = Callable[[dict[str, Any], Reconciled], Awaitable[None]]


def identity() -> str:
    """This replica's name: the pod's, else host and process."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"


class Runtime:
    """The store, the adapters, the status writer, the metrics, the evaluation loop and the other background
    tasks (rule selection, web view) of one operator."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.shard = settings.owned  # which namespaces' objects this replica reconciles, evaluates and writes
        # Per SLO, the maintenance intervals its applied rules carry (see handlers.refresh_maintenance).
        self.maintenance_keys: dict[Ref, tuple[Any, ...]] = {}
        self.store = Store()
        self.handled: HandledGenerations | None = None  # kopf's diff-base (kopf_settings.configure_kopf)
        self.metrics = Metrics()
        kube = settings.kube
        self.kube = KubeAdapter(
            load_api_client(retries=kube.retries),
            timeout=kube.timeout_seconds,
            connect_timeout=kube.connect_timeout_seconds,
        )
        self.prometheus = PrometheusAdapter(settings.prometheus, on_query=self.metrics.on_query)
        self.writer = StatusWriter(self.kube, self.store, self.metrics)
        self.options = RenderOptions(rule_labels=settings.rule_labels, prometheus_address=settings.gate_address)
        self.health = Health(stale_after=3 * settings.interval_seconds + 30)
        lease = None
        if not settings.standalone:
            lease = LeaderLease(self.kube, settings.lease, settings.lease_namespace, identity())
        self.loop = EvaluationLoop(
            store=self.store,
            writer=self.writer,
            prometheus=self.prometheus,
            metrics=self.metrics,
            health=self.health,
            interval=settings.interval_seconds,
            sli_source=settings.sli_source,
            lease=lease,
            shard=self.shard,
        )
        self.selection = RuleSelectionWatch(self.kube, self.store, settings.rule_labels, settings.interval_seconds)
        self.tasks: list[asyncio.Task[None]] = []
        self.servers: list[web.AppRunner] = []

    async def start(self, reselected: Reselected) -> None:
        """Serve /metrics, /healthz and /readyz (and the web view), start the evaluation loop, read the rule
        selection once (before the resume handlers, so their RulesSynced already says it) and keep it current;
        ``reselected`` writes a RulesSynced the selection changed."""
        settings = self.settings
        self.servers.append(await serve(self.metrics, self.health, settings.metrics_port))
        self.tasks.append(asyncio.create_task(self.loop.run(), name="okr-evaluation-loop"))
        if settings.web:

            async def objects() -> list[dict[str, Any]]:
                return self.store.bodies()

            self.servers.append(
                await serve_web(objects, "0.0.0.0", settings.web_port, refresh=settings.interval_seconds)
            )
        await self.selection.refresh()
        self.tasks.append(asyncio.create_task(self.selection.run(reselected), name="okr-rule-selection"))

    async def stop(self) -> None:
        self.loop.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for server in self.servers:
            await server.cleanup()
        self.prometheus.close()


def runtime_of(memo: Any) -> Runtime:
    """The Runtime in kopf's memo; a retry (not a crash) if a handler runs before startup has built it."""
    runtime = getattr(memo, "runtime", None) if memo is not None else None
    if runtime is None:
        raise kopf.TemporaryError("operator is starting", delay=1)
    return runtime
