"""The fast calendar (``rewardlang.zonecalendar.ZoneCalendar``) gives localtime's answers.

``localtime`` is the definition and has its own tests (tests/test_localtime.py); the fast
calendar is held equal to it, call for call, on instants anywhere and on instants from seconds to
days around offset changes in the zones with the awkward cases (gaps, folds, a skipped day, the
clock set back across midnight, half-hour steps): where the fast path applies and just where it
stops applying.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st
from tests.test_localtime import UTC, _transition_instants, counts, instants, near_transitions, units, zones

from rewardlang import localtime
from rewardlang.zonecalendar import ExactCalendar, ZoneCalendar


@st.composite
def days_around_transitions(draw: st.DrawFn) -> tuple[dt.tzinfo, dt.datetime]:
    """A zone and an instant up to four days either side of one of its offset changes, so
    the edge of the fast path's two-day margin is crossed too."""
    tz = draw(zones)
    year = draw(st.integers(min_value=1980, max_value=2040))
    transitions = _transition_instants(tz, year)
    if not transitions:
        return tz, draw(instants)
    at = draw(st.sampled_from(transitions))
    return tz, at + dt.timedelta(seconds=draw(st.integers(min_value=-4 * 86400, max_value=4 * 86400)))


anywhere = near_transitions() | days_around_transitions()
periods = st.sampled_from(list(localtime.PERIODS))
small_counts = st.integers(min_value=-30, max_value=30) | counts


@given(anywhere, small_counts, units)
@example((localtime.zone("Pacific/Apia"), dt.datetime(2011, 12, 29, 10, 0, tzinfo=UTC)), 1, "day")
@example((localtime.zone("Europe/Stockholm"), dt.datetime(2026, 2, 28, 23, 30, tzinfo=UTC)), 1, "month")
def test_add_and_subtract(zone_and_instant, n, unit):
    tz, t = zone_and_instant
    fast = ZoneCalendar(tz)
    assert fast.add(t, n, unit) == localtime.add(t, n, unit, tz)
    assert fast.subtract(t, n, unit) == localtime.subtract(t, n, unit, tz)
    assert fast.add(t, n, unit) == localtime.add(t, n, unit, tz)  # again, from the memo


@given(zones, instants, st.integers(min_value=-400, max_value=400), units)
@example(localtime.zone("Europe/Stockholm"), dt.datetime(2026, 1, 15, 12, 0, tzinfo=UTC), 6, "month")
@example(localtime.zone("Europe/Stockholm"), dt.datetime(2026, 8, 15, 21, 30, tzinfo=UTC), -90, "day")
@example(localtime.zone("Australia/Lord_Howe"), dt.datetime(2026, 1, 15, 13, 15, tzinfo=UTC), 6, "month")
def test_add_across_an_offset_change(tz, t, n, unit):
    """Far from any transition at both ends, but with another offset at the end (the fast path's
    second guess): the same instant as the definition."""
    assert ZoneCalendar(tz).add(t, n, unit) == localtime.add(t, n, unit, tz)


@given(anywhere, counts, units)
@example((localtime.zone("Pacific/Apia"), dt.datetime(2011, 12, 1, 0, 0, tzinfo=UTC)), 1, "month")
@example((localtime.zone("Europe/Stockholm"), dt.datetime(2026, 1, 31, 11, 0, tzinfo=UTC)), 1, "month")
def test_window_exit(zone_and_instant, n, unit):
    tz, t = zone_and_instant
    assert ZoneCalendar(tz).window_exit(t, n, unit) == localtime.window_exit(t, n, unit, tz)


@given(anywhere, periods, st.times(), st.times(), st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2040, 1, 1)))
def test_local_views(zone_and_instant, period, start, end, born):
    tz, t = zone_and_instant
    fast = ZoneCalendar(tz)
    assert fast.local_date(t) == localtime.local_date(t, tz)
    assert fast.weekday(t) == localtime.weekday(t, tz)
    assert fast.period_key(t, period) == localtime.period_key(t, period, tz)
    assert fast.in_time_window(t, start, end) == localtime.in_time_window(t, start, end, tz)
    day = localtime.local_date(t, tz)
    assert fast.in_date_window(t, day, day) and not fast.in_date_window(t, day + dt.timedelta(days=1), day + dt.timedelta(days=9))
    assert fast.age(born, t) == localtime.age(born, t, tz)
    assert fast.next_birthday(t, born) == localtime.next_birthday(t, born, tz)


@given(anywhere)
def test_leap_day_birthdays_and_ages(zone_and_instant):
    tz, t = zone_and_instant
    for born in (dt.date(2000, 2, 29), dt.date(1999, 2, 28), dt.date(1999, 3, 1)):
        assert ZoneCalendar(tz).age(born, t) == localtime.age(born, t, tz)


def test_an_instant_with_another_offset_takes_the_exact_path():
    tz = localtime.zone("Europe/Stockholm")
    t = dt.datetime(2026, 1, 31, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert ZoneCalendar(tz).add(t, 1, "month") == localtime.add(t, 1, "month", tz)


def test_an_unknown_unit_or_period_is_the_same_error():
    tz = localtime.zone("Europe/Stockholm")
    t = dt.datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    for calendar in (ZoneCalendar(tz), ExactCalendar(tz)):
        for call in (lambda: calendar.add(t, 1, "fortnight"), lambda: calendar.period_key(t, "quarter")):
            try:
                call()
            except ValueError as error:
                assert "unknown" in str(error)
            else:  # pragma: no cover
                raise AssertionError("no error")


def test_only_the_last_sum_of_each_duration_is_kept():
    """The calendar keeps one answer a duration and a period (no memo growing with instants),
    recognised by the instant object itself; an equal instant that is another object is summed
    again, to the same answer."""
    tz = localtime.zone("Europe/Stockholm")
    fast = ZoneCalendar(tz)
    t = dt.datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5_000):
        instant = t + dt.timedelta(minutes=7 * i)
        for count, unit in ((1, "day"), (14, "day"), (12, "month")):
            assert fast.add(instant, count, unit) == fast.add(instant, count, unit) == localtime.add(
                instant, count, unit, tz)
        assert fast.period_key(instant, "month") == localtime.period_key(instant, "month", tz)
    assert len(fast._last_sum) == 3 and len(fast._last_period) == 1
    again = dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert again is not t and fast.add(again, 12, "month") == localtime.add(t, 12, "month", tz)


def test_add_and_subtract_take_the_fast_path_away_from_transitions(monkeypatch):
    """Speed is a feature here: away from a clock change neither add nor subtract may call the
    exact path (3e9fa23 lost ZoneCalendar.subtract, and every window start went exact)."""
    tz = localtime.zone("Europe/Stockholm")
    t = dt.datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    expected = {(n, unit): localtime.add(t, n, unit, tz) for n in (3, -3) for unit in ("day", "week", "month", "year")}
    calls = []
    exact_add = localtime.add
    monkeypatch.setattr(localtime, "add", lambda *a: calls.append(a) or exact_add(*a))
    fast = ZoneCalendar(tz)
    for unit in ("day", "week", "month", "year"):
        assert fast.add(t, 3, unit) == expected[(3, unit)]
        assert fast.subtract(t, 3, unit) == expected[(-3, unit)]
    assert calls == []
