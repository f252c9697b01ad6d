"""Reconcile one SLO or key result: render what it owns, server-side apply it, report RulesSynced.

The part of the status written here (field manager ``okr-operator``): ``generated`` and the ``RulesSynced``
condition, which says in its ``observedGeneration`` which generation the rules were rendered from. Everything
else belongs to the evaluation loop, ``status.observedGeneration`` included: it advances only with figures
computed from that generation.
RulesSynced also says whether a Prometheus resource selects the applied PrometheusRule (``rule_selection``);
``reselect`` re-decides that alone when the Prometheus resources or namespace labels change.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..api import KeyResult, MaintenanceWindow, ServiceLevelObjective
from ..api.identity import Ref, entry_from_body
from ..evaluation.conditions import condition, find, normalise, stamp
from ..generate import RenderOptions, key_result_period, objects_for_key_result, objects_for_slo
from ..kube.client import KubeAdapter, KubeError, NotInstalled
from ..okr.rules import prometheus_rule_name as kr_rule_name
from ..rule_selection import SelectionView, select, summary
from ..slo.gate import analysis_template_name
from ..slo.rules import prometheus_rule_name
from .ownership import NameConflict, apply_owned, delete_owned

log = logging.getLogger("okr_operator.reconcile")


@dataclass
class Reconciled:
    """What a reconcile did: the status part to write (None: unchanged) and Events to record."""

    status: dict[str, Any] | None
    events: list[tuple[str, str, bool]] = field(default_factory=list)  # (reason, message, warning)
    retry: str | None = None  # set when it should be retried later (e.g. a CRD is missing)
    applied: list[str] = field(default_factory=list)  # created, updated or unchanged, per generated object


def _synced_condition(
    problems: list[tuple[str, str]], applied: list[str], selection: tuple[str, str] | None = None
) -> dict[str, Any]:
    if problems:
        reason, message = problems[0]
        return condition("RulesSynced", False, reason, message)
    text = f"applied {', '.join(applied)}" if applied else "nothing to apply"
    if selection is None:
        return condition("RulesSynced", True, "Applied", text)
    reason, detail = selection
    return condition("RulesSynced", reason != "NotSelected", reason, f"{text}; {detail}")


def _selection(view: SelectionView | None, namespace: str, name: str, labels: dict[str, str]) -> tuple[str, str] | None:
    """(reason, detail) of whether a Prometheus loads the PrometheusRule; None when not checked."""
    if view is None:
        return None
    return summary(select(view, namespace, labels), f"{namespace}/{name}")


def _rule_selection(view: SelectionView | None, objects: list[dict[str, Any]]) -> tuple[str, str] | None:
    rule = next((o["metadata"] for o in objects if o["kind"] == "PrometheusRule"), None)
    return None if rule is None else _selection(view, rule["namespace"], rule["name"], rule.get("labels") or {})


def _status_part(
    body: dict[str, Any], generated: dict[str, str] | None, synced: dict[str, Any] | None, now: datetime
) -> dict[str, Any] | None:
    """The reconcile-owned status, or None when what is written already says the same."""
    old = body.get("status") or {}
    part: dict[str, Any] = {}
    if generated:
        part["generated"] = generated
    if synced is not None:
        synced = {**synced, "observedGeneration": (body.get("metadata") or {}).get("generation")}
    part["conditions"] = stamp([synced], old.get("conditions"), now) if synced else []
    old_synced = find(old.get("conditions"), "RulesSynced")
    same_condition = (synced is None and old_synced is None) or (
        synced is not None
        and old_synced is not None
        and all(old_synced.get(k) == synced[k] for k in ("status", "reason", "message", "observedGeneration"))
    )
    same = (old.get("generated") or None) == (generated or None) and same_condition
    return None if same else part


def _apply_all(
    kube: KubeAdapter,
    objects: list[dict[str, Any]],
    stale: list[tuple[str, str, str]],
    owner_uid: str | None,
    new: bool = False,
) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Create or update ``objects`` and delete ``stale`` ones, touching only what this owner owns; ``new``: the
    owner's status says it generated nothing yet.

    Returns what was applied (``Kind name``), the problems (reason, message) and each object's outcome
    (created, updated, unchanged)."""
    applied, problems, outcomes = [], [], []
    for obj in objects:
        try:
            outcomes.append(apply_owned(kube, obj, unchanged=_unchanged, new=new))
            applied.append(f"{obj['kind']} {obj['metadata']['name']}")
        except NameConflict as exc:
            problems.append(("NameConflict", str(exc)))
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
            delete_owned(kube, kind, namespace, name, owner_uid)
        except KubeError as exc:
            problems.append(("DeleteFailed", str(exc)))
    return applied, problems, outcomes


def _unchanged(existing: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Our copy already says what we would apply (spec, labels, owner): no write needed."""
    owners = (existing.get("metadata") or {}).get("ownerReferences") or []
    return not drifted(existing, desired) and normalise(owners) == normalise(desired["metadata"].get("ownerReferences"))


def _invalid(body: dict[str, Any], message: str | None, now: datetime) -> Reconciled:
    """A spec the models refuse (what the CRD schema could not check): nothing is generated."""
    message = message or "the spec does not validate"
    synced = condition("RulesSynced", False, "InvalidSpec", f"nothing generated: {message}")
    return Reconciled(_status_part(body, None, synced, now), [("InvalidSpec", message, True)])


def _render_failed(body: dict[str, Any], exc: Exception, now: datetime) -> Reconciled:
    """Rendering raised for a spec the models accepted: nothing generated, the object says why."""
    log.exception("rendering %s/%s failed", (body.get("metadata") or {}).get("namespace"), body["metadata"]["name"])
    message = f"nothing generated: the rules could not be rendered ({type(exc).__name__}: {exc})"
    synced = condition("RulesSynced", False, "RenderFailed", message[:1024])
    return Reconciled(_status_part(body, None, synced, now), [("RenderFailed", message[:1024], True)])


def _generated(body: dict[str, Any], field: str) -> bool:
    """Whether the status says we generated this object earlier (only then is there something to delete)."""
    return bool(((body.get("status") or {}).get("generated") or {}).get(field))


def _nothing_generated(body: dict[str, Any]) -> bool:
    """No status at all: a new object, whose generated objects most likely do not exist yet."""
    return not body.get("status")


def reconcile_slo(
    body: dict[str, Any],
    kube: KubeAdapter,
    options: RenderOptions,
    view: SelectionView | None = None,
    windows: Sequence[MaintenanceWindow] = (),
) -> Reconciled:
    """Render and apply the SLO's objects; ``windows``: the MaintenanceWindows of its namespace."""
    now = datetime.now(UTC)
    entry = entry_from_body(body)
    if entry is None or entry.model is None:
        return _invalid(body, entry.invalid if entry else None, now)
    slo: ServiceLevelObjective = entry.model
    try:
        objects = objects_for_slo(slo, options, windows, now)
    except Exception as exc:  # this object's problem: its own condition, never the handler's retry loop
        return _render_failed(body, exc, now)
    kinds = {o["kind"] for o in objects}
    stale = []
    if "AnalysisTemplate" not in kinds and _generated(body, "analysisTemplate"):  # the gate was switched off
        stale.append(("AnalysisTemplate", entry.ref.namespace, analysis_template_name(slo.metadata.name)))
    applied, problems, results = _apply_all(kube, objects, stale, entry.uid, new=_nothing_generated(body))
    generated = {"prometheusRule": prometheus_rule_name(slo.metadata.name)}
    if "AnalysisTemplate" in kinds:
        generated["analysisTemplate"] = analysis_template_name(slo.metadata.name)
    return _result(body, generated, applied, problems, results, now, _rule_selection(view, objects))


def reconcile_key_result(
    body: dict[str, Any],
    objective: dict[str, Any] | None,
    kube: KubeAdapter,
    options: RenderOptions,
    view: SelectionView | None = None,
) -> Reconciled:
    now = datetime.now(UTC)
    entry = entry_from_body(body)
    if entry is None or entry.model is None:
        return _invalid(body, entry.invalid if entry else None, now)
    kr: KeyResult = entry.model
    rule_name = kr_rule_name(kr.metadata.name)
    objective_entry = entry_from_body(objective) if objective else None
    objective_model = objective_entry.model if objective_entry is not None else None
    try:
        objects = objects_for_key_result(kr, objective_model, options)
    except Exception as exc:
        return _render_failed(body, exc, now)
    if not objects and key_result_period(kr, objective_model) is not None:
        # every alert switched off: nothing to generate; drop a rule left from before
        stale = [("PrometheusRule", entry.ref.namespace, rule_name)] if _generated(body, "prometheusRule") else []
        applied, problems, results = _apply_all(kube, [], stale, entry.uid)
        return _result(body, {}, applied, problems, results, now)
    if not objects:
        synced = condition(
            "RulesSynced",
            False,
            "ObjectiveNotFound",
            f"objective {entry.ref.namespace}/{kr.spec.objective_ref.name} not found and spec.period not set: "
            "the rules need the period",
        )
        return Reconciled(_status_part(body, None, synced, now), retry="waiting for the objective")
    applied, problems, results = _apply_all(kube, objects, [], entry.uid, new=_nothing_generated(body))
    return _result(body, {"prometheusRule": rule_name}, applied, problems, results, now, _rule_selection(view, objects))


def _result(
    body: dict[str, Any],
    generated: dict[str, str],
    applied: list[str],
    problems: list[tuple[str, str]],
    results: list[str],
    now: datetime,
    selection: tuple[str, str] | None = None,
) -> Reconciled:
    synced = _synced_condition(problems, applied, selection)
    part = _status_part(body, generated if not problems else None, synced, now)
    old = find((body.get("status") or {}).get("conditions"), "RulesSynced")
    retry = problems[0][1] if problems else None
    return Reconciled(part, _transition_events(old, synced), retry, results)


def _transition_events(old: dict[str, Any] | None, synced: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """An Event when RulesSynced turns False (or changes its reason while False) and when it turns True."""
    if synced["status"] == "False":
        if old is None or old.get("status") != "False" or old.get("reason") != synced["reason"]:
            special = {"NotSelected": "RulesNotSelected", "NameConflict": "NameConflict"}
            reason = special.get(synced["reason"], "RulesNotSynced")
            return [(reason, synced["message"], True)]
        return []
    if old is None or old.get("status") != "True":
        return [("RulesSynced", synced["message"], False)]
    return []


SELECTION_REASONS = ("Applied", "Selected", "NotSelected")  # RulesSynced after a successful apply


def reselect(body: dict[str, Any], view: SelectionView, labels: dict[str, str], now: datetime) -> Reconciled | None:
    """RulesSynced decided again from ``view`` for an object whose rules are applied; None when unchanged.

    ``labels`` are the generated PrometheusRule's. Only the condition changes: ``generated`` and the
    condition's observedGeneration are written back as they are (a pending spec change is the reconcile's
    to report; ``status.observedGeneration`` is the evaluation's).
    """
    status = body.get("status") or {}
    old = find(status.get("conditions"), "RulesSynced")
    generated = status.get("generated") or {}
    if old is None or old.get("reason") not in SELECTION_REASONS or not generated.get("prometheusRule"):
        return None
    applied = [f"PrometheusRule {generated['prometheusRule']}"]
    if generated.get("analysisTemplate"):
        applied.append(f"AnalysisTemplate {generated['analysisTemplate']}")
    namespace = (body.get("metadata") or {}).get("namespace") or "default"
    synced = _synced_condition([], applied, _selection(view, namespace, generated["prometheusRule"], labels))
    if all(old.get(k) == synced[k] for k in ("status", "reason", "message")):
        return None
    if old.get("observedGeneration") is not None:
        synced["observedGeneration"] = old["observedGeneration"]
    part = {k: status[k] for k in ("generated",) if k in status}
    part["conditions"] = stamp([synced], status.get("conditions"), now)
    return Reconciled(part, _transition_events(old, synced))


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
