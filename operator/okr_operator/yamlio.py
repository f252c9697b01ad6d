"""Deterministic, readable YAML output: same input, byte-identical text.

Multi-line strings (long PromQL) are written as literal blocks instead of escaped one-liners.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
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
