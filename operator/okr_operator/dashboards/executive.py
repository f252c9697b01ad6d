"""The executive dashboard: are we meeting our objectives, what is at risk, how much error budget is left."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models.dashboard import DynamicConfigValue

from .. import series_names as s
from .common import NS, OBJECTIVES, SERVICES, add, base, event_annotations, to_json
from .panels import (
    Grid,
    Query,
    bar_panel,
    datasource_variable,
    label_variable,
    stat_panel,
    table_panel,
    thresholds,
    time_panel,
)

UID = "okr-executive"
LOW_CONFIDENCE = 0.5  # below this, a key result's owner doubts it (check-in confidence 0..1)
DASHED = DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]})
OBJECT_LEGEND = "{{namespace}}/{{objective}}"


def variables() -> list[Any]:
    return [
        datasource_variable(),
        label_variable("namespace", "Namespace", f"label_values({s.OBJECTIVE_STATE}, namespace)"),
        label_variable("objective", "Objective", f"label_values({s.OBJECTIVE_STATE}{{{NS}}}, objective)"),
        label_variable("service", "Service", f"label_values({s.SLO_STATE}{{{NS}}}, service)"),
    ]


def _objectives(grid: Grid) -> list[Any]:
    progress = bar_panel(
        "Objective progress",
        "Weighted progress of each objective's key results (0-100%).",
        [Query(f"{s.OBJECTIVE_PROGRESS}{OBJECTIVES}", OBJECT_LEGEND, instant=True)],
        "percentunit",
        min_value=0,
        max_value=1,
    )
    score = stat_panel(
        "Objective score",
        "OKR grade 0.0-1.0 (progress rounded to 0.01); 0.7 and more is a good result for an aspirational objective.",
        [Query(f"{s.OBJECTIVE_SCORE}{OBJECTIVES}", OBJECT_LEGEND, instant=True)],
    ).thresholds(thresholds((None, "red"), (0.4, "orange"), (0.7, "green")))
    state = table_panel(
        "Objective state",
        "Pace state of each objective: OnTrack, AtRisk, OffTrack, Achieved, Missed or Unknown.",
        [Query(f"{s.OBJECTIVE_STATE}{OBJECTIVES} == 1", table=True)],
    )
    return [grid.row("Objectives"), grid.place(progress, 12, 8), grid.place(score, 6, 8), grid.place(state, 6, 8)]


def _key_results(grid: Grid) -> list[Any]:
    pace = time_panel(
        "Key results against their expected pace",
        "Progress of each key result (solid) and the progress expected at that point of its period (dashed).",
        [
            Query(f"{s.KEY_RESULT_PROGRESS}{OBJECTIVES}", "{{key_result}}"),
            Query(f"{s.KEY_RESULT_EXPECTED}{OBJECTIVES}", "{{key_result}} expected"),
        ],
        "percentunit",
    ).override_by_regexp(".* expected$", [DASHED])
    at_risk = table_panel(
        "Key results AtRisk or OffTrack",
        "Key results behind their expected pace: AtRisk (behind) or OffTrack (far behind).",
        [Query(f'{s.KEY_RESULT_STATE}{{{NS}, objective=~"$objective", state=~"AtRisk|OffTrack"}} == 1', table=True)],
    )
    doubtful = table_panel(
        "Low-confidence key results",
        f"Key results whose latest check-in has a confidence below {LOW_CONFIDENCE:.0%}.",
        [Query(f"{s.KEY_RESULT_CONFIDENCE}{OBJECTIVES} < {LOW_CONFIDENCE}", table=True)],
        "percentunit",
    )
    cost = f'and on (namespace, key_result) {s.KEY_RESULT_INFO}{{measures="{s.COST}"}}'
    spend = time_panel(
        "Key results that measure cost",
        "Cost key results (label okr.dev/measures: cost) against their target, in their own unit.",
        [
            Query(f"{s.KEY_RESULT_VALUE}{OBJECTIVES} {cost}", "{{key_result}}"),
            Query(f"{s.KEY_RESULT_TARGET}{OBJECTIVES} {cost}", "{{key_result}} target"),
        ],
    ).override_by_regexp(".* target$", [DASHED])
    return [
        grid.row("Key results"),
        grid.place(pace, 24, 10),
        grid.place(at_risk, 12, 8),
        grid.place(doubtful, 12, 8),
        grid.place(spend, 24, 8),
    ]


def _budgets(grid: Grid) -> list[Any]:
    remaining = bar_panel(
        "Error budget remaining by SLO",
        "Share of each SLO's error budget left over its window (negative: overspent).",
        [Query(f"{s.SLO_BUDGET_REMAINING}{SERVICES}", "{{namespace}}/{{slo}}", instant=True)],
        "percentunit",
        min_value=0,
        max_value=1,
    ).thresholds(thresholds((None, "red"), (0.1, "orange"), (0.25, "green")))
    state = table_panel(
        "SLO state",
        "Healthy, Warning (burning faster than the budget allows), Critical (a page alert would fire), "
        "Exhausted (no budget left) or Unknown (no data).",
        [Query(f"{s.SLO_STATE}{SERVICES} == 1", table=True)],
    )
    return [grid.row("Error budgets"), grid.place(remaining, 12, 8), grid.place(state, 12, 8)]


def executive() -> dict[str, Any]:
    """The executive dashboard as Grafana JSON."""
    grid = Grid()
    builder = base(
        "OKR executive",
        UID,
        "Objective progress and score, key results against their pace, risks, cost, and error budgets.",
        "1m",
    ).time("now/fQ", "now/fQ")  # this quarter (an OKR period); fiscal year = calendar year
    for variable in variables():
        builder.with_variable(variable)
    for item in event_annotations(SERVICES):
        builder.annotation(item)
    for panel in [*_objectives(grid), *_key_results(grid), *_budgets(grid)]:
        add(builder, panel)
    return to_json(builder)
