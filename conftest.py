"""Root pytest configuration: the Testbed fixtures, and the `tools` marker applied where built tools are used."""

from __future__ import annotations

import pytest

pytest_plugins = ["e2e.fixtures"]

# A test is marked `tools` (a binary built by `make tools`), so that `make unit` (-m 'not e2e and not tools')
# never asks for a build, when it requests one of these fixtures (directly or through another fixture) ...
TOOL_FIXTURES = frozenset({"promtool", "helm", "oslo", "prometheus", "cluster"})
# ... or a fixture of its own that starts or looks up a tool (e.g. a module's `prom` running LocalPrometheus).
TOOL_CALLS = frozenset({"LocalPrometheus", "tool_path"})
# Tests that reach a tool another way carry @pytest.mark.tools themselves.


def _fixture_uses_tools(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    for defs in info.name2fixturedefs.values() if info is not None else ():
        for definition in defs:
            code = getattr(definition.func, "__code__", None)
            if code is not None and TOOL_CALLS & set(code.co_names):
                return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if TOOL_FIXTURES & set(getattr(item, "fixturenames", ())) or _fixture_uses_tools(item):
            item.add_marker(pytest.mark.tools)
