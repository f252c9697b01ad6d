"""``--sli-source auto``: the long SLO windows from our 10-minute tiles where they cover them, raw elsewhere.

* Windows longer than a day (3d, the SLO window) read the tiles plus raw spans at their ends
  (``slo.tiles``): cheap once the tiles cover the window, and the raw figure before that (the head before the
  first tile is a raw span), so an SLO created a minute ago gets exactly the raw figures.
* Windows from an hour to a day (the burn-rate windows 1h..1d) are a raw head and tail around a middle whose
  counts the operator keeps (``slo.tiles``: cached middles): the cycle that needs a middle reads the window raw
  and asks for the middle's two counts with it (``take_middles`` keeps them); later cycles on the same grid read
  only the ends. Not tiles: a rate over the window itself is what any other estimate is compared with, and
  sums of tiles attribute the seconds around a jump in the error rate to one side or the other at every
  10-minute seam, which over a short window is a visible share of its budget (docs/performance.md); a middle
  adds two seams. Middles need no recordings (a Prometheus without our rules gets them too); they live in the
  operator's memory (after a restart the first cycle reads raw again) and are not re-read when Prometheus's
  data inside them changes later (a backfill, samples arriving late) until the grid moves on. Shorter windows
  (5m, 30m) are raw queries.
* Everything else is raw too: long windows of SLOs without tiles (rules not loaded, a Prometheus without our rules),
  indicators whose spans do not add up, grouped SLOs (``indicator.groupBy``: one series per group, groups
  come and go), and windows with maintenance left out of the budget.

What the tiles cover is learned from Prometheus with one query per cycle whatever the SLO count
(``coverage_expr``): the newest tile of every SLO (a subquery over the last 20 minutes), and, for the SLOs not
yet known (new, or with a changed indicator or longest window), how many tiles they have over their longest
window. :class:`Coverage` keeps that for the life
of the operator; a fresh one (okrctl evaluate) asks again. Tiles are assumed back to back since the first: a
Prometheus outage leaves its minutes out of the long windows (they are raw-exact otherwise).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from ..api.identity import Entry, Ref
from ..maintenance.schedule import Interval
from ..prometheus.types import Sample, finite
from ..slo.exclusion import excluded_ratio
from ..slo.expressions import raw_ratio, recorded_ratio
from ..slo.tiles import (
    MIDDLE_PART_LABEL,
    TILE_MS,
    TOTAL_TILE,
    Middle,
    RawTemplate,
    Span,
    indicator_hash,
    middle_bounds,
    middle_grid_ms,
    middle_ratio,
    middle_request,
    middle_window,
    spans_ratio,
    tile_selector,
    tiled,
    usable_tile_end,
    window_spans,
)
from .batch import Answer, Key, Printed, QueryFn, run, union

# How far back the newest tile is looked for (two tile intervals: one tile may be late).
NEWEST_TILE_LOOKBACK = "20m"


@dataclass
class Coverage:
    """What earlier cycles learned about each SLO's recordings (kept for the life of the operator)."""

    # (SLO, indicator hash, longest tiled window in ms) -> end of its first tile (ms)
    tiles_since: dict[tuple[Key, str, int], int] = field(default_factory=dict)
    # (SLO, indicator hash, range) -> the counts of that window's middle (``slo.tiles``: cached middles)
    middles: dict[tuple[Key, str, str], Middle] = field(default_factory=dict)
    # This cycle's requests for middles: (SLO, range) -> (indicator hash, start, end)
    requested: dict[tuple[Key, str], tuple[str, int, int]] = field(default_factory=dict)


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


def _longest_tiled(s: _Slo) -> int:
    return max((_ms(r) for r in s.windows.values() if tiled(_ms(r) // 1000)), default=0)


def _key(s: _Slo) -> tuple[Key, str, int]:
    return (s.entry.ref.key, s.indicator, _longest_tiled(s))


WHAT_LABEL = "okr_coverage"  # tells the tile counts from the newest-tile times in the one coverage query


def coverage_expr(unknown: list[_Slo]) -> str:
    """One query for what the tiles cover: every SLO's newest tile time, and for each SLO not yet known how
    many tiles it has over its longest window (whose number of queries does not depend on the SLO count)."""
    parts = [f"max_over_time(timestamp({TOTAL_TILE})[{NEWEST_TILE_LOOKBACK}:1m])"]
    for s in unknown:
        ns, name = s.entry.ref.key
        count = f"count_over_time({TOTAL_TILE}{tile_selector(name, ns, s.indicator)}[{_longest_tiled(s) + TILE_MS}ms])"
        parts.append(f'label_replace({count}, "{WHAT_LABEL}", "count", "", "")')
    return union(parts)


def learn(query: QueryFn, slos: list[_Slo], coverage: Coverage, now: int) -> None:
    """Ask the coverage query; set each SLO's newest usable tile end and remember where its tiles begin
    (the newest tile minus the tiles counted, back to back). On an error nothing is known: raw this cycle."""
    unknown = [s for s in slos if _key(s) not in coverage.tiles_since]
    answer = run(query, coverage_expr(unknown), namespace_label="namespace", name_label="slo")
    if answer.error is not None:
        return
    newest: dict[tuple[Key, str], int] = {}
    counts: dict[tuple[Key, str], int] = {}
    for key, samples in answer.values.items():
        for sample in samples:
            value = finite(sample.value) if sample.value is not None else None
            if value is None:
                continue
            into = counts if sample.labels.get(WHAT_LABEL) == "count" else newest
            into[(key, sample.labels.get("indicator", ""))] = round(value * (1 if into is counts else 1000))
    for s in slos:
        last = newest.get((s.entry.ref.key, s.indicator))
        if last is None:
            continue
        s.tile_end = usable_tile_end(last, now)
        count = counts.get((s.entry.ref.key, s.indicator), 0)
        if _key(s) not in coverage.tiles_since and count > 0:
            coverage.tiles_since[_key(s)] = last - (count - 1) * TILE_MS


def _excluded(e: Entry, rng: str, now: datetime, maintenance: dict, extra_ms: int) -> bool:
    """Maintenance left out of the budget touches the window (or the recordings just before it)."""
    seconds = (_ms(rng) + extra_ms) // 1000
    return excluded_ratio(e.model.spec, seconds, maintenance.get(e.ref, ()), now) is not None


def plan_sources(
    query: QueryFn,
    entries: list[Entry],
    plan: dict,
    now: datetime,
    maintenance: dict[Ref, list[Interval]],
    coverage: Coverage,
) -> tuple[dict[str, list[tuple[Key, Printed]]], list[tuple[Entry, str]]]:
    """Per range, the SLOs' tile expressions; and the (SLO, range) pairs left to raw queries."""
    now_ms = round(now.timestamp() * 1000)
    slos = []
    for e in entries:
        found = template_of(e)
        slos.append(_Slo(e, plan[e.ref], found[0] if found else None, found[1] if found else ""))
    tileable = [s for s in slos if s.template is not None and _longest_tiled(s)]
    if tileable:
        learn(query, tileable, coverage, now_ms)
    tiles: dict[str, list[tuple[Key, Printed]]] = defaultdict(list)
    raw: list[tuple[Entry, str]] = []
    coverage.requested.clear()
    kept: dict[tuple[Key, str, str], Middle] = {}
    for s in slos:
        e = s.entry
        for rng in sorted(set(s.windows.values())):
            ms = _ms(rng)
            cheap = (tiled(ms // 1000) or middle_window(ms // 1000)) and not e.model.spec.indicator.group_by
            expr = None
            if cheap and not _excluded(e, rng, now, maintenance, TILE_MS):
                if tiled(ms // 1000):
                    expr = _tiled_expr(s, rng, coverage, now_ms, ms, kept)
                else:
                    expr = _middle_expr(s, rng, coverage, now_ms, ms, kept)
            if expr is not None:
                tiles[rng].append((e.ref.key, Printed(expr)))
            else:
                raw.append((e, rng))
    coverage.middles = kept  # the middles of objects gone, changed or moved on are dropped
    return tiles, raw


def _middle_expr(
    s: _Slo, rng: str, coverage: Coverage, now: int, ms: int, kept: dict[tuple[Key, str, str], Middle]
) -> str | None:
    """The window from the kept middle and raw ends, or (no middle kept for these bounds) the raw window with a
    request for the middle's counts; None when the window is too short for a middle."""
    if s.template is None:
        return None
    bounds = middle_bounds(now - ms, now, middle_grid_ms(ms))
    if bounds is None:
        return None
    key = (s.entry.ref.key, s.indicator, rng)
    middle = coverage.middles.get(key)
    if middle is not None and (middle.start, middle.end) == bounds:
        kept[key] = middle
        return middle_ratio(s.template, now - ms, now, middle)
    coverage.requested[(s.entry.ref.key, rng)] = (s.indicator, *bounds)
    return middle_request(s.template, raw_ratio(s.entry.model.spec, rng), Span(*bounds, tiles=False))


def take_middles(coverage: Coverage, rng: str, answer: Answer) -> None:
    """Keep the middles this cycle asked for in ``rng``'s answer, and leave each SLO the window's ratio only."""
    for key, samples in answer.values.items():
        request = coverage.requested.get((key, rng))
        if request is None:
            continue
        parts = {s.labels.get(MIDDLE_PART_LABEL): s for s in samples}
        errors, total = (finite(parts[p].value) if p in parts else None for p in ("errors", "total"))
        indicator, start, end = request
        if errors is not None and total is not None:
            coverage.middles[(key, indicator, rng)] = Middle(start, end, errors, total)
        window = parts.get("window")
        answer.values[key] = (
            [Sample({k: v for k, v in window.labels.items() if k != MIDDLE_PART_LABEL}, window.value)] if window else []
        )


def _tiled_expr(
    s: _Slo, rng: str, coverage: Coverage, now: int, ms: int, kept: dict[tuple[Key, str, str], Middle]
) -> str | None:
    """Raw head, tiles, raw tail; the tiles' sum from an earlier cycle while the same tiles are in the window
    (else asked for with this cycle's figure)."""
    if s.template is None or s.tile_end is None:
        return None
    since = coverage.tiles_since.get(_key(s))
    spans: list[Span] = window_spans(now - ms, now, s.tile_end, since)
    tiles = next((sp for sp in spans if sp.tiles), None)
    if tiles is None:
        return None
    key = (s.entry.ref.key, s.indicator, rng)
    middle = coverage.middles.get(key)
    if middle is not None and (middle.start, middle.end) == (tiles.start, tiles.end):
        kept[key] = middle
        return middle_ratio(s.template, now - ms, now, middle)
    ns, name = s.entry.ref.key
    selector = tile_selector(name, ns, s.indicator)
    coverage.requested[(s.entry.ref.key, rng)] = (s.indicator, tiles.start, tiles.end)
    return middle_request(s.template, spans_ratio(s.template, spans, selector), tiles, selector)


def run_recorded(query: QueryFn, rng: str) -> Answer:
    """Every SLO's error ratio over ``rng`` from the 5m recordings (one query text whatever the SLO count)."""
    return run(query, recorded_ratio(rng), namespace_label="namespace", name_label="slo")
