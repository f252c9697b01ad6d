"""The queries of ``--sli-source recorded``: our recorded windows, the same text the alerts use, for every
kind of SLO window (a calendar month or quarter so far is a range of up to 7 digits of seconds)."""

from __future__ import annotations

from datetime import UTC, datetime

import promql_parser
import pytest

from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.slo.expressions import recorded_ratio
from tests.helpers import slo


@pytest.mark.parametrize("window", ["28d", "7d", "month", "quarter"])
def test_recorded_source_sends_parseable_recorded_windows(window):
    sent: list[str] = []

    def query(expr: str) -> list:
        sent.append(expr)
        return []

    now = datetime(2026, 11, 28, 12, tzinfo=UTC)  # 27.5 days into the month, 58.5 into the quarter
    Evaluator(query, sli_source="recorded").evaluate(Snapshot.from_models([slo(window=window)]), now)
    assert sent
    for expr in sent:
        promql_parser.parse(expr)
    assert recorded_ratio("1h") in sent  # time to exhaustion reads burn(1h), as the page's long window
