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


# ---------------------------------------------------------------------------------------------- align


def _links(**parents):
    """name -> parent name (same namespace "ns"), or a ParentLink."""
    from okr_operator.okr import ParentLink

    out = {}
    for name, parent in parents.items():
        if parent is None or isinstance(parent, ParentLink):
            out[("ns", name)] = parent
        else:
            out[("ns", name)] = ParentLink(("ns", parent))
    return out


def test_align_counts_children_in_the_same_namespace_with_their_weight():
    from okr_operator.okr import ParentLink, align

    alignment = align(_links(root=None, a=ParentLink(("ns", "root"), 2.0), b="root"), {})
    assert [(c.key, c.weight, c.counted, c.reason) for c in alignment.children[("ns", "root")]] == [
        (("ns", "a"), 2.0, True, ""),
        (("ns", "b"), 1.0, True, ""),
    ]
    assert alignment.roll_up_order() == [("ns", "a"), ("ns", "b"), ("ns", "root")]


def test_align_foreign_namespaces_count_only_when_listed():
    from okr_operator.okr import ParentLink, align

    links = {("org", "root"): None, ("team", "x"): ParentLink(("org", "root"))}
    refused = align(links, {})
    (child,) = refused.children[("org", "root")]
    assert not child.counted and child.reason.startswith("NamespaceNotAllowed:")
    accepted = align(links, {("org", "root"): ["team"]})
    assert accepted.children[("org", "root")][0].counted


def test_align_not_contributing_and_missing_parents():
    from okr_operator.okr import ParentLink, align

    alignment = align(_links(root=None, quiet=ParentLink(("ns", "root"), contributes=False), lost="ghost"), {})
    (quiet,) = alignment.children[("ns", "root")]
    assert not quiet.counted and quiet.reason == "NotContributing: parentRef.contributes is false"
    assert alignment.missing_parent(("ns", "lost")) == ("ns", "ghost")
    assert ("ns", "ghost") not in alignment.children


def test_align_cycles_count_no_children_of_the_cycle_but_their_tails():
    from okr_operator.okr import align

    alignment = align(_links(a="b", b="a", tail="a"), {})
    assert alignment.cycles == {("ns", "a"), ("ns", "b")}
    kids = {c.key: c for c in alignment.children[("ns", "a")]}
    assert not kids[("ns", "b")].counted and kids[("ns", "b")].reason.startswith("ParentCycle:")
    assert kids[("ns", "tail")].counted
    order = alignment.roll_up_order()
    assert sorted(order) == [("ns", "a"), ("ns", "b"), ("ns", "tail")]
    assert order.index(("ns", "tail")) < order.index(("ns", "a"))


@settings(deadline=None)
@given(st.dictionaries(st.integers(0, 12), st.one_of(st.none(), st.integers(0, 14)), max_size=13))
def test_roll_up_order_puts_every_child_before_its_parent(parents):
    from okr_operator.okr import ParentLink, align

    links = {("ns", str(k)): (ParentLink(("ns", str(p))) if p is not None else None) for k, p in parents.items()}
    alignment = align(links, {})
    order = alignment.roll_up_order()
    assert sorted(order) == sorted(links)
    position = {key: i for i, key in enumerate(order)}
    for parent, kids in alignment.children.items():
        for child in kids:
            if not (child.key in alignment.cycles and parent in alignment.cycles):
                assert position[child.key] < position[parent]
