"""The canary gate of a ServiceLevelObjective (``spec.gate``): the Argo Rollouts AnalysisTemplate's settings and
which series are the canary's."""

from __future__ import annotations

from pydantic import Field

from .common import (
    LABEL_NAME_PATTERN,
    ApiModel,
    CrossFieldRule,
    Duration,
    Flag,
    Integer,
    Number,
)

# Argo Rollouts argument names as used in {{args.<name>}}; kept DNS-label-like.
ARG_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class CanarySelector(ApiModel):
    """Which of the service's series are the canary's: those whose label equals an AnalysisTemplate arg.

    The gate's burn-rate query then selects label="{{args.<arg>}}": a ratio indicator at its {{canary}}
    placeholders, a latency or boolGauge indicator in its selector. The Rollout passes the arg, e.g.
    valueFrom.podTemplateHashValue: Latest (label rollouts_pod_template_hash) or valueFrom.fieldRef
    spec.template.metadata.labels.version (label version).
    """

    label: str = Field(
        pattern=LABEL_NAME_PATTERN,
        max_length=63,
        description="Label of the service's series that tells canary from stable, e.g. version or "
        "rollouts_pod_template_hash.",
    )
    arg: str = Field(
        pattern=ARG_NAME_PATTERN,
        max_length=63,
        description="Name of the AnalysisTemplate argument holding the canary's value of label (the Rollout "
        "must pass it), e.g. canary-version or canary-hash.",
    )

    cross_field_rules = (
        CrossFieldRule(
            cel="!self.label.startsWith('__')",
            message="label names starting with __ are reserved by Prometheus",
            check=lambda c: not c.label.startswith("__"),
            field=".label",
        ),
        CrossFieldRule(
            cel="self.arg != 'prometheus-address'",
            message="arg prometheus-address is the gate's own argument; choose another name",
            check=lambda c: c.arg != "prometheus-address",
            field=".arg",
        ),
    )


class Gate(ApiModel):
    """Canary gate: an Argo Rollouts AnalysisTemplate named <slo>-gate."""

    enabled: Flag = Field(False, description="Generate the AnalysisTemplate.")
    max_burn_rate: Number = Field(
        2, gt=0, le=1000, description="Fail the canary when its burn rate over window exceeds this."
    )
    window: Duration = Field("5m", description="Window of the canary burn rate.")
    min_budget_remaining: Number = Field(
        0,
        ge=0,
        lt=1,
        description="Fail (freeze rollouts) when the SLO's remaining error budget, as a fraction, is "
        "below this. 0 fails only when the budget is exhausted.",
    )
    interval: Duration = Field("1m", description="Time between measurements.")
    count: Integer = Field(5, ge=1, le=1000, description="Number of measurements.")
    failure_limit: Integer = Field(0, ge=0, le=1000, description="Failed measurements tolerated.")
    inconclusive_limit: Integer = Field(
        0, ge=0, le=1000, description="Inconclusive measurements (no traffic) tolerated before pausing."
    )
    consecutive_error_limit: Integer = Field(4, ge=0, le=1000, description="Consecutive query errors tolerated.")
    initial_delay: Duration | None = Field(
        None,
        description="Wait this long before the first measurement, e.g. 1m, so the canary has traffic in "
        "the window (a canary without traffic yet measures Inconclusive and pauses the rollout).",
    )
    canary: CanarySelector | None = Field(
        None,
        description="Measure the burn rate of the canary's series only (the error budget stays the "
        "service's). Without it the burn rate is the whole service's.",
    )
