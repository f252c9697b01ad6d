"""Batched PromQL: one query answers a question for every object at once.

Each object's expression is tagged with identity labels by ``label_replace`` and the tagged expressions
are joined with ``or``; the answer is split back by those labels. The number of queries per evaluation
cycle therefore depends on the number of distinct windows, never on the number of objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..prometheus.types import PrometheusError, Sample
from ..promtext import quote

# Identity labels added to batched answers. Prefixed so they cannot collide with a user query's labels.
OBJ_NAMESPACE = "okr_namespace"
OBJ_NAME = "okr_name"

Key = tuple[str, str]  # (namespace, name)
QueryFn = Callable[[str], list[Sample]]


def tag(expr: str, namespace: str, name: str) -> str:
    """``expr`` with the identity labels of one object attached."""
    inner = f'label_replace(({expr}), "{OBJ_NAME}", {quote(name)}, "", "")'
    return f'label_replace({inner}, "{OBJ_NAMESPACE}", {quote(namespace)}, "", "")'


def batch(parts: Iterable[tuple[Key, str]]) -> str:
    """One query for all ``(key, expr)`` parts."""
    return "\nor\n".join(tag(expr, ns, name) for (ns, name), expr in parts)


@dataclass
class Answer:
    """Values per object from one batched query, or the error that stopped it."""

    values: dict[Key, list[Sample]] = field(default_factory=dict)
    error: PrometheusError | None = None

    def of(self, key: Key) -> list[Sample]:
        return self.values.get(key, [])


def split(samples: list[Sample], *, namespace_label: str = OBJ_NAMESPACE, name_label: str = OBJ_NAME) -> Answer:
    answer = Answer()
    for sample in samples:
        ns, name = sample.labels.get(namespace_label), sample.labels.get(name_label)
        if ns is None or name is None:
            continue
        rest = {k: v for k, v in sample.labels.items() if k not in (namespace_label, name_label)}
        answer.values.setdefault((ns, name), []).append(Sample(rest, sample.value))
    return answer


def run(query: QueryFn, expr: str, **labels: str) -> Answer:
    """Run one batched query; a failure is kept in the answer (the objects keep their last values)."""
    try:
        return split(query(expr), **labels)
    except PrometheusError as exc:
        return Answer(error=exc)
