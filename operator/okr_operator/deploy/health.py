"""Argo CD's verdict on our objects without Argo CD: the shipped ``health.lua`` run locally with Lua 5.1.

A quick look (``kubectl get slo -A -o yaml | python -m okr_operator.deploy health -``) and the unit
tier's check of every ``health_test.yaml`` case; Argo CD's own code path is tested with its admin CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_health_lua(lua_source: str, obj: dict[str, Any]) -> dict[str, str]:
    """Run an Argo CD ``health.lua`` on ``obj`` the way Argo CD does; returns ``{status, message}``.

    Lua 5.1 (Argo CD's gopher-lua implements 5.1) through lupa, a development dependency; the object is
    the global ``obj`` and only the base, string, table and math libraries are there.
    """
    try:
        from lupa import lua51
    except ImportError as exc:  # pragma: no cover - lupa is a dev dependency
        raise RuntimeError("running health checks needs lupa with Lua 5.1: pip install lupa") from exc
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.execute("io = nil; os = nil; debug = nil; dofile = nil; loadfile = nil; require = nil; package = nil")
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(lua_source)
    if result is None:
        raise ValueError("health.lua returned nothing (it must return a table with status and message)")
    return {"status": str(result["status"]), "message": str(result["message"] or "")}


def health_of(obj: dict[str, Any], argocd_dir: Path) -> dict[str, str]:
    """The Argo CD health of one of our objects, from ``<group>/<Kind>/health.lua`` under ``argocd_dir``."""
    group = str(obj.get("apiVersion", "")).split("/")[0]
    lua = argocd_dir / group / str(obj.get("kind")) / "health.lua"
    if not lua.is_file():
        raise FileNotFoundError(f"no health check for {group}/{obj.get('kind')} ({lua})")
    return run_health_lua(lua.read_text(encoding="utf-8"), obj)
