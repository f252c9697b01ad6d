"""The one status writer against a real API server: what each field manager applies, and what the store
keeps afterwards. A field the evaluation stops setting is gone from the store right after the write (the
API server's answer), so the next cycle does not find it there and write the same status again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from okr_operator.api.identity import Ref
from okr_operator.kube.client import EVALUATION_MANAGER, FIELD_MANAGER, KubeAdapter
from okr_operator.runtime.metrics import Metrics
from okr_operator.runtime.status import StatusWriter
from okr_operator.runtime.store import Store

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent


def test_a_dropped_field_is_gone_from_the_store_after_the_write(cluster, namespace):
    cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    objective = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "Objective",
        "metadata": {"name": "parent", "namespace": namespace},
        "spec": {"title": "t", "period": "2026-Q4"},
    }
    cluster.apply(objective)
    kube = KubeAdapter(cluster.api_client)
    store, metrics = Store(), Metrics()
    writer = StatusWriter(kube, store, metrics)
    store.upsert(kube.get("Objective", namespace, "parent"))
    ref = Ref("Objective", namespace, "parent")
    synced = {"type": "RulesSynced", "status": "True", "reason": "Applied", "message": ""}
    children = [{"name": "child", "namespace": namespace}]

    async def writes() -> None:
        assert await writer.write(ref, {"conditions": [synced]}, manager=FIELD_MANAGER)
        assert await writer.write(ref, {"progress": 0.5, "children": children}, manager=EVALUATION_MANAGER)
        assert store.get(ref)["status"]["children"] == children
        assert await writer.write(ref, {"progress": 0.5}, manager=EVALUATION_MANAGER)  # the child is gone

    asyncio.run(writes())
    status = store.get(ref)["status"]
    assert "children" not in status, "the store still has the field the write dropped"
    assert status["progress"] == 0.5
    assert [c["type"] for c in status["conditions"]] == ["RulesSynced"], "the other manager's fields stay"
    assert status == kube.get("Objective", namespace, "parent")["status"]
    assert metrics.status_writes.labels("Objective")._value.get() == 3
    assert kube.writes["status:Objective"] == 3


def test_writing_the_status_of_a_deleted_object_is_not_an_error(cluster, namespace):
    cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    kube = KubeAdapter(cluster.api_client)
    writer = StatusWriter(kube, Store(), Metrics())
    gone = Ref("Objective", namespace, "never-was")
    assert asyncio.run(writer.write(gone, {"progress": 1.0}, manager=EVALUATION_MANAGER)) is False
