"""Argo CD's verdict on our objects without Argo CD: the checks of the shipped argocd-cm run with Lua 5.1.

A quick look (``kubectl get slo -A -o yaml | python -m okr_operator.deploy health -``) and the unit
tier's check of every ``health_test.yaml`` case. The Lua environment follows Argo CD's rule for checks
from argocd-cm (``util/lua/lua.go``): the standard libraries only when ``useOpenLibs`` is true for the
kind, else the base and table libraries alone. Argo CD's own code path is tested with its admin CLI
(``e2e/test_argocd.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .argocd import HEALTH_KEY_PREFIX, OPEN_LIBS_KEY_PREFIX, PATCH_FILE

# What Argo CD leaves out of a check without useOpenLibs (gopher-lua's NewState with SkipOpenLibs, then
# only package, base and table are opened), and what it never has in lupa's Lua 5.1 either.
_CLOSED_LIBS = (
    "string = nil; math = nil; io = nil; os = nil; debug = nil; coroutine = nil; getmetatable('').__index = nil"
)
_NEVER = "io = nil; os = nil; debug = nil; dofile = nil; loadfile = nil; require = nil; package = nil"


def run_health_lua(lua_source: str, obj: dict[str, Any], open_libs: bool = True) -> dict[str, str]:
    """Run an Argo CD ``health.lua`` on ``obj`` the way Argo CD does; returns ``{status, message}``.

    Lua 5.1 (Argo CD's gopher-lua implements 5.1) through lupa, a development dependency; the object is
    the global ``obj``. With ``open_libs`` (argocd-cm's ``useOpenLibs``) the base, string, table and math
    libraries are there; without, only base and table, and a script that reaches for ``string`` fails as
    it does in Argo CD (which then reports ``Unknown`` with the Lua error).
    """
    try:
        from lupa import lua51
    except ImportError as exc:  # pragma: no cover - lupa is a dev dependency
        raise RuntimeError("running health checks needs lupa with Lua 5.1: pip install lupa") from exc
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.execute(_NEVER if open_libs else f"{_NEVER}; {_CLOSED_LIBS}")
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(lua_source)
    if result is None:
        raise ValueError("health.lua returned nothing (it must return a table with status and message)")
    return {"status": str(result["status"]), "message": str(result["message"] or "")}


def _parse_bool(value: str) -> bool:
    """Go's strconv.ParseBool, which Argo CD applies to ``useOpenLibs`` values."""
    if value in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if value in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise ValueError(f"not a boolean: {value!r} (Argo CD parses useOpenLibs with strconv.ParseBool)")


def checks_from_cm(data: dict[str, str]) -> dict[str, tuple[str, bool]]:
    """``<group>_<Kind>`` -> (Lua, useOpenLibs) of the health checks in an argocd-cm's ``data``."""
    checks: dict[str, tuple[str, bool]] = {}
    for key, lua in data.items():
        if key.startswith(HEALTH_KEY_PREFIX):
            kind = key.removeprefix(HEALTH_KEY_PREFIX)
            checks[kind] = (lua, _parse_bool(str(data.get(f"{OPEN_LIBS_KEY_PREFIX}{kind}", "false"))))
    return checks


def health_of(obj: dict[str, Any], argocd_dir: Path) -> dict[str, str]:
    """The Argo CD health of one of our objects under the argocd-cm patch in ``argocd_dir``."""
    import yaml

    cm = yaml.safe_load((argocd_dir / PATCH_FILE).read_text(encoding="utf-8"))
    key = f"{str(obj.get('apiVersion', '')).split('/')[0]}_{obj.get('kind')}"
    checks = checks_from_cm(cm.get("data") or {})
    if key not in checks:
        raise FileNotFoundError(f"no health check for {key} in {argocd_dir / PATCH_FILE}")
    lua, open_libs = checks[key]
    return run_health_lua(lua, obj, open_libs)
