"""The debug dashboard of one SLO: its recording series, each alert window's error ratio against the alert's
threshold, the raw indicator queries the recording rules evaluate, and what the operator computed.

One dashboard per SLO (the raw queries are the SLO's own PromQL, which no variable can select). The uid is
``okr-debug-`` and a hash of namespace/name: stable, and within Grafana's 40 characters for any name.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .. import series_names as s
from ..api.common import parse_duration
from ..api.slo import ServiceLevelObjective
from ..promtext import number, quote
from ..slo.budget import budget_fraction
from ..slo.expressions import ERRORS_RECORD, TOTAL_RECORD, identity_selector, raw_errors, raw_total, recorded_ratio
from ..slo.windows import BASE_WINDOW, burn_rate_conditions
from .common import add, base, event_annotations, to_json
from .panels import Grid, Query, datasource_variable, stat_panel, time_panel


def debug_uid(slo: ServiceLevelObjective) -> str:
    key = f"{slo.metadata.namespace or 'default'}/{slo.metadata.name}"
    return "okr-debug-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def _indicator(grid: Grid, slo: ServiceLevelObjective, selector: str) -> list[Any]:
    recorded = time_panel(
        "Recording series",
        f"The two series the generated rules record: {ERRORS_RECORD} (bad events/s) and {TOTAL_RECORD} (events/s).",
        [
            Query(f"{ERRORS_RECORD}{selector}", "errors/s (recorded)"),
            Query(f"{TOTAL_RECORD}{selector}", "events/s (recorded)"),
        ],
    )
    raw = time_panel(
        "Raw indicator queries",
        f"The SLO's own indicator over {BASE_WINDOW}, as the recording rules evaluate it: should match the "
        "recording series once the rules are loaded.",
        [
            Query(raw_errors(slo.spec, BASE_WINDOW), "errors/s (raw)"),
            Query(raw_total(slo.spec, BASE_WINDOW), "events/s (raw)"),
        ],
    )
    return [grid.row("Indicator"), grid.place(recorded, 12, 9), grid.place(raw, 12, 9)]


def _windows(grid: Grid, slo: ServiceLevelObjective, selector: str) -> list[Any]:
    budget = budget_fraction(slo.spec.target)
    conditions = burn_rate_conditions(slo.spec)
    windows = sorted({w for c in conditions for w in (c.long, c.short)}, key=parse_duration)
    queries = [Query(recorded_ratio(w, selector), f"error ratio {w}") for w in windows]
    for c in conditions:
        queries.append(
            Query(
                f"vector({number(c.factor * budget)})",
                f"{c.severity} threshold {c.long}/{c.short} ({number(c.factor)}x)",
            )
        )
    ratios = time_panel(
        "Error ratio per alert window",
        "Each alert window's error ratio from the recording series, and each alert condition's threshold "
        "(burn-rate factor x error budget): an alert fires when both of its windows are above its threshold.",
        queries,
        "percentunit",
    )
    rates = time_panel(
        "Burn rate per window (operator)",
        "The burn rates the operator wrote into the status (1 = exactly the budget over the SLO window).",
        [Query(f"{s.SLO_BURN_RATE}{selector}", "{{window}}")],
    )
    ident = selector.strip("{}")
    sli = stat_panel(
        "SLI and target",
        "Share of good events over the SLO window (operator) against the target.",
        [
            Query(f"{s.SLO_SLI}{selector}", "SLI", instant=True),
            Query(f"{s.SLO_TARGET}{{{ident}}}", "target", instant=True),
        ],
        "percentunit",
    )
    return [grid.row("Alert windows"), grid.place(ratios, 24, 10), grid.place(rates, 16, 8), grid.place(sli, 8, 8)]


def debug(slo: ServiceLevelObjective) -> dict[str, Any]:
    """The debug dashboard of ``slo`` as Grafana JSON."""
    namespace = slo.metadata.namespace or "default"
    selector = identity_selector(slo.metadata.name, namespace)
    grid = Grid()
    builder = base(
        f"OKR debug: {namespace}/{slo.metadata.name}",
        debug_uid(slo),
        f"Recording series, alert windows and raw indicator queries of SLO {namespace}/{slo.metadata.name} "
        f"({slo.spec.service}, {number(slo.spec.target)}% over {slo.spec.window}).",
        "30s",
    ).time("now-6h", "now")
    builder.with_variable(datasource_variable())
    for item in event_annotations(selector, namespace=f"namespace={quote(namespace)}"):
        builder.annotation(item)
    for panel in [*_indicator(grid, slo, selector), *_windows(grid, slo, selector)]:
        add(builder, panel)
    return to_json(builder)
