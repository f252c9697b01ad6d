"""From validated manifests to the objects the operator owns: PrometheusRules and AnalysisTemplates.

Pure: the same manifests and options (and time, when maintenance windows apply) always give byte-identical
output (``okrctl generate`` and the operator's reconcile both call ``objects_for_*``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .api import KeyResult, MaintenanceWindow, Objective, ServiceLevelObjective
from .maintenance.schedule import applicable, rule_intervals
from .okr.period import Period, effective_period
from .okr.rules import render_key_result_rule
from .prometheus.config import DEFAULT_URL
from .slo.gate import render_analysis_template
from .slo.rules import render_prometheus_rule


@dataclass(frozen=True)
class RenderOptions:
    """Settings that shape generated objects (the operator takes them from its settings)."""

    rule_labels: dict[str, str] = field(default_factory=dict)
    prometheus_address: str = DEFAULT_URL


def objects_for_slo(
    slo: ServiceLevelObjective,
    options: RenderOptions,
    windows: Sequence[MaintenanceWindow] = (),
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The PrometheusRule and, when gated, the AnalysisTemplate of one SLO.

    ``windows``: MaintenanceWindows (of any SLO; those covering this one apply). The rules carry their
    intervals of the day of ``now`` and the next days (``maintenance.rule_intervals``): quiet alerts, events
    left out of the budget."""
    meta = slo.metadata
    mine = applicable(windows, meta.namespace or "default", meta.name, meta.labels)
    if mine and now is None:
        raise ValueError("objects_for_slo: maintenance windows apply, so give the time (now)")
    intervals = rule_intervals(mine, now) if mine and now is not None else []
    objects = [render_prometheus_rule(slo, labels=options.rule_labels, maintenance=intervals)]
    template = render_analysis_template(
        slo,
        prometheus_address=options.prometheus_address,
        excluding_maintenance=any(w.spec.exclude_from_budget for w in mine),
    )
    if template is not None:
        objects.append(template)
    return objects


def key_result_period(kr: KeyResult, objective: Objective | None) -> Period | None:
    """The key result's own period, else its objective's; None when neither is known."""
    return effective_period(kr.spec.period, objective.spec.period if objective is not None else None)


def objects_for_key_result(kr: KeyResult, objective: Objective | None, options: RenderOptions) -> list[dict[str, Any]]:
    """The PrometheusRule of a prometheus-sourced key result (empty otherwise or without a period)."""
    period = key_result_period(kr, objective)
    if period is None:
        return []
    rule = render_key_result_rule(kr, objective, period, labels=options.rule_labels)
    return [rule] if rule is not None else []


def find_objective(objectives: list[Objective], kr: KeyResult) -> Objective | None:
    """The key result's objective among ``objectives`` (same namespace only)."""
    for objective in objectives:
        if (
            objective.metadata.name == kr.spec.objective_ref.name
            and objective.metadata.namespace == kr.metadata.namespace
        ):
            return objective
    return None
