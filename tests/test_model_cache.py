"""The evaluation loop re-uses spec models between cycles (``ModelCache``) only while what they were built from
is unchanged: a changed spec, label, generation or uid builds a new one, an invalid spec stays invalid, objects
that are gone are forgotten, and a snapshot built through the cache equals one built without it."""

from __future__ import annotations

import copy

from okr_operator.api.identity import ModelCache, Ref
from okr_operator.evaluation.snapshot import Snapshot

NS = "team"


def slo(name: str = "checkout", target: float = 99.9, **meta: object) -> dict:
    return {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", "generation": 1, **meta},
        "spec": {
            "service": "checkout",
            "target": target,
            "indicator": {
                "ratio": {
                    "errors": 'sum(rate(http_requests_total{code="500"}[{{window}}]))',
                    "total": "sum(rate(http_requests_total[{{window}}]))",
                }
            },
        },
        "status": {"sli": 99.95},
    }


def model_of(bodies: list[dict], cache: ModelCache, name: str = "checkout") -> object:
    snapshot = Snapshot.from_bodies(bodies, None, cache)
    return next(e.model for e in snapshot.slos if e.ref.name == name)


def test_an_unchanged_spec_reuses_the_model_and_a_new_status_still_shows():
    cache = ModelCache()
    body = slo()
    first = model_of([body], cache)
    again = {**body, "status": {"sli": 98.0}}  # what a status write coming back as a watch event looks like
    snapshot = Snapshot.from_bodies([again], None, cache)
    assert snapshot.slos[0].model is first and cache.hits == 1
    assert snapshot.slos[0].status == {"sli": 98.0}


def test_an_equal_spec_in_a_new_dict_is_the_same_spec():
    cache = ModelCache()
    first = model_of([slo()], cache)
    assert model_of([copy.deepcopy(slo())], cache) is first


def test_a_changed_spec_label_generation_or_uid_builds_a_new_model():
    changes = [
        slo(target=99.5),
        slo(labels={"team": "payments"}),
        slo(generation=2),
        slo(uid="uid-recreated"),
    ]
    for changed in changes:
        cache = ModelCache()
        first = model_of([slo()], cache)
        second = model_of([changed], cache)
        assert second is not first and cache.hits == 0
        assert second == model_of([changed], ModelCache())  # what it would be without the cache
    assert model_of([slo(target=99.5)], ModelCache()).spec.target == 99.5


def test_an_invalid_spec_stays_invalid_and_a_fixed_one_validates():
    cache = ModelCache()
    broken = slo()
    broken["spec"]["target"] = 150
    for _ in range(2):
        entry = Snapshot.from_bodies([broken], None, cache).slos[0]
        assert entry.model is None and entry.invalid and "target" in entry.invalid
    fixed = Snapshot.from_bodies([slo()], None, cache).slos[0]
    assert fixed.model is not None and fixed.invalid is None


def test_objects_that_are_gone_are_forgotten():
    cache = ModelCache()
    Snapshot.from_bodies([slo("a"), slo("b")], None, cache)
    assert len(cache) == 2
    Snapshot.from_bodies([slo("b")], None, cache)
    assert len(cache) == 1
    assert cache.lookup(Ref("ServiceLevelObjective", NS, "a"), ()) is None


def test_a_snapshot_through_the_cache_equals_one_without():
    bodies = [slo("a"), slo("b", target=99.0), slo("c", labels={"x": "y"})]
    cache = ModelCache()
    Snapshot.from_bodies(bodies, None, cache)
    cached = Snapshot.from_bodies(bodies, None, cache)
    plain = Snapshot.from_bodies(bodies)
    assert cache.hits == 3
    assert [(e.ref, e.model, e.status, e.generation, e.uid, e.invalid) for e in cached.all()] == [
        (e.ref, e.model, e.status, e.generation, e.uid, e.invalid) for e in plain.all()
    ]
