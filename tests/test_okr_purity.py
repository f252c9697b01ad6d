"""The OKR engine stays pure: standard library only, no clock, and the public API is re-exported."""

import ast
from pathlib import Path

import okr_operator.okr as okr

PACKAGE = Path(okr.__file__).parent
ALLOWED = {"__future__", "collections", "dataclasses", "datetime", "decimal", "enum", "math", "re", "typing"}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def _modules():
    return sorted(PACKAGE.glob("*.py"))


def test_only_standard_library_and_sibling_imports():
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level > 0:
                    continue  # sibling module inside okr/
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"


def test_no_clock_reads():
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in CLOCK_CALLS, f"{path.name}:{node.lineno} reads the clock"


def test_public_api_is_re_exported():
    expected = {
        "Period",
        "PeriodError",
        "parse_period",
        "elapsed_fraction",
        "Direction",
        "progress_towards",
        "maintain_progress",
        "in_range",
        "boolean_progress",
        "key_result_progress",
        "score",
        "ObjectiveType",
        "expected_progress",
        "PaceState",
        "pace_state",
        "linear_forecast",
        "Forecast",
        "KeyResultSummary",
        "RollUp",
        "roll_up",
        "find_cycles",
        "children_of",
        "append_history",
    }
    assert expected <= set(okr.__all__)
    for name in okr.__all__:
        assert getattr(okr, name) is not None
