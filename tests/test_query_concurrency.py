"""The SLO windows' batched queries are sent a few at a time (``slo_status.QUERY_CONCURRENCY``): the evaluation
waits for its slowest window, not for every window in turn, and gets the same figures as one query at a time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from okr_operator.evaluation import slo_status
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.prometheus.types import PrometheusError
from okr_operator.runtime.cycle_queries import CycleQueries
from tests.fakeprom import FakePrometheus, window_of
from tests.helpers import slo

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
# Each window's error ratio: distinct per window and SLO, so answers sent to the wrong window would show.
RATIOS = {"5m": 0.01, "30m": 0.004, "1h": 0.002, "2h": 0.0015, "6h": 0.001, "1d": 0.0008, "3d": 0.0006}


def ratio(key: tuple[str, str], expr: str, at: datetime | None) -> float:
    bump = 1.5 if key[1] == "b" else 1.0
    return RATIOS.get(window_of(expr), 0.0005) * bump


class InFlight:
    """A query function that takes a moment and counts how many of its calls run at once."""

    def __init__(self, answer=ratio, seconds: float = 0.15) -> None:
        self.prom = FakePrometheus(answer)
        self.seconds = seconds
        self.now = self.most = 0
        self._lock = threading.Lock()

    def __call__(self, expr: str, at: datetime | None = None) -> list:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.seconds)
            return self.prom(expr, at)
        finally:
            with self._lock:
                self.now -= 1


def snapshot() -> Snapshot:
    return Snapshot.from_models([slo("a"), slo("b")])


def test_window_queries_are_in_flight_together_and_at_most_the_limit():
    prom = InFlight()
    outcome = Evaluator(prom).evaluate(snapshot(), NOW)
    windows = {window_of(expr) for expr, _ in prom.prom.calls}
    assert len(windows) > slo_status.QUERY_CONCURRENCY  # more windows than the limit: the limit is what binds
    assert prom.most == slo_status.QUERY_CONCURRENCY >= 2
    assert outcome.queries == len(prom.prom.calls)


def test_the_figures_are_those_of_one_query_at_a_time(monkeypatch):
    together = Evaluator(InFlight(seconds=0.01)).evaluate(snapshot(), NOW)
    monkeypatch.setattr(slo_status, "QUERY_CONCURRENCY", 1)
    one_by_one = InFlight(seconds=0.01)
    alone = Evaluator(one_by_one).evaluate(snapshot(), NOW)
    assert one_by_one.most == 1
    assert together.statuses == alone.statuses
    burn = together.statuses[next(r for r in together.statuses if r.name == "b")]["burnRates"]
    assert burn  # figures came back (not two empty statuses compared)


def test_an_unanswering_prometheus_still_costs_a_cycle_two_strikes():
    """Queries in flight together all wait their timeout; after two got no answer, the rest are not sent."""
    sent = []

    def hung(expr: str, at: datetime | None = None) -> list:
        sent.append(expr)
        time.sleep(0.05)
        raise PrometheusError("PrometheusTimeout", "no answer within 10s")

    queries = CycleQueries(hung)
    outcome = Evaluator(queries).evaluate(snapshot(), NOW)
    assert queries.strikes >= 2
    assert len(sent) <= 2 + slo_status.QUERY_CONCURRENCY  # the strikes, and what was already in flight
    assert queries.skipped == outcome.queries - len(sent)
    for status in outcome.statuses.values():
        metrics = next(c for c in status["conditions"] if c["type"] == "MetricsAvailable")
        assert metrics["status"] == "False" and metrics["reason"] == "PrometheusTimeout"


@pytest.mark.parametrize("calls", [0, 1])
def test_zero_or_one_batch_needs_no_threads(calls):
    answers = slo_status.concurrently([lambda: slo_status.Answer()] * calls)
    assert len(answers) == calls
