"""Alignment: cycles of the parent relation and children."""

from hypothesis import given, settings
from hypothesis import strategies as st

from okr_operator.okr import children_of, find_cycles


def test_no_cycles_in_a_tree():
    parents = {"company": None, "eng": "company", "sales": "company", "sre": "eng"}
    assert find_cycles(parents) == set()


def test_self_loop():
    assert find_cycles({"a": "a", "b": None}) == {"a"}


def test_two_cycle():
    assert find_cycles({"a": "b", "b": "a", "c": "a"}) == {"a", "b"}


def test_three_cycle_with_a_tail():
    parents = {"tail2": "tail1", "tail1": "a", "a": "b", "b": "c", "c": "a", "other": None}
    assert find_cycles(parents) == {"a", "b", "c"}


def test_tail_visited_first_and_last():
    assert find_cycles({"t": "a", "a": "b", "b": "a"}) == {"a", "b"}
    assert find_cycles({"a": "b", "b": "a", "t": "a"}) == {"a", "b"}


def test_two_separate_cycles_and_missing_parents():
    parents = {"a": "b", "b": "a", "c": "c", "d": "missing", "e": "d"}
    assert find_cycles(parents) == {"a", "b", "c"}


def test_namespaced_keys():
    parents = {("team", "o1"): ("org", "o2"), ("org", "o2"): ("team", "o1"), ("org", "root"): None}
    assert find_cycles(parents) == {("team", "o1"), ("org", "o2")}


def test_children_sorted_for_every_node():
    parents = {"sre": "eng", "eng": "company", "sales": "company", "company": None, "qa": "eng"}
    assert children_of(parents) == {
        "company": ["eng", "sales"],
        "eng": ["qa", "sre"],
        "qa": [],
        "sales": [],
        "sre": [],
    }
    assert list(children_of(parents)) == ["company", "eng", "qa", "sales", "sre"]


def test_children_of_a_missing_parent_are_listed():
    assert children_of({"b": "ghost", "a": "ghost"}) == {"a": [], "b": [], "ghost": ["a", "b"]}


def test_children_with_namespaced_keys():
    parents = {("ns2", "x"): ("ns1", "root"), ("ns1", "y"): ("ns1", "root"), ("ns1", "root"): None}
    assert children_of(parents)[("ns1", "root")] == [("ns1", "y"), ("ns2", "x")]


def test_empty():
    assert find_cycles({}) == set()
    assert children_of({}) == {}


def _on_cycle_by_definition(parents, node):
    seen = set()
    current = parents.get(node)
    while current is not None and current not in seen:
        if current == node:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


@settings(deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 15),
        st.one_of(st.none(), st.integers(0, 18)),
        max_size=16,
    )
)
def test_cycles_match_the_definition(parents):
    assert find_cycles(parents) == {n for n in parents if _on_cycle_by_definition(parents, n)}
    children = children_of(parents)
    assert sum(len(c) for c in children.values()) == sum(p is not None for p in parents.values())
    for node, kids in children.items():
        assert kids == sorted(kids)
        assert all(parents[k] == node for k in kids)
