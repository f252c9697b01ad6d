"""Shared building blocks of the okr.dev/v1alpha1 API models.

The pydantic models in this package are the single source of truth for the three kinds: the CRDs in
`crds/` are generated from them (`okrctl crds`), and `okrctl validate` checks manifests with them.

Cross-field rules are declared once, as `CrossFieldRule`s: the CRD generator emits each as a CEL
`x-kubernetes-validations` entry (so the apiserver rejects bad manifests), and the models run the same
rule in Python (so `okrctl validate` rejects them offline with the same message).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator
from pydantic.alias_generators import to_camel, to_snake

# Final: the type checker reads these as the literal types the models' apiVersion and kind fields declare.
API_VERSION: Final = "okr.dev/v1alpha1"
GROUP, VERSION = API_VERSION.split("/")

# A Prometheus/Kubernetes style duration with a single unit: 30s, 5m, 1h, 28d, 4w; at most a year.
DURATION_PATTERN = r"^[1-9][0-9]{0,5}(s|m|h|d|w)$"
MAX_DURATION_SECONDS = 366 * 86400

# Kubernetes object names (DNS-1123 subdomain) and namespaces (DNS-1123 label).
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
NAMESPACE_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_DURATION_RE = re.compile(DURATION_PATTERN)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

# Label values that end up in generated PromQL/label sets. Kubernetes names are already DNS-1123; these
# patterns keep user-written label keys/values safe to embed without quoting surprises.
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]{0,62}$"
SAFE_VALUE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/ -]{0,126}$"


def parse_duration(value: str) -> int:
    """Seconds in a single-unit duration such as ``5m`` or ``28d``; ValueError names the accepted form."""
    match = _DURATION_RE.match(value)
    if not match:
        raise ValueError(f"duration {value!r}: use a whole number and one unit of s, m, h, d or w, e.g. 5m, 1h, 28d")
    return int(value[:-1]) * _UNIT_SECONDS[value[-1]]


def format_duration(seconds: int) -> str:
    """The shortest single-unit duration for a whole number of seconds (``3600`` -> ``1h``)."""
    if seconds <= 0:
        raise ValueError("duration must be positive")
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def cel_duration_seconds(expr: str) -> str:
    """CEL that turns a single-unit duration string (already pattern-checked) into seconds.

    CEL's own duration() does not know days or weeks, so the unit is looked up in a map.
    """
    unit = f"{expr}.substring(size({expr}) - 1)"
    number = f"int({expr}.substring(0, size({expr}) - 1))"
    units = "{'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}"
    return f"({number} * {units}[{unit}])"


def value_rule(cel: str, message: str, check: Callable[[Any], bool]) -> tuple[Any, Any]:
    """Annotations for a rule on one value, checked by the apiserver (CEL on ``self``) and by the model
    (the same message): ``Annotated[str, *value_rule(...)]``."""

    def validate(value: Any) -> Any:
        if value is not None and not check(value):
            raise ValueError(message)
        return value

    return AfterValidator(validate), Field(
        json_schema_extra={"x-kubernetes-validations": [{"rule": cel, "message": message}]}
    )


def _duration_in_range(value: str) -> bool:
    return not _DURATION_RE.match(value) or parse_duration(value) <= MAX_DURATION_SECONDS


Duration = Annotated[
    str,
    Field(pattern=DURATION_PATTERN, max_length=8),
    *value_rule(
        f"{cel_duration_seconds('self')} <= {MAX_DURATION_SECONDS}",
        "durations are at most 366d (one year)",
        _duration_in_range,
    ),
]

# Strict scalars: the apiserver refuses "99.9" for a number and true for a number; so do the models (no
# string-to-number or bool-to-number coercion), and numbers must be finite.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Integer = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]

LabelName = Annotated[str, Field(pattern=LABEL_NAME_PATTERN)]

# Labels the operator sets on generated alerts and series (their identity and routing): a user label with
# one of these names would overwrite it, so that one team's alert could pose as another's.
RESERVED_LABELS = (
    "alertname",
    "namespace",
    "slo",
    "service",
    "severity",
    "key_result",
    "objective",
    "owner",
    "okr_namespace",
    "okr_name",
)
_RESERVED_CEL = "[" + ", ".join(f"'{n}'" for n in RESERVED_LABELS) + "]"


def _no_reserved(labels: dict[str, str]) -> bool:
    return not any(k in RESERVED_LABELS or k.startswith("__") for k in labels)


Labels = Annotated[
    dict[LabelName, Annotated[str, Field(max_length=256)]],
    *value_rule(
        f"self.all(k, !(k in {_RESERVED_CEL}) && !k.startsWith('__'))",
        f"label names {', '.join(RESERVED_LABELS)} and names starting with __ are set by the operator or "
        "reserved by Prometheus; choose another name",
        _no_reserved,
    ),
]


@dataclass(frozen=True)
class CrossFieldRule:
    """One rule over several fields, checked by the apiserver (CEL) and by okrctl (Python) alike.

    ``cel`` is evaluated with ``self`` bound to the object the rule is attached to; ``check`` gets the
    same object as a pydantic model and returns True when the rule holds. ``field`` is the JSON path
    (relative to that object, e.g. ``.target``) that error messages name.
    """

    cel: str
    message: str
    check: Callable[[Any], bool]
    field: str | None = None

    def as_cel(self) -> dict[str, str]:
        rule = {"rule": self.cel, "message": self.message}
        if self.field:
            rule["fieldPath"] = self.field
        return rule


def exactly_one_of(*fields: str) -> CrossFieldRule:
    """The rule of a union written as optional fields: exactly one of ``fields`` (wire names) is set."""
    attributes = [to_snake(f) for f in fields]
    return CrossFieldRule(
        cel="[" + ", ".join(f"has(self.{f})" for f in fields) + "].filter(x, x).size() == 1",
        message=f"set exactly one of {', '.join(fields[:-1])} or {fields[-1]}",
        check=lambda model: sum(getattr(model, a) is not None for a in attributes) == 1,
    )


def _emit_cel_rules(schema: dict[str, Any], model: type) -> None:
    """JSON-schema hook: a model's cross-field rules become x-kubernetes-validations."""
    rules = getattr(model, "cross_field_rules", ())
    if rules:
        schema["x-kubernetes-validations"] = [rule.as_cel() for rule in rules]


class ApiModel(BaseModel):
    """Base of every API object: camelCase on the wire, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_enum_values=True,
        json_schema_extra=_emit_cel_rules,
    )
    # Cross-field rules of this object; emitted as x-kubernetes-validations and checked in Python.
    cross_field_rules: ClassVar[tuple[CrossFieldRule, ...]] = ()

    @model_validator(mode="after")
    def _check_cross_field_rules(self) -> ApiModel:
        for rule in self.cross_field_rules:
            if not rule.check(self):
                raise ValueError(f"{rule.field.lstrip('.') + ': ' if rule.field else ''}{rule.message}")
        return self

    def to_wire(self) -> dict[str, Any]:
        """The object as it is written to Kubernetes: camelCase, JSON types, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class StatusModel(ApiModel):
    """Status objects accept fields they do not know (written by newer operators) and never fail loading."""

    model_config = ConfigDict(extra="ignore")


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(StatusModel):
    """A Kubernetes-style condition (the shape of metav1.Condition)."""

    type: str = Field(description="Ready, Valid, RulesSynced or MetricsAvailable.")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(description="A CamelCase word saying why, e.g. PrometheusUnreachable.")
    message: str = Field("", description="Human-readable detail: what is wrong and how to fix it.")
    last_transition_time: datetime | None = Field(None, description="When the status last changed (RFC 3339).")
    observed_generation: int | None = Field(
        None, description="The metadata.generation this condition was computed for."
    )


class GeneratedObjects(StatusModel):
    prometheus_rule: str | None = Field(None, description="Name of the generated PrometheusRule.")
    analysis_template: str | None = Field(None, description="Name of the generated AnalysisTemplate (gated SLOs).")


class LocalObjectReference(ApiModel):
    """A reference to an object in the same namespace."""

    name: str = Field(
        description="Name of the object in the same namespace.",
        pattern=NAME_PATTERN,
        max_length=253,
    )


class ObjectMeta(BaseModel):
    """The part of metadata the operator reads; everything else is kept as is."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=NAME_PATTERN, max_length=253)
    namespace: str | None = Field(None, pattern=NAMESPACE_PATTERN, max_length=63)
    generation: int | None = None
    uid: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
