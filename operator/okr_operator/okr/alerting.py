"""The effective settings of a key result's trajectory alerts (and of an SLO's ErrorBudgetPace).

A key result's ``spec.alerting`` overrides its objective's field by field; what neither sets takes the
defaults below.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..api.alerts import BudgetPaceAlert, KeyResultAlerting, TrajectoryAlert
from .pace import ASPIRATIONAL_FACTOR, AT_RISK_FACTOR

__all__ = ["BUDGET_PACE_FACTOR", "AlertSettings", "KeyResultAlerts", "resolve_alerting", "resolve_budget_pace"]

BUDGET_PACE_FACTOR = 2.0
"""The source documents' rule: budget burn above 2x the expected (even) rate pages."""


@dataclass(frozen=True)
class AlertSettings:
    """One alert as it is generated: on or off, severity, ``for`` and its threshold (factor or below)."""

    enabled: bool
    severity: str
    for_: str | None
    threshold: float | None = None


@dataclass(frozen=True)
class KeyResultAlerts:
    """Every trajectory alert of one key result, and the labels added to all of them."""

    off_track: AlertSettings
    forecast_miss: AlertSettings
    check_in_overdue: AlertSettings
    error_budget_pace: AlertSettings
    labels: dict[str, str]


def _pick(field: str, *layers: TrajectoryAlert | None) -> object:
    for layer in layers:
        value = getattr(layer, field, None) if layer is not None else None
        if value is not None:
            return value
    return None


def _settings(
    layers: tuple[TrajectoryAlert | None, ...],
    severity: str,
    for_: str | None,
    threshold_field: str | None = None,
    threshold: float | None = None,
) -> AlertSettings:
    enabled = _pick("enabled", *layers)
    chosen = _pick(threshold_field, *layers) if threshold_field else None
    return AlertSettings(
        enabled=enabled is not False,
        severity=str(_pick("severity", *layers) or severity),
        for_=str(_pick("for_", *layers) or for_ or "") or None,
        threshold=float(chosen) if isinstance(chosen, int | float) else threshold,
    )


def resolve_alerting(
    own: KeyResultAlerting | None, objective: KeyResultAlerting | None, *, aspirational: bool
) -> KeyResultAlerts:
    """The key result's alerts: its own settings, else its objective's, else the defaults.

    Defaults: KeyResultOffTrack ticket for 1h below 0.7 x the expected pace; KeyResultForecastMiss ticket
    for 6h below a forecast progress of 1 (0.7 for aspirational objectives); KeyResultCheckInOverdue ticket;
    ErrorBudgetPace page for 1h at 2 x the elapsed share.
    """

    def layers(name: str) -> tuple[TrajectoryAlert | None, ...]:
        return tuple(getattr(a, name) if a is not None else None for a in (own, objective))

    labels = {**((objective.labels if objective else None) or {}), **((own.labels if own else None) or {})}
    return KeyResultAlerts(
        off_track=_settings(layers("off_track"), "ticket", "1h", "factor", AT_RISK_FACTOR),
        forecast_miss=_settings(
            layers("forecast_miss"), "ticket", "6h", "below", ASPIRATIONAL_FACTOR if aspirational else 1.0
        ),
        check_in_overdue=_settings(layers("check_in_overdue"), "ticket", None),
        error_budget_pace=_settings(layers("error_budget_pace"), "page", "1h", "factor", BUDGET_PACE_FACTOR),
        labels=labels,
    )


def resolve_budget_pace(setting: BudgetPaceAlert | None) -> AlertSettings:
    """An SLO's ErrorBudgetPace: page for 1h at 2 x the elapsed share unless ``setting`` says otherwise."""
    return _settings((setting,), "page", "1h", "factor", BUDGET_PACE_FACTOR)
