"""kopf's diff-base in memory: per object, the generation its handlers last handled.

kopf decides between create, update, resume and nothing by comparing an object's "essence" (spec, labels,
annotations) with the essence it stored after the handlers last succeeded. Its stock storage keeps that essence
in an annotation, so every handled object costs one more PATCH (and one more watch event back to every watcher),
and every object carries a copy of its own spec. The handlers here react to spec changes only, which the API
server already counts in ``metadata.generation``: remembering the handled generation is enough.

What :meth:`HandledGenerations.fetch` gives kopf, for a body of generation ``g``:

* handled ``g`` (stored after the handlers succeeded): the body's own essence: no change;
* handled an older generation: the essence with a marker for a spec, so the spec differs: an update;
* never handled (0): None, as for an object kopf never saw: a create (again, until the handlers succeed, so
  kopf's retries of a failing create go on).

An object this process sees for the first time is looked up in its status: an SLO or key result whose
``RulesSynced`` condition says which generation was rendered, or any other object with a status, was handled by
an earlier process (kopf's first listing then runs the resume handlers, as with the annotation); an object without
is new. Nothing is written to the API, and the memory is an int per object of this shard (objects of other
shards, which kopf's ``when=`` filters leave without handlers, are neither remembered nor patched).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any, cast

import kopf

from .sharding import Shard

MARKER = "okr.dev/handled-generation"
RULES_RENDERED_BY = ("ServiceLevelObjective", "KeyResult")  # the kinds whose RulesSynced names a generation


def handled_before(body: Mapping[str, Any]) -> int:
    """The generation an earlier process handled, read from the status (0: none)."""
    status = body.get("status") or {}
    if body.get("kind") in RULES_RENDERED_BY:
        synced = next((c for c in status.get("conditions") or [] if c.get("type") == "RulesSynced"), None)
        return int((synced or {}).get("observedGeneration") or 0)
    return int((body.get("metadata") or {}).get("generation") or 0) if status else 0


class HandledGenerations(kopf.DiffBaseStorage):
    """kopf's diffbase_storage (see the module docstring); ``forget`` an object once it is deleted."""

    def __init__(self, shard: Shard | None = None) -> None:
        super().__init__()
        self.shard = shard or Shard()
        self._handled: dict[str | None, int] = {}
        self._lock = threading.Lock()

    def build(self, *, body: Any, extra_fields: Iterable[Any] | None = None) -> Any:
        """kopf's essence, without deep-copying the whole body first (managedFields and status are dropped anyway)."""
        extra = list(extra_fields or [])
        if extra:
            return super().build(body=body, extra_fields=extra)
        meta = body.get("metadata") or {}
        slim = {k: v for k, v in body.items() if k not in ("metadata", "status")}
        slim["metadata"] = {k: meta[k] for k in ("labels", "annotations") if k in meta}
        return super().build(body=cast(Any, slim))

    def fetch(self, *, body: Any) -> Any:
        meta = body.get("metadata") or {}
        uid, generation = meta.get("uid"), int(meta.get("generation") or 0)
        if not self.shard.owns(meta.get("namespace") or "default"):
            return self.build(body=body)  # another shard's: no handler runs for it here, nothing to remember
        with self._lock:
            handled = self._handled.get(uid)
            if handled is None:
                handled = self._handled[uid] = handled_before(body)
        if not handled:
            return None
        essence = self.build(body=body)
        if handled == generation:
            return essence
        return {**essence, "spec": {MARKER: handled}}

    def store(self, *, body: Any, patch: Any, essence: Any) -> None:
        meta = body.get("metadata") or {}
        if not self.shard.owns(meta.get("namespace") or "default"):
            return
        with self._lock:
            self._handled[meta.get("uid")] = int(meta.get("generation") or 0)

    def forget(self, uid: str | None) -> None:
        with self._lock:
            self._handled.pop(uid, None)

    def __len__(self) -> int:
        return len(self._handled)
