"""OpenSLO documents as read from files: one object per YAML document, or a list of objects per document.

Objects are kept as plain mappings; the mappers read the fields they understand and refuse the rest by
raising ``Refusal`` with the OpenSLO field path and the reason, which becomes one line of output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..api.loader import Problem, parse_documents, read_sources

V1 = "openslo/v1"
V1ALPHA = "openslo/v1alpha"
SUPPORTED_VERSIONS = (V1, V1ALPHA)
OPENSLO_PREFIX = "openslo/"
# Annotations okrctl writes on export and reads back on import: what OpenSLO has no field for. The JSON ones
# hold okr.dev fields as they are written in a manifest.
ANNOTATION_PREFIX = "okr.dev/"
NAMESPACE_ANNOTATION = f"{ANNOTATION_PREFIX}namespace"
DISPLAY_NAME_ANNOTATION = f"{ANNOTATION_PREFIX}display-name"
OBJECTIVE_ANNOTATION = f"{ANNOTATION_PREFIX}objective"
ALERTING_ANNOTATION = f"{ANNOTATION_PREFIX}alerting"
GATE_ANNOTATION = f"{ANNOTATION_PREFIX}gate"
INDICATOR_ANNOTATION = f"{ANNOTATION_PREFIX}indicator"
LABELS_ANNOTATION = f"{ANNOTATION_PREFIX}labels"
# Consumed on import (they become fields); the others stay annotations of the okr.dev SLO.
FIELD_ANNOTATIONS = (
    NAMESPACE_ANNOTATION,
    ALERTING_ANNOTATION,
    GATE_ANNOTATION,
    INDICATOR_ANNOTATION,
    LABELS_ANNOTATION,
)


class Refusal(ValueError):
    """A document (or part of one) with no faithful okr.dev equivalent: ``field`` says where, the message why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class OpenSLODocument:
    """One OpenSLO object and where it was read from."""

    source: str
    index: int
    raw: dict[str, Any]

    @property
    def api_version(self) -> str:
        return str(self.raw.get("apiVersion") or "")

    @property
    def kind(self) -> str:
        return str(self.raw.get("kind") or "")

    @property
    def name(self) -> str:
        meta = self.raw.get("metadata")
        return str(meta.get("name") or "") if isinstance(meta, dict) else ""

    @property
    def subject(self) -> str:
        return f"{self.kind or '?'}/{self.name or '?'}"

    def problem(self, fld: str, message: str, severity: str = "error") -> Problem:
        return Problem(self.source, self.index, self.subject, fld, message, severity)


@dataclass
class OpenSLOSet:
    """Every OpenSLO object read from the given paths, indexed by (version, kind, name) for references."""

    documents: list[OpenSLODocument] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[OpenSLODocument]:
        return [d for d in self.documents if d.kind == kind]

    def find(self, version: str, kind: str, name: str) -> OpenSLODocument | None:
        for doc in self.documents:
            if doc.api_version == version and doc.kind == kind and doc.name == name:
                return doc
        return None


def is_openslo(raw: Any) -> bool:
    """Whether a parsed YAML document is an OpenSLO object (any version)."""
    return isinstance(raw, dict) and str(raw.get("apiVersion") or "").startswith(OPENSLO_PREFIX)


def _objects(parsed: Any) -> list[Any]:
    """A YAML document holds one object, or a list of them (as OpenSLO's own examples do)."""
    return parsed if isinstance(parsed, list) else [parsed]


def read_openslo(paths: Iterable[str]) -> OpenSLOSet:
    """Read every OpenSLO object from files, directories (recursively) or ``-``; other documents are skipped
    with a warning, unsupported OpenSLO versions are refused."""
    result = OpenSLOSet()
    for source, data in read_sources(paths):
        if data is None:
            result.problems.append(Problem(source, 0, "", "", "no such file, or no YAML files in directory"))
            continue
        loaded, problem = parse_documents(source, data)
        if problem is not None:
            result.problems.append(problem)
        parsed_docs = [d.content for d in loaded]
        index = 0
        for parsed in parsed_docs:
            for raw in _objects(parsed):
                if raw is not None:
                    _add(result, OpenSLODocument(source, index, raw if isinstance(raw, dict) else {}), raw)
                index += 1
    return result


def _add(result: OpenSLOSet, doc: OpenSLODocument, raw: Any) -> None:
    if not is_openslo(raw):
        result.problems.append(doc.problem("", "not an OpenSLO object, skipped", "warning"))
    elif doc.api_version not in SUPPORTED_VERSIONS:
        result.problems.append(
            doc.problem("apiVersion", f"{doc.api_version} is not supported; convert openslo/v1 or openslo/v1alpha")
        )
    else:
        result.documents.append(doc)


def get(mapping: Any, key: str, fld: str, kind: type | tuple[type, ...] = dict, default: Any = None) -> Any:
    """``mapping[key]`` checked to be of ``kind``; ``default`` when absent; Refusal naming ``fld`` otherwise."""
    if not isinstance(mapping, dict) or mapping.get(key) is None:
        return default
    value = mapping[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
        raise Refusal(fld, f"must be {_kind_name(kind)}, got {value!r}")
    return value


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "true or false", int: "a number"}
    names[float] = "a number"
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in _tuple(kind)))
