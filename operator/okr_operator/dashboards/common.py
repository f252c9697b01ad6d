"""What every dashboard shares: selectors of the variables, the annotations, tags, links and the JSON encoding."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DashboardCursorSync, DashboardLinkType

from ..slo.rules import BURN_ALERT
from .panels import annotation

TAGS = ["okr", "okr-operator"]
NS = 'namespace=~"$namespace"'
OBJECTIVES = f'{{{NS}, objective=~"$objective"}}'
SERVICES = f'{{{NS}, service=~"$service"}}'

# Argo Rollouts' controller metrics: rollout_info{namespace, name, strategy, traffic_router, phase} is 1 for
# each rollout's current phase; a rollout in progress (or paused at a canary step) is a deployment underway.


def deployments(namespace: str = NS) -> str:
    return f'max by (namespace, name) (rollout_info{{{namespace}, phase=~"Progressing|Paused"}})'


def incidents(selector: str) -> str:
    """Page alerts firing: the incidents (the ALERTS series of our burn-rate rule, severity page)."""
    inner = selector.strip("{}")
    return f'ALERTS{{alertname="{BURN_ALERT}", severity="page", alertstate="firing", {inner}}}'


def event_annotations(selector: str, namespace: str = NS) -> list[dashboard.AnnotationQuery]:
    """Deployments in ``namespace`` (a matcher) and incidents of the alerts ``selector`` matches."""
    return [
        annotation("Deployments (Argo Rollouts)", deployments(namespace), "blue"),
        annotation("Incidents (firing page alerts)", incidents(selector), "red"),
    ]


def base(title: str, uid: str, description: str, refresh: str) -> dashboard.Dashboard:
    """A dashboard with our tags, read-only, a link menu to the other okr dashboards, shared crosshair."""
    links = (
        dashboard.DashboardLink("OKR dashboards")
        .type(DashboardLinkType.DASHBOARDS)
        .tags(["okr"])
        .as_dropdown(True)
        .include_vars(True)
        .keep_time(True)
    )
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .readonly()
        .refresh(refresh)
        .timezone("browser")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .link(links)
    )


def to_json(builder: dashboard.Dashboard) -> dict[str, Any]:
    """The dashboard as plain JSON data (what Grafana imports)."""
    return json.loads(JSONEncoder(sort_keys=True).encode(builder.build()))


def add(builder: dashboard.Dashboard, panel: Any) -> None:
    """Add a panel or a row header."""
    if isinstance(panel, dashboard.Row):
        builder.with_row(panel)
    else:
        builder.with_panel(panel)
