"""``--sli-source auto``: the long SLO windows from our 10-minute tiles where they cover them, raw elsewhere.

* Windows longer than a day (3d, the SLO window) read the tiles plus raw spans at their ends
  (``slo.tiles``): cheap once the tiles cover the window, and the raw figure before that (the head before the
  first tile is a raw span), so an SLO created a minute ago gets exactly the raw figures.
* Windows up to a day (the burn-rate windows 5m..1d) are raw queries: together they read about 4% of what
  the long windows read raw, and a rate over the window itself is what any other estimate is compared with
  (sums of 5m recordings or tiles attribute the seconds around a jump in the error rate to one side or the
  other, which over a short window is a visible share of its budget: docs/performance.md).
* Everything else is raw too: SLOs without tiles (rules not loaded, a Prometheus without our rules),
  indicators whose spans do not add up, grouped SLOs (``indicator.groupBy``: one series per group, groups
  come and go), and windows with maintenance left out of the budget.

What the tiles cover is learned from Prometheus with queries whose number does not depend on the SLO count:
every cycle the newest tile of every SLO (one subquery over the last 20 minutes); once per SLO (and whenever
its indicator or longest window changes) how far back its tiles go. :class:`Coverage` keeps that for the life
of the operator; a fresh one (okrctl evaluate) asks again. Tiles are assumed back to back since the first: a
Prometheus outage leaves its minutes out of the long windows (they are raw-exact otherwise).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from ..api.identity import Entry
from ..maintenance.schedule import Interval
from ..prometheus.types import PrometheusError, finite
from ..slo.exclusion import excluded_ratio
from ..slo.expressions import recorded_ratio
from ..slo.tiles import (
    TILE_MS,
    TOTAL_TILE,
    RawTemplate,
    Span,
    indicator_hash,
    spans_ratio,
    tile_selector,
    tiled,
    usable_tile_end,
    window_spans,
)
from .batch import Answer, Key, Printed, QueryFn, run

# How far back the newest tile is looked for (two tile intervals: one tile may be late).
NEWEST_TILE_LOOKBACK = "20m"


@dataclass
class Coverage:
    """What earlier cycles learned about each SLO's recordings (kept for the life of the operator)."""

    # (SLO, indicator hash, longest tiled window in ms) -> end of its first tile (ms), None: no tiles
    tiles_since: dict[tuple[Key, str, int], int | None] = field(default_factory=dict)


_TEMPLATES: dict[str, tuple[RawTemplate, str] | None] = {}
_TEMPLATES_MAX = 65536


def template_of(e: Entry) -> tuple[RawTemplate, str] | None:
    """The SLO's raw span template and indicator hash (None: its spans do not add up), printed once per
    indicator definition."""
    spec = e.model.spec
    if spec.indicator.group_by:
        return None
    key = spec.indicator.model_dump_json()
    if key not in _TEMPLATES:
        if len(_TEMPLATES) >= _TEMPLATES_MAX:
            _TEMPLATES.clear()
        template = RawTemplate.of(spec)
        _TEMPLATES[key] = (template, indicator_hash(spec)) if template is not None else None
    return _TEMPLATES[key]


@dataclass
class _Slo:
    entry: Entry
    windows: dict[str, str]  # label -> range
    template: RawTemplate | None
    indicator: str = ""
    tile_end: int | None = None  # newest usable tile end (ms)


_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def _ms(rng: str) -> int:
    """Milliseconds in a single-unit PromQL range such as ``5m`` or ``2073600s``."""
    return int(rng[:-1]) * _UNIT_MS[rng[-1]]


def newest_tiles(query: QueryFn, now: int) -> dict[tuple[str, str, str], int] | PrometheusError:
    """(namespace, slo, indicator) -> end of the newest tile (ms) of every SLO with tiles."""
    expr = f"max_over_time(timestamp({TOTAL_TILE})[{NEWEST_TILE_LOOKBACK}:1m])"
    answer = run(query, expr, namespace_label="namespace", name_label="slo")
    if answer.error is not None:
        return answer.error
    out: dict[tuple[str, str, str], int] = {}
    for (ns, name), samples in answer.values.items():
        for s in samples:
            if s.value is not None and finite(s.value) is not None:
                out[(ns, name, s.labels.get("indicator", ""))] = round(float(s.value) * 1000)
    return out


def _learn_tiles(query: QueryFn, slos: list[_Slo], coverage: Coverage, now: int) -> None:
    """How far back the tiles of the SLOs not yet known go (one query for all of them)."""
    parts = []
    for s in slos:
        longest = max((_ms(r) for r in s.windows.values() if tiled(_ms(r) // 1000)), default=0)
        key = (s.entry.ref.key, s.indicator, longest)
        if s.tile_end is None or key in coverage.tiles_since:
            continue
        ns, name = s.entry.ref.key
        sel = tile_selector(name, ns, s.indicator)
        rng = f"[{longest + TILE_MS}ms] @ {s.tile_end / 1000:.3f}"
        parts.append((s, key, f"count_over_time({TOTAL_TILE}{sel}{rng})"))
    if not parts:
        return
    answer = run(query, "\nor\n".join(p[2] for p in parts), namespace_label="namespace", name_label="slo")
    if answer.error is not None:
        return  # not learned: raw this cycle, asked again next cycle
    for s, key, _expr in parts:
        values = [finite(v.value) for v in answer.of(s.entry.ref.key) if v.labels.get("indicator") == s.indicator]
        count = int(values[0]) if values and values[0] else 0
        assert s.tile_end is not None
        coverage.tiles_since[key] = s.tile_end - (count - 1) * TILE_MS if count > 0 else None


def _excluded(e: Entry, rng: str, now: datetime, maintenance: dict, extra_ms: int) -> bool:
    """Maintenance left out of the budget touches the window (or the recordings just before it)."""
    seconds = (_ms(rng) + extra_ms) // 1000
    return excluded_ratio(e.model.spec, seconds, maintenance.get(e.ref, ()), now) is not None


def plan_sources(
    query: QueryFn,
    entries: list[Entry],
    plan: dict,
    now: datetime,
    maintenance: dict[object, list[Interval]],
    coverage: Coverage,
) -> tuple[dict[str, list[tuple[Key, Printed]]], list[tuple[Entry, str]]]:
    """Per range, the SLOs' tile expressions; and the (SLO, range) pairs left to raw queries."""
    now_ms = round(now.timestamp() * 1000)
    slos = []
    for e in entries:
        found = template_of(e)
        slos.append(_Slo(e, plan[e.ref], found[0] if found else None, found[1] if found else ""))
    newest: dict | PrometheusError = {}
    if any(s.template is not None and any(tiled(_ms(r) // 1000) for r in s.windows.values()) for s in slos):
        newest = newest_tiles(query, now_ms)
    for s in slos:
        if s.template is not None and isinstance(newest, dict):
            last = newest.get((*s.entry.ref.key, s.indicator))
            s.tile_end = usable_tile_end(last, now_ms) if last is not None else None
    _learn_tiles(query, slos, coverage, now_ms)
    tiles: dict[str, list[tuple[Key, Printed]]] = defaultdict(list)
    raw: list[tuple[Entry, str]] = []
    for s in slos:
        e = s.entry
        for rng in sorted(set(s.windows.values())):
            ms = _ms(rng)
            cheap = tiled(ms // 1000) and not e.model.spec.indicator.group_by
            if (
                cheap
                and not _excluded(e, rng, now, maintenance, TILE_MS)
                and (expr := _tiled_expr(s, coverage, now_ms, ms))
            ):
                tiles[rng].append((e.ref.key, Printed(expr)))
            else:
                raw.append((e, rng))
    return tiles, raw


def _tiled_expr(s: _Slo, coverage: Coverage, now: int, ms: int) -> str | None:
    if s.template is None or s.tile_end is None:
        return None
    longest = max((_ms(r) for r in s.windows.values() if tiled(_ms(r) // 1000)), default=0)
    since = coverage.tiles_since.get((s.entry.ref.key, s.indicator, longest))
    spans: list[Span] = window_spans(now - ms, now, s.tile_end, since)
    if not any(sp.tiles for sp in spans):
        return None
    ns, name = s.entry.ref.key
    return spans_ratio(s.template, spans, tile_selector(name, ns, s.indicator))


def run_recorded(query: QueryFn, rng: str) -> Answer:
    """Every SLO's error ratio over ``rng`` from the 5m recordings (one query text whatever the SLO count)."""
    return run(query, recorded_ratio(rng), namespace_label="namespace", name_label="slo")
