"""Read manifest files we do not trust: bounded in size, documents and alias expansion, UTF-8 only.

What kubectl and the apiserver would refuse is refused here too, with one line each: binary files,
UTF-16 or other non-UTF-8 text, duplicate mapping keys, and YAML whose aliases expand into a huge
document (a "billion laughs" file stays small on disk but becomes gigabytes once expanded). Anchors and
aliases are still allowed within :data:`MAX_NODES` nodes once expanded.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

MAX_FILE_BYTES = 4 * 1024 * 1024  # the apiserver refuses requests over 3 MiB; room for several objects
MAX_DOCUMENTS = 1000
MAX_NODES = 200_000  # nodes once every alias is expanded, per document
MAX_DEPTH = 100

_BASE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UnsafeYAMLError(ValueError):
    """Input this reader refuses; the message is one line for a person."""


@dataclass(frozen=True)
class LoadedDocument:
    index: int
    content: Any


def decode(data: bytes) -> str:
    """UTF-8 text of a manifest file (a UTF-8 byte-order mark is dropped); UnsafeYAMLError otherwise."""
    if len(data) > MAX_FILE_BYTES:
        raise UnsafeYAMLError(f"file is {len(data)} bytes; manifests are at most {MAX_FILE_BYTES} bytes")
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
                      (codecs.BOM_UTF16_BE, "UTF-16")):  # fmt: skip
        if data.startswith(bom):
            raise UnsafeYAMLError(f"file is {name} text; save it as UTF-8")
    if b"\x00" in data:
        raise UnsafeYAMLError("file is binary (it contains NUL bytes), not a YAML manifest")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsafeYAMLError(f"file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


class _Loader(_BASE_LOADER):
    """Safe loader that refuses duplicate keys (the apiserver's decoder does too)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in result
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (each key may appear once in a mapping)", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=deep)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in ``root`` with every alias expanded (aliases share nodes: counted once per use), stopping
    early past the limit; recursive aliases and deep nesting are refused."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int, path: set[int]) -> int:
        if depth > MAX_DEPTH:
            raise UnsafeYAMLError(f"YAML nested more than {MAX_DEPTH} levels deep")
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in path:
            raise UnsafeYAMLError("YAML alias refers to itself (a recursive structure)")
        total = 1
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            path.add(key)
            children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
            for child in children:
                total += size(child, depth + 1, path)
                if total > MAX_NODES:
                    raise UnsafeYAMLError(
                        f"YAML expands to more than {MAX_NODES} nodes once its aliases are expanded "
                        "(an alias bomb?); write the document out without so many aliases"
                    )
            path.discard(key)
        sizes[key] = total
        return total

    return size(root, 0, set())


def load_documents(text: str) -> Iterator[LoadedDocument]:
    """Every non-empty document of ``text``; UnsafeYAMLError or yaml.YAMLError (with a mark) on bad input."""
    loader = _Loader(text)
    try:
        index = 0
        while loader.check_node():
            if index >= MAX_DOCUMENTS:
                raise UnsafeYAMLError(f"more than {MAX_DOCUMENTS} YAML documents in one file")
            node = loader.get_node()
            if node is not None:
                _expanded_size(node)
                content = loader.construct_document(node)
                if content is not None:
                    yield LoadedDocument(index, content)
            index += 1
    except RecursionError:
        raise UnsafeYAMLError(f"YAML nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
