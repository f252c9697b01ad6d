"""ServiceLevelObjective (short name ``slo``): an SLI in PromQL, a target and a window."""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import Field, Strict, field_validator, model_validator

from .common import (
    API_VERSION,
    DURATION_PATTERN,
    LABEL_NAME_PATTERN,
    MAX_DURATION_SECONDS,
    SAFE_VALUE_PATTERN,
    ApiModel,
    CrossFieldRule,
    Number,
    ObjectMeta,
    cel_duration_seconds,
    exactly_one_of,
    parse_duration,
    value_rule,
)
from .promql import (
    CANARY_PLACEHOLDER,
    WINDOW_PLACEHOLDER,
    check_canary_placeholder,
    check_keeps_labels,
    check_label_matchers,
    check_metric_name,
    check_no_templates,
    check_vector_selector,
    check_windowed,
)
from .slo_alerting import Alerting
from .slo_gate import Gate
from .slo_status import ErrorBudget, ServiceLevelObjectiveStatus, SLOState

KIND: Final = "ServiceLevelObjective"
MAX_NAME_LENGTH = 58
MAX_TARGET = 99.99999  # percent; the budget (100 - target) must stay measurable
Target = Annotated[
    float,
    Strict(),
    Field(allow_inf_nan=False),
    *value_rule(
        f"self <= {MAX_TARGET}",
        f"target must be at most {MAX_TARGET}: an error budget below 0.00001% of events cannot be measured "
        "(a target of 100 has no budget at all)",
        lambda t: t <= MAX_TARGET,
    ),
]
PLURAL = "servicelevelobjectives"

# Rolling windows (a duration) or calendar windows (month, quarter).
WINDOW_PATTERN = r"^([1-9][0-9]{0,3}(h|d|w)|month|quarter)$"
CALENDAR_WINDOWS = ("month", "quarter")


def _window_in_range(value: str) -> bool:
    return (
        value in CALENDAR_WINDOWS
        or not re.match(WINDOW_PATTERN, value)
        or parse_duration(value) <= MAX_DURATION_SECONDS
    )


SLOWindow = Annotated[
    str,
    Field(pattern=WINDOW_PATTERN, max_length=8),
    *value_rule(
        f"self in ['month', 'quarter'] || {cel_duration_seconds('self')} <= {MAX_DURATION_SECONDS}",
        "rolling windows are at most 366d (one year); use month or quarter for calendar windows",
        _window_in_range,
    ),
]

# Labels of our own series: an SLO cannot be grouped by them.
RESERVED_GROUP_LABELS = ("slo", "namespace", "service", "le", "severity", "alertname")


class RatioIndicator(ApiModel):
    """Errors (or good events) over all events, as two PromQL expressions using ``[{{window}}]``."""

    errors: str | None = Field(
        None,
        max_length=4096,
        description="PromQL for the rate of bad events over [{{window}}], e.g. "
        'sum(rate(http_requests_total{service="checkout",code=~"5..",{{canary}}}[{{window}}])). Set errors '
        "or good. {{canary}} (optional, last inside a selector's braces) is where gate.canary's matcher goes; "
        "it is removed everywhere else.",
    )
    good: str | None = Field(
        None,
        max_length=4096,
        description="PromQL for the rate of good events over [{{window}}]. Set errors or good. May hold "
        "{{canary}} like errors.",
    )
    total: str = Field(
        max_length=4096,
        description="PromQL for the rate of all events over [{{window}}], e.g. "
        'sum(rate(http_requests_total{service="checkout",{{canary}}}[{{window}}])). May hold {{canary}} '
        "like errors.",
    )

    cross_field_rules = (
        CrossFieldRule(
            cel="has(self.errors) != has(self.good)",
            message="set exactly one of errors or good",
            check=lambda r: (r.errors is None) != (r.good is None),
        ),
    )

    @field_validator("errors", "good", "total")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            check_no_templates(value, what="the expression", allowed=(WINDOW_PLACEHOLDER, CANARY_PLACEHOLDER))
            check_canary_placeholder(value, what="the expression")
            check_windowed(value.replace(CANARY_PLACEHOLDER, ""), what="the expression")
        return value

    @property
    def selects_canary(self) -> bool:
        """Both expressions in use carry the ``{{canary}}`` placeholder."""
        used = (self.errors if self.errors is not None else self.good, self.total)
        return all(e is not None and CANARY_PLACEHOLDER in e for e in used)


class LatencyIndicator(ApiModel):
    """Share of requests slower than a threshold, from a Prometheus histogram."""

    histogram: str = Field(
        max_length=200,
        description="Histogram metric name without the _bucket suffix, e.g. http_request_duration_seconds.",
    )
    threshold: Number = Field(
        gt=0,
        description="Latency threshold in the histogram's unit (usually seconds); a bucket with this "
        "le value must exist, e.g. 0.3.",
    )
    selector: str = Field(
        "",
        max_length=1024,
        description='Label matchers selecting the service\'s series, e.g. service="checkout".',
    )

    @field_validator("histogram")
    @classmethod
    def _metric(cls, value: str) -> str:
        check_metric_name(value, what="histogram")
        if value.endswith(("_bucket", "_count", "_sum")):
            raise ValueError(
                f"histogram {value!r}: give the metric name without _bucket/_count/_sum, e.g. {value.rsplit('_', 1)[0]}"
            )
        return value

    @field_validator("selector")
    @classmethod
    def _matchers(cls, value: str) -> str:
        if value:
            check_no_templates(value, what="selector")
            check_label_matchers(value, what="selector")
        return value


class BoolGaugeIndicator(ApiModel):
    """A 0/1 gauge sampled over time (e.g. probe_success): the SLI is the share of samples equal to 1."""

    metric: str = Field(
        max_length=1024,
        description="Series selector of a gauge that is 1 when good and 0 when bad, e.g. "
        'probe_success{job="blackbox",instance="https://checkout.example.com"}.',
    )

    @field_validator("metric")
    @classmethod
    def _selector(cls, value: str) -> str:
        check_no_templates(value, what="metric")
        check_vector_selector(value, what="metric")
        return value


class Indicator(ApiModel):
    """How good and bad events are counted. Set exactly one of ratio, latency or boolGauge."""

    ratio: RatioIndicator | None = Field(None, description="Errors (or good) over total, in PromQL.")
    latency: LatencyIndicator | None = Field(None, description="Requests slower than a threshold.")
    bool_gauge: BoolGaugeIndicator | None = Field(None, description="Share of time a 0/1 gauge is 1.")
    group_by: list[Annotated[str, Field(pattern=LABEL_NAME_PATTERN, description="A label name.")]] | None = Field(
        None,
        min_length=1,
        max_length=5,
        description="One SLO per value of these labels of the indicator's series, e.g. [route]: recording rules "
        "and alerts keep them, status lists the worst groups. A ratio expression must keep them (no sum "
        "without by (...) of them).",
    )
    max_groups: int = Field(
        100,
        ge=1,
        le=10000,
        description="With groupBy: at most this many groups (counted in Prometheus); more makes Valid=False, "
        "reason TooManyGroups, and the recording rules record nothing.",
    )

    cross_field_rules = (
        exactly_one_of("ratio", "latency", "boolGauge"),
        CrossFieldRule(
            cel="!has(self.groupBy) || self.groupBy.all(l, !(l in "
            + str(list(RESERVED_GROUP_LABELS))
            + ") && !l.startsWith('__'))",
            message=f"{', '.join(RESERVED_GROUP_LABELS)} and labels starting with __ are the operator's own",
            check=lambda i: not any(g in RESERVED_GROUP_LABELS or g.startswith("__") for g in i.group_by or ()),
            field=".groupBy",
        ),
    )

    @model_validator(mode="after")
    def _keeps_groups(self) -> Indicator:
        if self.group_by and self.ratio is not None:
            for name in ("errors", "good", "total"):
                expr = getattr(self.ratio, name)
                if expr is not None:
                    check_keeps_labels(expr.replace(CANARY_PLACEHOLDER, ""), self.group_by, what=f"ratio.{name}")
        return self

    @property
    def kind(self) -> Literal["ratio", "latency", "boolGauge"]:
        if self.ratio is not None:
            return "ratio"
        if self.latency is not None:
            return "latency"
        return "boolGauge"


class ServiceLevelObjectiveSpec(ApiModel):
    """What the service promises: the share of good events over a window."""

    service: str = Field(
        max_length=127,
        pattern=SAFE_VALUE_PATTERN,
        description="Service this SLO is about (label service on generated alerts).",
    )
    description: str = Field("", max_length=1024, description="What users experience when this is met.")
    target: Target = Field(
        gt=0,
        description=f"Target in percent of good events, e.g. 99.9. At most {MAX_TARGET} (an error budget "
        "below 0.00001% of events cannot be measured).",
    )
    window: SLOWindow = Field(
        "28d",
        description="Compliance window: rolling (e.g. 28d, 30d, 4w) or calendar (month, quarter).",
    )
    indicator: Indicator = Field(description="How good and bad events are counted.")
    alerting: Alerting = Field(default_factory=Alerting, description="Burn-rate alerts.")
    gate: Gate = Field(default_factory=Gate, description="Argo Rollouts canary gate.")

    cross_field_rules = (
        CrossFieldRule(
            cel="!has(self.alerting) || !has(self.alerting.budgetExhausted) || "
            "!self.alerting.budgetExhausted.enabled || !(self.window in ['month', 'quarter'])",
            message="alerting.budgetExhausted needs a rolling window (e.g. 28d): a Prometheus rule cannot measure "
            "since the start of a month or quarter; status.state Exhausted and the gate cover calendar windows",
            check=lambda s: not (s.alerting.budget_exhausted.enabled and s.window in CALENDAR_WINDOWS),
            field=".alerting.budgetExhausted",
        ),
        CrossFieldRule(
            cel="!has(self.gate) || !has(self.gate.canary) || !has(self.indicator.ratio) || "
            "(self.indicator.ratio.total.contains('{{canary}}') && (has(self.indicator.ratio.errors) ? "
            "self.indicator.ratio.errors.contains('{{canary}}') : "
            "(has(self.indicator.ratio.good) && self.indicator.ratio.good.contains('{{canary}}'))))",
            message="gate.canary needs the {{canary}} placeholder in indicator.ratio.total and in errors (or "
            'good), inside the selector braces, e.g. http_requests_total{service="checkout",{{canary}}}',
            check=lambda s: s.gate.canary is None or s.indicator.ratio is None or s.indicator.ratio.selects_canary,
            field=".gate.canary",
        ),
    )

    @property
    def is_calendar(self) -> bool:
        return self.window in CALENDAR_WINDOWS


class ServiceLevelObjective(ApiModel):
    """A service level objective; the operator generates alerts, a canary gate and status from it."""

    api_version: Literal["okr.dev/v1alpha1"] = Field(API_VERSION, alias="apiVersion")
    kind: Literal["ServiceLevelObjective"] = KIND
    metadata: ObjectMeta
    spec: ServiceLevelObjectiveSpec
    status: ServiceLevelObjectiveStatus | None = None

    cross_field_rules = (
        CrossFieldRule(
            cel=f"size(self.metadata.name) <= {MAX_NAME_LENGTH}",
            message=f"metadata.name: SLO names are at most {MAX_NAME_LENGTH} characters: the generated "
            "PrometheusRule and AnalysisTemplate append -slo and -gate, and the name is a label value",
            check=lambda slo: len(slo.metadata.name) <= MAX_NAME_LENGTH,
        ),
    )


# The CRD schema needs these as plain patterns too.
__all__ = [
    "CALENDAR_WINDOWS",
    "CANARY_PLACEHOLDER",
    "DURATION_PATTERN",
    "KIND",
    "PLURAL",
    "BoolGaugeIndicator",
    "ErrorBudget",
    "Indicator",
    "LatencyIndicator",
    "RatioIndicator",
    "SLOState",
    "ServiceLevelObjective",
    "ServiceLevelObjectiveSpec",
    "ServiceLevelObjectiveStatus",
]
