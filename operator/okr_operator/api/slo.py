"""ServiceLevelObjective (short name ``slo``): an SLI in PromQL, a target and a window."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, Strict, field_validator, model_validator

from .alerts import BudgetPaceAlert
from .common import (
    API_VERSION,
    DURATION_PATTERN,
    LABEL_NAME_PATTERN,
    MAX_DURATION_SECONDS,
    SAFE_VALUE_PATTERN,
    ApiModel,
    CrossFieldRule,
    Duration,
    Flag,
    Integer,
    LabelName,
    Labels,
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
from .slo_status import ErrorBudget, ServiceLevelObjectiveStatus, SLOState

KIND = "ServiceLevelObjective"
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
RUNBOOK_URL_PATTERN = r"^https?://[^\s{}\"'<>`]+$"

# Labels of our own series: an SLO cannot be grouped by them.
RESERVED_GROUP_LABELS = ("slo", "namespace", "service", "le", "severity", "alertname")

# Argo Rollouts argument names as used in {{args.<name>}}; kept DNS-label-like.
ARG_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


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


class Severity(StrEnum):
    PAGE = "page"
    TICKET = "ticket"


class BurnRateWindow(ApiModel):
    """One multiwindow burn-rate condition: alert when both windows burn faster than burnRate."""

    severity: Severity = Field(description="page or ticket.")
    long: Duration = Field(description="Long window, e.g. 1h.")
    short: Duration = Field(
        description="Short window that makes the alert reset quickly, e.g. 5m. Equal to long: a single-window "
        "condition (what an OpenSLO burn-rate condition with one lookbackWindow says)."
    )
    burn_rate: Number = Field(gt=0, le=10000, description="Burn-rate factor, e.g. 14.4.")
    for_: Duration | None = Field(
        None,
        alias="for",
        description="Fire only once the condition has held this long (the alert rule's for; OpenSLO alertAfter), "
        "e.g. 5m. Default: at once.",
    )

    cross_field_rules = (
        CrossFieldRule(
            cel=f"{cel_duration_seconds('self.short')} <= {cel_duration_seconds('self.long')}",
            message="short must not be longer than long (equal to long for a single-window condition)",
            check=lambda w: parse_duration(w.short) <= parse_duration(w.long),
            field=".short",
        ),
    )


class SeverityRouting(ApiModel):
    """Settings of the page or the ticket alert."""

    enabled: Flag = Field(True, description="Whether this alert is generated.")
    labels: Labels = Field(default_factory=dict, description="Extra labels, e.g. for Alertmanager routing.")


class BudgetExhaustedAlert(ApiModel):
    """SLOErrorBudgetExhausted: the remaining error budget over the SLO window is below a floor."""

    enabled: Flag = Field(
        False,
        description="Generate the alert (a rule group of its own, evaluated every 10m; rolling windows only).",
    )
    floor: Number = Field(
        0,
        ge=0,
        lt=1,
        description="Fire when the remaining budget, as a fraction, is below this: 0 when the budget is exhausted, "
        "0.1 when less than a tenth is left.",
    )
    severity: Severity = Field(Severity.TICKET, description="page or ticket.")
    labels: Labels = Field(default_factory=dict, description="Extra labels, e.g. for Alertmanager routing.")


class Alerting(ApiModel):
    """Multiwindow multi-burn-rate alerts (SRE workbook) generated into the PrometheusRule."""

    enabled: Flag = Field(True, description="Generate page, ticket and no-data alerts.")
    runbook_url: str | None = Field(
        None,
        max_length=2048,
        pattern=RUNBOOK_URL_PATTERN,
        description="Runbook linked from every alert (annotation runbook_url).",
    )
    labels: Labels = Field(default_factory=dict, description="Labels added to every alert.")
    annotations: dict[LabelName, Annotated[str, Field(max_length=4096)]] = Field(
        default_factory=dict,
        description="Annotations added to every alert. Text is shown literally (not as a template).",
    )
    page: SeverityRouting = Field(default_factory=SeverityRouting, description="The page alert.")
    ticket: SeverityRouting = Field(default_factory=SeverityRouting, description="The ticket alert.")
    no_data_for: Duration = Field(
        "10m", description="Fire the no-data alert when the SLI has had no series for this long."
    )
    burn_rate_windows: list[BurnRateWindow] | None = Field(
        None,
        max_length=8,
        description="Override the burn-rate conditions. Default: page 1h/5m x14.4 and 6h/30m x6, "
        "ticket 1d/2h x3 and 3d/6h x1, scaled to the SLO window.",
    )
    budget_exhausted: BudgetExhaustedAlert = Field(
        default_factory=BudgetExhaustedAlert, description="Alert when the error budget is exhausted (or nearly)."
    )
    error_budget_pace: BudgetPaceAlert | None = Field(
        None,
        description="ErrorBudgetPace, calendar windows (month, quarter) only: page when the budget consumed is at "
        "least factor x the elapsed share of the window (default factor 2, severity page, for 1h).",
    )


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
    "Alerting",
    "BoolGaugeIndicator",
    "BudgetExhaustedAlert",
    "BurnRateWindow",
    "CanarySelector",
    "ErrorBudget",
    "Gate",
    "Indicator",
    "LatencyIndicator",
    "RatioIndicator",
    "SLOState",
    "ServiceLevelObjective",
    "ServiceLevelObjectiveSpec",
    "ServiceLevelObjectiveStatus",
    "Severity",
]
