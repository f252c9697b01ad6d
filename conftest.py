"""Root pytest configuration: the Testbed fixtures, and the `tools` marker applied where built tools are used."""

from __future__ import annotations

import pytest

pytest_plugins = ["e2e.fixtures"]

# Fixtures that hand a test a binary built by `make tools` (or a process running one): a test requesting any
# of them, directly or through another fixture, is marked `tools`, so `make unit` (-m 'not e2e and not tools')
# never asks for a build. Tests that reach a tool another way carry the marker themselves.
TOOL_FIXTURES = frozenset({"promtool", "helm", "oslo", "prometheus", "cluster"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if TOOL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.tools)
