"""Connection settings of the Prometheus adapter (the operator and okrctl fill them from flags/env)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# In-cluster address of the Prometheus that prometheus-operator runs (its governing Service).
DEFAULT_URL = "http://prometheus-operated.monitoring.svc:9090"


@dataclass(frozen=True)
class PrometheusSettings:
    """How to reach Prometheus (or Thanos/Mimir/Cortex) for evaluation."""

    url: str = DEFAULT_URL
    timeout_seconds: float = 10.0  # read timeout of one attempt (also sent as the query's own timeout)
    connect_timeout_seconds: float = 5.0
    retries: int = 2  # retries of quick failures (refused or reset connections, 429/502/503/504)
    bearer_token_file: str | None = None
    basic_auth_username: str | None = None
    basic_auth_password_file: str | None = None
    ca_file: str | None = None
    insecure_skip_verify: bool = False
    tenant: str | None = None  # sent as X-Scope-OrgID

    def bearer_token(self) -> str | None:
        return _read_secret(self.bearer_token_file)

    def basic_auth(self) -> tuple[str, str] | None:
        if not self.basic_auth_username:
            return None
        return self.basic_auth_username, _read_secret(self.basic_auth_password_file) or ""


def _read_secret(path: str | None) -> str | None:
    return Path(path).read_text(encoding="utf-8").strip() if path else None
