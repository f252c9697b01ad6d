"""MaintenanceWindow (short name ``mw``): planned time when some SLOs' alerts are quiet and, optionally,
their events do not count against the error budget.

When: a one-off ``start`` plus ``duration``, or a recurring ``schedule`` (cron, 5 fields) in ``timeZone``
plus ``duration``. Which SLOs: ``slos.names`` or ``slos.selector.matchLabels``, in the window's namespace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import Field, field_validator

from .common import (
    API_VERSION,
    ApiModel,
    Condition,
    Duration,
    ObjectMeta,
    StatusModel,
    exactly_one_of,
)

KIND: Final = "MaintenanceWindow"
PLURAL = "maintenancewindows"
SLO_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
CRON_PATTERN = r"^\S+( \S+){4}$"


class LabelSelector(ApiModel):
    """SLOs whose labels include all of these."""

    match_labels: dict[str, str] = Field(
        min_length=1, max_length=16, description="Labels the SLOs must have, e.g. team: checkout."
    )


class SLOTargets(ApiModel):
    """Which SLOs of this namespace the window applies to. Set exactly one of names or selector."""

    names: list[Annotated[str, Field(pattern=SLO_NAME_PATTERN, max_length=58, description="An SLO name.")]] | None = (
        Field(None, min_length=1, max_length=100, description="Names of ServiceLevelObjectives in this namespace.")
    )
    selector: LabelSelector | None = Field(None, description="ServiceLevelObjectives by label.")

    cross_field_rules = (exactly_one_of("names", "selector"),)

    def matches(self, name: str, labels: dict[str, str] | None) -> bool:
        """Whether the SLO named ``name`` with ``labels`` is one of these."""
        if self.names is not None:
            return name in self.names
        assert self.selector is not None
        have = labels or {}
        return all(have.get(k) == v for k, v in self.selector.match_labels.items())


class MaintenanceWindowSpec(ApiModel):
    """When maintenance happens, which SLOs it touches, and what it does to their alerts and budget."""

    slos: SLOTargets = Field(description="Which SLOs (by name or label selector) in this namespace.")
    start: datetime | None = Field(
        None, description="A one-off window: when it starts (RFC 3339, e.g. 2026-11-20T02:00:00Z). Or set schedule."
    )
    schedule: str | None = Field(
        None,
        max_length=128,
        pattern=CRON_PATTERN,
        description="A recurring window: when it starts, as a 5-field cron expression in timeZone, e.g. "
        "'0 2 * * 6' (Saturdays 02:00). Or set start.",
    )
    time_zone: str = Field(
        "UTC", max_length=64, description="IANA time zone of schedule, e.g. Europe/Berlin (daylight saving applies)."
    )
    duration: Duration = Field(description="How long each window lasts, e.g. 2h.")
    suppress_alerts: bool = Field(True, description="Keep the SLOs' alerts (page, ticket, no data) quiet during it.")
    exclude_from_budget: bool = Field(
        False,
        description="Leave the window's events out of the SLI and error budget (rules, status and gate alike).",
    )
    reason: str = Field(min_length=1, max_length=256, description="Why, shown on the SLOs' InMaintenance condition.")

    cross_field_rules = (exactly_one_of("start", "schedule"),)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as UTC or Europe/Berlin") from None
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                CronSim(value, datetime(2000, 1, 1))
            except CronSimError as exc:
                raise ValueError(
                    f"schedule {value!r} is not a 5-field cron expression ({exc}), e.g. '0 2 * * 6'"
                ) from None
        return value


class MaintenanceWindowStatus(StatusModel):
    active: bool | None = Field(None, description="Whether a window is on now.")
    active_until: datetime | None = Field(None, description="When the current window ends.")
    next_start: datetime | None = Field(None, description="When the next window starts (none for a past one-off).")
    slos: list[str] | None = Field(None, description="The SLOs it applies to now.")
    observed_generation: int | None = Field(None, description="Generation the status was computed for.")
    last_evaluated: datetime | None = Field(None, description="When the status was last computed.")
    conditions: list[Condition] | None = Field(None, description="Valid, Ready.")


class MaintenanceWindow(ApiModel):
    """Planned maintenance for some SLOs: quiet alerts, optionally events left out of the error budget."""

    api_version: Literal["okr.dev/v1alpha1"] = Field(API_VERSION, alias="apiVersion")
    kind: Literal["MaintenanceWindow"] = KIND
    metadata: ObjectMeta
    spec: MaintenanceWindowSpec
    status: MaintenanceWindowStatus | None = None


__all__ = [
    "KIND",
    "PLURAL",
    "LabelSelector",
    "MaintenanceWindow",
    "MaintenanceWindowSpec",
    "MaintenanceWindowStatus",
    "SLOTargets",
]
