"""What Prometheus answers, as plain values: samples, the errors a query can end in, and their parsing.

No network code here: the evaluation (which never talks to the network) and the HTTP client both use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """One series of an instant vector (or a scalar, with no labels)."""

    labels: dict[str, str]
    value: float


class PrometheusError(Exception):
    """A query that produced no usable answer; ``reason`` is a CamelCase word for conditions.

    ``refused`` is True when Prometheus refused the query itself (HTTP 400 bad_data or 422 execution
    error): the fault is in the query, not in Prometheus, so a batch can be split to find the member at fault.
    """

    def __init__(self, reason: str, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.refused = refused


def parse_value(raw: str) -> float:
    """Prometheus sends numbers as strings, including "NaN", "+Inf" and "-Inf"."""
    return float(raw)


def parse_result(data: object) -> list[Sample]:
    """``data.result`` of an instant query (vector or scalar) as samples; anything else is BadResponse."""
    if isinstance(data, dict) and "resultType" in data:
        kind, result = data["resultType"], data.get("result")
    elif isinstance(data, list) and len(data) == 2 and not isinstance(data[0], dict):
        kind, result = "scalar", data  # prometheus-api-client hands over data.result only
    else:
        kind, result = "vector", data
    try:
        if kind == "vector" and isinstance(result, list):
            return [Sample(dict(item["metric"]), parse_value(item["value"][1])) for item in result]
        if kind == "scalar" and isinstance(result, list):
            return [Sample({}, parse_value(result[1]))]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise PrometheusError("BadResponse", f"unexpected answer from Prometheus: {exc}") from None
    raise PrometheusError("BadResponse", f"expected an instant vector, got {kind}")


def finite(value: float) -> float | None:
    """The value, or None for NaN and infinities (no usable data)."""
    return value if math.isfinite(value) else None
