"""The bookshop programme (``rulesets/bookshop.reward``) written by hand in plain Python.

This is the performance ceiling for ``rewardlang.engine.Engine`` on that programme, and a second,
independent implementation of LANGUAGE.md §3-§5 to hold the engine's ledger equal to. It was
written from the design (LANGUAGE.md) and the ruleset, not from the kernel: no ``rewardlang``
kernel, compiler, state or effects code is called or copied. Three shared utilities are used, as
the engine uses them: ``rewardlang.collector`` (the garbage collector paused for a batch, as
``Engine.run`` pauses it, so that both run under the same conditions), ``rewardlang.localtime`` for the calendar (local calendar arithmetic,
window exits, birthdays; with a fast path of its own for days without a clock change, held
equal to ``localtime`` by the tests) and ``rewardlang.events`` for reading input events (§3:
``Validator``, and ``fingerprint`` to compare a rejected line with others of its id), so that
both sides start from the same typed events.

``bookshop_by_hand(events, until=None)`` returns the ledger lines as dicts (§5: keys in order,
lines in canonical order), the lines of a batch run followed by those of ``until`` — the same
as ``[e.to_dict() for e in Engine(program).run(events).effects + Engine.advance(until)]``.
``BookshopByHand`` keeps customers between calls (``run``/``advance``), for runs cut in time.

What the programme does, rule by rule, and how it is done here (per customer, events in
``(time, id)`` order; §4 steps 1-5 per event):

* settings: points expire 12 months after they become available (one lot per award, FIFO);
  points that rules award on an event are pending for 14 days (a ``pending`` line, then a
  release line per award); refunds within 90 days; Europe/Stockholm calendar.
* "Welcome" 100 once per signup; "Base points" 1 per 10 SEK, unless "Gold points" (2 per 10 SEK,
  for gold: tier before the event) fires instead; "Punch card" a free book per 5th book purchase
  (counter with a high-water mark; a full refund un-counts); "Student books" 20 for ages 18-29
  on books, at most 2 per local month; "Review bonus" 50 for stars >= 1, at most 3 per month;
  "Referral" 100; "First purchase" 200; "Big basket" 50 for >= 500 SEK and >= 3 items;
  "Saturday double" 1 per 10 SEK on a local Saturday, capped at 500 points per local month;
  "Christmas" 2 per 10 SEK on books and games 2026-12-01..24, for city Stockholm; "Big spender"
  a voucher per 1000 SEK of cumulative spend (net of refunds, high-water mark); "Welcome mail"
  per signup. Zero-point awards write no line.
* scheduled, in this order at one instant: releases, expiries (a line per lot), reminders
  (one message a local day, 30 days before a lot's expiry, with the unspent points of the lots
  whose reminders fall that day), birthdays (200 points at local midnight, once a local year),
  inactivity (a message 6 months after the last applied event), tier re-evaluations (when a
  purchase leaves the 12-month window, when a "kept for" ends); then conversions if the balance
  went up.
* tiers: silver >= 2000 SEK, gold >= 5000 SEK spent in the last 12 months (net of refunds), gold
  kept 12 months after its condition stops holding; a change writes a ``tier`` line and
  "Gold mail" on a change to gold.
* "Bonus check": while the balance is >= 500, take 500 points (oldest first) and give a voucher.
* built-ins: ``profile``, ``adjust`` (a lot if positive; a debt if the balance goes below zero),
  ``redeem`` (rejected if the balance does not cover the reward), ``refund`` (rate awards cut to
  the award of what remains, other awards reversed on a full refund, pending awards cut before
  their release; own lot first, then oldest lots, then debt).
* input: lines of one customer and id that are identical are one event; differing ones are all
  rejected (an invalid line too); an id applied before is a duplicate (same content) or
  conflicting, unless older than the refund window; an event not after the customer's last one
  is late; a rejected event (conflicting lines too) still fires what is due and moves the clock.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from rewardlang import collector, localtime
from rewardlang.events import Event, Rejection, Validator, fingerprint

ZONE = localtime.zone("Europe/Stockholm")
UTC = dt.timezone.utc
_next_birthday = localtime.next_birthday


# ---------------------------------------------------------------------- the calendar, fast
# ``rewardlang.localtime`` is exact for every zone and corner; these are the same functions with
# a fast path for the common case — a local day with no clock change in it (every day but two a
# year in Stockholm) — and a fall-back to ``localtime`` otherwise. The test suite holds them
# equal to ``localtime`` (tests/test_bookshop_by_hand.py).

_plain: dict[dt.date, dt.timedelta | None] = {}


def _plain_offset(day: dt.date) -> dt.timedelta | None:
    """The UTC offset of local ``day`` if it is the same all day long (no clock change), else None."""
    try:
        return _plain[day]
    except KeyError:
        pass
    start = dt.datetime.combine(day, dt.time(0, 0))
    end = dt.datetime.combine(day, dt.time(23, 59, 59, 999999))
    offsets = {moment.replace(tzinfo=ZONE, fold=fold).utcoffset() for moment in (start, end) for fold in (0, 1)}
    result = offsets.pop() if len(offsets) == 1 else None
    _plain[day] = result
    return result


def _shift(day: dt.date, count: int, unit: str) -> dt.date:
    if unit == "day":
        return day + dt.timedelta(days=count)
    months = count if unit == "month" else 12 * count
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month0 + 1
    if month == 2:
        last = 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    else:
        last = _DAYS_IN_MONTH[month]
    return dt.date(year, month, day.day if day.day <= last else last)


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _add(instant: dt.datetime, count: int, unit: str, tz: Any = ZONE) -> dt.datetime:
    """``localtime.add(instant, count, unit, ZONE)`` (unit: day, month or year)."""
    local = instant.astimezone(ZONE)
    day = _shift(local.date(), count, unit)
    offset = _plain_offset(day)
    if offset is None:  # the wall-clock result may fall in a gap or a fold
        return localtime.add(instant, count, unit, ZONE)
    return dt.datetime.combine(day, local.time(), UTC) - offset


def _window_exit(instant: dt.datetime, count: int, unit: str, tz: Any = ZONE) -> dt.datetime:
    """``localtime.window_exit(instant, count, unit, ZONE)``: the first moment ``instant`` is out of
    the window ``(t - D, t]``; on plain days (and no 29 February cut) the same wall time D later."""
    local = instant.astimezone(ZONE)
    today = local.date()
    day = _shift(today, count, unit)
    if day.day != today.day or _plain_offset(today) is None:
        return localtime.window_exit(instant, count, unit, ZONE)
    offset = _plain_offset(day)
    if offset is None:
        return localtime.window_exit(instant, count, unit, ZONE)
    return dt.datetime.combine(day, local.time(), UTC) - offset


def _fmt(instant: dt.datetime) -> str:
    """``localtime.format_instant`` of a UTC instant."""
    text = instant.isoformat()
    if instant.microsecond:
        return text[:-6].rstrip("0") + "Z"
    return text[:-6] + "Z"


_heappush = heapq.heappush
_heappop = heapq.heappop

REL, EXP, REM, BDAY, INACT, TIER = range(6)  # the order of scheduled items at one instant

_TEN = Decimal(10)
_THOUSAND = Decimal(1000)
_FIVE_HUNDRED = Decimal(500)
_SILVER = Decimal(2000)
_GOLD = Decimal(5000)
_ZERO = Decimal(0)
_XMAS_START = dt.date(2026, 12, 1)
_XMAS_END = dt.date(2026, 12, 24)
_REWARDS = {"Free shipping": 200, "Tote bag": 800}
_BUILTIN = frozenset({"profile", "refund", "redeem", "adjust"})
_FORGET = dt.timedelta(days=92)  # more than 90 local days, whatever the clock changes


class Lot:
    __slots__ = ("points", "expires", "remind", "day")

    def __init__(self, points: int, expires: dt.datetime, remind: dt.datetime, day: dt.date) -> None:
        self.points = points
        self.expires = expires
        self.remind = remind
        self.day = day


class Award:
    __slots__ = ("rule", "rate", "standing", "lot", "pending")

    def __init__(self, rule: str, rate: int, standing: int) -> None:
        self.rule = rule
        self.rate = rate  # points per 10 SEK of the amount (0: a fixed award)
        self.standing = standing
        self.lot: Lot | None = None
        self.pending = True


class Record:
    """An applied event, kept for duplicates and refunds (the refund window)."""

    __slots__ = ("id", "fingerprint", "time", "type", "amount", "refunded", "awards", "books", "entry")

    def __init__(self, event: Event, amount: Decimal | None) -> None:
        self.id = event.id
        self.fingerprint = event.fingerprint
        self.time = event.time
        self.type = event.type
        self.amount = amount
        self.refunded = _ZERO
        self.awards: list[Award] = []
        self.books = False  # counted by the punch card
        self.entry: list[Any] | None = None  # [time, net amount, exit, in window]


class Customer:
    __slots__ = (
        "id", "clock", "last_time", "last_id", "balance", "lots", "sched", "tie", "city", "birthdate",
        "tier", "gold_held", "gold_kept", "books", "books_mark", "spent", "spent_mark", "welcomed",
        "first_done", "student", "reviews", "saturday", "window", "window_sum", "exit_wake", "applied",
        "inactive_due", "inactive_wake", "inactive_done", "birthday_due", "birthday_year",
        "reminded_day",
    )

    def __init__(self, cid: str) -> None:
        self.id = cid
        self.clock: dt.datetime | None = None
        self.last_time: dt.datetime | None = None
        self.last_id = ""
        self.balance = 0
        self.lots: list[Lot] = []
        self.sched: list[tuple[Any, ...]] = []
        self.tie = 0
        self.city: str | None = None
        self.birthdate: dt.date | None = None
        self.tier: str | None = None
        self.gold_held = False
        self.gold_kept: dt.datetime | None = None
        self.books = 0
        self.books_mark = 0
        self.spent = _ZERO
        self.spent_mark = 0
        self.welcomed = False
        self.first_done = False
        self.student: tuple[int, int, int] = (0, 0, 0)  # (year, month, firings)
        self.reviews: tuple[int, int, int] = (0, 0, 0)
        self.saturday: tuple[int, int, int] = (0, 0, 0)  # (year, month, points)
        self.window: list[list[Any]] = []  # purchases in the 12-month window, oldest first
        self.window_sum = _ZERO
        self.exit_wake = False  # a tier item for the oldest window entry's exit is scheduled
        self.applied: dict[str, Record] = {}
        self.inactive_due: dt.datetime | None = None  # 6 months after the last applied event
        self.inactive_wake: dt.datetime | None = None  # the earliest inactivity item scheduled (None: unknown)
        self.inactive_done = False
        self.birthday_due: dt.datetime | None = None
        self.birthday_year = 0
        self.reminded_day: dt.date | None = None

    def push(self, due: dt.datetime, order: int, payload: Any = None) -> None:
        self.tie += 1
        _heappush(self.sched, (due, order, self.tie, payload))


class BookshopByHand:
    """Customers in memory; ``run`` a batch, ``advance`` to a time; lines as dicts."""

    def __init__(self, program: Any = None) -> None:
        if program is None:
            import pathlib

            import rewardlang

            program = rewardlang.load(pathlib.Path(__file__).resolve().parent.parent / "rulesets" / "bookshop.reward")
        self.validator = Validator(program)
        self.customers: dict[str, Customer] = {}
        self.counts = {"read": 0, "applied": 0, "duplicates": 0, "rejected": 0}

    # ------------------------------------------------------------------ batches
    def run(self, events: Iterable[object]) -> list[dict[str, Any]]:
        # the cyclic collector paused for the batch, as ``Engine.run`` pauses it (the same
        # conditions for both: its passes over a batch's objects are a third of either's time)
        with collector.paused(promote=True):
            return self._run(events)

    def _run(self, events: Iterable[object]) -> list[dict[str, Any]]:
        validate = self.validator.validate
        counts = self.counts
        per_customer: dict[str, list[tuple[Any, ...]]] = {}
        by_id: dict[tuple[str, str], list[Any]] = {}  # lines of one customer and id: Events, (Rejection, raw)
        read = 0
        for raw in events:
            read += 1
            item = validate(raw)
            if type(item) is Event:
                key = (item.customer, item.id)
                group = by_id.get(key)
                if group is None:
                    by_id[key] = [item]
                else:
                    group.append(item)
            elif item.customer is None:
                counts["rejected"] += 1
            elif item.id is not None:
                by_id.setdefault((item.customer, item.id), []).append((item, raw))
            elif item.time is None:
                counts["rejected"] += 1
            else:
                per_customer.setdefault(item.customer, []).append((item.time, item.id or "", 1, item.reason, item))
        counts["read"] += read
        for (cid, eid), group in by_id.items():
            first = group[0]
            if len(group) > 1:
                prints = [x.fingerprint if type(x) is Event else fingerprint(x[1]) for x in group]
                if prints[0] is None or any(fp != prints[0] for fp in prints):
                    # differing lines with one id: all rejected; as rejected events they still
                    # fire what is due and move the customer's clock (LANGUAGE.md §4)
                    for x in group:
                        x = x if type(x) is Event else x[0]
                        if x.time is None:
                            counts["rejected"] += 1
                        else:
                            conflict = Rejection("conflicting duplicate", "conflicting_duplicate", eid, cid, x.time)
                            per_customer.setdefault(cid, []).append((x.time, eid, 1, conflict.reason, conflict))
                    continue
                counts["duplicates"] += len(group) - 1  # identical lines: one event
            if type(first) is Event:
                per_customer.setdefault(cid, []).append((first.time, eid, 0, first.fingerprint, first))
            elif first[0].time is None:
                counts["rejected"] += 1
            else:
                rejection = first[0]
                per_customer.setdefault(cid, []).append((rejection.time, eid, 1, rejection.reason, rejection))
        out: list[dict[str, Any]] = []
        customers = self.customers
        for cid in sorted(per_customer):
            c = customers.get(cid)
            if c is None:
                c = customers[cid] = Customer(cid)
            items = per_customer[cid]
            items.sort(key=_item_key)
            for entry in items:
                item = entry[4]
                if type(item) is Rejection:
                    counts["rejected"] += 1
                    _advance(c, item.time, out)
                else:
                    counts[_apply(c, item, out)] += 1
        return out

    def advance(self, until: dt.datetime | str) -> list[dict[str, Any]]:
        instant = localtime.parse_instant(until) if isinstance(until, str) else until
        if instant is None:
            raise ValueError(f"not a time with an offset: {until!r}")
        out: list[dict[str, Any]] = []
        with collector.paused(promote=True):
            for cid in sorted(self.customers):
                _advance(self.customers[cid], instant, out)
        return out


def _item_key(entry: tuple[Any, ...]) -> tuple[Any, ...]:
    return entry[:4]


def bookshop_by_hand(events: Iterable[object], until: dt.datetime | str | None = None,
                     program: Any = None) -> list[dict[str, Any]]:
    """The ledger of ``events`` (then of ``until``, if given) under the bookshop programme."""
    shop = BookshopByHand(program)
    lines = shop.run(events)
    if until is not None:
        lines.extend(shop.advance(until))
    return lines


# ---------------------------------------------------------------------- points

def _credit(c: Customer, points: int, at: dt.datetime, cache: list[Any], lots: list[Lot]) -> Lot | None:
    """Available points at ``at``: a debt is paid first, the rest is a lot (added to ``lots``, to
    be scheduled by ``_schedule``). ``cache`` keeps [expiry, reminder, reminder day] of lots made
    at this instant."""
    balance = c.balance
    c.balance = balance + points
    if balance < 0:
        points += balance
        if points <= 0:
            return None
    if not cache:
        expires = _add(at, 12, "month", ZONE)
        remind = _add(expires, -30, "day", ZONE)
        cache.extend((expires, remind, remind.astimezone(ZONE).date()))
    lot = Lot(points, cache[0], cache[1], cache[2])
    c.lots.append(lot)
    lots.append(lot)
    return lot


def _schedule(c: Customer, at: dt.datetime, cache: list[Any], lots: list[Lot]) -> None:
    """The expiry of ``lots`` (made at ``at``) and its reminder."""
    if lots:
        c.push(cache[0], EXP, lots)
        if cache[1] >= at:
            c.push(cache[1], REM, None)


def _debit(c: Customer, points: int, own: Lot | None = None) -> None:
    """Take points: from ``own`` first, then the oldest lots, then make a debt."""
    c.balance -= points
    left = points
    if own is not None and own.points > 0:
        take = own.points if own.points < left else left
        own.points -= take
        left -= take
    lots = c.lots
    i = 0
    n = len(lots)
    while left > 0 and i < n:
        lot = lots[i]
        p = lot.points
        if p > left:
            lot.points = p - left
            left = 0
            break
        lot.points = 0
        left -= p
        i += 1
    if i or own is not None:
        c.lots = [lot for lot in lots if lot.points > 0]


def _convert(c: Customer, at: dt.datetime, ts: str, event: str | None, out: list[dict[str, Any]]) -> None:
    while c.balance >= 500:
        _debit(c, 500)
        out.append({"time": ts, "customer": c.id, "event": event, "rule": "Bonus check", "kind": "points",
                    "points": -500, "balance": c.balance})
        out.append({"time": ts, "customer": c.id, "event": event, "rule": "Bonus check", "kind": "voucher",
                    "voucher": "50 SEK bonus check", "quantity": 1})


# ---------------------------------------------------------------------- step 1: the schedule

def _advance(c: Customer, until: dt.datetime, out: list[dict[str, Any]]) -> None:
    sched = c.sched
    while sched and sched[0][0] <= until:
        at = sched[0][0]
        ts = _fmt(at)
        before = c.balance
        tier_due = False
        cache: list[Any] = []
        while sched and sched[0][0] == at:
            _, order, _, payload = _heappop(sched)
            if order == REL:
                _release(c, at, ts, payload, cache, out)
            elif order == EXP:
                for lot in payload:
                    p = lot.points
                    if p > 0:
                        lot.points = 0
                        c.lots.remove(lot)
                        c.balance -= p
                        out.append({"time": ts, "customer": c.id, "event": None, "rule": None, "kind": "expire",
                                    "points": -p, "balance": c.balance})
            elif order == REM:
                _remind(c, at, ts, out)
            elif order == BDAY:
                if c.birthday_due == at and c.birthdate is not None:
                    year = at.astimezone(ZONE).year
                    if c.birthday_year != year:
                        c.birthday_year = year
                        made: list[Lot] = []
                        _credit(c, 200, at, cache, made)
                        _schedule(c, at, cache, made)
                        out.append({"time": ts, "customer": c.id, "event": None, "rule": "Birthday", "kind": "points",
                                    "points": 200, "balance": c.balance})
                    c.birthday_due = _next_birthday(at, c.birthdate, ZONE)
                    c.push(c.birthday_due, BDAY)
            elif order == INACT:
                # one item at or before the due time is enough (see _apply); stale ones pass
                if c.inactive_wake == at:
                    c.inactive_wake = None
                due = c.inactive_due
                if due is not None and not c.inactive_done:
                    if due == at:
                        c.inactive_done = True
                        out.append({"time": ts, "customer": c.id, "event": None, "rule": "Win back", "kind": "message",
                                    "message": "we-miss-you"})
                    elif due > at and (c.inactive_wake is None or due < c.inactive_wake):
                        c.push(due, INACT)
                        c.inactive_wake = due
            else:
                if payload == "exit":
                    c.exit_wake = False
                tier_due = True
        if tier_due:
            _tier(c, at, ts, None, out)
        if c.balance > before:
            _convert(c, at, ts, None, out)
    if c.clock is None or until > c.clock:
        c.clock = until


def _release(c: Customer, at: dt.datetime, ts: str, record: Record, cache: list[Any],
             out: list[dict[str, Any]]) -> None:
    made: list[Lot] = []
    for award in record.awards:
        if not award.pending:
            continue
        award.pending = False
        if award.standing > 0:
            award.lot = _credit(c, award.standing, at, cache, made)
            out.append({"time": ts, "customer": c.id, "event": None, "rule": award.rule, "kind": "points",
                        "points": award.standing, "balance": c.balance, "releases": record.id})
    _schedule(c, at, cache, made)


def _remind(c: Customer, at: dt.datetime, ts: str, out: list[dict[str, Any]]) -> None:
    day = at.astimezone(ZONE).date()
    if c.reminded_day == day:
        return
    expiring = 0
    expires = None
    for lot in c.lots:
        if lot.day == day and lot.remind >= at and lot.points > 0 and lot.expires > at:
            expiring += lot.points
            if expires is None or lot.expires < expires:
                expires = lot.expires
    if expiring <= 0:
        return
    c.reminded_day = day
    out.append({"time": ts, "customer": c.id, "event": None, "rule": None, "kind": "message",
                "message": "points-expiring", "expiring": expiring, "expires": _fmt(expires)})  # type: ignore[arg-type]


# ---------------------------------------------------------------------- tiers

def _tier(c: Customer, at: dt.datetime, ts: str, event: str | None, out: list[dict[str, Any]]) -> None:
    window = c.window
    if window and window[0][2] <= at:
        while window and window[0][2] <= at:
            entry = window.pop(0)
            entry[3] = False
            c.window_sum -= entry[1]
        if window and not c.exit_wake:
            entry = window[0]
            c.push(entry[2], TIER, "exit")
            c.exit_wake = True
    spend = c.window_sum
    if spend >= _GOLD:
        c.gold_held = True
        c.gold_kept = None
        new = "gold"
    else:
        if c.gold_held:
            c.gold_held = False
            c.gold_kept = _add(at, 12, "month", ZONE)
            c.push(c.gold_kept, TIER, "kept")
        if c.gold_kept is not None and c.gold_kept <= at:
            c.gold_kept = None
        if c.gold_kept is not None:
            new = "gold"
        elif spend >= _SILVER:
            new = "silver"
        else:
            new = None
    old = c.tier
    if new == old:
        return
    c.tier = new
    out.append({"time": ts, "customer": c.id, "event": event, "rule": None, "kind": "tier", "from": old, "to": new})
    if new == "gold":
        out.append({"time": ts, "customer": c.id, "event": event, "rule": "Gold mail", "kind": "message",
                    "message": "welcome-to-gold"})


# ---------------------------------------------------------------------- steps 2-5: one event

def _apply(c: Customer, event: Event, out: list[dict[str, Any]]) -> str:
    """Apply one event; returns the outcome's counter: applied, duplicates or rejected."""
    t = event.time
    eid = event.id
    clock = c.clock
    known = c.applied.get(eid)
    if known is not None and clock is not None and known.time < _add(clock, -90, "day", ZONE):
        known = None  # forgotten: older than the refund window
    if known is not None:
        return "duplicates" if known.fingerprint == event.fingerprint else "rejected"
    if (clock is not None and t < clock) or (c.last_time is not None and (t, eid) <= (c.last_time, c.last_id)):
        return "rejected"
    sched = c.sched
    if sched and sched[0][0] <= t:
        _advance(c, t, out)
    c.clock = t  # also when the event is rejected below (step 1 has run)
    ts = _fmt(t)
    kind = event.type
    fields = event.fields
    record: Record | None = None
    if kind == "purchase":
        record = _purchase(c, event, t, ts, fields, out)
    elif kind == "review":
        record = Record(event, None)
        if fields["stars"] >= 1:
            year, month = _month(t)
            y, m, n = c.reviews
            if (y, m) != (year, month):
                n = 0
            if n < 3:
                c.reviews = (year, month, n + 1)
                _pending(c, record, ts, eid, "Review bonus", 0, 50, out)
    elif kind == "referral":
        record = Record(event, None)
        _pending(c, record, ts, eid, "Referral", 0, 100, out)
    elif kind == "signup":
        record = Record(event, None)
        if not c.welcomed:
            c.welcomed = True
            _pending(c, record, ts, eid, "Welcome", 0, 100, out)
        out.append({"time": ts, "customer": c.id, "event": eid, "rule": "Welcome mail", "kind": "message",
                    "message": "welcome"})
    elif kind == "profile":
        if "city" in fields:
            c.city = fields["city"]  # type: ignore[assignment]
        if "birthdate" in fields:
            birthdate = fields["birthdate"]
            c.birthdate = birthdate  # type: ignore[assignment]
            if birthdate is None:
                c.birthday_due = None
            else:
                c.birthday_due = _next_birthday(t, birthdate, ZONE)  # type: ignore[arg-type]
                c.push(c.birthday_due, BDAY)
    elif kind == "adjust":
        points = fields["points"]
        if points:
            if points > 0:  # type: ignore[operator]
                cache: list[Any] = []
                made: list[Lot] = []
                _credit(c, points, t, cache, made)  # type: ignore[arg-type]
                _schedule(c, t, cache, made)
            else:
                _debit(c, -points)  # type: ignore[operator]
            out.append({"time": ts, "customer": c.id, "event": eid, "rule": None, "kind": "points",
                        "points": points, "balance": c.balance, "reason": fields.get("reason")})
    elif kind == "redeem":
        name = fields["reward"]
        cost = _REWARDS[name]  # type: ignore[index]
        if c.balance < cost:
            return "rejected"
        _debit(c, cost)
        out.append({"time": ts, "customer": c.id, "event": eid, "rule": None, "kind": "redeem",
                    "reward": name, "points": -cost, "balance": c.balance})
    else:  # refund
        if not _refund(c, event, t, ts, out):
            return "rejected"
    # step 3: what the customer has done
    if record is None:
        record = Record(event, None)
    elif record.awards:
        c.push(_add(t, 14, "day", ZONE), REL, record)
    applied = c.applied
    applied[eid] = record
    c.last_time = t
    c.last_id = eid
    c.clock = t
    # inactivity: 6 months after this event (not monotone: 31 March and 30 March + 6 months are
    # both 30 September, the later one at an earlier time of day)
    due = c.inactive_due = _add(t, 6, "month", ZONE)
    c.inactive_done = False
    if c.inactive_wake is None or due < c.inactive_wake:
        c.push(due, INACT)
        c.inactive_wake = due
    # forget records well past the refund window (records are in time order; the lookups above
    # and in _refund check the window exactly)
    if next(iter(applied.values())).time < t - _FORGET:
        horizon = t - _FORGET
        for key in [k for k, r in applied.items() if r.time < horizon]:
            del applied[key]
    # step 4: the tier; step 5: conversions
    _tier(c, t, ts, eid, out)
    if c.balance >= 500:
        _convert(c, t, ts, eid, out)
    return "applied"


def _month(t: dt.datetime) -> tuple[int, int]:
    local = t.astimezone(ZONE)
    return local.year, local.month


def _pending(c: Customer, record: Record, ts: str, eid: str, rule: str, rate: int, points: int,
             out: list[dict[str, Any]]) -> None:
    if points == 0:
        return
    record.awards.append(Award(rule, rate, points))
    out.append({"time": ts, "customer": c.id, "event": eid, "rule": rule, "kind": "pending", "pending": points})


def _purchase(c: Customer, event: Event, t: dt.datetime, ts: str, fields: Any,
              out: list[dict[str, Any]]) -> Record:
    eid = event.id
    amount: Decimal = fields["amount"]
    category = fields["category"]
    record = Record(event, amount)
    local = t.astimezone(ZONE)
    books = category == "books"
    tenths = int(amount // _TEN)  # 1 point per 10 SEK, rounded down
    # Base points / Gold points (for gold, instead of Base points); the tier before the event
    if c.tier == "gold":
        _pending(c, record, ts, eid, "Gold points", 2, int(2 * amount // _TEN), out)
    else:
        _pending(c, record, ts, eid, "Base points", 1, tenths, out)
    # Punch card: 5 purchases where category is "books"
    if books:
        record.books = True
        c.books += 1
        mark = c.books // 5
        if mark > c.books_mark:
            for _ in range(mark - c.books_mark):
                out.append({"time": ts, "customer": c.id, "event": eid, "rule": "Punch card", "kind": "free_item",
                            "item": "book", "quantity": 1})
            c.books_mark = mark
        # Student books: for young (18-29 on the local date), at most 2 per month
        birthdate = c.birthdate
        if birthdate is not None:
            today = local.date()
            age = today.year - birthdate.year
            if (today.month, today.day) < _anniversary(birthdate, today.year):
                age -= 1
            if 18 <= age <= 29:
                y, m, n = c.student
                if (y, m) != (local.year, local.month):
                    n = 0
                if n < 2:
                    c.student = (local.year, local.month, n + 1)
                    _pending(c, record, ts, eid, "Student books", 0, 20, out)
    # First purchase
    if not c.first_done:
        c.first_done = True
        _pending(c, record, ts, eid, "First purchase", 0, 200, out)
    # Big basket
    if amount >= _FIVE_HUNDRED and fields["items"] >= 3:
        _pending(c, record, ts, eid, "Big basket", 0, 50, out)
    # Saturday double: capped at 500 points per local month
    if local.weekday() == 5:
        y, m, used = c.saturday
        if (y, m) != (local.year, local.month):
            used = 0
        points = min(tenths, 500 - used)
        c.saturday = (local.year, local.month, used + points)
        _pending(c, record, ts, eid, "Saturday double", 1, points, out)
    # Christmas: books and games, 2026-12-01..24, for stockholm
    if (books or category == "games") and c.city == "Stockholm" and _XMAS_START <= local.date() <= _XMAS_END:
        _pending(c, record, ts, eid, "Christmas", 2, int(2 * amount // _TEN), out)
    # Big spender: every 1000 SEK spent
    c.spent += amount
    mark = int(c.spent // _THOUSAND)
    if mark > c.spent_mark:
        for _ in range(mark - c.spent_mark):
            out.append({"time": ts, "customer": c.id, "event": eid, "rule": "Big spender", "kind": "voucher",
                        "voucher": "100 SEK off", "quantity": 1})
        c.spent_mark = mark
    # step 3 for the tier window
    entry = [t, amount, None, True]
    record.entry = entry
    window = c.window
    window.append(entry)
    c.window_sum += amount
    entry[2] = _window_exit(t, 12, "month", ZONE)
    if not c.exit_wake:
        c.push(window[0][2], TIER, "exit")
        c.exit_wake = True
    return record


def _anniversary(birthdate: dt.date, year: int) -> tuple[int, int]:
    if birthdate.month == 2 and birthdate.day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return (2, 28)
    return (birthdate.month, birthdate.day)


def _refund(c: Customer, event: Event, t: dt.datetime, ts: str, out: list[dict[str, Any]]) -> bool:
    fields = event.fields
    target_id = fields["refunds"]
    target = c.applied.get(target_id)  # type: ignore[arg-type]
    if target is None or target.type in _BUILTIN:
        return False
    if _add(target.time, 90, "day", ZONE) < t:
        return False
    asked = fields.get("amount")
    if target.amount is None:
        if target.refunded or asked is not None:
            return False
        target.refunded = Decimal(1)
        amount = _ZERO
        remaining = _ZERO
        full = True
    else:
        left = target.amount - target.refunded
        amount = left if asked is None else asked  # type: ignore[assignment]
        if left <= 0 or amount > left:
            return False
        target.refunded += amount
        remaining = target.amount - target.refunded
        full = remaining == 0
    eid = event.id
    for award in target.awards:
        standing = award.standing
        if standing <= 0:
            continue
        if award.rate and target.amount is not None:
            keep = int(award.rate * remaining // _TEN)
            cut = standing - keep if keep < standing else 0
        else:
            cut = standing if full else 0
        if cut <= 0:
            continue
        award.standing = standing - cut
        if award.pending:
            out.append({"time": ts, "customer": c.id, "event": eid, "rule": award.rule, "kind": "pending",
                        "pending": -cut, "reverses": target_id})
        else:
            _debit(c, cut, award.lot)
            out.append({"time": ts, "customer": c.id, "event": eid, "rule": award.rule, "kind": "points",
                        "points": -cut, "balance": c.balance, "reverses": target_id})
    if target.type == "purchase":
        entry = target.entry
        if entry is not None:
            entry[1] -= amount
            if entry[3]:
                c.window_sum -= amount
        c.spent -= amount
        if full and target.books:
            target.books = False
            c.books -= 1
    return True
