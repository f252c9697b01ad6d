"""Periods of objectives and key results: parsing, labels and elapsed fraction."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["ACCEPTED_FORMS", "Period", "PeriodError", "effective_period", "elapsed_fraction", "is_over", "parse_period"]

ACCEPTED_FORMS = "use YYYY-Qn, YYYY-MM, YYYY, start/end or {start, end}"

_QUARTER = re.compile(r"(\d{4})-[Qq](\d+)")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"\d{4}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DAY = timedelta(days=1)


class PeriodError(ValueError):
    """A period that cannot be parsed or is empty; the message names the accepted forms."""


_Fail = Callable[[str], PeriodError]


@dataclass(frozen=True)
class Period:
    """Half-open interval ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise PeriodError(f"period {name} {value!r} must be a timezone-aware datetime")
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.end <= self.start:
            raise PeriodError(f"period {_iso(self.start)}/{_iso(self.end)}: end must be after start; {ACCEPTED_FORMS}")

    @property
    def label(self) -> str:
        """``2026-Q4``, ``2026-11`` or ``2026`` for calendar periods, else ``start/end``.

        Whole-day periods show the inclusive last day (``2026-10-05/2026-12-18``); others show RFC 3339
        instants with the exclusive end.
        """
        start, end = self.start, self.end
        if _is_midnight(start) and _is_midnight(end):
            if start.day == 1 and end.day == 1:
                months = (end.year - start.year) * 12 + end.month - start.month
                if months == 12 and start.month == 1:
                    return f"{start.year:04d}"
                if months == 3 and start.month % 3 == 1:
                    return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
                if months == 1:
                    return f"{start.year:04d}-{start.month:02d}"
            return f"{start.date().isoformat()}/{(end - _DAY).date().isoformat()}"
        return f"{_iso(start)}/{_iso(end)}"


def parse_period(value: str | Mapping[str, str | date | datetime]) -> Period:
    """Parse ``YYYY-Qn``, ``YYYY-MM``, ``YYYY``, ``start/end`` or ``{start, end}`` into a :class:`Period`.

    In ``start/end`` (``2026-10-01/2026-12-31``, as the CRD stores it) and ``{start, end}`` a date means the
    whole day, so an end date is inclusive; a datetime (RFC 3339) is taken as given, the end being exclusive.
    Datetimes without an offset are read as UTC. ``Period.label`` parses back to the same period.
    """
    if isinstance(value, str):
        return _parse_label(value)
    if isinstance(value, Mapping):
        return _parse_mapping(value)
    hint = " (quote it in YAML)" if isinstance(value, int | date) else ""
    raise PeriodError(f"period {_describe(value)}: expected a string{hint} or a mapping; {ACCEPTED_FORMS}")


def elapsed_fraction(period: Period, now: datetime) -> float:
    """Fraction of ``period`` elapsed at ``now``, clamped to ``[0, 1]``."""
    if now.utcoffset() is None:
        raise ValueError(f"now {now!r} must be timezone-aware")
    fraction = (now - period.start) / (period.end - period.start)
    return min(max(fraction, 0.0), 1.0)


def effective_period(own: str | None, inherited: str | None) -> Period | None:
    """A key result's period: its own (``spec.period``), else its objective's; None when neither parses."""
    text = own or inherited
    if text is None:
        return None
    try:
        return parse_period(text)
    except PeriodError:
        return None


def is_over(period: Period, now: datetime) -> bool:
    """Whether ``period`` is over at ``now`` (its end is exclusive)."""
    return now >= period.end


def _parse_label(text: str) -> Period:
    label = text.strip()

    def fail(reason: str) -> PeriodError:
        return PeriodError(f"period {_describe(text)}: {reason}; {ACCEPTED_FORMS}")

    if match := _QUARTER.fullmatch(label):
        year, quarter = int(match[1]), int(match[2])
        if not 1 <= quarter <= 4:
            raise fail("quarter must be 1-4")
        return _calendar(year, 3 * quarter - 2, 3, fail)
    if match := _MONTH.fullmatch(label):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise fail("month must be 01-12")
        return _calendar(year, month, 1, fail)
    if _YEAR.fullmatch(label):
        return _calendar(int(label), 1, 12, fail)
    if label.count("/") == 1:
        start_text, end_text = label.split("/")
        return _interval(start_text, end_text, fail)
    raise fail("unrecognised period" if label else "empty period")


def _calendar(year: int, month: int, months: int, fail: _Fail) -> Period:
    if year < 1:
        raise fail("year must be 0001-9999")
    end_year, end_month = divmod(year * 12 + month - 1 + months, 12)
    if end_year > 9999:
        raise fail("period must end before year 10000")
    return Period(datetime(year, month, 1, tzinfo=UTC), datetime(end_year, end_month + 1, 1, tzinfo=UTC))


def _parse_mapping(value: Mapping[str, str | date | datetime]) -> Period:
    def fail(reason: str) -> PeriodError:
        return PeriodError(f"period {_describe(value)}: {reason}; {ACCEPTED_FORMS}")

    unknown = sorted(str(key) for key in value if key not in ("start", "end"))
    if unknown:
        raise fail(f"unknown field {', '.join(unknown)}")
    missing = [key for key in ("start", "end") if value.get(key) is None]
    if missing:
        raise fail(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required")
    return _interval(value["start"], value["end"], fail)


def _interval(raw_start: object, raw_end: object, fail: _Fail) -> Period:
    start = _instant(raw_start, is_end=False, fail=fail)
    end = _instant(raw_end, is_end=True, fail=fail)
    if end <= start:
        raise fail("end must be after start")
    return Period(start, end)


def _instant(raw: object, *, is_end: bool, fail: _Fail) -> datetime:
    name = "end" if is_end else "start"
    if isinstance(raw, str):
        text = raw.strip()
        try:
            raw = date.fromisoformat(text) if _DATE.fullmatch(text) else datetime.fromisoformat(text)
        except ValueError:
            raise fail(f"{name} {text!r} is not a date (YYYY-MM-DD) or RFC 3339 datetime") from None
    if isinstance(raw, datetime):
        return raw.replace(tzinfo=UTC) if raw.utcoffset() is None else raw.astimezone(UTC)
    if isinstance(raw, date):
        midnight = datetime.combine(raw, time(), tzinfo=UTC)
        if not is_end:
            return midnight
        try:
            return midnight + _DAY
        except OverflowError:
            raise fail(f"end {raw.isoformat()} is out of range") from None
    raise fail(f"{name} must be a date or datetime, not {type(raw).__name__}")


def _is_midnight(instant: datetime) -> bool:
    return instant.timetz().replace(tzinfo=None) == time()


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _describe(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {_scalar(item)}" for key, item in value.items()) + "}"
    return repr(value)


def _scalar(value: object) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
