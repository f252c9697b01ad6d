"""The on-call dashboard: which SLOs burn their budget, how fast, how long until it is gone, which have no data."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig
from grafana_foundation_sdk.models.common import GraphTresholdsStyleMode  # sic: the SDK's spelling

from .. import series_names as s
from ..slo.exhausted import EXHAUSTED_ALERT
from ..slo.rules import ABSENT_ALERT, BURN_ALERT
from .common import NS, SERVICES, add, base, event_annotations, to_json
from .panels import Grid, Query, datasource_variable, label_variable, stat_panel, table_panel, thresholds, time_panel

UID = "okr-on-call"
DAY = 86400
SLO_LEGEND = "{{namespace}}/{{slo}}"


def variables() -> list[Any]:
    return [
        datasource_variable(),
        label_variable("namespace", "Namespace", f"label_values({s.SLO_STATE}, namespace)"),
        label_variable("service", "Service", f"label_values({s.SLO_STATE}{{{NS}}}, service)"),
    ]


def _alerts(*names: str) -> str:
    which = f'alertname="{names[0]}"' if len(names) == 1 else f'alertname=~"{"|".join(names)}"'
    return f'ALERTS{{{which}, alertstate="firing", {SERVICES.strip("{}")}}}'


def _panels(grid: Grid) -> list[Any]:
    firing = table_panel(
        "Firing SLO alerts",
        "Burn-rate alerts firing now: severity page (fast burn, wake someone) or ticket (slow burn), and the "
        "budget-exhausted alert where it is enabled (alerting.budgetExhausted).",
        [Query(_alerts(BURN_ALERT, EXHAUSTED_ALERT), table=True)],
    )
    burn = (
        time_panel(
            "Burn rate by window",
            "How fast each SLO spends its error budget over each alert window (1 = exactly the budget over "
            "the SLO window; pages start at 14.4 over 1h and 6 over 6h).",
            [Query(f"{s.SLO_BURN_RATE}{SERVICES}", "{{namespace}}/{{slo}} {{window}}")],
        )
        .thresholds(thresholds((None, "green"), (1, "orange"), (6, "red"), (14.4, "dark-red")))
        .thresholds_style(GraphThresholdsStyleConfig().mode(GraphTresholdsStyleMode.DASHED))
    )
    exhaustion = stat_panel(
        "Time to exhaustion",
        "At the 1h burn rate, time until the error budget is spent (no value: nothing burns or nothing is left).",
        [Query(f"{s.SLO_TIME_TO_EXHAUSTION}{SERVICES}", SLO_LEGEND, instant=True)],
        "s",
    ).thresholds(thresholds((None, "red"), (DAY, "orange"), (7 * DAY, "green")))
    remaining = stat_panel(
        "Error budget remaining",
        "Share of the error budget left over the SLO window (negative: overspent).",
        [Query(f"{s.SLO_BUDGET_REMAINING}{SERVICES}", SLO_LEGEND, instant=True)],
        "percentunit",
    ).thresholds(thresholds((None, "red"), (0.1, "orange"), (0.25, "green")))
    no_data = table_panel(
        "SLOs without data",
        "The no-data alert firing (the SLI's series have been missing for alerting.noDataFor), and SLOs the "
        "operator could not measure (state Unknown).",
        [
            Query(_alerts(ABSENT_ALERT), table=True),
            Query(f'{s.SLO_STATE}{{{SERVICES.strip("{}")}, state="Unknown"}} == 1', table=True),
        ],
    )
    return [
        grid.place(firing, 24, 7),
        grid.place(burn, 24, 10),
        grid.place(exhaustion, 12, 7),
        grid.place(remaining, 12, 7),
        grid.place(no_data, 24, 7),
    ]


def on_call() -> dict[str, Any]:
    """The on-call dashboard as Grafana JSON."""
    grid = Grid()
    builder = base(
        "OKR on-call",
        UID,
        "Error budget burn of every SLO: firing alerts, burn rate per window, time to exhaustion, no data.",
        "30s",
    ).time("now-6h", "now")
    for variable in variables():
        builder.with_variable(variable)
    for item in event_annotations(SERVICES):
        builder.annotation(item)
    for panel in _panels(grid):
        add(builder, panel)
    return to_json(builder)
