"""Generate the CustomResourceDefinitions in ``crds/`` from the pydantic models.

pydantic's JSON Schema is close to what Kubernetes wants; this module turns it into a *structural*
OpenAPI v3 schema: references inlined, ``anyOf [X, null]`` collapsed to ``X``, numeric exclusive bounds
in the OpenAPI 3.0 form, ``patternProperties`` replaced by a CEL rule, and every model's cross-field
rules emitted as ``x-kubernetes-validations``.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from . import GROUP, KINDS, VERSION, KindInfo

Schema = dict[str, Any]

PRINTER_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Objective": [
        {"name": "Period", "type": "string", "jsonPath": ".spec.period"},
        {"name": "Progress", "type": "number", "jsonPath": ".status.progress"},
        {"name": "Score", "type": "number", "jsonPath": ".status.score"},
        {"name": "State", "type": "string", "jsonPath": ".status.state"},
        {"name": "Final", "type": "number", "jsonPath": ".status.final.score"},
        {"name": "Owner", "type": "string", "jsonPath": ".spec.owner", "priority": 1},
        {"name": "Title", "type": "string", "jsonPath": ".spec.title", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
    "KeyResult": [
        {"name": "Objective", "type": "string", "jsonPath": ".spec.objectiveRef.name"},
        {"name": "Current", "type": "number", "jsonPath": ".status.current"},
        {"name": "Target", "type": "number", "jsonPath": ".spec.target"},
        {"name": "Progress", "type": "number", "jsonPath": ".status.progress"},
        {"name": "State", "type": "string", "jsonPath": ".status.state"},
        {"name": "Final", "type": "number", "jsonPath": ".status.final.score"},
        {"name": "Owner", "type": "string", "jsonPath": ".status.owner", "priority": 1},
        {"name": "Description", "type": "string", "jsonPath": ".spec.description", "priority": 1},
    ],
    "ServiceLevelObjective": [
        {"name": "Target", "type": "number", "jsonPath": ".spec.target"},
        {"name": "Window", "type": "string", "jsonPath": ".spec.window", "priority": 1},
        {"name": "SLI", "type": "number", "jsonPath": ".status.sli"},
        {"name": "Budget-Left", "type": "number", "jsonPath": ".status.errorBudget.remaining"},
        {"name": "State", "type": "string", "jsonPath": ".status.state"},
        {"name": "Groups", "type": "integer", "jsonPath": ".status.groups.count", "priority": 1},
        {"name": "Worst-Group", "type": "string", "jsonPath": ".status.groups.worstGroup", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
    "MaintenanceWindow": [
        {"name": "Active", "type": "boolean", "jsonPath": ".status.active"},
        {"name": "Until", "type": "date", "jsonPath": ".status.activeUntil"},
        {"name": "Next", "type": "string", "jsonPath": ".status.nextStart"},
        {"name": "Duration", "type": "string", "jsonPath": ".spec.duration"},
        {"name": "Reason", "type": "string", "jsonPath": ".spec.reason"},
        {"name": "Schedule", "type": "string", "jsonPath": ".spec.schedule", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
}

# Keys of JSON Schema that a structural schema does not accept, or that only add noise.
_DROP = {"title", "additionalProperties", "examples", "$defs", "const", "discriminator"}
_MAX_MAP_ENTRIES = 64


def _resolve(schema: Schema, defs: Schema) -> Schema:
    """Inline ``$ref`` (keeping a sibling description) and recurse."""
    if "$ref" in schema:
        target = copy.deepcopy(defs[schema["$ref"].rsplit("/", 1)[-1]])
        for key, value in schema.items():
            if key != "$ref":
                target[key] = value
        schema = target
    return schema


def _structural(schema: Schema, defs: Schema) -> Schema:
    schema = _resolve(schema, defs)
    if "anyOf" in schema:
        options = [_resolve(s, defs) for s in schema["anyOf"] if s.get("type") != "null"]
        merged = {k: v for k, v in schema.items() if k != "anyOf"}
        if len(options) == 1:
            merged = {**options[0], **merged}
        elif all(o.get("type") == "string" for o in options):
            merged["type"] = "string"  # e.g. date | date-time: one string, checked by the operator
        else:
            raise ValueError(f"cannot express anyOf {options} structurally")
        schema = _resolve(merged, defs)

    out: Schema = {}
    rules: list[dict[str, str]] = list(schema.get("x-kubernetes-validations", []))
    for key, value in schema.items():
        if key in _DROP or (key in ("x-kubernetes-validations", "default") and value is None):
            continue
        if key == "exclusiveMinimum":
            out["minimum"], out["exclusiveMinimum"] = value, True
        elif key == "exclusiveMaximum":
            out["maximum"], out["exclusiveMaximum"] = value, True
        elif key == "properties":
            out["properties"] = {name: _structural(sub, defs) for name, sub in value.items()}
        elif key == "items":
            out["items"] = _structural(value, defs)
        elif key == "patternProperties":
            ((pattern, sub),) = value.items()
            out["additionalProperties"] = _structural(sub, defs)
            rules.append({"rule": f"self.all(k, k.matches('{pattern}'))", "message": f"keys must match {pattern}"})
        elif key == "x-kubernetes-validations":
            pass
        else:
            out[key] = value
    if schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = _structural(schema["additionalProperties"], defs)
    if "additionalProperties" in out:
        out.setdefault("maxProperties", _MAX_MAP_ENTRIES)
    if out.get("format") == "date":
        out.pop("format")  # a date or a date-time: kept a plain string, parsed by the operator
    if rules:
        out["x-kubernetes-validations"] = rules
    return _ordered(out)


def _ordered(schema: Schema) -> Schema:
    """type and description first, then the rest alphabetically: easier to read, stable to diff."""
    head = [k for k in ("type", "description") if k in schema]
    return {k: schema[k] for k in [*head, *sorted(k for k in schema if k not in head)]}


def _status_lists(schema: Schema) -> None:
    """Conditions are a map keyed by type (what `kubectl` and server-side apply expect)."""
    for name, sub in schema.get("properties", {}).items():
        if name == "conditions" and sub.get("type") == "array":
            sub["x-kubernetes-list-type"] = "map"
            sub["x-kubernetes-list-map-keys"] = ["type"]
            sub.setdefault("maxItems", 16)
        _status_lists(sub)
        if "items" in sub:
            _status_lists(sub["items"])


def open_api_schema(info: KindInfo) -> Schema:
    """The structural openAPIV3Schema of one kind."""
    raw = info.model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.get("$defs", {})
    props = raw["properties"]
    spec = _structural(props["spec"], defs)
    status = _structural(props["status"], defs)
    _status_lists(status)
    root: Schema = {
        "type": "object",
        "description": raw.get("description", ""),
        "properties": {
            "apiVersion": {"type": "string", "description": "okr.dev/v1alpha1"},
            "kind": {"type": "string", "description": info.kind},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
        "required": ["spec"],
    }
    rules = [rule.as_cel() for rule in info.model.cross_field_rules]
    if rules:
        root["x-kubernetes-validations"] = rules
    return root


def custom_resource_definition(info: KindInfo) -> Schema:
    """The CRD object of one kind."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{info.plural}.{GROUP}",
            "labels": {"app.kubernetes.io/name": "okr-operator", "app.kubernetes.io/part-of": "okr-operator"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": list(info.short_names),
                "categories": ["okr"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS[info.kind],
                    "schema": {"openAPIV3Schema": open_api_schema(info)},
                }
            ],
        },
    }


def render_crds() -> dict[str, str]:
    """File name -> YAML text of every CRD, deterministic (what `okrctl crds` writes)."""
    return {
        f"okr.dev_{info.plural}.yaml": yaml.safe_dump(
            custom_resource_definition(info), sort_keys=False, width=100, allow_unicode=True
        )
        for info in KINDS.values()
    }
