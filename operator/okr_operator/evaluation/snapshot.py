"""What an evaluation cycle starts from: every object with its spec model and its current status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api import (
    KEY_RESULT_KIND,
    MAINTENANCE_WINDOW_KIND,
    OBJECTIVE_KIND,
    SLO_KIND,
    KeyResult,
    MaintenanceWindow,
    Objective,
    ServiceLevelObjective,
)
from ..api.identity import Entry, entry_from_body


@dataclass
class Snapshot:
    """Every object the evaluation looks at, by kind."""

    slos: list[Entry] = field(default_factory=list)
    key_results: list[Entry] = field(default_factory=list)
    objectives: list[Entry] = field(default_factory=list)
    maintenance_windows: list[Entry] = field(default_factory=list)

    def all(self) -> list[Entry]:
        return [*self.slos, *self.key_results, *self.objectives, *self.maintenance_windows]

    def by_kind(self, kind: str) -> list[Entry]:
        return {
            SLO_KIND: self.slos,
            KEY_RESULT_KIND: self.key_results,
            OBJECTIVE_KIND: self.objectives,
            MAINTENANCE_WINDOW_KIND: self.maintenance_windows,
        }[kind]

    @classmethod
    def from_bodies(cls, bodies: Iterable[Mapping[str, Any]]) -> Snapshot:
        """Build from Kubernetes objects as they come from the API (dicts)."""
        snapshot = cls()
        for body in bodies:
            entry = entry_from_body(body)
            if entry is not None:
                snapshot.by_kind(entry.ref.kind).append(entry)
        for entries in (snapshot.slos, snapshot.key_results, snapshot.objectives, snapshot.maintenance_windows):
            entries.sort(key=lambda e: e.ref)
        return snapshot

    @classmethod
    def from_models(
        cls, models: Iterable[ServiceLevelObjective | KeyResult | Objective | MaintenanceWindow]
    ) -> Snapshot:
        """Build from validated models (okrctl evaluate), statuses taken from the models."""
        return cls.from_bodies(m.model_dump(by_alias=True, exclude_none=True, mode="json") for m in models)
