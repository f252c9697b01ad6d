"""Reading object bodies as the API lists them (dicts from JSON), trusting nothing.

A field of the wrong type reads as empty (``{}``, ``""``), a number that is not a finite int or float (a bool,
a string, NaN, infinity) and a time that does not parse as None, so the views (the tree, the web view, the
report, the status metrics) show what is there and never fail on a body someone else wrote.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a dict, else ``{}``."""
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str:
    """``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def as_number(value: Any) -> float | None:
    """``value`` as a float if it is a finite int or float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def as_time(value: Any) -> datetime | None:
    """An RFC 3339 time (or a date, or a datetime as YAML gives them) as an aware datetime (UTC when no zone is
    given), else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time(), tzinfo=UTC)
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def namespaced_name(body: Mapping[str, Any]) -> tuple[str, str]:
    """``(namespace, name)`` of an object; a missing namespace is ``default``."""
    meta = as_dict(body.get("metadata"))
    return (as_str(meta.get("namespace")) or "default", as_str(meta.get("name")))
