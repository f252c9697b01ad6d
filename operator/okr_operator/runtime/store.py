"""The operator's in-memory view of every okr.dev object, fed by kopf's watch events.

The evaluation loop reads a snapshot of it each cycle (no per-object timers or daemons), and the
reconcile handlers look up related objects in it (a key result's objective).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..api.identity import Ref


def ref_of(body: Mapping[str, Any]) -> Ref:
    meta = body.get("metadata") or {}
    return Ref(str(body.get("kind")), meta.get("namespace") or "default", meta.get("name", ""))


# Parts of an object the operator never reads; dropping them keeps memory per object small
# (managedFields alone is often larger than the spec).
_DROPPED_META = ("managedFields",)
_DROPPED_ANNOTATION_PREFIXES = ("okr.dev/", "kopf.zalando.org/", "kubectl.kubernetes.io/last-applied")


def _slim(body: Mapping[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (body.get("metadata") or {}).items() if k not in _DROPPED_META}
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if not k.startswith(_DROPPED_ANNOTATION_PREFIXES)
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return copy.deepcopy({**{k: v for k, v in body.items() if k != "metadata"}, "metadata": meta})


class Store:
    """Thread-safe map of Ref -> object body (as the API last showed it, plus our own status writes).

    Stored bodies are never changed in place (a new body replaces the old one), so readers get them
    without a copy and must not modify them.
    """

    def __init__(self) -> None:
        self._objects: dict[Ref, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def upsert(self, body: Mapping[str, Any]) -> Ref:
        ref = ref_of(body)
        slim = _slim(body)
        with self._lock:
            self._objects[ref] = slim
        return ref

    def remove(self, ref: Ref) -> None:
        with self._lock:
            self._objects.pop(ref, None)

    def get(self, ref: Ref) -> dict[str, Any] | None:
        with self._lock:
            return self._objects.get(ref)

    def get_or_read(self, ref: Ref, read: Callable[[Ref], dict[str, Any] | None]) -> dict[str, Any] | None:
        """The stored body, else what ``read`` (a GET from the API server) gives: right after a start, the
        watch of one kind can be behind another's (a key result resumed before its objective's watch has
        listed it), and "not in the store" is not yet "does not exist". Errors of ``read`` propagate."""
        return self.get(ref) or read(ref)

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._objects.values())

    def of_kind(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [b for r, b in self._objects.items() if r.kind == kind and namespace in (None, r.namespace)]

    def set_status(self, ref: Ref, status: Mapping[str, Any]) -> None:
        """The status as the API server answered a write of ours, so the next cycle compares against it even
        before the watch catches up (and does not see fields that were just dropped)."""
        with self._lock:
            body = self._objects.get(ref)
            if body is None:
                return
            self._objects[ref] = {**body, "status": copy.deepcopy(dict(status))}

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)
