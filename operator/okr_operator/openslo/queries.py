"""Prometheus queries between OpenSLO metric sources and okr.dev indicators.

okr.dev ratio expressions are rates of events over ``[{{window}}]``; OpenSLO queries written for Sloth (and
what okrctl exports) mark the range with ``{{.window}}``, which maps one to one. A query without the
placeholder is converted only when the result is exactly the same measurement:

- ``counter: true`` and a series selector, or ``sum``/``sum by (...)`` of one: the counter's rate over the
  window (``sum(rate(<selector>[{{window}}]))``); good/total of increases is good/total of rates.
- anything else (a gauge, other functions of a counter) has no exact event count over a window: refused.
"""

from __future__ import annotations

import re

import promql_parser

from ..api.promql import WINDOW_PLACEHOLDER, PromQLError, check_vector_selector, check_windowed
from ..slo.expressions import with_canary
from .documents import Refusal, get

OPENSLO_WINDOW = "{{.window}}"
_OPENSLO_WINDOW_RE = re.compile(r"\{\{\s*\.window\s*\}\}")
PROMETHEUS = "prometheus"
# v1alpha names the source in ``source`` and the language in ``queryType``; Sloth also accepts "sloth".
V1ALPHA_SOURCES = ("prometheus", "sloth")


def from_openslo_query(query: str, *, counter: bool, fld: str) -> str:
    """An OpenSLO Prometheus query as an okr.dev ratio expression (events over ``[{{window}}]``)."""
    text = _OPENSLO_WINDOW_RE.sub(WINDOW_PLACEHOLDER, query.strip())
    if "{{" in text.replace(WINDOW_PLACEHOLDER, ""):
        raise Refusal(fld, "the only template placeholder okr-operator fills in is {{.window}}")
    if WINDOW_PLACEHOLDER in text:
        try:
            check_windowed(text, what="the query")
        except PromQLError as exc:
            raise Refusal(fld, str(exc)) from None
        return text
    if not counter:
        raise Refusal(
            fld,
            "a query without [{{.window}}] over a gauge (counter: false) has no exact count of events over a "
            "window; write it as a rate over [{{.window}}], e.g. sum(rate(http_requests_total[{{.window}}]))",
        )
    return _counter_rate(text, fld)


def _counter_rate(text: str, fld: str) -> str:
    """``sum(rate(<selector>[{{window}}]))`` for a counter selector or a plain ``sum`` of one."""
    try:
        parsed = promql_parser.parse(text)
    except ValueError as exc:
        raise Refusal(fld, f"not valid PromQL ({exc}): {text}") from None
    if isinstance(parsed, promql_parser.VectorSelector) and _plain(parsed):
        return f"sum(rate({parsed}[{WINDOW_PLACEHOLDER}]))"
    if (
        isinstance(parsed, promql_parser.AggregateExpr)
        and str(parsed.op) == "sum"
        and parsed.param is None
        and isinstance(parsed.expr, promql_parser.VectorSelector)
        and _plain(parsed.expr)
    ):
        grouping = f" {parsed.modifier} " if parsed.modifier is not None else ""
        return f"sum{grouping}(rate({parsed.expr}[{WINDOW_PLACEHOLDER}]))"
    raise Refusal(
        fld,
        "counter: true: only a series selector or sum(...) of one can be turned into the counter's rate over the "
        "window; write the query with [{{.window}}], e.g. sum(rate(http_requests_total[{{.window}}]))",
    )


def _plain(selector: promql_parser.VectorSelector) -> bool:
    return selector.offset is None and selector.at is None


def to_openslo_query(expr: str) -> str:
    """An okr.dev ratio expression as an OpenSLO query: ``{{canary}}`` removed, ``{{window}}`` -> ``{{.window}}``."""
    return with_canary(expr, "").replace(WINDOW_PLACEHOLDER, OPENSLO_WINDOW)


def gauge_selector(query: str, fld: str) -> str:
    """A threshold metric's query, which must be a plain series selector (a 0/1 gauge such as probe_success)."""
    try:
        check_vector_selector(query.strip(), what="the query")
    except PromQLError:
        raise Refusal(
            fld,
            "a threshold metric is counted exactly only for a 0/1 gauge given as a series selector (e.g. "
            'probe_success{job="web"}): each sample is one event, good when it is 1; this query is not one',
        ) from None
    return query.strip()


def v1_query(metric: dict, fld: str, data_sources: dict[str, str]) -> str:
    """The query of a v1 ``{metricSource: {type, metricSourceRef, spec: {query}}}``; Prometheus sources only."""
    source = get(metric, "metricSource", f"{fld}.metricSource")
    if source is None:
        raise Refusal(f"{fld}.metricSource", "required")
    kind = get(source, "type", f"{fld}.metricSource.type", str)
    ref = get(source, "metricSourceRef", f"{fld}.metricSource.metricSourceRef", str)
    if kind is None and ref is not None:
        if ref not in data_sources:
            raise Refusal(
                f"{fld}.metricSource.metricSourceRef",
                f"DataSource {ref} is not in the given files, so its type (Prometheus or not) is unknown; "
                "add it or set metricSource.type: Prometheus",
            )
        kind = data_sources[ref]
    if (kind or "").lower() != PROMETHEUS:
        raise Refusal(
            f"{fld}.metricSource.type",
            f"{kind or 'no type'}: okr-operator measures SLOs with Prometheus queries only (type: Prometheus)",
        )
    spec = get(source, "spec", f"{fld}.metricSource.spec") or {}
    extra = sorted(set(spec) - {"query"})
    if extra:
        raise Refusal(f"{fld}.metricSource.spec.{extra[0]}", "unknown for a Prometheus source (it has query only)")
    query = get(spec, "query", f"{fld}.metricSource.spec.query", str)
    if not query:
        raise Refusal(f"{fld}.metricSource.spec.query", "required: the PromQL of this metric")
    return query


def v1alpha_query(metric: dict, fld: str) -> str:
    """The query of a v1alpha ``{source, queryType, query}``; Prometheus (or Sloth) PromQL only."""
    source = str(get(metric, "source", f"{fld}.source", str, "")).lower()
    if source not in V1ALPHA_SOURCES:
        raise Refusal(
            f"{fld}.source", f"{source or 'no source'}: okr-operator measures SLOs with Prometheus queries only"
        )
    query_type = str(get(metric, "queryType", f"{fld}.queryType", str, "")).lower()
    if query_type not in ("promql", "query"):
        raise Refusal(f"{fld}.queryType", f"{query_type or 'no queryType'}: only PromQL (promql or query) is supported")
    query = get(metric, "query", f"{fld}.query", str)
    if not query:
        raise Refusal(f"{fld}.query", "required: the PromQL of this metric")
    return query
