"""``kubectl okr checkin -f FILE``: add a check-in to a KeyResult in a manifest file, in place.

The new entry's lines are inserted after the last check-in of the KeyResult's
``spec.source.manual.checkIns`` list, indented like the entries before it; every other byte of the file
stays as it was (comments, quoting, folded scalars, other documents). ruamel.yaml's round-trip composer
finds the documents, the list and where its last entry ends; the entry itself is written by PyYAML's safe
dumper, so its quoting is what kubectl's YAML 1.1 reader expects (a note "yes" stays a string). The edited
file is read back with the manifest loader and the KeyResult validated with the API models (what
``okrctl validate`` does) before anything is written, and the file is replaced atomically.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..api import API_VERSION, KEY_RESULT_KIND
from ..api.loader import parse_documents, validate_document
from ..api.safeyaml import UnsafeYAMLError, decode
from .entry import CheckIn, CheckInError

BOM = "\ufeff"


@dataclass(frozen=True)
class Found:
    """A KeyResult document of a file."""

    index: int  # document index, as the manifest loader counts them
    namespace: str | None
    node: MappingNode


@dataclass(frozen=True)
class Edit:
    """The file's new text and what was done."""

    text: str
    index: int
    line: int  # 1-based line of the new entry's first line
    check_ins: int  # entries after the edit


def _child(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node
    return None


def _scalar(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def _path(node: Node | None, *keys: str) -> Node | None:
    for key in keys:
        node = _child(node, key)
    return node


def _key_results(text: str) -> list[Found]:
    found = []
    try:
        nodes = list(YAML(typ="rt").compose_all(text))
    except RuamelError as exc:
        raise CheckInError(f"cannot parse the file: {' '.join(str(exc).split())}") from None
    for index, node in enumerate(nodes):
        if _scalar(_child(node, "kind")) != KEY_RESULT_KIND or _scalar(_child(node, "apiVersion")) != API_VERSION:
            continue
        found.append(Found(index, _scalar(_path(node, "metadata", "namespace")) or None, node))
    return found


def find_key_result(text: str, name: str, namespace: str | None, source: str) -> Found:
    """The one KeyResult document named ``name`` (in ``namespace`` when given; documents without a namespace
    match any, as ``kubectl apply -n`` would put them there)."""
    named = [f for f in _key_results(text) if _scalar(_path(f.node, "metadata", "name")) == name]
    if namespace is not None:
        exact = [f for f in named if f.namespace == namespace]
        named = exact or [f for f in named if f.namespace is None]
    if not named:
        where = f" in namespace {namespace}" if namespace else ""
        raise CheckInError(f"KeyResult {name}{where} not found in {source}")
    if len(named) > 1:
        spaces = ", ".join(sorted({f.namespace or "(none)" for f in named}))
        raise CheckInError(
            f"KeyResult {name} is in {source} {len(named)} times (namespaces: {spaces}); pass -n NAMESPACE"
        )
    return named[0]


def _check_ins(found: Found, name: str, source: str) -> SequenceNode:
    where = f"KeyResult {name} ({source} line {found.node.start_mark.line + 1})"
    sources = _path(found.node, "spec", "source")
    manual = _child(sources, "manual")
    if manual is None:
        kinds = [k.value for k, _ in sources.value] if isinstance(sources, MappingNode) else []
        measured = f"measured by source.{kinds[0]}" if kinds else "has no spec.source"
        raise CheckInError(f"{where} is {measured}, not by check-ins; only source.manual key results take them")
    seq = _child(manual, "checkIns")
    if not isinstance(seq, SequenceNode) or not seq.value:
        raise CheckInError(f"{where} has no spec.source.manual.checkIns list to add to")
    if seq.flow_style:
        raise CheckInError(f"{where}: checkIns is a flow list ([...]); write it as a block list (- date: ...) first")
    return seq


def _end_of_item(text: str, item: Node) -> int:
    """Offset just after the line where ``item`` (its last scalar, trailing comment included) ends."""
    node = item
    while isinstance(node, MappingNode | SequenceNode) and node.value:
        node = node.value[-1][1] if isinstance(node, MappingNode) else node.value[-1]
    content_end = len(text[: node.end_mark.index].rstrip())
    newline = text.find("\n", content_end)
    return len(text) if newline < 0 else newline + 1


def _entry_lines(check_in: CheckIn, dash: int, key: int) -> list[str]:
    when = check_in.date_text if isinstance(check_in.when, datetime) else check_in.when  # RFC 3339, quoted
    entry: dict[str, Any] = {"date": when, "value": check_in.value}
    if check_in.confidence is not None:
        entry["confidence"] = check_in.confidence
    if check_in.note:
        entry["note"] = check_in.note
    dumped = yaml.safe_dump(entry, sort_keys=False, allow_unicode=True, width=4096, default_flow_style=False)
    lines = dumped.splitlines()
    first = " " * dash + "-" + " " * (key - dash - 1) + lines[0]
    return [first, *(" " * key + line for line in lines[1:])]


def edit_text(text: str, name: str, namespace: str | None, check_in: CheckIn, source: str) -> Edit:
    """``text`` with ``check_in`` appended to KeyResult ``name``'s check-ins, validated; CheckInError if not."""
    found = find_key_result(text, name, namespace, source)
    seq = _check_ins(found, name, source)
    dash = seq.start_mark.column
    first = seq.value[0]
    key = first.start_mark.column if first.start_mark.line == seq.start_mark.line else dash + 2
    newline = "\r\n" if "\r\n" in text else "\n"
    at = _end_of_item(text, seq.value[-1])
    before = text[:at] if at == 0 or text[:at].endswith("\n") else text[:at] + newline
    insert = newline.join(_entry_lines(check_in, dash, max(key, dash + 2))) + newline
    edited = before + insert + text[at:]
    count = _verify(text, edited, found.index, check_in, source)
    return Edit(edited, found.index, before.count("\n") + 1, count)


def _documents(text: str, source: str) -> list[Any]:
    try:
        documents, problem = parse_documents(source, text.encode("utf-8"))
    except UnsafeYAMLError as exc:
        raise CheckInError(f"{source}: {exc}") from None
    if problem is not None:
        raise CheckInError(str(problem))
    return documents


def _verify(old: str, new: str, index: int, check_in: CheckIn, source: str) -> int:
    """The edited file read back: the other documents unchanged, the KeyResult one entry longer and valid."""
    before = {d.index: d.content for d in _documents(old, source)}
    after = {d.index: d.content for d in _documents(new, source)}
    if before.keys() != after.keys() or any(before[i] != after[i] for i in before if i != index):
        raise CheckInError(f"{source}: the edit would change other documents; add the check-in by hand")
    old_list = before[index]["spec"]["source"]["manual"]["checkIns"]
    new_list = after[index]["spec"]["source"]["manual"]["checkIns"]
    if new_list[:-1] != old_list or new_list[-1].get("value") != check_in.value:
        raise CheckInError(f"{source}: the edit would not append one check-in; add it by hand")
    doc = validate_document(source, index, after[index])
    errors = [p for p in doc.problems if p.severity == "error"]
    if errors:
        raise CheckInError(f"the edited KeyResult would not be valid: {errors[0]}")
    return len(new_list)


def read_text(path: Path) -> tuple[str, bool]:
    """A manifest file's text (within the loader's bounds) and whether it began with a byte-order mark."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckInError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return decode(data), data.startswith(BOM.encode("utf-8"))
    except UnsafeYAMLError as exc:
        raise CheckInError(f"{path}: {exc}") from None


def write_atomically(path: Path, text: str, *, bom: bool = False) -> None:
    """Replace ``path`` (a symlink's target) with ``text``: a temporary file in the same directory, flushed
    to disk, then renamed over it, so a reader sees the old file or the new one, never half of one."""
    real = path.resolve()
    mode = stat.S_IMODE(real.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write((BOM if bom else "") + text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # not every file system syncs directories
        dir_fd = os.open(real.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
