"""Build the objective trees from the objects as the API lists them (dicts), with ``okr.alignment``.

Nothing here trusts the input: a missing status, a parentRef cycle, a parent or SLO that does not exist
and a key result whose objective does not exist all give a tree (never a loop or an exception).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ..bodies import as_dict, as_number, as_str, namespaced_name
from ..okr.alignment import Child, ParentLink, align
from .model import Key, KeyResultNode, Node, Problem, SLOInfo


def _problem(status: Mapping[str, Any]) -> Problem | None:
    conditions = status.get("conditions")
    for cond in conditions if isinstance(conditions, list) else []:
        cond = as_dict(cond)
        if cond.get("type") == "Valid" and cond.get("status") == "False":
            return Problem(as_str(cond.get("reason")) or "Invalid", as_str(cond.get("message")))
    return None


def _parent_key(obj: Mapping[str, Any]) -> Key | None:
    ref = as_dict(as_dict(obj.get("spec")).get("parentRef"))
    name = as_str(ref.get("name"))
    if not name:
        return None
    return (as_str(ref.get("namespace")) or namespaced_name(obj)[0], name)


def _objective_node(obj: Mapping[str, Any]) -> Node:
    namespace, name = namespaced_name(obj)
    spec = as_dict(obj.get("spec"))
    status = as_dict(obj.get("status"))
    ref = as_dict(spec.get("parentRef"))
    weight = as_number(ref.get("weight"))
    allowed = as_dict(spec.get("children")).get("fromNamespaces")
    return Node(
        weight=1.0 if weight is None else weight,
        contributes=ref.get("contributes") is not False,
        from_namespaces=tuple(x for x in allowed if isinstance(x, str)) if isinstance(allowed, list) else (),
        final_score=as_number(as_dict(status.get("final")).get("score")),
        name=name,
        namespace=namespace,
        title=as_str(spec.get("title")),
        owner=as_str(spec.get("owner")),
        period=as_str(spec.get("period")),
        progress=as_number(status.get("progress")),
        score=as_number(status.get("score")),
        expected=as_number(status.get("expected")),
        state=as_str(status.get("state")) or None,
        evaluated=bool(status),
        parent_ref=_parent_key(obj),
        problem=_problem(status),
    )


def _slo_info(namespace: str, source: Mapping[str, Any], slos: Mapping[Key, Mapping[str, Any]]) -> SLOInfo:
    name = as_str(source.get("name"))
    slo = slos.get((namespace, name))
    if slo is None:
        return SLOInfo(name=name, field=as_str(source.get("field")) or None, found=False)
    status = as_dict(slo.get("status"))
    return SLOInfo(
        name=name,
        field=as_str(source.get("field")) or None,
        found=True,
        state=as_str(status.get("state")) or None,
        budget_remaining=as_number(as_dict(status.get("errorBudget")).get("remaining")),
        sli=as_number(status.get("sli")),
    )


def _key_result_node(obj: Mapping[str, Any], slos: Mapping[Key, Mapping[str, Any]]) -> KeyResultNode:
    namespace, name = namespaced_name(obj)
    spec = as_dict(obj.get("spec"))
    status = as_dict(obj.get("status"))
    source = as_dict(spec.get("source"))
    slo_source = as_dict(source.get("slo"))
    return KeyResultNode(
        owner=as_str(status.get("owner")) or as_str(spec.get("owner")),
        final_score=as_number(as_dict(status.get("final")).get("score")),
        name=name,
        namespace=namespace,
        description=as_str(spec.get("description")),
        direction=as_str(spec.get("direction")) or "increase",
        unit=as_str(spec.get("unit")),
        current=as_number(status.get("current")),
        target=as_number(spec.get("target")),
        minimum=as_number(spec.get("min")),
        maximum=as_number(spec.get("max")),
        progress=as_number(status.get("progress")),
        score=as_number(status.get("score")),
        state=as_str(status.get("state")) or None,
        evaluated=bool(status),
        slo=_slo_info(namespace, slo_source, slos) if slo_source else None,
        problem=_problem(status),
    )


def _mark_counted(node: Node, child: Child) -> None:
    node.counted = child.counted
    node.not_counted = child.reason.partition(":")[0]


def _sort_key(item: Node | KeyResultNode) -> Key:
    return (item.namespace, item.name)


def _root_order(node: Node) -> tuple[bool, str, str]:
    return (node.missing, node.namespace, node.name)


def _objective_nodes(objectives: Iterable[Mapping[str, Any]]) -> dict[Key, Node]:
    """One node per objective (the first of duplicates), by (namespace, name)."""
    nodes: dict[Key, Node] = {}
    for obj in objectives:
        node = _objective_node(obj)
        if node.name and node.key not in nodes:
            nodes[node.key] = node
    return nodes


def _align(nodes: Mapping[Key, Node], listed_namespaces: Collection[str] | None) -> dict[Key, list[Key]]:
    """Children per objective, from ``okr.alignment``; marks counting, cycles and parents not found."""
    links = {
        key: ParentLink(n.parent_ref, n.weight, n.contributes)
        if n.parent_ref is not None and not _invalid_spec(n)
        else None
        for key, n in nodes.items()
    }
    alignment = align(links, {key: n.from_namespaces for key, n in nodes.items()})
    children: dict[Key, list[Key]] = {key: [] for key in nodes}
    for parent, kids in alignment.children.items():
        children[parent] = [child.key for child in kids]
        for child in kids:
            _mark_counted(nodes[child.key], child)
    # Drawn under the parent its spec names (where its owner looks for it), but counted nowhere, as the
    # evaluation does.
    for key, node in nodes.items():
        if _invalid_spec(node) and node.parent_ref in children:
            children[node.parent_ref].append(key)
            node.counted, node.not_counted = False, "InvalidSpec"
    for node in nodes.values():
        if node.parent_ref is not None and node.parent_ref not in nodes:
            ns = node.parent_ref[0]
            node.parent_found = False if listed_namespaces is None or ns in listed_namespaces else None
    for key in alignment.cycles:
        nodes[key].cycle = True
    return children


def _invalid_spec(node: Node) -> bool:
    """The operator said the spec does not validate: it aligns the objective to nothing."""
    return node.problem is not None and node.problem.reason == "InvalidSpec"


def _attach(nodes: Mapping[Key, Node], children: Mapping[Key, list[Key]]) -> list[Node]:
    """Nest every objective under its parent; the top-level ones (and each cycle, cut at its first member)."""
    roots: list[Node] = []
    visited: set[Key] = set()

    def attach(root: Key) -> None:
        visited.add(root)
        roots.append(nodes[root])
        stack = [root]
        while stack:
            key = stack.pop()
            for child in sorted(children[key]):
                if child not in visited:
                    visited.add(child)
                    nodes[key].children.append(nodes[child])
                    stack.append(child)

    for key in sorted(k for k, node in nodes.items() if node.parent_ref not in nodes):
        attach(key)
    # What is left hangs off a cycle: cut each cycle at its first member.
    for key in sorted(k for k in nodes if nodes[k].cycle):
        if key not in visited:
            attach(key)
    return roots


def _hang_key_results(
    nodes: Mapping[Key, Node], key_results: Iterable[Mapping[str, Any]], slos: Iterable[Mapping[str, Any]]
) -> list[Node]:
    """Put each key result under its objective; returns placeholders for objectives that do not exist."""
    slo_index = {namespaced_name(slo): slo for slo in slos}
    placeholders: dict[Key, Node] = {}
    for obj in key_results:
        kr = _key_result_node(obj, slo_index)
        if not kr.name:
            continue
        objective = (kr.namespace, as_str(as_dict(as_dict(obj.get("spec")).get("objectiveRef")).get("name")))
        owner = nodes.get(objective)
        if owner is None:
            owner = placeholders.get(objective)
            if owner is None:
                owner = placeholders[objective] = Node(name=objective[1] or "?", namespace=kr.namespace, missing=True)
        kr.owner = kr.owner or owner.owner  # a key result's owner defaults to its objective's
        owner.key_results.append(kr)
    for node in [*nodes.values(), *placeholders.values()]:
        node.key_results.sort(key=_sort_key)
    return list(placeholders.values())


def build_forest(
    objectives: Iterable[Mapping[str, Any]],
    key_results: Iterable[Mapping[str, Any]],
    slos: Iterable[Mapping[str, Any]] = (),
    *,
    listed_namespaces: Collection[str] | None = None,
) -> list[Node]:
    """The objective trees, top-level objectives sorted by namespace and name (placeholders last).

    ``listed_namespaces``: the namespaces whose objectives were all listed (None: every namespace). A parent
    absent from the input is reported as not found when its namespace was listed, else as not listed.
    Objectives on a parentRef cycle are shown once each: the cycle is cut at its first member (by
    namespace/name), which becomes a top-level objective marked ``cycle``. Key results whose objective
    does not exist hang under a placeholder node with ``missing=True``.
    """
    nodes = _objective_nodes(objectives)
    roots = _attach(nodes, _align(nodes, listed_namespaces))
    roots.extend(_hang_key_results(nodes, key_results, slos))
    roots.sort(key=_root_order)
    return roots
