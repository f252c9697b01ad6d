"""Pure OKR engine: periods, key-result progress and score, pace, forecast, roll-up, alignment, history,
check-ins and the settings of trajectory alerts. Every OKR rule has its home here; the evaluation, okrctl
and kubectl okr use it.

No Kubernetes, kopf, network or clock access: time is always a parameter (``now``).
"""

from .alerting import AlertSettings, KeyResultAlerts, resolve_alerting, resolve_budget_pace
from .alignment import Alignment, Child, ParentLink, align, children_of, find_cycles
from .checkins import CheckInPoint, check_in_points, due_at, until
from .forecast import Forecast, forecast_at_end, linear_forecast
from .history import HISTORY_POINTS, HistoryPoint, history_spacing, record_history
from .pace import (
    ASPIRATIONAL_FACTOR,
    AT_RISK_FACTOR,
    ObjectiveType,
    PaceState,
    expected_progress,
    key_result_state,
    pace_state,
)
from .period import ACCEPTED_FORMS, Period, PeriodError, effective_period, elapsed_fraction, is_over, parse_period
from .progress import (
    Direction,
    boolean_progress,
    in_range,
    key_result_progress,
    maintain_progress,
    progress_towards,
    score,
)
from .rollup import ChildSummary, KeyResultSummary, RollUp, roll_up

__all__ = [
    "ACCEPTED_FORMS",
    "ASPIRATIONAL_FACTOR",
    "AT_RISK_FACTOR",
    "HISTORY_POINTS",
    "AlertSettings",
    "Alignment",
    "CheckInPoint",
    "Child",
    "ChildSummary",
    "Direction",
    "Forecast",
    "HistoryPoint",
    "KeyResultAlerts",
    "KeyResultSummary",
    "ObjectiveType",
    "PaceState",
    "ParentLink",
    "Period",
    "PeriodError",
    "RollUp",
    "align",
    "boolean_progress",
    "check_in_points",
    "children_of",
    "due_at",
    "effective_period",
    "elapsed_fraction",
    "expected_progress",
    "find_cycles",
    "forecast_at_end",
    "history_spacing",
    "in_range",
    "is_over",
    "key_result_progress",
    "key_result_state",
    "linear_forecast",
    "maintain_progress",
    "pace_state",
    "parse_period",
    "progress_towards",
    "record_history",
    "resolve_alerting",
    "resolve_budget_pace",
    "roll_up",
    "score",
    "until",
]
