"""Operator settings: every one is an environment variable (``OKR_*``) and a flag of ``okr-operator run``.

Flags win over the environment; the environment wins over the defaults. The Helm chart and the
kustomize Deployment set the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any

from ..api.common import parse_duration
from ..prometheus.config import PrometheusSettings

ENV_PREFIX = "OKR_"


@dataclass(frozen=True)
class Settings:
    """Everything the operator can be told."""

    prometheus: PrometheusSettings = field(default_factory=PrometheusSettings)
    interval: str = "30s"  # evaluation interval
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    rule_labels: dict[str, str] = field(default_factory=dict)  # for the Prometheus ruleSelector
    gate_prometheus_address: str | None = None  # Prometheus URL Argo Rollouts uses; default: prometheus.url
    sli_source: str = "raw"  # raw: query the indicator expressions; recorded: query our recording rules
    metrics_port: int = 8080
    web: bool = True  # serve the read-only web view (objectives, key results, error budgets)
    web_port: int = 8081
    peering_name: str = "okr-operator"
    priority: int = 0  # kopf peering priority; replicas need distinct priorities (the chart derives them)
    standalone: bool = False  # no peering (a single replica)
    leader_lease: str = "okr-operator-evaluation"  # Lease guarding the evaluation loop
    lease_namespace: str = "okr-system"

    @property
    def interval_seconds(self) -> int:
        return parse_duration(self.interval)

    @property
    def gate_address(self) -> str:
        return self.gate_prometheus_address or self.prometheus.url


def _parse_labels(text: str) -> dict[str, str]:
    labels = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"label {item!r}: use KEY=VALUE[,KEY=VALUE...]")
        labels[key.strip()] = value.strip()
    return labels


def _convert(kind: Any, raw: str) -> Any:
    if kind in (bool, "bool"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    if "tuple" in str(kind):
        return tuple(filter(None, (p.strip() for p in raw.split(","))))
    if "dict" in str(kind):
        return _parse_labels(raw)
    return raw


def from_env(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from ``OKR_*`` variables (``OKR_PROMETHEUS_URL``, ``OKR_INTERVAL``, ...) and overrides.

    ``overrides`` use the field names; ``prometheus_*`` names set the Prometheus fields.
    Unset overrides (None) are ignored.
    """
    env = dict(os.environ if env is None else env)
    prom_values: dict[str, Any] = {}
    for f in fields(PrometheusSettings):
        raw = env.get(f"{ENV_PREFIX}PROMETHEUS_{f.name.upper()}")
        if raw is not None:
            prom_values[f.name] = _convert(f.type, raw)
        if overrides.get(f"prometheus_{f.name}") is not None:
            prom_values[f.name] = overrides.pop(f"prometheus_{f.name}")
        overrides.pop(f"prometheus_{f.name}", None)
    values: dict[str, Any] = {"prometheus": PrometheusSettings(**prom_values)}
    for f in fields(Settings):
        if f.name == "prometheus":
            continue
        raw = env.get(f"{ENV_PREFIX}{f.name.upper()}")
        if raw is not None:
            values[f.name] = _convert(f.type, raw)
        if overrides.get(f.name) is not None:
            values[f.name] = overrides[f.name]
    settings = Settings(**values)
    parse_duration(settings.interval)  # fail early with a clear message
    if settings.sli_source not in ("raw", "recorded"):
        raise ValueError(f"sli_source {settings.sli_source!r}: use raw or recorded")
    return settings
