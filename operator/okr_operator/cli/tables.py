"""Readable tables of okr.dev statuses (okrctl evaluate -o table)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

STATE_STYLE = {
    "OnTrack": "green",
    "Achieved": "bold green",
    "Healthy": "green",
    "AtRisk": "yellow",
    "Warning": "yellow",
    "OffTrack": "red",
    "Missed": "red",
    "Critical": "bold red",
    "Exhausted": "bold red",
    "Unknown": "dim",
}


def _num(value: Any, fmt: str = "{:g}") -> str:
    return "" if value is None else fmt.format(value)


def _state(status: dict[str, Any]) -> str:
    state = status.get("state") or ""
    style = STATE_STYLE.get(state, "")
    return f"[{style}]{state}[/]" if style else state


def _problem(status: dict[str, Any]) -> str:
    for cond in status.get("conditions") or []:
        if cond.get("type") in ("Valid", "MetricsAvailable") and cond.get("status") == "False":
            return f"{cond['reason']}: {cond.get('message', '')}"
    return ""


def status_tables(objects: list[dict[str, Any]], console: Console | None = None) -> None:
    """One table per kind, in the columns `kubectl get` shows, plus what is wrong when something is."""
    console = console or Console()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    specs = {
        "Objective": (
            ["NAMESPACE", "NAME", "PROGRESS", "SCORE", "EXPECTED", "FINAL", "STATE"],
            lambda s: [
                _num(s.get("progress"), "{:.0%}"),
                _num(s.get("score")),
                _num(s.get("expected"), "{:.0%}"),
                _num((s.get("final") or {}).get("score")),
            ],
        ),
        "KeyResult": (
            ["NAMESPACE", "NAME", "CURRENT", "PROGRESS", "EXPECTED", "FINAL", "STATE"],
            lambda s: [
                _num(s.get("current")),
                _num(s.get("progress"), "{:.0%}"),
                _num(s.get("expected"), "{:.0%}"),
                _num((s.get("final") or {}).get("score")),
            ],
        ),
        "ServiceLevelObjective": (
            ["NAMESPACE", "NAME", "SLI", "BUDGET-LEFT", "BURN-1H", "STATE"],
            lambda s: [
                _num(s.get("sli"), "{:.3f}%"),
                _num((s.get("errorBudget") or {}).get("remaining"), "{:.0%}"),
                _num((s.get("burnRates") or {}).get("1h"), "{:.2f}x"),
            ],
        ),
    }
    for kind in ("Objective", "KeyResult", "ServiceLevelObjective"):
        items = by_kind.get(kind)
        if not items:
            continue
        headers, cells = specs[kind]
        table = Table(title=kind, title_justify="left", show_edge=False)
        for header in [*headers, "PROBLEM"]:
            table.add_column(header, overflow="fold")
        for obj in items:
            status = obj.get("status") or {}
            meta = obj["metadata"]
            table.add_row(meta["namespace"], meta["name"], *cells(status), _state(status), _problem(status))
        console.print(table)
