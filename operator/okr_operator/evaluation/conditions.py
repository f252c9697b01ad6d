"""Status conditions: building them, keeping lastTransitionTime, comparing statuses without timestamps."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

# The conditions the evaluation writes; the reconcile handler writes RulesSynced. InMaintenance (SLOs) and
# CheckInDue (manual key results with checkInEvery) inform and do not count for Ready.
EVALUATION_CONDITIONS = ("Valid", "MetricsAvailable", "Ready", "InMaintenance", "CheckInDue")

# MetricsAvailable=False reasons that keep the last values (Prometheus gave no answer): the figures are then
# from an earlier generation of the spec.
KEPT_VALUES = ("PrometheusUnreachable", "PrometheusTimeout", "BadResponse")


def observed_generation(status: dict[str, Any], generation: int | None, old: dict[str, Any]) -> int | None:
    """The generation ``status``'s figures are computed from: ``generation``, unless they are the last values,
    kept because Prometheus did not answer or the object's evaluation failed (then the one they were for)."""
    metrics = find(status.get("conditions"), "MetricsAvailable")
    valid = find(status.get("conditions"), "Valid")
    kept = metrics is not None and metrics["status"] == "False" and metrics["reason"] in KEPT_VALUES
    if kept or (valid is not None and valid.get("reason") == "EvaluationFailed"):
        return old.get("observedGeneration")
    return generation


def condition(type_: str, ok: bool | None, reason: str, message: str = "") -> dict[str, Any]:
    status = "Unknown" if ok is None else ("True" if ok else "False")
    return {"type": type_, "status": status, "reason": reason, "message": message}


def find(conditions: list[dict[str, Any]] | None, type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions or [] if c.get("type") == type_), None)


def stamp(new: list[dict[str, Any]], old: list[dict[str, Any]] | None, now: datetime) -> list[dict[str, Any]]:
    """``new`` conditions with lastTransitionTime kept from ``old`` where the status did not change."""
    stamped = []
    for cond in new:
        previous = find(old, cond["type"])
        same = previous is not None and previous.get("status") == cond["status"]
        when = previous.get("lastTransitionTime") if same and previous else None
        stamped.append({**cond, "lastTransitionTime": when or iso(now)})
    return stamped


def iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def comparable(status: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The evaluation-owned part of a status without timestamps, for "did anything change?"."""
    out: dict[str, Any] = {}
    for name in fields:
        if name in ("lastEvaluated", *DERIVED) or name not in status:
            continue
        out[name] = status[name]
    conditions = [
        {k: v for k, v in c.items() if k not in ("lastTransitionTime", "observedGeneration")}
        for c in status.get("conditions") or []
        if c.get("type") in EVALUATION_CONDITIONS
    ]
    out["conditions"] = sorted(conditions, key=lambda c: c["type"])
    return out


# How much a measured figure may move before the status is rewritten: live traffic makes short-window
# rates jitter in the last digits, and a write per cycle for that would be noise (and API load).
# (absolute, relative) per top-level field; a change beyond either bound is a change.
TOLERANCE: dict[str, tuple[float, float]] = {
    "sli": (0.0005, 0.0),  # percentage points
    "errorBudget": (0.0005, 0.0),
    "groups": (0.0005, 0.0),  # per-group SLI and budget, as the SLO's own
    "burnRates": (0.005, 0.02),
    "current": (0.0, 0.001),
    "progress": (0.0005, 0.0),
    "forecast": (0.0, 0.01),
}
# Derived from fields compared above, so not compared themselves (a boundary like 4w/3w6d would flap).
DERIVED = ("timeToExhaustion",)


def changed_fields(new: dict[str, Any], old: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    """The evaluation-owned fields whose value moved beyond :data:`TOLERANCE` (empty: nothing worth a write)."""
    a, b = comparable(new, fields), comparable(old, fields)
    return sorted(
        k for k in a.keys() | b.keys() if k not in a or k not in b or _differs(a[k], b[k], TOLERANCE.get(k, (0.0, 0.0)))
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _differs(a: Any, b: Any, tol: tuple[float, float]) -> bool:
    """Numbers compared as numbers (the API hands back 1 for 1.0), within ``tol``; dicts by key."""
    if _number(a) and _number(b):
        return abs(a - b) > max(tol[0], tol[1] * max(abs(a), abs(b)))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() != b.keys() or any(_differs(a[k], b[k], tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) != len(b) or any(_differs(x, y, tol) for x, y in zip(a, b, strict=True))
    return a != b


def normalise(value: Any) -> Any:
    """Numbers as floats (the API hands back 1 for 1.0), for comparing with ``==``."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def rounded(value: float | None, digits: int) -> float | None:
    """Round for status (changes below this precision are not worth a write); None stays None."""
    if value is None or not math.isfinite(value):
        return None
    result = round(value, digits)
    return 0.0 if result == 0 else result


def significant(value: float | None, digits: int = 6) -> float | None:
    """Round to ``digits`` significant digits (key-result values of any magnitude)."""
    if value is None or not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    return float(f"{value:.{digits}g}")


def human_duration(seconds: float | None) -> str | None:
    """At most two adjacent units, rounded to the smaller one: 90061 -> "1d1h", 2419199.9 -> "4w"."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    units = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))

    def first_unit(value: float) -> int:
        return next((i for i, (_, size) in enumerate(units) if value >= size), len(units) - 1)

    index = first_unit(seconds)
    whole = round(seconds / units[min(index + 1, len(units) - 1)][1]) * units[min(index + 1, len(units) - 1)][1]
    index = first_unit(whole)  # rounding may carry into the next unit: 59.6 s -> 1m
    parts = []
    for unit, size in units[index : index + 2]:
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{int(count)}{unit}")
    return "".join(parts) or "0s"
