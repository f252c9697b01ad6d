"""Kubernetes adapter: server-side apply of generated objects, status writes, Events, a leader Lease, and a
read-only look at the Prometheus resources that select generated rules.

Synchronous (the official client); the runtime calls it from worker threads. Every write is counted so
tests and benchmarks can check "no writes at steady state". Every request carries a connect and a read
timeout (constructor parameters, or ``timeout=`` per call): an API server that does not answer is a
:class:`KubeUnavailable` error, never a hang.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from ..api import GROUP, KINDS, VERSION
from ..rule_selection import PrometheusSelectors, SelectionView
from .config import KubeSettings
from .errors import AlreadyExists, KubeError, KubeUnavailable, api_message, connection_reason, transport_errors

__all__ = [  # the errors live in errors.py; importable from here, where the calls are
    "AlreadyExists",
    "KubeAdapter",
    "KubeError",
    "KubeUnavailable",
    "NotInstalled",
    "api_message",
    "connection_reason",
    "load_api_client",
]

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


def load_api_client(
    kubeconfig: str | None = None,
    *,
    context: str | None = None,
    in_cluster: bool | None = None,
    retries: int = KubeSettings.retries,
) -> client.ApiClient:
    """An ApiClient from in-cluster credentials or a kubeconfig (``$KUBECONFIG`` or ``~/.kube/config``).

    ``in_cluster`` None: the pod's ServiceAccount when running in a pod and no kubeconfig is given, else the
    kubeconfig; True/False: only that. ``retries``: retries of a failed connect per request; a request that was
    sent and got no answer in time is not retried (urllib3's default would retry up to 3 times and so
    multiply every read timeout by four).
    """
    configuration = client.Configuration()
    if in_cluster is not False and kubeconfig is None and context is None:
        try:
            config.load_incluster_config(client_configuration=configuration)
            return _with_retries(configuration, retries)
        except config.ConfigException:
            if in_cluster:
                raise
    config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
    return _with_retries(configuration, retries)


def _with_retries(configuration: client.Configuration, retries: int) -> client.ApiClient:
    configuration.retries = urllib3.util.Retry(total=retries, connect=retries, read=0, redirect=0)
    return client.ApiClient(configuration)


class KubeAdapter:
    """The few API calls the operator makes, each with a (connect, read) timeout.

    ``timeout``/``connect_timeout``: seconds for every request; each method also takes ``timeout=`` to
    shorten the read timeout of one call (the evaluation loop does, so a cycle keeps its deadline).
    """

    def __init__(
        self,
        api_client: client.ApiClient | None = None,
        *,
        timeout: float = KubeSettings.timeout_seconds,
        connect_timeout: float = KubeSettings.connect_timeout_seconds,
    ) -> None:
        self.api_client = api_client or load_api_client()
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.custom = client.CustomObjectsApi(self.api_client)
        self.core = client.CoreV1Api(self.api_client)
        self.coordination = client.CoordinationV1Api(self.api_client)
        self.writes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def transport(self, what: str, limit: tuple[float, float]) -> contextlib.AbstractContextManager[None]:
        """Around a request: what the HTTP layer raises becomes KubeUnavailable (a timeout drops the pool)."""
        return transport_errors(what, limit, self.drop_connections)

    def drop_connections(self) -> None:
        """Close the pooled connections: after a timeout they may all be dead (a black hole, a restarted
        server), and each would cost another full timeout before the client opened a fresh one."""
        rest = getattr(self.api_client, "rest_client", None)
        pool = getattr(rest, "pool_manager", None)
        if pool is not None:
            pool.clear()

    def request_timeout(self, timeout: float | None = None) -> tuple[float, float]:
        """(connect, read) for one call: the adapter's, the read part shortened to ``timeout`` if given."""
        read = self.timeout if timeout is None else max(min(self.timeout, timeout), 0.001)
        return min(self.connect_timeout, read), read

    def _count(self, what: str) -> None:
        with self._lock:
            self.writes[what] += 1

    # ---------------------------------------------------------------- generated objects

    def apply(
        self, obj: dict[str, Any], *, field_manager: str = FIELD_MANAGER, timeout: float | None = None
    ) -> dict[str, Any]:
        """Server-side apply ``obj`` (create or update), taking over fields edited by hand."""
        kind = obj["kind"]
        rtype = GENERATED_TYPES.get(kind) or OKR_TYPES[kind]
        meta = obj["metadata"]
        what = f"apply {kind} {meta['namespace']}/{meta['name']}"
        limit = self.request_timeout(timeout)
        try:
            self._count(f"apply:{kind}")
            with self.transport(what, limit):
                return _json_object(
                    self.custom.patch_namespaced_custom_object(
                        rtype.group,
                        rtype.version,
                        meta["namespace"],
                        rtype.plural,
                        meta["name"],
                        obj,
                        field_manager=field_manager,
                        force=True,
                        _content_type=APPLY,
                        _request_timeout=limit,
                    )
                )
        except ApiException as exc:
            if exc.status == 404:
                raise NotInstalled(kind, rtype) from None
            raise KubeError(f"{what}: {api_message(exc)}") from None

    def create(
        self, obj: dict[str, Any], *, field_manager: str = FIELD_MANAGER, timeout: float | None = None
    ) -> dict[str, Any]:
        """Create ``obj`` (POST); AlreadyExists when the name is taken, NotInstalled without the CRD."""
        kind = obj["kind"]
        rtype = GENERATED_TYPES.get(kind) or OKR_TYPES[kind]
        meta = obj["metadata"]
        what = f"create {kind} {meta['namespace']}/{meta['name']}"
        limit = self.request_timeout(timeout)
        try:
            self._count(f"create:{kind}")
            with self.transport(what, limit):
                return _json_object(
                    self.custom.create_namespaced_custom_object(
                        rtype.group,
                        rtype.version,
                        meta["namespace"],
                        rtype.plural,
                        obj,
                        field_manager=field_manager,
                        _request_timeout=limit,
                    )
                )
        except ApiException as exc:
            if exc.status == 404:
                raise NotInstalled(kind, rtype) from None
            if exc.status == 409:
                raise AlreadyExists(f"{kind} {meta['namespace']}/{meta['name']} already exists") from None
            raise KubeError(f"{what}: {api_message(exc)}") from None

    def delete(self, kind: str, namespace: str, name: str, *, timeout: float | None = None) -> bool:
        """Delete a generated object; False when it (or its CRD) does not exist."""
        rtype = GENERATED_TYPES[kind]
        what = f"delete {kind} {namespace}/{name}"
        limit = self.request_timeout(timeout)
        try:
            self._count(f"delete:{kind}")
            with self.transport(what, limit):
                self.custom.delete_namespaced_custom_object(
                    rtype.group, rtype.version, namespace, rtype.plural, name, _request_timeout=limit
                )
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise KubeError(f"{what}: {api_message(exc)}") from None

    def get(self, kind: str, namespace: str, name: str, *, timeout: float | None = None) -> dict[str, Any] | None:
        rtype = GENERATED_TYPES.get(kind) or OKR_TYPES[kind]
        what = f"get {kind} {namespace}/{name}"
        limit = self.request_timeout(timeout)
        try:
            with self.transport(what, limit):
                return _json_object(
                    self.custom.get_namespaced_custom_object(
                        rtype.group, rtype.version, namespace, rtype.plural, name, _request_timeout=limit
                    )
                )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise KubeError(f"{what}: {api_message(exc)}") from None

    def list(self, kind: str, namespace: str | None = None, *, timeout: float | None = None) -> list[dict[str, Any]]:
        rtype = GENERATED_TYPES.get(kind) or OKR_TYPES[kind]
        limit = self.request_timeout(timeout)
        try:
            with self.transport(f"list {kind}", limit):
                if namespace:
                    answer = self.custom.list_namespaced_custom_object(
                        rtype.group, rtype.version, namespace, rtype.plural, _request_timeout=limit
                    )
                else:
                    answer = self.custom.list_cluster_custom_object(
                        rtype.group, rtype.version, rtype.plural, _request_timeout=limit
                    )
        except ApiException as exc:
            if exc.status == 404:
                raise NotInstalled(kind, rtype) from None
            raise KubeError(f"list {kind}: {api_message(exc)}") from None
        items: list[dict[str, Any]] = _json_object(answer).get("items", [])
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
        items = _json_object(answer).get("items") or []
        prometheuses = tuple(PrometheusSelectors.from_body(item) for item in items)
        if not prometheuses:
            return SelectionView(unavailable="no Prometheus resource exists in the cluster")
        if all(not (p.rule_namespace_selector or {}) for p in prometheuses):  # nil or {}: no labels needed
            return SelectionView(prometheuses)
        try:
            namespaces = self.core.list_namespace(_request_timeout=timeout).items
        except _READ_ERRORS as exc:
            return SelectionView(prometheuses, namespace_problem=f"cannot list namespaces: {_reason(exc)}")
        labels = {
            ns.metadata.name: dict(ns.metadata.labels or {}) for ns in namespaces if ns.metadata and ns.metadata.name
        }
        return SelectionView(prometheuses, labels)

    # ---------------------------------------------------------------- status

    def apply_status(
        self,
        kind: str,
        namespace: str,
        name: str,
        status: dict[str, Any],
        *,
        field_manager: str,
        timeout: float | None = None,
    ) -> dict[str, Any] | None:
        """Server-side apply the fields of ``status`` this manager owns.

        Returns the object as the API server has it after the write (fields this manager no longer sets
        are gone from it), or None when the object is gone.
        """
        rtype = OKR_TYPES[kind]
        body = {
            "apiVersion": rtype.api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace},
            "status": status,
        }
        what = f"status of {kind} {namespace}/{name}"
        limit = self.request_timeout(timeout)
        try:
            self._count(f"status:{kind}")
            with self.transport(what, limit):
                written = self.custom.patch_namespaced_custom_object_status(
                    rtype.group,
                    rtype.version,
                    namespace,
                    rtype.plural,
                    name,
                    body,
                    field_manager=field_manager,
                    force=True,
                    _content_type=APPLY,
                    _request_timeout=limit,
                )
            answer = _json_object(written)
            answer.setdefault("apiVersion", rtype.api_version)
            answer.setdefault("kind", kind)
            return answer
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise KubeError(f"{what}: {api_message(exc)}") from None

    # ---------------------------------------------------------------- events

    def event(
        self,
        involved: dict[str, Any],
        reason: str,
        message: str,
        *,
        warning: bool = False,
        component: str = FIELD_MANAGER,
        timeout: float | None = None,
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
        what = f"event on {involved['kind']} {meta['name']}"
        limit = self.request_timeout(timeout)
        try:
            self._count("event")
            with self.transport(what, limit):
                self.core.create_namespaced_event(meta["namespace"], request_body(body), _request_timeout=limit)
        except ApiException as exc:
            raise KubeError(f"{what}: {api_message(exc)}") from None


def _json_object(answer: object) -> dict[str, Any]:
    """What the custom-objects API answered, which is a JSON object (its type hints say only ``object``)."""
    if not isinstance(answer, dict):
        raise KubeError(f"the API server answered {type(answer).__name__} where an object was expected")
    return answer


def request_body(body: dict[str, Any]) -> Any:
    """A JSON body for the client's typed calls: they send a dict as it is (``ApiClient.sanitize_for_serialization``)
    though their type hints name only the model classes (``CoreV1Event``, ``V1Lease``)."""
    return body


def _reason(exc: Exception) -> str:
    if isinstance(exc, ApiException):
        return f"{'forbidden' if exc.status == 403 else f'HTTP {exc.status}'}: {api_message(exc)}"
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
