"""The tools the benchmarks compare and run: Sloth, Pyrra, Prometheus/promtool, and their versions.

Sloth is built from its Go module like every Testbed tool (``python -m e2e.tools.build sloth``).

Pyrra cannot come from the Go module proxy here (it answers 403 for ``github.com/pyrra-dev/pyrra``), so
the benchmark uses a binary cached under ``~/.cache/okr-operator/pyrra-<version>/bin/pyrra`` and
otherwise reports Pyrra as not built. To fill the cache, check out Pyrra's source at the pinned
release yourself (any copy of the repository at tag ``v0.10.1``) and run::

    python -m bench.tools build-pyrra /path/to/pyrra-checkout

which runs ``go build`` in that directory (dependencies through the module proxy, ``-mod=mod``). Nothing
of Pyrra's source is kept in this repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from e2e.tools import build

PYRRA_VERSION = "0.10.1"
PYRRA_MODULE = "github.com/pyrra-dev/pyrra"
SLOTH_VERSION = build.SLOTH_VERSION
PROMETHEUS_VERSION = build.PROMETHEUS_VERSION


def pyrra_binary() -> Path:
    """Where the Pyrra binary is cached (it may not exist)."""
    return build.cache_root() / f"pyrra-{PYRRA_VERSION}" / "bin" / "pyrra"


def pyrra_path() -> Path | None:
    """The cached Pyrra binary, or None when it has not been built on this machine."""
    path = pyrra_binary()
    return path if path.is_file() and os.access(path, os.X_OK) else None


PYRRA_MISSING = (
    "not built: the Go module proxy refuses github.com/pyrra-dev/pyrra (403); build it from a checkout of "
    f"v{PYRRA_VERSION} with `python -m bench.tools build-pyrra DIR` (docs/performance.md)"
)


def build_pyrra(source: Path, log: object = None) -> Path:
    """Build Pyrra's CLI from a source checkout the user fetched (at tag v0.10.1) into the cache.

    Pyrra's ``main.go`` embeds its web UI (``//go:embed ui/build``), which is built with npm; the
    ``generate`` command needs none of it, so an empty placeholder page is written when ``ui/build`` is
    missing. Returns the cached binary.
    """
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    source = Path(source).resolve()
    gomod = source / "go.mod"
    if not gomod.is_file() or f"module {PYRRA_MODULE}" not in gomod.read_text():
        raise ValueError(f"{source} is not a checkout of {PYRRA_MODULE} (no matching go.mod)")
    if shutil.which("go") is None:
        raise RuntimeError("`go` is not on PATH")
    ui = source / "ui" / "build"
    if not ui.is_dir() or not any(ui.iterdir()):
        ui.mkdir(parents=True, exist_ok=True)
        (ui / "index.html").write_text("<!-- Pyrra's UI is not built: `pyrra generate` needs none -->\n")
    target = pyrra_binary()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".pyrra.tmp-{os.getpid()}"
    env = dict(os.environ, GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="-mod=mod -buildvcs=false")
    cmd = ["go", "build", "-trimpath", "-ldflags", f"-s -w -X main.version=v{PYRRA_VERSION}", "-o", str(tmp), "."]
    say(f"building pyrra v{PYRRA_VERSION} in {source} ...")
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=source, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise RuntimeError(f"go build of pyrra failed (exit {proc.returncode}):\n{tail}")
    tmp.chmod(0o755)
    os.replace(tmp, target)
    say(f"pyrra v{PYRRA_VERSION}: built in {time.monotonic() - started:.0f} s -> {target}")
    return target


def sloth_path() -> Path:
    """Sloth, built from its Go module (cached like the Testbed tools)."""
    return build.tool_path("sloth")


def _first_line(argv: list[str]) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return "?"
    text = (proc.stdout + proc.stderr).strip()
    for line in text.splitlines():
        if "INFO" not in line:
            return line.strip()
    return text.splitlines()[0] if text else "?"


def versions() -> dict[str, str]:
    """Versions of everything a benchmark ran, as the binaries report them where they can."""
    out: dict[str, str] = {}
    prom = build.ensure(["prometheus"], log=lambda _m: None)["prometheus"]
    match = re.search(r"version (\S+)", _first_line([str(prom), "--version"]))
    out["prometheus"] = match.group(1) if match else PROMETHEUS_VERSION
    out["sloth"] = f"v{SLOTH_VERSION}"
    out["pyrra"] = f"v{PYRRA_VERSION}" if pyrra_path() else "not built"
    out["kube-apiserver"] = f"v{build.KUBERNETES_VERSION}"
    out["etcd"] = f"v{build.ETCD_VERSION}"
    out["python"] = sys.version.split()[0]
    go = shutil.which("go")
    out["go"] = _first_line([go, "version"]).replace("go version ", "") if go else "not installed"
    try:
        from importlib.metadata import version

        out["okr-operator"] = version("okr-operator")
        out["kopf"] = version("kopf")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        pass
    return out


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] == "build-pyrra":
        build_pyrra(Path(args[1]))
        return 0
    if args == ["status"]:
        print(f"sloth v{SLOTH_VERSION}: {build.TOOLS['sloth'].path if build.TOOLS['sloth'].cached else 'not built'}")
        print(f"pyrra v{PYRRA_VERSION}: {pyrra_path() or PYRRA_MISSING}")
        return 0
    print("usage: python -m bench.tools build-pyrra DIR | status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
