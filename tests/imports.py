"""The package's import graph, read from the source (AST), relative imports resolved.

Used by the purity and layering tests: what a module imports is what Python would run when it is imported,
so importing ``a.b.c`` also runs ``a/__init__.py`` and ``a/b/__init__.py``, and imports inside functions or
under ``TYPE_CHECKING`` count too (a pure module should not even name an adapter's types).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import okr_operator

PACKAGE = "okr_operator"
ROOT = Path(okr_operator.__file__).resolve().parent


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (packages by their ``__init__``)."""
    out: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_package(name: str) -> bool:
    return (
        modules()[name].name == "__init__.py" if name in modules() else (ROOT.parent / Path(*name.split("."))).is_dir()
    )


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    """Absolute names an ``from ... import ...`` runs or binds (the base, and each name if it is a module)."""
    if node.level:
        base_parts = module.split(".")
        if not _is_package(module):
            base_parts = base_parts[:-1]
        base_parts = base_parts[: len(base_parts) - (node.level - 1)]
        base = ".".join([*base_parts, *([node.module] if node.module else [])])
    else:
        base = node.module or ""
    names = [base]
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        if candidate in modules() or not candidate.startswith(PACKAGE):
            names.append(candidate)
    return names


def _import_nodes(tree: ast.AST, at_import_time: bool) -> Iterable[ast.AST]:
    """Every node, or (``at_import_time``) those that run when the module is imported: not function bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not (at_import_time and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)):
                stack.append(child)


@cache
def direct_imports(module: str, at_import_time: bool = False) -> frozenset[str]:
    """Everything ``module`` imports, absolute, with the packages whose ``__init__`` runs for it
    (``at_import_time``: only the imports that run when it is imported, not those inside functions)."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in _import_nodes(tree, at_import_time):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.update(_with_parents(alias.name))
        elif isinstance(node, ast.ImportFrom):
            for name in _resolve(module, node):
                found.update(_with_parents(name))
    found.discard(module)
    return frozenset(found)


def internal(names: Iterable[str]) -> set[str]:
    return {n for n in names if n in modules()}


def external(names: Iterable[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] != PACKAGE}


@cache
def closure(module: str) -> frozenset[str]:
    """What importing ``module`` runs: its own imports and, transitively, those of every package module."""
    seen: set[str] = set()
    todo = [module, *internal(_with_parents(module)[:-1])]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(internal(direct_imports(current)) - seen)
    reached = set(seen)
    for current in seen:
        reached.update(direct_imports(current))
    reached.discard(module)
    return frozenset(reached)


def path_to(module: str, target: str) -> list[str]:
    """One chain of imports from ``module`` to ``target`` (for error messages), or [] if none."""
    parents: dict[str, str | None] = {module: None}
    queue = [module, *sorted(internal(_with_parents(module)[:-1]))]
    for extra in queue[1:]:
        parents.setdefault(extra, module)
    while queue:
        current = queue.pop(0)
        for name in sorted(direct_imports(current)):
            if name == target or name.startswith(f"{target}."):
                chain = [name, current]
                parent = parents.get(current)
                while parent is not None:
                    chain.append(parent)
                    parent = parents.get(parent)
                return list(reversed(chain))
            if name in modules() and name not in parents:
                parents[name] = current
                queue.append(name)
    return []
