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


class ModelCache:
    """Spec models kept from one evaluation cycle to the next (building 10 000 of them takes about a second).

    A model is re-used while the object's spec, labels, generation and uid are what it was built from (compared
    by value). The cache keeps references to the spec dicts it saw, so a caller must not change a body's spec in
    place (the runtime's Store never does: a new body replaces the old one). ``retain`` drops objects that are
    gone.
    """

    def __init__(self) -> None:
        self._by_ref: dict[Ref, tuple[tuple[Any, ...], Any, str | None]] = {}
        self.hits = 0

    def lookup(self, ref: Ref, fingerprint: tuple[Any, ...]) -> tuple[Any, str | None] | None:
        cached = self._by_ref.get(ref)
        if cached is None or cached[0] != fingerprint:
            return None
        self.hits += 1
        return cached[1], cached[2]

    def store(self, ref: Ref, fingerprint: tuple[Any, ...], model: Any, invalid: str | None) -> None:
        self._by_ref[ref] = (fingerprint, model, invalid)

    def retain(self, refs: set[Ref]) -> None:
        for ref in [r for r in self._by_ref if r not in refs]:
            del self._by_ref[ref]

    def __len__(self) -> int:
        return len(self._by_ref)


def entry_from_body(body: Mapping[str, Any], models: ModelCache | None = None) -> Entry | None:
    """The object's entry: its model validated from the body (or taken from ``models`` when its spec is the one
    the cached model was built from), its status as the body has it."""
    kind = body.get("kind")
    info = KINDS.get(kind) if isinstance(kind, str) else None
    meta = body.get("metadata") or {}
    if info is None or not meta.get("name"):
        return None
    ref = Ref(info.kind, meta.get("namespace") or "default", meta["name"])
    status = dict(body.get("status") or {})
    generation, uid = meta.get("generation"), meta.get("uid")
    fingerprint = (body.get("apiVersion"), body.get("spec"), meta.get("labels"), generation, uid)
    found = models.lookup(ref, fingerprint) if models is not None else None
    model, invalid = found if found is not None else _validated(info, ref, body, meta)
    if models is not None and found is None:
        models.store(ref, fingerprint, model, invalid)
    return Entry(ref, model, status, generation, uid, invalid)


def _validated(info: Any, ref: Ref, body: Mapping[str, Any], meta: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The spec model, or None and why it does not validate."""
    clean = {k: body[k] for k in ("apiVersion", "kind", "metadata", "spec") if k in body}
    clean["metadata"] = {
        k: meta[k] for k in ("name", "namespace", "uid", "generation", "labels") if meta.get(k) is not None
    }
    clean["metadata"].setdefault("namespace", ref.namespace)
    try:
        return info.model.model_validate(clean), None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        return None, f"{where}: {message}"
