"""Operator settings: every one is an environment variable (``OKR_*``) and a flag of ``okr-operator run``.

Flags win over the environment; the environment wins over the defaults. The Helm chart and the
kustomize Deployment set the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any

from ..api.common import parse_duration
from ..kube.config import KubeSettings
from ..options import parse_key_values
from ..prometheus.config import PrometheusSettings
from .sharding import Shard, check_shard

ENV_PREFIX = "OKR_"
SLI_SOURCES = ("auto", "raw", "recorded")


@dataclass(frozen=True)
class Settings:
    """Everything the operator can be told."""

    prometheus: PrometheusSettings = field(default_factory=PrometheusSettings)
    kube: KubeSettings = field(default_factory=KubeSettings)  # API request and watch timeouts
    interval: str = "30s"  # evaluation interval
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    rule_labels: dict[str, str] = field(default_factory=dict)  # for the Prometheus ruleSelector
    gate_prometheus_address: str | None = None  # Prometheus URL Argo Rollouts uses; default: prometheus.url
    # auto: our recordings where they cover a window, the indicators elsewhere; raw / recorded: only those
    sli_source: str = "auto"
    metrics_port: int = 8080
    web: bool = True  # serve the read-only web view (objectives, key results, error budgets)
    web_port: int = 8081
    peering_name: str = "okr-operator"
    priority: int = 0  # kopf peering priority; replicas need distinct priorities (the chart derives them)
    standalone: bool = False  # no peering (a single replica)
    leader_lease: str = "okr-operator-evaluation"  # Lease guarding the evaluation loop
    lease_namespace: str = "okr-system"
    shards: int = 1  # split the namespaces into this many shards (sharding.py); 1: one operator owns everything
    shard: int = 0  # the shard this replica serves (0 .. shards-1)

    @property
    def interval_seconds(self) -> int:
        return parse_duration(self.interval)

    @property
    def gate_address(self) -> str:
        return self.gate_prometheus_address or self.prometheus.url

    @property
    def owned(self) -> Shard:
        """The shard this replica serves (which namespaces it owns)."""
        return Shard(self.shard, self.shards)

    @property
    def peering(self) -> str:
        """The kopf peering of this replica's shard: ``peering_name``, with ``-shard-<K>`` when sharded."""
        return self.owned.name(self.peering_name)

    @property
    def lease(self) -> str:
        """The Lease of this replica's shard: ``leader_lease``, with ``-shard-<K>`` when sharded."""
        return self.owned.name(self.leader_lease)


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
        return parse_key_values([raw])
    return raw


def _from_env_var(name: str, kind: Any, raw: str) -> Any:
    try:
        return _convert(kind, raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r}: {exc}") from None


# Settings grouped in their own dataclass: OKR_<GROUP>_<FIELD> in the environment, <group>_<field> as overrides.
NESTED = {"prometheus": PrometheusSettings, "kube": KubeSettings}


def _nested(group: str, kind: Any, env: dict[str, str], overrides: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for f in fields(kind):
        name = f"{ENV_PREFIX}{group.upper()}_{f.name.upper()}"
        if env.get(name) is not None:
            values[f.name] = _from_env_var(name, f.type, env[name])
        override = overrides.pop(f"{group}_{f.name}", None)
        if override is not None:
            values[f.name] = override
    return kind(**values)


def env_names() -> set[str]:
    """Every ``OKR_*`` variable the settings read."""
    names = {f"{ENV_PREFIX}{f.name.upper()}" for f in fields(Settings) if f.name not in NESTED}
    for group, kind in NESTED.items():
        names |= {f"{ENV_PREFIX}{group.upper()}_{f.name.upper()}" for f in fields(kind)}
    return names


def from_env(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from ``OKR_*`` variables (``OKR_PROMETHEUS_URL``, ``OKR_INTERVAL``, ...) and overrides.

    ``overrides`` use the field names; ``prometheus_*`` and ``kube_*`` names set the fields of those groups.
    Unset overrides (None) are ignored.
    """
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {group: _nested(group, kind, env, overrides) for group, kind in NESTED.items()}
    for f in fields(Settings):
        if f.name in NESTED:
            continue
        name = f"{ENV_PREFIX}{f.name.upper()}"
        if env.get(name) is not None:
            values[f.name] = _from_env_var(name, f.type, env[name])
        if overrides.get(f.name) is not None:
            values[f.name] = overrides[f.name]
    settings = Settings(**values)
    parse_duration(settings.interval)  # fail early with a clear message
    if settings.sli_source not in SLI_SOURCES:
        raise ValueError(f"sli_source {settings.sli_source!r}: use auto, raw or recorded")
    settings.kube.check()
    check_shard(settings.shards, settings.shard)
    return settings
