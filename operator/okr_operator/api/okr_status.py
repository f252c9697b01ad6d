"""The statuses of Objective and KeyResult: progress, score, state against the pace, roll-up of the aligned
children, final grades, forecast and bounded history (written by the evaluation)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .common import (
    Condition,
    GeneratedObjects,
    StatusModel,
)

HISTORY_POINTS = 26  # status.history keeps at most this many points


class PaceState(StrEnum):
    ON_TRACK = "OnTrack"
    AT_RISK = "AtRisk"
    OFF_TRACK = "OffTrack"
    ACHIEVED = "Achieved"
    MISSED = "Missed"
    UNKNOWN = "Unknown"


class KeyResultCounts(StatusModel):
    total: int = 0
    on_track: int = 0
    at_risk: int = 0
    off_track: int = 0
    achieved: int = 0
    missed: int = 0
    unknown: int = 0


class ObjectiveLink(StatusModel):
    """An objective aligned to this one, and whether it counts in the roll-up."""

    name: str
    namespace: str
    counted: bool | None = Field(None, description="Whether its progress counts in this objective's roll-up.")
    weight: float | None = Field(None, description="Its weight in the roll-up (parentRef.weight).")
    progress: float | None = Field(None, description="Its progress, 0..1.")
    score: float | None = Field(None, description="Its score.")
    state: PaceState | None = Field(None, description="Its state.")
    reason: str | None = Field(None, description="Why it does not count (NotContributing, NamespaceNotAllowed, ...).")


class FinalKeyResult(StatusModel):
    """One key result in an objective's final grade."""

    name: str
    owner: str | None = None
    weight: float | None = None
    value: float | None = Field(None, description="Its value as of the period end.")
    progress: float | None = None
    score: float | None = None
    state: PaceState | None = None


class FinalChild(StatusModel):
    """One counted child objective in an objective's final grade."""

    name: str
    namespace: str
    weight: float | None = None
    progress: float | None = None
    score: float | None = None
    state: PaceState | None = None


class ObjectiveFinal(StatusModel):
    """The grade as of the period end: written once the period is over and kept (a spec change re-grades)."""

    progress: float | None = Field(None, description="Rolled-up progress as of the period end, 0..1.")
    score: float | None = Field(None, description="The final score (progress rounded to 0.01).")
    state: PaceState | None = Field(None, description="Achieved or Missed (Unknown without data).")
    period: str | None = Field(None, description="The period graded.")
    graded_at: datetime | None = Field(None, description="When the grade was computed.")
    observed_generation: int | None = Field(None, description="The metadata.generation graded.")
    key_results: list[FinalKeyResult] | None = Field(None, max_length=500, description="Each key result's grade.")
    children: list[FinalChild] | None = Field(None, max_length=500, description="Each counted child's grade.")


class ObjectiveStatus(StatusModel):
    progress: float | None = Field(
        None, description="Weighted progress of the key results and counted child objectives, 0..1."
    )
    score: float | None = Field(None, description="Progress rounded to 0.01 (OKR grading 0.0-1.0).")
    expected: float | None = Field(None, description="Progress expected at this point of the period.")
    state: PaceState | None = Field(None, description="OnTrack, AtRisk, OffTrack, Achieved, Missed, Unknown.")
    owner: str | None = Field(None, description="Team or person accountable (spec.owner).")
    key_results: KeyResultCounts | None = Field(None, description="Key results by state.")
    children: list[ObjectiveLink] | None = Field(
        None, max_length=500, description="Objectives aligned to this one, counted or not."
    )
    final: ObjectiveFinal | None = Field(None, description="The grade as of the period end, once it is over.")
    observed_generation: int | None = None
    last_evaluated: datetime | None = None
    conditions: list[Condition] | None = None


class Forecast(StatusModel):
    value: float | None = Field(None, description="Value expected at the end of the period (linear trend).")
    progress: float | None = Field(None, description="Progress that value gives.")


class HistoryPoint(StatusModel):
    time: datetime
    value: float


class KeyResultFinal(StatusModel):
    """The grade as of the period end: written once the period is over and kept (a spec change re-grades)."""

    value: float | None = Field(None, description="The value as of the period end.")
    progress: float | None = Field(None, description="Progress as of the period end, 0..1.")
    score: float | None = Field(None, description="The final score (progress rounded to 0.01).")
    state: PaceState | None = Field(None, description="Achieved or Missed (Unknown without data).")
    confidence: float | None = Field(None, description="Confidence of the last check-in up to the end.")
    period: str | None = Field(None, description="The period graded.")
    graded_at: datetime | None = Field(None, description="When the grade was computed.")
    observed_generation: int | None = Field(None, description="The metadata.generation graded.")


class KeyResultStatus(StatusModel):
    current: float | None = Field(None, description="Current value.")
    progress: float | None = Field(None, description="Progress 0..1.")
    score: float | None = Field(None, description="Progress rounded to 0.01.")
    expected: float | None = Field(None, description="Progress expected at this point of the period.")
    state: PaceState | None = Field(None, description="OnTrack, AtRisk, OffTrack, Achieved, Missed, Unknown.")
    owner: str | None = Field(None, description="Who is accountable: spec.owner, else the objective's owner.")
    forecast: Forecast | None = Field(None, description="Linear forecast to the end of the period.")
    confidence: float | None = Field(None, description="Confidence of the latest check-in.")
    last_check_in: datetime | None = Field(None, description="Time of the latest check-in (manual key results).")
    check_in_due: datetime | None = Field(None, description="When the next check-in is due (spec.checkInEvery).")
    history: list[HistoryPoint] | None = Field(
        None, max_length=HISTORY_POINTS, description="Recent values (bounded) used for the forecast."
    )
    final: KeyResultFinal | None = Field(None, description="The grade as of the period end, once it is over.")
    generated: GeneratedObjects | None = Field(None, description="Objects generated for this key result.")
    observed_generation: int | None = None
    last_evaluated: datetime | None = None
    conditions: list[Condition] | None = None
