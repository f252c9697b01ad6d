"""Argo CD's own code on our manifests (Argo CD v3.6.1, built by e2e/tools).

* Every case of every ``config/argocd/okr.dev/<Kind>/health_test.yaml`` through
  ``argocd admin settings resource-overrides health`` with the shipped ``argocd-cm-patch.yaml``:
  Argo CD's Lua VM, its library rule and its argocd-cm parsing; status and message exactly.
* Without the ``useOpenLibs`` keys Argo CD fails exactly the cases that lupa (unit tier) says need the
  string library, so the unit tier's Lua environment is Argo CD's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.harness.argocd import admin_health, argocd_binary
from okr_operator.deploy.argocd import OPEN_LIBS_KEY_PREFIX, PATCH_FILE
from okr_operator.deploy.health import run_health_lua

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent
ARGOCD_DIR = REPO / "config" / "argocd"
PATCH = ARGOCD_DIR / PATCH_FILE


def _cases() -> list[Any]:
    params = []
    for kind_dir in sorted((ARGOCD_DIR / "okr.dev").iterdir()):
        for case in yaml.safe_load((kind_dir / "health_test.yaml").read_text())["tests"]:
            params.append(pytest.param(kind_dir, case, id=f"{kind_dir.name}/{Path(case['inputPath']).stem}"))
    return params


CASES = _cases()


@pytest.fixture(scope="module")
def argocd(request: pytest.FixtureRequest) -> Path:
    return argocd_binary(log=lambda msg: print(f"[testbed] {msg}", flush=True))


@pytest.mark.parametrize(("kind_dir", "case"), CASES)
def test_health_case_through_argocd(argocd: Path, kind_dir: Path, case: dict[str, Any], tmp_path: Path) -> None:
    obj = yaml.safe_load((kind_dir / case["inputPath"]).read_text())
    got = admin_health(obj, PATCH, tmp_path, argocd)
    assert got == {"status": case["healthStatus"]["status"], "message": case["healthStatus"]["message"]}


def test_without_open_libs_argocd_fails_where_lupa_does(argocd: Path, tmp_path: Path) -> None:
    """The shipped patch minus its useOpenLibs keys: Argo CD and the unit tier's Lua agree case by case."""
    cm = yaml.safe_load(PATCH.read_text())
    cm["data"] = {k: v for k, v in cm["data"].items() if not k.startswith(OPEN_LIBS_KEY_PREFIX)}
    closed = tmp_path / "argocd-cm-closed.yaml"
    closed.write_text(yaml.safe_dump(cm))
    argocd_unknown, lupa_failed = [], []
    for param in CASES:
        kind_dir, case = param.values
        obj = yaml.safe_load((kind_dir / case["inputPath"]).read_text())
        verdict = admin_health(obj, closed, tmp_path / "objs", argocd)
        if verdict["status"] == "Unknown":
            assert "attempt to index a non-table object(nil) with key 'format'" in verdict["message"], verdict
            argocd_unknown.append(param.id)
        else:
            expected = {"status": case["healthStatus"]["status"], "message": case["healthStatus"]["message"]}
            assert verdict == expected
        try:
            run_health_lua((kind_dir / "health.lua").read_text(), obj, open_libs=False)
        except Exception as exc:  # lupa.LuaError
            assert "attempt to index global 'string'" in str(exc)
            lupa_failed.append(param.id)
    assert argocd_unknown == lupa_failed
    assert argocd_unknown, "some case formats a number"
    print(f"\nwithout useOpenLibs: {len(argocd_unknown)} of {len(CASES)} cases Unknown in Argo CD")
