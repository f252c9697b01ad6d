"""Kubernetes adapter: server-side apply of generated objects, status writes, Events, a leader Lease, and a
read-only look at the Prometheus resources that select generated rules.

Synchronous (the official client); the runtime calls it from worker threads. Every write is counted so
tests and benchmarks can check "no writes at steady state".
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from ..api import GROUP, KINDS, VERSION
from ..rule_selection import PrometheusSelectors, SelectionView

FIELD_MANAGER = "okr-operator"
EVALUATION_MANAGER = "okr-operator-evaluation"
APPLY = "application/apply-patch+yaml"


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


GENERATED_TYPES = {
    "PrometheusRule": ResourceType("monitoring.coreos.com", "v1", "prometheusrules"),
    "AnalysisTemplate": ResourceType("argoproj.io", "v1alpha1", "analysistemplates"),
}
OKR_TYPES = {kind: ResourceType(GROUP, VERSION, info.plural) for kind, info in KINDS.items()}
PROMETHEUS_TYPE = ResourceType("monitoring.coreos.com", "v1", "prometheuses")
_READ_ERRORS = (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError)


class NotInstalled(Exception):
    """The API has no such resource type: its CRD is not installed."""

    def __init__(self, kind: str, rtype: ResourceType) -> None:
        super().__init__(
            f"the {kind} CRD ({rtype.plural}.{rtype.group}, {rtype.api_version}) is not installed in the cluster"
        )
        self.kind = kind


class KubeError(Exception):
    """Any other API failure, with the API's message."""


class AlreadyExists(KubeError):
    """A create found an object of that name."""


def load_api_client(kubeconfig: str | None = None) -> client.ApiClient:
    """In-cluster credentials when running in a pod, else the kubeconfig (``$KUBECONFIG`` or ``~/.kube/config``)."""
    if kubeconfig is None:
        try:
            config.load_incluster_config()
            return client.ApiClient()
        except config.ConfigException:
            pass
    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    return client.ApiClient(configuration)


def _message(exc: ApiException) -> str:
    import json

    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except (ValueError, AttributeError):
        return str(exc.reason)


class KubeAdapter:
    """The few API calls the operator makes."""

    def __init__(self, api_client: client.ApiClient | None = None) -> None:
        self.api_client = api_client or load_api_client()
        self.custom = client.CustomObjectsApi(self.api_client)
        self.core = client.CoreV1Api(self.api_client)
        self.coordination = client.CoordinationV1Api(self.api_client)
        self.writes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, what: str) -> None:
        with self._lock:
            self.writes[what] += 1

    # ---------------------------------------------------------------- generated objects

    def apply(self, obj: dict[str, Any], *, field_manager: str = FIELD_MANAGER) -> dict[str, Any]:
        """Server-side apply ``obj`` (create or update), taking over fields edited by hand."""
        kind = obj["kind"]
        rtype = GENERATED_TYPES.get(kind) or OKR_TYPES[kind]
        meta = obj["metadata"]
        try:
            self._count(f"apply:{kind}")
            return self.custom.patch_namespaced_custom_object(
                rtype.group,
                rtype.version,
                meta["namespace"],
                rtype.plural,
                meta["name"],
                obj,
                field_manager=field_manager,
                force=True,
                _content_type=APPLY,
            )
        except ApiException as exc:
            if exc.status == 404:
                raise NotInstalled(kind, rtype) from None
            raise KubeError(f"apply {kind} {meta['namespace']}/{meta['name']}: {_message(exc)}") from None

    def create(self, obj: dict[str, Any], *, field_manager: str = FIELD_MANAGER) -> dict[str, Any]:
        """Create ``obj`` (POST); AlreadyExists when the name is taken, NotInstalled without the CRD."""
        kind = obj["kind"]
        rtype = GENERATED_TYPES.get(kind) or OKR_TYPES[kind]
        meta = obj["metadata"]
        try:
            self._count(f"create:{kind}")
            return self.custom.create_namespaced_custom_object(
                rtype.group, rtype.version, meta["namespace"], rtype.plural, obj, field_manager=field_manager
            )
        except ApiException as exc:
            if exc.status == 404:
                raise NotInstalled(kind, rtype) from None
            if exc.status == 409:
                raise AlreadyExists(f"{kind} {meta['namespace']}/{meta['name']} already exists") from None
            raise KubeError(f"create {kind} {meta['namespace']}/{meta['name']}: {_message(exc)}") from None

    def delete(self, kind: str, namespace: str, name: str) -> bool:
        """Delete a generated object; False when it (or its CRD) does not exist."""
        rtype = GENERATED_TYPES[kind]
        try:
            self._count(f"delete:{kind}")
            self.custom.delete_namespaced_custom_object(rtype.group, rtype.version, namespace, rtype.plural, name)
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise KubeError(f"delete {kind} {namespace}/{name}: {_message(exc)}") from None

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        rtype = GENERATED_TYPES.get(kind) or OKR_TYPES[kind]
        try:
            return self.custom.get_namespaced_custom_object(rtype.group, rtype.version, namespace, rtype.plural, name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise KubeError(f"get {kind} {namespace}/{name}: {_message(exc)}") from None

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        rtype = GENERATED_TYPES.get(kind) or OKR_TYPES[kind]
        try:
            if namespace:
                answer = self.custom.list_namespaced_custom_object(rtype.group, rtype.version, namespace, rtype.plural)
            else:
                answer = self.custom.list_cluster_custom_object(rtype.group, rtype.version, rtype.plural)
        except ApiException as exc:
            if exc.status == 404:
                raise NotInstalled(kind, rtype) from None
            raise KubeError(f"list {kind}: {_message(exc)}") from None
        items = answer.get("items", [])
        for item in items:  # lists leave apiVersion/kind out of items
            item.setdefault("apiVersion", rtype.api_version)
            item.setdefault("kind", kind)
        return items

    # ---------------------------------------------------------------- rule selection (read only)

    def selection_view(self, timeout: float = 10.0) -> SelectionView:
        """The rule selectors of every Prometheus resource, and the namespaces' labels when a selector needs them.

        Never raises: what cannot be read (no CRD, no permission, a timeout) becomes the view's reason.
        """
        rtype = PROMETHEUS_TYPE
        try:
            answer = self.custom.list_cluster_custom_object(
                rtype.group, rtype.version, rtype.plural, _request_timeout=timeout
            )
        except _READ_ERRORS as exc:
            return SelectionView(unavailable=_unreadable(exc, f"{rtype.plural}.{rtype.group}"))
        prometheuses = tuple(PrometheusSelectors.from_body(item) for item in answer.get("items") or [])
        if not prometheuses:
            return SelectionView(unavailable="no Prometheus resource exists in the cluster")
        if all(not (p.rule_namespace_selector or {}) for p in prometheuses):  # nil or {}: no labels needed
            return SelectionView(prometheuses)
        try:
            namespaces = self.core.list_namespace(_request_timeout=timeout).items
        except _READ_ERRORS as exc:
            return SelectionView(prometheuses, namespace_problem=f"cannot list namespaces: {_reason(exc)}")
        return SelectionView(prometheuses, {ns.metadata.name: dict(ns.metadata.labels or {}) for ns in namespaces})

    # ---------------------------------------------------------------- status

    def apply_status(self, kind: str, namespace: str, name: str, status: dict[str, Any], *, field_manager: str) -> bool:
        """Server-side apply the fields of ``status`` this manager owns; False when the object is gone."""
        rtype = OKR_TYPES[kind]
        body = {
            "apiVersion": rtype.api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace},
            "status": status,
        }
        try:
            self._count(f"status:{kind}")
            self.custom.patch_namespaced_custom_object_status(
                rtype.group,
                rtype.version,
                namespace,
                rtype.plural,
                name,
                body,
                field_manager=field_manager,
                force=True,
                _content_type=APPLY,
            )
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise KubeError(f"status of {kind} {namespace}/{name}: {_message(exc)}") from None

    # ---------------------------------------------------------------- events

    def event(
        self,
        involved: dict[str, Any],
        reason: str,
        message: str,
        *,
        warning: bool = False,
        component: str = FIELD_MANAGER,
    ) -> None:
        """Record an Event on ``involved`` (needs apiVersion, kind, metadata.name/namespace/uid)."""
        meta = involved["metadata"]
        now = datetime.now(UTC)
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:12]}", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": involved.get("apiVersion", f"{GROUP}/{VERSION}"),
                "kind": involved["kind"],
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta.get("uid"),
            },
            "reason": reason,
            "message": message[:1024],
            "type": "Warning" if warning else "Normal",
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": component,
            "firstTimestamp": now.isoformat(),
            "lastTimestamp": now.isoformat(),
            "eventTime": now.isoformat(timespec="microseconds"),
            "action": reason,
            "count": 1,
        }
        try:
            self._count("event")
            self.core.create_namespaced_event(meta["namespace"], body)
        except ApiException as exc:
            raise KubeError(f"event on {involved['kind']} {meta['name']}: {_message(exc)}") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, ApiException):
        return f"{'forbidden' if exc.status == 403 else f'HTTP {exc.status}'}: {_message(exc)}"
    return f"{type(exc).__name__}: {exc}"


def _unreadable(exc: Exception, resource: str) -> str:
    if isinstance(exc, ApiException) and exc.status == 404:
        return f"the Prometheus CRD ({resource}) is not installed, so no Prometheus resource exists"
    if isinstance(exc, ApiException) and exc.status == 403:
        return (
            f"the operator may not list {resource} (forbidden; grant the optional read-only RBAC rule, "
            "see docs/rule-selection.md), so it cannot see which Prometheus loads rules"
        )
    return f"reading Prometheus resources failed ({_reason(exc)})"


class LeaderLease:
    """A coordination.k8s.io Lease: whoever holds it (and renews it in time) runs the evaluation loop."""

    def __init__(self, kube: KubeAdapter, name: str, namespace: str, identity: str, duration: int = 30) -> None:
        self.kube, self.name, self.namespace, self.identity, self.duration = kube, name, namespace, identity, duration

    def acquire_or_renew(self) -> bool:
        now = datetime.now(UTC)
        api = self.kube.coordination
        try:
            lease = api.read_namespaced_lease(self.name, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise KubeError(f"lease {self.namespace}/{self.name}: {_message(exc)}") from None
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(now, acquired=now, transitions=0),
            }
            try:
                api.create_namespaced_lease(self.namespace, body)
                return True
            except ApiException as create_exc:
                if create_exc.status == 409:
                    return False
                raise KubeError(f"lease {self.namespace}/{self.name}: {_message(create_exc)}") from None
        spec = lease.spec
        holder = spec.holder_identity
        renewed = spec.renew_time
        expired = renewed is None or renewed + timedelta(seconds=spec.lease_duration_seconds or self.duration) < now
        if holder != self.identity and not expired:
            return False
        transitions = (spec.lease_transitions or 0) + (0 if holder == self.identity else 1)
        acquired = spec.acquire_time if holder == self.identity and spec.acquire_time else now
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "resourceVersion": lease.metadata.resource_version,
            },
            "spec": self._spec(now, acquired=acquired, transitions=transitions),
        }
        try:
            api.replace_namespaced_lease(self.name, self.namespace, body)
            return True
        except ApiException as exc:
            if exc.status == 409:  # someone else renewed or took it first
                return False
            raise KubeError(f"lease {self.namespace}/{self.name}: {_message(exc)}") from None

    def _spec(self, now: datetime, *, acquired: datetime, transitions: int) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.duration,
            "acquireTime": acquired.isoformat(timespec="microseconds"),
            "renewTime": now.isoformat(timespec="microseconds"),
            "leaseTransitions": transitions,
        }
