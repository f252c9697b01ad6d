"""Argo CD health checks (config/argocd/okr.dev/<Kind>/health.lua) run with real Lua 5.1 through lupa.

The unit tier's check, without built binaries: every case of every ``health_test.yaml`` runs from the
shipped argocd-cm patch with the libraries Argo CD gives it (the standard ones only where the patch sets
``useOpenLibs``), the object as the global ``obj``, the returned ``status`` and ``message`` compared
exactly. The same cases through Argo CD's own code (its admin CLI) are in e2e/test_argocd.py. The
health.lua files and the patch must be the generated ones.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from okr_operator.api import KINDS, PaceState, SLOState
from okr_operator.deploy.__main__ import main
from okr_operator.deploy.argocd import (
    HEALTH_KEY_PREFIX,
    HEALTH_PARTS,
    LUA_PARTS_DIR,
    PATCH_FILE,
    health_checks,
    render_argocd_cm,
    render_health_lua,
    stale_health_lua,
)
from okr_operator.deploy.health import checks_from_cm, health_of, run_health_lua

lua51 = pytest.importorskip("lupa.lua51", reason="lupa with Lua 5.1 is a dev dependency")

REPO = Path(__file__).resolve().parent.parent
ARGOCD = REPO / "config" / "argocd"
KIND_DIRS = sorted((ARGOCD / "okr.dev").iterdir())
ARGOCD_HEALTH = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}


def _cases() -> list[Any]:
    params = []
    for kind_dir in KIND_DIRS:
        tests = yaml.safe_load((kind_dir / "health_test.yaml").read_text())["tests"]
        for case in tests:
            params.append(pytest.param(kind_dir, case, id=f"{kind_dir.name}/{Path(case['inputPath']).stem}"))
    return params


def test_runtime_is_lua_51():
    assert lua51.LuaRuntime().eval("_VERSION") == "Lua 5.1"


@pytest.mark.parametrize(("kind_dir", "case"), _cases())
def test_health_case(kind_dir: Path, case: dict[str, Any]) -> None:
    obj = yaml.safe_load((kind_dir / case["inputPath"]).read_text())
    assert obj["kind"] == kind_dir.name
    got = health_of(obj, ARGOCD)  # the check and its useOpenLibs flag from the shipped argocd-cm
    assert got == {"status": case["healthStatus"]["status"], "message": case["healthStatus"]["message"]}


def _fixtures(kind_dir: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    tests = yaml.safe_load((kind_dir / "health_test.yaml").read_text())["tests"]
    return [(yaml.safe_load((kind_dir / t["inputPath"]).read_text()), t["healthStatus"]) for t in tests]


@pytest.mark.parametrize("kind_dir", KIND_DIRS, ids=lambda p: p.name)
def test_every_state_and_branch_has_a_fixture(kind_dir: Path) -> None:
    """A fixture per state of the kind, per Argo CD status, and per branch of the Lua."""
    cases = _fixtures(kind_dir)
    states = {(obj.get("status") or {}).get("state") for obj, _ in cases}
    measured = kind_dir.name != "MaintenanceWindow"  # a window has no state, metrics or rules of its own
    if measured:
        enum = SLOState if kind_dir.name == "ServiceLevelObjective" else PaceState
        assert {s.value for s in enum} <= states
    assert {h["status"] for _, h in cases} == {"Healthy", "Progressing", "Degraded"}
    assert {h["status"] for _, h in cases} <= ARGOCD_HEALTH
    messages = [h["message"] for _, h in cases]
    branches = ["waiting for the operator to evaluate", "waiting for the operator to observe generation"]
    if measured:
        branches += ["waiting for metrics: ", "metrics unavailable, showing the last values"]
    for branch in branches:
        assert any(m.startswith(branch) or branch in m for m in messages), branch
    assert any(obj.get("status") == {} for obj, _ in cases), "an empty status"
    assert any("status" not in obj for obj, _ in cases), "no status at all"
    if kind_dir.name not in ("Objective", "MaintenanceWindow"):
        assert any(m.startswith("rules not synced: ") for m in messages)
    # Each input file is used exactly once.
    files = sorted(p.name for p in (kind_dir / "testdata").glob("*.yaml"))
    used = sorted(
        Path(t["inputPath"]).name for t in yaml.safe_load((kind_dir / "health_test.yaml").read_text())["tests"]
    )
    assert files == used


def _keys(tree: Any, prefix: str = "") -> set[str]:
    if isinstance(tree, dict):
        out = set()
        for key, value in tree.items():
            out |= {f"{prefix}.{key}"} | _keys(value, f"{prefix}.{key}")
        return out
    if isinstance(tree, list):
        return set().union(*(_keys(v, f"{prefix}[]") for v in tree)) if tree else set()
    return set()


@pytest.mark.parametrize("kind_dir", KIND_DIRS, ids=lambda p: p.name)
def test_fixtures_match_the_api(kind_dir: Path) -> None:
    """Fixtures load with the API models and use no status field the models do not know (no typos)."""
    model = KINDS[kind_dir.name].model
    for obj, _ in _fixtures(kind_dir):
        parsed = model.model_validate(obj)
        if obj.get("status"):
            assert parsed.status is not None
            assert _keys(obj["status"]) == _keys(
                parsed.status.model_dump(by_alias=True, exclude_none=True, mode="json")
            )


def test_health_checks_cover_our_kinds() -> None:
    assert sorted(d.name for d in KIND_DIRS) == sorted(KINDS)
    assert list(health_checks(ARGOCD)) == sorted(f"okr.dev_{kind}" for kind in KINDS)


def test_argocd_cm_patch_is_generated() -> None:
    committed = (ARGOCD / PATCH_FILE).read_text()
    assert committed == render_argocd_cm(ARGOCD), "stale: run python -m okr_operator.deploy argocd-cm --write"
    cm = yaml.safe_load(committed)
    assert (cm["kind"], cm["metadata"]["name"]) == ("ConfigMap", "argocd-cm")
    for kind_dir in KIND_DIRS:
        assert cm["data"][f"{HEALTH_KEY_PREFIX}okr.dev_{kind_dir.name}"] == (kind_dir / "health.lua").read_text()


def test_health_lua_is_rendered_from_the_shared_parts() -> None:
    """Each health.lua is its rendering from config/argocd/lua/ (`make argocd-cm` rewrites them)."""
    assert sorted(HEALTH_PARTS) == sorted(KINDS)
    for kind in KINDS:
        committed = (ARGOCD / "okr.dev" / kind / "health.lua").read_text()
        assert committed == render_health_lua(ARGOCD, kind), "stale: run make argocd-cm"
    assert stale_health_lua(ARGOCD) == []
    parts = {p.stem for p in (ARGOCD / LUA_PARTS_DIR).glob("*.lua")}
    assert parts == {part for used in HEALTH_PARTS.values() for part in used}, "a part no kind uses"


def test_health_lua_check_detects_an_edited_part(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ARGOCD, config / "argocd")
    assert main(["health-lua", "--config", str(config)]) == 0
    common = config / "argocd" / LUA_PARTS_DIR / "common.lua"
    common.write_text(common.read_text() + "-- changed\n")
    assert main(["health-lua", "--config", str(config)]) == 1
    assert main(["health-lua", "--config", str(config), "--write"]) == 0
    assert main(["health-lua", "--config", str(config)]) == 0
    for kind in KINDS:  # every kind includes the common part
        assert (
            (config / "argocd" / "okr.dev" / kind / "health.lua")
            .read_text()
            .endswith((config / "argocd" / LUA_PARTS_DIR / f"{kind}.lua").read_text())
        )
    assert main(["argocd-cm", "--config", str(config), "--check"]) == 1, "the patch follows the health.lua files"


def test_generated_snippet_runs_like_the_files() -> None:
    """The Lua as Argo CD reads it back from argocd-cm gives the same verdicts."""
    cm = yaml.safe_load((ARGOCD / PATCH_FILE).read_text())
    for kind_dir in KIND_DIRS:
        source = cm["data"][f"{HEALTH_KEY_PREFIX}okr.dev_{kind_dir.name}"]
        for obj, health in _fixtures(kind_dir):
            assert run_health_lua(source, obj) == {"status": health["status"], "message": health["message"]}


def test_the_patch_opens_the_libraries_the_checks_need() -> None:
    """Without useOpenLibs Argo CD gives a check from argocd-cm no string library; ours need it."""
    cm = yaml.safe_load((ARGOCD / PATCH_FILE).read_text())
    checks = checks_from_cm(cm["data"])
    assert sorted(checks) == sorted(f"okr.dev_{kind}" for kind in KINDS)
    assert all(open_libs for _, open_libs in checks.values())
    assert cm["data"]["resource.customizations.useOpenLibs.okr.dev_ServiceLevelObjective"] == "true"
    kind_dir = ARGOCD / "okr.dev" / "ServiceLevelObjective"
    healthy = yaml.safe_load((kind_dir / "testdata" / "healthy.yaml").read_text())
    lua = (kind_dir / "health.lua").read_text()
    with pytest.raises(lua51.LuaError, match="attempt to index global 'string'"):
        run_health_lua(lua, healthy, open_libs=False)
    no_status = yaml.safe_load((kind_dir / "testdata" / "no-status.yaml").read_text())
    assert run_health_lua(lua, no_status, open_libs=False)["status"] == "Progressing"  # base library only


def test_a_wrong_expectation_fails() -> None:
    """The runner really compares: a Healthy object is not reported Degraded."""
    kind_dir = ARGOCD / "okr.dev" / "ServiceLevelObjective"
    obj = yaml.safe_load((kind_dir / "testdata" / "healthy.yaml").read_text())
    got = run_health_lua((kind_dir / "health.lua").read_text(), obj)
    assert got["status"] == "Healthy"
    obj["status"]["state"] = "Exhausted"
    assert run_health_lua((kind_dir / "health.lua").read_text(), obj)["status"] == "Degraded"


def test_cli_check_detects_a_stale_patch(tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "argocd").mkdir(parents=True)
    for lua in ARGOCD.glob("*/*/health.lua"):
        dest = config / "argocd" / lua.relative_to(ARGOCD)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(lua.read_text())
    assert main(["argocd-cm", "--config", str(config), "--check"]) == 1
    assert main(["argocd-cm", "--config", str(config), "--write"]) == 0
    assert main(["argocd-cm", "--config", str(config), "--check"]) == 0
    lua = config / "argocd" / "okr.dev" / "Objective" / "health.lua"
    lua.write_text(lua.read_text() + "-- changed\n")
    assert main(["argocd-cm", "--config", str(config), "--check"]) == 1


def test_health_cli_on_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kind_dir = ARGOCD / "okr.dev" / "ServiceLevelObjective"
    items = [yaml.safe_load((kind_dir / "testdata" / f"{name}.yaml").read_text()) for name in ("healthy", "exhausted")]
    path = tmp_path / "list.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}))
    assert main(["health", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "ServiceLevelObjective/checkout-availability: Healthy: Healthy, SLI 99.971%, error budget remaining 0.71",
        "ServiceLevelObjective/checkout-availability: Degraded: error budget exhausted: remaining -0.20; "
        "alerts firing: ErrorBudgetBurnPage",
    ]
    assert health_of(items[0], ARGOCD)["status"] == "Healthy"
