"""The query function of one evaluation cycle: it stops asking a Prometheus that stopped answering.

Every query has its own timeout (``OKR_PROMETHEUS_TIMEOUT_SECONDS``, also sent to Prometheus as the query's
``timeout``). Once :data:`STRIKES` queries of a cycle got no answer (each waited its whole timeout, or the
connection failed), the cycle's later queries are not sent: they fail at once with the same reason. So a hung
or slow Prometheus costs a cycle at most two query timeouts, not one per query, and one heavy query that
times out does not cost the others their answers. Work Prometheus does answer is never cut short: a large
installation gets all its figures, in cycles as long as its queries take.

What was not answered is ``MetricsAvailable=False`` with reason ``PrometheusTimeout`` (or
``PrometheusUnreachable``), the last values kept. With the defaults (10 s per query, 30 s interval) that shows
within one interval, and the loop keeps its rhythm.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from ..prometheus.types import PrometheusError, Sample

STRIKES = 2  # unanswered queries after which a cycle sends no more
NO_ANSWER = ("PrometheusTimeout", "PrometheusUnreachable")


class CycleQueries:
    """Wraps a query function (``PrometheusAdapter.query``) for one cycle; counts what it did not send."""

    def __init__(self, query: Callable[[str, datetime | None], list[Sample]]) -> None:
        self._query = query
        self._lock = threading.Lock()
        self.strikes = 0
        self.skipped = 0
        self.unanswered: PrometheusError | None = None  # the last query that got no answer

    def __call__(self, expr: str, at: datetime | None = None) -> list[Sample]:
        with self._lock:  # a cycle sends some queries from several threads at once
            unanswered = self.unanswered if self.strikes >= STRIKES else None
            if unanswered is not None:
                self.skipped += 1
        if unanswered is not None:
            raise PrometheusError(
                unanswered.reason,
                f"not sent: Prometheus did not answer earlier queries of this cycle ({unanswered.message})",
            )
        try:
            return self._query(expr, at)
        except PrometheusError as exc:
            if exc.reason in NO_ANSWER:
                with self._lock:
                    self.unanswered, self.strikes = exc, self.strikes + 1
            raise
