"""Small builders shared by the unit tests."""

from __future__ import annotations

from typing import Any

from okr_operator.api import ServiceLevelObjective

RATIO = {
    "errors": 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{window}}]))',
    "total": 'sum(rate(http_requests_total{service="checkout"}[{{window}}]))',
}


def slo(name: str = "checkout-availability", namespace: str = "shop", **spec: Any) -> ServiceLevelObjective:
    """A valid ServiceLevelObjective with ``spec`` overrides (camelCase keys, as in manifests)."""
    body = {"service": "checkout", "target": 99.9, "window": "28d", "indicator": {"ratio": dict(RATIO)}}
    body.update(spec)
    return ServiceLevelObjective.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "ServiceLevelObjective",
            "metadata": {"name": name, "namespace": namespace},
            "spec": body,
        }
    )
