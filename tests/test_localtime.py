"""Instants and the local calendar (rewardlang.localtime): LANGUAGE.md §2.1, §2.3, §4, §5.

Hand-checked cases carry their arithmetic in a comment. Europe/Stockholm is CET (+01:00) in
winter and CEST (+02:00) in summer; in 2026 the clocks go 02:00 → 03:00 on 29 March (01:00Z)
and 03:00 → 02:00 on 25 October (01:00Z).
"""

from __future__ import annotations

import copy
import functools
import datetime as dt
import pickle
import zoneinfo
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rewardlang import ast
from rewardlang.localtime import (
    add,
    age,
    duration_parts,
    format_instant,
    in_date_window,
    in_time_window,
    local_date,
    local_datetime,
    local_midnight,
    local_time,
    next_birthday,
    parse_instant,
    period_key,
    resolve,
    subtract,
    weekday,
    window_exit,
    zone,
    zone_names,
)

UTC = dt.timezone.utc
STO = zone("Europe/Stockholm")
UTCZ = zone("UTC")


def Z(text: str) -> dt.datetime:
    """A UTC instant from ISO text (with an offset or Z)."""
    value = parse_instant(text)
    assert value is not None, text
    return value


def fmt(instant: dt.datetime) -> str:
    return format_instant(instant)


# ---------------------------------------------------------------------------- parse / format


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T10:15:00+01:00", "2026-03-01T09:15:00Z"),
        ("2026-03-01T09:15:00Z", "2026-03-01T09:15:00Z"),
        ("2026-03-01t09:15:00Z", "2026-03-01T09:15:00Z"),
        ("2026-03-01T09:15:00.25+01:00", "2026-03-01T08:15:00.25Z"),
        ("2026-03-01T09:15:00.25Z", "2026-03-01T09:15:00.25Z"),
        ("2026-03-01T09:15:00.250000Z", "2026-03-01T09:15:00.25Z"),
        ("2026-03-01T09:15:00.000001Z", "2026-03-01T09:15:00.000001Z"),
        ("2026-03-01T09:15:00.123456-05:30", "2026-03-01T14:45:00.123456Z"),
        ("2026-03-01T00:30:00+02:00", "2026-02-28T22:30:00Z"),  # the day before in UTC
        ("2026-03-01T09:15Z", "2026-03-01T09:15:00Z"),
    ],
)
def test_parse_then_format(text, expected):
    instant = parse_instant(text)
    assert instant is not None and instant.tzinfo is UTC
    assert format_instant(instant) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T09:15:00",  # no offset: not an instant
        "2026-03-01",  # a date
        "garbage",
        "",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-03-01T25:00:00Z",
        "2026-03-01 09:15:00" + " " * 60 + "Z",  # too long
        None,
        20260301,
        ["2026-03-01T09:15:00Z"],
    ],
)
def test_parse_rejects(text):
    assert parse_instant(text) is None


def test_format_converts_to_utc_and_drops_empty_fraction():
    cet = dt.timezone(dt.timedelta(hours=1))
    assert format_instant(dt.datetime(2026, 3, 1, 10, 15, tzinfo=cet)) == "2026-03-01T09:15:00Z"
    assert format_instant(dt.datetime(2026, 3, 1, 9, 15, 0, 500000, tzinfo=UTC)) == "2026-03-01T09:15:00.5Z"


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_format_parse_round_trip(instant):
    assert parse_instant(format_instant(instant)) == instant


# ---------------------------------------------------------------------------- zones


def test_zone_is_cached_and_from_tzdata():
    assert zone("Europe/Stockholm") is STO
    assert isinstance(STO, zoneinfo.ZoneInfo)
    assert STO.key == str(STO) == "Europe/Stockholm"
    assert "Europe/Stockholm" in zone_names() and "UTC" in zone_names()
    assert UTCZ.utcoffset(dt.datetime(2026, 7, 1)) == dt.timedelta(0)


@pytest.mark.parametrize("name", ["Europe/Stockholmm", "europe/stockholm", "../etc/passwd", "/etc/localtime", "", "Europe"])
def test_unknown_zone(name):
    with pytest.raises(zoneinfo.ZoneInfoNotFoundError):
        zone(name)


def test_zone_pickles_and_copies_to_the_cached_object():
    assert pickle.loads(pickle.dumps(STO)) is STO
    assert copy.deepcopy(STO) is STO and copy.copy(STO) is STO


# ---------------------------------------------------------------------------- add / subtract


@pytest.mark.parametrize(
    ("start", "count", "unit", "expected"),
    [
        # month ends: the day is cut to the target month's last day
        ("2026-01-31T12:00:00Z", 1, "month", "2026-02-28T12:00:00Z"),  # Feb 2026 has 28 days
        ("2024-01-31T12:00:00Z", 1, "month", "2024-02-29T12:00:00Z"),  # 2024 is a leap year
        ("2026-01-31T12:00:00Z", 2, "month", "2026-03-31T12:00:00Z"),  # not via Feb 28
        ("2026-03-31T12:00:00Z", 1, "month", "2026-04-30T12:00:00Z"),
        ("2026-12-15T08:00:00Z", 1, "month", "2027-01-15T08:00:00Z"),  # over the year end
        ("2026-11-30T08:00:00Z", 14, "month", "2028-01-30T08:00:00Z"),  # 11 + 14 = 25 → Jan, +2 y
        ("2024-02-29T00:00:00Z", 1, "year", "2025-02-28T00:00:00Z"),
        ("2024-02-29T00:00:00Z", 4, "year", "2028-02-29T00:00:00Z"),
        ("2026-01-01T00:00:00Z", 12, "month", "2027-01-01T00:00:00Z"),
        ("2026-02-28T23:59:59.5Z", 1, "day", "2026-03-01T23:59:59.5Z"),  # 2026: no Feb 29
        ("2024-02-28T10:00:00Z", 1, "day", "2024-02-29T10:00:00Z"),
        ("2026-01-01T10:00:00Z", 2, "week", "2026-01-15T10:00:00Z"),
        ("2026-01-01T10:00:00Z", 0, "month", "2026-01-01T10:00:00Z"),
    ],
)
def test_add_utc(start, count, unit, expected):
    assert fmt(add(Z(start), count, unit, UTCZ)) == expected


@pytest.mark.parametrize(
    ("start", "count", "unit", "expected"),
    [
        ("2026-03-31T12:00:00Z", 1, "month", "2026-02-28T12:00:00Z"),
        ("2025-02-28T00:00:00Z", 1, "year", "2024-02-28T00:00:00Z"),
        ("2024-02-29T00:00:00Z", 1, "year", "2023-02-28T00:00:00Z"),
        ("2026-01-15T08:00:00Z", 1, "month", "2025-12-15T08:00:00Z"),
        ("2026-03-01T00:00:00Z", 1, "day", "2026-02-28T00:00:00Z"),
        ("2026-01-08T00:00:00Z", 1, "week", "2026-01-01T00:00:00Z"),
    ],
)
def test_subtract_utc(start, count, unit, expected):
    assert fmt(subtract(Z(start), count, unit, UTCZ)) == expected


@pytest.mark.parametrize(
    ("start", "count", "unit", "expected"),
    [
        # spring forward, 2026-03-29: 02:00 CET → 03:00 CEST at 01:00Z
        # 03-28 10:00 CET (09:00Z) + 1 day = 03-29 10:00 CEST = 08:00Z: a 23-hour day
        ("2026-03-28T09:00:00Z", 1, "day", "2026-03-29T08:00:00Z"),
        # 03-28 02:30 CET (01:30Z) + 1 day = 03-29 02:30, which does not exist:
        # forward to the first time that does, 03:00 CEST = 01:00Z (not 03:30)
        ("2026-03-28T01:30:00Z", 1, "day", "2026-03-29T01:00:00Z"),
        # 03-22 02:00 CET (01:00Z) + 1 week = 03-29 02:00, the gap's first minute → 03:00 CEST
        ("2026-03-22T01:00:00Z", 1, "week", "2026-03-29T01:00:00Z"),
        # 02-28 02:59:59.5 CET + 1 month (Feb 28 → Mar 28) is fine: no gap on the 28th
        ("2026-02-28T01:59:59.5Z", 1, "month", "2026-03-28T01:59:59.5Z"),
        # 02-29 is no date in 2026: 2026-01-29 02:15 CET (01:15Z) + 2 months = 03-29 02:15 → 01:00Z
        ("2026-01-29T01:15:00Z", 2, "month", "2026-03-29T01:00:00Z"),
        # 03-29 03:00 CEST (01:00Z) − 1 day = 03-28 03:00 CET = 02:00Z
        ("2026-03-29T01:00:00Z", -1, "day", "2026-03-28T02:00:00Z"),
        # autumn back, 2026-10-25: 03:00 CEST → 02:00 CET at 01:00Z; 02:00-02:59 happens twice
        # 10-24 12:00 CEST (10:00Z) + 1 day = 10-25 12:00 CET = 11:00Z: a 25-hour day
        ("2026-10-24T10:00:00Z", 1, "day", "2026-10-25T11:00:00Z"),
        # 10-24 02:30 CEST (00:30Z) + 1 day = 10-25 02:30, twice: the first (CEST) = 00:30Z
        ("2026-10-24T00:30:00Z", 1, "day", "2026-10-25T00:30:00Z"),
        # 10-18 02:30 CEST + 1 week, the same
        ("2026-10-18T00:30:00Z", 1, "week", "2026-10-25T00:30:00Z"),
        # 09-25 02:30 CEST + 1 month, the same
        ("2026-09-25T00:30:00Z", 1, "month", "2026-10-25T00:30:00Z"),
        # the second 02:30 (CET, 01:30Z) + 1 day = 10-26 02:30 CET = 01:30Z
        ("2026-10-25T01:30:00Z", 1, "day", "2026-10-26T01:30:00Z"),
        # ... and − 1 day = 10-24 02:30 CEST = 00:30Z (25 hours back)
        ("2026-10-25T01:30:00Z", -1, "day", "2026-10-24T00:30:00Z"),
        # 12 months from summer to summer keep the wall clock: 2026-07-01 10:00 CEST = 08:00Z
        ("2025-07-01T08:00:00Z", 12, "month", "2026-07-01T08:00:00Z"),
        # winter to summer: 01-15 10:00 CET (09:00Z) + 6 months = 07-15 10:00 CEST = 08:00Z
        ("2026-01-15T09:00:00Z", 6, "month", "2026-07-15T08:00:00Z"),
        # 0: the instant itself, even as the second occurrence of 02:30
        ("2026-10-25T01:30:00Z", 0, "day", "2026-10-25T01:30:00Z"),
    ],
)
def test_add_stockholm(start, count, unit, expected):
    assert fmt(add(Z(start), count, unit, STO)) == expected


def test_subtract_stockholm_window_start():
    # a window (t − 1 day, t] at 03-29 12:00 CEST (10:00Z) starts 03-28 12:00 CET = 11:00Z
    assert fmt(subtract(Z("2026-03-29T10:00:00Z"), 1, "day", STO)) == "2026-03-28T11:00:00Z"
    # (t − 1 month, t] at 04-29 02:30 CEST starts 03-29 02:30 → the gap's end 03:00 CEST = 01:00Z
    assert fmt(subtract(Z("2026-04-29T00:30:00Z"), 1, "month", STO)) == "2026-03-29T01:00:00Z"


def test_add_rejects_naive_and_unknown_unit():
    with pytest.raises(ValueError):
        add(dt.datetime(2026, 1, 1), 1, "day", STO)
    with pytest.raises(ValueError):
        add(Z("2026-01-01T00:00:00Z"), 1, "fortnight", STO)
    with pytest.raises(ValueError):
        add(Z("2026-01-01T00:00:00Z"), 0, "days", STO)


def test_add_out_of_range_is_overflow():
    for unit in ("day", "week", "month", "year"):
        with pytest.raises(OverflowError):
            add(Z("9999-06-01T00:00:00Z"), 10_000, unit, STO)
        with pytest.raises(OverflowError):
            subtract(Z("0002-06-01T00:00:00Z"), 10_000, unit, UTCZ)


def test_resolve_gap_and_fold():
    # 03-29 02:00:00 to 02:59:59.999999 do not exist: all go to 03:00 CEST = 01:00Z
    for minute in (0, 1, 30, 59):
        assert fmt(resolve(dt.datetime(2026, 3, 29, 2, minute, 59, 999999), STO)) == "2026-03-29T01:00:00Z"
    assert fmt(resolve(dt.datetime(2026, 3, 29, 1, 59, 59), STO)) == "2026-03-29T00:59:59Z"
    assert fmt(resolve(dt.datetime(2026, 3, 29, 3, 0), STO)) == "2026-03-29T01:00:00Z"
    # 10-25 02:30 happens twice; fold=1 asks for the second, still the first is taken
    assert fmt(resolve(dt.datetime(2026, 10, 25, 2, 30, fold=1), STO)) == "2026-10-25T00:30:00Z"
    assert fmt(resolve(dt.datetime(2026, 10, 25, 3, 0), STO)) == "2026-10-25T02:00:00Z"


# ---------------------------------------------------------------------------- local views


def test_local_views():
    t = Z("2026-03-01T23:30:00Z")  # 2026-03-02 00:30 CET, a Monday
    assert local_date(t, STO) == dt.date(2026, 3, 2)
    assert local_time(t, STO) == dt.time(0, 30)
    assert weekday(t, STO) == 0
    assert local_date(t, UTCZ) == dt.date(2026, 3, 1)
    assert weekday(t, UTCZ) == 6  # Sunday in UTC
    assert local_datetime(t, STO) == dt.datetime(2026, 3, 2, 0, 30)
    # both 02:30s of 10-25 read 02:30
    assert local_time(Z("2026-10-25T00:30:00Z"), STO) == local_time(Z("2026-10-25T01:30:00Z"), STO) == dt.time(2, 30)


def test_local_views_reject_naive():
    for view in (local_date, local_time, weekday):
        with pytest.raises(ValueError):
            view(dt.datetime(2026, 1, 1), STO)


@pytest.mark.parametrize(
    ("instant", "period", "tz", "expected"),
    [
        ("2026-03-01T10:00:00Z", "day", "UTC", "2026-03-01"),
        ("2026-03-01T10:00:00Z", "week", "UTC", "2026-W09"),  # Sunday 1 March closes W09
        ("2026-03-02T00:00:00Z", "week", "UTC", "2026-W10"),  # Monday opens W10
        ("2026-03-01T10:00:00Z", "month", "UTC", "2026-03"),
        ("2026-03-01T10:00:00Z", "year", "UTC", "2026"),
        # ISO weeks at year edges: the week belongs to the year of its Thursday
        ("2026-12-31T12:00:00Z", "week", "UTC", "2026-W53"),  # Thu 31 Dec 2026: 2026 has 53 weeks
        ("2027-01-01T12:00:00Z", "week", "UTC", "2026-W53"),  # Fri 1 Jan 2027, same week
        ("2027-01-03T23:59:59Z", "week", "UTC", "2026-W53"),  # Sun 3 Jan 2027 ends it
        ("2027-01-04T00:00:00Z", "week", "UTC", "2027-W01"),  # Mon 4 Jan 2027
        ("2020-12-31T12:00:00Z", "week", "UTC", "2020-W53"),  # Thu 31 Dec 2020
        ("2021-01-01T12:00:00Z", "week", "UTC", "2020-W53"),
        ("2024-12-30T12:00:00Z", "week", "UTC", "2025-W01"),  # Mon 30 Dec 2024: 2025's first week
        ("2027-01-01T12:00:00Z", "year", "UTC", "2027"),  # the year is the calendar year
        # Stockholm: 23:30Z on the last day of a month is 00:30 (CET) of the next, locally
        ("2026-01-31T23:30:00Z", "day", "Europe/Stockholm", "2026-02-01"),
        ("2026-01-31T23:30:00Z", "month", "Europe/Stockholm", "2026-02"),
        ("2026-01-31T22:59:59Z", "month", "Europe/Stockholm", "2026-01"),  # 23:59:59 CET
        ("2026-01-31T23:00:00Z", "month", "Europe/Stockholm", "2026-02"),  # 00:00 CET
        ("2026-06-30T21:59:59Z", "month", "Europe/Stockholm", "2026-06"),  # 23:59:59 CEST
        ("2026-06-30T22:00:00Z", "month", "Europe/Stockholm", "2026-07"),  # 00:00 CEST
        ("2026-12-31T23:00:00Z", "year", "Europe/Stockholm", "2027"),
        ("2026-12-31T23:00:00Z", "week", "Europe/Stockholm", "2026-W53"),  # Fri 1 Jan 2027 00:00
        ("2027-01-03T23:00:00Z", "week", "Europe/Stockholm", "2027-W01"),  # Mon 4 Jan 00:00 CET
        ("2027-01-03T22:59:59Z", "week", "Europe/Stockholm", "2026-W53"),
    ],
)
def test_period_key(instant, period, tz, expected):
    assert period_key(Z(instant), period, zone(tz)) == expected


def test_period_key_unknown_period():
    with pytest.raises(ValueError):
        period_key(Z("2026-01-01T00:00:00Z"), "total", UTCZ)


def test_day_does_not_go_back_when_the_clock_goes_back_across_midnight():
    # St. John's, 2000-10-29: 00:01 NDT (−02:30) went back to 23:01 NST (−03:30) on the 28th,
    # at 02:31Z. The 29th began at 02:30Z (00:00 NDT); the repeated hour stays in the 29th.
    nf = zone("America/St_Johns")
    t = Z("2000-10-29T02:40:00Z")  # wall clock 2000-10-28 23:10 NST
    assert local_datetime(t, nf) == dt.datetime(2000, 10, 28, 23, 10)
    assert fmt(local_midnight(dt.date(2000, 10, 29), nf)) == "2000-10-29T02:30:00Z"
    assert local_date(t, nf) == dt.date(2000, 10, 29)
    assert period_key(t, "day", nf) == "2000-10-29"
    assert weekday(t, nf) == 6  # Sunday 29 October
    assert in_date_window(t, dt.date(2000, 10, 29), dt.date(2000, 10, 29), nf)
    assert local_time(t, nf) == dt.time(23, 10)  # the wall clock, for `between`


# ---------------------------------------------------------------------------- windows


T = dt.time


@pytest.mark.parametrize(
    ("instant", "start", "end", "expected"),
    [
        ("2026-03-02T08:00:00Z", T(9), T(17), True),  # 09:00 CET: start included
        ("2026-03-02T07:59:59.999999Z", T(9), T(17), False),
        ("2026-03-02T15:59:59Z", T(9), T(17), True),
        ("2026-03-02T16:00:00Z", T(9), T(17), False),  # 17:00 CET: end excluded
        ("2026-07-02T07:00:00Z", T(9), T(17), True),  # 09:00 CEST
        ("2026-07-02T15:00:00Z", T(9), T(17), False),  # 17:00 CEST
        # 22:00 and 02:00 wraps past midnight
        ("2026-03-02T21:00:00Z", T(22), T(2), True),  # 22:00 CET
        ("2026-03-02T20:59:00Z", T(22), T(2), False),  # 21:59
        ("2026-03-02T23:30:00Z", T(22), T(2), True),  # 00:30 next day
        ("2026-03-03T00:59:59Z", T(22), T(2), True),  # 01:59:59
        ("2026-03-03T01:00:00Z", T(22), T(2), False),  # 02:00 excluded
        ("2026-03-03T11:00:00Z", T(22), T(2), False),  # noon
        # equal start and end: empty
        ("2026-03-02T08:00:00Z", T(9), T(9), False),
        ("2026-03-02T23:00:00Z", T(0), T(0), False),
        # the autumn fold: both 02:30s are in 02:00-03:00
        ("2026-10-25T00:30:00Z", T(2), T(3), True),
        ("2026-10-25T01:30:00Z", T(2), T(3), True),
        # the spring gap: 02:00-03:00 never happens; 01:00Z is 03:00 CEST
        ("2026-03-29T00:59:59Z", T(2), T(3), False),  # 01:59:59 CET
        ("2026-03-29T01:00:00Z", T(2), T(3), False),
    ],
)
def test_in_time_window(instant, start, end, expected):
    assert in_time_window(Z(instant), start, end, STO) is expected


def test_in_time_window_utc():
    assert in_time_window(Z("2026-03-02T09:00:00Z"), T(9), T(17), UTCZ)
    assert not in_time_window(Z("2026-03-02T08:00:00Z"), T(9), T(17), UTCZ)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-11-30T22:59:59Z", False),  # 11-30 23:59:59 CET
        ("2026-11-30T23:00:00Z", True),  # 12-01 00:00 CET: the first day included
        ("2026-12-24T22:59:59.999999Z", True),  # 12-24 23:59:59.999999 CET: the last day included
        ("2026-12-24T23:00:00Z", False),  # 12-25 00:00 CET
        ("2026-12-10T12:00:00Z", True),
    ],
)
def test_in_date_window(instant, expected):
    # from 2026-12-01 to 2026-12-24
    assert in_date_window(Z(instant), dt.date(2026, 12, 1), dt.date(2026, 12, 24), STO) is expected


def test_in_date_window_single_day_and_empty():
    day = dt.date(2026, 3, 29)
    assert in_date_window(Z("2026-03-28T23:00:00Z"), day, day, STO)  # 03-29 00:00 CET
    assert in_date_window(Z("2026-03-29T21:59:59Z"), day, day, STO)  # 23:59:59 CEST
    assert not in_date_window(Z("2026-03-29T22:00:00Z"), day, day, STO)
    assert not in_date_window(Z("2026-03-29T12:00:00Z"), day, day - dt.timedelta(days=1), STO)


@pytest.mark.parametrize(
    ("event", "count", "unit", "tz", "expected"),
    [
        ("2026-03-01T10:00:00Z", 1, "month", "UTC", "2026-04-01T10:00:00Z"),  # = add
        ("2026-03-01T10:00:00Z", 30, "day", "UTC", "2026-03-31T10:00:00Z"),
        # Jan 31 12:00 is in (t − 1 month, t] until t − 1 month reaches it: Feb 28 23:59 − 1 month
        # = Jan 28 23:59 < Jan 31 12:00, Mar 1 00:00 − 1 month = Feb 1 00:00 ≥ it. Not Feb 28 12:00.
        ("2026-01-31T12:00:00Z", 1, "month", "UTC", "2026-03-01T00:00:00Z"),
        ("2024-02-29T08:00:00Z", 1, "year", "UTC", "2025-03-01T00:00:00Z"),
        ("2024-02-28T08:00:00Z", 1, "year", "UTC", "2025-02-28T08:00:00Z"),
        # 12 months from 2026-01-15 10:00 CET (09:00Z): 2027-01-15 10:00 CET
        ("2026-01-15T09:00:00Z", 12, "month", "Europe/Stockholm", "2027-01-15T09:00:00Z"),
        # an event at 03:00 CEST on 03-29 (01:00Z, the gap's end): every wall time 02:00-03:00 of
        # 03-29 resolves to it, so it leaves when t − 1 day reaches 02:00 on 03-29: at 03-30 02:00
        # CEST = 00:00Z
        ("2026-03-29T01:00:00Z", 1, "day", "Europe/Stockholm", "2026-03-30T00:00:00Z"),
        # the second 02:30 (CET, 01:30Z) of 10-25: wall times 02:00-02:59 resolve to the first
        # (CEST) occurrence, before it; the first one at or after it is 03:00 CET (02:00Z).
        # So it leaves at 10-26 03:00 CET = 02:00Z
        ("2026-10-25T01:30:00Z", 1, "day", "Europe/Stockholm", "2026-10-26T02:00:00Z"),
    ],
)
def test_window_exit(event, count, unit, tz, expected):
    assert fmt(window_exit(Z(event), count, unit, zone(tz))) == expected


def test_window_exit_needs_a_positive_duration():
    with pytest.raises(ValueError):
        window_exit(Z("2026-01-01T00:00:00Z"), 0, "day", UTCZ)


# ---------------------------------------------------------------------------- midnights, birthdays, age


def test_local_midnight():
    assert fmt(local_midnight(dt.date(2026, 3, 1), STO)) == "2026-02-28T23:00:00Z"  # CET
    assert fmt(local_midnight(dt.date(2026, 7, 1), STO)) == "2026-06-30T22:00:00Z"  # CEST
    assert fmt(local_midnight(dt.date(2026, 3, 1), UTCZ)) == "2026-03-01T00:00:00Z"
    # Santiago, 2026-09-06: 00:00 −04 → 01:00 −03; midnight does not exist, the day begins at
    # 01:00 −03 = 04:00Z
    assert fmt(local_midnight(dt.date(2026, 9, 6), zone("America/Santiago"))) == "2026-09-06T04:00:00Z"
    # Santiago, 2026-04-05: 00:00 −03 → 23:00 −04 on the 4th; the 5th's midnight is 03:00Z, once
    assert fmt(local_midnight(dt.date(2026, 4, 5), zone("America/Santiago"))) == "2026-04-05T04:00:00Z"


def test_next_birthday():
    born = dt.date(1990, 6, 15)
    # set the day before: that midnight, 06-15 00:00 CEST = 06-14 22:00Z
    assert fmt(next_birthday(Z("2026-06-14T12:00:00Z"), born, STO)) == "2026-06-14T22:00:00Z"
    # set on the day itself, after midnight (06-15 00:00:01 CEST): next year
    assert fmt(next_birthday(Z("2026-06-14T22:00:01Z"), born, STO)) == "2027-06-14T22:00:00Z"
    # set at that very midnight: strictly after, so next year
    assert fmt(next_birthday(Z("2026-06-14T22:00:00Z"), born, STO)) == "2027-06-14T22:00:00Z"
    # just before midnight: that midnight
    assert fmt(next_birthday(Z("2026-06-14T21:59:59.999999Z"), born, STO)) == "2026-06-14T22:00:00Z"
    # 23:30Z on 06-14 is already the 15th in Stockholm, but still the 14th in UTC
    assert fmt(next_birthday(Z("2026-06-14T23:30:00Z"), born, STO)) == "2027-06-14T22:00:00Z"
    assert fmt(next_birthday(Z("2026-06-14T23:30:00Z"), born, UTCZ)) == "2026-06-15T00:00:00Z"
    # after the birthday: next year; in January: this year
    assert fmt(next_birthday(Z("2026-09-01T00:00:00Z"), born, UTCZ)) == "2027-06-15T00:00:00Z"
    assert fmt(next_birthday(Z("2026-01-01T00:00:00Z"), born, UTCZ)) == "2026-06-15T00:00:00Z"
    # chaining: the next after a firing is a year on
    first = next_birthday(Z("2026-01-01T00:00:00Z"), born, STO)
    assert fmt(next_birthday(first, born, STO)) == "2027-06-14T22:00:00Z"


def test_next_birthday_29_february():
    leap = dt.date(2000, 2, 29)
    # 2027 is common: 28 Feb 00:00 CET = 02-27 23:00Z
    assert fmt(next_birthday(Z("2026-03-01T00:00:00Z"), leap, STO)) == "2027-02-27T23:00:00Z"
    # 2028 is a leap year: 29 Feb
    assert fmt(next_birthday(Z("2027-03-01T00:00:00Z"), leap, STO)) == "2028-02-28T23:00:00Z"
    assert fmt(next_birthday(Z("2028-01-01T00:00:00Z"), leap, UTCZ)) == "2028-02-29T00:00:00Z"
    # set on 28 Feb of a common year, after midnight: next year's (2028-02-29)
    assert fmt(next_birthday(Z("2027-02-28T08:00:00Z"), leap, UTCZ)) == "2028-02-29T00:00:00Z"
    # set on 29 Feb 2028 after midnight: 2029-02-28
    assert fmt(next_birthday(Z("2028-02-29T08:00:00Z"), leap, UTCZ)) == "2029-02-28T00:00:00Z"


def test_next_birthday_is_an_anniversary():
    # the day of birth is not a birthday: a birthdate in the future first fires a year after it
    assert fmt(next_birthday(Z("2026-03-01T00:00:00Z"), dt.date(2026, 5, 1), UTCZ)) == "2027-05-01T00:00:00Z"
    assert fmt(next_birthday(Z("2026-03-01T00:00:00Z"), dt.date(2030, 5, 1), UTCZ)) == "2031-05-01T00:00:00Z"


@pytest.mark.parametrize(
    ("born", "instant", "expected"),
    [
        (dt.date(2008, 6, 15), "2026-06-14T12:00:00Z", 17),  # the day before the 18th birthday
        (dt.date(2008, 6, 15), "2026-06-14T21:59:59Z", 17),  # 23:59:59 CEST on the 14th
        (dt.date(2008, 6, 15), "2026-06-14T22:00:00Z", 18),  # 00:00 CEST on the 15th
        (dt.date(2008, 6, 15), "2026-06-15T12:00:00Z", 18),
        (dt.date(2008, 2, 29), "2026-02-27T12:00:00Z", 17),
        (dt.date(2008, 2, 29), "2026-02-27T23:00:00Z", 18),  # 28 Feb 00:00 CET in a common year
        (dt.date(2008, 2, 29), "2028-02-28T12:00:00Z", 19),  # 2028 is leap: not yet 20
        (dt.date(2008, 2, 29), "2028-02-29T12:00:00Z", 20),
        (dt.date(2008, 6, 15), "2008-06-15T12:00:00Z", 0),
        (dt.date(2026, 6, 15), "2026-01-01T12:00:00Z", -1),  # a birthdate in the future
    ],
)
def test_age(born, instant, expected):
    assert age(born, Z(instant), STO) == expected


# ---------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("count", "unit", "expected"),
    [(Decimal("12"), "month", (12, "month")), (Decimal("1.0"), "day", (1, "day")), (Decimal("1E+1"), "year", (10, "year"))],
)
def test_duration_parts(count, unit, expected):
    duration = ast.Duration(count, unit, True)
    assert duration_parts(duration) == expected
    start = Z("2026-01-31T12:00:00Z")
    assert add(start, *duration_parts(duration), UTCZ) == add(start, expected[0], expected[1], UTCZ)


@pytest.mark.parametrize(("count", "unit"), [(Decimal("1.5"), "day"), (Decimal("NaN"), "day"), (Decimal("1"), "hour")])
def test_duration_parts_rejects(count, unit):
    with pytest.raises(ValueError):
        duration_parts(ast.Duration(count, unit, False))


# ---------------------------------------------------------------------------- properties

# zones with the awkward cases: DST both ways, half-hour offsets and DST steps, DST at midnight
# (Santiago, Havana, Beirut), a skipped day (Apia 2011), the clock set back across midnight
# (St John's until 2010), southern-hemisphere summers
ZONES = [
    "UTC",
    "Europe/Stockholm",
    "Europe/London",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "America/St_Johns",
    "America/Goose_Bay",
    "Asia/Beirut",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Pacific/Chatham",
    "Africa/Casablanca",
]
zones = st.sampled_from(ZONES).map(zone)
instants = st.datetimes(
    min_value=dt.datetime(1980, 1, 1), max_value=dt.datetime(2060, 12, 31), timezones=st.just(UTC)
)
units = st.sampled_from(["day", "week", "month", "year"])
counts = st.integers(min_value=1, max_value=400)


@functools.lru_cache(maxsize=None)
def _transition_instants(tz: dt.tzinfo, year: int) -> list[dt.datetime]:
    """The UTC instants (whole seconds) at which ``tz``'s offset changes in ``year``."""
    found = []
    t = dt.datetime(year, 1, 1, tzinfo=UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=UTC)
    offset = t.astimezone(tz).utcoffset()
    step = dt.timedelta(hours=6)
    while t < end:
        nxt = t + step
        if nxt.astimezone(tz).utcoffset() != offset:
            lo, hi = t, nxt
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + dt.timedelta(seconds=int((hi - lo).total_seconds()) // 2)
                if mid.astimezone(tz).utcoffset() == offset:
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
            offset = nxt.astimezone(tz).utcoffset()
        t = nxt
    return found


@st.composite
def near_transitions(draw: st.DrawFn) -> tuple[dt.tzinfo, dt.datetime]:
    """A zone and an instant within a few hours of one of its offset changes (or anywhere)."""
    tz = draw(zones)
    year = draw(st.integers(min_value=1980, max_value=2040))
    transitions = _transition_instants(tz, year)
    if not transitions or draw(st.booleans()) and draw(st.booleans()):
        return tz, draw(instants)
    at = draw(st.sampled_from(transitions))
    shift = draw(st.just(0) | st.integers(min_value=-4 * 3600 * 4, max_value=4 * 3600 * 4))  # ±4 h in ¼ s
    return tz, at + dt.timedelta(milliseconds=250 * shift)


@st.composite
def walls_near_transitions(draw: st.DrawFn) -> tuple[dt.tzinfo, dt.datetime]:
    """A zone and a naive wall-clock time within 3 hours of one of its offset changes as the
    clock read just before it: so often in a gap (spring) or a fold (autumn)."""
    tz = draw(zones.filter(lambda z: z is not UTCZ))
    year = draw(st.integers(min_value=1980, max_value=2040))
    transitions = _transition_instants(tz, year)
    assume(transitions)
    at = draw(st.sampled_from(transitions))
    before = (at - dt.timedelta(seconds=1)).astimezone(tz).utcoffset()
    shift = draw(st.just(0) | st.integers(min_value=-3 * 3600 * 4, max_value=3 * 3600 * 4))  # ¼ s
    return tz, at.replace(tzinfo=None) + before + dt.timedelta(milliseconds=250 * shift)


@given(walls_near_transitions(), st.integers(min_value=1, max_value=400), units)
def test_add_into_gaps_and_folds(zone_and_wall, n, unit):
    """Aimed at the transitions: start n units before a wall-clock time that may not exist or
    may exist twice, and check add() against the rules of the wall clock."""
    tz, wall = zone_and_wall
    t = resolve(dt.datetime.combine(_shifted(wall.date(), -n, unit), wall.time()), tz)
    _check_add(tz, t, n, unit)


@given(instants, st.integers(min_value=-20_000, max_value=20_000))
def test_add_then_subtract_days_in_utc_is_identity(t, n):
    assert subtract(add(t, n, "day", UTCZ), n, "day", UTCZ) == t
    assert add(t, n, "day", UTCZ) == t + dt.timedelta(days=n)


def _shifted(day: dt.date, n: int, unit: str) -> dt.date:
    """The test's own calendar shift: days and weeks exactly, months with the last-day cut."""
    if unit in ("day", "week"):
        return day + dt.timedelta(days=n * (7 if unit == "week" else 1))
    months = day.year * 12 + day.month - 1 + n * (12 if unit == "year" else 1)
    year, month = months // 12, months % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@given(near_transitions(), st.integers(min_value=-400, max_value=400), units, st.booleans())
def test_add_keeps_the_wall_clock_when_it_exists(zone_and_instant, n, unit, aim):
    """add(t, n, unit) in any zone is the same wall-clock time on the shifted date; when that
    time does not exist, the first one after the gap; when it exists twice, the first."""
    tz, t = zone_and_instant
    if aim:  # start n units before the drawn instant, so that the result lands near a transition
        t = subtract(t, n, unit, tz)
    _check_add(tz, t, n, unit)


def _check_add(tz: dt.tzinfo, t: dt.datetime, n: int, unit: str) -> None:
    result = add(t, n, unit, tz)
    if n == 0:
        assert result == t
        return
    local = local_datetime(t, tz)
    wanted = dt.datetime.combine(_shifted(local.date(), n, unit), local.time())
    got = local_datetime(result, tz)
    if got == wanted:
        # the first occurrence: no instant shortly before shows this wall clock
        for k in range(1, 13):
            assert local_datetime(result - dt.timedelta(minutes=15 * k), tz) != wanted
    else:
        # `wanted` is in a gap: the wall clock jumps over it at `result`
        assert got > wanted
        assert local_datetime(result - dt.timedelta(microseconds=1), tz) < wanted


@given(near_transitions(), st.sampled_from(["day", "week", "month", "year"]), st.integers(min_value=0, max_value=20 * 86400))
def test_period_key_is_monotone(zone_and_instant, period, seconds):
    tz, t = zone_and_instant
    later = t + dt.timedelta(seconds=seconds)
    assert period_key(t, period, tz) <= period_key(later, period, tz)
    assert local_date(t, tz) <= local_date(later, tz)


@given(near_transitions(), st.sampled_from(["day", "week", "month", "year"]))
def test_period_key_matches_local_date(zone_and_instant, period):
    tz, t = zone_and_instant
    day = local_date(t, tz)
    assert local_midnight(day, tz) <= t < local_midnight(day + dt.timedelta(days=1), tz)
    key = period_key(t, period, tz)
    assert key == period_key(local_midnight(day, tz), period, tz)


@given(near_transitions(), counts, units, st.floats(min_value=0, max_value=1))
def test_window_exit_is_the_first_moment_out(zone_and_instant, n, unit, fraction):
    tz, event = zone_and_instant
    leave = window_exit(event, n, unit, tz)
    # `leave == event` only where the window's start falls in a skipped local day (Pacific/Apia
    # skipped 2011-12-30): it moves forward to the event itself, so the event is never inside
    assert leave >= event
    assert subtract(leave, n, unit, tz) >= event  # out at `leave`
    if leave > event:
        assert subtract(leave - dt.timedelta(microseconds=1), n, unit, tz) < event  # in just before
    t = event + (leave - event) * fraction
    if t < leave:
        assert subtract(t, n, unit, tz) < event  # in all the way from the event to `leave`


@given(instants, st.times(), st.times(), zones)
def test_time_window_matches_its_definition(t, start, end, tz):
    now = local_time(t, tz)
    inside = in_time_window(t, start, end, tz)
    if start <= end:
        assert inside == (start <= now < end)
    else:
        assert inside == (not (end <= now < start))


def _anniversary(born: dt.date, year: int) -> dt.date:
    try:
        return born.replace(year=year)
    except ValueError:  # 29 February in a common year
        return dt.date(year, 2, 28)


@given(instants, zones, st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2040, 12, 31)))
def test_next_birthday_properties(after, tz, born):
    moment = next_birthday(after, born, tz)
    assert moment > after
    year = max(local_date(after, tz).year, born.year + 1)  # only anniversaries are birthdays
    candidates = {y: local_midnight(_anniversary(born, y), tz) for y in range(year - 1, year + 3) if y > born.year}
    later = [m for m in candidates.values() if m > after]
    assert later and moment == min(later)  # the first anniversary midnight strictly after
    birthday_year = next(y for y, m in candidates.items() if m == moment)
    # customer.age turns over exactly then
    assert age(born, moment, tz) == birthday_year - born.year
    assert age(born, moment - dt.timedelta(microseconds=1), tz) == birthday_year - born.year - 1
