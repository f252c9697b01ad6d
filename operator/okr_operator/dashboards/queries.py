"""Every query a dashboard sends, as Grafana sends it: variables expanded the way Grafana's Prometheus data
source expands them (several values regex-escaped and joined with ``|``; All as the variable's allValue).

The tests run each of them against a real Prometheus; ``okrctl dashboards`` does not need this.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class PanelQuery:
    """One target of one panel (or one annotation: ``panel`` is then the annotation's name)."""

    dashboard: str
    panel: str
    ref: str
    expr: str
    instant: bool


def panel_queries(dashboard: Mapping[str, Any]) -> Iterator[PanelQuery]:
    """Every panel target (rows included) and every annotation query of a dashboard's JSON."""
    uid = str(dashboard.get("uid"))
    stack = list(dashboard.get("panels") or [])
    while stack:
        panel = stack.pop(0)
        stack[:0] = panel.get("panels") or []
        for target in panel.get("targets") or []:
            yield PanelQuery(uid, panel["title"], target["refId"], target["expr"], bool(target.get("instant")))
    for item in (dashboard.get("annotations") or {}).get("list") or []:
        if item.get("expr"):
            yield PanelQuery(uid, item["name"], "annotation", item["expr"], False)


def _format(values: Sequence[str], all_value: str) -> str:
    if list(values) == ["$__all"]:
        return all_value
    # a regex escape inside a PromQL string: a.b -> a\\.b in the query text (Grafana does the same)
    escaped = [re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate(expr: str, dashboard: Mapping[str, Any], chosen: Mapping[str, Sequence[str]] | None = None) -> str:
    """``expr`` with the dashboard's variables replaced: ``chosen`` values, else each variable's current one."""
    variables = {v["name"]: v for v in (dashboard.get("templating") or {}).get("list") or []}

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        variable = variables.get(name)
        if variable is None:
            return match.group(0)  # Grafana's own ($__interval...) or not a variable
        picked = (chosen or {}).get(name)
        if picked is None:
            current = (variable.get("current") or {}).get("value") or ["$__all"]
            picked = [current] if isinstance(current, str) else current
        return _format(picked, variable.get("allValue") or ".*")

    return _VARIABLE.sub(value, expr)
