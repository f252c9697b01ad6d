"""Objective (short name ``obj``) and KeyResult (short name ``kr``)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import Field, field_validator

from .alerts import KeyResultAlerting
from .common import (
    API_VERSION,
    NAME_PATTERN,
    NAMESPACE_PATTERN,
    ApiModel,
    CrossFieldRule,
    Duration,
    Flag,
    LabelName,
    LocalObjectReference,
    Number,
    ObjectMeta,
    exactly_one_of,
)
from .okr_status import KeyResultStatus, ObjectiveStatus
from .promql import check_instant, check_no_templates

OBJECTIVE_KIND: Final = "Objective"
OBJECTIVE_PLURAL = "objectives"
KEY_RESULT_KIND: Final = "KeyResult"
KEY_RESULT_PLURAL = "keyresults"

# 2026 (year), 2026-Q4 (quarter), 2026-11 (month) or 2026-10-01/2026-12-31 (dates, end inclusive).
# Years from 1970 (Unix time; Prometheus has no samples before it).
_YEAR = r"(19[7-9][0-9]|[2-9][0-9]{3})"
PERIOD_PATTERN = (
    rf"^{_YEAR}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"
    rf"|^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])/{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
)
PERIOD_DESCRIPTION = (
    "OKR period: a quarter (2026-Q4), a month (2026-11), a year (2026) or an ISO 8601 date "
    "interval start/end with the end day included (2026-10-01/2026-12-31)."
)


def _period_end_after_start(period: str | None) -> bool:
    if not period or "/" not in period:
        return True
    start, end = period.split("/")
    return end >= start


def _real_dates(period: str | None) -> bool:
    if not period or "/" not in period:
        return True
    try:
        for part in period.split("/"):
            dt.date.fromisoformat(part)
    except ValueError:
        return False
    return True


def _cel_real_date(d: str) -> str:
    """CEL: the day of the ISO date ``d`` (YYYY-MM-DD, pattern-checked) exists in its month."""
    year = f"int({d}.substring(0, 4))"
    leap = f"({year} % 4 == 0 && ({year} % 100 != 0 || {year} % 400 == 0))"
    days = f"[31, {leap} ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]"
    return f"int({d}.substring(8, 10)) <= {days}[int({d}.substring(5, 7)) - 1]"


PERIOD_DATES_RULE = CrossFieldRule(
    cel="!has(self.period) || !self.period.contains('/') || self.period.split('/').all(d, " + _cel_real_date("d") + ")",
    message="period dates must exist in the calendar (e.g. 2026-02-29 does not; February 2026 has 28 days)",
    check=lambda spec: _real_dates(spec.period),
    field=".period",
)

PERIOD_RULE = CrossFieldRule(
    cel="!has(self.period) || !self.period.contains('/') || self.period.split('/')[1] >= self.period.split('/')[0]",
    message="period end must not be before its start (start/end, end day included)",
    check=lambda spec: _period_end_after_start(spec.period),
    field=".period",
)


class ObjectiveType(StrEnum):
    COMMITTED = "committed"
    ASPIRATIONAL = "aspirational"


class ObjectiveReference(ApiModel):
    """A parent objective, possibly in another namespace. The objective counts in the parent's roll-up with
    ``weight`` unless ``contributes`` is false, and, from another namespace, only when the parent lists that
    namespace in ``spec.children.fromNamespaces``."""

    name: str = Field(pattern=NAME_PATTERN, max_length=253, description="Name.")
    namespace: str | None = Field(
        None,
        pattern=NAMESPACE_PATTERN,
        max_length=63,
        description="Namespace; defaults to the objective's own.",
    )
    weight: Number = Field(1, ge=0, le=1000, description="Weight of this objective in the parent's roll-up.")
    contributes: Flag = Field(
        True, description="false: aligned to the parent (listed under it) without counting in its progress."
    )


class ChildrenPolicy(ApiModel):
    """Which aligned child objectives count in this objective's roll-up."""

    from_namespaces: list[
        Annotated[str, Field(pattern=NAMESPACE_PATTERN, max_length=63, description="A namespace name.")]
    ] = Field(
        default_factory=list,
        max_length=64,
        description="Namespaces whose objectives count when they align to this one (its own namespace always "
        "does); children from other namespaces are listed as not counted.",
    )


class ObjectiveSpec(ApiModel):
    """A qualitative goal for a period, measured by its key results."""

    title: str = Field(min_length=1, max_length=256, description="Short statement of the goal.")
    owner: str = Field("", max_length=256, description="Team or person accountable.")
    period: str = Field(pattern=PERIOD_PATTERN, max_length=21, description=PERIOD_DESCRIPTION)
    type: ObjectiveType = Field(
        ObjectiveType.COMMITTED,
        description="committed (expected pace = elapsed share of the period) or aspirational (70% of that).",
    )
    parent_ref: ObjectiveReference | None = Field(None, description="Objective this one aligns to.")
    children: ChildrenPolicy | None = Field(None, description="Which aligned child objectives count.")
    alerting: KeyResultAlerting | None = Field(
        None, description="Trajectory alerts of this objective's key results (each key result may override)."
    )
    description: str = Field("", max_length=4096, description="Why this matters.")

    cross_field_rules = (PERIOD_RULE, PERIOD_DATES_RULE)


class Objective(ApiModel):
    """An objective: the roll-up of its key results over a period."""

    api_version: Literal["okr.dev/v1alpha1"] = Field(API_VERSION, alias="apiVersion")
    kind: Literal["Objective"] = OBJECTIVE_KIND
    metadata: ObjectMeta
    spec: ObjectiveSpec
    status: ObjectiveStatus | None = None


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    MAINTAIN = "maintain"
    BOOLEAN = "boolean"


class SLOField(StrEnum):
    SLI = "sli"
    ERROR_BUDGET_CONSUMED = "errorBudgetConsumed"
    ERROR_BUDGET_REMAINING = "errorBudgetRemaining"
    BURN_RATE_1H = "burnRate1h"


class PrometheusSource(ApiModel):
    """A PromQL query returning the key result's current value."""

    query: str = Field(
        min_length=1,
        max_length=4096,
        description="PromQL returning one number, the key result's current value.",
    )

    @field_validator("query")
    @classmethod
    def _parses(cls, value: str) -> str:
        check_no_templates(value, what="query")
        check_instant(value, what="query")
        return value


class SLOSource(ApiModel):
    """A figure from a ServiceLevelObjective's status in the same namespace."""

    name: str = Field(
        pattern=NAME_PATTERN,
        max_length=253,
        description="ServiceLevelObjective in the same namespace.",
    )
    field: SLOField = Field(
        description="sli (percent), errorBudgetConsumed or errorBudgetRemaining (fractions), burnRate1h."
    )
    group: dict[LabelName, Annotated[str, Field(max_length=256)]] | None = Field(
        None,
        max_length=5,
        description="With a grouped SLO (indicator.groupBy): the group to read, e.g. route: /checkout. "
        "Default: the SLO's own figures, which are its worst group's.",
    )


class CheckIn(ApiModel):
    """One measurement written by the key result's owner."""

    date: dt.date | dt.datetime = Field(description="When the value was measured (date or RFC 3339 time).")
    value: Number = Field(description="The measured value (for boolean key results 1 = done, 0 = not).")
    confidence: Number | None = Field(None, ge=0, le=1, description="Owner's confidence 0..1.")
    note: str = Field("", max_length=1024, description="Free text.")


class ManualSource(ApiModel):
    """Values checked in by hand, e.g. NPS or postmortem completion."""

    check_ins: list[CheckIn] = Field(
        min_length=1, max_length=500, description="Check-ins, oldest first is not required."
    )


class KeyResultSource(ApiModel):
    """Where the current value comes from. Set exactly one of prometheus, slo or manual."""

    prometheus: PrometheusSource | None = Field(None, description="A PromQL query.")
    slo: SLOSource | None = Field(None, description="A figure of an SLO's status.")
    manual: ManualSource | None = Field(None, description="Check-ins written in the manifest.")

    cross_field_rules = (exactly_one_of("prometheus", "slo", "manual"),)

    @property
    def kind(self) -> Literal["prometheus", "slo", "manual"]:
        if self.prometheus is not None:
            return "prometheus"
        return "slo" if self.slo is not None else "manual"


def _has_baseline_and_target(spec: KeyResultSpec) -> bool:
    return spec.direction not in ("increase", "decrease") or (spec.baseline is not None and spec.target is not None)


def _points_the_right_way(spec: KeyResultSpec) -> bool:
    if spec.baseline is None or spec.target is None:
        return True
    if spec.direction == "increase":
        return spec.target > spec.baseline
    if spec.direction == "decrease":
        return spec.target < spec.baseline
    return True


def _has_bound(spec: KeyResultSpec) -> bool:
    return spec.direction != "maintain" or spec.minimum is not None or spec.maximum is not None


def _bounds_ordered(spec: KeyResultSpec) -> bool:
    return spec.minimum is None or spec.maximum is None or spec.minimum <= spec.maximum


class KeyResultSpec(ApiModel):
    """A measurable result; its progress rolls up into the objective."""

    objective_ref: LocalObjectReference = Field(description="Objective in the same namespace.")
    description: str = Field(min_length=1, max_length=1024, description="What is measured.")
    direction: Direction = Field(
        Direction.INCREASE,
        description="increase or decrease from baseline to target, maintain within min/max, or boolean.",
    )
    baseline: Number | None = Field(None, description="Value at the start of the period.")
    target: Number | None = Field(None, description="Value that means done.")
    minimum: Number | None = Field(None, alias="min", description="Lowest acceptable value (maintain).")
    maximum: Number | None = Field(None, alias="max", description="Highest acceptable value (maintain).")
    unit: str = Field("", max_length=32, description="Unit shown with values, e.g. %, ms, minutes.")
    weight: Number = Field(1, ge=0, le=1000, description="Weight in the objective's roll-up.")
    owner: str = Field("", max_length=256, description="Team or person accountable; defaults to the objective's.")
    source: KeyResultSource = Field(description="Where the current value comes from.")
    period: str | None = Field(
        None,
        pattern=PERIOD_PATTERN,
        max_length=21,
        description="Overrides the objective's period. " + PERIOD_DESCRIPTION,
    )
    check_in_every: Duration | None = Field(
        None,
        description="Manual key results: a check-in is due this long after the latest one (e.g. 14d); an overdue "
        "one sets the CheckInDue condition, records an Event and fires KeyResultCheckInOverdue.",
    )
    alerting: KeyResultAlerting | None = Field(
        None, description="Trajectory alerts; fields not set here come from the objective's spec.alerting."
    )

    cross_field_rules = (
        CrossFieldRule(
            cel="!(self.direction in ['increase', 'decrease']) || (has(self.baseline) && has(self.target))",
            message="increase and decrease key results need both baseline and target",
            check=_has_baseline_and_target,
            field=".target",
        ),
        CrossFieldRule(
            cel="!has(self.baseline) || !has(self.target) || self.baseline != self.target",
            message="baseline and target must differ",
            check=lambda s: s.baseline is None or s.target is None or s.baseline != s.target,
            field=".target",
        ),
        CrossFieldRule(
            cel="!has(self.baseline) || !has(self.target) || "
            "(self.direction != 'increase' || self.target > self.baseline) && "
            "(self.direction != 'decrease' || self.target < self.baseline)",
            message="target must be above baseline for increase and below it for decrease",
            check=_points_the_right_way,
            field=".direction",
        ),
        CrossFieldRule(
            cel="self.direction != 'maintain' || has(self.min) || has(self.max)",
            message="maintain key results need min, max or both",
            check=_has_bound,
            field=".min",
        ),
        CrossFieldRule(
            cel="!has(self.min) || !has(self.max) || self.min <= self.max",
            message="min must not be greater than max",
            check=_bounds_ordered,
            field=".min",
        ),
        CrossFieldRule(
            cel="!has(self.checkInEvery) || has(self.source.manual)",
            message="checkInEvery is for manual key results (source.manual)",
            check=lambda s: s.check_in_every is None or s.source.manual is not None,
            field=".checkInEvery",
        ),
        PERIOD_RULE,
        PERIOD_DATES_RULE,
    )


class KeyResult(ApiModel):
    """A key result of an objective."""

    api_version: Literal["okr.dev/v1alpha1"] = Field(API_VERSION, alias="apiVersion")
    kind: Literal["KeyResult"] = KEY_RESULT_KIND
    metadata: ObjectMeta
    spec: KeyResultSpec
    status: KeyResultStatus | None = None
