"""The programme's calendar, fast: :mod:`rewardlang.localtime`'s answers at a fraction of the cost.

:mod:`localtime` is the definition — every function there handles DST gaps and folds, clocks set
back across midnight and the rest exactly, and pays for it on every call (two ``replace`` and two
``utcoffset`` calls to turn a wall-clock time into an instant, a cached midnight lookup to find a
local date). The kernel calls it about ten times an event, and that was the largest share of a
run. Almost every instant, though, is days away from any change of the zone's offset, and there
the zone is just a fixed offset: a local date is ``(instant + offset).date()``, and "the same wall
clock a month later" is plain arithmetic.

:class:`ZoneCalendar` takes that fast path whenever it is provably the same answer and asks
:mod:`localtime` otherwise:

* For each UTC day it meets, it learns (once, by sampling the zone every hour from two days
  before to three days after) whether the offset is constant over that stretch. Then for an
  instant of that day no transition lies within two days, and a wall-clock time that maps to an
  instant of such a day maps to nothing else (offsets differ by at most 26 hours), so there is
  no gap or fold to resolve and the local day begins at its own midnight.
* :meth:`add` shifts the wall clock and checks that the result lands on such a day with the
  offset it assumed; anything else (an instant near a transition, a result near one, a year out
  of range) goes to :func:`localtime.add`.
* The last result of :meth:`add` for each duration is kept, recognised by the very instant
  object it was asked for: an event's awards are pending until, and a release's lots expire at,
  one sum of one instant asked for several times in a row. (A memo keyed by instants cost more
  than it saved: hashing an aware ``datetime`` takes longer than a fast-path sum, and three sums
  in four are of an instant never seen before.)

The sampling assumes a zone never changes its offset twice within one hour and ends where it
began — true of every zone in tzdata; the property tests hold this class equal to
:mod:`localtime` on random instants in zones with odd transitions. :class:`ExactCalendar` has the
same methods and always asks :mod:`localtime`: the interpreter (the test oracle) runs on it.

A calendar belongs to one compiled plan (no module-level cache): what it learns of the zone's
days and its last sums are not shared between engines, and nothing here is global state.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from rewardlang import localtime

UTC = localtime.UTC
_HOUR = dt.timedelta(hours=1)
_UNKNOWN: Any = object()
_FIRST_SAFE_DAY = dt.date(1, 1, 10).toordinal()  # days near datetime's ends take the exact path
_LAST_SAFE_DAY = dt.date(9999, 12, 20).toordinal()
_PERIOD_NAMES = frozenset(localtime.PERIODS)
_date = dt.date
_timedelta = dt.timedelta


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


class ExactCalendar:
    """The calendar as :mod:`localtime` defines it, call for call (the oracle's calendar)."""

    __slots__ = ("tz",)

    def __init__(self, tz: dt.tzinfo):
        self.tz = tz

    def add(self, instant: dt.datetime, count: int, unit: str) -> dt.datetime:
        return localtime.add(instant, count, unit, self.tz)

    def subtract(self, instant: dt.datetime, count: int, unit: str) -> dt.datetime:
        return localtime.add(instant, -count, unit, self.tz)

    def window_exit(self, event: dt.datetime, count: int, unit: str) -> dt.datetime:
        return localtime.window_exit(event, count, unit, self.tz)

    def window_start(self, instant: dt.datetime, count: int, unit: str) -> dt.datetime:
        """The start of the window ``(instant − D, instant]``: ``subtract``, not kept as the last sum."""
        return localtime.add(instant, -count, unit, self.tz)

    def local_date(self, instant: dt.datetime) -> dt.date:
        return localtime.local_date(instant, self.tz)

    def weekday(self, instant: dt.datetime) -> int:
        return localtime.weekday(instant, self.tz)

    def period_key(self, instant: dt.datetime, period: str) -> str:
        return localtime.period_key(instant, period, self.tz)

    def in_time_window(self, instant: dt.datetime, start: dt.time, end: dt.time) -> bool:
        return localtime.in_time_window(instant, start, end, self.tz)

    def in_date_window(self, instant: dt.datetime, start: dt.date, end: dt.date) -> bool:
        return localtime.in_date_window(instant, start, end, self.tz)

    def age(self, birthdate: dt.date, instant: dt.datetime) -> int:
        return localtime.age(birthdate, instant, self.tz)

    def next_birthday(self, after: dt.datetime, birthdate: dt.date) -> dt.datetime:
        return localtime.next_birthday(after, birthdate, self.tz)


class ZoneCalendar(ExactCalendar):
    """:class:`ExactCalendar`'s answers, computed as a fixed offset away from transitions."""

    __slots__ = ("_fixed", "_hourly", "_last_sum", "_last_period")

    def __init__(self, tz: dt.tzinfo):
        super().__init__(tz)
        self._fixed: dict[int, dt.timedelta | None] = {}  # UTC day ordinal → its offset, if fixed
        self._hourly: dict[int, tuple[dt.timedelta, ...]] = {}  # UTC day ordinal → 24 samples
        # (count, unit) → (instant, its sum); period → (instant, its key): the last answers,
        # asked for again with the same instant object (limits ask several times an event)
        self._last_sum: dict[tuple[int, str], tuple[dt.datetime, dt.datetime]] = {}
        self._last_period: dict[str, tuple[dt.datetime, str]] = {}

    # ------------------------------------------------------------------ where the zone is fixed
    def _samples(self, day: int) -> tuple[dt.timedelta, ...]:
        found = self._hourly.get(day)
        if found is None:
            start = dt.datetime.fromordinal(day).replace(tzinfo=UTC)
            tz = self.tz
            found = tuple((start + h * _HOUR).astimezone(tz).utcoffset() for h in range(24))  # type: ignore[misc]
            self._hourly[day] = found
        return found

    def _learn(self, day: int) -> dt.timedelta | None:
        offset: dt.timedelta | None = None
        if _FIRST_SAFE_DAY <= day <= _LAST_SAFE_DAY:
            samples = [s for d in range(day - 2, day + 3) for s in self._samples(d)]
            samples.append(self._samples(day + 3)[0])
            first = samples[0]
            if all(s == first for s in samples):
                offset = first
        self._fixed[day] = offset
        return offset

    def offset(self, instant: dt.datetime) -> dt.timedelta | None:
        """The zone's offset at ``instant`` if no transition lies within two days of it."""
        if instant.tzinfo is not UTC:
            return None
        day = instant.toordinal()
        found = self._fixed.get(day, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._learn(day)
        return found  # type: ignore[no-any-return]

    def _instant_of(self, wall: dt.datetime, guess: dt.timedelta) -> dt.datetime | None:
        """The one instant whose wall clock is ``wall`` (a UTC-tagged wall-clock time), when it
        falls on a fixed day; None when it is near a transition (the exact path decides)."""
        instant = wall - guess
        offset = self.offset(instant)
        if offset == guess:
            return instant
        if offset is None:
            return None
        instant = wall - offset
        return instant if self.offset(instant) == offset else None

    # ------------------------------------------------------------------ arithmetic
    def add(self, instant: dt.datetime, count: int, unit: str) -> dt.datetime:
        key = (count, unit)
        last = self._last_sum.get(key)
        if last is not None and last[0] is instant:
            return last[1]
        found = self._fast_add(instant, count, unit)
        if found is None:
            found = localtime.add(instant, count, unit, self.tz)
        self._last_sum[key] = (instant, found)
        return found

    def subtract(self, instant: dt.datetime, count: int, unit: str) -> dt.datetime:
        # must be here: the inherited one is the exact path (lost once, in 3e9fa23, which made
        # every window start and expiry reminder exact: a fifth of the engine's time)
        return self.add(instant, -count, unit)

    def window_start(self, instant: dt.datetime, count: int, unit: str) -> dt.datetime:
        # a window starts at each evaluation's own instant, asked for once
        found = self._fast_add(instant, -count, unit)
        return found if found is not None else localtime.add(instant, -count, unit, self.tz)

    def _fast_add(self, instant: dt.datetime, count: int, unit: str) -> dt.datetime | None:
        """The sum on the fast path, or None when the exact path must decide.

        The instant's day is fixed; the wall clock is shifted by whole days (for months and
        years, the days between its date and the same day of the target month, cut to the
        month's last day, as :meth:`_shift` does), so the instant moves by the same days, and is
        kept where it lands on a fixed day with the start's offset; where it lands on a fixed
        day with another offset (across a DST change), that one is used, checked as
        :meth:`_instant_of` checks. The day lookups are inlined and no ``datetime.replace`` is
        made (the kernel calls ``add`` several times an event; this was 4.6 µs a month sum)."""
        if instant.tzinfo is not UTC or not count:
            return None
        fixed = self._fixed
        day = instant.toordinal()
        offset = fixed.get(day, _UNKNOWN)
        if offset is _UNKNOWN:
            offset = self._learn(day)
        if offset is None:
            return None
        if unit == "day":
            days = count
        elif unit == "week":
            days = 7 * count
        else:
            if unit == "month":
                months = count
            elif unit == "year":
                months = 12 * count
            else:
                return None  # localtime raises the error for an unknown unit
            wall = instant + offset
            year, month0 = divmod(wall.year * 12 + wall.month - 1 + months, 12)
            if not 1 <= year <= 9999:
                return None
            date = wall.day
            if date > 28:
                date = min(date, _days_in_month(year, month0 + 1))
            days = _date(year, month0 + 1, date).toordinal() - wall.toordinal()
        try:
            found = instant + _timedelta(days)
        except OverflowError:
            return None
        day += days
        landed = fixed.get(day, _UNKNOWN)
        if landed is _UNKNOWN:
            landed = self._learn(day)
        if landed == offset:
            return found
        if landed is None:
            return None
        found = found + offset - landed  # the wall clock less the offset of the day it lands on
        day = found.toordinal()
        again = fixed.get(day, _UNKNOWN)
        if again is _UNKNOWN:
            again = self._learn(day)
        return found if again == landed else None

    @staticmethod
    def _shift(wall: dt.datetime, count: int, unit: str) -> dt.datetime | None:
        try:
            if unit == "day":
                return wall + dt.timedelta(days=count)
            if unit == "week":
                return wall + dt.timedelta(weeks=count)
            if unit == "month":
                months = count
            elif unit == "year":
                months = 12 * count
            else:
                return None  # localtime raises the error for an unknown unit
        except OverflowError:
            return None
        year, month0 = divmod(wall.year * 12 + wall.month - 1 + months, 12)
        if not 1 <= year <= 9999:
            return None
        return wall.replace(year=year, month=month0 + 1, day=min(wall.day, _days_in_month(year, month0 + 1)))

    def window_exit(self, event: dt.datetime, count: int, unit: str) -> dt.datetime:
        offset = self.offset(event) if count > 0 else None
        if offset is not None:
            # localtime.window_exit's three steps; away from transitions the least wall clock at
            # or after `event` is its own wall clock
            wall = event + offset
            target = self._shift(wall, count, unit)
            if target is not None:
                if unit in ("month", "year") and target.day < wall.day:
                    target = target.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
                found = self._instant_of(target, offset)
                if found is not None:
                    return found
        return localtime.window_exit(event, count, unit, self.tz)

    # ------------------------------------------------------------------ local views
    def local_date(self, instant: dt.datetime) -> dt.date:
        offset = self.offset(instant)
        if offset is None:
            return localtime.local_date(instant, self.tz)
        return (instant + offset).date()

    def weekday(self, instant: dt.datetime) -> int:
        return self.local_date(instant).weekday()

    def period_key(self, instant: dt.datetime, period: str) -> str:
        last = self._last_period.get(period)
        if last is not None and last[0] is instant:
            return last[1]
        found = self._period_key(instant, period)
        self._last_period[period] = (instant, found)
        return found

    def _period_key(self, instant: dt.datetime, period: str) -> str:
        if period not in _PERIOD_NAMES:
            return localtime.period_key(instant, period, self.tz)  # raises the error it should
        day = self.local_date(instant)
        if period == "month":
            return f"{day.year:04d}-{day.month:02d}"
        if period == "day":
            return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
        if period == "week":
            year, week, _ = day.isocalendar()
            return f"{year:04d}-W{week:02d}"
        return f"{day.year:04d}"

    def in_time_window(self, instant: dt.datetime, start: dt.time, end: dt.time) -> bool:
        offset = self.offset(instant)
        if offset is None:
            return localtime.in_time_window(instant, start, end, self.tz)
        now = (instant + offset).time()
        if start < end:
            return start <= now < end
        if end < start:
            return start <= now or now < end
        return False

    def in_date_window(self, instant: dt.datetime, start: dt.date, end: dt.date) -> bool:
        return start <= self.local_date(instant) <= end

    def age(self, birthdate: dt.date, instant: dt.datetime) -> int:
        today = self.local_date(instant)
        years = today.year - birthdate.year
        if (today.month, today.day) < (birthdate.month, birthdate.day):
            # before this year's anniversary; 29 February counts as 28 February in a common year
            if not (birthdate.month == 2 and birthdate.day == 29 and today.month == 2 and today.day == 28
                    and _days_in_month(today.year, 2) == 28):
                years -= 1
        return years


# ---------------------------------------------------------------------- plain bounds of a duration

_MAX_DAYS = {"day": 1, "week": 7, "month": 31, "year": 366}


def at_most(count: int, unit: str) -> dt.timedelta:
    """A span no calendar duration of ``count`` ``unit`` is longer than (two days' slack for DST
    and for a zone that skips or repeats a day).

    With :func:`at_least`, it settles comparisons of instants with a sum without making it: the
    kernel's forgetting and reminders, a window's spend when no event lies near its start."""
    return dt.timedelta(days=count * _MAX_DAYS[unit] + 2)


def at_least(count: int, unit: str) -> dt.timedelta:
    """A span no calendar duration of ``count`` ``unit`` (positive) is shorter than: the fewest
    days between a date and the same day ``count`` months on (cut to the month's end), over the
    month ends and firsts of four years, less two days' slack as ``at_most``."""
    if unit in ("day", "week"):
        days = count * (7 if unit == "week" else 1)
    else:
        months = count * (12 if unit == "year" else 1)
        spans = []
        for year in range(2000, 2004):
            for month in range(1, 13):
                for day in (1, 28, 29, 30, 31):
                    if day > calendar.monthrange(year, month)[1]:
                        continue
                    to_year, to_month = divmod(year * 12 + month - 1 + months, 12)
                    to_day = min(day, calendar.monthrange(to_year, to_month + 1)[1])
                    spans.append((dt.date(to_year, to_month + 1, to_day) - dt.date(year, month, day)).days)
        days = min(spans)
    return dt.timedelta(days=max(days - 2, 0))
