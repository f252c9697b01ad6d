"""Deterministic, readable YAML output: same input, byte-identical text.

Multi-line strings (long PromQL) are written as literal blocks instead of escaped one-liners. A string that a
YAML 1.2 or Go reader (kubectl, Argo CD, prometheus-operator) would take for a number, a boolean or null is
quoted, also where PyYAML (YAML 1.1) would write it plain: ``1234e567`` (a tile's indicator hash can look like
that), ``0o17``, ``y``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    pass


# Plain scalars other YAML readers resolve to something else than a string (YAML 1.2 core schema, go-yaml).
_NOT_A_STRING = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|[-+]?0[bB][01_]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[yYnN]|~|null|Null|NULL"
)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        style: str | None = "|"
    else:
        style = "'" if _NOT_A_STRING.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(obj: Any) -> str:
    """One YAML document, keys in insertion order."""
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)


def dump_all(objs: Iterable[Any]) -> str:
    """Several documents separated by ``---``."""
    return yaml.dump_all(
        list(objs), Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True, explicit_start=True
    )
