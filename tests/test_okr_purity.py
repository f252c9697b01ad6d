"""The OKR engine stays pure: standard library only (besides the package's pure modules), no clock, and the
public API is re-exported.

Imports are read from the import graph (tests/imports.py), relative ones resolved: okr/ may use the models
(api/) and the rule-text helpers, and what those reach is checked for Kubernetes and network code by
tests/test_purity.py.
"""

import ast
from pathlib import Path

import okr_operator.okr as okr
from tests import imports

PACKAGE = Path(okr.__file__).parent
ALLOWED = {"__future__", "collections", "dataclasses", "datetime", "decimal", "enum", "math", "re", "typing"}
# The package modules okr/ may import: its siblings, the models, the generated-object/rule-text plumbing and
# the status series' names (trajectory alerts read the exported series).
ALLOWED_INTERNAL = (
    "okr_operator.okr",
    "okr_operator.api",
    "okr_operator.generated",
    "okr_operator.promtext",
    "okr_operator.series_names",
)
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def _modules():
    return sorted(PACKAGE.glob("*.py"))


def _okr_modules() -> list[str]:
    return sorted(m for m in imports.modules() if m == "okr_operator.okr" or m.startswith("okr_operator.okr."))


def test_only_standard_library_and_sibling_imports():
    assert len(_okr_modules()) == len(_modules())
    for module in _okr_modules():
        for name in imports.direct_imports(module):
            if name.split(".")[0] == imports.PACKAGE:
                allowed = name == imports.PACKAGE or any(
                    name == a or name.startswith(f"{a}.") for a in ALLOWED_INTERNAL
                )
                assert allowed, f"{module} imports {name}"
            else:
                assert name.split(".")[0] in ALLOWED, f"{module} imports {name}"


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
        "record_history",
        "forecast_at_end",
        "align",
        "key_result_state",
        "resolve_alerting",
    }
    assert expected <= set(okr.__all__)
    for name in okr.__all__:
        assert getattr(okr, name) is not None
