"""The alerts of a ServiceLevelObjective (``spec.alerting``): burn-rate conditions, page/ticket routing,
SLOErrorBudgetExhausted and ErrorBudgetPace settings, runbook, labels and annotations."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from .alerts import BudgetPaceAlert
from .common import (
    ApiModel,
    CrossFieldRule,
    Duration,
    Flag,
    LabelName,
    Labels,
    Number,
    cel_duration_seconds,
    parse_duration,
)

RUNBOOK_URL_PATTERN = r"^https?://[^\s{}\"'<>`]+$"


class Severity(StrEnum):
    PAGE = "page"
    TICKET = "ticket"


class BurnRateWindow(ApiModel):
    """One multiwindow burn-rate condition: alert when both windows burn faster than burnRate."""

    severity: Severity = Field(description="page or ticket.")
    long: Duration = Field(description="Long window, e.g. 1h.")
    short: Duration = Field(
        description="Short window that makes the alert reset quickly, e.g. 5m. Equal to long: a single-window "
        "condition (what an OpenSLO burn-rate condition with one lookbackWindow says)."
    )
    burn_rate: Number = Field(gt=0, le=10000, description="Burn-rate factor, e.g. 14.4.")
    for_: Duration | None = Field(
        None,
        alias="for",
        description="Fire only once the condition has held this long (the alert rule's for; OpenSLO alertAfter), "
        "e.g. 5m. Default: at once.",
    )

    cross_field_rules = (
        CrossFieldRule(
            cel=f"{cel_duration_seconds('self.short')} <= {cel_duration_seconds('self.long')}",
            message="short must not be longer than long (equal to long for a single-window condition)",
            check=lambda w: parse_duration(w.short) <= parse_duration(w.long),
            field=".short",
        ),
    )


class SeverityRouting(ApiModel):
    """Settings of the page or the ticket alert."""

    enabled: Flag = Field(True, description="Whether this alert is generated.")
    labels: Labels = Field(default_factory=dict, description="Extra labels, e.g. for Alertmanager routing.")


class BudgetExhaustedAlert(ApiModel):
    """SLOErrorBudgetExhausted: the remaining error budget over the SLO window is below a floor."""

    enabled: Flag = Field(
        False,
        description="Generate the alert (a rule group of its own, evaluated every 10m; rolling windows only).",
    )
    floor: Number = Field(
        0,
        ge=0,
        lt=1,
        description="Fire when the remaining budget, as a fraction, is below this: 0 when the budget is exhausted, "
        "0.1 when less than a tenth is left.",
    )
    severity: Severity = Field(Severity.TICKET, description="page or ticket.")
    labels: Labels = Field(default_factory=dict, description="Extra labels, e.g. for Alertmanager routing.")


class Alerting(ApiModel):
    """Multiwindow multi-burn-rate alerts (SRE workbook) generated into the PrometheusRule."""

    enabled: Flag = Field(True, description="Generate page, ticket and no-data alerts.")
    runbook_url: str | None = Field(
        None,
        max_length=2048,
        pattern=RUNBOOK_URL_PATTERN,
        description="Runbook linked from every alert (annotation runbook_url).",
    )
    labels: Labels = Field(default_factory=dict, description="Labels added to every alert.")
    annotations: dict[LabelName, Annotated[str, Field(max_length=4096)]] = Field(
        default_factory=dict,
        description="Annotations added to every alert. Text is shown literally (not as a template).",
    )
    page: SeverityRouting = Field(default_factory=SeverityRouting, description="The page alert.")
    ticket: SeverityRouting = Field(default_factory=SeverityRouting, description="The ticket alert.")
    no_data_for: Duration = Field(
        "10m", description="Fire the no-data alert when the SLI has had no series for this long."
    )
    burn_rate_windows: list[BurnRateWindow] | None = Field(
        None,
        max_length=8,
        description="Override the burn-rate conditions. Default: page 1h/5m x14.4 and 6h/30m x6, "
        "ticket 1d/2h x3 and 3d/6h x1, scaled to the SLO window.",
    )
    budget_exhausted: BudgetExhaustedAlert = Field(
        default_factory=BudgetExhaustedAlert, description="Alert when the error budget is exhausted (or nearly)."
    )
    error_budget_pace: BudgetPaceAlert | None = Field(
        None,
        description="ErrorBudgetPace, calendar windows (month, quarter) only: page when the budget consumed is at "
        "least factor x the elapsed share of the window (default factor 2, severity page, for 1h).",
    )
