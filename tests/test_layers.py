"""The import rules of docs/architecture.md ("What may import what"), checked on the import graph.

Each folder (or top-level module) of the package may import only the ones listed for it; imports inside
functions count. A new dependency between folders is a design decision: add it here and in the docs, or
move the code to where it belongs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import imports

# folder or top-level module -> what it may import (the package's own modules; anything outside is free here,
# tests/test_purity.py keeps Kubernetes, kopf and the network out of the pure ones).
ALLOWED: dict[str, set[str]] = {
    # the bottom: no package imports at all
    "promtext": set(),
    "bodies": set(),
    "yamlio": set(),
    "rule_selection": set(),
    "prometheus": set(),
    "options": {"prometheus"},  # the settings surface both command lines' flags are generated from
    # the models; okr.alignment is a graph rule importing nothing (okrctl validate's parent cycles)
    "api": {"promtext", "okr.alignment"},
    "generated": {"api"},
    "maintenance": {"api"},
    "series_names": {"api"},
    "checkin": {"api"},
    # the engines and what they render
    "okr": {"api", "generated", "promtext", "series_names"},
    "slo": {"api", "generated", "maintenance", "okr", "promtext", "series_names"},
    "openslo": {"api", "promtext", "slo"},
    "generate": {"api", "maintenance", "okr", "prometheus", "slo"},
    "series": {"api", "bodies", "series_names", "slo"},
    "dashboards": {"api", "promtext", "series_names", "slo"},
    "tree": {"bodies", "okr"},
    # one evaluation cycle, the views
    "evaluation": {"api", "generate", "maintenance", "okr", "prometheus", "promtext", "slo"},
    "webview": {"bodies", "okr", "tree"},
    "report": {"bodies", "okr", "tree", "webview"},
    # the edges: the Kubernetes adapter, deployment checks, the operator, the command lines
    "kube": {"api", "rule_selection"},
    "deploy": {"api", "runtime.settings"},
    "runtime": {
        *("api", "evaluation", "generate", "generated", "kube", "maintenance", "okr", "prometheus"),
        *("options", "rule_selection", "series", "slo", "webview"),
    },
    "cli": {
        *("api", "checkin", "dashboards", "evaluation", "generate", "kube", "okr", "openslo", "prometheus"),
        *("options", "report", "tree", "webview", "yamlio"),
    },
}


def _unit(module: str) -> str:
    """The folder or top-level module a module belongs to (``okr_operator.slo.rules`` -> ``slo``)."""
    return module.split(".")[1] if "." in module else ""


def _allows(allowed: set[str], target: str) -> bool:
    relative = target.removeprefix(f"{imports.PACKAGE}.")
    return any(relative == a or relative.startswith(f"{a}.") for a in allowed) or _unit(target) in allowed


def test_every_folder_has_its_rule():
    units = {_unit(m) for m in imports.modules()} - {""}
    assert units <= set(ALLOWED), "a new folder or top-level module needs its line in ALLOWED and in the docs"


@pytest.mark.parametrize("module", sorted(m for m in imports.modules() if _unit(m)))
def test_imports_follow_the_rules(module):
    unit = _unit(module)
    targets = imports.internal(imports.direct_imports(module))
    for target in sorted(targets):
        if _unit(target) in ("", unit):
            continue  # the package itself, or the module's own folder
        if any(other.startswith(f"{target}.") for other in targets):
            continue  # a package whose __init__ runs for a module imported from it: that module is checked
        assert _allows(ALLOWED[unit], target), f"{module} imports {target}: {unit}/ may import {sorted(ALLOWED[unit])}"


def test_no_module_imports_itself_back_at_import_time():
    """No import cycle among modules (imports inside functions, done lazily, are not cycles at import time)."""
    graph = {
        m: {d for d in imports.internal(imports.direct_imports(m, at_import_time=True)) if not m.startswith(f"{d}.")}
        for m in imports.modules()
    }
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*path[path.index(nxt) :], nxt])
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))


def test_the_rules_catch_a_violation():
    assert not _allows(ALLOWED["api"], "okr_operator.slo.rules")
    assert not _allows(ALLOWED["api"], "okr_operator.okr.rules")
    assert _allows(ALLOWED["api"], "okr_operator.okr.alignment")
    assert not _allows(ALLOWED["webview"], "okr_operator.cli.tree")
    assert "okr_operator.runtime.settings" in imports.direct_imports("okr_operator.deploy.workload")


def _doc_table() -> dict[str, set[str]]:
    """The "What may import what" table of docs/architecture.md as folder -> what it may import."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text()
    section = text.split("### What may import what", 1)[1].split("\n\n", 2)[2].split("\n\n", 1)[0]
    table: dict[str, set[str]] = {}
    for row in section.splitlines()[2:]:
        folders, allowed = (cell.strip() for cell in row.strip("|").split("|"))
        names = {_doc_name(n) for n in re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", allowed))}  # remarks out
        for folder in re.findall(r"`([^`]+)`", folders):
            table[_doc_name(folder)] = names
    return table


def _doc_name(name: str) -> str:
    """``okr/alignment.py`` -> ``okr.alignment``, ``api/`` -> ``api``, ``bodies.py`` -> ``bodies``."""
    return name.removesuffix("/").removesuffix(".py").replace("/", ".")


def test_the_docs_table_is_this_table():
    assert _doc_table() == ALLOWED, "docs/architecture.md and ALLOWED must say the same"
