"""Shared status helpers of every kind: the Valid condition, Ready, finishing and keeping written statuses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from ..api.common import ApiModel
from ..api.identity import Entry
from .conditions import EVALUATION_CONDITIONS, condition, find, iso, stamp

log = logging.getLogger("okr_operator.evaluation")

M = TypeVar("M", bound=ApiModel)


def make(model: type[M], **fields: Any) -> M:
    """``model(**fields)``, refusing a field the model does not declare.

    Status models ignore unknown fields when they read a status (written by a newer operator); when the
    evaluation builds one, an unknown field is a bug (the apiserver would prune it without a word).
    """
    unknown = sorted(set(fields) - set(model.model_fields))
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(unknown)}")
    return model(**fields)


def typed(model: type[ApiModel], **fields: Any) -> dict[str, Any]:
    """A status built with :func:`make` as it goes on the wire (camelCase, JSON types, no None fields)."""
    return make(model, **fields).to_wire()


def first_problem(problems: list[str]) -> tuple[str, str]:
    """(reason, message) of the first ``"Reason: message"`` problem, with how many more there are."""
    reason, _, message = problems[0].partition(": ")
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return reason, message + more


def valid_condition(problems: list[str]) -> dict[str, Any]:
    """The Valid condition: True, or False with the first problem's reason and message."""
    return condition("Valid", not problems, *(first_problem(problems) if problems else ("Valid", "")))


def kept_note(old: dict[str, Any]) -> str:
    """Suffix for a failure message when the last values stay in status."""
    return "; showing the last values" if old.get("lastEvaluated") else ""


def finish(
    status: dict[str, Any],
    conds: list[dict[str, Any]],
    old: dict[str, Any],
    now: datetime,
    info: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``status`` without None fields, with the conditions (plus Ready) stamped and lastEvaluated.

    ``info`` conditions (InMaintenance, CheckInDue) are written too but do not decide Ready."""
    status = {k: v for k, v in status.items() if v is not None}
    ready = ready_condition(conds, old)
    conds.append(ready)
    conds.extend(info or [])
    status["conditions"] = stamp(conds, old.get("conditions"), now)
    status["lastEvaluated"] = iso(now)
    return status


def ready_condition(conds: list[dict[str, Any]], old: dict[str, Any]) -> dict[str, Any]:
    """Ready: True when every evaluation condition and the reconcile's RulesSynced are True."""
    synced = find(old.get("conditions"), "RulesSynced")
    everything = [*conds, *([synced] if synced else [])]
    bad = [c for c in everything if c["status"] != "True"]
    if not bad:
        return condition("Ready", True, "Ready", "")
    first = bad[0]
    return condition("Ready", False, f"{first['type']}{first['status']}", first.get("message", ""))


def keep_written(old: dict[str, Any], fields: tuple[str, ...], new: dict[str, Any]) -> dict[str, Any]:
    """What is written now (timestamps included), when nothing moved."""
    kept = {k: old[k] for k in fields if k in old}
    kept["conditions"] = [c for c in old.get("conditions") or [] if c.get("type") in EVALUATION_CONDITIONS]
    return kept or new


def invalid_status(e: Entry, fields: tuple[str, ...], now: datetime) -> dict[str, Any]:
    """An object whose spec does not validate: Valid=False, its last values kept."""
    conds = [condition("Valid", False, "InvalidSpec", e.invalid or "the spec does not validate")]
    return finish({k: e.status[k] for k in fields if k in e.status}, conds, e.status, now)


def failed_status(e: Entry, fields: tuple[str, ...], now: datetime, exc: BaseException) -> dict[str, Any]:
    """An object whose evaluation raised: Valid=False reason EvaluationFailed, its last values kept.

    The fault boundary of one object: every other object of the cycle is evaluated and written as usual."""
    message = (
        f"the operator could not evaluate this object ({type(exc).__name__}: {exc}); its last values are kept. "
        "Check the spec for values at the edge of what is allowed; if it looks right, report this as a bug"
    )
    conds = [condition("Valid", False, "EvaluationFailed", message[:1024])]
    return finish({k: e.status[k] for k in fields if k in e.status}, conds, e.status, now)


def guarded(e: Entry, fields: tuple[str, ...], now: datetime, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``compute()``, or :func:`failed_status` when it raises (logged with the object it was for)."""
    try:
        return compute()
    except Exception as exc:  # one object's failure is its own condition, never the cycle's
        log.exception("evaluating %s failed", e.ref)
        return failed_status(e, fields, now, exc)
