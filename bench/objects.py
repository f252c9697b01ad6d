"""Synthetic OKR trees for the operator benchmark: units of 10 objects with every kind of source.

One unit: an Objective, 3 SLOs (availability over 28d, 28d and 7d on three services) and 6 key
results: three read an SLO's status (SLI, remaining budget, 1h burn rate), two are manual (check-ins,
one boolean), one is a PromQL query. 1 000 objects = 100 units; a unit's objects share a namespace.
The shapes are the same at every size, so the number of distinct windows (and queries) is too.
"""

from __future__ import annotations

from typing import Any

from bench.synth import service_name

API = "okr.dev/v1alpha1"
UNIT = 10
PERIOD = "2026-Q4"


def _slo(name: str, svc: str, window: str, target: float) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name},
        "spec": {
            "service": svc,
            "target": target,
            "window": window,
            "indicator": {
                "ratio": {
                    "errors": f'sum(rate(http_requests_total{{service="{svc}",code=~"5.."}}[{{{{window}}}}]))',
                    "total": f'sum(rate(http_requests_total{{service="{svc}"}}[{{{{window}}}}]))',
                }
            },
        },
    }


def _kr(name: str, objective: str, description: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "KeyResult",
        "metadata": {"name": name},
        "spec": {"objectiveRef": {"name": objective}, "description": description, **spec},
    }


def unit(u: int, services: int) -> list[dict[str, Any]]:
    """The 10 objects of unit ``u`` (namespace not set)."""
    o = f"o{u}"
    svcs = [service_name((3 * u + k) % services) for k in range(3)]
    slos = [
        _slo(f"s{u}-a", svcs[0], "28d", 99.9),
        _slo(f"s{u}-b", svcs[1], "28d", 99.5),
        _slo(f"s{u}-c", svcs[2], "7d", 99.0),
    ]
    krs = [
        _kr(
            f"k{u}-sli",
            o,
            "Availability SLI",
            {
                "direction": "increase",
                "baseline": 99.0,
                "target": 99.95,
                "source": {"slo": {"name": f"s{u}-a", "field": "sli"}},
            },
        ),
        _kr(
            f"k{u}-budget",
            o,
            "Keep a fifth of the budget",
            {
                "direction": "maintain",
                "min": 0.2,
                "source": {"slo": {"name": f"s{u}-b", "field": "errorBudgetRemaining"}},
            },
        ),
        _kr(
            f"k{u}-burn",
            o,
            "Burn slower",
            {
                "direction": "decrease",
                "baseline": 2,
                "target": 0.5,
                "source": {"slo": {"name": f"s{u}-c", "field": "burnRate1h"}},
            },
        ),
        _kr(
            f"k{u}-mttr",
            o,
            "Recover faster",
            {
                "direction": "decrease",
                "baseline": 60,
                "target": 30,
                "unit": "minutes",
                "source": {
                    "manual": {
                        "checkIns": [
                            {"date": "2026-10-01", "value": 60, "confidence": 0.6},
                            {"date": "2026-11-01", "value": 48, "confidence": 0.7},
                        ]
                    }
                },
            },
        ),
        _kr(
            f"k{u}-runbooks",
            o,
            "Runbooks for every alert",
            {"direction": "boolean", "source": {"manual": {"checkIns": [{"date": "2026-10-15", "value": 0}]}}},
        ),
        _kr(
            f"k{u}-traffic",
            o,
            "Serve more requests",
            {
                "direction": "increase",
                "baseline": 1,
                "target": 100,
                "unit": "req/s",
                "source": {"prometheus": {"query": f'sum(rate(http_requests_total{{service="{svcs[0]}"}}[5m]))'}},
            },
        ),
    ]
    objective = {
        "apiVersion": API,
        "kind": "Objective",
        "metadata": {"name": o},
        "spec": {"title": f"Team {u} is reliable", "owner": f"team-{u}", "period": PERIOD, "type": "committed"},
    }
    return [objective, *slos, *krs]


def tree(objects: int, services: int, per_namespace: int = 1000) -> list[tuple[str, dict[str, Any]]]:
    """(namespace, object) pairs: ``objects`` objects (a multiple of 10), ``per_namespace`` per namespace."""
    units = max(1, objects // UNIT)
    per_ns_units = max(1, per_namespace // UNIT)
    out = []
    for u in range(units):
        ns = f"bench-{u // per_ns_units}"
        out.extend((ns, obj) for obj in unit(u, services))
    return out
