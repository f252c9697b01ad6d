"""Text written into Prometheus rule files and queries: numbers, string literals, literal annotations.

Every renderer (SLO rules, key-result rules, the canary gate, the batched evaluation queries) writes user
values through these functions, so how a value is spelled in PromQL or YAML has one home.
"""

from __future__ import annotations


def number(value: float) -> str:
    """A float as PromQL/YAML text without binary noise (0.0144, not 0.014400000000000001)."""
    return format(value, ".12g")


def quote(value: str) -> str:
    """A PromQL double-quoted string literal for ``value`` (escapes backslashes and quotes)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def literal_text(text: str) -> str:
    """User text for an alert annotation: Prometheus expands annotations as Go templates, so ``{{`` in
    user text would be executed (or break rule loading); print it literally instead."""
    return text.replace("{{", '{{ "{{" }}')
