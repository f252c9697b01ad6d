"""prometheus-operator's rule selection (ruleSelector, ruleNamespaceSelector, nil vs empty), decided offline."""

import ast
from pathlib import Path

import pytest

import okr_operator.rule_selection as rs
from okr_operator.rule_selection import (
    PrometheusSelectors,
    SelectionView,
    SelectorError,
    Verdict,
    describe_selector,
    select,
    selector_matches,
    summary,
)

OURS = {"app.kubernetes.io/managed-by": "okr-operator", "okr.dev/owner": "checkout-availability"}
KPS = {"matchLabels": {"release": "kube-prometheus-stack"}}
NAMESPACES = {
    "team-a": {"kubernetes.io/metadata.name": "team-a", "team": "checkout"},
    "team-b": {"kubernetes.io/metadata.name": "team-b"},
    "monitoring": {"kubernetes.io/metadata.name": "monitoring"},
}


def prom(rule=None, namespaces=None, name="k8s", namespace="monitoring") -> PrometheusSelectors:
    return PrometheusSelectors(namespace, name, rule, namespaces)


def view(*proms: PrometheusSelectors, namespace_labels=NAMESPACES) -> SelectionView:
    return SelectionView(tuple(proms), namespace_labels)


# ----------------------------------------------------------------------------- label selectors


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, {}, True),
        ({"matchLabels": {}}, {"a": "1"}, True),
        (KPS, OURS, False),
        (KPS, {**OURS, "release": "kube-prometheus-stack"}, True),
        (KPS, {"release": "other"}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}, {"tier": "b"}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}, {"tier": "c"}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]}, {}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}, {}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}, {"tier": "a"}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"tier": ""}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"tier": "x"}, False),
        (
            {"matchLabels": {"release": "k"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]},
            {"release": "k"},
            False,
        ),
    ],
)
def test_selector_matches_like_kubernetes(selector, labels, expected):
    assert selector_matches(selector, labels) is expected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, "a In: the values set can't be empty"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "a Exists: values set must be"),
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, "'Gt' is not a valid label selector"),
        ({"matchLabels": {"bad key": "x"}}, "label key 'bad key' is not a valid label name"),
        ({"matchLabels": {"a": "not ok"}}, "label value 'not ok' of 'a' is not a valid label value"),
        ({"matchLabels": {"Example.com/a": "x"}}, "label key 'Example.com/a'"),
    ],
)
def test_selectors_kubernetes_refuses_raise(selector, message):
    with pytest.raises(SelectorError, match=message.replace("(", r"\(")):
        selector_matches(selector, {})


def test_describe_selector_uses_kubectl_syntax():
    assert describe_selector(None) == "<nil>"
    assert describe_selector({}) == "{}"
    assert describe_selector(KPS) == "release=kube-prometheus-stack"
    expressions = {
        "matchLabels": {"z": "1", "a": "2"},
        "matchExpressions": [
            {"key": "t", "operator": "In", "values": ["x", "y"]},
            {"key": "u", "operator": "NotIn", "values": ["v"]},
            {"key": "e", "operator": "Exists"},
            {"key": "d", "operator": "DoesNotExist"},
        ],
    }
    assert describe_selector(expressions) == "a=2,z=1,t in (x,y),u notin (v),e,!d"


# ----------------------------------------------------------------------------- nil vs empty


def test_nil_rule_selector_selects_no_rule_and_empty_selects_every_rule():
    nil = select(view(prom(None, {})), "team-a", OURS)
    assert nil.selected is False
    assert nil.not_selected == ("monitoring/k8s: ruleSelector is not set, which selects no rules",)
    assert select(view(prom({}, {})), "team-a", OURS).selected_by == ("monitoring/k8s",)


def test_nil_namespace_selector_means_only_the_prometheus_namespace():
    assert select(view(prom({}, None)), "monitoring", OURS).selected_by == ("monitoring/k8s",)
    elsewhere = select(view(prom({}, None)), "team-a", OURS)
    assert elsewhere.selected is False
    assert elsewhere.not_selected == (
        "monitoring/k8s: ruleNamespaceSelector is not set, which selects only its own namespace monitoring",
    )


def test_empty_namespace_selector_means_every_namespace_even_unreadable_ones():
    verdict = select(view(prom({}, {}), namespace_labels=None), "anywhere", OURS)
    assert verdict.selected_by == ("monitoring/k8s",)


def test_namespace_selector_compares_the_namespace_labels():
    p = prom({}, {"matchLabels": {"team": "checkout"}})
    assert select(view(p), "team-a", OURS).selected_by == ("monitoring/k8s",)
    other = select(view(p), "team-b", OURS)
    assert other.selected is False
    assert other.not_selected == (
        "monitoring/k8s: ruleNamespaceSelector team=checkout does not match namespace team-b "
        "(kubernetes.io/metadata.name=team-b)",
    )


def test_both_reasons_are_given_when_both_selectors_refuse():
    verdict = select(view(prom(KPS, {"matchLabels": {"team": "checkout"}})), "team-b", OURS)
    assert verdict.not_selected == (
        "monitoring/k8s: ruleSelector release=kube-prometheus-stack does not match the rule's labels; "
        "ruleNamespaceSelector team=checkout does not match namespace team-b (kubernetes.io/metadata.name=team-b)",
    )


def test_invalid_selectors_select_nothing():
    bad = {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}
    assert select(view(prom(bad, {})), "team-a", OURS).not_selected == (
        "monitoring/k8s: ruleSelector a in () is invalid (a In: the values set can't be empty), so it selects nothing",
    )
    verdict = select(view(prom({}, bad)), "team-a", OURS)
    assert verdict.selected is False
    assert "ruleNamespaceSelector a in () is invalid" in verdict.not_selected[0]


# ----------------------------------------------------------------------------- cannot tell


def test_unreadable_namespaces_leave_label_namespace_selectors_undecided():
    p = prom({}, {"matchLabels": {"team": "checkout"}})
    verdict = select(view(p, namespace_labels=None), "team-a", OURS)
    assert verdict.selected is None
    assert verdict.undecided == (
        "monitoring/k8s: ruleNamespaceSelector team=checkout needs the labels of namespace team-a, "
        "which cannot be read",
    )
    unseen = select(view(p, namespace_labels={}), "new-ns", OURS)
    assert unseen.selected is None
    assert unseen.undecided == ("monitoring/k8s: ruleNamespaceSelector team=checkout: namespace new-ns not seen yet",)


def test_a_label_mismatch_is_decided_even_when_namespaces_cannot_be_read():
    verdict = select(view(prom(KPS, {"matchLabels": {"team": "x"}}), namespace_labels=None), "team-a", OURS)
    assert verdict.selected is False


def test_nothing_visible_is_not_a_guess():
    verdict = select(SelectionView(unavailable="no Prometheus resource exists in the cluster"), "team-a", OURS)
    assert verdict.selected is None
    assert summary(verdict, "team-a/r") == (
        "Applied",
        "cannot tell whether a Prometheus loads PrometheusRule team-a/r: no Prometheus resource exists in the cluster",
    )


# ----------------------------------------------------------------------------- several Prometheuses, messages


def test_one_selecting_prometheus_is_enough_and_is_named():
    verdict = select(
        view(prom(KPS, {}, name="main"), prom({}, None, name="team", namespace="team-a"), prom({}, {}, name="z")),
        "team-a",
        OURS,
    )
    assert verdict.selected_by == ("monitoring/z", "team-a/team")
    assert verdict.not_selected == (
        "monitoring/main: ruleSelector release=kube-prometheus-stack does not match the rule's labels",
    )
    assert summary(verdict, "team-a/r") == ("Selected", "loaded by Prometheus monitoring/z, team-a/team")


def test_not_selected_message_names_what_was_compared_and_the_fix():
    verdict = select(view(prom(KPS, {})), "team-a", OURS)
    reason, message = summary(verdict, "team-a/checkout-availability-slo")
    assert reason == "NotSelected"
    assert message == (
        "no Prometheus selects PrometheusRule team-a/checkout-availability-slo, so its rules are not loaded and "
        "its alerts never fire (the rule has app.kubernetes.io/managed-by=okr-operator,"
        "okr.dev/owner=checkout-availability, its namespace team-a (kubernetes.io/metadata.name=team-a,"
        "team=checkout)): monitoring/k8s: ruleSelector release=kube-prometheus-stack does not match the rule's "
        "labels. Put the labels a ruleSelector wants on generated rules (OKR_RULE_LABELS, chart value ruleLabels) "
        "or widen the Prometheus's selectors"
    )


def test_undecided_summary_keeps_status_true_and_says_why():
    p = prom({}, {"matchLabels": {"team": "checkout"}})
    reason, message = summary(select(view(p, prom(KPS, {}, name="b"), namespace_labels=None), "team-a", OURS), "ns/r")
    assert reason == "Applied"
    assert message == (
        "cannot tell whether a Prometheus loads PrometheusRule ns/r (the rule has "
        "app.kubernetes.io/managed-by=okr-operator,okr.dev/owner=checkout-availability): monitoring/k8s: "
        "ruleNamespaceSelector team=checkout needs the labels of namespace team-a, which cannot be read; "
        "monitoring/b: ruleSelector release=kube-prometheus-stack does not match the rule's labels"
    )


def test_long_lists_are_cut_after_four():
    proms = [prom(KPS, {}, name=f"p{i}") for i in range(7)]
    _, message = summary(select(view(*proms), "team-a", OURS), "ns/r")
    assert message.count("does not match") == 4 and "; and 3 more." in message
    many = Verdict(selected_by=tuple(f"ns/p{i}" for i in range(6)))
    assert summary(many, "ns/r") == ("Selected", "loaded by Prometheus ns/p0, ns/p1, ns/p2, ns/p3 and 2 more")


def test_from_body_reads_the_two_selectors_and_keeps_nil():
    body = {
        "metadata": {"name": "k8s", "namespace": "monitoring"},
        "spec": {"ruleSelector": KPS, "serviceMonitorSelector": {}},
    }
    p = PrometheusSelectors.from_body(body)
    assert (p.key, p.rule_selector, p.rule_namespace_selector) == ("monitoring/k8s", KPS, None)


def test_the_module_is_pure():
    tree = ast.parse(Path(rs.__file__).read_text())
    imported = {
        (n.module or "").split(".")[0] if isinstance(n, ast.ImportFrom) else a.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [None])  # type: ignore[list-item]
    }
    assert imported <= {"__future__", "re", "collections", "dataclasses", "typing"}
