"""Touch only what we own: generated objects are created, updated or deleted only when they carry the
controller ownerReference (with the owner's UID) of the SLO or key result they were generated for.

A user who may create SLOs could otherwise name one so that its generated PrometheusRule or
AnalysisTemplate collides with an object someone else made, and the operator would overwrite it (and
garbage-collect it once the SLO is deleted). Such an object is left alone and reported as a NameConflict.
"""

from __future__ import annotations

from typing import Any

from ..kube.client import FIELD_MANAGER, AlreadyExists, KubeAdapter, KubeError

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


class NameConflict(Exception):
    """An object with the generated name exists and is not ours; the message names it and its owner."""


def owner_uid(obj: dict[str, Any]) -> str | None:
    """UID of the okr.dev controller owner of ``obj`` (None when it has none)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller") and str(ref.get("apiVersion", "")).startswith("okr.dev/"):
            return ref.get("uid")
    return None


def is_ours(existing: dict[str, Any], desired: dict[str, Any]) -> bool:
    """``existing`` is controller-owned by the same okr.dev object (same UID) as ``desired``."""
    wanted = owner_uid(desired)
    return wanted is not None and owner_uid(existing) == wanted


def _describe(existing: dict[str, Any]) -> str:
    meta = existing.get("metadata") or {}
    owners = [f"{r.get('kind')}/{r.get('name')}" for r in meta.get("ownerReferences") or []]
    managers = sorted({m.get("manager", "?") for m in meta.get("managedFields") or []})
    who = f"owned by {', '.join(owners)}" if owners else "not owned by any object"
    made = f", written by {', '.join(managers)}" if managers else ""
    return f"{existing.get('kind')} {meta.get('namespace')}/{meta.get('name')} already exists and is {who}{made}"


def _conflict(existing: dict[str, Any], desired: dict[str, Any]) -> NameConflict:
    owner = (desired["metadata"].get("ownerReferences") or [{}])[0]
    return NameConflict(
        f"{_describe(existing)}; the operator will not overwrite it for {owner.get('kind')} {owner.get('name')}: "
        "rename this object or remove the other one"
    )


def apply_owned(kube: KubeAdapter, desired: dict[str, Any], *, unchanged: Any = None, new: bool = False) -> str:
    """Create ``desired`` or bring our existing copy in line; NameConflict when the name is taken by an
    object that is not ours. ``unchanged(existing, desired)`` says when no write is needed. ``new``: probably
    not there yet (its owner says it generated nothing): try the create first, which saves a read per object
    when thousands are created at once, and read only when the name is taken."""
    meta = desired["metadata"]
    existing = None if new else kube.get(desired["kind"], meta["namespace"], meta["name"])
    if existing is None:
        try:
            kube.create(desired, field_manager=FIELD_MANAGER)  # POST: fails if someone made it meanwhile
            return CREATED
        except AlreadyExists:
            existing = kube.get(desired["kind"], meta["namespace"], meta["name"])
            if existing is None:
                raise KubeError(
                    f"{desired['kind']} {meta['namespace']}/{meta['name']} vanished while created"
                ) from None
    if not is_ours(existing, desired):
        raise _conflict(existing, desired)
    if unchanged is not None and unchanged(existing, desired):
        return UNCHANGED
    kube.apply(desired, field_manager=FIELD_MANAGER)
    return UPDATED


def delete_owned(kube: KubeAdapter, kind: str, namespace: str, name: str, owner_uid_: str | None) -> bool:
    """Delete a generated object only when it is ours (same owner UID); False when absent or not ours."""
    existing = kube.get(kind, namespace, name)
    if existing is None or owner_uid_ is None or owner_uid(existing) != owner_uid_:
        return False
    return kube.delete(kind, namespace, name)
