"""Stand-in for prometheus-operator: load every PrometheusRule in the cluster into a LocalPrometheus."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import Any

from e2e.harness.prometheus import LocalPrometheus, PrometheusError

log = logging.getLogger("e2e.rulesync")


class RuleSync:
    """Every ``period`` seconds, list PrometheusRules (all namespaces) and (re)load changed ones.

    One rule file per PrometheusRule (``<namespace>__<name>.yml``); deleted objects lose their file.
    ``api_client`` is a kubernetes ApiClient with read access to PrometheusRules.
    """

    def __init__(self, api_client: Any, prometheus: LocalPrometheus, period: float = 1.0) -> None:
        from kubernetes import client

        self.custom = client.CustomObjectsApi(api_client)
        self.prometheus = prometheus
        self.period = period
        self._loaded: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []

    def sync_once(self) -> int:
        """Load what changed; returns the number of files written or removed."""
        items = self.custom.list_cluster_custom_object("monitoring.coreos.com", "v1", "prometheusrules")["items"]
        wanted: dict[str, dict[str, Any]] = {}
        for item in items:
            meta = item["metadata"]
            wanted[f"{meta['namespace']}__{meta['name']}"] = item
        changes = 0
        for name, item in wanted.items():
            digest = hashlib.sha1(json.dumps(item["spec"], sort_keys=True).encode()).hexdigest()
            if self._loaded.get(name) == digest:
                continue
            try:
                self.prometheus.load_rules(item, name=name, wait=10)
                self._loaded[name] = digest
                changes += 1
            except (PrometheusError, TimeoutError) as exc:
                self.errors.append(f"{name}: {exc}")
                log.warning("rule file %s not loaded: %s", name, exc)
                self._loaded[name] = digest  # do not retry the same broken content every period
        for name in set(self._loaded) - set(wanted):
            self.prometheus.remove_rules(name)
            del self._loaded[name]
            changes += 1
        return changes

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.sync_once()
            except Exception as exc:  # keep syncing through API hiccups
                log.debug("rule sync failed: %s", exc)

    def start(self) -> RuleSync:
        self._thread = threading.Thread(target=self._run, name="rule-sync", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
