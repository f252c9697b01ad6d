"""Reconcile one SLO or key result: render what it owns, server-side apply it, report RulesSynced.

The part of the status written here (field manager ``okr-operator``): ``observedGeneration``,
``generated`` and the ``RulesSynced`` condition. Everything else belongs to the evaluation loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..api import KeyResult, ServiceLevelObjective
from ..api.identity import Ref, entry_from_body
from ..evaluation.conditions import condition, find, normalise, stamp
from ..generate import RenderOptions, objects_for_key_result, objects_for_slo
from ..kube.client import FIELD_MANAGER, KubeAdapter, KubeError, NotInstalled
from ..okr.rules import prometheus_rule_name as kr_rule_name
from ..slo.gate import analysis_template_name
from ..slo.rules import prometheus_rule_name


@dataclass
class Reconciled:
    """What a reconcile did: the status part to write (None: unchanged) and Events to record."""

    status: dict[str, Any] | None
    events: list[tuple[str, str, bool]] = field(default_factory=list)  # (reason, message, warning)
    retry: str | None = None  # set when it should be retried later (e.g. a CRD is missing)
    applied: list[dict[str, Any]] = field(default_factory=list)


def _synced_condition(problems: list[tuple[str, str]], applied: list[str]) -> dict[str, Any]:
    if problems:
        reason, message = problems[0]
        return condition("RulesSynced", False, reason, message)
    return condition("RulesSynced", True, "Applied", f"applied {', '.join(applied)}" if applied else "nothing to apply")


def _status_part(
    body: dict[str, Any], generated: dict[str, str] | None, synced: dict[str, Any] | None, now: datetime
) -> dict[str, Any] | None:
    """The reconcile-owned status, or None when what is written already says the same."""
    old = body.get("status") or {}
    part: dict[str, Any] = {"observedGeneration": (body.get("metadata") or {}).get("generation")}
    if generated:
        part["generated"] = generated
    conditions = stamp([synced], old.get("conditions"), now) if synced else []
    part["conditions"] = conditions
    old_synced = find(old.get("conditions"), "RulesSynced")
    same_condition = (synced is None and old_synced is None) or (
        synced is not None
        and old_synced is not None
        and all(old_synced.get(k) == synced[k] for k in ("status", "reason", "message"))
    )
    same = (
        old.get("observedGeneration") == part["observedGeneration"]
        and (old.get("generated") or None) == (generated or None)
        and same_condition
    )
    return None if same else part


def _apply_all(
    kube: KubeAdapter, objects: list[dict[str, Any]], stale: list[tuple[str, str, str]]
) -> tuple[list[str], list[tuple[str, str]], list[dict[str, Any]]]:
    applied, problems, results = [], [], []
    for obj in objects:
        try:
            results.append(kube.apply(obj, field_manager=FIELD_MANAGER))
            applied.append(f"{obj['kind']} {obj['metadata']['name']}")
        except NotInstalled as exc:
            problems.append(
                (
                    "CRDNotInstalled",
                    f"{exc}; install it (prometheus-operator or Argo Rollouts CRDs) — status is still evaluated",
                )
            )
        except KubeError as exc:
            problems.append(("ApplyFailed", str(exc)))
    for kind, namespace, name in stale:
        try:
            kube.delete(kind, namespace, name)
        except KubeError as exc:
            problems.append(("DeleteFailed", str(exc)))
    return applied, problems, results


def _invalid(body: dict[str, Any], message: str | None, now: datetime) -> Reconciled:
    """A spec the models refuse (what the CRD schema could not check): nothing is generated."""
    message = message or "the spec does not validate"
    synced = condition("RulesSynced", False, "InvalidSpec", f"nothing generated: {message}")
    return Reconciled(_status_part(body, None, synced, now), [("InvalidSpec", message, True)])


def _generated(body: dict[str, Any], field: str) -> bool:
    """Whether the status says we generated this object earlier (only then is there something to delete)."""
    return bool(((body.get("status") or {}).get("generated") or {}).get(field))


def reconcile_slo(body: dict[str, Any], kube: KubeAdapter, options: RenderOptions) -> Reconciled:
    now = datetime.now(UTC)
    entry = entry_from_body(body)
    if entry is None or entry.model is None:
        return _invalid(body, entry.invalid if entry else None, now)
    slo: ServiceLevelObjective = entry.model
    objects = objects_for_slo(slo, options)
    kinds = {o["kind"] for o in objects}
    stale = []
    if "AnalysisTemplate" not in kinds and _generated(body, "analysisTemplate"):  # the gate was switched off
        stale.append(("AnalysisTemplate", entry.ref.namespace, analysis_template_name(slo.metadata.name)))
    applied, problems, results = _apply_all(kube, objects, stale)
    generated = {"prometheusRule": prometheus_rule_name(slo.metadata.name)}
    if "AnalysisTemplate" in kinds:
        generated["analysisTemplate"] = analysis_template_name(slo.metadata.name)
    return _result(body, generated, applied, problems, results, now)


def reconcile_key_result(
    body: dict[str, Any], objective: dict[str, Any] | None, kube: KubeAdapter, options: RenderOptions
) -> Reconciled:
    now = datetime.now(UTC)
    entry = entry_from_body(body)
    if entry is None or entry.model is None:
        return _invalid(body, entry.invalid if entry else None, now)
    kr: KeyResult = entry.model
    rule_name = kr_rule_name(kr.metadata.name)
    if kr.spec.source.prometheus is None:  # manual/slo sources generate nothing; drop a rule left from before
        if _generated(body, "prometheusRule"):
            _apply_all(kube, [], [("PrometheusRule", entry.ref.namespace, rule_name)])
        return Reconciled(_status_part(body, None, None, now))
    objective_model = entry_from_body(objective).model if objective else None  # type: ignore[union-attr]
    objects = objects_for_key_result(kr, objective_model, options)
    if not objects:
        synced = condition(
            "RulesSynced",
            False,
            "ObjectiveNotFound",
            f"objective {entry.ref.namespace}/{kr.spec.objective_ref.name} not found and spec.period not set: "
            "the rules need the period",
        )
        return Reconciled(_status_part(body, None, synced, now), retry="waiting for the objective")
    applied, problems, results = _apply_all(kube, objects, [])
    return _result(body, {"prometheusRule": rule_name}, applied, problems, results, now)


def _result(
    body: dict[str, Any],
    generated: dict[str, str],
    applied: list[str],
    problems: list[tuple[str, str]],
    results: list[dict[str, Any]],
    now: datetime,
) -> Reconciled:
    synced = _synced_condition(problems, applied)
    part = _status_part(body, generated if not problems else None, synced, now)
    events = []
    old = find((body.get("status") or {}).get("conditions"), "RulesSynced")
    if problems and (old is None or old.get("reason") != problems[0][0] or old.get("status") != "False"):
        events.append(("RulesNotSynced", problems[0][1], True))
    elif not problems and (old is None or old.get("status") != "True"):
        events.append(("RulesSynced", synced["message"], False))
    retry = problems[0][1] if problems else None
    return Reconciled(part, events, retry, results)


def owner_ref(obj: dict[str, Any]) -> Ref | None:
    """The okr.dev object a generated object belongs to (from its controller ownerReference)."""
    meta = obj.get("metadata") or {}
    for owner in meta.get("ownerReferences") or []:
        if owner.get("controller") and str(owner.get("apiVersion", "")).startswith("okr.dev/"):
            return Ref(owner["kind"], meta.get("namespace") or "default", owner["name"])
    return None


def drifted(actual: dict[str, Any], desired: dict[str, Any]) -> bool:
    """True when someone changed a generated object's spec or labels."""
    labels = (actual.get("metadata") or {}).get("labels") or {}
    wanted = desired["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in wanted.items()):
        return True
    return normalise(actual.get("spec")) != normalise(desired.get("spec"))
