"""The samples (config/samples/) with statuses as the operator writes them, for the report tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SAMPLES = Path(__file__).resolve().parent.parent / "config" / "samples"

STATUS: dict[str, dict[str, Any]] = {
    "checkout-mttr": {"current": 42, "progress": 0.6667, "score": 0.67, "state": "OnTrack", "confidence": 0.8},
    "checkout-budget-discipline": {"current": 0.4, "progress": 1, "score": 1, "state": "OnTrack"},
    "sli-coverage": {
        "current": 100,
        "progress": 1,
        "score": 1,
        "state": "Achieved",
        "history": [
            {"time": "2026-10-20T00:00:00Z", "value": 96},
            {"time": "2026-11-10T00:00:00Z", "value": 100},
        ],
    },
    "checkout-p95-latency": {"current": 0.232911, "progress": 1, "score": 1, "state": "Achieved"},
    "platform-excellence": {"progress": 0.963, "score": 0.96, "expected": 0.5, "state": "OnTrack"},
    "checkout-reliability": {"progress": 0.8889, "score": 0.89, "expected": 0.5, "state": "OnTrack"},
    "checkout-speed": {"progress": 1, "score": 1, "expected": 0.35, "state": "Achieved"},
    "checkout-availability": {
        "sli": 99.96,
        "errorBudget": {"total": 0.1, "consumed": 0.4, "remaining": 0.6},
        "state": "Healthy",
        "lastEvaluated": "2026-11-15T23:59:00Z",
    },
    "checkout-latency": {
        "sli": 99.5,
        "errorBudget": {"total": 1, "consumed": 0.5, "remaining": 0.5},
        "state": "Healthy",
        "lastEvaluated": "2026-11-15T23:59:00Z",
    },
}


def sample_objects(namespace: str = "shop", status: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    docs = [d for p in sorted(SAMPLES.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    statuses = copy.deepcopy(STATUS if status is None else status)
    for doc in docs:
        doc["metadata"]["namespace"] = namespace
        if doc["metadata"]["name"] in statuses:
            doc["status"] = statuses[doc["metadata"]["name"]]
    return docs


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]
