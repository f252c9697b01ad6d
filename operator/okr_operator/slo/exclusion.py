"""An SLO's error ratio over a range with maintenance windows left out, from the service's own series.

Counts over a range are rate x seconds, so with the excluded intervals ``[s_i, e_i)`` (clipped to the range)

    ratio = (errors(R) * R - sum errors(d_i) @ e_i * d_i) / (total(R) * R - sum total(d_i) @ e_i * d_i)

where ``d_i = e_i - s_i`` and ``@ e_i`` evaluates the interval's rate at its end: exactly the events of the
range outside the windows. The ``@`` goes after every range of the indicator's expression (``[<d>]``, as
printed from its syntax tree); parts of a ratio indicator without the ``{{window}}`` range are evaluated at the
query time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ..api.promql_print import duration
from ..api.slo import ServiceLevelObjectiveSpec
from ..maintenance.schedule import Interval
from .expressions import raw_errors, raw_total


def _at(expr: str, seconds: int, end: int) -> str:
    """``expr`` (printed from its syntax tree, so a range of ``seconds`` reads e.g. ``[1h]``) evaluated at ``end``."""
    rng = f"[{duration(timedelta(seconds=seconds))}]"
    return expr.replace(rng, f"{rng} @ {end}")


def clipped(intervals: Sequence[Interval], now: datetime, seconds: int) -> list[tuple[int, int]]:
    """(start, end) in Unix seconds of the excluding intervals overlapping ``[now - seconds, now]``, merged."""
    since = now - timedelta(seconds=seconds)
    spans = sorted(
        (int(max(i.start, since).timestamp()), int(min(i.end, now).timestamp()))
        for i in intervals
        if i.exclude and i.start < now and i.end > since
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def excluded_ratio(
    spec: ServiceLevelObjectiveSpec, seconds: int, intervals: Sequence[Interval], now: datetime
) -> str | None:
    """The error ratio over the last ``seconds`` without the excluded intervals; None when none overlap."""
    spans = clipped(intervals, now, seconds)
    if not spans:
        return None
    rng = f"{seconds}s"
    errors = [f"({raw_errors(spec, rng)} * {seconds})"]
    total = [f"({raw_total(spec, rng)} * {seconds})"]
    # An interval without data counts 0: per group for a grouped SLO (vector(0) has no group labels).
    zero = f"(0 * {raw_total(spec, rng)})" if spec.indicator.group_by else "vector(0)"
    for start, end in spans:
        d = end - start
        errors.append(f"(({_at(raw_errors(spec, f'{d}s'), d, end)} or {zero}) * {d})")
        total.append(f"(({_at(raw_total(spec, f'{d}s'), d, end)} or {zero}) * {d})")
    return f"(({' - '.join(errors)}) / ({' - '.join(total)}))"
