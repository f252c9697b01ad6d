"""Burn-rate alerts between OpenSLO AlertPolicy/AlertCondition and okr.dev ``spec.alerting``.

An OpenSLO burn-rate condition (``kind: burnrate``) has one ``lookbackWindow``, a ``threshold`` (the burn-rate
factor), ``op`` and ``alertAfter``; an okr.dev condition has a long and a short window, a factor and ``for``.
Import: ``lookbackWindow`` is the long window, the short window is the ``okr.dev/short-window`` annotation of
the condition (okrctl writes it on export) or else the same window (a single-window condition, exactly what
OpenSLO says); ``alertAfter`` is ``for``. ``op`` must be ``gt`` or ``gte`` (our alerts fire above the factor;
``gte`` differs only when the burn rate equals the factor exactly), severities must be ``page`` or ``ticket``.
A severity whose policies all say ``alertWhenBreaching: false`` is disabled. Conditions equal to the
defaults for the SLO's window leave ``burnRateWindows`` unset.
"""

from __future__ import annotations

from typing import Any

from ..api.common import parse_duration
from ..api.slo import ServiceLevelObjective, ServiceLevelObjectiveSpec
from ..api.slo_alerting import Severity
from ..promtext import number
from ..slo.windows import BurnRateCondition, burn_rate_conditions
from .documents import ANNOTATION_PREFIX, V1, OpenSLOSet, Refusal, get
from .timewindows import Notes, fixed_duration

SHORT_WINDOW_ANNOTATION = f"{ANNOTATION_PREFIX}short-window"
BURNRATE = "burnrate"
ABOVE = ("gt", "gte")
NOTIFICATION_TARGET = "alertmanager"


def _resolve(item: Any, fld: str, ref_key: str, kind: str, openslo: OpenSLOSet) -> tuple[dict[str, Any], str]:
    """An inline object or the object named by ``ref_key``: (its mapping, the field path of its spec)."""
    ref = get(item, ref_key, f"{fld}.{ref_key}", str)
    if ref is None:
        if not isinstance(item, dict) or item.get("kind") not in (None, kind):
            raise Refusal(f"{fld}.kind", f"expected an inline {kind} or {ref_key}")
        return item, fld
    found = openslo.find(V1, kind, ref)
    if found is None:
        raise Refusal(f"{fld}.{ref_key}", f"no {kind} {ref} in the given files")
    return found.raw, f"{kind}/{ref}"


def condition_window(raw: dict[str, Any], fld: str) -> dict[str, Any]:
    spec = get(raw, "spec", f"{fld}.spec") or {}
    severity = str(get(spec, "severity", f"{fld}.spec.severity", str, "")).lower()
    if severity not in (Severity.PAGE, Severity.TICKET):
        raise Refusal(f"{fld}.spec.severity", f"{severity or 'not set'!r}: okr-operator alerts are page or ticket")
    cond = get(spec, "condition", f"{fld}.spec.condition") or {}
    cfld = f"{fld}.spec.condition"
    if str(get(cond, "kind", f"{cfld}.kind", str, BURNRATE)).lower() != BURNRATE:
        raise Refusal(f"{cfld}.kind", "only burnrate conditions have an equivalent")
    op = get(cond, "op", f"{cfld}.op", str, "")
    if op not in ABOVE:
        raise Refusal(f"{cfld}.op", f"{op or 'not set'!r}: burn-rate alerts fire above the threshold (use gt or gte)")
    threshold = get(cond, "threshold", f"{cfld}.threshold", (int, float))
    if threshold is None or threshold <= 0:
        raise Refusal(f"{cfld}.threshold", "a burn-rate factor above 0 is required, e.g. 14.4")
    long = fixed_duration(cond.get("lookbackWindow"), f"{cfld}.lookbackWindow")
    annotations = get(get(raw, "metadata", f"{fld}.metadata") or {}, "annotations", f"{fld}.metadata.annotations")
    short = (annotations or {}).get(SHORT_WINDOW_ANNOTATION)
    short = fixed_duration(short, f"{fld}.metadata.annotations.{SHORT_WINDOW_ANNOTATION}") if short else long
    window: dict[str, Any] = {"severity": severity, "long": long, "short": short, "burnRate": float(threshold)}
    after = cond.get("alertAfter")
    if after is not None and parse_duration(fixed_duration(after, f"{cfld}.alertAfter")) > 0:
        window["for"] = fixed_duration(after, f"{cfld}.alertAfter")
    return window


def policy_windows(item: Any, fld: str, openslo: OpenSLOSet) -> list[tuple[dict[str, Any], bool]]:
    """(okr.dev burn-rate window, alertWhenBreaching) of every condition of one alert policy."""
    raw, pfld = _resolve(item, fld, "alertPolicyRef", "AlertPolicy", openslo)
    spec = get(raw, "spec", f"{pfld}.spec") or {}
    breaching = get(spec, "alertWhenBreaching", f"{pfld}.spec.alertWhenBreaching", bool, True)
    conditions = get(spec, "conditions", f"{pfld}.spec.conditions", list) or []
    if not conditions:
        raise Refusal(f"{pfld}.spec.conditions", "an alert policy needs a condition")
    out = []
    for i, citem in enumerate(conditions):
        craw, cfld = _resolve(citem, f"{pfld}.spec.conditions[{i}]", "conditionRef", "AlertCondition", openslo)
        out.append((condition_window(craw, cfld), breaching))
    return out


def _key(w: dict[str, Any]) -> tuple[Any, ...]:
    return (w["severity"], parse_duration(w["long"]), parse_duration(w["short"]), w["burnRate"], w.get("for"))


def _default_windows(window: str) -> list[dict[str, Any]]:
    spec = ServiceLevelObjectiveSpec.model_validate(
        {"service": "x", "target": 99, "window": window, "indicator": {"boolGauge": {"metric": "up"}}}
    )
    return [_window_of(c) for c in burn_rate_conditions(spec)]


def alerting_from_policies(spec: dict[str, Any], window: str, openslo: OpenSLOSet, notes: Notes) -> dict[str, Any]:
    """The okr.dev ``spec.alerting`` fields an SLO's ``alertPolicies`` say."""
    policies = get(spec, "alertPolicies", "spec.alertPolicies", list)
    if not policies:
        notes.append(("spec.alertPolicies", "none given: the default page and ticket burn-rate alerts are generated"))
        return {}
    found = [w for i, item in enumerate(policies) for w in policy_windows(item, f"spec.alertPolicies[{i}]", openslo)]
    alerting: dict[str, Any] = {}
    kept: list[dict[str, Any]] = []
    for severity in (Severity.PAGE, Severity.TICKET):
        mine = [(w, breaching) for w, breaching in found if w["severity"] == severity]
        if mine and not any(breaching for _, breaching in mine):
            alerting[str(severity)] = {"enabled": False}
            kept.extend(w for w, _ in mine)
            continue
        for w, breaching in mine:
            if breaching:
                kept.append(w)
            else:
                notes.append(
                    ("spec.alertPolicies", f"a {severity} condition with alertWhenBreaching: false is left out")
                )
    if sorted(map(_key, kept)) != sorted(map(_key, _default_windows(window))):
        alerting["burnRateWindows"] = kept
    return alerting


def _window_of(c: BurnRateCondition) -> dict[str, Any]:
    window = {"severity": str(c.severity), "long": c.long, "short": c.short, "burnRate": float(c.factor)}
    if c.hold:
        window["for"] = c.hold
    return window


def _openslo_duration(duration: str, fld: str) -> str:
    seconds = parse_duration(duration)
    if seconds % 60:
        raise Refusal(fld, f"{duration}: OpenSLO durations are whole minutes at least")
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable")


def _policy(window: dict[str, Any], enabled: bool, index: int) -> dict[str, Any]:
    severity, long, short = window["severity"], window["long"], window["short"]
    fld = f"spec.alerting.burnRateWindows[{index}]"
    condition: dict[str, Any] = {
        "kind": BURNRATE,
        "op": "gt",
        "threshold": window["burnRate"],
        "lookbackWindow": _openslo_duration(long, f"{fld}.long"),
    }
    if window.get("for"):
        condition["alertAfter"] = _openslo_duration(window["for"], f"{fld}.for")
    meta: dict[str, Any] = {"name": f"{severity}-{index + 1}"}
    if short != long:
        meta["annotations"] = {SHORT_WINDOW_ANNOTATION: _openslo_duration(short, f"{fld}.short")}
    over = f"{long}" if short == long else f"{long} and {short}"
    return {
        "kind": "AlertPolicy",
        "metadata": {"name": f"{severity}-{index + 1}"},
        "spec": {
            "description": f"{severity}: error budget burn over {over} above {number(window['burnRate'])}x",
            "alertWhenBreaching": enabled,
            "alertWhenNoData": True,
            "conditions": [
                {"kind": "AlertCondition", "metadata": meta, "spec": {"severity": severity, "condition": condition}}
            ],
            "notificationTargets": [
                {
                    "kind": "AlertNotificationTarget",
                    "metadata": {"name": f"{NOTIFICATION_TARGET}-{severity}"},
                    "spec": {
                        "target": NOTIFICATION_TARGET,
                        "description": f"Prometheus alert SLOErrorBudgetBurn with label severity={severity}",
                    },
                }
            ],
        },
    }


def to_openslo_policies(slo: ServiceLevelObjective) -> list[dict[str, Any]]:
    """The inline ``alertPolicies`` of an exported SLO: one per burn-rate condition (declared or default)."""
    alerting = slo.spec.alerting
    if not alerting.enabled:
        return []
    declared = alerting.burn_rate_windows
    windows = (
        [w.model_dump(by_alias=True, exclude_none=True, mode="json") for w in declared]
        if declared
        else [_window_of(c) for c in burn_rate_conditions(slo.spec)]
    )
    enabled = {Severity.PAGE: alerting.page.enabled, Severity.TICKET: alerting.ticket.enabled}
    return [_policy(w, enabled[Severity(w["severity"])], i) for i, w in enumerate(windows)]
