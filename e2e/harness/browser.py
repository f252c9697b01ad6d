"""Headless Chromium (Debian's ``chromium`` package) for page tests: the DOM after load, and a screenshot.

Each call starts a fresh browser with its own profile directory and no network chatter of its own.
.ci/run installs the package when it is missing (``apt-get install chromium``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(url: str, *extra: str, timeout: float) -> subprocess.CompletedProcess[str]:
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError("Chromium is not installed: apt-get install chromium (.ci/run does it)")
    with tempfile.TemporaryDirectory(prefix="okr-chromium-") as profile:
        argv = [binary, *FLAGS, f"--user-data-dir={profile}", *extra, url]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def dump_dom(url: str, timeout: float = 60.0) -> str:
    """The page's DOM as serialised HTML after load (``--dump-dom``)."""
    proc = _run(url, "--dump-dom", timeout=timeout)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"chromium --dump-dom {url} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def screenshot(url: str, path: Path, width: int = 1280, height: int = 1600, timeout: float = 60.0) -> Path:
    """A PNG of the page at ``width`` x ``height``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    proc = _run(url, f"--screenshot={path}", f"--window-size={width},{height}", "--hide-scrollbars", timeout=timeout)
    if not path.exists() or path.stat().st_size == 0:
        raise RuntimeError(f"chromium --screenshot {url} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return path
