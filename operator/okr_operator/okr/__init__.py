"""Pure OKR engine: periods, key-result progress and score, pace, forecast, roll-up, alignment, history.

No Kubernetes, kopf, network or clock access: time is always a parameter (``now``).
"""

from .alignment import children_of, find_cycles
from .forecast import Forecast, linear_forecast
from .history import HISTORY_LIMIT, HistoryPoint, append_history
from .pace import ASPIRATIONAL_FACTOR, AT_RISK_FACTOR, ObjectiveType, PaceState, expected_progress, pace_state
from .period import ACCEPTED_FORMS, Period, PeriodError, elapsed_fraction, parse_period
from .progress import (
    Direction,
    boolean_progress,
    in_range,
    key_result_progress,
    maintain_progress,
    progress_towards,
    score,
)
from .rollup import KeyResultSummary, RollUp, roll_up

__all__ = [
    "ACCEPTED_FORMS",
    "ASPIRATIONAL_FACTOR",
    "AT_RISK_FACTOR",
    "HISTORY_LIMIT",
    "Direction",
    "Forecast",
    "HistoryPoint",
    "KeyResultSummary",
    "ObjectiveType",
    "PaceState",
    "Period",
    "PeriodError",
    "RollUp",
    "append_history",
    "boolean_progress",
    "children_of",
    "elapsed_fraction",
    "expected_progress",
    "find_cycles",
    "in_range",
    "key_result_progress",
    "linear_forecast",
    "maintain_progress",
    "pace_state",
    "parse_period",
    "progress_towards",
    "roll_up",
    "score",
]
