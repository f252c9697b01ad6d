"""kopf handlers: keep the store current, reconcile generated objects, revert hand edits, run the loop.

Importing this module registers the handlers (``kopf run -m okr_operator.runtime`` does that).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from datetime import UTC, datetime
from typing import Any

import kopf

from ..api import GROUP, VERSION, MaintenanceWindow
from ..api import MAINTENANCE_WINDOW_KIND as MW_KIND
from ..api.identity import Ref, entry_from_body
from ..generate import RenderOptions, find_objective, objects_for_key_result, objects_for_slo
from ..generated import MANAGED_BY
from ..kube.client import FIELD_MANAGER, KubeAdapter, KubeError
from ..kube.lease import LeaderLease
from ..maintenance.schedule import applicable, rule_intervals
from ..prometheus.adapter import PrometheusAdapter
from ..webview.server import serve as serve_web
from . import memory
from .loop import EvaluationLoop
from .metrics import Metrics, serve
from .ownership import NameConflict, apply_owned, owner_uid
from .reconcile import Reconciled, drifted, owner_ref, reconcile_key_result, reconcile_slo
from .selection import RuleSelectionWatch
from .settings import Settings, from_env
from .store import Store, ref_of

log = logging.getLogger("okr_operator")


class Runtime:
    """Everything the handlers share; built at startup from the settings."""

    settings: Settings
    store: Store
    kube: KubeAdapter
    prometheus: PrometheusAdapter
    metrics: Metrics
    loop: EvaluationLoop
    options: RenderOptions

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Per SLO, the maintenance intervals its applied rules carry (see refresh_maintenance).
        self.maintenance_keys: dict[Ref, tuple[Any, ...]] = {}
        self.store = Store()
        self.metrics = Metrics()
        self.kube = KubeAdapter()
        self.prometheus = PrometheusAdapter(settings.prometheus, on_query=self.metrics.on_query)
        self.options = RenderOptions(rule_labels=settings.rule_labels, prometheus_address=settings.gate_address)
        lease = None
        if not settings.standalone:
            lease = LeaderLease(self.kube, settings.leader_lease, settings.lease_namespace, identity())
        self.loop = EvaluationLoop(
            store=self.store,
            kube=self.kube,
            prometheus=self.prometheus,
            metrics=self.metrics,
            interval=settings.interval_seconds,
            sli_source=settings.sli_source,
            lease=lease,
        )
        self.selection = RuleSelectionWatch(self.kube, self.store, settings.rule_labels, settings.interval_seconds)


RUNTIME: Runtime | None = None
_configured_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Set the settings before kopf starts (``okr-operator run``); otherwise they come from the environment."""
    global _configured_settings
    _configured_settings = settings


def identity() -> str:
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"


def rt() -> Runtime:
    if RUNTIME is None:
        raise kopf.TemporaryError("operator is starting", delay=1)
    return RUNTIME


# ------------------------------------------------------------------ lifecycle


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    global RUNTIME
    memory.limit_arenas()
    ours = _configured_settings or from_env()
    # kopf keeps its own progress in annotations: the status schema is structural and would prune it.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    # A watch stream can die silently (no error, no events): ask the server to end it every 5 minutes,
    # give up on the client side shortly after, and reconnect when nothing arrived for 10 minutes.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 30
    settings.watching.inactivity_timeout = 600
    settings.posting.level = logging.WARNING
    settings.posting.reporting_component = FIELD_MANAGER
    RUNTIME = Runtime(ours)
    runtime = RUNTIME
    runtime.metrics_server = await serve(runtime.metrics, ours.metrics_port, stale_after=3 * ours.interval_seconds + 30)
    runtime.loop_task = asyncio.create_task(runtime.loop.run(), name="okr-evaluation-loop")
    runtime.maintenance_task = asyncio.create_task(refresh_maintenance_forever(), name="okr-maintenance-refresh")
    if ours.web:

        async def objects() -> list[dict[str, Any]]:
            return runtime.store.bodies()

        runtime.web_server = await serve_web(objects, "0.0.0.0", ours.web_port, refresh=ours.interval_seconds)
    await runtime.selection.refresh()  # before the resume handlers, so their RulesSynced already says it
    runtime.selection_task = asyncio.create_task(runtime.selection.run(_reselected), name="okr-rule-selection")
    log.info(
        "okr-operator started: prometheus %s, interval %s, sli source %s, metrics on :%d, web view %s",
        ours.prometheus.url,
        ours.interval,
        ours.sli_source,
        ours.metrics_port,
        f"on :{ours.web_port}" if ours.web else "off",
    )


@kopf.on.cleanup()
async def cleanup(**_: Any) -> None:
    runtime = RUNTIME
    if runtime is None:
        return
    runtime.loop.stop()
    for name in ("loop_task", "selection_task", "maintenance_task"):
        task = getattr(runtime, name, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    for name in ("metrics_server", "web_server"):
        server = getattr(runtime, name, None)
        if server is not None:
            await server.cleanup()
    runtime.prometheus.close()


# ------------------------------------------------------------------ the store


def _remember(event: dict[str, Any], body: kopf.Body) -> None:
    runtime = RUNTIME
    if runtime is None:
        return
    data = dict(body)
    data.setdefault("apiVersion", f"{GROUP}/{VERSION}")
    if event.get("type") == "DELETED":
        runtime.store.remove(ref_of(data))
    else:
        old = runtime.store.get(ref_of(data))
        runtime.store.upsert(data)
        if old is None or (old.get("metadata") or {}).get("generation") != data["metadata"].get("generation"):
            runtime.loop.nudge()


@kopf.on.event(GROUP, VERSION, "servicelevelobjectives")
def slo_event(event: dict[str, Any], body: kopf.Body, **_: Any) -> None:
    _remember(event, body)


@kopf.on.event(GROUP, VERSION, "keyresults")
def key_result_event(event: dict[str, Any], body: kopf.Body, **_: Any) -> None:
    _remember(event, body)


@kopf.on.event(GROUP, VERSION, "objectives")
def objective_event(event: dict[str, Any], body: kopf.Body, **_: Any) -> None:
    _remember(event, body)


# ------------------------------------------------------------------ reconcile


async def _finish(kind: str, body: dict[str, Any], done: Reconciled, started: float) -> None:
    runtime = rt()
    ref = ref_of(body)
    if done.status is not None:
        try:
            written = await asyncio.to_thread(
                runtime.kube.apply_status, kind, ref.namespace, ref.name, done.status, field_manager=FIELD_MANAGER
            )
            if written:
                runtime.metrics.status_writes.labels(kind).inc()
                runtime.store.merge_status(ref, done.status)
        except KubeError as exc:
            raise kopf.TemporaryError(f"status not written: {exc}", delay=10) from exc
    for reason, message, warning in done.events:
        try:
            await asyncio.to_thread(runtime.kube.event, body, reason, message, warning=warning)
        except KubeError as exc:
            log.warning("event not recorded: %s", exc)
    runtime.metrics.reconcile_seconds.labels(kind).observe(time.monotonic() - started)
    runtime.metrics.reconciles.labels(kind, "retry" if done.retry else "ok").inc()
    runtime.loop.nudge()
    if done.retry:
        raise kopf.TemporaryError(done.retry, delay=30)


async def _reselected(body: dict[str, Any], done: Reconciled) -> None:
    """Write a RulesSynced that changed because the Prometheus resources did (runtime.selection)."""
    try:
        await _finish(body["kind"], body, done, time.monotonic())
    except kopf.TemporaryError as exc:
        log.warning(
            "RulesSynced of %s/%s not written: %s", body["metadata"].get("namespace"), body["metadata"]["name"], exc
        )


def _body(body: kopf.Body, kind: str) -> dict[str, Any]:
    data = dict(body)
    data.setdefault("apiVersion", f"{GROUP}/{VERSION}")
    data.setdefault("kind", kind)
    return data


@kopf.on.resume(GROUP, VERSION, "servicelevelobjectives")
@kopf.on.create(GROUP, VERSION, "servicelevelobjectives")
@kopf.on.update(GROUP, VERSION, "servicelevelobjectives", field="spec")
async def reconcile_slo_handler(body: kopf.Body, **_: Any) -> None:
    runtime, started = rt(), time.monotonic()
    data = _body(body, "ServiceLevelObjective")
    windows = _windows(runtime, ref_of(data).namespace)
    done = await asyncio.to_thread(reconcile_slo, data, runtime.kube, runtime.options, runtime.selection.view, windows)
    runtime.maintenance_keys[ref_of(data)] = _maintenance_key(runtime, data, windows)
    await _finish("ServiceLevelObjective", data, done, started)


@kopf.on.resume(GROUP, VERSION, "keyresults")
@kopf.on.create(GROUP, VERSION, "keyresults")
@kopf.on.update(GROUP, VERSION, "keyresults", field="spec")
async def reconcile_key_result_handler(body: kopf.Body, **_: Any) -> None:
    runtime, started = rt(), time.monotonic()
    data = _body(body, "KeyResult")
    ref = ref_of(data)
    objective = runtime.store.get(Ref("Objective", ref.namespace, data["spec"]["objectiveRef"]["name"]))
    done = await asyncio.to_thread(
        reconcile_key_result, data, objective, runtime.kube, runtime.options, runtime.selection.view
    )
    await _finish("KeyResult", data, done, started)


@kopf.on.create(GROUP, VERSION, "objectives")
@kopf.on.update(GROUP, VERSION, "objectives", field="spec")
async def objective_changed(body: kopf.Body, **_: Any) -> None:
    """A key result's rules use its objective's period, type, owner and alerting: re-render them on a change."""
    runtime = rt()
    data = _body(body, "Objective")
    ref = ref_of(data)
    for kr in runtime.store.of_kind("KeyResult", ref.namespace):
        if kr["spec"].get("objectiveRef", {}).get("name") != ref.name:
            continue
        done = await asyncio.to_thread(
            reconcile_key_result, kr, data, runtime.kube, runtime.options, runtime.selection.view
        )
        await _finish("KeyResult", kr, Reconciled(done.status, done.events), time.monotonic())


# ------------------------------------------------------------------ maintenance windows


def _windows(runtime: Runtime, namespace: str) -> list[MaintenanceWindow]:
    """The valid MaintenanceWindows of ``namespace`` in the store."""
    return [e.model for b in runtime.store.of_kind(MW_KIND, namespace) if (e := entry_from_body(b)) and e.model]


def _maintenance_key(runtime: Runtime, slo: dict[str, Any], windows: list[MaintenanceWindow]) -> tuple[Any, ...]:
    """What of the maintenance windows the SLO's rules carry today: re-render when it changes."""
    ref = ref_of(slo)
    mine = applicable(windows, ref.namespace, ref.name, (slo.get("metadata") or {}).get("labels"))
    return tuple(rule_intervals(mine, datetime.now(UTC))) + tuple(w.spec.exclude_from_budget for w in mine)


async def refresh_maintenance(namespace: str) -> None:
    """Re-render the SLOs of ``namespace`` whose maintenance intervals changed (a window changed, or a day began)."""
    runtime = rt()
    windows = _windows(runtime, namespace)
    for slo in runtime.store.of_kind("ServiceLevelObjective", namespace):
        ref = ref_of(slo)
        key = _maintenance_key(runtime, slo, windows)
        if runtime.maintenance_keys.get(ref) == key:
            continue
        done = await asyncio.to_thread(
            reconcile_slo, slo, runtime.kube, runtime.options, runtime.selection.view, windows
        )
        runtime.maintenance_keys[ref] = key
        await _finish("ServiceLevelObjective", slo, Reconciled(done.status, done.events), time.monotonic())


@kopf.on.event(GROUP, VERSION, "maintenancewindows")
async def maintenance_window_event(event: dict[str, Any], body: kopf.Body, **_: Any) -> None:
    _remember(event, body)
    if RUNTIME is not None:
        await refresh_maintenance(ref_of(dict(body)).namespace)


MAINTENANCE_REFRESH_SECONDS = 600


async def refresh_maintenance_forever() -> None:
    """Rules carry a few days of windows: every 10 minutes, re-render what a new day changed. (A task, not a
    kopf timer: timers put a finalizer on every MaintenanceWindow, and the operator adds no finalizers.)"""
    while True:
        await asyncio.sleep(MAINTENANCE_REFRESH_SECONDS)
        runtime = RUNTIME
        if runtime is None:
            continue
        for namespace in sorted({ref_of(b).namespace for b in runtime.store.of_kind(MW_KIND)}):
            try:
                await refresh_maintenance(namespace)
            except Exception:  # one namespace's failure must not stop the others' refresh
                log.exception("maintenance refresh of namespace %s failed", namespace)


# ------------------------------------------------------------------ drift


def _desired_for(runtime: Runtime, owner: Ref) -> list[dict[str, Any]]:
    body = runtime.store.get(owner)
    if body is None:
        return []
    entry = entry_from_body(body)
    if entry is None or entry.model is None:
        return []
    if owner.kind == "ServiceLevelObjective":
        return objects_for_slo(entry.model, runtime.options, _windows(runtime, owner.namespace), datetime.now(UTC))
    objectives = [
        e.model for b in runtime.store.of_kind("Objective", owner.namespace) if (e := entry_from_body(b)) and e.model
    ]
    return objects_for_key_result(entry.model, find_objective(objectives, entry.model), runtime.options)


async def _revert(event: dict[str, Any], body: kopf.Body, kind: str) -> None:
    runtime = RUNTIME
    if runtime is None or event.get("type") not in ("MODIFIED", "DELETED"):
        return
    data = _body(body, kind)
    owner = owner_ref(data)
    owner_body = runtime.store.get(owner) if owner is not None else None
    if owner is None or owner_body is None or owner_uid(data) != (owner_body.get("metadata") or {}).get("uid"):
        return  # not generated for an object we know (e.g. left from a deleted namesake): not ours to restore
    for desired in _desired_for(runtime, owner):
        if desired["kind"] != kind or desired["metadata"]["name"] != data["metadata"]["name"]:
            continue
        if event["type"] == "DELETED" or drifted(data, desired):
            log.info("%s %s/%s was changed by hand; restoring it", kind, owner.namespace, desired["metadata"]["name"])
            try:
                await asyncio.to_thread(apply_owned, runtime.kube, desired)
                await asyncio.to_thread(
                    runtime.kube.event,
                    runtime.store.get(owner) or {},
                    "DriftReverted",
                    f"{kind} {desired['metadata']['name']} was edited or deleted by hand; restored it",
                    warning=True,
                )
            except (KubeError, NameConflict) as exc:
                log.warning("could not restore %s: %s", desired["metadata"]["name"], exc)


@kopf.on.event("monitoring.coreos.com", "v1", "prometheusrules", labels=MANAGED_BY)
async def prometheus_rule_event(event: dict[str, Any], body: kopf.Body, **_: Any) -> None:
    await _revert(event, body, "PrometheusRule")


@kopf.on.event("argoproj.io", "v1alpha1", "analysistemplates", labels=MANAGED_BY)
async def analysis_template_event(event: dict[str, Any], body: kopf.Body, **_: Any) -> None:
    await _revert(event, body, "AnalysisTemplate")
