"""The benchmark's figures agree with what the tools generate, and its checks catch what they must.

* The rule counts in bench/results.json (the table in bench/results.md) equal what ``okrctl generate``
  produces for the benchmark's SLO, at every N (and Sloth's / Pyrra's, when those binaries are built).
* ``make bench-quick`` fails when our rule file stops loading or when queries per cycle grow.
* The synthetic series continue without a gap from the backfilled history into the live exporter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench import report, slos, synth, tools
from bench.operator import summarise_profile
from e2e.tools import build

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"


def okrctl_rule_count(tmp_path: Path, manifests: list[dict]) -> int:
    """Rules in every PrometheusRule that ``okrctl generate`` prints for these manifests."""
    src = tmp_path / "slos.yaml"
    src.write_text(yaml.safe_dump_all(manifests))
    out = subprocess.run(
        [sys.executable, "-m", "okr_operator.cli.main", "generate", "-f", str(src)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(
        len(group["rules"])
        for doc in yaml.safe_load_all(out)
        if doc and doc["kind"] == "PrometheusRule"
        for group in doc["spec"]["groups"]
    )


@pytest.fixture(scope="module")
def results() -> dict:
    if not RESULTS.exists():
        pytest.skip("bench/results.json not produced yet (make bench)")
    return json.loads(RESULTS.read_text())


def test_okrctl_generate_gives_seven_rules_for_the_benchmark_slo(tmp_path):
    """2 recorded 5m rates, page, ticket, no-data alert; the two 10-minute tiles in a group of their own."""
    assert okrctl_rule_count(tmp_path, [slos.okr_manifest(0)]) == 7


def test_the_benchmark_counts_rules_as_okrctl_generate_prints_them(tmp_path):
    indices = [0, 1, 2, 3]
    assert slos.generate_okr(indices).rules == okrctl_rule_count(tmp_path, [slos.okr_manifest(i) for i in indices])


def test_rule_counts_in_the_results_match_okrctl_generate(tmp_path, results):
    per_slo = okrctl_rule_count(tmp_path, [slos.okr_manifest(0)])
    sizes = results["rules"]["sizes"]
    assert sizes, "the results hold no rule measurements"
    for n, size in sizes.items():
        ours = size["tools"]["okr-operator"]
        assert ours["rules_per_slo"] == per_slo, f"N={n}"
        assert ours["rules"] == per_slo * int(n), f"N={n}"
        assert ours["record_rules"] == 4 * int(n)  # 5m rates and 10-minute tiles


@pytest.mark.tools  # runs sloth and pyrra
@pytest.mark.parametrize("tool", ["sloth", "pyrra"])
def test_other_tools_rule_counts_in_the_results_match_their_generators(results, tool):
    if tool == "sloth" and not build.TOOLS["sloth"].cached:
        pytest.skip("sloth not built (python -m e2e.tools.build sloth)")
    if tool == "pyrra" and tools.pyrra_path() is None:
        pytest.skip(tools.PYRRA_MISSING)
    generated = slos.GENERATORS[tool]([0])
    assert generated is not None
    for n, size in results["rules"]["sizes"].items():
        if tool in size["tools"]:
            assert size["tools"][tool]["rules_per_slo"] == generated.rules_per_slo, f"N={n}"


def test_results_markdown_shows_the_same_rule_counts(results):
    md = (ROOT / "bench" / "results.md").read_text()
    for n, size in results["rules"]["sizes"].items():
        t = size["tools"]["okr-operator"]
        assert f"| {n} | okr-operator | {t['rules_per_slo']:g} | {t['record_rules']} | {t['alert_rules']} |" in md


# ----------------------------------------------------------------------------- what bench-quick fails on


def _rules_size(**ours) -> dict:
    base = {"load_error": None, "evaluation_failures": 0, "unhealthy_rules": []}
    return {"tools": {"okr-operator": {**base, **ours}}}


def _operator(queries: dict[int, float], writes: dict[int, float] | None = None) -> dict:
    writes = writes or {}
    return {
        "sizes": {
            str(n): {"steady": {"queries_per_cycle": q, "status_writes_per_cycle": writes.get(n, 0)}}
            for n, q in queries.items()
        }
    }


def _agreement(worst: float = 0.0023, missing: int = 0, tiles_read_for: int = 9, fresh: bool = False) -> dict:
    where = {"slo": "svc-0000-availability", "window": "3d"}
    return {
        "windows": 80,
        "missing": missing,
        "worst": {**where, "fraction_of_budget": worst},
        "worst_excess_over_raw_error": {**where, "fraction_of_budget": 0.001},
        "tiles_read_for": tiles_read_for,
        "tiles_expected_for": 9,
        "fresh_read_tiles": fresh,
    }


def test_a_healthy_run_has_no_failures():
    results = {
        "rules": {"sizes": {"1": _rules_size(), "10": _rules_size()}},
        "operator": _operator({10: 16, 100: 16}),
        "agreement": _agreement(),
    }
    assert report.failures(results) == []
    assert all(ok for _, ok in report.checks(results))


def test_a_rule_file_that_does_not_load_fails_the_run():
    results = {"rules": {"sizes": {"10": _rules_size(load_error="promtool check rules refused ...")}}}
    assert any("did not load" in f for f in report.failures(results))


def test_rules_failing_to_evaluate_fail_the_run():
    results = {"rules": {"sizes": {"10": _rules_size(evaluation_failures=3)}}}
    assert report.failures(results)


def test_queries_growing_with_objects_fail_the_run():
    results = {"operator": _operator({10: 16, 100: 17})}
    assert any("grow" in f for f in report.failures(results))


def test_status_writes_at_steady_state_fail_the_run():
    results = {"operator": _operator({10: 16, 100: 16}, writes={100: 0.5})}
    assert [f for f in report.failures(results) if "status writes" in f] == [
        "0 status writes per cycle at steady state at 100 objects: 0.5 "
    ]


@pytest.mark.parametrize(
    "agreement",
    [
        _agreement(worst=0.0051),  # auto and raw 0.51% of the error budget apart on a window
        _agreement(missing=1),  # a figure raw has and the cheap path lacks (or the other way round)
        _agreement(tiles_read_for=8),  # an SLO with tiles measured raw: the check would compare raw with raw
        _agreement(fresh=True),  # tiles read for an SLO that has none
    ],
)
def test_the_cheap_path_disagreeing_with_raw_fails_the_run(agreement):
    assert report.failures({"agreement": agreement})


def test_a_crashed_phase_fails_the_run():
    assert report.failures({"errors": {"operator": "Traceback ...\nTimeoutError: statuses of 100 objects"}})


# ----------------------------------------------------------------------------- synthetic data, profiles


def test_live_exporter_continues_the_backfilled_history(tmp_path):
    svcs = synth.services(3)
    t0, t1 = 1_700_000_000.0, 1_700_000_000.0 + 600
    path = tmp_path / "h.om"
    samples = synth.write_history(path, svcs, t0, t1, step=60)
    assert samples == synth.series_count(svcs) * 11
    lines = path.read_text().splitlines()
    assert lines[-1] == "# EOF"
    last = {}
    for line in lines:
        if line.startswith("http_requests_total"):
            name, value, ts = line.rsplit(" ", 2)
            last[name] = (float(value), float(ts))
    live = synth.LiveExporter(svcs, t0).render(at=t1).decode()
    for line in live.splitlines():
        if line.startswith("http_requests_total"):
            name, value, millis = line.rsplit(" ", 2)
            assert float(value) == pytest.approx(last[name][0])
            assert int(millis) == t1 * 1000
    assert {s.pods for s in svcs} == {1, 2, 3}


def test_profile_summary_attributes_samples_to_modules(tmp_path):
    raw = tmp_path / "p.txt"
    raw.write_text(
        "process 1;<module> (/x/okr_operator/runtime/main.py:1);evaluate (/x/okr_operator/evaluation/engine.py:9);"
        "deepcopy (/usr/lib/python3.11/copy.py:128) 30\n"
        "process 1;<module> (/x/okr_operator/runtime/main.py:1);request (/v/site-packages/kubernetes/rest.py:3) 70\n"
    )
    summary = summarise_profile(raw)
    assert summary["samples"] == 100
    assert dict(summary["by_category"]) == {"kubernetes client": 70.0, "copy.deepcopy": 30.0}
    assert summary["our_functions_inclusive"][0] == ("evaluate (evaluation/engine.py)", 30.0)
