"""Alert equivalence: do our page/ticket alerts fire (or stay silent) like Sloth's and Pyrra's on the same data?

One ``promtool test rules`` run simulates 5.5 days at a 1-minute evaluation interval (``for:`` clauses
are honoured). Three services run at 0.1x of a 99.9% SLO's burn rate for 4 days, then burn at 15x, 3.5x
and 0.9x for 36 hours (long enough for every ticket alert's windows and ``for:``). Each tool's rules for
the three services are loaded together, their groups evaluated in file order (``group_eval_order``); one
PromQL test reads the first time each alert was firing (from the ``ALERTS`` series the rule manager writes),
another the alerts still firing at the end.
promtool prints what it got when the expectation (none) does not
match, which is how the figures are read back.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench import slos
from e2e.tools import build

BURNS = (15.0, 3.5, 0.9)
BASELINE_BURN = 0.1
BUDGET = 1 - slos.TARGET / 100
RATE_PER_MINUTE = 600.0  # 10 req/s
BASELINE_MINUTES = 4 * 1440
BURN_MINUTES = 36 * 60  # the whole simulation stays below promtool's 10 000 samples per series (166 h)
EXPECTED = {15.0: {"page", "ticket"}, 3.5: {"ticket"}, 0.9: set()}


def service_for(burn: float) -> str:
    return "eq-" + f"{burn:g}x".replace(".", "-")


def _counter(per_minute_before: float, per_minute_after: float) -> str:
    """promtool series notation: ``per_minute_before`` for 4 days, then ``per_minute_after`` for 3 days."""
    at_onset = per_minute_before * BASELINE_MINUTES
    return f"0+{per_minute_before!r}x{BASELINE_MINUTES - 1} {at_onset!r}+{per_minute_after!r}x{BURN_MINUTES}"


def input_series() -> list[dict[str, str]]:
    series = []
    for burn in BURNS:
        svc = service_for(burn)
        before, after = BASELINE_BURN * BUDGET, burn * BUDGET
        for code, share_before, share_after in (("500", before, after), ("200", 1 - before, 1 - after)):
            series.append(
                {
                    "series": f'http_requests_total{{service="{svc}",pod="{svc}-0",code="{code}"}}',
                    "values": _counter(RATE_PER_MINUTE * share_before, RATE_PER_MINUTE * share_after),
                }
            )
    return series


@dataclass
class Outcome:
    tool: str
    burn: float
    first_firing: dict[str, float]  # severity -> minutes after the burn started
    firing_at_end: set[str]

    @property
    def matches_expectation(self) -> bool:
        return self.firing_at_end == EXPECTED[self.burn]


_GOT = re.compile(r"(\{[^}]*\})\s+([0-9.eE+-]+)")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def _parse_blocks(output: str) -> list[tuple[str, list[tuple[dict[str, str], float]]]]:
    """(expression, samples promtool reports as ``got``) for every failed PromQL test in ``output``."""
    out = []
    for block in output.split("expr: ")[1:]:
        expr = block.split(", time:", 1)[0]
        got = block.split("got:", 1)[1] if "got:" in block else ""
        samples = [(dict(_LABEL.findall(labels)), float(value)) for labels, value in _GOT.findall(got)]
        out.append((expr, samples))
    return out


def _service_label(tool: str) -> str:
    return "sloth_service" if tool == "sloth" else "service"


# One first-firing query per firing series: promtool's test engine refuses queries that hold more than 10 000
# samples, and a 36-hour subquery at 1m is 2 161 points per series (held twice by the comparison).
SERIES_MATCHERS = {
    "okr-operator": ('severity="page"', 'severity="ticket"'),
    "sloth": ('severity="page"', 'severity="ticket"'),
    "pyrra": tuple(
        f'severity="{s}",long="{w}"'
        for s, w in (("critical", "1h"), ("critical", "6h"), ("warning", "1d"), ("warning", "4d"))
    ),
}
ALERT_NAMES = {"okr-operator": "SLOErrorBudgetBurn", "sloth": "SlothErrorBudgetBurn", "pyrra": "ErrorBudgetBurn"}


def group_eval_order(tools: dict[str, slos.Generated]) -> list[str]:
    """Every group in file order: promtool evaluates the groups of one timestamp in this order (unlisted, in
    random order: a tool whose alerts read another group's recordings would see them one evaluation late in
    some runs and not in others). In a real Prometheus every group runs at its own offset in the interval."""
    names = [g["name"] for gen in tools.values() for g in gen.groups]
    if len(set(names)) != len(names):
        raise ValueError("rule group names repeat across the tools' files")
    return names


def run(tools: dict[str, slos.Generated]) -> dict[str, Any]:
    """Run the simulation for the tools whose rules were generated for the equivalence services."""
    promtool = build.ensure(["promtool"], log=lambda _m: None)["promtool"]
    onset = BASELINE_MINUTES * 60
    end = (BASELINE_MINUTES + BURN_MINUTES) * 60
    with tempfile.TemporaryDirectory(prefix="bench-eq-") as tmp:
        files = []
        for tool, gen in tools.items():
            path = Path(tmp) / f"{tool}.yml"
            path.write_text(yaml.safe_dump({"groups": gen.groups}, sort_keys=False))
            files.append(path.name)
        firsts = [
            f'min_over_time((timestamp(ALERTS{{alertstate="firing",alertname="{ALERT_NAMES[tool]}",'
            f'{_service_label(tool)}="{service_for(burn)}",{matchers}}}) > {onset})[{end - onset}s:1m])'
            for tool in tools
            for burn in BURNS
            for matchers in SERIES_MATCHERS[tool]
        ]
        last = 'ALERTS{alertstate="firing"}'
        test = {
            "rule_files": files,
            "evaluation_interval": "1m",
            "group_eval_order": group_eval_order(tools),
            "tests": [
                {
                    "interval": "1m",
                    "input_series": input_series(),
                    "promql_expr_test": [
                        *({"expr": e, "eval_time": f"{end}s", "exp_samples": []} for e in firsts),
                        {"expr": last, "eval_time": f"{end}s", "exp_samples": []},
                    ],
                }
            ],
        }
        (Path(tmp) / "test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
        import time

        started = time.monotonic()
        proc = subprocess.run(
            [str(promtool), "test", "rules", "test.yml"], cwd=tmp, capture_output=True, text=True, check=False
        )
        seconds = time.monotonic() - started
        output = proc.stdout + proc.stderr
    blocks = _parse_blocks(output)
    first_samples = [sample for expr, samples in blocks if "min_over_time" in expr for sample in samples]
    lasts = [sample for expr, samples in blocks if expr.startswith('"ALERTS') for sample in samples]
    rule_errors = [line.strip() for line in output.splitlines() if "err:" in line]
    if rule_errors or (proc.returncode != 0 and "got:" not in output):
        detail = "\n".join(rule_errors[:5]) or output[-3000:]
        raise RuntimeError(f"promtool test rules failed unexpectedly:\n{detail}")
    outcomes: list[Outcome] = []
    for tool in tools:
        for burn in BURNS:
            svc = service_for(burn)
            o = Outcome(tool, burn, {}, set())
            for labels, ts in first_samples:
                sev = slos.severity_of(tool, labels)
                if sev and _service_of(labels) == svc:
                    minutes = (ts - onset) / 60
                    o.first_firing[sev] = min(o.first_firing.get(sev, minutes), minutes)
            for labels, _ in lasts:
                sev = slos.severity_of(tool, labels)
                if sev and _service_of(labels) == svc:
                    o.firing_at_end.add(sev)
            outcomes.append(o)
    return {
        "seconds": round(seconds, 1),
        "scenario": (
            f"{BASELINE_MINUTES // 1440} days at {BASELINE_BURN:g}x, then {BURN_MINUTES // 60} hours at the burn rate; "
            "99.9% over 28d, 1m evaluation interval, promtool test rules"
        ),
        "outcomes": [
            {
                "tool": o.tool,
                "burn": o.burn,
                "firing_at_end": sorted(o.firing_at_end),
                "expected": sorted(EXPECTED[o.burn]),
                "as_expected": o.matches_expectation,
                "minutes_to_page": _round(o.first_firing.get("page")),
                "minutes_to_ticket": _round(o.first_firing.get("ticket")),
            }
            for o in outcomes
        ],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _service_of(labels: dict[str, str]) -> str | None:
    return labels.get("service") or labels.get("sloth_service")


def generate_all(available: list[str]) -> dict[str, slos.Generated]:
    """Each available tool's rules for the three equivalence services."""
    names = [service_for(b) for b in BURNS]
    out = {}
    for tool in available:
        gen = slos.GENERATORS[tool](list(range(len(names))), names)
        if gen is not None:
            out[tool] = gen
    return out
