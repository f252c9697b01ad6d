"""The pure core stays pure (docs/architecture.md): no Kubernetes, kopf or network code, reached by any import.

Checked on the import graph (tests/imports.py): what importing each pure module runs, relative imports
resolved, package ``__init__`` modules and imports inside functions included.
"""

from __future__ import annotations

import ast

import pytest

from tests import imports

# The modules docs/architecture.md calls pure: the models, the SLO and OKR engines and their rule rendering,
# the OpenSLO mapper, maintenance schedules, the evaluation cycle (it is handed a query function), rule
# selection, the status series, the dashboards, the web view's model and rendering, the period review, the
# check-in entry and manifest edit, the objective tree.
PURE_PACKAGES = (
    "okr_operator.api",
    "okr_operator.slo",
    "okr_operator.okr",
    "okr_operator.openslo",
    "okr_operator.maintenance",
    "okr_operator.evaluation",
    "okr_operator.dashboards",
    "okr_operator.report",
    "okr_operator.tree",
)
PURE_MODULES = (
    "okr_operator.promtext",
    "okr_operator.generated",
    "okr_operator.generate",
    "okr_operator.rule_selection",
    "okr_operator.series",
    "okr_operator.series_names",
    "okr_operator.yamlio",
    "okr_operator.bodies",
    "okr_operator.prometheus.types",
    "okr_operator.prometheus.config",
    "okr_operator.webview.model",
    "okr_operator.webview.render",
    "okr_operator.webview.svg",
    "okr_operator.webview.style",
    "okr_operator.checkin.entry",
    "okr_operator.checkin.manifest",
)
# Kubernetes, kopf, HTTP clients and servers, sockets, event loops.
FORBIDDEN = (
    "kubernetes",
    "kopf",
    "requests",
    "aiohttp",
    "prometheus_api_client",
    "prometheus_client",
    "urllib3",
    "socket",
    "ssl",
    "http",
    "urllib.request",
    "asyncio",
    "selectors",
    "subprocess",
)
# The package's own edges: the adapters, the operator runtime, the command lines.
EDGES = (
    "okr_operator.kube",
    "okr_operator.runtime",
    "okr_operator.prometheus.adapter",
    "okr_operator.cli",
    "okr_operator.webview.server",
    "okr_operator.checkin.live",
)
# Where the docs say the clock is never read: time comes in as an argument.
CLOCK_FREE = (
    "okr_operator.api",
    "okr_operator.slo",
    "okr_operator.okr",
    "okr_operator.openslo",
    "okr_operator.maintenance",
    "okr_operator.report",
)
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns", "monotonic_ns"}
CLOCK_OWNERS = {"datetime", "date", "time", "dt"}  # datetime.now(), date.today(), time.time(), dt.datetime.now()


def _clock_reads(tree: ast.AST) -> list[int]:
    """Lines that read the clock: ``<datetime|date|time>.<now|today|time|...>()`` and bare calls of names
    imported from ``time`` (``from time import monotonic``). ``when.time()`` (a datetime's time of day) is not."""
    from_time = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "time"
        for alias in node.names
    }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in CLOCK_CALLS:
            owner = func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if name in CLOCK_OWNERS:
                lines.append(node.lineno)
        elif isinstance(func, ast.Name) and func.id in from_time & CLOCK_CALLS:
            lines.append(node.lineno)
    return lines


def _in(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in prefixes)


def pure_modules() -> list[str]:
    return sorted(m for m in imports.modules() if _in(m, PURE_PACKAGES) or m in PURE_MODULES)


def test_the_lists_name_real_modules():
    known = set(imports.modules()) | {n.rsplit(".", 1)[0] for n in imports.modules()}
    for name in (*PURE_PACKAGES, *PURE_MODULES, *EDGES, *CLOCK_FREE):
        assert name in known or any(m.startswith(f"{name}.") for m in known), name
    assert len(pure_modules()) > 60


@pytest.mark.parametrize("module", pure_modules())
def test_pure_module_reaches_no_kubernetes_kopf_or_network_code(module):
    reached = imports.closure(module)
    bad = {n for n in reached if _in(n, FORBIDDEN) or _in(n, EDGES)}
    bad = sorted(n for n in bad if n.rpartition(".")[0] not in bad)  # ``urllib3``, not also ``urllib3.util``
    assert not bad, f"{module} reaches {bad}, e.g. " + " -> ".join(imports.path_to(module, bad[0]))


@pytest.mark.parametrize("module", sorted(m for m in imports.modules() if _in(m, CLOCK_FREE)))
def test_no_clock_reads(module):
    tree = ast.parse(imports.modules()[module].read_text(encoding="utf-8"))
    assert _clock_reads(tree) == [], f"{module} reads the clock on these lines"


def test_clock_reads_are_recognised():
    code = "import time\nfrom time import monotonic\ndatetime.now(UTC)\ndt.datetime.now()\ntime.time()\nmonotonic()\n"
    assert _clock_reads(ast.parse(code + "when.time()\ndatetime.min.time()\n")) == [3, 4, 5, 6]


def test_the_graph_sees_relative_imports():
    """The check that used to skip relative imports: okr/rules.py reaches pydantic only through ..api."""
    direct = imports.direct_imports("okr_operator.okr.rules")
    assert "okr_operator.api.okr" in direct and "okr_operator.generated" in direct
    assert "pydantic" not in direct and "pydantic" in imports.closure("okr_operator.okr.rules")
    chain = imports.path_to("okr_operator.okr.rules", "pydantic")
    assert chain[0] == "okr_operator.okr.rules" and chain[1].startswith("okr_operator.api") and chain[-1] == "pydantic"


def test_a_violation_is_found_through_a_relative_import():
    """The runtime reaches kopf through ``from .handlers import ...``-style imports, and the check sees it."""
    assert "kopf" in imports.closure("okr_operator.runtime.main")
    assert "kubernetes" in imports.closure("okr_operator.cli.kubectl_okr")
