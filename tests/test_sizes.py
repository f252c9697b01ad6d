"""No product file over about 450 lines, no function over about 60 (docs/architecture.md, "Sizes").

A file is counted in physical lines; a function from its ``def`` line to its last line (decorators left out:
a click command's options are declarations, not steps), nested functions counted inside the function that
holds them as well as on their own. Something that must stay over a limit is named in ``OVER`` with the reason;
there is no other way past the check.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "operator" / "okr_operator"
MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 60

# "path relative to the package" or "path:qualified.function name" -> why it stays over the limit.
OVER: dict[str, str] = {}


def file_lines(text: str) -> int:
    return len(text.splitlines())


def function_sizes(text: str) -> dict[str, int]:
    """Qualified name (``Class.method``, ``outer.inner``) -> lines from ``def`` to the function's last line."""
    sizes: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    sizes[name] = (child.end_lineno or child.lineno) - child.lineno + 1
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(text), "")
    return sizes


def _product_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _over_limits() -> list[str]:
    found = []
    for path in _product_files():
        rel = path.relative_to(PACKAGE).as_posix()
        text = path.read_text()
        if file_lines(text) > MAX_FILE_LINES and rel not in OVER:
            found.append(f"{rel}: {file_lines(text)} lines (at most {MAX_FILE_LINES})")
        for name, size in function_sizes(text).items():
            if size > MAX_FUNCTION_LINES and f"{rel}:{name}" not in OVER:
                found.append(f"{rel}:{name}: {size} lines (at most {MAX_FUNCTION_LINES})")
    return found


def test_no_product_file_or_function_over_the_limits():
    found = _over_limits()
    assert not found, "split these into named steps or modules (or name them in OVER with the reason):\n" + "\n".join(
        found
    )


def test_every_exception_is_still_over_its_limit():
    """An entry of OVER that fits the limits again (or no longer exists) is removed, not kept as a free pass."""
    stale = []
    for entry in OVER:
        rel, _, name = entry.partition(":")
        path = PACKAGE / rel
        if not path.is_file():
            stale.append(f"{entry}: no such file")
            continue
        text = path.read_text()
        size = function_sizes(text).get(name, 0) if name else file_lines(text)
        if size <= (MAX_FUNCTION_LINES if name else MAX_FILE_LINES):
            stale.append(f"{entry}: {size} lines, within the limit")
    assert not stale, "\n".join(stale)


def test_the_measure_counts_what_it_says():
    body = "\n".join(f"    x{i} = {i}" for i in range(70))
    source = f"""
class C:
    @property
    def short(self):
        return 1

def outer():
    def inner():
{body.replace("    ", "        ")}
    return inner
"""
    sizes = function_sizes(source)
    assert sizes["C.short"] == 2  # the decorator is not counted
    assert sizes["outer.inner"] == 71
    assert sizes["outer"] == 73  # a nested function counts in the function that holds it
    assert file_lines(source) == 79
    assert any(p.name == "__init__.py" for p in _product_files())  # the walk reaches the package's files
