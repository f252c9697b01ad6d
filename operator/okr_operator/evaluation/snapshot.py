"""What an evaluation cycle starts from: every object with its spec model and its current status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..api import KEY_RESULT_KIND, KINDS, OBJECTIVE_KIND, SLO_KIND, KeyResult, Objective, ServiceLevelObjective


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


@dataclass
class Snapshot:
    """Every object the evaluation looks at, by kind."""

    slos: list[Entry] = field(default_factory=list)
    key_results: list[Entry] = field(default_factory=list)
    objectives: list[Entry] = field(default_factory=list)

    def all(self) -> list[Entry]:
        return [*self.slos, *self.key_results, *self.objectives]

    def by_kind(self, kind: str) -> list[Entry]:
        return {SLO_KIND: self.slos, KEY_RESULT_KIND: self.key_results, OBJECTIVE_KIND: self.objectives}[kind]

    @classmethod
    def from_bodies(cls, bodies: Iterable[Mapping[str, Any]]) -> Snapshot:
        """Build from Kubernetes objects as they come from the API (dicts)."""
        snapshot = cls()
        for body in bodies:
            entry = entry_from_body(body)
            if entry is not None:
                snapshot.by_kind(entry.ref.kind).append(entry)
        for entries in (snapshot.slos, snapshot.key_results, snapshot.objectives):
            entries.sort(key=lambda e: e.ref)
        return snapshot

    @classmethod
    def from_models(cls, models: Iterable[ServiceLevelObjective | KeyResult | Objective]) -> Snapshot:
        """Build from validated models (okrctl evaluate), statuses taken from the models."""
        return cls.from_bodies(m.model_dump(by_alias=True, exclude_none=True, mode="json") for m in models)


def entry_from_body(body: Mapping[str, Any]) -> Entry | None:
    kind = body.get("kind")
    info = KINDS.get(kind) if isinstance(kind, str) else None
    meta = body.get("metadata") or {}
    if info is None or not meta.get("name"):
        return None
    ref = Ref(info.kind, meta.get("namespace") or "default", meta["name"])
    status = dict(body.get("status") or {})
    clean = {k: body[k] for k in ("apiVersion", "kind", "metadata", "spec") if k in body}
    clean["metadata"] = {k: meta[k] for k in ("name", "namespace", "uid", "generation") if meta.get(k) is not None}
    clean["metadata"].setdefault("namespace", ref.namespace)
    try:
        model = info.model.model_validate(clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        return Entry(ref, None, status, meta.get("generation"), meta.get("uid"), f"{where}: {message}")
    return Entry(ref, model, status, meta.get("generation"), meta.get("uid"))
