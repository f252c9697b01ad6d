"""Read okr.dev manifests from files, directories or stdin and validate them with the API models.

Every problem is reported as one line, ``file:doc-index: kind/name: field: message``, never as a
traceback: this is what ``okrctl validate`` prints and what ``okrctl generate`` refuses to go past.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..okr.alignment import ParentLink, align, find_cycles  # graph rules of their own, importing no product code
from . import API_VERSION, GROUP, KINDS, Manifest
from .common import DURATION_PATTERN, LABEL_NAME_PATTERN, SAFE_VALUE_PATTERN
from .maintenance import CRON_PATTERN
from .okr import PERIOD_DESCRIPTION, PERIOD_PATTERN, KeyResult, Objective
from .safeyaml import MAX_FILE_BYTES, LoadedDocument, UnsafeYAMLError, decode, load_documents
from .slo import WINDOW_PATTERN
from .slo_alerting import RUNBOOK_URL_PATTERN

YAML_SUFFIXES = (".yaml", ".yml", ".json")
OPENSLO_PREFIX = "openslo/"

# What to tell a person whose value does not match one of the API's patterns.
PATTERN_HINTS = {
    DURATION_PATTERN: "use a whole number and one unit of s, m, h, d or w, e.g. 5m, 1h, 28d",
    WINDOW_PATTERN: "use a rolling window such as 28d, 30d or 4w (units h, d, w), or month or quarter",
    PERIOD_PATTERN: PERIOD_DESCRIPTION,
    SAFE_VALUE_PATTERN: "use letters, digits, space and _ . : / - only (the value becomes a Prometheus label)",
    LABEL_NAME_PATTERN: "label names are letters, digits and _, not starting with a digit",
    RUNBOOK_URL_PATTERN: "use an http:// or https:// URL without spaces, quotes or braces",
    CRON_PATTERN: "use 5 cron fields (minute hour day-of-month month day-of-week), e.g. '0 2 * * 6'",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one document."""

    source: str
    index: int
    subject: str
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.source}:{self.index}"
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        subject = f" {self.subject}:" if self.subject else ""
        fld = f" {self.field}:" if self.field else ""
        return f"{where}:{subject}{fld} {prefix}{self.message}"


@dataclass
class Document:
    """One YAML document: where it came from, its raw content and, when valid, its model."""

    source: str
    index: int
    raw: Any
    model: Manifest | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def subject(self) -> str:
        if not isinstance(self.raw, dict):
            return ""
        kind = self.raw.get("kind") or "?"
        meta = self.raw.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        return f"{kind}/{name or '?'}"


@dataclass
class ManifestSet:
    """Everything read from the given paths."""

    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def models(self) -> list[Manifest]:
        return [d.model for d in self.documents if d.model is not None]

    def of_kind(self, kind: str) -> list[Any]:
        return [m for m in self.models if m.kind == kind]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def read_sources(paths: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
    """(display name, content or None when unreadable) for each file; directories are walked sorted.

    At most one byte more than a manifest may have is read (enough to say it is too large)."""
    for raw in paths:
        if raw == "-":
            yield "<stdin>", sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
            continue
        path = Path(raw)
        if path.is_dir():
            children = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES)
            if not children:
                yield str(path), None
            for child in children:
                yield str(child), _read(child)
        elif path.is_file():
            yield str(path), _read(path)
        else:
            yield str(path), None


def _read(path: Path) -> bytes:
    """At most one byte more than a manifest may have (enough to say it is too large)."""
    with path.open("rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("function-after", "function-before", "function-plain"):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _problems_of(doc: Document, error: ValidationError) -> list[Problem]:
    problems = []
    for err in error.errors():
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and "[" in x and "]" in x))
        message = str(err["msg"]).removeprefix("Value error, ")
        path = _field_path(loc)
        # Cross-field rules name their field at the start of the message: "target: baseline and ...".
        head, sep, rest = message.partition(": ")
        if sep and " " not in head and head[:1].isalpha():
            path = f"{path}.{head}" if path else head
            message = rest
        if err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; `kubectl explain` lists the fields)"
        elif err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "string_pattern_mismatch":
            pattern = err.get("ctx", {}).get("pattern", "")
            hint = PATTERN_HINTS.get(pattern, f"must match {pattern}")
            message = f"invalid value {err.get('input')!r}: {hint}"
        problems.append(Problem(doc.source, doc.index, doc.subject, path, message))
    return problems


def _validate(doc: Document) -> None:
    raw = doc.raw
    if raw is None:
        return
    if not isinstance(raw, dict):
        doc.problems.append(Problem(doc.source, doc.index, "", "", "a manifest must be a YAML mapping"))
        return
    api_version, kind = raw.get("apiVersion"), raw.get("kind")
    if isinstance(api_version, str) and api_version.startswith(OPENSLO_PREFIX):
        doc.problems.append(
            Problem(
                doc.source,
                doc.index,
                doc.subject,
                "apiVersion",
                f"{api_version} is an OpenSLO document, not an okr.dev manifest: convert it first with "
                f"`okrctl convert --from openslo -f {doc.source}` and validate the result",
            )
        )
        return
    if not isinstance(api_version, str) or not api_version.startswith(f"{GROUP}/"):
        doc.problems.append(
            Problem(doc.source, doc.index, doc.subject, "", "not an okr.dev object, skipped", "warning")
        )
        return
    if api_version != API_VERSION:
        doc.problems.append(
            Problem(doc.source, doc.index, doc.subject, "apiVersion", f"unsupported; use {API_VERSION}")
        )
        return
    info = KINDS.get(kind) if isinstance(kind, str) else None
    if info is None:
        doc.problems.append(
            Problem(doc.source, doc.index, doc.subject, "kind", f"unknown kind; use one of {', '.join(KINDS)}")
        )
        return
    try:
        doc.model = info.model.model_validate(raw)
    except ValidationError as exc:
        doc.problems.extend(_problems_of(doc, exc))


def validate_document(source: str, index: int, raw: Any) -> Document:
    """One parsed document checked against the API models (its ``model`` is set when valid)."""
    doc = Document(source, index, raw)
    _validate(doc)
    return doc


def load_manifests(paths: Iterable[str], *, default_namespace: str = "default") -> ManifestSet:
    """Read, parse and validate every document; objects without a namespace get ``default_namespace``."""
    result = ManifestSet()
    for source, data in read_sources(paths):
        if data is None:
            result.problems.append(Problem(source, 0, "", "", "no such file, or no YAML files in directory"))
            continue
        _load_file(result, source, data, default_namespace)
    result.problems.extend(_duplicates(result))
    result.problems.extend(_reference_warnings(result))
    result.problems.extend(_alignment_problems(result))
    return result


def parse_documents(source: str, data: bytes) -> tuple[list[LoadedDocument], Problem | None]:
    """The documents of one file read within bounds (api.safeyaml), or the one-line problem that stopped it
    (what came before the problem is kept)."""
    documents: list[LoadedDocument] = []
    try:
        for loaded in load_documents(decode(data)):
            documents.append(loaded)
    except UnsafeYAMLError as exc:
        return documents, Problem(source, documents[-1].index + 1 if documents else 0, "", "", str(exc))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        index = documents[-1].index + 1 if documents else 0
        return documents, Problem(source, index, "", "", f"invalid YAML{line}: {problem}")
    return documents, None


def _load_file(result: ManifestSet, source: str, data: bytes, default_namespace: str) -> None:
    documents, problem = parse_documents(source, data)
    for loaded in documents:
        doc = validate_document(source, loaded.index, loaded.content)
        meta = getattr(doc.model, "metadata", None)
        if meta is not None and not meta.namespace:
            meta.namespace = default_namespace
        result.documents.append(doc)
        result.problems.extend(doc.problems)
    if problem is not None:
        result.problems.append(problem)


def _key(model: Manifest) -> tuple[str, str | None, str]:
    return model.kind, model.metadata.namespace, model.metadata.name


def _duplicates(manifests: ManifestSet) -> list[Problem]:
    """Two documents for the same kind, namespace and name: the second would silently replace the first."""
    seen: dict[tuple[str, str | None, str], Document] = {}
    problems = []
    for doc in manifests.documents:
        if doc.model is None:
            continue
        key = _key(doc.model)
        first = seen.setdefault(key, doc)
        if first is not doc:
            problems.append(
                Problem(
                    doc.source,
                    doc.index,
                    doc.subject,
                    "metadata.name",
                    f"duplicate object: {key[0]} {key[1]}/{key[2]} is already defined at {first.source}:{first.index}",
                )
            )
    return problems


def _reference_warnings(manifests: ManifestSet) -> list[Problem]:
    """Key results pointing at objectives or SLOs that are not among the given files (a warning)."""
    present = {_key(m) for m in manifests.models}
    warnings = []
    for doc in manifests.documents:
        kr = doc.model
        if not isinstance(kr, KeyResult):
            continue
        ns = kr.metadata.namespace
        wanted = [("Objective", kr.spec.objective_ref.name, "spec.objectiveRef.name")]
        if kr.spec.source.slo is not None:
            wanted.append(("ServiceLevelObjective", kr.spec.source.slo.name, "spec.source.slo.name"))
        for kind, name, path in wanted:
            if (kind, ns, name) not in present:
                warnings.append(
                    Problem(
                        doc.source,
                        doc.index,
                        doc.subject,
                        path,
                        f"{kind} {ns}/{name} is not in the given files (it must exist in the cluster)",
                        "warning",
                    )
                )
    return warnings


def _alignment_problems(manifests: ManifestSet) -> list[Problem]:
    """What the operator would mark invalid in the alignment tree: self-parents and parent cycles (errors),
    and parents not among the given files (a warning: they may exist in the cluster)."""
    objectives = {
        (d.model.metadata.namespace or "", d.model.metadata.name): (d, d.model)
        for d in manifests.documents
        if isinstance(d.model, Objective)
    }
    parents: dict[tuple[str, str], tuple[str, str] | None] = {}
    for key, (_, objective) in objectives.items():
        ref = objective.spec.parent_ref
        parents[key] = (ref.namespace or key[0], ref.name) if ref is not None else None
    problems = []
    not_counted = _not_counted({key: objective for key, (_, objective) in objectives.items()})
    for key, (doc, _) in sorted(objectives.items()):
        parent = parents[key]
        if parent is None:
            continue
        where = (doc.source, doc.index, doc.subject, "spec.parentRef")
        if key in not_counted:
            problems.append(Problem(*where, f"aligned without counting: {not_counted[key]}", "warning"))
        if parent == key:
            problems.append(Problem(*where, "an objective cannot align to itself"))
        elif key in find_cycles(parents):
            problems.append(Problem(*where, f"parentRef forms a cycle ({_cycle_text(key, parents)})"))
        elif parent not in objectives:
            problems.append(
                Problem(
                    *where,
                    f"Objective {parent[0]}/{parent[1]} is not in the given files (it must exist in the cluster)",
                    "warning",
                )
            )
    return problems


def _not_counted(objectives: dict[tuple[str, str], Objective]) -> dict[tuple[str, str], str]:
    """Children from another namespace that their parent (among the files) does not list in
    spec.children.fromNamespaces: they align but do not count in its roll-up (the rule of okr.alignment)."""
    links: dict[tuple[str, str], ParentLink | None] = {}
    allowed: dict[tuple[str, str], tuple[str, ...]] = {}
    for key, objective in objectives.items():
        spec = objective.spec
        ref = spec.parent_ref
        links[key] = ParentLink((ref.namespace or key[0], ref.name), ref.weight, ref.contributes) if ref else None
        allowed[key] = tuple(spec.children.from_namespaces) if spec.children else ()
    alignment = align(links, allowed)
    return {
        child.key: child.reason.partition(": ")[2]
        for kids in alignment.children.values()
        for child in kids
        if child.reason.startswith("NamespaceNotAllowed")
    }


def _cycle_text(start: tuple[str, str], parents: dict[tuple[str, str], tuple[str, str] | None]) -> str:
    names: list[tuple[str, str]] = []
    key: tuple[str, str] | None = start
    while key is not None and key not in names:
        names.append(key)
        key = parents.get(key)
    return " -> ".join(f"{ns}/{name}" for ns, name in [*names, start])
