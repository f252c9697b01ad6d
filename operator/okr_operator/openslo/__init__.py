"""OpenSLO (openslo.com) to and from okr.dev manifests: a format mapper at the edge, pure like api/.

``okrctl convert --from openslo`` reads OpenSLO v1 and v1alpha SLO/SLI/AlertPolicy/AlertCondition/DataSource
documents with Prometheus metric sources and writes ServiceLevelObjectives that validate; what has no
faithful equivalent is refused with one line naming the OpenSLO field and why, never converted into a
different SLO. ``okrctl convert --to openslo`` writes OpenSLO v1 documents that ``oslo validate`` accepts and
that convert back into the same manifests. docs/openslo.md has the field-by-field mapping.
"""

from __future__ import annotations

from typing import Any

from ..api import KEY_RESULT_KIND, OBJECTIVE_KIND, SLO_KIND
from ..api.loader import ManifestSet, Problem
from .documents import OpenSLOSet, Refusal, is_openslo, read_openslo
from .exporter import slo_to_openslo
from .importer import convert_from_openslo


def convert_to_openslo(manifests: ManifestSet) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Every SLO of ``manifests`` as an OpenSLO v1 document; Objectives and KeyResults have no equivalent."""
    documents, problems = [], []
    for doc in manifests.documents:
        model = doc.model
        if model is None:
            continue
        if model.kind == SLO_KIND:
            try:
                documents.append(slo_to_openslo(model))
            except Refusal as exc:
                problems.append(
                    Problem(doc.source, doc.index, doc.subject, exc.field, f"cannot convert: {exc.message}")
                )
        elif model.kind in (OBJECTIVE_KIND, KEY_RESULT_KIND):
            problems.append(
                Problem(
                    doc.source,
                    doc.index,
                    doc.subject,
                    "",
                    "OpenSLO has no objectives or key results, skipped",
                    "warning",
                )
            )
    return documents, problems


__all__ = [
    "OpenSLOSet",
    "Refusal",
    "convert_from_openslo",
    "convert_to_openslo",
    "is_openslo",
    "read_openslo",
    "slo_to_openslo",
]
