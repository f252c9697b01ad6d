"""The hostile-input corpus (tests/data/hostile/): what must be refused is refused with one line naming the
field, fast and small; what must be accepted generates rules promtool loads; injections are refused or
provably inert in promtool.

Each file says what it expects in its first comment line:

- ``# expect: TEXT`` — ``okrctl validate`` exits 1 and one of its lines contains TEXT (rejected/, injection/);
- ``# accept: WHY`` — validates (warnings allowed), and every generated rule file passes ``promtool check rules``;
- ``# inert: WHAT`` — validates, and promtool shows the hostile text has no effect: ``label X`` /
  ``annotation X`` (the alert carries the user's text literally), ``rules`` (the recordings equal those of
  the clean expression), ``batch`` (a key result's batched query cannot take another object's identity).

Add a case by adding a file.
"""

from __future__ import annotations

import subprocess
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from e2e.tools.build import tool_path
from okr_operator.api import KeyResult, ServiceLevelObjective
from okr_operator.api.loader import load_manifests
from okr_operator.cli.main import cli
from okr_operator.evaluation.batch import batch
from okr_operator.generate import RenderOptions, objects_for_key_result, objects_for_slo
from okr_operator.generated import MAX_GENERATED_NAME, MAX_LABEL_VALUE
from okr_operator.slo.rules import slo_rule_groups

CORPUS = Path(__file__).resolve().parent / "data" / "hostile"
FILES = sorted(p for p in CORPUS.glob("*/*.yaml") if p.name != "expectations.yaml")
MAX_SECONDS = 2.0
MAX_BYTES = 200 * 1024 * 1024
TOKEN = "HOSTILE_VALUE_TOKEN"


def header(path: Path) -> tuple[str, str]:
    """(verb, text) of the file's first comment line, e.g. ("expect", "spec.target: ..."); files that cannot
    carry a comment (binary, UTF-16) have theirs in ``expectations.yaml`` beside them."""
    side = path.parent / "expectations.yaml"
    known = yaml.safe_load(side.read_text()) if side.exists() else {}
    first = known.get(path.name) or path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    first = first.removeprefix("\ufeff")
    verb, _, text = first.removeprefix("# ").partition(": ")
    return verb, text


def cases(*verbs: str) -> list[Any]:
    return [pytest.param(p, id=f"{p.parent.name}/{p.stem}") for p in FILES if header(p)[0] in verbs]


def test_corpus_is_large_and_labelled():
    counts = {d.name: sum(1 for p in FILES if p.parent == d) for d in CORPUS.iterdir() if d.is_dir()}
    assert sum(counts.values()) >= 150, counts
    assert set(counts) == {"accepted", "rejected", "injection"}
    for path in FILES:
        assert header(path)[0] in ("expect", "accept", "inert"), path


@pytest.fixture(scope="module")
def promtool() -> Path:
    return tool_path("promtool")


def validate(path: Path) -> tuple[int, list[str], BaseException | None]:
    result = CliRunner().invoke(cli, ["validate", "-f", str(path)])
    return result.exit_code, result.stderr.strip().splitlines(), result.exception


@pytest.mark.parametrize("path", cases("expect"))
def test_rejected_with_one_clear_line(path: Path):
    code, lines, exception = validate(path)
    assert code == 1, lines
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    expected = header(path)[1]
    assert any(expected in line for line in lines), (expected, lines)
    for line in lines:  # every line says where: file:document: ...
        assert line.startswith(str(path)), line
        assert "Traceback" not in line


@pytest.mark.parametrize("path", [p for p in FILES if header(p)[0] == "expect"], ids=lambda p: p.stem)
def test_refusal_is_fast_and_small(path: Path):
    started = time.perf_counter()
    load_manifests([str(path)])
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        load_manifests([str(path)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f}s"
    assert peak < MAX_BYTES, f"{peak / 1e6:.0f} MB"


@pytest.mark.parametrize("size", ["huge-file", "many-documents-generated"])
def test_generated_oversized_inputs_are_refused(tmp_path: Path, size: str):
    """Inputs too large to commit: a 5 MiB file and a file of 100 000 tiny documents."""
    path = tmp_path / f"{size}.yaml"
    if size == "huge-file":
        path.write_text("a: " + "x" * (5 * 1024 * 1024) + "\n")
        expected = "manifests are at most"
    else:
        path.write_text("---\na: 1\n" * 100_000)
        expected = "more than 1000 YAML documents"
    started = time.perf_counter()
    code, lines, _ = validate(path)
    assert time.perf_counter() - started < MAX_SECONDS
    assert code == 1 and any(expected in line for line in lines), lines


def generated(path: Path) -> list[dict[str, Any]]:
    manifests = load_manifests([str(path)])
    assert not manifests.errors, [str(p) for p in manifests.errors]
    objectives = manifests.of_kind("Objective")
    objects: list[dict[str, Any]] = []
    for model in manifests.models:
        if isinstance(model, ServiceLevelObjective):
            objects += objects_for_slo(model, RenderOptions())
        elif isinstance(model, KeyResult):
            objective = next((o for o in objectives if o.metadata.name == model.spec.objective_ref.name), None)
            objects += objects_for_key_result(model, objective, RenderOptions())
    return objects


def check_rules(promtool: Path, tmp_path: Path, groups: list[dict[str, Any]]) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, allow_unicode=True))
    proc = subprocess.run([str(promtool), "check", "rules", str(rules)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", cases("accept", "inert"))
def test_accepted_generates_rules_promtool_loads(path: Path, promtool: Path, tmp_path: Path):
    code, lines, _ = validate(path)
    assert code == 0, lines
    objects = generated(path)
    groups = [g for o in objects if o["kind"] == "PrometheusRule" for g in o["spec"]["groups"]]
    if groups:
        check_rules(promtool, tmp_path, groups)
    for obj in objects:
        meta = obj["metadata"]
        assert len(meta["name"]) <= MAX_GENERATED_NAME, meta["name"]
        assert all(len(v) <= MAX_LABEL_VALUE for v in meta["labels"].values()), meta["labels"]
        if obj["kind"] == "AnalysisTemplate":
            for metric in obj["spec"]["metrics"]:
                assert metric["interval"][-1] in "hms", metric["interval"]  # Go's units, no d or w


# ------------------------------------------------------------------ inertness, proven with promtool


def run_promtool_test(promtool: Path, tmp_path: Path, groups: list[dict[str, Any]], test: dict[str, Any]) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, allow_unicode=True))
    tests = tmp_path / "tests.yaml"
    tests.write_text(
        yaml.safe_dump({"rule_files": [rules.name], "evaluation_interval": "1m", "tests": [test]}, allow_unicode=True)
    )
    proc = subprocess.run(
        [str(promtool), "test", "rules", tests.name], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# 1000 requests a minute, 10% of them errors: a burn rate of 100 against the 99.9% target.
TRAFFIC = [
    {"series": 'hostile_requests_total{code="200"}', "values": "0+900x120"},
    {"series": 'hostile_requests_total{code="500"}', "values": "0+100x120"},
]


def slo_of(path: Path) -> ServiceLevelObjective:
    return next(m for m in load_manifests([str(path)]).models if isinstance(m, ServiceLevelObjective))


def replaced(value: Any, old: str, new: str) -> Any:
    """``value`` with ``old`` replaced by ``new`` in every string inside it."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: replaced(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [replaced(v, old, new) for v in value]
    return value


def hostile_value(path: Path, what: str) -> str:
    spec = yaml.safe_load(path.read_text())["spec"]
    alerting = spec.get("alerting", {})
    kind, _, name = what.partition(" ")
    for labels in (alerting.get("labels", {}), alerting.get("page", {}).get("labels", {})):
        if kind == "label" and name in labels:
            return labels[name]
    if kind == "annotation":
        return alerting.get("annotations", {}).get(name) or spec["description"]
    raise AssertionError(f"no {what} in {path}")


def burn_alerts(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page and ticket burn-rate alerts (both fire at a burn rate of 100)."""
    return [r for g in groups for r in g["rules"] if r.get("alert") == "SLOErrorBudgetBurn"]


def inert(kind: str) -> list[Any]:
    """Inertness cases of one kind (the first word of their ``# inert:`` line)."""
    return [p for p in cases("inert") if header(p.values[0])[1].split()[0] == kind]


@pytest.mark.parametrize("path", inert("label") + inert("annotation"))
def test_injected_template_text_comes_out_literally(path: Path, promtool: Path, tmp_path: Path):
    """The alert fires with exactly the labels and annotations of a twin SLO whose hostile text is a plain
    token, with the token replaced by the hostile text: nothing of it was executed as a template."""
    slo = slo_of(path)
    value = hostile_value(path, header(path)[1])
    twin = ServiceLevelObjective.model_validate(replaced(slo.to_wire(), value, TOKEN))
    identity = {"slo": slo.metadata.name, "namespace": slo.metadata.namespace, "service": slo.spec.service}
    expected = [
        {
            "exp_labels": {**identity, **replaced(alert["labels"], TOKEN, value)},
            "exp_annotations": replaced(alert["annotations"], TOKEN, value),
        }
        for alert in burn_alerts(slo_rule_groups(twin))
    ]
    test = {
        "interval": "1m",
        "input_series": TRAFFIC,
        "alert_rule_test": [{"eval_time": "60m", "alertname": "SLOErrorBudgetBurn", "exp_alerts": expected}],
    }
    run_promtool_test(promtool, tmp_path, slo_rule_groups(slo), test)


@pytest.mark.parametrize("path", inert("key-result"))
def test_injected_key_result_description_comes_out_literally(path: Path, promtool: Path, tmp_path: Path):
    manifests = load_manifests([str(path)])
    kr = next(m for m in manifests.models if isinstance(m, KeyResult))
    objective = manifests.of_kind("Objective")[0]
    value = kr.spec.description
    twin = KeyResult.model_validate(replaced(kr.to_wire(), value, TOKEN))
    (rule,) = objects_for_key_result(kr, objective, RenderOptions())
    (clean,) = objects_for_key_result(twin, objective, RenderOptions())
    alert = next(r for g in clean["spec"]["groups"] for r in g["rules"] if r.get("alert") == "KeyResultOffTrack")
    identity = {"key_result": kr.metadata.name, "objective": objective.metadata.name, "namespace": "team-a"}
    expected = {
        "exp_labels": {**identity, **replaced(alert["labels"], TOKEN, value)},
        "exp_annotations": replaced(alert["annotations"], TOKEN, value),
    }
    test = {  # the value stays 0 in a period of January 1970: behind its pace once "for" has passed
        "interval": "1m",
        "input_series": [],
        "alert_rule_test": [{"eval_time": "3h", "alertname": "KeyResultOffTrack", "exp_alerts": [expected]}],
    }
    run_promtool_test(promtool, tmp_path, rule["spec"]["groups"], test)


def recorded(name: str, identity: str, value: float) -> dict[str, Any]:
    return {"expr": name, "eval_time": "30m", "exp_samples": [{"labels": f"{name}{{{identity}}}", "value": value}]}


@pytest.mark.parametrize("path", inert("rules"))
def test_comment_and_relabel_tricks_record_the_clean_figures(path: Path, promtool: Path, tmp_path: Path):
    slo = slo_of(path)
    recordings = [r for g in slo_rule_groups(slo) for r in g["rules"] if "record" in r]
    identity = f'namespace="{slo.metadata.namespace}",service="{slo.spec.service}",slo="{slo.metadata.name}"'
    run_promtool_test(
        promtool,
        tmp_path,
        [{"name": "recordings", "rules": recordings}],
        {
            "interval": "1m",
            "input_series": TRAFFIC,
            "promql_expr_test": [  # exactly one series each, with our identity and the clean figures
                {
                    "expr": "slo:sli_errors:rate5m",
                    "eval_time": "30m",
                    "exp_samples": [{"labels": f"slo:sli_errors:rate5m{{{identity}}}", "value": 100 / 60}],
                },
                {
                    "expr": "slo:sli_total:rate5m",
                    "eval_time": "30m",
                    "exp_samples": [{"labels": f"slo:sli_total:rate5m{{{identity}}}", "value": 1000 / 60}],
                },
            ],
        },
    )


@pytest.mark.parametrize("path", inert("batch"))
def test_key_result_cannot_take_another_objects_identity_in_a_batch(path: Path, promtool: Path, tmp_path: Path):
    attacker = next(m for m in load_manifests([str(path)]).models if isinstance(m, KeyResult))
    expr = batch(
        [
            (("team-b", "victim"), "vector(1)"),
            (("team-a", attacker.metadata.name), attacker.spec.source.prometheus.query),
        ]
    )
    run_promtool_test(
        promtool,
        tmp_path,
        [],
        {
            "interval": "1m",
            "input_series": [],
            "promql_expr_test": [
                {
                    "expr": expr,
                    "eval_time": "1m",
                    "exp_samples": [
                        {"labels": '{okr_name="victim",okr_namespace="team-b"}', "value": 1},
                        {"labels": f'{{okr_name="{attacker.metadata.name}",okr_namespace="team-a"}}', "value": 99},
                    ],
                }
            ],
        },
    )
