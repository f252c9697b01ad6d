"""The web view's one page, rendered on the server: HTML and inline SVG, no JavaScript.

``render_page(objects, now=...)`` takes the Objectives, KeyResults and ServiceLevelObjectives as the API lists
them and returns the page. Everything taken from the objects is HTML-escaped. States are words with a symbol
(never only a colour); every picture has a text title; the page reloads itself every ``refresh`` seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from ..tree import KeyResultNode, Node, build_forest, fmt_number
from .model import SLOView, key_of, plain_conditions, slo_views, trend
from .style import CSS
from .svg import budget_bar, pct, progress_bar, sparkline

SYMBOL = {
    "OnTrack": "✓",
    "Achieved": "★",
    "Healthy": "✓",
    "AtRisk": "!",
    "Warning": "!",
    "OffTrack": "✗",
    "Missed": "✗",
    "Critical": "✗",
    "Exhausted": "✗",
    "Unknown": "?",
}


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def state_badge(state: str | None) -> str:
    word = state or "not evaluated"
    css = state or "none"
    return f'<span class="state state-{_e(css)}">{_e(SYMBOL.get(word, "·"))} {_e(word)}</span>'


def _conditions(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{_e(line)}</li>" for line in lines)
    return f'<ul class="conditions" aria-label="Problems">{items}</ul>'


def _value_text(kr: KeyResultNode) -> str:
    unit = "" if not kr.unit else kr.unit if kr.unit == "%" else f" {kr.unit}"
    current = "no value yet" if kr.current is None else f"{fmt_number(kr.current)}{unit}"
    if kr.direction == "maintain":
        bounds = " to ".join(fmt_number(b) for b in (kr.minimum, kr.maximum) if b is not None)
        goal = f"keep within {bounds}{unit}" if kr.minimum is not None and kr.maximum is not None else ""
        goal = goal or (f"at most {fmt_number(kr.maximum)}{unit}" if kr.maximum is not None else "")
        goal = goal or f"at least {fmt_number(kr.minimum)}{unit}"
    elif kr.direction == "boolean":
        goal = "done or not"
    else:
        goal = f"target {fmt_number(kr.target)}{unit}"
    return f"{current} ({goal})"


def _key_result(kr: KeyResultNode, bodies: Mapping[tuple[str, str, str], Mapping[str, Any]], now: datetime) -> str:
    body = bodies.get(("KeyResult", kr.namespace, kr.name), {})
    status = body.get("status") or {}
    objective_ref = ((body.get("spec") or {}).get("objectiveRef") or {}).get("name", "")
    objective = bodies.get(("Objective", kr.namespace, objective_ref))
    expected = status.get("expected")
    expected = float(expected) if isinstance(expected, int | float) and not isinstance(expected, bool) else None
    shown = trend(body, objective, now)
    spark = sparkline(shown.points, shown.pace, shown.now, shown.period) if shown else ""
    extra = []
    if isinstance(status.get("confidence"), int | float):
        extra.append(f"confidence {pct(status['confidence'])}")
    forecast = (status.get("forecast") or {}).get("progress")
    if isinstance(forecast, int | float):
        extra.append(f"forecast {pct(forecast)} by the end of the period")
    return (
        f'<li class="key-result" data-kind="KeyResult" data-namespace="{_e(kr.namespace)}" data-name="{_e(kr.name)}"'
        f' data-progress="{_e(kr.progress if kr.progress is not None else "")}">'
        f'<div class="line"><span class="title">{_e(kr.description or kr.name)}</span>'
        f'<span class="name">{_e(kr.name)}</span></div>'
        f'<div class="line figures">{progress_bar(kr.progress, expected)}'
        f'<span class="progress">{pct(kr.progress)}</span>'
        f'<span class="score">score {_e(fmt_number(kr.score)) if kr.score is not None else "n/a"}</span>'
        f"{state_badge(kr.state)}{spark}</div>"
        f'<div class="line detail">{_e(_value_text(kr))}{"; " + _e("; ".join(extra)) if extra else ""}</div>'
        f"{_conditions(plain_conditions(status))}</li>"
    )


def _objective(node: Node, bodies: Mapping[tuple[str, str, str], Mapping[str, Any]], now: datetime) -> str:
    status = (bodies.get(("Objective", node.namespace, node.name)) or {}).get("status") or {}
    title = node.title or ("objective not found" if node.missing else node.name)
    meta = " · ".join(x for x in (f"owner {node.owner}" if node.owner else "", node.period) if x)
    krs = "".join(_key_result(kr, bodies, now) for kr in node.key_results)
    children = "".join(_objective(child, bodies, now) for child in node.children)
    notes = plain_conditions(status)
    if node.cycle:
        notes.append("Its parentRef chain loops back to itself")
    return (
        f'<li class="objective" data-kind="Objective" data-namespace="{_e(node.namespace)}" '
        f'data-name="{_e(node.name)}" data-progress="{_e(node.progress if node.progress is not None else "")}">'
        f'<div class="line"><h3 class="title">{_e(title)}</h3>'
        f'<span class="name">{_e(node.namespace)}/{_e(node.name)}</span></div>'
        f'<div class="line figures">{progress_bar(node.progress, node.expected)}'
        f'<span class="progress">{pct(node.progress)}</span>'
        f'<span class="score">score {_e(fmt_number(node.score)) if node.score is not None else "n/a"}</span>'
        f"{state_badge(node.state)}</div>"
        f"{f'<div class=line detail>{_e(meta)}</div>' if meta else ''}{_conditions(notes)}"
        f"{f'<ul class=key-results>{krs}</ul>' if krs else ''}"
        f"{f'<ul class=objectives>{children}</ul>' if children else ''}</li>"
    )


def _slo_row(slo: SLOView) -> str:
    rates = ", ".join(f"{_e(w)} {r:.2f}x" for w, r in slo.burn_rates) or "none measured"
    target = f"{fmt_number(slo.target)}%" if slo.target is not None else "n/a"
    sli = f"{slo.sli:.3f}%" if slo.sli is not None else "no data"
    alerts = ", ".join(_e(a) for a in slo.alerts) or "none"
    remaining = "no data" if slo.remaining is None else pct(slo.remaining)
    if slo.remaining is not None and slo.remaining < 0:
        remaining = f"overspent by {pct(-slo.remaining)}"
    gone = slo.time_to_exhaustion or (
        "already spent" if slo.remaining is not None and slo.remaining <= 0 else "not burning"
    )
    return (
        f'<tr class="slo" data-namespace="{_e(slo.namespace)}" data-name="{_e(slo.name)}" '
        f'data-budget-remaining="{_e(slo.remaining if slo.remaining is not None else "")}">'
        f'<th scope="row"><span class="title">{_e(slo.description or slo.name)}</span>'
        f'<span class="name">{_e(slo.namespace)}/{_e(slo.name)} · {_e(slo.service)}</span>'
        f"{_conditions(slo.conditions)}</th>"
        f"<td>{_e(sli)} <span class=muted>target {_e(target)} over {_e(slo.window)}</span></td>"
        f'<td>{budget_bar(slo.remaining)} <span class="budget-left">{_e(remaining)}</span></td>'
        f"<td>{rates}</td><td>{_e(gone)}</td>"
        f"<td>{state_badge(slo.state)}</td><td>{alerts}</td></tr>"
    )


def _slo_table(slos: list[SLOView]) -> str:
    if not slos:
        return "<p>No service level objectives.</p>"
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("SLO", "SLI", "Error budget left", "Burn rate by window", "Budget gone in", "State", "Firing")
    )
    rows = "".join(_slo_row(s) for s in slos)
    return f'<table class="slos"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _nav(namespaces: Sequence[str], selected: str | None) -> str:
    links = [f'<a href="./"{" aria-current=page" if selected is None else ""}>all</a>']
    for ns in namespaces:
        current = " aria-current=page" if ns == selected else ""
        links.append(f'<a href="./?namespace={quote(ns)}"{current}>{_e(ns)}</a>')
    return f'<nav aria-label="Namespaces">Namespaces: {" ".join(links)}</nav>'


def render_page(
    objects: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    refresh: int = 30,
    namespace: str | None = None,
    title: str = "okr-operator",
) -> str:
    """The whole page for ``objects`` (only ``namespace``'s when given)."""
    everything = list(objects)
    namespaces = sorted({key_of(o)[1] for o in everything})
    shown = [o for o in everything if namespace is None or key_of(o)[1] == namespace]
    bodies = {key_of(o): o for o in shown}
    by_kind = {k: [o for o in shown if o.get("kind") == k] for k in ("Objective", "KeyResult", "ServiceLevelObjective")}
    forest = build_forest(by_kind["Objective"], by_kind["KeyResult"], by_kind["ServiceLevelObjective"])
    tree = "".join(_objective(node, bodies, now) for node in forest) or "<li>No objectives.</li>"
    stamp = now.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{int(refresh)}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}: objectives and error budgets</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_e(title)}: objectives and error budgets</h1>"
        f'<p class="muted">As of <time datetime="{now.isoformat()}">{stamp}</time>; this page reloads every '
        f"{int(refresh)} s. Read-only.</p>{_nav(namespaces, namespace)}</header><main>"
        f'<section aria-labelledby="h-objectives"><h2 id="h-objectives">Objectives</h2>'
        f'<p class="legend muted">Bars: progress; the tick is the progress expected by now. Sparklines: progress '
        f"over the period (solid) against the expected pace (dashed); the vertical line is today.</p>"
        f'<ul class="objectives tree">{tree}</ul></section>'
        f'<section aria-labelledby="h-slos"><h2 id="h-slos">Service level objectives</h2>'
        f"{_slo_table(slo_views(by_kind['ServiceLevelObjective']))}</section></main></body></html>"
    )
