"""Periods: calendar forms, explicit ranges, labels, errors and the elapsed fraction."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okr_operator.okr import ACCEPTED_FORMS, Period, PeriodError, elapsed_fraction, parse_period


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-Q1", utc(2026, 1, 1), utc(2026, 4, 1), "2026-Q1"),
        ("2026-Q2", utc(2026, 4, 1), utc(2026, 7, 1), "2026-Q2"),
        ("2026-Q3", utc(2026, 7, 1), utc(2026, 10, 1), "2026-Q3"),
        ("2026-Q4", utc(2026, 10, 1), utc(2027, 1, 1), "2026-Q4"),
        ("2026-q4", utc(2026, 10, 1), utc(2027, 1, 1), "2026-Q4"),
        (" 2026-Q4 ", utc(2026, 10, 1), utc(2027, 1, 1), "2026-Q4"),
        ("2026-11", utc(2026, 11, 1), utc(2026, 12, 1), "2026-11"),
        ("2026-12", utc(2026, 12, 1), utc(2027, 1, 1), "2026-12"),
        ("2026-1", utc(2026, 1, 1), utc(2026, 2, 1), "2026-01"),
        ("2026", utc(2026, 1, 1), utc(2027, 1, 1), "2026"),
        ("9999-Q3", utc(9999, 7, 1), utc(9999, 10, 1), "9999-Q3"),
        ("0001", utc(1, 1, 1), utc(2, 1, 1), "0001"),
    ],
)
def test_calendar_periods(text, start, end, label):
    period = parse_period(text)
    assert period == Period(start, end)
    assert period.label == label


def test_leap_years():
    assert parse_period("2024-02").end - parse_period("2024-02").start == timedelta(days=29)
    assert parse_period("2026-02").end - parse_period("2026-02").start == timedelta(days=28)
    assert parse_period("2100-02").end - parse_period("2100-02").start == timedelta(days=28)
    assert parse_period("2000-02").end - parse_period("2000-02").start == timedelta(days=29)
    assert parse_period("2024").end - parse_period("2024").start == timedelta(days=366)
    assert parse_period("2026").end - parse_period("2026").start == timedelta(days=365)
    assert parse_period("2024-Q1").end - parse_period("2024-Q1").start == timedelta(days=91)
    assert parse_period("2026-Q1").end - parse_period("2026-Q1").start == timedelta(days=90)
    leap_day = parse_period({"start": "2024-02-29", "end": "2024-02-29"})
    assert leap_day == Period(utc(2024, 2, 29), utc(2024, 3, 1))
    assert leap_day.label == "2024-02-29/2024-02-29"


def test_explicit_dates_include_the_end_day():
    period = parse_period({"start": "2026-10-01", "end": "2026-12-31"})
    assert period == Period(utc(2026, 10, 1), utc(2027, 1, 1))
    assert period.label == "2026-Q4"


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-10-01/2026-12-31", utc(2026, 10, 1), utc(2027, 1, 1), "2026-Q4"),
        ("2026-10-05/2026-12-18", utc(2026, 10, 5), utc(2026, 12, 19), "2026-10-05/2026-12-18"),
        ("2026-10-01/2026-10-01", utc(2026, 10, 1), utc(2026, 10, 2), "2026-10-01/2026-10-01"),
        ("2024-02-01/2024-02-29", utc(2024, 2, 1), utc(2024, 3, 1), "2024-02"),
        (
            "2026-10-01T10:00:00Z/2026-10-02T00:00:00Z",
            utc(2026, 10, 1, 10),
            utc(2026, 10, 2),
            "2026-10-01T10:00:00Z/2026-10-02T00:00:00Z",
        ),
    ],
)
def test_start_end_strings_as_stored_by_the_crd(text, start, end, label):
    period = parse_period(text)
    assert period == Period(start, end)
    assert period.label == label


def test_explicit_date_objects():
    period = parse_period({"start": date(2026, 10, 5), "end": date(2026, 12, 18)})
    assert period == Period(utc(2026, 10, 5), utc(2026, 12, 19))
    assert period.label == "2026-10-05/2026-12-18"


def test_explicit_datetimes_are_taken_as_given():
    period = parse_period({"start": "2026-10-01T12:00:00+02:00", "end": "2026-10-02T00:00:00Z"})
    assert period == Period(utc(2026, 10, 1, 10), utc(2026, 10, 2))
    assert period.start.tzinfo is UTC
    assert period.label == "2026-10-01T10:00:00Z/2026-10-02T00:00:00Z"


def test_explicit_datetime_end_at_midnight_is_exclusive():
    period = parse_period({"start": "2026-10-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"})
    assert period == Period(utc(2026, 10, 1), utc(2026, 12, 31))
    assert period.label == "2026-10-01/2026-12-30"


def test_explicit_datetime_objects_and_naive_as_utc():
    aware = datetime(2026, 10, 1, 8, tzinfo=timezone(timedelta(hours=-5)))
    period = parse_period({"start": aware, "end": datetime(2026, 10, 2)})
    assert period == Period(utc(2026, 10, 1, 13), utc(2026, 10, 2))
    naive_text = parse_period({"start": "2026-10-01T06:30:00", "end": "2026-10-01"})
    assert naive_text == Period(utc(2026, 10, 1, 6, 30), utc(2026, 10, 2))


def test_mixed_date_start_and_datetime_end():
    period = parse_period({"start": "2026-10-01", "end": "2026-10-01T18:00:00Z"})
    assert period == Period(utc(2026, 10, 1), utc(2026, 10, 1, 18))


def test_month_and_year_labels_of_explicit_ranges():
    assert parse_period({"start": "2026-11-01", "end": "2026-11-30"}).label == "2026-11"
    assert parse_period({"start": "2026-01-01", "end": "2026-12-31"}).label == "2026"
    # three months not aligned to a quarter
    assert parse_period({"start": "2026-02-01", "end": "2026-04-30"}).label == "2026-02-01/2026-04-30"


FORMS = "; use YYYY-Qn, YYYY-MM, YYYY, start/end or {start, end}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-Q5", 'period "2026-Q5": quarter must be 1-4'),
        ("2026-Q0", 'period "2026-Q0": quarter must be 1-4'),
        ("2026-13", 'period "2026-13": month must be 01-12'),
        ("2026-00", 'period "2026-00": month must be 01-12'),
        ("0000", 'period "0000": year must be 0001-9999'),
        ("9999-Q4", 'period "9999-Q4": period must end before year 10000'),
        ("9999", 'period "9999": period must end before year 10000'),
        ("Q4 2026", 'period "Q4 2026": unrecognised period'),
        ("26-Q4", 'period "26-Q4": unrecognised period'),
        ("2026-10-01", 'period "2026-10-01": unrecognised period'),
        ("", 'period "": empty period'),
        ("2026-10-02/2026-10-01", 'period "2026-10-02/2026-10-01": end must be after start'),
        ("2026-10-01/", "period \"2026-10-01/\": end '' is not a date (YYYY-MM-DD) or RFC 3339 datetime"),
        (
            "2026-10-01/2026-13-01",
            "period \"2026-10-01/2026-13-01\": end '2026-13-01' is not a date (YYYY-MM-DD) or RFC 3339 datetime",
        ),
        ("2026-Q1/2026-Q2", "period \"2026-Q1/2026-Q2\": start '2026-Q1' is not a date"),
        ("a/b/c", 'period "a/b/c": unrecognised period'),
        (
            {"start": "2026-10-01", "end": "2026-09-30"},
            "period {start: 2026-10-01, end: 2026-09-30}: end must be after start",
        ),
        (
            {"start": "2026-10-02T00:00:00Z", "end": "2026-10-01"},
            "period {start: 2026-10-02T00:00:00Z, end: 2026-10-01}: end must be after start",
        ),
        (
            {"start": "2026-10-01T00:00:00Z", "end": "2026-10-01T00:00:00Z"},
            "period {start: 2026-10-01T00:00:00Z, end: 2026-10-01T00:00:00Z}: end must be after start",
        ),
        ({"start": "2026-10-01"}, "period {start: 2026-10-01}: end is required"),
        ({}, "period {}: start and end are required"),
        ({"start": None, "end": "2026-10-01"}, "period {start: None, end: 2026-10-01}: start is required"),
        (
            {"start": "2026-10-01", "end": "2026-12-31", "timezone": "UTC"},
            "period {start: 2026-10-01, end: 2026-12-31, timezone: UTC}: unknown field timezone",
        ),
        (
            {"start": "first of october", "end": "2026-12-31"},
            "period {start: first of october, end: 2026-12-31}: start 'first of october' is not a date "
            "(YYYY-MM-DD) or RFC 3339 datetime",
        ),
        (
            {"start": "2026-10-01", "end": "2026-02-30"},
            "period {start: 2026-10-01, end: 2026-02-30}: end '2026-02-30' is not a date (YYYY-MM-DD) "
            "or RFC 3339 datetime",
        ),
        (
            {"start": 20261001, "end": "2026-12-31"},
            "period {start: 20261001, end: 2026-12-31}: start must be a date",
        ),
        (
            {"start": "2026-01-01", "end": "9999-12-31"},
            "period {start: 2026-01-01, end: 9999-12-31}: end 9999-12-31 is out of range",
        ),
        (2026, "period 2026: expected a string (quote it in YAML) or a mapping"),
        (["2026-Q4"], "period ['2026-Q4']: expected a string or a mapping"),
    ],
)
def test_bad_periods_name_the_accepted_forms(value, message):
    with pytest.raises(PeriodError) as caught:
        parse_period(value)
    assert str(caught.value).startswith(message)
    assert str(caught.value).endswith(FORMS)
    assert isinstance(caught.value, ValueError)


def test_accepted_forms_constant():
    assert ACCEPTED_FORMS == "use YYYY-Qn, YYYY-MM, YYYY, start/end or {start, end}"


def test_period_constructor_validates():
    with pytest.raises(PeriodError, match="must be a timezone-aware datetime"):
        Period(datetime(2026, 10, 1), utc(2027, 1, 1))
    with pytest.raises(PeriodError, match="end must be after start"):
        Period(utc(2027, 1, 1), utc(2026, 10, 1))
    with pytest.raises(PeriodError, match="end must be after start"):
        Period(utc(2026, 10, 1), utc(2026, 10, 1))


def test_period_normalises_to_utc_and_is_frozen():
    plus2 = timezone(timedelta(hours=2))
    period = Period(datetime(2026, 10, 1, 2, tzinfo=plus2), datetime(2027, 1, 1, 2, tzinfo=plus2))
    assert period.start == utc(2026, 10, 1)
    assert period.start.tzinfo is UTC
    assert period.label == "2026-Q4"
    with pytest.raises(AttributeError):
        period.start = utc(2026, 1, 1)  # type: ignore[misc]


Q4 = parse_period("2026-Q4")  # 92 days


@pytest.mark.parametrize(
    ("now", "fraction"),
    [
        (utc(2026, 9, 1), 0.0),
        (utc(2026, 10, 1), 0.0),
        (utc(2026, 11, 16), 0.5),
        (utc(2026, 10, 24), 0.25),
        (utc(2027, 1, 1), 1.0),
        (utc(2027, 3, 1), 1.0),
    ],
)
def test_elapsed_fraction(now, fraction):
    assert elapsed_fraction(Q4, now) == fraction


def test_elapsed_fraction_respects_offsets():
    minus5 = timezone(timedelta(hours=-5))
    assert elapsed_fraction(Q4, datetime(2026, 11, 15, 19, tzinfo=minus5)) == 0.5


def test_elapsed_fraction_needs_aware_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        elapsed_fraction(Q4, datetime(2026, 11, 16))


@settings(deadline=None)
@given(
    year=st.integers(1, 9998),
    quarter=st.integers(1, 4),
    month=st.integers(1, 12),
)
def test_calendar_labels_round_trip(year, quarter, month):
    for text in (f"{year:04d}-Q{quarter}", f"{year:04d}-{month:02d}", f"{year:04d}"):
        period = parse_period(text)
        assert period.label == text
        assert parse_period(period.label) == period


@settings(deadline=None)
@given(
    start=st.dates(min_value=date(1970, 1, 1), max_value=date(2200, 1, 1)),
    days=st.integers(0, 800),
)
def test_explicit_dates_cover_whole_days(start, days):
    end = start + timedelta(days=days)
    period = parse_period({"start": start.isoformat(), "end": end.isoformat()})
    assert period.end - period.start == timedelta(days=days + 1)
    assert elapsed_fraction(period, period.start) == 0.0
    assert elapsed_fraction(period, period.end) == 1.0


@settings(deadline=None)
@given(offset=st.floats(-10.0, 10.0, allow_nan=False))
def test_elapsed_fraction_is_clamped(offset):
    now = Q4.start + offset * (Q4.end - Q4.start)
    assert 0.0 <= elapsed_fraction(Q4, now) <= 1.0


@settings(deadline=None)
@given(
    start=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
    length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=800)),
)
def test_every_label_parses_back_to_its_period(start, length):
    period = Period(start, start + length)
    assert parse_period(period.label) == period
