"""Structural validation of a value against a CRD's openAPIV3Schema, as the apiserver prunes and checks it.

``problems(value, schema)`` lists every field the apiserver would prune (not in the schema) and every value
of the wrong type or beyond a bound; the tests assert it is empty for every status the evaluation writes.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any


def problems(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    kind = schema.get("type")
    checks = {"object": _object, "array": _array, "string": _string, "number": _number, "integer": _integer}
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a boolean"]
    if kind not in checks:
        return [f"{path}: schema without a type"]
    return checks[kind](value, schema, path)


def _object(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: {value!r} is not an object"]
    out = []
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in props:
            out.extend(problems(item, props[key], f"{path}.{key}"))
        elif isinstance(extra, dict):
            out.extend(problems(item, extra, f"{path}.{key}"))
        else:
            out.append(f"{path}.{key}: not in the schema (the apiserver would prune it)")
    out.extend(f"{path}.{key}: required" for key in schema.get("required") or [] if key not in value)
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        out.append(f"{path}: more than {schema['maxProperties']} entries")
    return out


def _array(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    if not isinstance(value, list):
        return [f"{path}: {value!r} is not an array"]
    out = []
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        out.append(f"{path}: more than {schema['maxItems']} items")
    for i, item in enumerate(value):
        out.extend(problems(item, schema["items"], f"{path}[{i}]"))
    if schema.get("x-kubernetes-list-type") == "map":
        keys = [tuple(item.get(k) for k in schema["x-kubernetes-list-map-keys"]) for item in value]
        if len(keys) != len(set(keys)):
            out.append(f"{path}: duplicate list-map keys {keys}")
    return out


def _string(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{path}: {value!r} is not a string"]
    out = []
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} not one of {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append(f"{path}: longer than {schema['maxLength']}")
    if schema.get("format") == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            out.append(f"{path}: {value!r} is not an RFC 3339 date-time")
    return out


def _number(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [f"{path}: {value!r} is not a number"]
    out = []
    if "minimum" in schema and value < schema["minimum"]:
        out.append(f"{path}: {value} below {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        out.append(f"{path}: {value} above {schema['maximum']}")
    return out


def _integer(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [f"{path}: {value!r} is not an integer"]
    return _number(value, schema, path)
