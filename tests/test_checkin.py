"""kubectl okr checkin: the check-in typed on the command line, the in-place edit of a manifest (only the
intended lines change, comments kept, atomic), the live patch (pure parts), and one-line errors."""

from __future__ import annotations

import difflib
import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from okr_operator.checkin import CheckInError, parse_check_in
from okr_operator.checkin.live import append_patch, argocd_tracking, checked
from okr_operator.checkin.manifest import edit_text, write_atomically
from okr_operator.cli.kubectl_okr import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "samples" / "keyresults.yaml"
NOW = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


def check_in(value="41", **kw):
    return parse_check_in(
        value, confidence=kw.get("confidence"), note=kw.get("note"), when=kw.get("when", "2026-11-30"), now=NOW
    )


def diff(old: str, new: str) -> list[str]:
    return [line for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)][2:]


@pytest.fixture
def sample(tmp_path) -> Path:
    path = tmp_path / "keyresults.yaml"
    shutil.copy(SAMPLE, path)
    return path


def run(*args: str):
    return CliRunner().invoke(cli, ["checkin", *args], catch_exceptions=False)


# ---------------------------------------------------------------------------------------------- the entry


def test_values_are_parsed_as_the_api_takes_them():
    entry = parse_check_in("41", confidence="0.8", note=" drill ", when="2026-11-30", now=NOW)
    assert entry.to_dict() == {"date": "2026-11-30", "value": 41, "confidence": 0.8, "note": "drill"}
    assert isinstance(entry.value, int)
    assert parse_check_in("0.35", confidence="80%", note=None, when=None, now=NOW).to_dict() == {
        "date": "2026-12-01",  # today, UTC
        "value": 0.35,
        "confidence": 0.8,
    }
    instant = parse_check_in("1", confidence=None, note=None, when="2026-12-01T09:30:00+01:00", now=NOW)
    assert instant.date_text == "2026-12-01T08:30:00Z"


@pytest.mark.parametrize(
    ("value", "kw", "message"),
    [
        ("forty", {}, "VALUE 'forty' is not a number"),
        ("nan", {}, "VALUE 'nan' is not a finite number"),
        ("41", {"confidence": "1.5"}, "--confidence '1.5' is outside 0..1"),
        ("41", {"confidence": "-0.1"}, "--confidence '-0.1' is outside 0..1"),
        ("41", {"confidence": "sure"}, "--confidence 'sure' is not a number"),
        ("41", {"when": "2026-13-01"}, "--date '2026-13-01' is not a date"),
        ("41", {"when": "yesterday"}, "--date 'yesterday' is not a date"),
        ("41", {"when": "2027-01-15"}, "--date '2027-01-15' is in the future"),
        ("41", {"note": "x" * 1025}, "--note is 1025 characters long; at most 1024"),
    ],
)
def test_bad_values_are_refused_naming_the_flag(value, kw, message):
    with pytest.raises(CheckInError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        check_in(value, **kw)


# ---------------------------------------------------------------------------------------------- -f FILE


def test_only_the_new_entry_lines_are_added_to_a_copy_of_the_sample(sample):
    old = sample.read_text()
    result = run("checkout-mttr", "41", "--confidence", "0.8", "--note", "Rollback drill: yes", "--date",
                 "2026-11-30", "-f", str(sample))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert diff(old, sample.read_text()) == [
        "@@ -29,0 +30,4 @@",
        "+        - date: 2026-11-30",
        "+          value: 41",
        "+          confidence: 0.8",
        "+          note: 'Rollback drill: yes'",  # quoted: a YAML reader would otherwise see a mapping
    ]
    assert "# Key results, one of each source" in sample.read_text()  # comments kept (the diff shows it too)
    assert "added check-in 2026-11-30: 41, confidence 0.8 (Rollback drill: yes) to KeyResult checkout-mttr" in (
        result.stdout
    )
    docs = list(yaml.safe_load_all(sample.read_text()))
    assert docs[0]["spec"]["source"]["manual"]["checkIns"][-1] == {
        "date": date(2026, 11, 30),
        "value": 41,
        "confidence": 0.8,
        "note": "Rollback drill: yes",
    }


LAYOUTS = """\
# a team's key results
apiVersion: okr.dev/v1alpha1
kind: Objective
metadata: {name: ops}
spec: {title: Ops, period: 2026-Q4}
---
apiVersion: okr.dev/v1alpha1
kind: KeyResult
metadata:
    name: nps
    namespace: team-a
spec:
    objectiveRef: {name: ops}
    description: "NPS up"   # quoted on purpose
    baseline: 10
    target: 40
    source:
        manual:
            checkIns:
            -   date: 2026-10-01
                value: 10
            -   {date: 2026-11-01, value: 20}  # flow item, trailing comment
            # the next one is due in December
    unit: points
---
apiVersion: okr.dev/v1alpha1
kind: KeyResult
metadata:
  name: nps
  namespace: team-b
spec:
  objectiveRef:
    name: ops
  description: |
    NPS of team b,
    two lines
  baseline: 10
  target: 40
  source:
    manual:
      checkIns:
      - date: 2026-10-01
        value: 12
        note: |-
          first
          of two lines
"""


def test_indentation_of_each_document_is_followed_and_others_are_untouched(tmp_path):
    old = LAYOUTS
    four = edit_text(old, "nps", "team-a", check_in("25", note="yes"), "f.yaml")
    assert diff(old, four.text) == [
        "@@ -22,0 +23,3 @@",
        "+            -   date: 2026-11-30",
        "+                value: 25",
        "+                note: 'yes'",  # kubectl reads YAML 1.1: an unquoted yes would be a boolean
    ]
    zero = edit_text(old, "nps", "team-b", check_in("13.5", confidence="0.6"), "f.yaml")
    assert diff(old, zero.text) == [
        "@@ -46,0 +47,3 @@",
        "+      - date: 2026-11-30",
        "+        value: 13.5",
        "+        confidence: 0.6",
    ]
    assert (four.index, four.check_ins, zero.index, zero.check_ins) == (1, 3, 2, 2)


def test_crlf_files_get_crlf_lines(tmp_path):
    old = SAMPLE.read_text().replace("\n", "\r\n")
    new = edit_text(old, "checkout-mttr", None, check_in(), "f.yaml").text
    assert "        - date: 2026-11-30\r\n          value: 41\r\n" in new
    assert new.replace("        - date: 2026-11-30\r\n          value: 41\r\n", "") == old


@pytest.mark.parametrize(
    ("name", "namespace", "message"),
    [
        ("sli-coverage", None, "KeyResult sli-coverage (f.yaml line 48) is measured by source.prometheus, not by"),
        (
            "checkout-budget-discipline",
            None,
            "KeyResult checkout-budget-discipline (f.yaml line 31) is measured by source.slo",
        ),
        ("no-such-kr", None, "KeyResult no-such-kr not found in f.yaml"),
        ("checkout-mttr", "other", "KeyResult checkout-mttr in namespace other not found in f.yaml"),
    ],
)
def test_key_results_that_take_no_check_in_are_refused(name, namespace, message):
    text = SAMPLE.read_text()
    if namespace:
        text = text.replace("  name: checkout-mttr\n", "  name: checkout-mttr\n  namespace: team-checkout\n")
    with pytest.raises(CheckInError) as info:
        edit_text(text, name, namespace, check_in(), "f.yaml")
    assert str(info.value).startswith(message)


def test_an_ambiguous_name_asks_for_the_namespace():
    with pytest.raises(CheckInError, match=r"^KeyResult nps is in f.yaml 2 times \(namespaces: team-a, team-b\); "):
        edit_text(LAYOUTS, "nps", None, check_in(), "f.yaml")


def test_the_edited_object_is_validated_with_the_api_models():
    boolean = LAYOUTS.replace("    baseline: 10\n    target: 40\n", "    direction: boolean\n", 1)
    with pytest.raises(CheckInError) as info:  # 500 check-ins at most
        edit_text(boolean.replace("    unit: points\n", "    unit: points\n    weight: -1\n"), "nps", "team-a",
                  check_in(), "f.yaml")  # fmt: skip
    assert "the edited KeyResult would not be valid: f.yaml:1: KeyResult/nps: spec.weight:" in str(info.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["checkout-mttr", "forty"], "error: VALUE 'forty' is not a number"),
        (["checkout-mttr", "41", "--confidence", "2"], "error: --confidence '2' is outside 0..1"),
        (["checkout-mttr", "41", "--date", "2026-02-30"], "error: --date '2026-02-30' is not a date"),
        (["sli-coverage", "99"], "error: KeyResult sli-coverage ("),
        (["nope", "1"], "error: KeyResult nope not found in "),
    ],
)
def test_the_cli_exits_1_with_one_line_and_leaves_the_file_alone(sample, args, message):
    before = sample.read_bytes()
    result = CliRunner().invoke(cli, ["checkin", *args, "-f", str(sample)])
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    assert sample.read_bytes() == before
    assert sorted(p.name for p in sample.parent.iterdir()) == ["keyresults.yaml"]  # no temporary file left


def test_the_cli_needs_exactly_one_of_file_and_live(sample):
    for args in ([], ["-f", str(sample), "--live"]):
        result = CliRunner().invoke(cli, ["checkin", "checkout-mttr", "41", *args])
        assert result.exit_code == 1 and result.stderr.startswith("error: give -f FILE"), result.stderr


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(sample, monkeypatch):
    before = sample.read_bytes()

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    result = CliRunner().invoke(cli, ["checkin", "checkout-mttr", "41", "-f", str(sample)])
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot write {sample}: No space left on device\n"
    assert sample.read_bytes() == before
    assert sorted(p.name for p in sample.parent.iterdir()) == ["keyresults.yaml"]


def test_write_atomically_keeps_the_mode_and_a_symlink(tmp_path):
    target = tmp_path / "real.yaml"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    write_atomically(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o640


def test_json_output_for_programs(sample):
    result = run("checkout-mttr", "41", "--date", "2026-11-30", "-f", str(sample), "-o", "json")
    assert result.exit_code == 0
    import json

    assert json.loads(result.stdout) == {
        "keyResult": "checkout-mttr",
        "namespace": None,
        "file": str(sample),
        "line": 30,
        "checkIn": {"date": "2026-11-30", "value": 41},
        "checkIns": 4,
    }


# ---------------------------------------------------------------------------------------------- --live (pure parts)


def live_body(**meta):
    body = yaml.safe_load(SAMPLE.read_text().split("---")[0])
    body["metadata"].update({"namespace": "shop", "resourceVersion": "812", **meta})
    body["status"] = {"progress": 0.6667}
    return body


def test_the_live_patch_tests_the_resource_version_and_appends():
    entry = check_in(confidence="0.8")
    assert checked(live_body(), entry) == 4
    assert append_patch(live_body(), entry) == [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "812"},
        {
            "op": "add",
            "path": "/spec/source/manual/checkIns/-",
            "value": {"date": "2026-11-30", "value": 41, "confidence": 0.8},
        },
    ]


def test_a_live_key_result_of_another_source_is_refused():
    body = yaml.safe_load(SAMPLE.read_text().split("---")[2])
    body["metadata"]["namespace"] = "shop"
    with pytest.raises(CheckInError, match=r"^KeyResult shop/sli-coverage is measured by source\.prometheus"):
        checked(body, check_in())


def test_argocd_tracking_is_recognised():
    assert argocd_tracking(live_body()) is None
    assert argocd_tracking(live_body(labels={"app.kubernetes.io/instance": "okrs"})) == (
        "label app.kubernetes.io/instance=okrs"
    )
    tracked = live_body(annotations={"argocd.argoproj.io/tracking-id": "okrs:okr.dev/KeyResult:shop/checkout-mttr"})
    assert (
        argocd_tracking(tracked)
        == "annotation argocd.argoproj.io/tracking-id=okrs:okr.dev/KeyResult:shop/checkout-mttr"
    )
