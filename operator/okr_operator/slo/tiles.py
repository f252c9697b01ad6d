"""Tiles: back-to-back 10-minute counts of an SLO's events, and long windows measured from them.

Every SLO gets a rule group of its own evaluated every ``TILE_INTERVAL`` (10m) with two recording rules,
the indicator's bad-event and all-event rates over exactly that interval. Prometheus evaluates a group at
fixed instants ``phase + k * 10m``, so the samples of one SLO cover time back to back: the events of any
stretch that starts and ends on those instants are the sum of its tiles times 600 seconds, read from 144
samples per day and series instead of every raw series.

A window rarely starts and ends on tile instants, so it is measured in up to three spans
(``window_spans``): the raw indicator over the head before the first whole tile, the tiles, and the raw
indicator over the tail since the last tile. The raw spans are at most ``TILE_SECONDS + MARGIN_SECONDS``
long, and never shorter than ``MARGIN_SECONDS`` (a rate over fewer than two scrapes is empty). Before the
tiles cover the window (a new SLO, a changed indicator) the head is the raw indicator back to the first
tile, so the figure is the raw one from the first cycle on, and gets cheaper as the tiles age.

Adding spans needs counts, so the indicator must be additive: each range of ``{{window}}`` read by
``rate`` (events per second: a span counts rate x seconds) or by ``increase``/``count_over_time``/
``sum_over_time`` (a count), with only sums, ``+``/``-``, scaling by a number and ``or vector(0)`` around
them (``additive_kind``). Anything else (``max``, ``histogram_quantile``, a fixed range) keeps the raw
queries. The tiles carry the label ``indicator`` (a hash of the indicator's expressions): a changed
indicator starts new series, so old tiles never mix with the new definition.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import promql_parser

from ..api.promql_print import duration
from ..api.slo import ServiceLevelObjectiveSpec
from ..promtext import number, quote
from .expressions import raw_errors, raw_total

TILE_INTERVAL = "10m"
TILE_SECONDS = 600
TILE_MS = TILE_SECONDS * 1000
ERRORS_TILE = f"slo:sli_errors:rate{TILE_INTERVAL}"
TOTAL_TILE = f"slo:sli_total:rate{TILE_INTERVAL}"
INDICATOR_LABEL = "indicator"
# Raw spans are at least this long (two scrapes at 2m30s), and the newest tile is used once it is this old.
MARGIN_SECONDS = 300
MARGIN_MS = MARGIN_SECONDS * 1000
# Windows longer than this are measured from tiles; shorter ones raw (``evaluation.coverage``).
TILED_ABOVE_SECONDS = 86400
# A range that no indicator uses, printed as the PromQL printer prints it: replaced by each span's range.
_SENTINEL = duration(timedelta(seconds=31_415_926))
SENTINEL_RANGE = f"[{_SENTINEL}]"

Kind = Literal["rate", "count"]
_RATE_FUNCTIONS = {"rate": "rate"}
_COUNT_FUNCTIONS = {"increase", "count_over_time", "sum_over_time"}


def tiled(seconds: int) -> bool:
    """Whether a window of ``seconds`` is measured from tiles (when its SLO has them)."""
    return seconds > TILED_ABOVE_SECONDS


def indicator_hash(spec: ServiceLevelObjectiveSpec) -> str:
    """8 hex digits naming the indicator's definition (its bad-event and all-event expressions)."""
    text = raw_errors(spec, _SENTINEL) + "\n" + raw_total(spec, _SENTINEL)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def tile_rules(spec: ServiceLevelObjectiveSpec, identity: dict[str, str]) -> list[dict[str, Any]]:
    """The two tile recording rules of an SLO (for the group evaluated every ``TILE_INTERVAL``)."""
    labels = {**identity, INDICATOR_LABEL: indicator_hash(spec)}
    return [
        {"record": ERRORS_TILE, "expr": raw_errors(spec, TILE_INTERVAL), "labels": dict(labels)},
        {"record": TOTAL_TILE, "expr": raw_total(spec, TILE_INTERVAL), "labels": dict(labels)},
    ]


# ---------------------------------------------------------------------------------------------- additivity


def additive_kind(spec: ServiceLevelObjectiveSpec) -> Kind | None:
    """``rate`` or ``count`` when the indicator's spans add up (see the module docstring), else None."""
    kinds = {_kind_of(promql_parser.parse(expr)) for expr in (raw_errors(spec, _SENTINEL), raw_total(spec, _SENTINEL))}
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind == "rate":
        return "rate"
    return "count" if kind == "count" else None


def _kind_of(node: Any) -> str | None:
    """The kind of an additive expression tree; None when it is not additive, "zero" for ``vector(0)``."""
    kind = type(node).__name__
    if kind in ("ParenExpr", "UnaryExpr"):
        return _kind_of(node.expr)
    if kind == "Call":
        name = node.func.name
        if name == "vector" and type(node.args[0]).__name__ == "NumberLiteral" and node.args[0].val == 0:
            return "zero"
        if len(node.args) == 1 and _windowed(node.args[0]):
            return _RATE_FUNCTIONS.get(name) or ("count" if name in _COUNT_FUNCTIONS else None)
        return None
    if kind == "AggregateExpr":
        return _kind_of(node.expr) if str(node.op) == "sum" and node.param is None else None
    if kind == "BinaryExpr":
        return _binary_kind(node)
    return None


def _binary_kind(node: Any) -> str | None:
    op, lhs, rhs = str(node.op), node.lhs, node.rhs
    if op in ("*", "/") and type(rhs).__name__ == "NumberLiteral":
        return _kind_of(lhs)
    if op == "*" and type(lhs).__name__ == "NumberLiteral":
        return _kind_of(rhs)
    left, right = _kind_of(lhs), _kind_of(rhs)
    if op == "or" and "zero" in (left, right):
        return right if left == "zero" else left
    if op in ("+", "-", "or") and left == right and left in ("rate", "count"):
        return left
    return None


def _windowed(node: Any) -> bool:
    """A matrix selector over the window (no offset, no @)."""
    if type(node).__name__ != "MatrixSelector":
        return False
    selector = node.vector_selector
    return duration(node.range) == _SENTINEL and selector.offset is None and selector.at is None


# ------------------------------------------------------------------------------------------------ spans


@dataclass(frozen=True)
class Span:
    """Events in ``(start, end]`` (Unix milliseconds), from tiles or from the raw indicator."""

    start: int
    end: int
    tiles: bool

    @property
    def ms(self) -> int:
        return self.end - self.start


def usable_tile_end(last_tile: int, now: int) -> int:
    """The newest tile end to measure up to: the last one seen, or the one before while it is younger
    than the margin (the tail after it must hold two scrapes)."""
    return last_tile if now - last_tile >= MARGIN_MS else last_tile - TILE_MS


def window_spans(start: int, end: int, tile_end: int | None, tiles_since: int | None) -> list[Span]:
    """``(start, end]`` as raw head, tiles and raw tail. ``tile_end``: the newest usable tile end (None: no
    tiles); ``tiles_since``: the end of the first tile (tiles are assumed back to back since then)."""
    whole = [Span(start, end, tiles=False)]
    if tile_end is None or tiles_since is None or tile_end < tiles_since or tile_end >= end:
        return whole
    first = max(tiles_since - TILE_MS, start)  # where the tiles (or the whole tiles inside the window) begin
    count = (tile_end - first) // TILE_MS
    lo = tile_end - count * TILE_MS
    if 0 < lo - start < MARGIN_MS:  # a head too short for a rate: take one tile less
        count, lo = count - 1, lo + TILE_MS
    if count <= 0 or end - tile_end < MARGIN_MS:
        return whole
    spans = [Span(start, lo, tiles=False)] if lo > start else []
    return [*spans, Span(lo, tile_end, tiles=True), Span(tile_end, end, tiles=False)]


# ---------------------------------------------------------------------------------------------- PromQL


@dataclass(frozen=True)
class RawTemplate:
    """An SLO's raw bad-event and all-event expressions with a sentinel range, printed once."""

    errors: str
    total: str
    kind: Kind

    @classmethod
    def of(cls, spec: ServiceLevelObjectiveSpec) -> RawTemplate | None:
        kind = additive_kind(spec)
        if kind is None:
            return None
        return cls(raw_errors(spec, _SENTINEL), raw_total(spec, _SENTINEL), kind)


def _at(seconds_ms: int) -> str:
    return f"{seconds_ms // 1000}.{seconds_ms % 1000:03d}"


def span_count(template: RawTemplate, side: str, span: Span, selector: str) -> str:
    """PromQL for the events of ``side`` (errors/total) in ``span``: 0 when there is no data."""
    factor = number(span.ms / 1000) if template.kind == "rate" else "1"
    rng = f"[{span.ms}ms] @ {_at(span.end)}"
    if span.tiles:
        record = ERRORS_TILE if side == "errors" else TOTAL_TILE
        factor = str(TILE_SECONDS) if template.kind == "rate" else "1"
        inner = f"sum(sum_over_time({record}{selector}{rng}))"
    else:
        inner = getattr(template, side).replace(SENTINEL_RANGE, rng)
    return f"(({inner} or vector(0)) * {factor})"


def spans_ratio(template: RawTemplate, spans: list[Span], selector: str) -> str:
    """The error ratio over the union of ``spans`` (errors over all events; NaN without events)."""
    errors = " + ".join(span_count(template, "errors", s, selector) for s in spans)
    total = " + ".join(span_count(template, "total", s, selector) for s in spans)
    return f"(({errors}) / ({total}))"


def tile_selector(name: str, namespace: str, indicator: str) -> str:
    return f"{{slo={quote(name)}, namespace={quote(namespace)}, {INDICATOR_LABEL}={quote(indicator)}}}"


# ------------------------------------------------------------------------------------------ cached middles
#
# A window up to a day is a raw query over the whole window, re-read every cycle. Most of it does not change
# from one cycle to the next: split on a grid of ``middle_grid_ms`` (a 24th of the window, 10 minutes to an
# hour), the window is a raw head up to the first grid instant, a middle between grid instants and a raw tail
# since the last one. The middle's two counts are asked for once (with the window's raw ratio, in the cycle that
# needs them) and kept by the operator until the grid moves; every other cycle reads the head and the tail raw
# (a grid's length together) and adds the kept counts as numbers. Only two seams more than the raw range itself,
# each extrapolated like the raw range's own ends, so the figure stays within a small fraction of the raw one
# (unlike tiles, whose every 10-minute seam adds its own extrapolation: docs/performance.md).
#
# A window longer than a day keeps its tiles' sum the same way: the tiles between its raw head and tail are
# summed once and kept until a tile comes or goes (every 10 minutes); the figure is the very same sum.

MIDDLE_MIN_SECONDS = 3600  # shorter windows are cheap raw (5m, 30m)
_GRID_MIN_MS = TILE_MS
_GRID_MAX_MS = 3_600_000
MIDDLE_PART_LABEL = "okr_part"  # tells a request's window ratio from the middle's counts


def middle_window(seconds: int) -> bool:
    """Whether a window of ``seconds`` is measured with a cached middle (when its indicator adds up)."""
    return MIDDLE_MIN_SECONDS <= seconds <= TILED_ABOVE_SECONDS


def middle_grid_ms(window_ms: int) -> int:
    """The grid a window's middle is cut on: a 24th of the window, 10 minutes to an hour."""
    return min(max(window_ms // 24 // _GRID_MIN_MS * _GRID_MIN_MS, _GRID_MIN_MS), _GRID_MAX_MS)


def middle_bounds(start: int, end: int, grid: int) -> tuple[int, int] | None:
    """The middle ``(a, b]`` of the window ``(start, end]``: grid instants with a head ``(start, a]`` and a tail
    ``(b, end]`` of at least ``MARGIN_MS`` each (or no head at all); None when no grid step fits between them."""
    a = -(-start // grid) * grid
    if 0 < a - start < MARGIN_MS:
        a += grid
    b = end // grid * grid
    if end - b < MARGIN_MS:
        b -= grid
    return (a, b) if b - a >= grid else None


@dataclass(frozen=True)
class Middle:
    """The events of ``(start, end]`` as its query counted them (raw, or a long window's tiles)."""

    start: int
    end: int
    errors: float
    total: float


def middle_request(template: RawTemplate, window_ratio: str, middle: Span, selector: str = "") -> str:
    """The window's ratio (``window_ratio``, this cycle's figure) and the two counts of its ``middle`` span (raw,
    or the tiles of a long window: ``selector``), told apart by ``MIDDLE_PART_LABEL`` (``window``, ``errors``,
    ``total``)."""
    parts = {
        "window": window_ratio,
        "errors": span_count(template, "errors", middle, selector),
        "total": span_count(template, "total", middle, selector),
    }
    return " or ".join(
        f'label_replace(({expr}), "{MIDDLE_PART_LABEL}", "{part}", "", "")' for part, expr in parts.items()
    )


def middle_ratio(template: RawTemplate, start: int, end: int, middle: Middle) -> str:
    """The error ratio over ``(start, end]``: raw head and tail, the kept middle's counts as numbers."""
    spans = [s for s in (Span(start, middle.start, tiles=False), Span(middle.end, end, tiles=False)) if s.ms > 0]
    errors = " + ".join([number(middle.errors), *(span_count(template, "errors", s, "") for s in spans)])
    total = " + ".join([number(middle.total), *(span_count(template, "total", s, "") for s in spans)])
    return f"(({errors}) / ({total}))"
