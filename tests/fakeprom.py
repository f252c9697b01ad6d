"""A fake Prometheus query function for the evaluation's unit tests: it answers the evaluation's batched
queries part by part from a Python function, so tests give exact values per object and instant."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from okr_operator.evaluation.batch import union_members
from okr_operator.prometheus.types import PrometheusError, Sample

_TAG = re.compile(
    r'^label_replace\(label_replace\(\((?P<expr>.*)\), "okr_name", "(?P<name>[^"]*)", "", ""\), '
    r'"okr_namespace", "(?P<ns>[^"]*)", "", ""\)$',
    re.S,
)

# (namespace, name), the object's own expression, the instant asked for (None: "now") -> a value, samples or None
Answer = Callable[[tuple[str, str], str, datetime | None], "float | list[Sample] | None"]


class FakePrometheus:
    """Call it like the adapter's query (``expr``, optional ``at``); it records every call."""

    def __init__(self, answer: Answer, *, fail: str | None = None) -> None:
        self.answer = answer
        self.fail = fail
        self.calls: list[tuple[str, datetime | None]] = []

    def __call__(self, expr: str, at: datetime | None = None) -> list[Sample]:
        self.calls.append((expr, at))
        if self.fail:
            raise PrometheusError(self.fail, f"fake Prometheus: {self.fail}")
        out: list[Sample] = []
        for part in union_members(expr):
            match = _TAG.match(part)
            assert match, f"not a batched query part: {part[:120]}"
            key = (match["ns"], match["name"])
            labels = {"okr_namespace": key[0], "okr_name": key[1]}
            result = self.answer(key, match["expr"], at)
            if result is None:
                continue
            if isinstance(result, list):
                out.extend(Sample({**labels, **s.labels}, s.value) for s in result)
            else:
                out.append(Sample(labels, float(result)))
        return out

    def instants(self) -> list[datetime | None]:
        return [at for _, at in self.calls]


def window_of(expr: str) -> str:
    """The range an SLO ratio part was asked for (``28d``, ``5m``, ``2592000s``)."""
    match = re.search(r"\[((?:\d+[smhdwy])+)\]", expr)
    assert match, expr
    return match[1]
