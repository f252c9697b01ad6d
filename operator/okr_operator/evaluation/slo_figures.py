"""An SLO's (or one group's) budget figures from measured error ratios, and the status fields they make
(built from the typed models in ``api/slo_status.py``)."""

from __future__ import annotations

from typing import Any

from ..api.slo_status import ErrorBudget, ServiceLevelObjectiveStatus
from ..slo.budget import BudgetFigures, evaluate_budget
from ..slo.windows import burn_rate_conditions, window_seconds
from .conditions import human_duration, rounded
from .status import make, typed


def figures_of(spec: Any, ratios: dict[str, float | None]) -> BudgetFigures:
    """Budget figures from measured error ratios (``window`` and the burn windows)."""
    conditions = burn_rate_conditions(spec)
    return evaluate_budget(
        target_percent=spec.target,
        window_seconds=window_seconds(spec.window),
        window_ratio=ratios.get("window"),
        window_ratios={w: r for w, r in ratios.items() if w != "window"},
        page=[(c.long, c.short, c.factor) for c in conditions if c.severity == "page"],
        ticket=[(c.long, c.short, c.factor) for c in conditions if c.severity == "ticket"],
    )


def figures_fields(figures: BudgetFigures, quiet: bool) -> dict[str, Any]:
    """The :class:`ServiceLevelObjectiveStatus` fields of budget figures; no alerts listed while a maintenance
    window quiets them."""
    return {
        "sli": rounded(figures.sli, 4),
        "error_budget": make(
            ErrorBudget,
            total=rounded(figures.total, 6),
            consumed=rounded(figures.consumed, 4),
            remaining=rounded(figures.remaining, 4),
        ),
        "burn_rates": {w: rounded(b, 3) for w, b in figures.burn_rates.items()} or None,
        "time_to_exhaustion": human_duration(figures.time_to_exhaustion),
        "state": figures.state,
        "alerts": None if quiet else (list(figures.alerts) or None),
    }


def figures_status(figures: BudgetFigures, quiet: bool) -> dict[str, Any]:
    """The status of budget figures as it goes on the wire."""
    return typed(ServiceLevelObjectiveStatus, **figures_fields(figures, quiet))
