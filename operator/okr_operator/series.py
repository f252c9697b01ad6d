"""The status series the operator exports on ``/metrics``: names, help texts, and the series of given objects.

Pure: built from :class:`~okr_operator.api.identity.Entry` objects (spec model and status), no clock, no
network. Cardinality is bounded by the objects: one series per object and figure, plus one per object and
state value for the state gauges (the kube-state-metrics convention: ``okr_slo_state{state="Healthy"} 1``
and 0 for the other states). Labels are object names, the SLO's service, the burn-rate window and the
state: never free text (titles, descriptions and units stay out).

Names follow the Prometheus conventions: figures in 0..1 end in ``_ratio``, durations in ``_seconds``.
A key result measures cost when it carries the label ``okr.dev/measures: cost``; ``okr_key_result_info``
says so with ``measures="cost"`` (the only value: anything else is not exported).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .api import KEY_RESULT_KIND, OBJECTIVE_KIND, SLO_KIND
from .api.identity import Entry
from .bodies import as_number
from .series_names import (
    COST,
    HELP,
    KEY_RESULT_CONFIDENCE,
    KEY_RESULT_EXPECTED,
    KEY_RESULT_FORECAST,
    KEY_RESULT_INFO,
    KEY_RESULT_PROGRESS,
    KEY_RESULT_SCORE,
    KEY_RESULT_STATE,
    KEY_RESULT_TARGET,
    KEY_RESULT_VALUE,
    MEASURES_LABEL,
    OBJECTIVE_EXPECTED,
    OBJECTIVE_PROGRESS,
    OBJECTIVE_SCORE,
    OBJECTIVE_STATE,
    PACE_STATES,
    SLO_BUDGET_REMAINING,
    SLO_BURN_RATE,
    SLO_SLI,
    SLO_STATE,
    SLO_STATES,
    SLO_TARGET,
    SLO_TIME_TO_EXHAUSTION,
)
from .slo.budget import time_to_exhaustion
from .slo.windows import window_seconds


@dataclass
class Family:
    """One gauge: its name, help text, label names and samples (label values, value)."""

    name: str
    help: str
    labels: tuple[str, ...]
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)


def _share(percent: Any) -> float | None:
    """A percent as a 0..1 share, without the float noise of the division (99.9 -> 0.999, not 0.9990000000000001)."""
    number = as_number(percent)
    return None if number is None else round(number / 100, 12)


class _Builder:
    def __init__(self) -> None:
        self.families = {name: Family(name, text, labels) for name, (text, labels) in HELP.items()}

    def add(self, name: str, labels: tuple[str, ...], value: Any) -> None:
        number = as_number(value)
        if number is not None:
            self.families[name].samples.append((labels, number))

    def states(self, name: str, labels: tuple[str, ...], values: tuple[str, ...], state: Any) -> None:
        for value in values:
            self.families[name].samples.append(((*labels, value), 1.0 if state == value else 0.0))


def _objective(b: _Builder, e: Entry, status: Mapping[str, Any]) -> None:
    labels = (e.ref.namespace, e.ref.name)
    b.add(OBJECTIVE_PROGRESS, labels, status.get("progress"))
    b.add(OBJECTIVE_EXPECTED, labels, status.get("expected"))
    b.add(OBJECTIVE_SCORE, labels, status.get("score"))
    b.states(OBJECTIVE_STATE, labels, PACE_STATES, status.get("state"))


def measures_cost(labels: Mapping[str, str] | None) -> bool:
    """Whether a key result's metadata labels say it measures cost (``okr.dev/measures: cost``)."""
    return (labels or {}).get(MEASURES_LABEL) == COST


def _key_result(b: _Builder, e: Entry, status: Mapping[str, Any]) -> None:
    spec = e.model.spec
    labels = (e.ref.namespace, e.ref.name, spec.objective_ref.name)
    measures = COST if measures_cost(e.model.metadata.labels) else ""
    b.add(KEY_RESULT_INFO, (*labels, str(spec.direction), measures), 1)
    b.add(KEY_RESULT_VALUE, labels, status.get("current"))
    b.add(KEY_RESULT_TARGET, labels, spec.target)
    b.add(KEY_RESULT_PROGRESS, labels, status.get("progress"))
    b.add(KEY_RESULT_EXPECTED, labels, status.get("expected"))
    b.add(KEY_RESULT_SCORE, labels, status.get("score"))
    b.add(KEY_RESULT_FORECAST, labels, (status.get("forecast") or {}).get("progress"))
    b.add(KEY_RESULT_CONFIDENCE, labels, status.get("confidence"))
    b.states(KEY_RESULT_STATE, labels, PACE_STATES, status.get("state"))


def slo_time_to_exhaustion(e: Entry, status: Mapping[str, Any]) -> float | None:
    """Seconds until the budget is spent at the 1h burn rate, from the status' figures (None: not burning)."""
    remaining = as_number((status.get("errorBudget") or {}).get("remaining"))
    burn_1h = as_number((status.get("burnRates") or {}).get("1h"))
    if remaining is None:
        return None
    return time_to_exhaustion(remaining, window_seconds(e.model.spec.window), burn_1h)


def _slo(b: _Builder, e: Entry, status: Mapping[str, Any]) -> None:
    spec = e.model.spec
    labels = (e.ref.namespace, e.ref.name, spec.service)
    b.add(SLO_SLI, labels, _share(status.get("sli")))
    b.add(SLO_TARGET, labels, _share(spec.target))
    b.add(SLO_BUDGET_REMAINING, labels, (status.get("errorBudget") or {}).get("remaining"))
    for window, rate in sorted((status.get("burnRates") or {}).items()):
        b.add(SLO_BURN_RATE, (*labels, str(window)), rate)
    b.add(SLO_TIME_TO_EXHAUSTION, labels, slo_time_to_exhaustion(e, status))
    b.states(SLO_STATE, labels, SLO_STATES, status.get("state"))


_BY_KIND = {OBJECTIVE_KIND: _objective, KEY_RESULT_KIND: _key_result, SLO_KIND: _slo}


def status_families(entries: Iterable[Entry], statuses: Mapping[Any, Mapping[str, Any]] | None = None) -> list[Family]:
    """Every status gauge for ``entries``, in a stable order (families by name, samples by object).

    ``statuses`` (by ``Ref``) override the entries' own statuses: the loop passes the figures it has just
    computed. Objects whose spec does not validate are left out (their labels cannot be trusted).
    """
    b = _Builder()
    for e in sorted(entries, key=lambda x: x.ref):
        if e.model is None:
            continue
        status = (statuses or {}).get(e.ref, e.status) or {}
        add = _BY_KIND.get(e.ref.kind)  # MaintenanceWindows have no status gauges
        if add is not None:
            add(b, e, status)
    return sorted(b.families.values(), key=lambda f: f.name)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def exposition(families: Iterable[Family]) -> bytes:
    """The families in the Prometheus text format (version 0.0.4), rendered once per cycle so that a scrape only
    copies bytes (prometheus_client's collectors took seconds per scrape at 10 000 objects)."""
    out = []
    for f in families:
        help_text = f.help.replace("\\", "\\\\").replace("\n", "\\n")
        out.append(f"# HELP {f.name} {help_text}\n# TYPE {f.name} gauge\n")
        for labels, value in f.samples:
            pairs = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(f.labels, labels, strict=True) if v)
            out.append(f"{f.name}{{{pairs}}} {value!r}\n")
    return "".join(out).encode()
