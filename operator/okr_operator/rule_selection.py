"""Which Prometheus resources load a PrometheusRule, decided as prometheus-operator decides it.

prometheus-operator (v0.85, ``pkg/prometheus/server/rules.go`` and ``pkg/operator/rules.go``) puts a
PrometheusRule into a Prometheus's rule files when both selectors of the ``Prometheus`` resource match:

* ``spec.ruleSelector`` against the rule's labels. Not set (nil) selects **no** rule; ``{}`` selects every
  rule (``metav1.LabelSelectorAsSelector``: nil -> ``labels.Nothing()``, empty -> ``labels.Everything()``).
* ``spec.ruleNamespaceSelector`` against the labels of the rule's namespace. Not set (nil) means only the
  Prometheus's own namespace; ``{}`` means every namespace.

A selector the Kubernetes library refuses (an unknown operator, ``In`` without values...) makes
prometheus-operator fail that Prometheus's reconcile, so it selects nothing. Pure: no Kubernetes client;
the kube adapter reads the resources (:class:`SelectionView`) and the reconcile turns a :class:`Verdict`
into the ``RulesSynced`` condition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SHOWN = 4  # Prometheuses named in a message before "and N more"

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_LABEL_NAME = re.compile(rf"^{_NAME}$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class SelectorError(ValueError):
    """A label selector the Kubernetes library would refuse; the message says what is wrong."""


@dataclass(frozen=True)
class PrometheusSelectors:
    """The two rule selectors of one ``Prometheus`` resource, as the API shows them (None: not set)."""

    namespace: str
    name: str
    rule_selector: Mapping[str, Any] | None = None
    rule_namespace_selector: Mapping[str, Any] | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> PrometheusSelectors:
        meta, spec = body.get("metadata") or {}, body.get("spec") or {}
        return cls(
            meta.get("namespace") or "default",
            meta.get("name", ""),
            spec.get("ruleSelector"),
            spec.get("ruleNamespaceSelector"),
        )

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class SelectionView:
    """What the operator could see: the Prometheus resources, the namespaces' labels, or why not.

    ``unavailable`` says why no Prometheus resource can be compared (none exist, the CRD is missing, no
    permission, the read failed); ``namespace_labels`` is None when namespaces were not read (only nil and
    ``{}`` namespace selectors can then be decided) and ``namespace_problem`` says why, if they were needed.
    """

    prometheuses: tuple[PrometheusSelectors, ...] = ()
    namespace_labels: Mapping[str, Mapping[str, str]] | None = None
    unavailable: str | None = None
    namespace_problem: str | None = None  # why namespace_labels is None when a selector needed them


@dataclass(frozen=True)
class Verdict:
    """Whether a rule is loaded: who selects it, why each other Prometheus does not, what is undecidable."""

    selected_by: tuple[str, ...] = ()
    not_selected: tuple[str, ...] = ()  # "monitoring/k8s: ruleSelector ... does not match the rule's labels"
    undecided: tuple[str, ...] = ()
    unavailable: str | None = None
    compared: dict[str, str] = field(default_factory=dict)  # what the rule showed: its labels, its namespace's

    @property
    def selected(self) -> bool | None:
        """True: loaded; False: no Prometheus loads it; None: cannot tell."""
        if self.selected_by:
            return True
        if self.unavailable or self.undecided:
            return None
        return False


# ----------------------------------------------------------------------------------- label selectors


def _check_key(key: Any) -> None:
    text = str(key)
    prefix, slash, name = text.rpartition("/")
    ok = bool(name) and len(name) <= 63 and _LABEL_NAME.match(name) is not None
    if slash:
        ok = ok and bool(prefix) and len(prefix) <= 253 and _DNS_SUBDOMAIN.match(prefix) is not None
    if not ok:
        raise SelectorError(f"label key {text!r} is not a valid label name")


def _check_value(key: str, value: Any) -> None:
    text = str(value)
    if len(text) > 63 or (text and _LABEL_NAME.match(text) is None):
        raise SelectorError(f"label value {text!r} of {key!r} is not a valid label value")


def _requirements(selector: Mapping[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(key, operator, values) of a LabelSelector, validated like ``metav1.LabelSelectorAsSelector``."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for key, value in sorted((selector.get("matchLabels") or {}).items()):
        _check_key(key)
        _check_value(key, value)
        out.append((str(key), "=", (str(value),)))
    for expr in selector.get("matchExpressions") or []:
        key, op, values = str(expr.get("key", "")), expr.get("operator"), tuple(map(str, expr.get("values") or ()))
        _check_key(key)
        if op not in _OPERATORS:
            raise SelectorError(f"{op!r} is not a valid label selector operator (use {', '.join(_OPERATORS)})")
        if op in ("In", "NotIn") and not values:
            raise SelectorError(f"{key} {op}: the values set can't be empty")
        if op in ("Exists", "DoesNotExist") and values:
            raise SelectorError(f"{key} {op}: values set must be empty")
        for value in values:
            _check_value(key, value)
        out.append((key, op, values))
    return out


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a (non-nil) LabelSelector matches ``labels``; ``{}`` matches everything.

    Raises :class:`SelectorError` for a selector Kubernetes refuses.
    """
    for key, op, values in _requirements(selector):
        present = key in labels
        if op == "=" and not (present and labels[key] == values[0]):
            return False
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def describe_selector(selector: Mapping[str, Any] | None) -> str:
    """A selector in kubectl's ``-l`` syntax (``release=kube-prometheus-stack,team in (a,b)``); nil and {} named."""
    if selector is None:
        return "<nil>"
    parts: list[str] = []
    for key, value in sorted((selector.get("matchLabels") or {}).items()):
        parts.append(f"{key}={value}")
    for expr in selector.get("matchExpressions") or []:
        parts.append(_describe_expression(expr))
    return ",".join(parts) or "{}"


def _describe_expression(expr: Mapping[str, Any]) -> str:
    key, op, values = expr.get("key", ""), expr.get("operator"), ",".join(map(str, expr.get("values") or ()))
    if op == "Exists":
        return str(key)
    if op == "DoesNotExist":
        return f"!{key}"
    word = {"In": "in", "NotIn": "notin"}.get(str(op), str(op))
    return f"{key} {word} ({values})"


def describe_labels(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "no labels"


# ----------------------------------------------------------------------------------- selection


def _namespace_verdict(
    prom: PrometheusSelectors, namespace: str, namespace_labels: Mapping[str, Mapping[str, str]] | None
) -> tuple[bool | None, str]:
    """(selects the namespace?, why not / why undecided)."""
    selector = prom.rule_namespace_selector
    if selector is None:
        if namespace == prom.namespace:
            return True, ""
        return False, f"ruleNamespaceSelector is not set, which selects only its own namespace {prom.namespace}"
    shown = describe_selector(selector)
    try:
        _requirements(selector)
    except SelectorError as exc:
        return False, f"ruleNamespaceSelector {shown} is invalid ({exc}), so it selects nothing"
    if not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return True, ""
    if namespace_labels is None:
        return None, f"ruleNamespaceSelector {shown} needs the labels of namespace {namespace}, which cannot be read"
    if namespace not in namespace_labels:
        return None, f"ruleNamespaceSelector {shown}: namespace {namespace} not seen yet"
    if selector_matches(selector, namespace_labels[namespace]):
        return True, ""
    labels = describe_labels(namespace_labels[namespace])
    return False, f"ruleNamespaceSelector {shown} does not match namespace {namespace} ({labels})"


def _label_verdict(prom: PrometheusSelectors, labels: Mapping[str, str]) -> tuple[bool, str]:
    selector = prom.rule_selector
    if selector is None:
        return False, "ruleSelector is not set, which selects no rules"
    shown = describe_selector(selector)
    try:
        if selector_matches(selector, labels):
            return True, ""
    except SelectorError as exc:
        return False, f"ruleSelector {shown} is invalid ({exc}), so it selects nothing"
    return False, f"ruleSelector {shown} does not match the rule's labels"


def select(view: SelectionView, namespace: str, labels: Mapping[str, str]) -> Verdict:
    """Decide which of the visible Prometheus resources load a rule in ``namespace`` with ``labels``."""
    compared = {"labels": describe_labels(labels)}
    if view.namespace_labels is not None and namespace in view.namespace_labels:
        compared["namespace"] = f"{namespace} ({describe_labels(view.namespace_labels[namespace])})"
    if view.unavailable:
        return Verdict(unavailable=view.unavailable, compared=compared)
    selected, refused, undecided = [], [], []
    for prom in sorted(view.prometheuses, key=lambda p: (p.namespace, p.name)):
        by_labels, label_why = _label_verdict(prom, labels)
        by_namespace, namespace_why = _namespace_verdict(prom, namespace, view.namespace_labels)
        if by_labels and by_namespace:
            selected.append(prom.key)
        elif by_labels is False or by_namespace is False:
            refused.append(f"{prom.key}: {'; '.join(w for w in (label_why, namespace_why) if w)}")
        else:
            undecided.append(f"{prom.key}: {namespace_why}")
    return Verdict(tuple(selected), tuple(refused), tuple(undecided), compared=compared)


def _some(items: tuple[str, ...]) -> str:
    shown = "; ".join(items[:SHOWN])
    return shown + (f"; and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def summary(verdict: Verdict, rule: str) -> tuple[str, str]:
    """(reason, message) for the RulesSynced condition of an applied ``rule`` (``namespace/name``)."""
    if verdict.selected_by:
        return "Selected", f"loaded by Prometheus {', '.join(verdict.selected_by[:SHOWN])}" + (
            f" and {len(verdict.selected_by) - SHOWN} more" if len(verdict.selected_by) > SHOWN else ""
        )
    if verdict.unavailable:
        return "Applied", f"cannot tell whether a Prometheus loads PrometheusRule {rule}: {verdict.unavailable}"
    compared = f"the rule has {verdict.compared['labels']}"
    if "namespace" in verdict.compared:
        compared += f", its namespace {verdict.compared['namespace']}"
    if verdict.undecided:
        detail = _some(verdict.undecided + verdict.not_selected)
        return "Applied", f"cannot tell whether a Prometheus loads PrometheusRule {rule} ({compared}): {detail}"
    return (
        "NotSelected",
        f"no Prometheus selects PrometheusRule {rule}, so its rules are not loaded and its alerts never fire "
        f"({compared}): {_some(verdict.not_selected)}. Put the labels a ruleSelector wants on generated rules "
        "(OKR_RULE_LABELS, chart value ruleLabels) or widen the Prometheus's selectors",
    )
