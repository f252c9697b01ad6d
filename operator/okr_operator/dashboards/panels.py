"""Panel, query, variable and annotation builders shared by the dashboards (grafana-foundation-sdk).

Every panel reads the data source chosen in the ``datasource`` variable. ``Grid`` gives panels stable
ids and positions in reading order, so the generated JSON only changes when the dashboards do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grafana_foundation_sdk.builders import bargauge, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions
from grafana_foundation_sdk.models.common import BigValueColorMode, LegendDisplayMode, LegendPlacement, VizOrientation
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DataTransformerConfig,
    GridPos,
    Threshold,
    ThresholdsMode,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
GRID_WIDTH = 24


@dataclass(frozen=True)
class Query:
    """One panel query: PromQL, its legend, and whether Grafana asks for one instant or a range."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False


@dataclass
class Grid:
    """Places panels left to right, top to bottom, and numbers them."""

    x: int = 0
    y: int = 0
    row_height: int = 0
    next_id: int = 1
    rows: list[Any] = field(default_factory=list)

    def place(self, panel: Any, width: int, height: int) -> Any:
        if self.x + width > GRID_WIDTH:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        panel.id(self.next_id).grid_pos(GridPos(h=height, w=width, x=self.x, y=self.y))
        self.next_id += 1
        self.x += width
        self.row_height = max(self.row_height, height)
        return panel

    def row(self, title: str) -> dashboard.Row:
        """A row header on a line of its own."""
        if self.x:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        row = dashboard.Row(title).id(self.next_id).grid_pos(GridPos(h=1, w=GRID_WIDTH, x=0, y=self.y))
        self.next_id += 1
        self.y += 1
        return row


def _target(query: Query, ref: str) -> prometheus.Dataquery:
    target = prometheus.Dataquery().expr(query.expr).ref_id(ref).datasource(DATASOURCE)
    if query.legend:
        target.legend_format(query.legend)
    if query.table:
        target.format(PromQueryFormat.TABLE)
    return target.instant() if query.instant or query.table else target.range()


def _common(panel: Any, title: str, description: str, queries: Sequence[Query]) -> Any:
    panel.title(title).description(description).datasource(DATASOURCE)
    for index, query in enumerate(queries):
        panel.with_target(_target(query, chr(ord("A") + index)))
    return panel


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    """Absolute thresholds: (None, base colour) first, then (value, colour from that value up)."""
    return (
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=color) for value, color in steps])
    )


def _last() -> ReduceDataOptions:
    return ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def stat_panel(title: str, description: str, queries: Sequence[Query], unit: str = "none") -> stat.Panel:
    panel = _common(stat.Panel(), title, description, queries)
    return panel.unit(unit).reduce_options(_last()).color_mode(BigValueColorMode.VALUE)


def bar_panel(
    title: str, description: str, queries: Sequence[Query], unit: str, *, min_value: float, max_value: float
) -> bargauge.Panel:
    panel = _common(bargauge.Panel(), title, description, queries)
    panel.unit(unit).min(min_value).max(max_value).reduce_options(_last())
    return panel.orientation(VizOrientation.HORIZONTAL)


def table_panel(title: str, description: str, queries: Sequence[Query], unit: str = "none") -> table.Panel:
    """A table of instant query results: one line per series, labels as columns (no time or metric name)."""
    panel = _common(table.Panel(), title, description, queries)
    hide = DataTransformerConfig(id_val="organize", options={"excludeByName": {"Time": True, "__name__": True}})
    return panel.unit(unit).with_transformation(hide)


def time_panel(title: str, description: str, queries: Sequence[Query], unit: str = "none") -> timeseries.Panel:
    panel = _common(timeseries.Panel(), title, description, queries)
    legend = (
        VizLegendOptions()
        .display_mode(LegendDisplayMode.TABLE)
        .placement(LegendPlacement.BOTTOM)
        .show_legend(True)
        .calcs(["lastNotNull"])
    )
    return panel.unit(unit).legend(legend)


# ------------------------------------------------------------------------------------ variables


def datasource_variable() -> dashboard.DatasourceVariable:
    return dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus")


def label_variable(name: str, label: str, query: str) -> dashboard.QueryVariable:
    """A multi-value variable of a label's values, with All meaning any value (``.*``)."""
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(VariableOption(selected=True, text=["All"], value=["$__all"]))
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )


def annotation(name: str, expr: str, color: str) -> dashboard.AnnotationQuery:
    """A Prometheus annotation: a region on every panel while ``expr`` returns a series."""
    return dashboard.AnnotationQuery().name(name).datasource(DATASOURCE).enable(True).icon_color(color).expr(expr)
