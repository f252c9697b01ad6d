"""Grafana dashboards of the okr-operator, built with grafana-foundation-sdk (Grafana's own Python SDK).

Pure: the dashboards are functions of the given SLO models, no network.

* ``okr-executive``: objective progress and score, key results against their expected pace, key results
  AtRisk/OffTrack and with low confidence, key results that measure cost, error budget by SLO.
* ``okr-on-call``: firing SLO alerts, burn rate by window, time to exhaustion, SLOs without data.
* ``okr-debug-<hash>``: one per SLO: recording series, each alert window's ratio, the raw indicator queries.

Executive and on-call read only the operator's status series (``series.py``) and ALERTS, so they are the
same for any manifests; the chart and the kustomize component ship those two.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..api.slo import ServiceLevelObjective
from .debug import debug, debug_uid
from .executive import executive
from .oncall import on_call

__all__ = ["dashboard_text", "debug_uid", "render_dashboards"]


def render_dashboards(slos: Iterable[ServiceLevelObjective] = ()) -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON: executive, on-call, and a debug dashboard per SLO."""
    out = {"okr-executive.json": executive(), "okr-on-call.json": on_call()}
    for slo in sorted(slos, key=lambda x: (x.metadata.namespace or "default", x.metadata.name)):
        out[f"okr-debug.{slo.metadata.namespace or 'default'}.{slo.metadata.name}.json"] = debug(slo)
    return out


def dashboard_text(data: dict[str, Any]) -> str:
    """The JSON text of a dashboard file: sorted keys, two-space indent, final newline (stable diffs)."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
