"""runtime.store: what the reconcile handlers look up besides the watched object."""

from __future__ import annotations

import pytest

from okr_operator.api.identity import Ref
from okr_operator.kube.errors import KubeUnavailable
from okr_operator.runtime.store import Store

OBJECTIVE = {"apiVersion": "okr.dev/v1alpha1", "kind": "Objective", "metadata": {"name": "goal", "namespace": "team"}}
REF = Ref("Objective", "team", "goal")


def test_an_object_not_yet_in_the_store_is_read_from_the_api_server():
    """Right after a restart a key result can resume before its objective's watch has listed the objective."""
    reads: list[Ref] = []

    def read(ref: Ref) -> dict | None:
        reads.append(ref)
        return OBJECTIVE

    assert Store().get_or_read(REF, read) == OBJECTIVE
    assert reads == [REF]


def test_a_stored_object_is_not_read_again():
    store = Store()
    store.upsert(OBJECTIVE)
    assert store.get_or_read(REF, lambda ref: pytest.fail("read although stored")) == OBJECTIVE


def test_missing_is_none_and_an_unanswered_read_is_an_error_not_missing():
    assert Store().get_or_read(REF, lambda ref: None) is None

    def down(ref: Ref) -> dict | None:
        raise KubeUnavailable("get Objective team/goal", timed_out=True, reason="", timeout=15)

    with pytest.raises(KubeUnavailable):
        Store().get_or_read(REF, down)
