"""Error-budget arithmetic (docs/architecture.md, "Formulas"), exact and pure.

Units: ``target`` is a percent (99.9); error ratios, budgets and burn rates are fractions; the SLI
reported in status is a percent, like the target, so the two can be compared at a glance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..api.slo_status import SLOState


def error_ratio(errors: float | None, total: float | None) -> float | None:
    """Bad events over all events; None without traffic (no SLI, not 100%)."""
    if errors is None or total is None or not math.isfinite(total) or total <= 0:
        return None
    if not math.isfinite(errors):
        return None
    return min(max(errors / total, 0.0), 1.0)


def budget_fraction(target_percent: float) -> float:
    """The error budget as a fraction of events: ``1 - T`` (0.001 for a 99.9% target)."""
    if not 0 < target_percent < 100:
        raise ValueError(f"target {target_percent} must be between 0 and 100 (exclusive)")
    return round(1 - target_percent / 100, 12)


def sli_percent(ratio: float) -> float:
    """SLI in percent: ``100 * (1 - error_ratio)``."""
    return 100 * (1 - ratio)


def burn_rate(ratio: float, budget: float) -> float:
    """How fast the budget burns: 1 spends exactly the budget over the window."""
    return ratio / budget


def time_to_exhaustion(remaining: float, window_seconds: float, burn_rate_1h: float | None) -> float | None:
    """Seconds until the budget is gone at the current 1h burn rate: ``remaining * W / burn(1h)``.

    None when nothing is left to exhaust or nothing is burning.
    """
    if burn_rate_1h is None or burn_rate_1h <= 0 or remaining <= 0:
        return None
    return remaining * window_seconds / burn_rate_1h


@dataclass(frozen=True)
class BudgetFigures:
    """Everything the status says about one SLO, computed from measured error ratios."""

    sli: float | None
    total: float
    consumed: float | None
    remaining: float | None
    burn_rates: dict[str, float]
    time_to_exhaustion: float | None
    state: SLOState
    alerts: tuple[str, ...]


def evaluate_budget(
    *,
    target_percent: float,
    window_seconds: float,
    window_ratio: float | None,
    window_ratios: dict[str, float | None],
    page: list[tuple[str, str, float]],
    ticket: list[tuple[str, str, float]],
) -> BudgetFigures:
    """Status figures of one SLO.

    ``window_ratio`` is the error ratio over the SLO window; ``window_ratios`` the error ratio per alerting
    window (e.g. ``{"5m": 0.01, "1h": 0.002}``); ``page``/``ticket`` the (long, short, factor) burn-rate
    conditions. State: Unknown without data, Exhausted when nothing is left, Critical when a page condition
    holds, Warning when a ticket condition holds, Healthy otherwise.
    """
    budget = budget_fraction(target_percent)
    burn = {w: burn_rate(r, budget) for w, r in window_ratios.items() if r is not None}
    firing = tuple(
        name
        for name, conditions in (("page", page), ("ticket", ticket))
        if any(_holds(burn, long, short, factor) for long, short, factor in conditions)
    )
    if window_ratio is None:
        return BudgetFigures(None, 100 * budget, None, None, burn, None, SLOState.UNKNOWN, firing)
    consumed = window_ratio / budget
    remaining = 1 - consumed
    if remaining <= 0:
        state = SLOState.EXHAUSTED
    elif "page" in firing:
        state = SLOState.CRITICAL
    elif "ticket" in firing:
        state = SLOState.WARNING
    else:
        state = SLOState.HEALTHY
    tte = time_to_exhaustion(remaining, window_seconds, burn.get("1h"))
    return BudgetFigures(sli_percent(window_ratio), 100 * budget, consumed, remaining, burn, tte, state, firing)


def _holds(burn: dict[str, float], long: str, short: str, factor: float) -> bool:
    return burn.get(long, 0) > factor and burn.get(short, 0) > factor
