"""Text written into Prometheus rule files and queries: numbers, string literals, literal annotations.

Every renderer (SLO rules, key-result rules, the canary gate, the batched evaluation queries) writes user
values through these functions, so how a value is spelled in PromQL or YAML has one home.
"""

from __future__ import annotations

import math
from decimal import Decimal


def number(value: float) -> str:
    """A float as PromQL/YAML text without binary noise (0.0144, not 0.014400000000000001)."""
    return format(value, ".12g")


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(value: str) -> str:
    """A PromQL double-quoted string literal for ``value``: backslashes, quotes and control characters
    escaped as Go's strconv.Unquote (and so Prometheus) reads them."""
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def literal_text(text: str) -> str:
    """User text for an alert label value or annotation: Prometheus expands both as Go templates, so
    ``{{ $labels.x }}`` in user text would be executed and ``{{ broken`` would stop the whole rule file from
    loading; the text is written so that the template prints it literally (``{{`` becomes ``{{ "{{" }}``)."""
    return text.replace("{{", '{{ "{{" }}')


def literal_labels(labels: dict[str, str]) -> dict[str, str]:
    """Alert labels whose values render literally (see :func:`literal_text`)."""
    return {name: literal_text(value) for name, value in labels.items()}


def openmetrics_float(value: float) -> str:
    """``value`` as Prometheus writes float label values (``le``, ``quantile``) since 3.0: Go's shortest
    ``%g`` text with ``.0`` appended when it has neither ``.`` nor ``e`` (1 -> 1.0, 1e6 -> 1e+06)."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0.0"
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest_digits(abs(value))
    if exponent < -4 or exponent >= 6:  # Go's %g with the shortest precision switches to %e here
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    elif exponent < 0:
        text = "0." + "0" * (-exponent - 1) + digits
    elif len(digits) <= exponent + 1:
        text = digits + "0" * (exponent + 1 - len(digits))
    else:
        text = digits[: exponent + 1] + "." + digits[exponent + 1 :]
    if "." not in text and "e" not in text:
        text += ".0"
    return sign + text


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest decimal digits that round-trip ``value`` (> 0) and its decimal exponent (1.5e3 -> "15", 3)."""
    _sign, digit_tuple, exp = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    return digits, len(digits) + int(exp) - 1
