"""What the web view shows, computed from the objects as the API lists them (dicts): pure, no I/O.

The objective tree is ``cli.tree.build_forest`` (the same tree as ``kubectl okr tree``); this module adds
what only the page shows: progress over the period from ``status.history`` against the expected pace, the
SLO figures, and conditions in plain words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..bodies import as_dict, as_number, as_str, as_time
from ..okr.pace import ObjectiveType, expected_progress
from ..okr.period import Period, PeriodError, elapsed_fraction, parse_period
from ..okr.progress import Direction, key_result_progress

Key = tuple[str, str, str]  # kind, namespace, name


def key_of(body: Mapping[str, Any]) -> Key:
    meta = as_dict(body.get("metadata"))
    return (str(body.get("kind") or ""), str(meta.get("namespace") or "default"), str(meta.get("name") or ""))


# ------------------------------------------------------------------------------------ conditions

_FALSE_WORDS = {
    "Valid": "The spec has a problem the schema could not catch",
    "MetricsAvailable": "The figures could not be measured",
    "RulesSynced": "The generated rules are not in place",
    "Ready": "Not ready",
}
_REASON_WORDS = {
    "PrometheusUnreachable": "Prometheus could not be reached; the figures shown are from the last good evaluation",
    "PrometheusTimeout": "Prometheus did not answer in time; the figures shown are from the last good evaluation",
    "NoTraffic": "No events were measured over the window, so there is no SLI yet",
    "NoData": "The query returned no data yet",
    "CRDNotInstalled": "The PrometheusRule or Argo Rollouts CRD is not installed, so nothing was generated",
}


def plain_conditions(status: Mapping[str, Any]) -> list[str]:
    """The conditions worth telling a person, one sentence each (nothing when all is well)."""
    out = []
    for cond in status.get("conditions") or []:
        cond = as_dict(cond)
        kind, reason, message = (
            str(cond.get("type") or ""),
            str(cond.get("reason") or ""),
            str(cond.get("message") or ""),
        )
        if cond.get("status") != "False" or kind == "Ready":
            continue
        head = _REASON_WORDS.get(reason) or _FALSE_WORDS.get(kind, f"{kind} is not true")
        out.append(f"{head}{f' ({reason})' if reason and reason not in _REASON_WORDS else ''}: {message}".rstrip(": "))
    return out


# ------------------------------------------------------------------------------------ key results


@dataclass
class Trend:
    """A key result's progress over its period, for the sparkline."""

    period: str
    points: list[tuple[float, float]] = field(default_factory=list)  # (elapsed share, progress)
    pace: tuple[float, float] = (0.0, 1.0)  # expected progress at the start and the end of the period
    now: float = 0.0


def _period(kr: Mapping[str, Any], objective: Mapping[str, Any] | None) -> tuple[str, Period] | None:
    text = as_dict(kr.get("spec")).get("period") or as_dict((objective or {}).get("spec")).get("period")
    try:
        return (str(text), parse_period(str(text))) if text else None
    except PeriodError:
        return None


def progress_of(spec: Mapping[str, Any], value: float) -> float | None:
    """The progress ``value`` makes for a key result of this (listed) spec, or None when the spec cannot say."""
    try:
        return key_result_progress(
            Direction(as_str(spec.get("direction")) or "increase"),
            value,
            baseline=as_number(spec.get("baseline")),
            target=as_number(spec.get("target")),
            minimum=as_number(spec.get("min")),
            maximum=as_number(spec.get("max")),
        )
    except ValueError:
        return None


def _measurements(spec: Mapping[str, Any], status: Mapping[str, Any]) -> list[tuple[datetime, float]]:
    """(time, value) of the key result so far: its check-ins when it has a manual source (they are its
    history, as for the forecast), else ``status.history``."""
    check_ins = as_dict(as_dict(spec.get("source")).get("manual")).get("checkIns")
    raw = [(c.get("date"), c.get("value")) for c in map(as_dict, check_ins or [])] if check_ins else None
    if raw is None:
        raw = [(p.get("time"), p.get("value")) for p in map(as_dict, status.get("history") or [])]
    out = []
    for when, value in raw:
        at, number = as_time(when), as_number(value)
        if at is not None and number is not None:
            out.append((at, number))
    return out


def trend(kr: Mapping[str, Any], objective: Mapping[str, Any] | None, now: datetime) -> Trend | None:
    """Progress points from the key result's measurements (and its current progress) over its period."""
    found = _period(kr, objective)
    if found is None:
        return None
    label, period = found
    spec, status = as_dict(kr.get("spec")), as_dict(kr.get("status"))
    kind = ObjectiveType(as_str(as_dict(as_dict(objective).get("spec")).get("type")) or "committed")
    points = []
    for when, value in _measurements(spec, status):
        progress = progress_of(spec, value)
        if progress is not None:
            points.append((elapsed_fraction(period, when), progress))
    current = as_number(status.get("progress"))
    if current is not None and (not points or points[-1][0] < elapsed_fraction(period, now)):
        points.append((elapsed_fraction(period, now), current))
    pace = (expected_progress(0.0, kind), expected_progress(1.0, kind))
    return Trend(label, sorted(points), pace, elapsed_fraction(period, now))


# ------------------------------------------------------------------------------------ SLOs


@dataclass
class SLOView:
    namespace: str
    name: str
    service: str
    description: str
    target: float | None
    window: str
    sli: float | None
    remaining: float | None
    burn_rates: list[tuple[str, float]]
    time_to_exhaustion: str | None
    state: str | None
    alerts: list[str]
    conditions: list[str]


def _window_order(window: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    try:
        return float(window[:-1]) * units[window[-1]]
    except (KeyError, ValueError, IndexError):
        return math.inf


def slo_views(slos: Iterable[Mapping[str, Any]]) -> list[SLOView]:
    out = []
    for slo in slos:
        _, namespace, name = key_of(slo)
        spec, status = as_dict(slo.get("spec")), as_dict(slo.get("status"))
        rates = {str(w): r for w, r in as_dict(status.get("burnRates")).items() if as_number(r) is not None}
        out.append(
            SLOView(
                namespace=namespace,
                name=name,
                service=str(spec.get("service") or ""),
                description=str(spec.get("description") or ""),
                target=as_number(spec.get("target")),
                window=str(spec.get("window") or "28d"),
                sli=as_number(status.get("sli")),
                remaining=as_number(as_dict(status.get("errorBudget")).get("remaining")),
                burn_rates=sorted(((w, float(r)) for w, r in rates.items()), key=lambda x: _window_order(x[0])),
                time_to_exhaustion=status.get("timeToExhaustion")
                if isinstance(status.get("timeToExhaustion"), str)
                else None,
                state=status.get("state") if isinstance(status.get("state"), str) else None,
                alerts=[str(a) for a in status.get("alerts") or []],
                conditions=plain_conditions(status),
            )
        )
    return sorted(out, key=lambda v: (v.namespace, v.name))
