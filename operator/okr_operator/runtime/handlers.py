"""kopf handlers: keep the store current, reconcile generated objects, revert hand edits, run the loop.

Importing this module registers the handlers (``kopf run -m okr_operator.runtime`` does that).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

import kopf

from ..api import GROUP, VERSION, MaintenanceWindow
from ..api import MAINTENANCE_WINDOW_KIND as MW_KIND
from ..api.identity import Ref, entry_from_body
from ..generate import find_objective, objects_for_key_result, objects_for_slo
from ..generated import MANAGED_BY
from ..kube.client import FIELD_MANAGER, KubeError
from ..maintenance.schedule import applicable, rule_intervals
from . import memory
from .cycle_queries import STRIKES
from .kopf_settings import configure_kopf
from .loop import NUDGE_DELAY
from .ownership import NameConflict, apply_owned, owner_uid
from .reconcile import Reconciled, drifted, owner_ref, reconcile_key_result, reconcile_slo
from .settings import from_env
from .state import Runtime, runtime_of
from .store import ref_of

log = logging.getLogger("okr_operator")


# ------------------------------------------------------------------ lifecycle


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    memory.limit_arenas()
    ours = memo.get("settings") or from_env()
    handled = configure_kopf(settings, ours)
    runtime = Runtime(ours)
    runtime.handled = handled
    memo.runtime = runtime
    await runtime.start(partial(_reselected, runtime))
    runtime.tasks.append(asyncio.create_task(refresh_maintenance_forever(runtime), name="okr-maintenance-refresh"))
    worst = STRIKES * ours.prometheus.timeout_seconds
    if worst >= ours.interval_seconds:
        log.warning(
            "a Prometheus that stops answering makes a cycle last %gs (%d query timeouts of %gs), more than the "
            "%s interval: lower OKR_PROMETHEUS_TIMEOUT_SECONDS or raise OKR_INTERVAL",
            worst,
            STRIKES,
            ours.prometheus.timeout_seconds,
            ours.interval,
        )
    log.info(
        "okr-operator started: shard %s, prometheus %s, interval %s, sli source %s, metrics on :%d, web view %s",
        f"{ours.owned.label} (peering {ours.peering}, lease {ours.lease})" if ours.owned.sharded else "-",
        ours.prometheus.url,
        ours.interval,
        ours.sli_source,
        ours.metrics_port,
        f"on :{ours.web_port}" if ours.web else "off",
    )


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    runtime = memo.get("runtime")
    if runtime is not None:
        await runtime.stop()


# ------------------------------------------------------------------ sharding


def _ours(namespace: str | None, memo: kopf.Memo, **_: Any) -> bool:
    """kopf's ``when=`` filter of every handler that writes: does this replica's shard own the object?"""
    runtime: Runtime | None = memo.get("runtime")
    shard = runtime.shard if runtime is not None else (memo.get("settings") or from_env()).owned
    return shard.owns(namespace)


# ------------------------------------------------------------------ the store


def _remember(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo) -> None:
    """Keep the object in the store: our shard's objects, and the other shards' Objectives (for roll-ups)."""
    runtime: Runtime | None = memo.get("runtime")
    if runtime is None:
        return
    if body.get("kind") != "Objective" and not runtime.shard.owns(body.metadata.namespace):
        return
    data = dict(body)
    data.setdefault("apiVersion", f"{GROUP}/{VERSION}")
    if event.get("type") == "DELETED":
        runtime.store.remove(ref_of(data))
        if runtime.handled is not None:
            runtime.handled.forget(data["metadata"].get("uid"))
    else:
        old = runtime.store.get(ref_of(data))
        runtime.store.upsert(data)
        if old is None or (old.get("metadata") or {}).get("generation") != data["metadata"].get("generation"):
            runtime.loop.nudge()


@kopf.on.event(GROUP, VERSION, "servicelevelobjectives", when=_ours)
def slo_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _remember(event, body, memo)


@kopf.on.event(GROUP, VERSION, "keyresults", when=_ours)
def key_result_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _remember(event, body, memo)


@kopf.on.event(GROUP, VERSION, "objectives")
def objective_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _remember(event, body, memo)


# ------------------------------------------------------------------ reconcile


async def _finish(runtime: Runtime, kind: str, body: dict[str, Any], done: Reconciled, started: float) -> None:
    if done.status is not None:
        try:
            await runtime.writer.write(ref_of(body), done.status, manager=FIELD_MANAGER)
        except KubeError as exc:
            raise kopf.TemporaryError(f"status not written: {exc}", delay=10) from exc
    for reason, message, warning in done.events:
        await runtime.writer.event(body, reason, message, warning=warning)
    runtime.metrics.reconcile_seconds.labels(kind).observe(time.monotonic() - started)
    runtime.metrics.reconciles.labels(kind, "retry" if done.retry else "ok").inc()
    runtime.loop.nudge()
    if done.retry:
        raise kopf.TemporaryError(done.retry, delay=30)


async def _reselected(runtime: Runtime, body: dict[str, Any], done: Reconciled) -> None:
    """Write a RulesSynced that changed because the Prometheus resources did (runtime.selection)."""
    try:
        await _finish(runtime, body["kind"], body, done, time.monotonic())
    except kopf.TemporaryError as exc:
        log.warning(
            "RulesSynced of %s/%s not written: %s", body["metadata"].get("namespace"), body["metadata"]["name"], exc
        )


async def _newer_in_api(runtime: Runtime, data: dict[str, Any]) -> bool | None:
    """Whether the API has a newer generation of the object than ``data`` (or no object); None: cannot tell."""
    ref = ref_of(data)
    try:
        latest = await asyncio.to_thread(runtime.kube.get, ref.kind, ref.namespace, ref.name)
    except KubeError:
        return None
    if latest is None:
        return True
    seen = (data.get("metadata") or {}).get("generation") or 0
    return bool(((latest.get("metadata") or {}).get("generation") or 0) > seen)


async def _superseded(runtime: Runtime, data: dict[str, Any], reason: str) -> bool:
    """Coalesce bursts of edits: an update is skipped when a newer generation is already in the API (its own
    event follows). kopf hands every watch event to the handler in turn, so the events queued behind newer
    edits are skipped at once (one read each); the newest waits a moment for the burst to settle (the loop's
    NUDGE_DELAY) and is skipped too if another edit came meanwhile. So the last spec wins and the writes grow
    with the burst's duration, not with the number of edits. Deleted objects need nothing either."""
    if reason != kopf.Reason.UPDATE:
        return False
    newer = await _newer_in_api(runtime, data)
    if newer is False:
        await asyncio.sleep(NUDGE_DELAY)
        newer = await _newer_in_api(runtime, data)
    if newer:
        runtime.metrics.reconciles.labels(ref_of(data).kind, "superseded").inc()
    return bool(newer)
    await asyncio.sleep(NUDGE_DELAY)
    ref = ref_of(data)
    try:
        latest = await asyncio.to_thread(runtime.kube.get, ref.kind, ref.namespace, ref.name)
    except KubeError:
        return False  # cannot tell: reconcile this one
    if latest is None:
        return True
    seen = (data.get("metadata") or {}).get("generation") or 0
    if ((latest.get("metadata") or {}).get("generation") or 0) > seen:
        runtime.metrics.reconciles.labels(ref.kind, "superseded").inc()
        return True
    return False


def _body(body: kopf.Body, kind: str) -> dict[str, Any]:
    data = dict(body)
    data.setdefault("apiVersion", f"{GROUP}/{VERSION}")
    data.setdefault("kind", kind)
    return data


@kopf.on.resume(GROUP, VERSION, "servicelevelobjectives", when=_ours)
@kopf.on.create(GROUP, VERSION, "servicelevelobjectives", when=_ours)
@kopf.on.update(GROUP, VERSION, "servicelevelobjectives", field="spec", when=_ours)
async def reconcile_slo_handler(body: kopf.Body, memo: kopf.Memo, reason: str, **_: Any) -> None:
    runtime, started = runtime_of(memo), time.monotonic()
    data = _body(body, "ServiceLevelObjective")
    if await _superseded(runtime, data, reason):
        return
    windows = _windows(runtime, ref_of(data).namespace)
    done = await asyncio.to_thread(reconcile_slo, data, runtime.kube, runtime.options, runtime.selection.view, windows)
    runtime.maintenance_keys[ref_of(data)] = _maintenance_key(runtime, data, windows)
    await _finish(runtime, "ServiceLevelObjective", data, done, started)


@kopf.on.resume(GROUP, VERSION, "keyresults", when=_ours)
@kopf.on.create(GROUP, VERSION, "keyresults", when=_ours)
@kopf.on.update(GROUP, VERSION, "keyresults", field="spec", when=_ours)
async def reconcile_key_result_handler(body: kopf.Body, memo: kopf.Memo, reason: str, **_: Any) -> None:
    runtime, started = runtime_of(memo), time.monotonic()
    data = _body(body, "KeyResult")
    if await _superseded(runtime, data, reason):
        return
    ref = ref_of(data)
    wanted = Ref("Objective", ref.namespace, data["spec"]["objectiveRef"]["name"])
    try:
        objective = await asyncio.to_thread(
            runtime.store.get_or_read, wanted, lambda r: runtime.kube.get(r.kind, r.namespace, r.name)
        )
    except KubeError as exc:  # not known to be missing: try again rather than say ObjectiveNotFound
        raise kopf.TemporaryError(f"objective {wanted.namespace}/{wanted.name} not read: {exc}", delay=10) from exc
    done = await asyncio.to_thread(
        reconcile_key_result, data, objective, runtime.kube, runtime.options, runtime.selection.view
    )
    await _finish(runtime, "KeyResult", data, done, started)


@kopf.on.create(GROUP, VERSION, "objectives", when=_ours)
@kopf.on.update(GROUP, VERSION, "objectives", field="spec", when=_ours)
async def objective_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """A key result's rules use its objective's period, type, owner and alerting: re-render them on a change."""
    runtime = runtime_of(memo)
    data = _body(body, "Objective")
    ref = ref_of(data)
    for kr in runtime.store.of_kind("KeyResult", ref.namespace):
        if kr["spec"].get("objectiveRef", {}).get("name") != ref.name:
            continue
        done = await asyncio.to_thread(
            reconcile_key_result, kr, data, runtime.kube, runtime.options, runtime.selection.view
        )
        await _finish(runtime, "KeyResult", kr, Reconciled(done.status, done.events), time.monotonic())


# ------------------------------------------------------------------ maintenance windows


def _windows(runtime: Runtime, namespace: str) -> list[MaintenanceWindow]:
    """The valid MaintenanceWindows of ``namespace`` in the store."""
    return [e.model for b in runtime.store.of_kind(MW_KIND, namespace) if (e := entry_from_body(b)) and e.model]


def _maintenance_key(runtime: Runtime, slo: dict[str, Any], windows: list[MaintenanceWindow]) -> tuple[Any, ...]:
    """What of the maintenance windows the SLO's rules carry today: re-render when it changes."""
    ref = ref_of(slo)
    mine = applicable(windows, ref.namespace, ref.name, (slo.get("metadata") or {}).get("labels"))
    return tuple(rule_intervals(mine, datetime.now(UTC))) + tuple(w.spec.exclude_from_budget for w in mine)


async def refresh_maintenance(runtime: Runtime, namespace: str) -> None:
    """Re-render the SLOs of ``namespace`` whose maintenance intervals changed (a window changed, or a day began)."""
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
        await _finish(runtime, "ServiceLevelObjective", slo, Reconciled(done.status, done.events), time.monotonic())


@kopf.on.event(GROUP, VERSION, "maintenancewindows", when=_ours)
async def maintenance_window_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _remember(event, body, memo)
    runtime: Runtime | None = memo.get("runtime")
    if runtime is not None:
        await refresh_maintenance(runtime, ref_of(dict(body)).namespace)


MAINTENANCE_REFRESH_SECONDS = 600


async def refresh_maintenance_forever(runtime: Runtime) -> None:
    """Rules carry a few days of windows: every 10 minutes, re-render what a new day changed. (A task, not a
    kopf timer: timers put a finalizer on every MaintenanceWindow, and the operator adds no finalizers.)"""
    while True:
        await asyncio.sleep(MAINTENANCE_REFRESH_SECONDS)
        for namespace in sorted({ref_of(b).namespace for b in runtime.store.of_kind(MW_KIND)}):
            try:
                await refresh_maintenance(runtime, namespace)
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


async def _revert(event: kopf.RawEvent, body: kopf.Body, kind: str, memo: kopf.Memo) -> None:
    runtime: Runtime | None = memo.get("runtime")
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
            except (KubeError, NameConflict) as exc:
                log.warning("could not restore %s: %s", desired["metadata"]["name"], exc)
                continue
            owner_body = runtime.store.get(owner)
            if owner_body is not None:
                message = f"{kind} {desired['metadata']['name']} was edited or deleted by hand; restored it"
                await runtime.writer.event(owner_body, "DriftReverted", message, warning=True)


@kopf.on.event("monitoring.coreos.com", "v1", "prometheusrules", labels=MANAGED_BY, when=_ours)
async def prometheus_rule_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    await _revert(event, body, "PrometheusRule", memo)


@kopf.on.event("argoproj.io", "v1alpha1", "analysistemplates", labels=MANAGED_BY, when=_ours)
async def analysis_template_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    await _revert(event, body, "AnalysisTemplate", memo)
