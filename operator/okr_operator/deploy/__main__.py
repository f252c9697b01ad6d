"""``python -m okr_operator.deploy``: render/check the Argo CD artefacts, and Argo CD's verdict locally."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .argocd import ARGOCD_NAMESPACE, PATCH_FILE, default_config_dir, render_argocd_cm, stale_health_lua
from .health import health_of

_PROG = "python -m okr_operator.deploy"


def _argocd_cm(args: argparse.Namespace) -> int:
    argocd_dir = Path(args.config) / "argocd"
    text = render_argocd_cm(argocd_dir, args.namespace)
    target = argocd_dir / PATCH_FILE
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is stale: run {_PROG} argocd-cm --write", file=sys.stderr)
            return 1
        return 0
    if args.write:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
        return 0
    sys.stdout.write(text)
    return 0


def _health_lua(args: argparse.Namespace) -> int:
    stale = stale_health_lua(Path(args.config) / "argocd", write=args.write)
    for path in stale:
        print(f"wrote {path}" if args.write else f"{path} is stale: run {_PROG} health-lua --write", file=sys.stderr)
    return int(bool(stale) and not args.write)


def _health(args: argparse.Namespace) -> int:
    import yaml

    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    docs = [d for d in yaml.safe_load_all(text) if d]
    items = [i for d in docs for i in (d.get("items") if d.get("kind", "").endswith("List") else [d])]
    worst = 0
    for obj in items:
        verdict = health_of(obj, Path(args.config) / "argocd")
        print(f"{obj['kind']}/{obj['metadata']['name']}: {verdict['status']}: {verdict['message']}")
        worst = max(worst, int(verdict["status"] != "Healthy"))
    return worst


def _config_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default=str(default_config_dir()), help="the config/ directory (default: %(default)s)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=_PROG, description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lua = sub.add_parser("health-lua", help="render config/argocd/okr.dev/<Kind>/health.lua from config/argocd/lua/")
    _config_flag(lua)
    lua.add_argument("--write", action="store_true", help="rewrite the stale files (default: exit 1 if any)")
    lua.set_defaults(func=_health_lua)
    cm = sub.add_parser("argocd-cm", help="the argocd-cm snippet with the Lua health checks")
    _config_flag(cm)
    cm.add_argument("--namespace", default=ARGOCD_NAMESPACE, help="Argo CD's namespace (default: %(default)s)")
    mode = cm.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write config/argocd/{PATCH_FILE}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 when config/argocd/{PATCH_FILE} is stale")
    cm.set_defaults(func=_argocd_cm)
    health = sub.add_parser("health", help="Argo CD's verdict on objects (kubectl get ... -o yaml | ... health -)")
    health.add_argument("file", help="YAML with objects or a List, - for stdin")
    _config_flag(health)
    health.set_defaults(func=_health)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
