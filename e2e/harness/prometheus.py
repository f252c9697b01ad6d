"""LocalPrometheus: a real Prometheus 3.x with a temp config, rule files, backfill and stop/start.

    with LocalPrometheus(evaluation_interval="1s") as prom:
        prom.add_target(exporter.target)
        prom.load_rules(prometheus_rule_object)      # a PrometheusRule dict, or its spec.groups
        prom.query("sum(rate(http_requests_total[1m]))")

Backfill: ``backfill(openmetrics_text)`` (or ``backfill_file(path)`` for large histories) runs
``promtool tsdb create-blocks-from openmetrics`` into a directory beside the data directory. A running
Prometheus only notices new blocks at its next block reload (after a head compaction, roughly once a
minute), so the blocks are moved in while Prometheus is stopped for a moment and it is started again
(the data directory is kept); the data is queryable as soon as the call returns.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
import yaml

from e2e.harness.procs import ManagedProcess, free_port, wait_until
from e2e.tools import build


class PrometheusError(RuntimeError):
    """Prometheus or promtool refused something; the message holds its answer."""


def _ts(at: float | datetime | None) -> str | None:
    if at is None:
        return None
    if isinstance(at, datetime):
        return f"{at.timestamp():.3f}"
    return f"{float(at):.3f}"


class LocalPrometheus:
    """A Prometheus server on a free loopback port, storing in a temp dir that survives stop()/start().

    Args:
        scrape_interval / evaluation_interval: Prometheus durations (``"1s"``... ``"5s"``).
        targets: ``host:port`` strings scraped as job ``synthetic`` (more via ``add_target``).
        retention: ``--storage.tsdb.retention.time``; long, so weeks of backfilled history stay.
        workdir / keep_dir: as for LocalCluster.
    """

    def __init__(
        self,
        *,
        scrape_interval: str = "1s",
        evaluation_interval: str = "1s",
        targets: Sequence[str] = (),
        retention: str = "400d",
        extra_args: Sequence[str] = (),
        workdir: Path | None = None,
        keep_dir: bool = False,
        log: Any = None,
    ) -> None:
        self._own_dir = workdir is None
        self.dir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="okr-prometheus-"))
        self.keep_dir = keep_dir or not self._own_dir
        self.data_dir = self.dir / "data"
        self.rules_dir = self.dir / "rules"
        self.config_file = self.dir / "prometheus.yml"
        self.log_dir = self.dir / "logs"
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval
        self.retention = retention
        self.extra_args = list(extra_args)
        self.jobs: dict[str, list[str]] = {}
        self.rule_globs: list[str] = []  # more rule_files patterns, e.g. projected prometheus-operator ConfigMaps
        for target in targets:
            self.add_target(target, reload=False)
        self.port = free_port()
        self.proc: ManagedProcess | None = None
        self._say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.started_in: float | None = None
        self._http = requests.Session()

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LocalPrometheus:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self, timeout: float = 60.0) -> LocalPrometheus:
        """Start (or restart after ``stop()``) on the same port and data directory; wait for /-/ready."""
        if self.proc is not None and self.proc.running():
            return self
        binary = build.ensure(["prometheus", "promtool"], log=self._say)["prometheus"]
        started = time.monotonic()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.rules_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self.proc = ManagedProcess(
            "prometheus",
            [
                binary,
                f"--config.file={self.config_file}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--storage.tsdb.retention.time={self.retention}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                "--web.enable-admin-api",
                "--log.level=warn",
                *self.extra_args,
            ],
            self.log_dir / "prometheus.log",
        ).start()
        proc = self.proc

        def ready() -> bool:
            proc.check_alive()
            return self._http.get(f"{self.url}/-/ready", timeout=1).status_code == 200

        wait_until(ready, timeout, "prometheus /-/ready", interval=0.1)
        self.started_in = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Stop the server; data, config and rules stay for the next ``start()``."""
        if self.proc is not None:
            self.proc.stop()

    def close(self) -> None:
        """Stop and remove the working directory (unless kept)."""
        self.stop()
        self._http.close()
        if self._own_dir and not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def running(self) -> bool:
        return self.proc is not None and self.proc.running()

    def save_logs(self, dest: Path) -> Path:
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        for log in self.log_dir.glob("*.log"):
            shutil.copy2(log, dest / log.name)
        return dest

    def reload(self, timeout: float = 30.0) -> None:
        """Re-read config and rule files (``POST /-/reload``)."""
        resp = self._http.post(f"{self.url}/-/reload", timeout=timeout)
        if resp.status_code != 200:
            raise PrometheusError(f"reload failed ({resp.status_code}): {resp.text}")

    # ---------------------------------------------------------------- scrape targets

    def add_target(self, target: str, job: str = "synthetic", reload: bool = True) -> None:
        """Scrape ``host:port`` in ``job``; reloads a running server."""
        self.jobs.setdefault(job, [])
        if target not in self.jobs[job]:
            self.jobs[job].append(target)
        if reload and self.running():
            self._write_config()
            self.reload()

    def remove_target(self, target: str, job: str = "synthetic", reload: bool = True) -> None:
        """Stop scraping ``host:port``."""
        if target in self.jobs.get(job, []):
            self.jobs[job].remove(target)
            if not self.jobs[job]:
                del self.jobs[job]
        if reload and self.running():
            self._write_config()
            self.reload()

    def _write_config(self) -> None:
        config = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "scrape_timeout": self.scrape_interval,
                "evaluation_interval": self.evaluation_interval,
            },
            "rule_files": [str(self.rules_dir / "*.yml"), *self.rule_globs],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": targets}]} for job, targets in self.jobs.items()
            ],
        }
        tmp = self.config_file.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(config, sort_keys=False))
        tmp.replace(self.config_file)

    # ---------------------------------------------------------------- rules

    def load_rules(self, rules: dict | list, name: str = "rules", wait: float = 30.0) -> Path:
        """Load rule groups as ``rules/<name>.yml`` and reload; returns the file.

        ``rules`` is a PrometheusRule object (``spec.groups`` is used: this stands in for
        prometheus-operator), a ``{"groups": [...]}`` rule file, or a list of groups. The file is
        checked with ``promtool check rules`` first, so a bad rule raises with promtool's message.
        Waits until Prometheus lists every group.
        """
        if isinstance(rules, dict):
            groups = rules["spec"]["groups"] if "spec" in rules else rules["groups"]
        else:
            groups = list(rules)
        path = self.rules_dir / f"{name}.yml"
        self.rules_dir.mkdir(parents=True, exist_ok=True)
        staging = self.dir / f".{name}.yml.check"
        staging.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        promtool = build.ensure(["promtool"], log=self._say)["promtool"]
        check = subprocess.run(
            [str(promtool), "check", "rules", str(staging)], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            staging.unlink(missing_ok=True)
            raise PrometheusError(f"promtool check rules refused {name}:\n{check.stdout}{check.stderr}")
        staging.replace(path)
        if self.running():
            self.reload(timeout=max(30.0, wait))  # reading a large rule file is part of the reload's answer
            wanted = {g["name"] for g in groups}
            wait_until(lambda: wanted <= set(self.rule_groups()), wait, f"rule groups {sorted(wanted)} loaded")
        return path

    def set_rule_globs(self, globs: Sequence[str], reload: bool = True) -> None:
        """Load these rule-file patterns besides ``rules/*.yml`` (a glob only in the last path segment, as in
        prometheus-operator's own config: one ``<dir>/*.yaml`` per rulefiles ConfigMap); reloads a running server."""
        self.rule_globs = list(globs)
        self._write_config()
        if reload and self.running():
            self.reload()

    def remove_rules(self, name: str = "rules", timeout: float = 120.0) -> None:
        """Remove ``rules/<name>.yml`` and reload (unloading a large rule file takes a while to answer)."""
        (self.rules_dir / f"{name}.yml").unlink(missing_ok=True)
        if self.running():
            self.reload(timeout=timeout)

    def rule_groups(self) -> dict[str, list[dict]]:
        """Loaded rule groups: name -> rules (with health, lastEvaluation...)."""
        data = self._api("rules")
        return {g["name"]: g["rules"] for g in data["groups"]}

    # ---------------------------------------------------------------- queries

    def _api(self, path: str, params: dict[str, Any] | None = None) -> Any:
        resp = self._http.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        try:
            body = resp.json()
        except ValueError:
            raise PrometheusError(f"{path}: HTTP {resp.status_code}: {resp.text[:500]}") from None
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | datetime | None = None) -> list[dict[str, Any]]:
        """Instant query. Returns ``[{"metric": {...}, "value": float}, ...]`` (a scalar gives one entry)."""
        params = {"query": expr}
        if at is not None:
            params["time"] = _ts(at)
        data = self._api("query", params)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": float(data["result"][1])}]
        return [{"metric": r["metric"], "value": float(r["value"][1])} for r in data["result"]]

    def query_value(self, expr: str, at: float | datetime | None = None) -> float | None:
        """The single value of an instant query; None when empty. Raises if there are several series."""
        result = self.query(expr, at)
        if not result:
            return None
        if len(result) > 1:
            raise PrometheusError(f"{expr!r} returned {len(result)} series, expected one: {result}")
        return result[0]["value"]

    def query_range(
        self, expr: str, start: float | datetime, end: float | datetime, step: float = 60.0
    ) -> list[dict[str, Any]]:
        """Range query. Returns ``[{"metric": {...}, "values": [(ts, float), ...]}, ...]``."""
        data = self._api("query_range", {"query": expr, "start": _ts(start), "end": _ts(end), "step": step})
        return [
            {"metric": r["metric"], "values": [(float(t), float(v)) for t, v in r["values"]]} for r in data["result"]
        ]

    def wait_for(
        self, expr: str, predicate: Any = bool, timeout: float = 30.0, at: float | datetime | None = None
    ) -> float:
        """Poll ``query_value(expr)`` until ``predicate(value)`` holds; returns the value."""
        box: dict[str, float] = {}

        def check() -> bool:
            value = self.query_value(expr, at)
            if value is None:
                return False
            box["v"] = value
            return bool(predicate(value))

        wait_until(check, timeout, f"{expr!r} to satisfy the predicate (last: {box.get('v')})", interval=0.25)
        return box["v"]

    # ---------------------------------------------------------------- backfill

    def backfill(self, openmetrics_text: str, max_block_duration: str = "24h") -> Path:
        """Write OpenMetrics history into the TSDB as blocks (``promtool tsdb create-blocks-from``).

        A running server is restarted, so the new blocks are loaded when this returns. Returns the
        OpenMetrics file kept in the working directory.
        """
        if not openmetrics_text.rstrip().endswith("# EOF"):
            raise ValueError("OpenMetrics text must end with '# EOF'")
        source = self.dir / f"backfill-{int(time.time() * 1000)}.om"
        source.write_text(openmetrics_text if openmetrics_text.endswith("\n") else openmetrics_text + "\n")
        self.backfill_file(source, max_block_duration)
        return source

    def backfill_file(self, source: Path, max_block_duration: str = "24h") -> int:
        """Backfill an OpenMetrics file (large histories are written to a file, not held as text).

        The blocks are built beside the data directory while a running server keeps answering, then moved
        in while it is stopped for a moment (it only loads new blocks at start). Returns the number of blocks.
        """
        promtool = build.ensure(["promtool"], log=self._say)["promtool"]
        staging = self.dir / f"blocks-{int(time.time() * 1000)}"
        staging.mkdir(parents=True)
        try:
            proc = subprocess.run(
                [
                    str(promtool),
                    "tsdb",
                    "create-blocks-from",
                    "openmetrics",
                    f"--max-block-duration={max_block_duration}",
                    str(source),
                    str(staging),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
                raise PrometheusError(f"promtool tsdb create-blocks-from openmetrics failed ({source.name}):\n{tail}")
            blocks = [b for b in staging.iterdir() if b.is_dir() and (b / "meta.json").exists()]
            was_running = self.running()
            if was_running:
                self.stop()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            for block in blocks:
                shutil.move(str(block), self.data_dir / block.name)
            if was_running:
                self.start()
            return len(blocks)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
