"""The status of a ServiceLevelObjective: SLI, error budget, burn rates, state and, when grouped, its groups."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .common import Condition, GeneratedObjects, StatusModel

MAX_LISTED_GROUPS = 10


class ErrorBudget(StatusModel):
    total: float | None = Field(None, description="Allowed share of bad events in percent (100 - target).")
    consumed: float | None = Field(None, description="Fraction of the budget used (1 = all of it).")
    remaining: float | None = Field(
        None, description="Fraction of the budget left (1 - consumed; negative when overspent)."
    )


class SLOState(StrEnum):
    HEALTHY = "Healthy"
    WARNING = "Warning"
    CRITICAL = "Critical"
    EXHAUSTED = "Exhausted"
    UNKNOWN = "Unknown"


class GroupSummary(StatusModel):
    """One group of a grouped SLO (one value of the indicator's groupBy labels)."""

    labels: dict[str, str] = Field(description="The group's values of the groupBy labels, e.g. route: /checkout.")
    sli: float | None = Field(None, description="Good events in percent over the window.")
    budget_remaining: float | None = Field(None, description="Fraction of the group's error budget left.")
    state: SLOState | None = Field(None, description="Healthy, Warning, Critical, Exhausted or Unknown.")


class GroupsStatus(StatusModel):
    """The groups of a grouped SLO, worst first."""

    count: int | None = Field(None, description="How many groups Prometheus has now.")
    worst_group: str | None = Field(None, description="The worst group's labels, e.g. route=/checkout.")
    worst: list[GroupSummary] | None = Field(
        None, description=f"The worst groups, worst first (at most {MAX_LISTED_GROUPS})."
    )


class ServiceLevelObjectiveStatus(StatusModel):
    sli: float | None = Field(None, description="Good events in percent over the window.")
    error_budget: ErrorBudget | None = Field(None, description="Error budget over the window.")
    burn_rates: dict[str, float] | None = Field(
        None, description="Burn rate per alerting window (1 = spending exactly the budget)."
    )
    time_to_exhaustion: str | None = Field(
        None, description="At the 1h burn rate, time until the budget is gone (e.g. 3d4h)."
    )
    state: SLOState | None = Field(None, description="Healthy, Warning, Critical, Exhausted or Unknown.")
    alerts: list[str] | None = Field(None, description="Burn-rate alerts whose condition holds now.")
    groups: GroupsStatus | None = Field(
        None,
        description="With indicator.groupBy: how many groups, and the worst ones (the figures above are the worst's).",
    )
    generated: GeneratedObjects | None = Field(None, description="Objects generated for this SLO.")
    observed_generation: int | None = Field(None, description="Generation the status was computed for.")
    last_evaluated: datetime | None = Field(None, description="When the status was last computed.")
    conditions: list[Condition] | None = Field(None, description="Ready, Valid, RulesSynced, MetricsAvailable.")
