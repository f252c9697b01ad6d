"""Plain-text figures of tree nodes, the same in every view (terminal, web view, report)."""

from __future__ import annotations

from .model import KeyResultNode


def fmt_number(value: float | None) -> str:
    if value is None:
        return "?"
    if abs(value) >= 10000:
        return f"{value:.0f}"
    return f"{value:.4g}"


def _unit(unit: str) -> str:
    if not unit:
        return ""
    return unit if unit in ("%", "‰") else f" {unit}"


def key_result_values(kr: KeyResultNode) -> str:
    """``current/target unit``; maintain key results show their range (``≤0.8``, ``≥99``, ``99..99.9``)."""
    if kr.direction == "maintain" and kr.target is None:
        if kr.minimum is not None and kr.maximum is not None:
            target = f"{fmt_number(kr.minimum)}..{fmt_number(kr.maximum)}"
        elif kr.maximum is not None:
            target = f"≤{fmt_number(kr.maximum)}"
        elif kr.minimum is not None:
            target = f"≥{fmt_number(kr.minimum)}"
        else:
            target = "?"
    elif kr.direction == "boolean" and kr.target is None:
        target = "1"
    else:
        target = fmt_number(kr.target)
    return f"{fmt_number(kr.current)}/{target}{_unit(kr.unit)}"
