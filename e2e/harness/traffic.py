"""Synthetic request traffic, shared by the live exporter and the OpenMetrics history generator.

Metric names (the ones the SLO samples use):

* ``http_requests_total{service, version, code}`` counter, ``code`` is ``"200"`` or ``"500"``;
* ``http_request_duration_seconds{service, version}`` histogram (``_bucket{le}``, ``_sum``, ``_count``).

Latency is a discrete distribution: ``((seconds, weight), ...)``; a request with latency ``s`` counts
in every bucket with ``le >= s``. All quantities are exact functions of rate and time, so tests can
compute the value a query must return.
"""

from __future__ import annotations

from dataclasses import dataclass

REQUESTS = "http_requests_total"
DURATION = "http_request_duration_seconds"
DEFAULT_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OK_CODE = "200"
ERROR_CODE = "500"


@dataclass(frozen=True)
class Traffic:
    """Request rate (per second), fraction of requests that fail (code 500) and latency distribution."""

    rate: float = 10.0
    error_ratio: float = 0.0
    latency: tuple[tuple[float, float], ...] = ((0.05, 1.0),)

    def __post_init__(self) -> None:
        if self.rate < 0:
            raise ValueError(f"rate must be >= 0, got {self.rate}")
        if not 0.0 <= self.error_ratio <= 1.0:
            raise ValueError(f"error_ratio must be within [0, 1], got {self.error_ratio}")
        if not self.latency or any(w < 0 for _, w in self.latency) or sum(w for _, w in self.latency) <= 0:
            raise ValueError(f"latency needs (seconds, weight) pairs with positive total weight: {self.latency}")

    def fraction_within(self, le: float) -> float:
        """Fraction of requests with latency <= ``le``."""
        total = sum(w for _, w in self.latency)
        return sum(w for s, w in self.latency if s <= le) / total

    @property
    def mean_latency(self) -> float:
        total = sum(w for _, w in self.latency)
        return sum(s * w for s, w in self.latency) / total


def format_le(le: float) -> str:
    """Bucket bound as Prometheus prints it (``0.05``, ``1.0``, ``+Inf``)."""
    return "+Inf" if le == float("inf") else repr(float(le))
