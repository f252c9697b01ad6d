"""The check-in a person types: ``VALUE [--confidence C] [--note TEXT] [--date D]``, checked as the API
would check it, with a message naming the flag and the fix."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_NOTE = 1024  # CheckIn.note's max_length
FUTURE_SLACK = timedelta(days=1)  # a date "tomorrow" is fine somewhere on Earth


class CheckInError(ValueError):
    """A check-in that cannot be written; the message is one line for a person."""


@dataclass(frozen=True)
class CheckIn:
    """One check-in as it goes into ``spec.source.manual.checkIns``."""

    value: int | float
    when: date | datetime
    confidence: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The entry in the manifest's key order (date, value, confidence, note), as JSON would carry it."""
        out: dict[str, Any] = {"date": self.date_text, "value": self.value}
        if self.confidence is not None:
            out["confidence"] = self.confidence
        if self.note:
            out["note"] = self.note
        return out

    @property
    def date_text(self) -> str:
        """``2026-12-01`` for a day, RFC 3339 (``2026-12-01T10:00:00Z``) for an instant."""
        if isinstance(self.when, datetime):
            return self.when.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return self.when.isoformat()

    def describe(self) -> str:
        extra = f", confidence {self.confidence:g}" if self.confidence is not None else ""
        return f"{self.date_text}: {self.value:g}{extra}" + (f" ({self.note})" if self.note else "")


def parse_value(text: str) -> int | float:
    """A finite number; whole numbers stay whole (``41`` is written as 41, not 41.0)."""
    cleaned = text.strip()
    if _INTEGER.fullmatch(cleaned):
        return int(cleaned)
    try:
        number = float(cleaned)
    except ValueError:
        raise CheckInError(f"VALUE {text!r} is not a number; give the measured value, e.g. 42 or 0.35") from None
    if not math.isfinite(number):
        raise CheckInError(f"VALUE {text!r} is not a finite number; give the measured value, e.g. 42 or 0.35")
    return number


def parse_confidence(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        number = float(text.strip().removesuffix("%")) / (100 if text.strip().endswith("%") else 1)
    except ValueError:
        raise CheckInError(f"--confidence {text!r} is not a number; use 0..1, e.g. 0.8 (or 80%)") from None
    if not (math.isfinite(number) and 0 <= number <= 1):
        raise CheckInError(f"--confidence {text!r} is outside 0..1; use e.g. 0.8 for 80% confident")
    return number


def parse_when(text: str | None, now: datetime) -> date | datetime:
    """``--date``: a day (YYYY-MM-DD) or an RFC 3339 instant; default today (UTC). Not in the future."""
    if text is None:
        return now.astimezone(UTC).date()
    cleaned = text.strip()
    try:
        if _DATE.fullmatch(cleaned):
            when: date | datetime = date.fromisoformat(cleaned)
        else:
            instant = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
            when = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    except ValueError:
        raise CheckInError(
            f"--date {text!r} is not a date; use YYYY-MM-DD (2026-12-01) or RFC 3339 (2026-12-01T10:00:00Z)"
        ) from None
    start = datetime.combine(when, datetime.min.time(), tzinfo=UTC) if not isinstance(when, datetime) else when
    if start > now + FUTURE_SLACK:
        raise CheckInError(f"--date {text!r} is in the future; a check-in records a value already measured")
    return when


def parse_note(text: str | None) -> str:
    note = (text or "").strip()
    if len(note) > MAX_NOTE:
        raise CheckInError(f"--note is {len(note)} characters long; at most {MAX_NOTE}")
    return note


def parse_check_in(value: str, *, confidence: str | None, note: str | None, when: str | None, now: datetime) -> CheckIn:
    """The check-in of the command line, or CheckInError naming the bad flag."""
    return CheckIn(parse_value(value), parse_when(when, now), parse_confidence(confidence), parse_note(note))
