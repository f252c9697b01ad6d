"""``kubectl okr tree`` in the terminal: the objective trees (``okr_operator.tree``) printed with rich.

One line per objective and key result, columns aligned; ``render(nodes, console)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from ..tree import KeyResultNode, Node, Problem, SLOInfo, fmt_number, key_result_values, walk
from .tables import STATE_STYLE

BAR_WIDTH = 10
TITLE_MAX = 48
TITLE_MIN = 24
DETAIL_MIN = 16
GAP = "  "
NO_STATUS = "no status"
STATE_WIDTH = len(NO_STATUS)


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


def progress_bar(progress: float | None, width: int = BAR_WIDTH) -> str:
    """``██████░░░░  62%``: a bar of ``width`` cells, a space and the percentage in 4 characters."""
    if progress is None:
        return "·" * width + "    -"
    share = min(max(progress, 0.0), 1.0)
    filled = round(share * width)
    return "█" * filled + "░" * (width - filled) + f" {round(progress * 100):>3d}%"


def _style(state: str | None) -> str:
    return STATE_STYLE.get(state or "Unknown", "dim")


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


@dataclass(frozen=True)
class _Layout:
    """Column widths for one rendering: name (with guides), title (0: no title column), where details start."""

    width: int
    name_cap: int
    name_w: int
    title_w: int
    detail_col: int


def _layout(rows: list[_Row], width: int) -> _Layout:
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
    return _Layout(width, name_cap, name_w, title_w, detail_col)


def _header(layout: _Layout) -> Text:
    header = Text(style="dim")
    header.append("NAME".ljust(layout.name_w) + GAP)
    if layout.title_w:
        header.append("TITLE".ljust(layout.title_w) + GAP)
    header.append("PROGRESS".ljust(BAR_WIDTH + 5) + GAP + "SCORE" + GAP + "STATE".ljust(STATE_WIDTH) + GAP + "DETAILS")
    header.rstrip()
    return header


def _clip_guide(guide: str, name_cap: int) -> str:
    """Very deep trees: keep the innermost guides."""
    return "…" + guide[len(guide) - (name_cap - 9) :] if len(guide) > name_cap - 8 else guide


def _line(row: _Row, layout: _Layout) -> Text:
    """The row's line up to its state (the details are appended by the caller)."""
    guide = _clip_guide(row.guide, layout.name_cap)
    line = Text()
    line.append(guide, style="dim")
    label_w = layout.name_w - len(guide)
    line.append(_shorten_label(row.label, max(label_w, 1)).ljust(max(label_w, 0)), style=row.label_style)
    line.append(GAP)
    if layout.title_w:
        line.append(shorten(row.title, layout.title_w).ljust(layout.title_w) + GAP)
    style = _style(row.state) if row.progress is not None else "dim"
    line.append(progress_bar(row.progress), style=style)
    line.append(GAP)
    line.append((f"{row.score:.2f}" if row.score is not None else "-").rjust(5))
    line.append(GAP)
    state = row.state or (NO_STATUS if not row.evaluated else "Unknown")
    line.append(state.ljust(STATE_WIDTH), style=_style(row.state))
    return line


def _print_row(row: _Row, layout: _Layout, console: Console) -> None:
    line = _line(row, layout)
    if row.detail.plain and layout.detail_col + len(row.detail.plain) <= layout.width:
        line.append(GAP)
        line.append_text(row.detail)
        console.print(line, no_wrap=True, overflow="ellipsis", crop=True)
        return
    line.rstrip()
    console.print(line, no_wrap=True, overflow="ellipsis", crop=True)
    if row.detail.plain:  # a detail that does not fit goes on a line of its own
        more = Text()
        more.append(_clip_guide(row.continuation, layout.name_cap).ljust(layout.name_w + len(GAP)), style="dim")
        more.append_text(row.detail)
        console.print(more, no_wrap=True, overflow="ellipsis", crop=True)


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
    layout = _layout(rows, console.width)
    console.print(_header(layout), no_wrap=True, overflow="ellipsis", crop=True)
    for t, tree in enumerate(trees):
        if t:
            console.print()
        for row in tree:
            _print_row(row, layout, console)
