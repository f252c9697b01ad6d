"""Settings of the trajectory alerts: KeyResultOffTrack, KeyResultForecastMiss, KeyResultCheckInOverdue and
ErrorBudgetPace.

Every field is optional: a key result's ``spec.alerting`` overrides its objective's ``spec.alerting``
field by field, and what neither sets takes the default (``okr/alerting.py`` resolves them; the
defaults are in each field's description).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import ApiModel, Duration, Flag, Labels, Number

SEVERITY_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
Severity = Annotated[str, Field(pattern=SEVERITY_PATTERN, description="The alert's severity label, e.g. page.")]


class TrajectoryAlert(ApiModel):
    """Whether an alert is generated, its severity label and how long its condition must hold."""

    enabled: Flag | None = Field(None, description="Generate this alert (default true).")
    severity: Severity | None = None
    for_: Duration | None = Field(None, alias="for", description="How long the condition holds before it fires.")


class OffTrackAlert(TrajectoryAlert):
    """KeyResultOffTrack: progress below ``factor`` x the expected pace (maintain: value out of bounds)."""

    factor: Number | None = Field(
        None, gt=0, le=1, description="Share of the expected pace below which the key result is off track (0.7)."
    )


class ForecastMissAlert(TrajectoryAlert):
    """KeyResultForecastMiss: the forecast progress at the period end below ``below``."""

    below: Number | None = Field(
        None,
        gt=0,
        le=1,
        description="Forecast progress below which the target is missed (1 for committed, 0.7 for aspirational "
        "objectives).",
    )


class BudgetPaceAlert(TrajectoryAlert):
    """ErrorBudgetPace: error budget consumed at ``factor`` x the elapsed share of the window or period or more."""

    factor: Number | None = Field(
        None, gt=0, le=1000, description="How many times the even spend of the budget pages (2)."
    )


class KeyResultAlerting(ApiModel):
    """Trajectory alerts of key results (severity ticket, page for ErrorBudgetPace)."""

    off_track: OffTrackAlert | None = Field(None, description="KeyResultOffTrack (ticket, for 1h, factor 0.7).")
    forecast_miss: ForecastMissAlert | None = Field(
        None, description="KeyResultForecastMiss (ticket, for 6h); increase and decrease key results."
    )
    check_in_overdue: TrajectoryAlert | None = Field(
        None, description="KeyResultCheckInOverdue (ticket, fires once overdue); manual key results with checkInEvery."
    )
    error_budget_pace: BudgetPaceAlert | None = Field(
        None, description="ErrorBudgetPace (page, for 1h, factor 2); key results measured from an SLO."
    )
    labels: Labels | None = Field(None, description="Labels added to every alert of the key result.")
