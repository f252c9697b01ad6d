"""Who an object is (:class:`Ref`) and what the operator knows of it (:class:`Entry`).

The shared identity of okr.dev objects for the evaluation, the runtime's store and the CLIs: built from a
Kubernetes body as it comes from the API, validated with the models of this package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from . import KINDS


@dataclass(frozen=True, order=True)
class Ref:
    """Identity of one object."""

    kind: str
    namespace: str
    name: str

    @property
    def key(self) -> tuple[str, str]:
        return self.namespace, self.name

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass
class Entry:
    """One object: the validated model (None when its spec does not validate) and the status it has now."""

    ref: Ref
    model: Any
    status: dict[str, Any]
    generation: int | None = None
    uid: str | None = None
    invalid: str | None = None  # why the spec does not validate (what the schema could not catch)


def entry_from_body(body: Mapping[str, Any]) -> Entry | None:
    kind = body.get("kind")
    info = KINDS.get(kind) if isinstance(kind, str) else None
    meta = body.get("metadata") or {}
    if info is None or not meta.get("name"):
        return None
    ref = Ref(info.kind, meta.get("namespace") or "default", meta["name"])
    status = dict(body.get("status") or {})
    clean = {k: body[k] for k in ("apiVersion", "kind", "metadata", "spec") if k in body}
    clean["metadata"] = {
        k: meta[k] for k in ("name", "namespace", "uid", "generation", "labels") if meta.get(k) is not None
    }
    clean["metadata"].setdefault("namespace", ref.namespace)
    try:
        model = info.model.model_validate(clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        return Entry(ref, None, status, meta.get("generation"), meta.get("uid"), f"{where}: {message}")
    return Entry(ref, model, status, meta.get("generation"), meta.get("uid"))
