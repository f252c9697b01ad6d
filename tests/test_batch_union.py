"""evaluation.batch.union: the batched queries join their members with ``or`` as a balanced tree (a chain
costs Prometheus n^2/2 series hashes), and ``union_members`` gives the members back (exact texts)."""

from __future__ import annotations

import pytest

from okr_operator.evaluation.batch import batch, union, union_members


def test_one_member_is_itself():
    assert union(["up"]) == "up"


def test_three_members_nest_the_longer_half():
    assert union(["a", "b", "c"]) == "(\na\nor\n(\nb\nor\nc\n)\n)"


def test_four_members_are_two_pairs():
    assert union(["a", "b", "c", "d"]) == "(\n(\na\nor\nb\n)\nor\n(\nc\nor\nd\n)\n)"


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 1000])
def test_the_members_come_back_in_order(n):
    members = [f'label_replace(vector({i}), "okr_name", "n{i}", "", "")' for i in range(n)]
    assert union_members(union(members)) == members


def test_the_tree_is_as_deep_as_log2_of_the_members():
    text = union([f"m{i}" for i in range(3000)])
    depth = deepest = 0
    for line in text.splitlines():
        depth += line == "("
        depth -= line == ")"
        deepest = max(deepest, depth)
    assert deepest == 12  # ceil(log2(3000)); a chain would be 2999 joins deep


def test_batch_tags_every_member():
    text = batch([(("ns", "a"), "vector(1)"), (("ns", "b"), "vector(2)")])
    assert union_members(text) == [
        'label_replace(label_replace((vector(1)), "okr_name", "a", "", ""), "okr_namespace", "ns", "", "")',
        'label_replace(label_replace((vector(2)), "okr_name", "b", "", ""), "okr_namespace", "ns", "", "")',
    ]
