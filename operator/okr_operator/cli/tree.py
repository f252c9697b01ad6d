"""The objective tree of ``kubectl okr tree``: pure functions, no cluster access.

``build_forest(objectives, key_results, slos)`` turns the objects as the API lists them (dicts) into
``Node`` trees: top-level objectives (no parentRef, or a parent that is not among the objectives given),
their aligned child objectives nested under them, and each objective's key results as leaves.
``render(nodes, console)`` prints the trees with rich; ``to_data(nodes)`` gives the same trees as plain
data for ``-o json|yaml``.

Nothing here trusts the input: a missing status, a parentRef cycle, a parent or SLO that does not exist
and a key result whose objective does not exist all give a tree (never a loop or an exception).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.text import Text

from ..okr.alignment import Child, ParentLink, align
from .tables import STATE_STYLE

Key = tuple[str, str]  # (namespace, name)

BAR_WIDTH = 10
TITLE_MAX = 48
TITLE_MIN = 24
DETAIL_MIN = 16
GAP = "  "
NO_STATUS = "no status"
STATE_WIDTH = len(NO_STATUS)


@dataclass
class Problem:
    """Why an object is invalid: the reason and message of its Valid=False condition."""

    reason: str
    message: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message}


@dataclass
class SLOInfo:
    """The ServiceLevelObjective a key result takes its value from (same namespace)."""

    name: str
    field: str | None
    found: bool
    state: str | None = None
    budget_remaining: float | None = None
    sli: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "field": self.field,
            "found": self.found,
            "state": self.state,
            "budgetRemaining": self.budget_remaining,
            "sli": self.sli,
        }


@dataclass
class KeyResultNode:
    """A key result: a leaf under its objective."""

    name: str
    namespace: str
    description: str = ""
    direction: str = "increase"
    unit: str = ""
    current: float | None = None
    target: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    progress: float | None = None
    score: float | None = None
    state: str | None = None
    evaluated: bool = False
    slo: SLOInfo | None = None
    problem: Problem | None = None
    owner: str = ""
    final_score: float | None = None
    kind: str = "KeyResult"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "owner": self.owner,
            "description": self.description,
            "direction": self.direction,
            "unit": self.unit,
            "current": self.current,
            "target": self.target,
            "min": self.minimum,
            "max": self.maximum,
            "progress": self.progress,
            "score": self.score,
            "state": self.state,
            "finalScore": self.final_score,
            "slo": self.slo.to_dict() if self.slo else None,
            "problem": self.problem.to_dict() if self.problem else None,
        }


@dataclass
class Node:
    """An objective with its aligned child objectives and its key results.

    ``parent_ref`` is the spec's parentRef (namespace, name). When the node is not shown under that parent,
    ``parent_found`` says why: False when the parent does not exist, None when its namespace was not listed.
    ``cycle`` marks objectives whose parentRef chain loops; ``missing`` marks a placeholder for an objective
    that key results refer to but that does not exist. ``weight``, ``counted`` and ``not_counted`` say how
    the objective counts in its parent's roll-up (the rules of ``okr.alignment``, as the operator applies them).
    """

    name: str
    namespace: str
    title: str = ""
    owner: str = ""
    period: str = ""
    progress: float | None = None
    score: float | None = None
    expected: float | None = None
    state: str | None = None
    evaluated: bool = False
    parent_ref: Key | None = None
    parent_found: bool | None = True
    cycle: bool = False
    missing: bool = False
    problem: Problem | None = None
    weight: float = 1.0
    contributes: bool = True
    from_namespaces: tuple[str, ...] = ()
    counted: bool | None = None
    not_counted: str = ""
    final_score: float | None = None
    children: list[Node] = field(default_factory=list)
    key_results: list[KeyResultNode] = field(default_factory=list)
    kind: str = "Objective"

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    def to_dict(self) -> dict[str, Any]:
        """This objective and everything under it as plain data."""
        return to_data([self])[0]

    def _fields(self) -> dict[str, Any]:
        parent = None
        if self.parent_ref is not None:
            parent = {"namespace": self.parent_ref[0], "name": self.parent_ref[1]}
        return {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "title": self.title,
            "owner": self.owner,
            "period": self.period,
            "progress": self.progress,
            "score": self.score,
            "expected": self.expected,
            "state": self.state,
            "parentRef": parent,
            "parentFound": self.parent_found if parent else None,
            "weight": self.weight if parent else None,
            "counted": self.counted,
            "notCounted": self.not_counted or None,
            "finalScore": self.final_score,
            "missing": self.missing,
            "cycle": self.cycle,
            "problem": self.problem.to_dict() if self.problem else None,
            "keyResults": [kr.to_dict() for kr in self.key_results],
            "children": [],  # filled by to_data
        }


# ---------------------------------------------------------------------------------------------- building


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _key(obj: Mapping[str, Any]) -> Key:
    meta = _dict(obj.get("metadata"))
    return (_str(meta.get("namespace")) or "default", _str(meta.get("name")))


def _problem(status: Mapping[str, Any]) -> Problem | None:
    conditions = status.get("conditions")
    for cond in conditions if isinstance(conditions, list) else []:
        cond = _dict(cond)
        if cond.get("type") == "Valid" and cond.get("status") == "False":
            return Problem(_str(cond.get("reason")) or "Invalid", _str(cond.get("message")))
    return None


def _parent_key(obj: Mapping[str, Any]) -> Key | None:
    ref = _dict(_dict(obj.get("spec")).get("parentRef"))
    name = _str(ref.get("name"))
    if not name:
        return None
    return (_str(ref.get("namespace")) or _key(obj)[0], name)


def _objective_node(obj: Mapping[str, Any]) -> Node:
    namespace, name = _key(obj)
    spec = _dict(obj.get("spec"))
    status = _dict(obj.get("status"))
    ref = _dict(spec.get("parentRef"))
    weight = _num(ref.get("weight"))
    allowed = _dict(spec.get("children")).get("fromNamespaces")
    return Node(
        weight=1.0 if weight is None else weight,
        contributes=ref.get("contributes") is not False,
        from_namespaces=tuple(x for x in allowed if isinstance(x, str)) if isinstance(allowed, list) else (),
        final_score=_num(_dict(status.get("final")).get("score")),
        name=name,
        namespace=namespace,
        title=_str(spec.get("title")),
        owner=_str(spec.get("owner")),
        period=_str(spec.get("period")),
        progress=_num(status.get("progress")),
        score=_num(status.get("score")),
        expected=_num(status.get("expected")),
        state=_str(status.get("state")) or None,
        evaluated=bool(status),
        parent_ref=_parent_key(obj),
        problem=_problem(status),
    )


def _slo_info(namespace: str, source: Mapping[str, Any], slos: Mapping[Key, Mapping[str, Any]]) -> SLOInfo:
    name = _str(source.get("name"))
    slo = slos.get((namespace, name))
    if slo is None:
        return SLOInfo(name=name, field=_str(source.get("field")) or None, found=False)
    status = _dict(slo.get("status"))
    return SLOInfo(
        name=name,
        field=_str(source.get("field")) or None,
        found=True,
        state=_str(status.get("state")) or None,
        budget_remaining=_num(_dict(status.get("errorBudget")).get("remaining")),
        sli=_num(status.get("sli")),
    )


def _key_result_node(obj: Mapping[str, Any], slos: Mapping[Key, Mapping[str, Any]]) -> KeyResultNode:
    namespace, name = _key(obj)
    spec = _dict(obj.get("spec"))
    status = _dict(obj.get("status"))
    source = _dict(spec.get("source"))
    slo_source = _dict(source.get("slo"))
    return KeyResultNode(
        owner=_str(status.get("owner")) or _str(spec.get("owner")),
        final_score=_num(_dict(status.get("final")).get("score")),
        name=name,
        namespace=namespace,
        description=_str(spec.get("description")),
        direction=_str(spec.get("direction")) or "increase",
        unit=_str(spec.get("unit")),
        current=_num(status.get("current")),
        target=_num(spec.get("target")),
        minimum=_num(spec.get("min")),
        maximum=_num(spec.get("max")),
        progress=_num(status.get("progress")),
        score=_num(status.get("score")),
        state=_str(status.get("state")) or None,
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
    nodes: dict[Key, Node] = {}
    for obj in objectives:
        node = _objective_node(obj)
        if node.name and node.key not in nodes:
            nodes[node.key] = node
    slo_index = {_key(slo): slo for slo in slos}

    links = {
        key: ParentLink(n.parent_ref, n.weight, n.contributes) if n.parent_ref is not None else None
        for key, n in nodes.items()
    }
    alignment = align(links, {key: n.from_namespaces for key, n in nodes.items()})
    parents = {key: (n.parent_ref if n.parent_ref in nodes else None) for key, n in nodes.items()}
    children: dict[Key, list[Key]] = {key: [] for key in nodes}
    for parent, kids in alignment.children.items():
        children[parent] = [child.key for child in kids]
        for child in kids:
            _mark_counted(nodes[child.key], child)
    for key, node in nodes.items():
        if node.parent_ref is not None and parents[key] is None:
            ns = node.parent_ref[0]
            node.parent_found = False if listed_namespaces is None or ns in listed_namespaces else None
    for key in alignment.cycles:
        nodes[key].cycle = True

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

    for key in sorted(k for k, parent in parents.items() if parent is None):
        attach(key)
    # What is left hangs off a cycle: cut each cycle at its first member.
    for key in sorted(k for k in nodes if nodes[k].cycle):
        if key not in visited:
            attach(key)

    placeholders: dict[Key, Node] = {}
    for obj in key_results:
        kr = _key_result_node(obj, slo_index)
        if not kr.name:
            continue
        objective = (kr.namespace, _str(_dict(_dict(obj.get("spec")).get("objectiveRef")).get("name")))
        owner = nodes.get(objective)
        if owner is None:
            owner = placeholders.get(objective)
            if owner is None:
                owner = placeholders[objective] = Node(name=objective[1] or "?", namespace=kr.namespace, missing=True)
                roots.append(owner)
        kr.owner = kr.owner or owner.owner  # a key result's owner defaults to its objective's
        owner.key_results.append(kr)
    for node in [*nodes.values(), *placeholders.values()]:
        node.key_results.sort(key=_sort_key)
    roots.sort(key=_root_order)
    return roots


def to_data(nodes: Iterable[Node]) -> list[dict[str, Any]]:
    """The trees as nested plain data (for ``-o json|yaml``); iterative, however deep the trees."""
    out: list[dict[str, Any]] = []
    stack = [(node, out) for node in reversed(list(nodes))]
    while stack:
        node, into = stack.pop()
        data = node._fields()
        into.append(data)
        stack.extend((child, data["children"]) for child in reversed(node.children))
    return out


def walk(nodes: Iterable[Node]) -> Iterable[Node]:
    """Every objective node, depth first."""
    stack = list(reversed(list(nodes)))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


# ---------------------------------------------------------------------------------------------- rendering


def shorten(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join(text.split())
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _shorten_label(label: str, width: int) -> str:
    """``namespace/name`` cut in the namespace first, so the name stays readable."""
    if len(label) <= width:
        return label
    namespace, sep, name = label.partition("/")
    keep = width - len(name) - 2  # "…/"
    if sep and keep >= 3:
        return f"{namespace[:keep]}…/{name}"
    return shorten(label, width)


def fmt_number(value: float | None) -> str:
    if value is None:
        return "?"
    if abs(value) >= 10000:
        return f"{value:.0f}"
    return f"{value:.4g}"


def progress_bar(progress: float | None, width: int = BAR_WIDTH) -> str:
    """``██████░░░░  62%``: a bar of ``width`` cells, a space and the percentage in 4 characters."""
    if progress is None:
        return "·" * width + "    -"
    share = min(max(progress, 0.0), 1.0)
    filled = round(share * width)
    return "█" * filled + "░" * (width - filled) + f" {round(progress * 100):>3d}%"


def _style(state: str | None) -> str:
    return STATE_STYLE.get(state or "Unknown", "dim")


def _unit(unit: str) -> str:
    if not unit:
        return ""
    return unit if unit in ("%", "‰") else f" {unit}"


def key_result_values(kr: KeyResultNode) -> str:
    """``current/target unit``; maintain key results show their range (``≤0.8``, ``≥99``, ``99..99.9``)."""
    if kr.direction == "maintain" and kr.target is None:
        if kr.minimum is not None and kr.maximum is not None:
            target = f"{fmt_number(kr.minimum)}..{fmt_number(kr.maximum)}"
        elif kr.maximum is not None:
            target = f"≤{fmt_number(kr.maximum)}"
        elif kr.minimum is not None:
            target = f"≥{fmt_number(kr.minimum)}"
        else:
            target = "?"
    elif kr.direction == "boolean" and kr.target is None:
        target = "1"
    else:
        target = fmt_number(kr.target)
    return f"{fmt_number(kr.current)}/{target}{_unit(kr.unit)}"


def _slo_text(slo: SLOInfo) -> Text:
    text = Text("slo ")
    text.append(slo.name, style="cyan")
    if not slo.found:
        text.append(" not found", style="yellow")
        return text
    if slo.state is None and slo.budget_remaining is None:
        text.append(f" {NO_STATUS}", style="dim")
        return text
    if slo.state:
        text.append(" ")
        text.append(slo.state, style=_style(slo.state))
    if slo.budget_remaining is not None:
        text.append(f", budget {round(slo.budget_remaining * 100)}% left")
    return text


def _problem_text(problem: Problem, width: int = 80) -> Text:
    message = f"{problem.reason}: {problem.message}" if problem.message else problem.reason
    return Text(shorten(message, width), style="red")


def _join(parts: list[Text]) -> Text:
    return Text("  ").join(part for part in parts if part.plain)


def _objective_detail(node: Node, tree_parent: Node | None) -> Text:
    parts: list[Text] = []
    if node.missing:
        parts.append(Text("objective not found (named by the key results below)", style="red"))
    if node.problem is not None:
        parts.append(_problem_text(node.problem))
    shown_under_parent = tree_parent is not None and node.parent_ref == tree_parent.key
    if node.parent_ref is not None and not shown_under_parent:
        ref = "/".join(node.parent_ref)
        if node.cycle:
            if node.problem is None or node.problem.reason != "ParentCycle":
                parts.append(Text(f"ParentCycle: parentRef {ref} leads back here", style="red"))
        elif node.parent_found is False:
            if node.problem is None or node.problem.reason != "ParentNotFound":
                parts.append(Text(f"parent {ref} not found", style="yellow"))
        else:
            parts.append(Text(f"↑ {ref}", style="dim"))
    if node.counted is False and node.parent_ref is not None and not node.cycle:
        parts.append(Text(f"not counted ({node.not_counted})", style="yellow"))
    elif node.counted and node.weight != 1.0:
        parts.append(Text(f"weight {fmt_number(node.weight)}", style="dim"))
    if node.final_score is not None:
        parts.append(Text(f"final {node.final_score:.2f}", style="bold"))
    if node.owner and (tree_parent is None or node.owner != tree_parent.owner):  # owners shown where they change
        parts.append(Text(f"owner {node.owner}", style="dim"))
    return _join(parts)


def _key_result_detail(kr: KeyResultNode, objective_owner: str = "") -> Text:
    parts = [Text(key_result_values(kr))]
    if kr.slo is not None:
        parts.append(_slo_text(kr.slo))
    if kr.final_score is not None:
        parts.append(Text(f"final {kr.final_score:.2f}", style="bold"))
    if kr.owner and kr.owner != objective_owner:
        parts.append(Text(f"owner {kr.owner}", style="dim"))
    if kr.problem is not None:
        parts.append(_problem_text(kr.problem))
    return _join(parts)


@dataclass
class _Row:
    guide: str  # tree guides before the name
    label: str
    label_style: str
    title: str
    progress: float | None
    score: float | None
    state: str | None
    evaluated: bool
    detail: Text
    continuation: str  # guides for a detail moved to its own line


def _rows(root: Node, show_namespace: bool) -> list[_Row]:
    rows: list[_Row] = []
    # (item, tree parent, guide for this row, guide prefix for the item's own children)
    stack: list[tuple[Node | KeyResultNode, Node | None, str, str]] = [(root, None, "", "")]
    while stack:
        item, parent, guide, inner = stack.pop()
        if isinstance(item, Node):
            qualified = show_namespace if parent is None else item.namespace != parent.namespace
            label = f"{item.namespace}/{item.name}" if qualified else item.name
            items: list[Node | KeyResultNode] = [*item.key_results, *item.children]
            rows.append(
                _Row(
                    guide,
                    label,
                    "bold red" if item.missing else "bold",
                    item.title,
                    item.progress,
                    item.score,
                    item.state,
                    item.evaluated,
                    _objective_detail(item, parent),
                    inner + ("│" if items else ""),
                )
            )
            pending = []
            for i, child in enumerate(items):
                last = i == len(items) - 1
                branch, indent = ("└── ", "    ") if last else ("├── ", "│   ")
                pending.append((child, item, inner + branch, inner + indent))
            stack.extend(reversed(pending))
        else:
            rows.append(
                _Row(
                    guide,
                    item.name,
                    "",
                    item.description,
                    item.progress,
                    item.score,
                    item.state,
                    item.evaluated,
                    _key_result_detail(item, parent.owner if parent is not None else ""),
                    inner,
                )
            )
    return rows


def render(nodes: list[Node], console: Console, *, show_namespace: bool | None = None) -> None:
    """Print the trees: one line per objective and key result, columns aligned.

    Columns: name (with tree guides), title or description (shortened), progress bar, score, state and the
    details (key results: ``current/target unit`` and their SLO; problems in red). A detail that does not
    fit on the line goes on the next one. ``show_namespace``: prefix top-level names with their namespace
    (default: when the trees span more than one namespace). Children in another namespace than their
    parent always show ``namespace/name``.
    """
    if show_namespace is None:
        show_namespace = len({node.namespace for node in walk(nodes)}) > 1
    trees = [_rows(root, show_namespace) for root in nodes]
    rows = [row for tree in trees for row in tree]
    if not rows:
        return
    width = console.width
    name_cap = max(24, width // 3)
    name_w = min(max(len(r.guide) + len(r.label) for r in rows), name_cap)
    name_w = max(name_w, len("NAME"))
    fixed = name_w + len(GAP) + (BAR_WIDTH + 5) + len(GAP) + 5 + len(GAP) + STATE_WIDTH + len(GAP)
    longest_title = max(len(" ".join(r.title.split())) for r in rows)
    widest = min(longest_title, TITLE_MAX, width - fixed - len(GAP) - DETAIL_MIN)
    details = [len(r.detail.plain) for r in rows if r.detail.plain]

    def moved(title_w: int) -> int:  # details that would go on a line of their own
        return sum(fixed + title_w + len(GAP) + n > width for n in details)

    # The widest title column (up to TITLE_MAX) that moves no more details than the narrowest (TITLE_MIN) would.
    candidates = range(widest, min(TITLE_MIN, widest) - 1, -1)
    title_w = min(candidates, key=lambda w: (moved(w), -w), default=widest)
    if title_w < 8:
        title_w = 0
    detail_col = fixed + (title_w + len(GAP) if title_w else 0)

    header = Text(style="dim")
    header.append("NAME".ljust(name_w) + GAP)
    if title_w:
        header.append("TITLE".ljust(title_w) + GAP)
    header.append("PROGRESS".ljust(BAR_WIDTH + 5) + GAP + "SCORE" + GAP + "STATE".ljust(STATE_WIDTH) + GAP + "DETAILS")
    header.rstrip()
    console.print(header, no_wrap=True, overflow="ellipsis", crop=True)

    for t, tree in enumerate(trees):
        if t:
            console.print()
        for row in tree:
            guide = row.guide
            if len(guide) > name_cap - 8:  # very deep trees: keep the innermost guides
                guide = "…" + guide[len(guide) - (name_cap - 9) :]
            line = Text()
            line.append(guide, style="dim")
            label_w = name_w - len(guide)
            line.append(_shorten_label(row.label, max(label_w, 1)).ljust(max(label_w, 0)), style=row.label_style)
            line.append(GAP)
            if title_w:
                line.append(shorten(row.title, title_w).ljust(title_w) + GAP)
            style = _style(row.state) if row.progress is not None else "dim"
            line.append(progress_bar(row.progress), style=style)
            line.append(GAP)
            line.append((f"{row.score:.2f}" if row.score is not None else "-").rjust(5))
            line.append(GAP)
            state = row.state or (NO_STATUS if not row.evaluated else "Unknown")
            line.append(state.ljust(STATE_WIDTH), style=_style(row.state))
            if row.detail.plain:
                if detail_col + len(row.detail.plain) <= width:
                    line.append(GAP)
                    line.append_text(row.detail)
                    console.print(line, no_wrap=True, overflow="ellipsis", crop=True)
                else:
                    line.rstrip()
                    console.print(line, no_wrap=True, overflow="ellipsis", crop=True)
                    more = Text()
                    cont = row.continuation
                    if len(cont) > name_cap - 8:
                        cont = "…" + cont[len(cont) - (name_cap - 9) :]
                    more.append(cont.ljust(name_w + len(GAP)), style="dim")
                    more.append_text(row.detail)
                    console.print(more, no_wrap=True, overflow="ellipsis", crop=True)
            else:
                line.rstrip()
                console.print(line, no_wrap=True, overflow="ellipsis", crop=True)
