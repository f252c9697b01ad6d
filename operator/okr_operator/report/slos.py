"""The SLO part of the period review: each SLO's figures per month, measured at the month's end instant
(``okrctl report`` against Prometheus) or what its status holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..bodies import as_dict, as_number, as_str, as_time, namespaced_name
from .months import Month


@dataclass(frozen=True)
class SLOMonth:
    month: str
    at: datetime | None  # when the figures were measured (None: not kept)
    complete: bool
    sli: float | None = None
    remaining: float | None = None  # fraction of the budget left
    consumed: float | None = None
    state: str | None = None


@dataclass
class SLORow:
    name: str
    namespace: str
    service: str
    description: str
    target: float | None
    window: str
    months: list[SLOMonth]


def status_months(slo: Mapping[str, Any], months: list[Month]) -> list[SLOMonth]:
    """What an SLO's status holds, per month: its figures as of ``lastEvaluated``, in that month; the status
    keeps no earlier figures, so the other months are empty."""
    status = as_dict(slo.get("status"))
    at = as_time(status.get("lastEvaluated"))
    budget = as_dict(status.get("errorBudget"))
    out = []
    for month in months:
        holds = at is not None and month.start <= at < month.end
        out.append(
            SLOMonth(
                month.label,
                at if holds else None,
                month.complete,
                as_number(status.get("sli")) if holds else None,
                as_number(budget.get("remaining")) if holds else None,
                as_number(budget.get("consumed")) if holds else None,
                as_str(status.get("state")) or None if holds else None,
            )
        )
    return out


def measured_months(statuses: Mapping[str, Mapping[str, Any]], months: list[Month]) -> list[SLOMonth]:
    """An SLO's figures measured at each month's instant (``statuses``: month label -> SLO status then)."""
    out = []
    for month in months:
        status = as_dict(statuses.get(month.label))
        budget = as_dict(status.get("errorBudget"))
        out.append(
            SLOMonth(
                month.label,
                month.at if status else None,
                month.complete,
                as_number(status.get("sli")),
                as_number(budget.get("remaining")),
                as_number(budget.get("consumed")),
                as_str(status.get("state")) or None,
            )
        )
    return out


def _slo_row(slo: Mapping[str, Any], months: list[SLOMonth]) -> SLORow:
    namespace, name = namespaced_name(slo)
    spec = as_dict(slo.get("spec"))
    return SLORow(
        name=name,
        namespace=namespace,
        service=as_str(spec.get("service")),
        description=as_str(spec.get("description")),
        target=as_number(spec.get("target")),
        window=as_str(spec.get("window")) or "28d",
        months=months,
    )


def slo_rows(
    slos: list[Mapping[str, Any]],
    months: list[Month],
    slo_months: Mapping[tuple[str, str], Mapping[str, Mapping[str, Any]]] | None,
) -> list[SLORow]:
    """One row per SLO: its figures per month, measured (``slo_months``) or from its status."""
    rows = []
    for slo in sorted(slos, key=namespaced_name):
        if slo_months is None:
            per_month = status_months(slo, months)
        else:
            measured = slo_months.get(namespaced_name(slo))
            per_month = measured_months(measured, months) if measured is not None else []
        rows.append(_slo_row(slo, per_month))
    return rows
