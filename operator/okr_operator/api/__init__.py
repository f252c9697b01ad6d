"""okr.dev/v1alpha1 API: pydantic models of Objective, KeyResult and ServiceLevelObjective."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from .common import API_VERSION, GROUP, VERSION, Condition
from .maintenance import KIND as MAINTENANCE_WINDOW_KIND
from .maintenance import MaintenanceWindow
from .okr import (
    KEY_RESULT_KIND,
    OBJECTIVE_KIND,
    Direction,
    KeyResult,
    KeyResultSpec,
    Objective,
    ObjectiveSpec,
    ObjectiveType,
    SLOField,
)
from .okr_status import KeyResultStatus, ObjectiveStatus, PaceState
from .slo import KIND as SLO_KIND
from .slo import ServiceLevelObjective, ServiceLevelObjectiveSpec
from .slo_status import ServiceLevelObjectiveStatus, SLOState

# What one manifest of the okr.dev API holds: an object of one of its kinds.
Manifest: TypeAlias = Objective | KeyResult | ServiceLevelObjective | MaintenanceWindow


@dataclass(frozen=True)
class KindInfo:
    """How one kind is named in the API and on the command line."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    model: type[Manifest]


KINDS: dict[str, KindInfo] = {
    info.kind: info
    for info in (
        KindInfo(OBJECTIVE_KIND, "objectives", "objective", ("obj",), Objective),
        KindInfo(KEY_RESULT_KIND, "keyresults", "keyresult", ("kr",), KeyResult),
        KindInfo(SLO_KIND, "servicelevelobjectives", "servicelevelobjective", ("slo",), ServiceLevelObjective),
        KindInfo(MAINTENANCE_WINDOW_KIND, "maintenancewindows", "maintenancewindow", ("mw",), MaintenanceWindow),
    )
}

__all__ = [
    "API_VERSION",
    "GROUP",
    "KEY_RESULT_KIND",
    "KINDS",
    "MAINTENANCE_WINDOW_KIND",
    "OBJECTIVE_KIND",
    "SLO_KIND",
    "VERSION",
    "Condition",
    "Direction",
    "KeyResult",
    "KeyResultSpec",
    "KeyResultStatus",
    "KindInfo",
    "MaintenanceWindow",
    "Manifest",
    "Objective",
    "ObjectiveSpec",
    "ObjectiveStatus",
    "ObjectiveType",
    "PaceState",
    "SLOField",
    "SLOState",
    "ServiceLevelObjective",
    "ServiceLevelObjectiveSpec",
    "ServiceLevelObjectiveStatus",
]
