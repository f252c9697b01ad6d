"""Time to detect: how soon each tool's page and ticket alerts fire once a constant error fraction starts.

The scenario (issue 20): one SLO per case, 99.9% of requests without a 5xx over 30 days, 10 requests a
second; counters scraped every 15 s (promtool input series at 15 s; the error counter exists at 0 from the
start), rules evaluated every 30 s, 6 hours of clean traffic, then a constant error fraction: 100%, 10% and 2%
of requests (page), 0.35% = a 3.5x burn (ticket), and 1% = 10x for 90 minutes, where no page may fire. Every
tool's rules for every case are loaded into one ``promtool test rules`` run. A tool's time is the first
evaluation at which its burn alert of that severity is firing (read from ``ALERTS``, so ``for:`` clauses
count), in minutes after the onset. promtool evaluates every group at the test's interval (Pyrra's own group
intervals do not apply), in file order (``equivalence.group_eval_order``): recordings before the alerts that
read them, the best case for tools that keep them in separate groups.

The SRE workbook's time is computed, not simulated: the first moment at which one of its conditions for the
severity (page: 1h and 5m above 14.4x, or 6h and 30m above 6x; ticket: 1d and 2h above 3x, or 3d and 6h above
1x) holds for the exact error ratio of the traffic so far, windows reaching back before the 6 hours of
history holding only that history (as every tool's windows do).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench import slos
from bench.equivalence import ALERT_NAMES, _parse_blocks, group_eval_order
from e2e.tools import build

WINDOW = "30d"
BUDGET = 1 - slos.TARGET / 100
SCRAPE_SECONDS = 15
EVALUATION_SECONDS = 30
CLEAN_MINUTES = 360
PER_SECOND = 10.0
WITHIN_MINUTES = 1.0


@dataclass(frozen=True)
class Case:
    """``fraction`` of requests fail for ``minutes`` after 6 h clean; ``severity`` is the alert timed (for
    ``silent`` cases: the alert that must not fire)."""

    name: str
    fraction: float
    minutes: int
    severity: str
    silent: bool = False

    @property
    def service(self) -> str:
        return "det-" + self.name.split()[0].replace("%", "pct").replace(".", "-")


CASES = (
    Case("100%", 1.0, 60, "page"),
    Case("10%", 0.1, 60, "page"),
    Case("2%", 0.02, 90, "page"),
    Case("3.5x", 3.5 * BUDGET, 8 * 60, "ticket"),
    Case("10x for 90 min", 10 * BUDGET, 90, "page", silent=True),
)

# The SRE workbook's conditions for a 30-day window: (severity, long, short, factor), windows in minutes.
WORKBOOK = (
    ("page", 60, 5, 14.4),
    ("page", 360, 30, 6.0),
    ("ticket", 1440, 120, 3.0),
    ("ticket", 4320, 360, 1.0),
)


def _ratio(fraction: float, window: float, after: float) -> float:
    """Exact error ratio over the last ``window`` minutes, ``after`` minutes into the burn."""
    return fraction * min(after, window) / min(CLEAN_MINUTES + after, window)


def workbook_minutes(case: Case) -> float | None:
    """Minutes after the onset until one of the workbook's conditions of the case's severity holds."""
    firsts = []
    for severity, long, short, factor in WORKBOOK:
        if severity != case.severity:
            continue
        threshold = factor * BUDGET
        if (
            _ratio(case.fraction, long, case.minutes) <= threshold
            or _ratio(case.fraction, short, case.minutes) <= threshold
        ):
            continue
        lo, hi = 0.0, float(case.minutes)  # both ratios only grow during the burn: bisect the crossing
        while hi - lo > 1e-6:
            mid = (lo + hi) / 2
            holds = min(_ratio(case.fraction, long, mid), _ratio(case.fraction, short, mid)) > threshold
            lo, hi = (lo, mid) if holds else (mid, hi)
        firsts.append(hi)
    return min(firsts) if firsts else None


def _counter(per_scrape_before: float, per_scrape_after: float, case: Case) -> str:
    """promtool series notation: clean for 6 h (the sample at the onset included), then the burn."""
    clean, burn = CLEAN_MINUTES * 60 // SCRAPE_SECONDS, case.minutes * 60 // SCRAPE_SECONDS
    at_onset = per_scrape_before * clean
    return f"0+{per_scrape_before!r}x{clean} {at_onset + per_scrape_after!r}+{per_scrape_after!r}x{burn - 1}"


def input_series() -> list[dict[str, str]]:
    per_scrape = PER_SECOND * SCRAPE_SECONDS
    series = []
    for case in CASES:
        for code, after in (("500", case.fraction), ("200", 1 - case.fraction)):
            before = per_scrape if code == "200" else 0.0
            series.append(
                {
                    "series": f'http_requests_total{{service="{case.service}",pod="{case.service}-0",code="{code}"}}',
                    "values": _counter(before, per_scrape * after, case),
                }
            )
    return series


def generate_all(available: list[str]) -> dict[str, slos.Generated]:
    """Each available tool's rules for the cases' services, 99.9% over 30 days."""
    names = [c.service for c in CASES]
    out = {}
    for tool in available:
        gen = slos.GENERATORS[tool](list(range(len(names))), names, window=WINDOW)
        if gen is not None:
            out[tool] = gen
    return out


def _first_firing_queries(tool: str, onset: int) -> list[tuple[Case, str]]:
    label = "sloth_service" if tool == "sloth" else "service"
    severity = {"page": "critical", "ticket": "warning"} if tool == "pyrra" else {"page": "page", "ticket": "ticket"}
    step = f"{EVALUATION_SECONDS}s"
    return [
        (
            case,
            f'min_over_time((timestamp(ALERTS{{alertstate="firing",alertname="{ALERT_NAMES[tool]}",'
            f'{label}="{case.service}",severity="{severity[case.severity]}"}}) >= {onset})'
            f"[{case.minutes * 60}s:{step}]) - {onset}",
        )
        for case in CASES
    ]


def run(tools: dict[str, slos.Generated]) -> dict[str, Any]:
    """One promtool run for every tool and case; minutes to the first firing per tool and case."""
    promtool = build.ensure(["promtool"], log=lambda _m: None)["promtool"]
    onset = CLEAN_MINUTES * 60
    queries = {tool: _first_firing_queries(tool, onset) for tool in tools}
    with tempfile.TemporaryDirectory(prefix="bench-detect-") as tmp:
        files = []
        for tool, gen in tools.items():
            path = Path(tmp) / f"{tool}.yml"
            path.write_text(yaml.safe_dump({"groups": gen.groups}, sort_keys=False))
            files.append(path.name)
        end = max(c.minutes for c in CASES) * 60 + onset
        tests = [
            {"expr": expr, "eval_time": f"{onset + case.minutes * 60}s", "exp_samples": []}
            for tool in tools
            for case, expr in queries[tool]
        ]
        spec = {
            "rule_files": files,
            "evaluation_interval": f"{EVALUATION_SECONDS}s",
            "group_eval_order": group_eval_order(tools),
            "tests": [{"interval": f"{SCRAPE_SECONDS}s", "input_series": input_series(), "promql_expr_test": tests}],
        }
        (Path(tmp) / "test.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
        started = time.monotonic()
        proc = subprocess.run(
            [str(promtool), "test", "rules", "test.yml"], cwd=tmp, capture_output=True, text=True, check=False
        )
        seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    rule_errors = [line.strip() for line in output.splitlines() if "err:" in line]
    if rule_errors or (proc.returncode != 0 and "got:" not in output):
        raise RuntimeError(
            "promtool test rules failed unexpectedly:\n" + ("\n".join(rule_errors[:5]) or output[-3000:])
        )
    by_service = {c.service: c for c in CASES}
    tool_of = {name: tool for tool, name in ALERT_NAMES.items()}
    firing: dict[tuple[str, str], float] = {}
    for _expr, samples in _parse_blocks(output):
        for labels, value in samples:
            tool = tool_of.get(labels.get("alertname", ""))
            case = by_service.get(labels.get("service") or labels.get("sloth_service") or "")
            if tool in tools and case and slos.severity_of(tool, labels) == case.severity:
                key = (tool, case.name)
                firing[key] = min(firing.get(key, value / 60), value / 60)
    rows = []
    for case in CASES:
        rows.append(
            {
                "case": case.name,
                "severity": case.severity,
                "silent": case.silent,
                "workbook_minutes": None if case.silent else _round(workbook_minutes(case)),
                "minutes": {tool: _round(firing.get((tool, case.name))) for tool in tools},
            }
        )
    return {
        "seconds": round(seconds, 1),
        "end_minutes": (end - onset) // 60,
        "scenario": (
            f"99.9% over {WINDOW}; counters scraped every {SCRAPE_SECONDS} s, rules evaluated every "
            f"{EVALUATION_SECONDS} s; {CLEAN_MINUTES // 60} h clean, then a constant error fraction; "
            "promtool test rules"
        ),
        "rows": rows,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
