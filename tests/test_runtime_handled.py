"""kopf's diff-base in memory (runtime/handled.py): what kopf is told was handled, so it runs create, update,
resume or nothing, without an annotation patched onto every object."""

from __future__ import annotations

from typing import Any

import kopf
from kopf._cogs.structs import diffs

from okr_operator.runtime.handled import MARKER, HandledGenerations, handled_before


def slo(generation: int = 1, synced_at: int | None = None, uid: str = "u1") -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {
            "name": "checkout",
            "namespace": "shop",
            "uid": uid,
            "generation": generation,
            "labels": {"team": "shop"},
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {"target": 99.9, "window": "28d"},
    }
    if synced_at is not None:
        body["status"] = {"conditions": [{"type": "RulesSynced", "status": "True", "observedGeneration": synced_at}]}
    return body


def diff_of(storage: HandledGenerations, body: dict[str, Any]) -> Any:
    old = storage.fetch(body=kopf.Body(body))
    new = storage.build(body=kopf.Body(body))
    return None if old is None else diffs.diff(old, new)


def test_a_new_object_is_a_create_until_its_handlers_succeed():
    storage = HandledGenerations()
    body = slo()
    assert storage.fetch(body=kopf.Body(body)) is None
    # a status written meanwhile (the handler failed and is retried) does not make it handled
    body["status"] = {"conditions": [{"type": "RulesSynced", "status": "False", "observedGeneration": 1}]}
    assert storage.fetch(body=kopf.Body(body)) is None
    storage.store(body=kopf.Body(body), patch=None, essence=storage.build(body=kopf.Body(body)))
    assert diff_of(storage, body) == ()


def test_a_new_generation_changes_the_spec_and_nothing_else():
    storage = HandledGenerations()
    storage.store(body=kopf.Body(slo(1)), patch=None, essence=None)
    edited = slo(2)
    old = storage.fetch(body=kopf.Body(edited))
    assert old["spec"] == {MARKER: 1}
    assert {path[0] for _, path, _, _ in diffs.diff(old, storage.build(body=kopf.Body(edited)))} == {"spec"}
    # labels and annotations alone (the same generation) are no change for spec handlers
    relabelled = slo(1)
    relabelled["metadata"]["labels"] = {"team": "payments"}
    assert diff_of(storage, relabelled) == ()


def test_an_object_an_earlier_process_handled_is_resumed_not_created():
    storage = HandledGenerations()
    assert diff_of(storage, slo(3, synced_at=3)) == ()  # kopf's first listing resumes it
    assert storage.fetch(body=kopf.Body(slo(4, synced_at=3)))["spec"] == {MARKER: 3}  # edited since: an update


def test_an_object_edited_while_no_operator_ran_is_an_update():
    storage = HandledGenerations()
    assert storage.fetch(body=kopf.Body(slo(5, synced_at=4)))["spec"] == {MARKER: 4}


def test_objectives_with_any_status_count_as_handled():
    objective = {"kind": "Objective", "metadata": {"uid": "o", "generation": 2}, "spec": {}}
    assert handled_before(objective) == 0
    assert handled_before({**objective, "status": {"lastEvaluated": "2026-12-01T00:00:00Z"}}) == 2


def test_the_essence_leaves_out_metadata_and_status_and_shares_nothing_with_the_body():
    storage = HandledGenerations()
    body = slo(1, synced_at=1)
    essence = storage.build(body=kopf.Body(body))
    assert essence == {"metadata": {"labels": {"team": "shop"}}, "spec": {"target": 99.9, "window": "28d"}}
    body["spec"]["target"] = 99.0
    assert essence["spec"]["target"] == 99.9


def test_forgetting_a_deleted_object_frees_its_entry():
    storage = HandledGenerations()
    storage.store(body=kopf.Body(slo(uid="a")), patch=None, essence=None)
    storage.fetch(body=kopf.Body(slo(uid="b", synced_at=1)))
    assert len(storage) == 2
    storage.forget("a")
    storage.forget("never-seen")
    assert len(storage) == 1
