"""SLO status: measuring every SLO's windows in one query per window, and the status each SLO gets."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from ..api.identity import Entry, Ref
from ..api.promql import canonical_matchers
from ..maintenance.schedule import Interval
from ..prometheus.types import PrometheusError, finite
from ..slo.exclusion import excluded_ratio
from ..slo.expressions import le_value, raw_ratio
from ..slo.windows import status_windows
from .batch import Answer, Printed, QueryFn, run_parts
from .conditions import condition, iso
from .coverage import Coverage, plan_sources, run_recorded, take_middles
from .group_status import GroupKey, group_key, grouped_status
from .slo_figures import figures_of, figures_status
from .status import finish, kept_note, valid_condition

# The windows' batched queries are sent this many at a time: the evaluation waits for the slowest window rather
# than for all of them in turn (Prometheus runs up to --query.max-concurrency queries at once, 20 by default).
QUERY_CONCURRENCY = 4

# observedGeneration is the evaluation's for every kind: it says which spec the figures were computed from.
SLO_FIELDS = (
    "sli",
    "errorBudget",
    "burnRates",
    "timeToExhaustion",
    "state",
    "alerts",
    "groups",
    "observedGeneration",
    "lastEvaluated",
)


@dataclass
class Measured:
    """What Prometheus said about one SLO this cycle."""

    ratios: dict[str, float | None] = field(default_factory=dict)
    # A grouped SLO: per window label, the ratio of each group (its groupBy label values).
    groups: dict[str, dict[GroupKey, float | None]] = field(default_factory=dict)
    error: PrometheusError | None = None
    problems: list[str] = field(default_factory=list)


def slo_windows(entries: list[Entry], now: datetime) -> dict[Ref, dict[str, str]]:
    """Per SLO: label -> PromQL range (burn windows, plus "window" for the compliance window)."""
    plan = {}
    for e in entries:
        spec = e.model.spec
        windows = {w: w for w in status_windows(spec)}
        windows["window"] = compliance_range(spec.window, now)
        plan[e.ref] = windows
    return plan


def _raw(e: Entry, rng: str, now: datetime, maintenance: dict[Ref, list[Interval]]) -> str | Printed:
    """An SLO's raw error ratio over ``rng``, without the events of its excluding maintenance windows. Without
    them it is a vector assembled from canonical pieces (``raw_ratio``): tagged without being printed again."""
    excluded = excluded_ratio(e.model.spec, range_seconds(rng), maintenance.get(e.ref, ()), now)
    return excluded or Printed(raw_ratio(e.model.spec, rng))


def measure_slos(
    query: QueryFn,
    entries: list[Entry],
    now: datetime,
    sli_source: str,
    maintenance: dict[Ref, list[Interval]] | None = None,
    coverage: Coverage | None = None,
) -> dict[Ref, Measured]:
    """One query per distinct range for all SLOs.

    ``sli_source``: raw (the indicators), recorded (our recordings only), or auto (recordings where they cover
    a window, raw elsewhere: see :mod:`.coverage`, which ``coverage`` remembers across cycles).
    ``maintenance``: per SLO, the intervals of its maintenance windows; raw ratios leave out those that exclude
    events from the budget (recorded ratios already do: the recording rules skip them)."""
    maintenance = maintenance or {}
    plan = slo_windows(entries, now)
    lookup = _answers(query, entries, plan, now, sli_source, maintenance, coverage or Coverage())
    measured: dict[Ref, Measured] = {}
    for e in entries:
        m = Measured()
        for label, rng in plan[e.ref].items():
            answer = lookup[(e.ref.key, rng)]
            error = answer.error_for(e.ref.key)
            if error is not None:
                m.error = error
                continue
            samples = answer.of(e.ref.key)
            by = e.model.spec.indicator.group_by
            if by:
                m.groups[label] = {group_key(s.labels, by): finite(s.value) for s in samples}
            values = [finite(s.value) for s in samples]
            m.ratios[label] = values[0] if len(values) == 1 and not by else None
        measured[e.ref] = m
    check_buckets(query, [e for e in entries if e.model.spec.indicator.latency is not None], measured)
    return measured


def _answers(
    query: QueryFn,
    entries: list[Entry],
    plan: dict[Ref, dict[str, str]],
    now: datetime,
    sli_source: str,
    maintenance: dict[Ref, list[Interval]],
    coverage: Coverage,
) -> dict[tuple[tuple[str, str], str], Answer]:
    """(SLO key, range) -> the answer holding that SLO's ratio over the range."""
    recorded: dict[str, list[tuple[str, str]]] = defaultdict(list)
    parts: dict[str, list[tuple[tuple[str, str], Any]]] = defaultdict(list)
    if sli_source == "auto":
        tiles, raw = plan_sources(query, entries, plan, now, maintenance, coverage)
        parts.update({rng: list(ps) for rng, ps in tiles.items()})
        for e, rng in raw:
            parts[rng].append((e.ref.key, partial(_raw, e, rng, now, maintenance)))
    else:
        for e in entries:
            for rng in set(plan[e.ref].values()):
                if sli_source == "recorded":
                    recorded[rng].append(e.ref.key)
                else:
                    parts[rng].append((e.ref.key, partial(_raw, e, rng, now, maintenance)))
    # One batch per range and source (recorded, parts), longest windows first: they take longest.
    batches: list[tuple[str, list[tuple[str, str]], Callable[[], Answer]]] = [
        (rng, keys, partial(run_recorded, query, rng)) for rng, keys in recorded.items() if keys
    ]
    batches += [(rng, [key for key, _ in ps], partial(run_parts, query, ps)) for rng, ps in parts.items() if ps]
    batches.sort(key=lambda b: -range_seconds(b[0]))
    lookup: dict[tuple[tuple[str, str], str], Answer] = {}
    for (rng, keys, _), answer in zip(batches, concurrently([send for _, _, send in batches]), strict=True):
        if coverage.requested:
            take_middles(coverage, rng, answer)
        lookup.update({(key, rng): answer for key in keys})
    return lookup


def concurrently(calls: list[Callable[[], Answer]]) -> list[Answer]:
    """The answers of ``calls`` (each one batched query, failures kept in its answer), ``QUERY_CONCURRENCY`` at
    a time, in the order of ``calls``."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(QUERY_CONCURRENCY, len(calls)), thread_name_prefix="okr-query") as pool:
        return list(pool.map(lambda call: call(), calls))


def check_buckets(query: QueryFn, entries: list[Entry], measured: dict[Ref, Measured]) -> None:
    """Latency SLOs: the threshold must be one of the histogram's bucket boundaries (ask Prometheus)."""
    if not entries:
        return
    parts = []
    for e in entries:
        lat = e.model.spec.indicator.latency
        selector = f"{{{canonical_matchers(lat.selector)}}}" if lat.selector else ""
        parts.append((e.ref.key, f"count by (le) ({lat.histogram}_bucket{selector})"))
    answer = run_parts(query, parts)
    if answer.error is not None:
        return
    for e in entries:
        if answer.error_for(e.ref.key) is not None:
            continue
        lat = e.model.spec.indicator.latency
        found = sorted({s.labels.get("le", "") for s in answer.of(e.ref.key)}, key=_le_order)
        if found and not any(_same_bound(le, lat.threshold) for le in found):
            measured[e.ref].problems.append(
                f'BucketNotFound: {lat.histogram}_bucket has no bucket le="{le_value(lat.threshold)}"; '
                f"the threshold must be one of its bucket boundaries: {', '.join(found)}"
            )


def maintenance_condition(intervals: list[Interval], now: datetime) -> dict[str, Any] | None:
    """InMaintenance: True with until-when and why while a window holds now; False (with the next one) when
    the SLO has windows but none now; None when it has none."""
    if not intervals:
        return None
    active = [i for i in intervals if i.holds(now)]
    if active:
        last = max(active, key=lambda i: i.end)
        what = "alerts quiet" if last.suppress else "alerts on"
        what += ", events left out of the budget" if last.exclude else ""
        message = f"MaintenanceWindow {last.window} until {iso(last.end)}: {last.reason} ({what})"
        return condition("InMaintenance", True, "MaintenanceWindow", message)
    upcoming = [i for i in intervals if i.start > now]
    message = f"next: MaintenanceWindow {upcoming[0].window} at {iso(upcoming[0].start)}" if upcoming else ""
    return condition("InMaintenance", False, "NoActiveWindow", message)


def metrics_condition(spec: Any, sli: float | None, windows: int) -> dict[str, Any]:
    if sli is None:
        return condition(
            "MetricsAvailable",
            False,
            "NoTraffic",
            f"no events over {spec.window}: the indicator's series are missing or the service had "
            "no traffic, so there is no SLI (not 100%)",
        )
    return condition("MetricsAvailable", True, "Measured", f"{windows} windows measured")


def slo_status(e: Entry, m: Measured, now: datetime, maintenance: list[Interval] | None = None) -> dict[str, Any]:
    """The status of one SLO from what was measured (its last values kept when Prometheus failed)."""
    spec: Any = e.model.spec
    old = e.status
    conds = [valid_condition(m.problems)]
    in_maintenance = maintenance_condition(maintenance or [], now)
    quiet = any(i.suppress and i.holds(now) for i in maintenance or [])
    if m.error is not None:
        status = {k: old[k] for k in SLO_FIELDS if k in old}
        conds.append(condition("MetricsAvailable", False, m.error.reason, m.error.message + kept_note(old)))
    elif spec.indicator.group_by:
        status, measured = grouped_status(spec, m.groups, quiet)
        conds[0] = valid_condition([*m.problems, *measured])
        conds.append(metrics_condition(spec, status.get("sli"), len(m.groups)))
    else:
        figures = figures_of(spec, m.ratios)
        status = figures_status(figures, quiet)
        conds.append(metrics_condition(spec, figures.sli, len(m.ratios)))
    return finish(status, conds, old, now, info=[in_maintenance] if in_maintenance else [])


def compliance_range(window: str, now: datetime) -> str:
    """PromQL range of an SLO's compliance window: the rolling window, or the calendar period so far."""
    if window not in ("month", "quarter"):
        return window
    start = calendar_start(window, now)
    return f"{max(int((now - start).total_seconds()), 300)}s"


def range_seconds(rng: str) -> int:
    """Seconds in a PromQL range such as ``5m`` or ``2073600s``."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    return int(rng[:-1]) * units[rng[-1]]


def calendar_start(window: str, now: datetime) -> datetime:
    month = now.month if window == "month" else 3 * ((now.month - 1) // 3) + 1
    return datetime(now.year, month, 1, tzinfo=UTC)


def _same_bound(le: str, threshold: float) -> bool:
    try:
        return float(le) == float(threshold)
    except ValueError:
        return False


def _le_order(le: str) -> float:
    try:
        return float(le)
    except ValueError:
        return math.inf
