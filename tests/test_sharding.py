"""Sharding across replicas (``--shards N --shard K``): which shard owns a namespace, the settings and their
errors, the derived peering and Lease names, and the evaluation of one shard (its own objects only, the other
shards' objectives read as written, so a cross-namespace roll-up across shards gives the unsharded figures)."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner

from okr_operator.api.identity import Ref
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.runtime.main import cli
from okr_operator.runtime.settings import from_env
from okr_operator.runtime.sharding import Shard, shard_of
from tests.fakeprom import FakePrometheus
from tests.test_evaluation_okr import NOW, evaluate, family, st

# ------------------------------------------------------------------------------------------ ownership


def test_the_shard_of_a_namespace_is_its_sha256_mod_n():
    """Pinned: a different function would move namespaces between shards on an upgrade."""
    assert [shard_of(n, 2) for n in ("org", "team", "team-a", "team-b", "shop", "a", "d")] == [1, 1, 0, 0, 1, 0, 1]
    assert [shard_of(n, 3) for n in ("org", "team", "team-a", "team-b")] == [2, 0, 0, 2]
    for name in ("org", "x" * 63, "ünïcode"):
        digest = hashlib.sha256(name.encode()).digest()
        assert shard_of(name, 7) == int.from_bytes(digest[:8], "big") % 7


@pytest.mark.parametrize("shards", [1, 2, 3, 5])
def test_every_namespace_is_owned_by_exactly_one_shard(shards):
    namespaces = [f"team-{i}" for i in range(500)]
    for ns in namespaces:
        owners = [k for k in range(shards) if Shard(k, shards).owns(ns)]
        assert len(owners) == 1, (ns, owners)


def test_the_split_is_about_even():
    counts = [0, 0]
    for i in range(2000):
        counts[shard_of(f"ns-{i}", 2)] += 1
    assert 900 <= counts[0] <= 1100, counts


def test_without_shards_everything_is_owned_and_names_stay():
    one = Shard()
    assert not one.sharded and one.owns("anything") and one.owns(None)
    assert one.name("okr-operator") == "okr-operator"
    assert Shard(1, 2).name("okr-operator") == "okr-operator-shard-1"


# ------------------------------------------------------------------------------------------ settings


def test_settings_from_the_environment_and_derived_names():
    settings = from_env({"OKR_SHARDS": "2", "OKR_SHARD": "1"})
    assert (settings.shards, settings.shard) == (2, 1)
    assert settings.peering == "okr-operator-shard-1"
    assert settings.lease == "okr-operator-evaluation-shard-1"
    plain = from_env({})
    assert (plain.peering, plain.lease) == ("okr-operator", "okr-operator-evaluation")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OKR_SHARDS": "2", "OKR_SHARD": "2"}, "--shard 2 (OKR_SHARD): use 0 to 1 with --shards 2"),
        ({"OKR_SHARDS": "0"}, "--shards 0 (OKR_SHARDS): use 1 or more"),
        ({"OKR_SHARD": "1"}, "--shard 1 (OKR_SHARD): set --shards (OKR_SHARDS) to 2 or more as well"),
        ({"OKR_SHARDS": "3", "OKR_SHARD": "-1"}, "--shard -1 (OKR_SHARD): use 0 to 2 with --shards 3"),
        ({"OKR_SHARDS": "two"}, "OKR_SHARDS='two'"),
    ],
)
def test_bad_shard_settings_are_refused_naming_the_setting(env, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_env(env)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shards", "2", "--shard", "2"], "Error: --shard 2 (OKR_SHARD): use 0 to 1 with --shards 2"),
        (["--shards", "0"], "Error: --shards 0 (OKR_SHARDS): use 1 or more (1: no sharding)"),
    ],
)
def test_bad_shard_flags_exit_1_with_one_line(args, message):
    result = CliRunner().invoke(cli, ["run", *args], env={"OKR_SHARDS": None, "OKR_SHARD": None})
    assert result.exit_code == 1
    assert result.output.strip() == message


# ------------------------------------------------------------------------------------------ evaluation


def owner(k: int, shards: int = 3):
    return lambda ns: shard_of(ns, shards) == k


ORG, TEAM = shard_of("org", 3), shard_of("team", 3)  # 2 and 0: different shards


def test_a_shard_evaluates_only_its_objects_and_keeps_the_others_objectives_as_written():
    bodies = family(children={"fromNamespaces": ["team"]})
    snapshot = Snapshot.from_bodies(bodies, owner(TEAM))
    assert {e.ref.namespace for e in snapshot.all()} == {"team"}
    assert {e.ref.name for e in snapshot.foreign_objectives} == {"root", "company", "a", "b"}
    assert not [e for e in snapshot.foreign_objectives if e.ref.kind != "Objective"]
    nothing = FakePrometheus(lambda key, expr, at: pytest.fail(f"unexpected query {expr}"))
    out = Evaluator(nothing).evaluate(snapshot, NOW)
    assert set(out.statuses) == {Ref("Objective", "team", "c"), Ref("KeyResult", "team", "c-kr")}
    assert st(out, "Objective", "c", "team")["progress"] == 0.25


def test_a_roll_up_across_shards_reads_the_childs_written_status_and_equals_the_unsharded_one():
    bodies = family(children={"fromNamespaces": ["team"]})
    unsharded = st(evaluate(bodies), "Objective", "company")
    nothing = FakePrometheus(lambda key, expr, at: pytest.fail(f"unexpected query {expr}"))

    # Before the child's shard has written anything, the parent's shard sees a child without figures.
    before = Evaluator(nothing).evaluate(Snapshot.from_bodies(bodies, owner(ORG)), NOW)
    assert Ref("Objective", "team", "c") not in before.statuses
    kid = {c["name"]: c for c in st(before, "Objective", "company")["children"]}["c"]
    assert kid["counted"] is True and "progress" not in kid
    assert st(before, "Objective", "company")["progress"] == pytest.approx((0.5 + 2 * 1.0) / 3, abs=1e-4)

    # The child's shard writes its status; the parent's shard rolls it up as the unsharded operator does.
    team = Evaluator(nothing).evaluate(Snapshot.from_bodies(bodies, owner(TEAM)), NOW)
    written = [
        {**b, "status": team.statuses[Ref(b["kind"], "team", b["metadata"]["name"])]}
        if b["metadata"]["namespace"] == "team"
        else b
        for b in bodies
    ]
    after = Evaluator(nothing).evaluate(Snapshot.from_bodies(written, owner(ORG)), NOW)
    company = st(after, "Objective", "company")
    assert company["progress"] == unsharded["progress"] == 0.6875
    assert company["children"] == unsharded["children"]
    assert {r.namespace for r in after.statuses} == {"org"}


# ------------------------------------------------------------------------------------------ kopf


def test_kopf_remembers_what_it_handled_only_of_objects_of_our_shard():
    """kopf stores its diff-base after every create/update cause, also for objects a when= filter leaves to
    another shard: the in-memory diff-base never patches an object, and remembers only our shard's."""
    import kopf

    from okr_operator.runtime.handled import HandledGenerations

    storage = HandledGenerations(Shard(ORG, 3))
    for namespace in ("org", "team"):
        body = kopf.Body({"metadata": {"name": "o", "namespace": namespace, "uid": namespace, "generation": 1}})
        patch = kopf.Patch()
        storage.store(body=body, patch=patch, essence=kopf.BodyEssence(spec={"title": "x"}))
        assert not patch, namespace
        assert storage.fetch(body=body) is not None, namespace  # ours: handled; theirs: no change, no handler
    assert len(storage) == 1
