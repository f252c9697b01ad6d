"""``kubectl okr serve``: the operator's web view, served locally from the current kubeconfig.

Shows only what the viewer may list: for each kind, cluster-wide when a SelfSubjectAccessReview allows
listing it in every namespace, else the namespaces where it is allowed (all namespaces the viewer can list,
or the context's namespace when the viewer cannot list namespaces). Permissions are asked again every
``PERMISSION_TTL`` seconds; the objects on every page load. Nothing from the kubeconfig reaches the page.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from ..api import GROUP, KEY_RESULT_KIND, KINDS, OBJECTIVE_KIND, SLO_KIND

PERMISSION_TTL = 60.0
SHOWN_KINDS = (OBJECTIVE_KIND, KEY_RESULT_KIND, SLO_KIND)


def _allowed(auth: Any, plural: str, namespace: str, timeout: float) -> bool:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"group": GROUP, "resource": plural, "verb": "list", "namespace": namespace}},
    }
    answer = auth.create_self_subject_access_review(review, _request_timeout=timeout)
    return bool(answer.status.allowed)


def _namespaces(api_client: Any, fallback: list[str], timeout: float) -> list[str]:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        listed = client.CoreV1Api(api_client).list_namespace(_request_timeout=timeout)
    except ApiException as exc:
        if exc.status in (401, 403):
            return fallback
        raise
    return sorted(ns.metadata.name for ns in listed.items if ns.metadata is not None and ns.metadata.name)


@dataclass
class Scopes:
    """Where the viewer may list each kind: None for every namespace, else the namespaces."""

    by_kind: dict[str, list[str] | None] = field(default_factory=dict)
    at: float = 0.0


def viewer_scopes(api_client: Any, candidates: list[str] | None, fallback: list[str], timeout: float) -> Scopes:
    """``candidates``: the namespaces asked for (-n); None: whatever the viewer may see."""
    from kubernetes import client

    auth = client.AuthorizationV1Api(api_client)
    scopes = Scopes(at=time.monotonic())
    names: list[str] | None = None
    for kind in SHOWN_KINDS:
        plural = KINDS[kind].plural
        if candidates is None and _allowed(auth, plural, "", timeout):
            scopes.by_kind[kind] = None
            continue
        if names is None:
            names = candidates if candidates is not None else _namespaces(api_client, fallback, timeout)
        scopes.by_kind[kind] = [ns for ns in names if _allowed(auth, plural, ns, timeout)]
    return scopes


class ViewerSource:
    """The objects the viewer may list, fetched on each call (in a worker thread)."""

    def __init__(self, api_client: Any, namespaces: list[str] | None, fallback: str, timeout: float) -> None:
        self.api_client, self.namespaces, self.fallback, self.timeout = api_client, namespaces, fallback, timeout
        self.scopes: Scopes | None = None

    def _fetch(self) -> list[dict[str, Any]]:
        from ..kube.client import KubeAdapter, NotInstalled

        if self.scopes is None or time.monotonic() - self.scopes.at > PERMISSION_TTL:
            self.scopes = viewer_scopes(self.api_client, self.namespaces, [self.fallback], self.timeout)
        adapter = KubeAdapter(self.api_client, timeout=self.timeout, connect_timeout=self.timeout)
        objects: list[dict[str, Any]] = []
        for kind, where in self.scopes.by_kind.items():
            try:
                for namespace in [None] if where is None else where:
                    objects.extend(adapter.list(kind, namespace))
            except NotInstalled:
                continue
        return objects

    async def __call__(self) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._fetch)

    def describe(self) -> str:
        if self.scopes is None:
            self.scopes = viewer_scopes(self.api_client, self.namespaces, [self.fallback], self.timeout)
        where = {k: "all namespaces" if v is None else ", ".join(v) or "none" for k, v in self.scopes.by_kind.items()}
        return "; ".join(f"{KINDS[k].plural}: {v}" for k, v in where.items())
