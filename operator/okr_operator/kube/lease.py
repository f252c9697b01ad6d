"""A coordination.k8s.io Lease that keeps one replica's evaluation loop writing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes.client import V1LeaseSpec
from kubernetes.client.exceptions import ApiException

from .client import KubeAdapter, KubeError, api_message, request_body


class LeaderLease:
    """A coordination.k8s.io Lease: whoever holds it (and renews it in time) runs the evaluation loop."""

    def __init__(self, kube: KubeAdapter, name: str, namespace: str, identity: str, duration: int = 30) -> None:
        self.kube, self.name, self.namespace, self.identity, self.duration = kube, name, namespace, identity, duration

    def acquire_or_renew(self, *, timeout: float | None = None) -> bool:
        """True while this identity holds the Lease; KubeError (KubeUnavailable) when the API does not answer.

        ``timeout``: read timeout of each of its (at most two) requests, at most the adapter's.
        """
        limit = self.kube.request_timeout(timeout)
        with self.kube.transport(f"lease {self.namespace}/{self.name}", limit):
            return self._acquire_or_renew(limit)

    def _acquire_or_renew(self, limit: tuple[float, float]) -> bool:
        now = datetime.now(UTC)
        api = self.kube.coordination
        try:
            lease = api.read_namespaced_lease(self.name, self.namespace, _request_timeout=limit)
        except ApiException as exc:
            if exc.status != 404:
                raise KubeError(f"lease {self.namespace}/{self.name}: {api_message(exc)}") from None
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(now, acquired=now, transitions=0),
            }
            try:
                api.create_namespaced_lease(self.namespace, request_body(body), _request_timeout=limit)
                return True
            except ApiException as create_exc:
                if create_exc.status == 409:
                    return False
                raise KubeError(f"lease {self.namespace}/{self.name}: {api_message(create_exc)}") from None
        spec = lease.spec or V1LeaseSpec()  # a Lease someone made without a spec is held by no one
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
                "resourceVersion": lease.metadata.resource_version if lease.metadata else None,
            },
            "spec": self._spec(now, acquired=acquired, transitions=transitions),
        }
        try:
            api.replace_namespaced_lease(self.name, self.namespace, request_body(body), _request_timeout=limit)
            return True
        except ApiException as exc:
            if exc.status == 409:  # someone else renewed or took it first
                return False
            raise KubeError(f"lease {self.namespace}/{self.name}: {api_message(exc)}") from None

    def _spec(self, now: datetime, *, acquired: datetime, transitions: int) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.duration,
            "acquireTime": acquired.isoformat(timespec="microseconds"),
            "renewTime": now.isoformat(timespec="microseconds"),
            "leaseTransitions": transitions,
        }
