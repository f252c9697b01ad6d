"""A cycle stops asking a Prometheus that stopped answering, and only then. The query function here stands
in for the adapter (whose own timeouts are tested in test_prometheus_faults.py)."""

from __future__ import annotations

import pytest

from okr_operator.prometheus.types import PrometheusError, Sample
from okr_operator.runtime.cycle_queries import STRIKES, CycleQueries


class Prom:
    def __init__(self, fail: dict[str, str]) -> None:
        self.fail, self.sent = fail, []

    def __call__(self, expr, at=None):
        self.sent.append(expr)
        if expr in self.fail:
            raise PrometheusError(self.fail[expr], "no")
        return [Sample({}, 1.0)]


def run(queries: CycleQueries, n: int) -> list[str]:
    results = []
    for i in range(n):
        try:
            queries(f"q{i}")
            results.append("ok")
        except PrometheusError as exc:
            results.append(exc.reason)
    return results


def test_a_prometheus_that_answers_gets_every_query():
    prom = Prom({})
    assert run(CycleQueries(prom), 10) == ["ok"] * 10 and len(prom.sent) == 10


@pytest.mark.parametrize("reason", ["PrometheusTimeout", "PrometheusUnreachable"])
def test_after_two_unanswered_queries_no_more_are_sent(reason):
    prom = Prom({f"q{i}": reason for i in range(10)})
    queries = CycleQueries(prom)
    assert run(queries, 10) == [reason] * 10
    assert len(prom.sent) == STRIKES == 2 and queries.skipped == 8


def test_one_heavy_query_does_not_cost_the_others_their_answers():
    prom = Prom({"q0": "PrometheusTimeout"})
    assert run(CycleQueries(prom), 4) == ["PrometheusTimeout", "ok", "ok", "ok"]


def test_a_refused_query_is_an_answer():
    prom = Prom({f"q{i}": "QueryFailed" for i in range(5)})
    assert run(CycleQueries(prom), 5) == ["QueryFailed"] * 5 and len(prom.sent) == 5


def test_skipped_queries_say_why():
    queries = CycleQueries(Prom({"q0": "PrometheusTimeout", "q1": "PrometheusTimeout"}))
    run(queries, 2)
    with pytest.raises(PrometheusError) as err:
        queries("q2")
    assert err.value.reason == "PrometheusTimeout"
    assert err.value.message.startswith("not sent: Prometheus did not answer earlier queries of this cycle")
