"""The operator's RBAC needs, one rule per thing it does, and the least-privilege check of rendered Roles.

``CLUSTER_RULES``, ``NAMESPACED_RULES`` and ``lease_rules`` are the single source: ``config/rbac`` and the
Helm chart must grant exactly these (tests compare them), and the end-to-end tests check every permission
with the real authorizer. ``rbac_problems`` says why a rendered (Cluster)Role is not least privilege.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..api import GROUP, KINDS

DEFAULT_LEASE = "okr-operator-evaluation"


@dataclass(frozen=True)
class Rule:
    """One RBAC PolicyRule and the reason the operator needs it."""

    api_group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str
    resource_names: tuple[str, ...] = ()

    def policy_rule(self) -> dict[str, Any]:
        """The rule as it appears in a (Cluster)Role."""
        rule: dict[str, Any] = {"apiGroups": [self.api_group], "resources": list(self.resources)}
        if self.resource_names:
            rule["resourceNames"] = list(self.resource_names)
        rule["verbs"] = list(self.verbs)
        return rule

    def permissions(self) -> list[tuple[str, str, str]]:
        """(verb, resource, api group) triples, e.g. ("patch", "objectives/status", "okr.dev")."""
        return [(verb, res, self.api_group) for res in self.resources for verb in self.verbs]


_PLURALS = tuple(info.plural for info in KINDS.values())

_OKR_RULES: tuple[Rule, ...] = (
    Rule(GROUP, _PLURALS, ("get", "list", "watch", "patch"), "watch our kinds; kopf patches its annotations"),
    Rule(GROUP, tuple(f"{p}/status" for p in _PLURALS), ("patch",), "write the computed status"),
    Rule(
        GROUP,
        tuple(f"{p}/finalizers" for p in _PLURALS),
        ("update",),
        "owner references with blockOwnerDeletion on generated objects",
    ),
    Rule(
        "monitoring.coreos.com",
        ("prometheusrules",),
        ("get", "list", "watch", "create", "patch", "delete"),
        "server-side apply of generated PrometheusRules; list/watch to notice drift; delete when no longer wanted",
    ),
    Rule(
        "argoproj.io",
        ("analysistemplates",),
        ("get", "list", "watch", "create", "patch", "delete"),
        "server-side apply of generated AnalysisTemplates (canary gates); delete when the gate is disabled",
    ),
    Rule("", ("events",), ("create", "patch"), "events on our objects (kopf's and the operator's, core/v1)"),
)

_CRD_DISCOVERY = Rule(
    "apiextensions.k8s.io",
    ("customresourcedefinitions",),
    ("list", "watch"),
    "kopf notices CRDs that appear later (e.g. PrometheusRule)",
)

# Optional: without them the operator works, and RulesSynced says it cannot tell (docs/rule-selection.md).
_PROMETHEUS_SELECTORS = Rule(
    "monitoring.coreos.com",
    ("prometheuses",),
    ("list",),
    "read the Prometheus resources' rule selectors: RulesSynced says which one loads a generated rule (optional)",
)

CLUSTER_RULES: tuple[Rule, ...] = (
    *_OKR_RULES,
    Rule("kopf.dev", ("clusterkopfpeerings",), ("get", "list", "watch", "patch"), "kopf peering (cluster-wide)"),
    _CRD_DISCOVERY,
    _PROMETHEUS_SELECTORS,
    Rule("", ("namespaces",), ("list",), "namespace labels for a Prometheus's ruleNamespaceSelector (optional)"),
)
"""ClusterRole rules of a cluster-wide operator (OKR_NAMESPACES empty): config/rbac and the chart's default.

kopf never lists namespaces and never touches KopfPeering in that mode (see kopf's
``namespace_observer`` and ``peering``); ``list namespaces`` is granted for the rule-selection read only.
"""

NAMESPACE_RULES: tuple[Rule, ...] = (
    *_OKR_RULES,
    Rule("kopf.dev", ("kopfpeerings",), ("get", "list", "watch", "patch"), "kopf peering (per watched namespace)"),
)
"""Role rules in each watched namespace of a namespace-scoped install (the chart's ``watchNamespaces``,
config/namespaced): every write the operator makes, granted only where it works."""

NAMESPACED_CLUSTER_RULES: tuple[Rule, ...] = (
    _CRD_DISCOVERY,
    _PROMETHEUS_SELECTORS,
    Rule(
        "",
        ("namespaces",),
        ("list", "watch"),
        "kopf follows the watched namespaces being created/deleted; their labels for ruleNamespaceSelector",
    ),
)
"""The ClusterRole of a namespace-scoped install: reads only, no cluster-wide write."""

NAMESPACED_RULES: tuple[Rule, ...] = (*NAMESPACE_RULES, *NAMESPACED_CLUSTER_RULES)
"""Everything a namespace-scoped operator may do (Role rules plus ClusterRole rules)."""

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


def writes(rules: Iterable[Rule]) -> list[tuple[str, str, str]]:
    """The (verb, resource, group) permissions of ``rules`` that change something."""
    return [p for rule in rules for p in rule.permissions() if p[0] in WRITE_VERBS]


def lease_rules(*leases: str) -> tuple[Rule, ...]:
    """Role rules in the operator's namespace for the Lease guarding the evaluation loop (one per shard when the
    operator is sharded; none given: the default Lease)."""
    return (
        Rule("coordination.k8s.io", ("leases",), ("create",), "create the Lease (create cannot be name-restricted)"),
        Rule(
            "coordination.k8s.io",
            ("leases",),
            ("get", "update"),
            "hold and renew the Lease",
            leases or (DEFAULT_LEASE,),
        ),
    )


def policy_rules(rules: Iterable[Rule]) -> list[dict[str, Any]]:
    """The ``rules:`` list of a (Cluster)Role."""
    return [rule.policy_rule() for rule in rules]


# Verbs that let a subject widen its own rights, and resources the operator must never read.
_DANGEROUS_VERBS = {"*", "escalate", "bind", "impersonate"}
_FORBIDDEN_RESOURCES = {"*", "secrets", "pods/exec", "serviceaccounts/token"}


def rbac_problems(obj: dict[str, Any]) -> list[str]:
    """Why a (Cluster)Role is not least privilege: wildcards, escalation verbs, secrets. Empty when fine."""
    problems = []
    name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    for i, rule in enumerate(obj.get("rules") or []):
        where = f"{name} rule {i}"
        for key in ("apiGroups", "resources", "verbs", "resourceNames"):
            if "*" in (rule.get(key) or []):
                problems.append(f"{where}: wildcard in {key}")
        if rule.get("nonResourceURLs"):
            problems.append(f"{where}: nonResourceURLs")
        for verb in set(rule.get("verbs") or []) & (_DANGEROUS_VERBS - {"*"}):
            problems.append(f"{where}: verb {verb}")
        for res in set(rule.get("resources") or []) & (_FORBIDDEN_RESOURCES - {"*"}):
            problems.append(f"{where}: resource {res}")
    if obj.get("aggregationRule"):
        problems.append(f"{name}: aggregationRule")
    return problems
