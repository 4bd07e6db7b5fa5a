"""Instants and the programme's local calendar (LANGUAGE.md §2.1 durations, §2.3, §4, §5).

Instants are aware ``datetime`` values in UTC; everything calendar-shaped (durations, periods,
weekdays, times of day, birthdays) is computed in the programme's IANA zone.

Why the rules are what they are:

* **Zone data come from the pinned ``tzdata`` package, never from the machine.** ``zoneinfo``
  prefers the system's ``/usr/share/zoneinfo`` when it has one, so two machines with different
  system data would write different ledgers; LANGUAGE.md §2.1 and §4 (byte-identical ledgers
  whichever engine ran it) forbid that. :func:`zone` therefore reads the ``tzdata`` package's
  files itself, and only the names that package lists are zones (exactly, case and all, on
  every file system).
* **Local calendar arithmetic** (:func:`add`, :func:`subtract`): the same wall-clock time N days,
  weeks, months or years later; a day of the month that the target month lacks becomes its last
  day (2026-01-31 + 1 month = 2026-02-28). The wall-clock result is then made an instant by
  :func:`resolve`: a time in a spring-forward gap moves forward to the first local time that
  exists (the instant of the transition: Europe/Stockholm 2026-03-29 02:30 → 03:00 CEST =
  01:00Z), and a time that occurs twice (autumn fold) is its first, earlier occurrence. This
  map from wall clock to instant never goes backwards, which is what makes windows and
  :func:`window_exit` well defined.
* **Everything else is a local view** of an instant. A local *day* is the span of instants from
  its local midnight (:func:`local_midnight`) to the next day's, and weeks, months and years
  are runs of days; :func:`local_date`, :func:`weekday`, :func:`period_key` and
  :func:`in_date_window` all use that day, so they agree with each other and never go back as
  time goes on. (That is the wall-clock date in every case but one: a few zones once set the
  clock back across midnight — Newfoundland, Goose Bay and Moncton did until 2010, turning
  00:01 back to 23:01 — and the repeated hour belongs to the day that had already begun.)
  Time-of-day windows compare the wall clock, so a fold's repeated hour is inside a window
  that covers it both times.

Hot-path notes: zones are built once per name (:func:`zone` is cached) and are compared by
identity; the functions take the zone object, not its name, so no call allocates a zone; local
midnights are cached per (date, zone). The only non-constant-time path is a wall-clock time that
falls in a DST gap, which searches the transition instant (about a dozen conversions; it happens
at most twice a year per zone). All functions are pure and deterministic. Results outside
``datetime``'s range (years 1 to 9999) raise ``OverflowError``.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import zoneinfo
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rewardlang.ast import Duration

UTC = dt.timezone.utc

UNITS = ("day", "week", "month", "year")
PERIODS = ("day", "week", "month", "year")

_ONE_DAY = dt.timedelta(days=1)
_ONE_SECOND = dt.timedelta(seconds=1)
_ONE_MICROSECOND = dt.timedelta(microseconds=1)
_MIDNIGHT = dt.time(0, 0)


# ---------------------------------------------------------------------------- instants (I/O)


def parse_instant(text: object) -> dt.datetime | None:
    """An ISO 8601 time with an offset (or ``Z``) as a UTC instant; None when it is not one."""
    if not isinstance(text, str) or len(text) > 64 or "T" not in text.upper():
        return None
    if text.endswith("z"):
        text = text[:-1] + "Z"  # RFC 3339 allows a lower-case z
    try:
        value = dt.datetime.fromisoformat(text)
        if value.tzinfo is None or value.utcoffset() is None:
            return None
        return value.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: past year 9999 or before year 1 in UTC
        return None


def format_instant(instant: dt.datetime) -> str:
    """``2026-03-01T09:15:00Z``; a fraction only when there is one, as short as it can be."""
    if instant.tzinfo is not UTC:
        instant = instant.astimezone(UTC)
    if instant.year >= 1000:  # isoformat is several times faster than strftime (ledgers, states)
        text = instant.isoformat(timespec="seconds")[:-6]  # without its "+00:00"
    else:  # strftime writes such a year as it always has (unpadded)
        text = instant.strftime("%Y-%m-%dT%H:%M:%S")
    if instant.microsecond:
        text += "." + f"{instant.microsecond:06d}".rstrip("0")
    return text + "Z"


# ---------------------------------------------------------------------------- zones


class _TzdataZone(zoneinfo.ZoneInfo):
    """A zone read from the pinned ``tzdata`` package.

    ``ZoneInfo.from_file`` zones cannot be pickled; this one pickles (and copies) as a call to
    :func:`zone` with its name, so a zone can travel to a worker process and arrives there as
    that process's single cached object for the name.
    """

    __slots__ = ()

    def __reduce__(self):  # type: ignore[override]
        return (zone, (self.key,))

    def __repr__(self) -> str:
        return f"rewardlang.localtime.zone({self.key!r})"


@functools.lru_cache(maxsize=None)
def zone_names() -> frozenset[str]:
    """Every zone name the pinned ``tzdata`` package has (its ``zones`` list, links included).

    This, not ``zoneinfo.available_timezones()`` (which mixes in the system's data), is the set
    the checker should accept and suggest from.
    """
    text = importlib.resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


@functools.lru_cache(maxsize=None)
def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name`` from the pinned ``tzdata`` package; one cached object per name.

    Raises ``zoneinfo.ZoneInfoNotFoundError`` for a name that package does not list (checked
    against the list before any file is opened, so no name can reach outside the package).
    ``zone("UTC")`` is the default programme zone.
    """
    if not isinstance(name, str) or name not in zone_names():
        raise zoneinfo.ZoneInfoNotFoundError(f"unknown timezone {name!r}")
    *folders, leaf = name.split("/")
    package = ".".join(["tzdata", "zoneinfo", *folders])
    with importlib.resources.files(package).joinpath(leaf).open("rb") as data:
        return _TzdataZone.from_file(data, key=name)


# ---------------------------------------------------------------------------- wall clock ↔ instant


def _aware(instant: dt.datetime) -> None:
    # astimezone() reads a naive datetime in the machine's own zone: never deterministic.
    if instant.tzinfo is None:
        raise ValueError(f"instant {instant!r} has no offset; instants are aware UTC datetimes")


def resolve(local: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The UTC instant of the naive wall-clock time ``local`` in ``tz``.

    A time that exists once is that instant. A time that occurs twice (autumn fold) is its
    first, earlier occurrence (``fold=0``), whatever ``local.fold`` says. A time in a gap
    (spring forward) moves forward to the first local time that exists: the instant of the
    transition (Stockholm 2026-03-29 02:30 → 03:00 CEST = 01:00Z), not "the same distance past
    the gap" (03:30). The map never goes backwards: a later wall-clock time never gives an
    earlier instant.
    """
    before = local.replace(tzinfo=tz, fold=0).utcoffset()
    after = local.replace(tzinfo=tz, fold=1).utcoffset()
    if before is None or after is None:
        raise ValueError(f"{tz!r} gives no UTC offset")
    if after <= before:  # exists once (equal) or twice (fold: the first, pre-transition offset)
        return (local - before).replace(tzinfo=UTC, fold=0)
    return _gap_end(local.replace(fold=0), tz, before, after)


def _gap_end(
    local: dt.datetime, tz: dt.tzinfo, before: dt.timedelta, after: dt.timedelta
) -> dt.datetime:
    """The transition instant of the gap that ``local`` falls in (the first existing time after).

    PEP 495: in a gap ``fold=0`` reads the wall clock with the offset before the transition and
    ``fold=1`` with the one after, so the transition T lies in ``(local - after, local - before]``.
    Transitions in tzdata fall on whole seconds, so a binary search over whole seconds for the
    first instant whose wall clock is at or past ``local`` finds T exactly.
    """
    low = (local - after).replace(microsecond=0, tzinfo=UTC)  # its wall clock is before `local`
    high = int((local - before - low.replace(tzinfo=None)) / _ONE_SECOND) + 1  # at or past it
    lo = 0
    while high - lo > 1:
        mid = (lo + high) // 2
        if (low + mid * _ONE_SECOND).astimezone(tz).replace(tzinfo=None) >= local:
            high = mid
        else:
            lo = mid
    return low + high * _ONE_SECOND


def local_datetime(instant: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The naive local wall-clock time of ``instant`` in ``tz`` (``fold`` cleared)."""
    _aware(instant)
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


# ---------------------------------------------------------------------------- calendar arithmetic


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _shift_date(day: dt.date, count: int, unit: str) -> dt.date:
    """``day`` moved by ``count`` units; a missing day of the month becomes the month's last."""
    if unit == "day":
        return day + dt.timedelta(days=count)
    if unit == "week":
        return day + dt.timedelta(weeks=count)
    if unit == "month":
        months = count
    elif unit == "year":
        months = 12 * count
    else:
        raise ValueError(f"unknown duration unit {unit!r}; expected one of {', '.join(UNITS)}")
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise OverflowError(f"date {day.isoformat()} + {count} {unit} is out of range")
    return dt.date(year, month0 + 1, min(day.day, _days_in_month(year, month0 + 1)))


def add(instant: dt.datetime, count: int, unit: str, tz: dt.tzinfo) -> dt.datetime:
    """``instant`` + ``count`` ``unit`` (day, week, month, year) in ``tz``'s local calendar.

    The same wall-clock time ``count`` days/weeks/months/years later (LANGUAGE.md §2.1), so a
    day is 23 or 25 hours across a DST change and "12 months" ends at the same local time of
    day a year on. The day of the month is kept, or cut to the target month's last day
    (2026-01-31 + 1 month = 2026-02-28; 2024-02-29 + 1 year = 2025-02-28); the wall-clock result
    goes through :func:`resolve` (gap → forward to the first existing time; fold → the first
    occurrence). ``count`` may be negative (see :func:`subtract`); ``count == 0`` returns
    ``instant`` itself, even when it is the second occurrence of a fold's hour.
    """
    _aware(instant)
    if count == 0:
        if unit not in UNITS:
            raise ValueError(f"unknown duration unit {unit!r}; expected one of {', '.join(UNITS)}")
        return instant
    local = instant.astimezone(tz)
    day = _shift_date(local.date(), count, unit)
    return resolve(dt.datetime.combine(day, local.time()), tz)


def subtract(instant: dt.datetime, count: int, unit: str, tz: dt.tzinfo) -> dt.datetime:
    """``instant`` − ``count`` ``unit`` with the rules of :func:`add` (2026-03-31 − 1 month =
    2026-02-28). A history window at ``t`` is ``(subtract(t, D), t]``.

    Calendar arithmetic is not invertible (2026-01-31 + 1 month − 1 month = 2026-01-28), so the
    moment an event *leaves* a window is not ``add(e, D)``: use :func:`window_exit`.
    """
    return add(instant, -count, unit, tz)


def window_exit(event: dt.datetime, count: int, unit: str, tz: dt.tzinfo) -> dt.datetime:
    """The first instant ``t`` at which an event at ``event`` is no longer in the window
    ``(t − D, t]``, i.e. the least ``t`` with ``subtract(t, count, unit, tz) >= event``.

    This is when a tier that uses the window must be re-evaluated (LANGUAGE.md §2.2). It is
    ``add(event, D)`` in the common case but not always: an event at 2026-01-31 12:00 is still
    in "the last 1 month" at 2026-02-28 23:59 (window start 2026-01-28 23:59) and leaves at
    2026-03-01 00:00; and near a DST gap an event at the gap's end leaves as soon as the window
    start reaches the gap's start. Every ``t`` before the result has the event in its window.
    (Around an autumn fold the window start steps back an hour with ``t``, so an event that has
    just left can be in the window again for up to that hour; the result is still the first
    moment it is out.) ``count`` must be positive.
    """
    _aware(event)
    if count <= 0:
        raise ValueError("a window's duration must be positive")
    # 1. the least wall-clock time whose instant is at or after `event` (resolve() is monotone)
    threshold = _least_local_at_or_after(event, tz)
    # 2. the least wall-clock time X with X − D >= threshold (X − D is monotone in X)
    day = _shift_date(threshold.date(), count, unit)
    if unit in ("month", "year") and day.day < threshold.day:
        # the month was too short: all of its last day still maps before the threshold, so the
        # first wall-clock time that does not is the next day's midnight
        first = day + dt.timedelta(days=1)
        target = dt.datetime.combine(first, _MIDNIGHT)
    else:
        target = dt.datetime.combine(day, threshold.time())
    # 3. the least instant whose wall clock is at or past X: resolve(X) (first occurrence / gap end)
    leave = resolve(target, tz)
    if add(leave, -count, unit, tz) >= event:
        return leave
    # X fell in a skipped stretch of days and month arithmetic cuts the day of the month (Pacific/
    # Apia skipped 2011-12-30: 12-31 00:00 − 1 month = 11-30 00:00, earlier than 12-30 14:00 −
    # 1 month), so X − D is not monotone there; within the day after the gap it is again, so
    # search the first instant out there, day by day, then to the microsecond.
    low = leave
    for _ in range(4):
        high = low + _ONE_DAY
        if add(high, -count, unit, tz) >= event:
            break
        low = high
    else:  # pragma: no cover - no zone skips more than a day
        return low
    lo, hi = 0, int((high - low) / _ONE_MICROSECOND)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if add(low + mid * _ONE_MICROSECOND, -count, unit, tz) >= event:
            hi = mid
        else:
            lo = mid
    return low + hi * _ONE_MICROSECOND


def _least_local_at_or_after(instant: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The least naive wall-clock time ``L`` with ``resolve(L, tz) >= instant``."""
    local = local_datetime(instant, tz)
    if resolve(local, tz) == instant and resolve(local - _ONE_MICROSECOND, tz) < instant:
        return local  # the usual case: `instant` is the only (or first) occurrence of its wall time
    # `instant` ends a gap (earlier wall times resolve to it too) or is a fold's second
    # occurrence (its own wall time resolves earlier): search the monotone map.
    low, high = local - dt.timedelta(days=3), local + dt.timedelta(days=3)
    lo, hi = 0, int((high - low) / _ONE_MICROSECOND)  # resolve(low) < instant <= resolve(high)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if resolve(low + mid * _ONE_MICROSECOND, tz) >= instant:
            hi = mid
        else:
            lo = mid
    return low + hi * _ONE_MICROSECOND


def duration_parts(duration: Duration) -> tuple[int, str]:
    """``(count, unit)`` of an ``ast.Duration``, ready for ``add(t, *duration_parts(d), tz)``.

    The checker guarantees a whole, positive count; a fraction here is a bug upstream, so it
    raises ``ValueError`` rather than rounding silently.
    """
    count: Decimal = duration.count
    if not count.is_finite() or count != count.to_integral_value():
        raise ValueError(f"duration count {count} is not a whole number")
    if duration.unit not in UNITS:
        raise ValueError(f"unknown duration unit {duration.unit!r}")
    return int(count), duration.unit


# ---------------------------------------------------------------------------- local views


def _local_day(local: dt.datetime, instant: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The local day ``instant`` is in, given its local time ``local``: the last day whose
    local midnight is at or before it (the wall-clock date, unless the clock was set back
    across midnight and the next day has already begun)."""
    day = local.date()
    while day < dt.date.max and local_midnight(day + _ONE_DAY, tz) <= instant:
        day += _ONE_DAY
    return day


def local_date(instant: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The local calendar date of ``instant`` in ``tz`` (the day whose midnight it follows)."""
    _aware(instant)
    return _local_day(instant.astimezone(tz), instant, tz)


def local_time(instant: dt.datetime, tz: dt.tzinfo) -> dt.time:
    """The local wall-clock time of day of ``instant`` in ``tz`` (naive; both occurrences of a
    fold's hour read the same)."""
    _aware(instant)
    return instant.astimezone(tz).time()


def weekday(instant: dt.datetime, tz: dt.tzinfo) -> int:
    """The local weekday of ``instant`` in ``tz``: Monday 0 … Sunday 6."""
    _aware(instant)
    return _local_day(instant.astimezone(tz), instant, tz).weekday()


def period_key(instant: dt.datetime, period: str, tz: dt.tzinfo) -> str:
    """The local calendar period (for ``at most N per PERIOD``) that ``instant`` falls in.

    ``day`` → ``"2026-03-01"``, ``week`` → ``"2026-W09"`` (ISO 8601: weeks start on Monday
    and belong to the ISO year of their Thursday, so 2027-01-01 is in ``"2026-W53"``),
    ``month`` → ``"2026-03"``, ``year`` → ``"2026"``. A string: hashable, JSON-friendly for the
    state store, and, for one period kind, ordered as the periods are (zero-padded fields), so a
    later instant never has a smaller key.
    """
    _aware(instant)
    day = _local_day(instant.astimezone(tz), instant, tz)
    if period == "day":
        return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "year":
        return f"{day.year:04d}"
    raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")


def in_time_window(instant: dt.datetime, start: dt.time, end: dt.time, tz: dt.tzinfo) -> bool:
    """Whether the local time of day of ``instant`` is in ``between START and END``.

    Start included, end excluded (LANGUAGE.md §2.3); when ``end`` is before ``start`` the window
    wraps past midnight (``22:00 and 02:00`` = 22:00 ≤ t or t < 02:00). When they are equal the
    window is empty — "from 09:00 up to but not including 09:00" — never "all day": this
    follows the written rule literally, and a rule that can never fire is something the checker
    can warn about, whereas a silent all-day window could not be noticed. Both occurrences of a
    fold's repeated hour read the same local time, so both are in a window that covers it.
    """
    _aware(instant)
    now = instant.astimezone(tz).time()
    if start < end:
        return start <= now < end
    if end < start:
        return start <= now or now < end
    return False


def in_date_window(instant: dt.datetime, start: dt.date, end: dt.date, tz: dt.tzinfo) -> bool:
    """Whether the local date (:func:`local_date`) of ``instant`` is in ``from START to END``,
    both dates included: from START's local midnight up to, not including, the midnight after
    END (an empty window when ``end`` is before ``start``)."""
    _aware(instant)
    return start <= _local_day(instant.astimezone(tz), instant, tz) <= end


@functools.lru_cache(maxsize=8192)
def local_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The instant at which local date ``day`` begins in ``tz``: its 00:00, or, where 00:00 does
    not exist (zones that change the clock at midnight), the first local time that does.
    Cached: birthdays and period edges ask for the same few midnights over and over."""
    return resolve(dt.datetime.combine(day, _MIDNIGHT), tz)


# ---------------------------------------------------------------------------- birthdays and age


def _anniversary(birthdate: dt.date, year: int) -> dt.date:
    """The birthdate's day in ``year``; 29 February is 28 February in a common year."""
    if birthdate.month == 2 and birthdate.day == 29 and _days_in_month(year, 2) == 28:
        return dt.date(year, 2, 28)
    return birthdate.replace(year=year)


def next_birthday(after: dt.datetime, birthdate: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The first birthday instant strictly after ``after``: local midnight (:func:`local_midnight`)
    of the birthdate's day, 29 February being 28 February in common years (LANGUAGE.md §2.3).

    Strictly after, never backdated: a birthdate set during the birthday itself (or exactly at
    its midnight) first fires a year later; set the day before, it fires that midnight. Only
    anniversaries count — the day of birth itself is not a birthday — so a birthdate in the
    future (a typo, or a child's) first fires on its first anniversary. The evaluator calls
    this again with the firing time to schedule the next year's.
    """
    _aware(after)
    year = max(local_date(after, tz).year, birthdate.year + 1)
    while True:  # at most twice: this local year's birthday, else next year's
        if year > 9999:
            raise OverflowError("no birthday before the year 10000")
        moment = local_midnight(_anniversary(birthdate, year), tz)
        if moment > after:
            return moment
        year += 1


def age(birthdate: dt.date, instant: dt.datetime, tz: dt.tzinfo) -> int:
    """``customer.age``: whole years from ``birthdate`` to the local date of ``instant``.

    A year older on the birthday's date; someone born on 29 February turns a year older on 28
    February in common years — the same day the ``birthday`` trigger fires, so a rule for
    "18 and over" and the birthday message agree (some legal systems use 1 March instead).
    A birthdate after the date gives a negative age, left as it is: it is what the data say,
    and it fails every sensible ``age >=`` or ``between`` test.
    """
    today = local_date(instant, tz)
    years = today.year - birthdate.year
    if today < _anniversary(birthdate, today.year):
        years -= 1
    return years
