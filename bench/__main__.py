"""Run the benchmarks: ``python -m bench [--quick] [--only PHASES] [--out DIR]``, PHASES a comma-separated
list of rules, equivalence, detect, agreement, cost, evaluation, operator, shards.

Full run (``make bench``): rules for N = 1, 100, 1000 SLOs with okr-operator, Sloth and Pyrra in one
Prometheus; alert equivalence at 15x / 3.5x / 0.9x; time to detect at 100% / 10% / 2% errors and a 3.5x
burn; the evaluation's own CPU in process at 10, 1 000 and 10 000 objects; the operator at 10, 1 000 and
10 000 objects with a py-spy profile of the 10 000 run; the operator in 2 shards with 20 000 objects
(``BENCH_SHARD_OBJECTS`` / ``BENCH_SHARDS`` measure another size). Writes ``bench/results.json`` and
``bench/results.md``.

Quick run (``make bench-quick``, in CI): N = 1, 10 and 10 / 100 objects (evaluation and operator) at a 10 s
interval, time to detect, cheap-vs-raw agreement on 10 SLOs, no equivalence simulation and no profile; writes
``out/bench-quick/``.
Exit code 1 when one of our rule files does not load or evaluate, when Prometheus queries per cycle grow with the
object count, when status writes appear at steady state, or when the cheap status path disagrees with raw queries.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import procstat, report, tools

ROOT = Path(__file__).resolve().parent.parent
ALL_PHASES = "rules,equivalence,detect,agreement,cost,evaluation,operator,shards"

FULL: dict[str, Any] = {
    "rule_sizes": (1, 100, 1000),
    "rule_cycles": 4,
    "rule_interval": 60,
    "warmup_max": 660.0,  # every group evaluated once: the SLOs' 10-minute tile groups too
    "evaluation_sizes": (10, 1000, 10000),
    "operator_sizes": (10, 1000, 10000),
    "edits": {10: 5, 1000: 10, 10000: 5},
    "steady_cycles": 3,
    "interval": 30,
    "profile_at": 10000,
    "equivalence": True,
    "agreement_slos": 100,
    # Prometheus CPU per minute: Sloth's rules alone vs ours + the operator's status queries (raw, auto)
    "cost": {"n": 1000, "minutes": 3.0, "interval": 30, "sources": ("raw", "auto")},
    "settle_rates": True,  # steady state only once no 5m window spans the backfill/scrape seam (about 5 min)
    # N objects over S shards (issue 19): one operator process per shard
    "shards": {"n": 20000, "shards": 2, "edits": 5},
}
QUICK: dict[str, Any] = {
    "rule_sizes": (1, 10),
    "rule_cycles": 2,
    "rule_interval": 10,
    "warmup_max": 30.0,
    "evaluation_sizes": (10, 100),
    "operator_sizes": (10, 100),
    "edits": {10: 3, 100: 3},
    "steady_cycles": 2,
    "interval": 10,
    "profile_at": None,
    "equivalence": False,
    "agreement_slos": 10,
    "cost": None,  # full run only: about 40 minutes at 1 000 SLOs
    "settle_rates": True,  # steady state (0 status writes, checked) only once no 5m window spans the seam
    "shards": None,  # full run only: a cluster, a Prometheus and an operator per shard, 5 min of settling
}


def _available_tools(say: Any) -> tuple[list[str], list[str]]:
    available, skipped = ["okr-operator"], []
    try:
        tools.sloth_path()
        available.append("sloth")
    except Exception as exc:
        skipped.append(f"sloth: could not be built ({exc})")
    if tools.pyrra_path() is not None:
        available.append("pyrra")
    else:
        skipped.append(f"pyrra: {tools.PYRRA_MISSING}")
    for line in skipped:
        say(line)
    return available, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI)")
    parser.add_argument(
        "--only",
        default=ALL_PHASES,
        help="comma-separated phases; the other phases' figures are kept from an existing results.json",
    )
    parser.add_argument("--out", type=Path, help="directory for results.json/results.md")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    out_dir = args.out or (ROOT / "out" / "bench-quick" if args.quick else ROOT / "bench")
    phases = {p.strip() for p in args.only.split(",") if p.strip()}

    def say(msg: str) -> None:
        print(f"[bench] {msg}", flush=True)

    started = time.monotonic()
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": procstat.machine(),
        "versions": tools.versions(),
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items() if k != "edits"},
        "load_average_start": procstat.loadavg(),
        "wall_seconds": {},
        "errors": {},
    }
    results["phase_started_at"] = {}
    previous_file = out_dir / "results.json"
    if args.only != ALL_PHASES and previous_file.exists():
        previous = json.loads(previous_file.read_text())
        if previous.get("mode") == results["mode"]:
            for name in ALL_PHASES.split(","):
                if name in phases or name not in previous:
                    continue
                results[name] = previous[name]
                for key in ("wall_seconds", "phase_started_at", "errors"):
                    if name in previous.get(key, {}):
                        results[key][name] = previous[key][name]
    available, skipped = _available_tools(say)
    results["skipped"] = skipped
    results["pyrra_note"] = tools.PYRRA_MISSING

    def write() -> None:
        results["load_average_end"] = procstat.loadavg()
        results["wall_seconds"]["total"] = round(sum(v for k, v in results["wall_seconds"].items() if k != "total"), 1)
        results["goals"] = report.goals(results)
        results["failures"] = report.failures(results)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
        (out_dir / "results.md").write_text(report.markdown(results))

    def phase(name: str, fn: Any) -> None:
        if name not in phases:
            return
        t0 = time.monotonic()
        results["phase_started_at"][name] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        say(f"=== {name}")
        try:
            results[name] = fn()
        except Exception:
            results["errors"][name] = traceback.format_exc()
            say(f"{name} failed:\n{results['errors'][name]}")
        results["wall_seconds"][name] = round(time.monotonic() - t0, 1)
        write()

    from bench import agreement, cost, detect, equivalence, evaluation, operator, rules, shards

    phase(
        "rules",
        lambda: rules.run(
            cfg["rule_sizes"],
            available,
            cycles=cfg["rule_cycles"],
            warmup_max=cfg["warmup_max"],
            interval=cfg["rule_interval"],
        ),
    )
    if cfg["equivalence"]:
        phase("equivalence", lambda: equivalence.run(equivalence.generate_all(available)))
    else:
        results["skipped"].append("alert equivalence (full run only: a simulated week takes ~4 min)")
    phase("detect", lambda: detect.run(detect.generate_all(available)))
    phase("agreement", lambda: agreement.run(cfg["agreement_slos"]))
    if cfg["cost"]:
        c = cfg["cost"]
        phase(
            "cost",
            lambda: cost.phase(c["n"], available, minutes=c["minutes"], interval=c["interval"], sources=c["sources"]),
        )
    else:
        results["skipped"].append("Prometheus CPU with status queries (full run only: ~40 min at 1 000 SLOs)")
    phase("evaluation", lambda: evaluation.run(cfg["evaluation_sizes"]))
    phase(
        "operator",
        lambda: operator.run(
            cfg["operator_sizes"],
            cfg["edits"],
            cfg["steady_cycles"],
            cfg["profile_at"],
            interval=cfg["interval"],
            settle_rates=cfg["settle_rates"],
        ),
    )
    if cfg["shards"]:
        sh = {**cfg["shards"]}
        sh["n"] = int(os.environ.get("BENCH_SHARD_OBJECTS", sh["n"]))
        sh["shards"] = int(os.environ.get("BENCH_SHARDS", sh["shards"]))
        phase(
            "shards",
            lambda: shards.run(
                sh["n"], sh["shards"], sh["edits"], cfg["steady_cycles"], cfg["interval"], cfg["settle_rates"]
            ),
        )
    else:
        results["skipped"].append("the operator in shards (full run only: 20 000 objects over 2 shards)")
    write()
    say(f"wrote {out_dir / 'results.md'} and results.json in {time.monotonic() - started:.0f} s")
    print((out_dir / "results.md").read_text())
    checks = report.checks(results)
    for name, ok in checks:
        say(f"{'PASS' if ok else 'FAIL'}: {name}")
    failed = sum(1 for _, ok in checks if not ok)
    print(f"bench: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
