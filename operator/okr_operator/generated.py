"""The envelope of every object the operator generates (PrometheusRules, AnalysisTemplates).

Generated objects live in their owner's namespace, carry the managed-by and owner labels, and have a
controller ownerReference to the okr.dev object they were made for, so deleting that object
garbage-collects them. The renderers in ``slo/`` and ``okr/`` fill in the spec; this module does the rest.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .api.common import API_VERSION, GROUP

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = {MANAGED_BY_LABEL: "okr-operator"}
OWNER_LABEL = f"{GROUP}/owner"

# Kubernetes label values are at most 63 characters. Generated object names are kept to 140: object names
# may have 253, but prometheus-operator names each rule file <namespace>-<name>-<uid>.yaml, a ConfigMap key
# of at most 253 characters (63 + 1 + 140 + 1 + 36 + 5 = 246).
MAX_LABEL_VALUE = 63
MAX_GENERATED_NAME = 140
_HASH_LENGTH = 10


def shortened(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its head and a hash of the whole (stable, unique
    in practice): ``very-long-name...-3f2a9c01b7``."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:_HASH_LENGTH]
    head = text[: limit - _HASH_LENGTH - 1].rstrip("-.")
    return f"{head}-{digest}"


def generated_name(owner_name: str, suffix: str) -> str:
    """The name of an object generated for ``owner_name``: ``<owner>-<suffix>``, hash-shortened to fit."""
    return shortened(f"{owner_name}-{suffix}", MAX_GENERATED_NAME)


def label_value(text: str) -> str:
    """``text`` as a Kubernetes label value (hash-shortened to 63 characters)."""
    return shortened(text, MAX_LABEL_VALUE)


def owner_reference(kind: str, name: str, uid: str | None) -> list[dict[str, Any]]:
    """ownerReferences so that deleting the owner garbage-collects what was generated for it."""
    if not uid:
        return []
    return [
        {
            "apiVersion": API_VERSION,
            "kind": kind,
            "name": name,
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def generated_labels(owner_name: str, labels: dict[str, str] | None) -> dict[str, str]:
    """The labels of an object generated for ``owner_name``: ``labels`` (for a ruleSelector) plus ours."""
    return {**(labels or {}), **MANAGED_BY, OWNER_LABEL: label_value(owner_name)}


def generated_object(
    api_version: str, kind: str, name: str, owner: Any, spec: dict[str, Any], labels: dict[str, str] | None
) -> dict[str, Any]:
    """An object generated for ``owner`` (an SLO or key result model): in its namespace, labelled as ours
    plus ``labels``, controller-owned by it so that deleting it garbage-collects the object."""
    meta: dict[str, Any] = {
        "name": name,
        "namespace": owner.metadata.namespace or "default",
        "labels": generated_labels(owner.metadata.name, labels),
    }
    owners = owner_reference(owner.kind, owner.metadata.name, owner.metadata.uid)
    if owners:
        meta["ownerReferences"] = owners
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": spec}
