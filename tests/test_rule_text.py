"""Text the renderers write: PromQL printed from its syntax tree, le values as Prometheus 3 stores them,
Go durations for Argo Rollouts, hash-shortened names and template-safe labels (exact strings)."""

from __future__ import annotations

import promql_parser
import pytest

from okr_operator.api.promql import PromQLError, canonical, check_no_templates, value_type
from okr_operator.generated import generated_name, label_value, shortened
from okr_operator.promtext import literal_labels, literal_text, openmetrics_float, quote
from okr_operator.slo.gate import go_duration

ROUND_TRIPS = [
    ('sum(rate(x{a=~"5\\\\.."}[1h30m] offset -5m))', 'sum(rate(x{a=~"5\\\\.."}[1h30m] offset -5m))'),
    ('x{a="\\\\"}', 'x{a="\\\\"}'),
    ('x{a="q\\"uote"}', 'x{a="q\\"uote"}'),
    ("x{a='single'}", 'x{a="single"}'),
    ("sum(x) by (a)", "sum by (a) (x)"),
    ("max_over_time(x[1h:])", "max_over_time(x[1h:])"),
    ("max_over_time(x[1h:1m])", "max_over_time(x[1h:1m])"),
    ("a / on() group_left(b) c", "a / on () group_left (b) c"),
    ('x{"utf8.name"="1"}', 'x{"utf8.name"="1"}'),
    ('{"utf8.metric", a="b"}', '{__name__="utf8.metric",a="b"}'),
    ("x # comment\n", "x"),
    ("rate(x[4w])", "rate(x[28d])"),
    ("x @ start()", "x @ start()"),
    ("0x10 + Inf", "16 + +Inf"),
    ("-(x)", "-(x)"),
    ("2 ^ 3 ^ 2", "2 ^ 3 ^ 2"),
    ("topk(3, x)", "topk(3, x)"),
    ('label_replace(x, "d", "$1", "s", "(.*)")', 'label_replace(x, "d", "$1", "s", "(.*)")'),
    ("x > bool 1", "x > bool 1"),
]


@pytest.mark.parametrize(("source", "printed"), ROUND_TRIPS)
def test_canonical_form_keeps_the_meaning(source: str, printed: str):
    assert canonical(source) == printed
    assert repr(promql_parser.parse(printed)) == repr(promql_parser.parse(source))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("mad_over_time(x[5m])", "uses mad_over_time(), an experimental PromQL function"),
        ("limitk(2, x)", "uses limitk()"),
        ('x{a="b" or c="d"}', "'or' inside a selector's braces"),
        ("sum(x", "is not valid PromQL"),
    ],
)
def test_canonical_form_refuses(source: str, message: str):
    with pytest.raises(PromQLError, match=message.replace("(", r"\(").replace(")", r"\)")):
        canonical(source)


def test_value_types():
    assert [value_type(e) for e in ("up", "1", "scalar(up)", "time() - 1", "up[5m]", '"s"', "up + 1")] == [
        "vector",
        "scalar",
        "scalar",
        "scalar",
        "matrix",
        "string",
        "vector",
    ]


def test_template_delimiters_only_as_placeholders():
    check_no_templates("x[{{window}}]", what="e", allowed=("{{window}}",))
    for bad in ("{{args.x}}", "a}}b", 'x{a="{{"}'):
        with pytest.raises(PromQLError, match="template delimiters"):
            check_no_templates(bad, what="e", allowed=("{{window}}",))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e6, "1e+06"),
        (0.0005, "0.0005"),
        (2.5, "2.5"),
        (1e-06, "1e-06"),
        (float("inf"), "+Inf"),
        (1, "1.0"),
        (0, "0.0"),
        (100000, "100000.0"),
        (1234567, "1.234567e+06"),
        (0.25, "0.25"),
        (1e-05, "1e-05"),
        (0.00012, "0.00012"),
    ],
)
def test_le_values_as_prometheus_3_writes_them(value: float, text: str):
    assert openmetrics_float(value) == text


def test_quote_escapes_what_go_unquotes():
    assert quote('a"b\\c\nd\te\x01') == '"a\\"b\\\\c\\nd\\te\\x01"'


def test_template_text_is_literal():
    assert literal_text("{{ $labels.instance }}") == '{{ "{{" }} $labels.instance }}'
    assert literal_labels({"team": "{{ broken", "plain": "x"}) == {"team": '{{ "{{" }} broken', "plain": "x"}


@pytest.mark.parametrize(("value", "go"), [("1d", "24h"), ("1w", "168h"), ("90s", "90s"), ("5m", "5m"), ("2h", "2h")])
def test_gate_durations_in_go_units(value: str, go: str):
    assert go_duration(value) == go


def test_long_names_are_hash_shortened():
    assert generated_name("web", "kr") == "web-kr"
    long = generated_name("k" * 253, "kr")
    assert len(long) == 140 and long.startswith("k" * 100)
    assert long != generated_name("k" * 252 + "j", "kr")  # a different name gives a different hash
    assert len(label_value("x" * 64)) == 63 and label_value("x" * 63) == "x" * 63
    assert shortened("a" * 10, 10) == "a" * 10
