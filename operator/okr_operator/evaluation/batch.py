"""Batched PromQL: one query answers a question for every object at once.

Each object's expression is tagged with identity labels by ``label_replace`` and the tagged expressions
are joined with ``or``; the answer is split back by those labels. The number of queries per evaluation
cycle therefore depends on the number of distinct windows, never on the number of objects.

The ``or`` joins form a balanced tree (``union``), not a chain: Prometheus evaluates ``a or b`` by hashing
every series of ``a``, so a chain of n members hashes n^2/2 series (3 000 members: 5 s of Prometheus CPU
per query for the joins alone, 0.07 s balanced; docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..api.promql import canonical, value_type
from ..prometheus.types import PrometheusError, Sample
from ..promtext import quote

# Identity labels added to batched answers. Prefixed so they cannot collide with a user query's labels.
OBJ_NAMESPACE = "okr_namespace"
OBJ_NAME = "okr_name"

Key = tuple[str, str]  # (namespace, name)
QueryFn = Callable[[str], list[Sample]]


class TimedQueryFn(Protocol):
    """A query function that can also answer as of another instant than its own (``at``)."""

    def __call__(self, expr: str, at: datetime | None = None) -> list[Sample]: ...


def tag(expr: str, namespace: str, name: str) -> str:
    """``expr`` (user PromQL, printed from its syntax tree) with the identity labels of one object attached;
    a scalar becomes a one-series vector first (label_replace takes vectors only)."""
    expr = canonical(expr)
    if value_type(expr) == "scalar":
        expr = f"vector({expr})"
    return _labelled(expr, namespace, name)


def _labelled(expr: str, namespace: str, name: str) -> str:
    inner = f'label_replace(({expr}), "{OBJ_NAME}", {quote(name)}, "", "")'
    return f'label_replace({inner}, "{OBJ_NAMESPACE}", {quote(namespace)}, "", "")'


@dataclass(frozen=True)
class Printed:
    """A vector expression the operator assembled from canonical pieces (``canonical`` output, our record
    names, numbers, ranges and ``@`` times) and its own operators: tagged as it is, without printing it again
    (its ranges and times change every cycle, so a printed-form cache would never hit)."""

    text: str


UNION_OPEN, UNION_OR, UNION_CLOSE = "(\n", "\nor\n", "\n)"


def union(exprs: Sequence[str]) -> str:
    """``exprs`` joined with ``or`` as a balanced tree, each join in parentheses on lines of their own:
    ``(\\na\\nor\\nb\\n)``. The members must have distinct label sets (``or`` keeps the left one)."""
    if len(exprs) == 1:
        return exprs[0]
    middle = len(exprs) // 2
    return f"{UNION_OPEN}{union(exprs[:middle])}{UNION_OR}{union(exprs[middle:])}{UNION_CLOSE}"


def union_members(text: str) -> list[str]:
    """The members of a ``union`` (for fakes and tests): it splits on the join lines and drops the
    parentheses the tree added around them."""
    members = []
    for part in text.split(UNION_OR):
        while part.startswith(UNION_OPEN):
            part = part[len(UNION_OPEN) :]
        while part.endswith(UNION_CLOSE):
            part = part[: -len(UNION_CLOSE)]
        members.append(part)
    return members


def batch(parts: Iterable[tuple[Key, str]]) -> str:
    """One query for all ``(key, expr)`` parts."""
    return union([tag(expr, ns, name) for (ns, name), expr in parts])


@dataclass
class Answer:
    """Values per object from one batched query, the error that stopped it, or the members at fault."""

    values: dict[Key, list[Sample]] = field(default_factory=dict)
    error: PrometheusError | None = None  # the whole query failed (e.g. Prometheus unreachable)
    member_errors: dict[Key, PrometheusError] = field(default_factory=dict)  # these members' queries failed

    def of(self, key: Key) -> list[Sample]:
        return self.values.get(key, [])

    def error_for(self, key: Key) -> PrometheusError | None:
        """Why ``key`` has no answer this cycle: its own query failed, or the whole batch did."""
        return self.member_errors.get(key) or self.error

    def merged(self, other: Answer) -> Answer:
        return Answer(
            {**self.values, **other.values},
            self.error or other.error,
            {**self.member_errors, **other.member_errors},
        )


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
    """Run one query (not split: e.g. over our recording rules); a failure is kept in the answer."""
    try:
        return split(query(expr), **labels)
    except PrometheusError as exc:
        return Answer(error=exc)


# Extra queries one batch may spend finding its failing members (about 2 log2(n) per bad member).
MAX_SPLIT_QUERIES = 64


def run_parts(query: QueryFn, parts: Iterable[tuple[Key, str | Printed | Callable[[], str | Printed]]]) -> Answer:
    """One query for every ``(key, expr)`` part. When Prometheus refuses it (a query error, not an outage),
    the batch is split in halves until the failing members are found: only they get the error, everyone
    else gets their values of the same cycle. Without a failure this is exactly one query.

    ``expr`` may be a function building the expression (text or ``Printed``): a member whose expression cannot
    be built or spliced is failed alone, without a query."""
    tagged: list[tuple[Key, str]] = []
    answer = Answer()
    for key, expr in parts:
        try:
            built = expr() if callable(expr) else expr
            tagged.append((key, _labelled(built.text, *key) if isinstance(built, Printed) else tag(built, *key)))
        except ValueError as exc:  # PromQLError: refused before anything is sent
            answer.member_errors[key] = PrometheusError("QueryFailed", f"the query cannot be used: {exc}")
    budget = [MAX_SPLIT_QUERIES]
    return answer.merged(_bisect(query, tagged, budget)) if tagged else answer


def _bisect(query: QueryFn, tagged: list[tuple[Key, str]], budget: list[int]) -> Answer:
    try:
        return split(query(union([expr for _, expr in tagged])))
    except PrometheusError as exc:
        if not exc.refused:
            return Answer(error=exc)
        if len(tagged) == 1 or budget[0] <= 0:
            return Answer(member_errors={key: exc for key, _ in tagged})
        budget[0] -= 2
        middle = len(tagged) // 2
        return _bisect(query, tagged[:middle], budget).merged(_bisect(query, tagged[middle:], budget))
