"""Names, label names and help texts of the status series the operator exports (``series.py`` builds them).

A module of its own, with nothing but the API's enums below it, so the rules that read the exported series
(okr/ trajectory alerts, slo/ ErrorBudgetPace) and the dashboards name them without importing what builds them.
"""

from __future__ import annotations

from .api import GROUP
from .api.okr_status import PaceState
from .api.slo_status import SLOState

MEASURES_LABEL = f"{GROUP}/measures"
COST = "cost"
PACE_STATES = tuple(str(s) for s in PaceState)
SLO_STATES = tuple(str(s) for s in SLOState)

OBJECTIVE_LABELS = ("namespace", "objective")
KEY_RESULT_LABELS = ("namespace", "key_result", "objective")
SLO_LABELS = ("namespace", "slo", "service")

OBJECTIVE_PROGRESS = "okr_objective_progress_ratio"
OBJECTIVE_EXPECTED = "okr_objective_expected_progress_ratio"
OBJECTIVE_SCORE = "okr_objective_score"
OBJECTIVE_STATE = "okr_objective_state"
KEY_RESULT_INFO = "okr_key_result_info"
KEY_RESULT_VALUE = "okr_key_result_value"
KEY_RESULT_TARGET = "okr_key_result_target"
KEY_RESULT_PROGRESS = "okr_key_result_progress_ratio"
KEY_RESULT_EXPECTED = "okr_key_result_expected_progress_ratio"
KEY_RESULT_SCORE = "okr_key_result_score"
KEY_RESULT_FORECAST = "okr_key_result_forecast_progress_ratio"
KEY_RESULT_CONFIDENCE = "okr_key_result_confidence_ratio"
KEY_RESULT_STATE = "okr_key_result_state"
SLO_SLI = "okr_slo_sli_ratio"
SLO_TARGET = "okr_slo_target_ratio"
SLO_BUDGET_REMAINING = "okr_slo_error_budget_remaining_ratio"
SLO_BURN_RATE = "okr_slo_error_budget_burn_rate"
SLO_TIME_TO_EXHAUSTION = "okr_slo_time_to_exhaustion_seconds"
SLO_STATE = "okr_slo_state"

# name -> (help text, label names)
HELP: dict[str, tuple[str, tuple[str, ...]]] = {
    OBJECTIVE_PROGRESS: ("Objective progress: weighted progress of its key results (0-1).", OBJECTIVE_LABELS),
    OBJECTIVE_EXPECTED: ("Progress the objective should have at this point of its period (0-1).", OBJECTIVE_LABELS),
    OBJECTIVE_SCORE: ("Objective score: progress rounded to 0.01 (OKR grade 0.0-1.0).", OBJECTIVE_LABELS),
    OBJECTIVE_STATE: ("1 for the objective's pace state, 0 for the other states.", (*OBJECTIVE_LABELS, "state")),
    KEY_RESULT_INFO: (
        "Always 1: the key result's direction, and measures=cost for key results that measure cost.",
        (*KEY_RESULT_LABELS, "direction", "measures"),
    ),
    KEY_RESULT_VALUE: ("Current value of the key result, in its own unit (spec.unit).", KEY_RESULT_LABELS),
    KEY_RESULT_TARGET: ("Target value of the key result, in its own unit (spec.unit).", KEY_RESULT_LABELS),
    KEY_RESULT_PROGRESS: ("Key result progress from baseline to target (0-1).", KEY_RESULT_LABELS),
    KEY_RESULT_EXPECTED: (
        "Progress the key result should have at this point of its period: the expected pace (0-1).",
        KEY_RESULT_LABELS,
    ),
    KEY_RESULT_SCORE: ("Key result score: progress rounded to 0.01 (OKR grade 0.0-1.0).", KEY_RESULT_LABELS),
    KEY_RESULT_FORECAST: (
        "Progress the key result's linear trend reaches at the end of its period (0-1).",
        KEY_RESULT_LABELS,
    ),
    KEY_RESULT_CONFIDENCE: ("Owner's confidence in the latest check-in (0-1).", KEY_RESULT_LABELS),
    KEY_RESULT_STATE: ("1 for the key result's pace state, 0 for the other states.", (*KEY_RESULT_LABELS, "state")),
    SLO_SLI: ("Share of good events over the SLO window (0-1).", SLO_LABELS),
    SLO_TARGET: ("The SLO's target as a share of good events (0-1).", SLO_LABELS),
    SLO_BUDGET_REMAINING: (
        "Share of the error budget left over the SLO window (1 untouched, 0 spent, negative overspent).",
        SLO_LABELS,
    ),
    SLO_BURN_RATE: (
        "Error budget burn rate over the window (1 spends exactly the budget over the SLO window).",
        (*SLO_LABELS, "window"),
    ),
    SLO_TIME_TO_EXHAUSTION: (
        "Seconds until the error budget is spent at the 1h burn rate (absent when nothing burns or nothing is left).",
        SLO_LABELS,
    ),
    SLO_STATE: ("1 for the SLO's state, 0 for the other states.", (*SLO_LABELS, "state")),
}
