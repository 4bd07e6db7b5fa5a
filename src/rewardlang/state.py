"""One customer's state: everything the kernel needs to go on from where it stopped.

It is a plain value: ``to_dict()`` gives JSON-friendly data (instants and decimals as text) and
``CustomerState.from_dict`` restores it exactly, so a run can stop anywhere, be persisted, and go
on with the same result. Customers never share state. ``rewardlang run`` writes and reads every
customer's state once a run (and Spark and Dask once a bucket), so both are written for speed:
instants through ``rewardlang.isotext`` (the same text as ``localtime``, in half the time),
and no call per value where a comprehension can test for None itself. The form is unchanged.

What it holds (LANGUAGE.md §4): the clock; the balance and its lots (FIFO, each with its expiry);
pending awards; the profile; the tier and tiers kept; counters of counting rules with their
high-water marks; firings per rule per calendar period (limits) and points per period (caps);
history for the windows of ``spend in last``/``count of``; the applied events still inside the
refund window (for duplicates and refunds, with the awards each one made); and the schedule of
future items (releases, expiries, reminders, birthdays, inactivity, tier re-evaluations).
"""

from __future__ import annotations

import datetime as dt
import heapq
from decimal import Decimal
from typing import Any

from rewardlang.isotext import instant_text, text_instant

# the order of scheduled items due at one instant (§4 step 1)
RELEASE, EXPIRY, REMINDER, BIRTHDAY, INACTIVITY, TIER = range(6)


class Lot:
    __slots__ = ("id", "points", "available", "expires", "source")

    def __init__(self, id: int, points: int, available: dt.datetime, expires: dt.datetime | None, source: str | None):
        self.id = id
        self.points = points
        self.available = available
        self.expires = expires
        self.source = source

    def to_list(self) -> list[Any]:
        expires = self.expires
        return [self.id, self.points, instant_text(self.available), None if expires is None else instant_text(expires),
                self.source]

    @classmethod
    def from_list(cls, data: list[Any]) -> Lot:
        expires = data[3]
        return cls(data[0], data[1], text_instant(data[2]), None if expires is None else text_instant(expires),
                   data[4])


class Award:
    """Points one rule awarded on one event, and what still stands of them (for refunds)."""

    __slots__ = ("rule", "rate", "per", "standing", "lot", "pending", "release")

    def __init__(self, rule: str, rate: Decimal | None, per: Decimal | None, standing: int,
                 lot: int | None, pending: bool, release: dt.datetime | None):
        self.rule = rule
        self.rate = rate  # N of `N points per MONEY` (of `amount`): reduced on a partial refund
        self.per = per
        self.standing = standing
        self.lot = lot
        self.pending = pending
        self.release = release

    def to_list(self) -> list[Any]:
        return [self.rule, _d(self.rate), _d(self.per), self.standing, self.lot, self.pending, _t(self.release)]

    @classmethod
    def from_list(cls, data: list[Any]) -> Award:
        return cls(data[0], _dd(data[1]), _dd(data[2]), data[3], data[4], data[5], _p(data[6]))


class Applied:
    """An applied event inside the refund window."""

    __slots__ = ("fingerprint", "time", "type", "amount", "refunded", "awards", "counted")

    def __init__(self, fingerprint: str, time: dt.datetime, type: str, amount: Decimal | None,
                 refunded: Decimal, awards: list[Award], counted: list[list[Any]]):
        self.fingerprint = fingerprint
        self.time = time
        self.type = type
        self.amount = amount
        self.refunded = refunded
        self.awards = awards
        self.counted = counted  # [rule index, value added to its counter]

    def to_list(self) -> list[Any]:
        return [self.fingerprint, _t(self.time), self.type, _d(self.amount), _d(self.refunded),
                [a.to_list() for a in self.awards], [[i, _d(v)] for i, v in self.counted]]

    @classmethod
    def from_list(cls, data: list[Any]) -> Applied:
        return cls(data[0], _p(data[1]), data[2], _dd(data[3]), _dd(data[4]),
                   [Award.from_list(a) for a in data[5]], [[i, _dd(v)] for i, v in data[6]])


class History:
    """Spend and counts over time, for ``spend in last D`` and ``count of X in last D``."""

    __slots__ = ("entries", "spend_total", "counts", "windows")

    def __init__(self) -> None:
        self.entries: list[list[Any]] = []  # [time, event id, type, amount or None, counted]
        self.spend_total = Decimal(0)
        self.counts: dict[str, int] = {}
        # spend_window's running sums, by window: [start, first index inside, entries seen,
        # total]; derived from the entries, never stored, dropped when an entry changes
        self.windows: dict[Any, list[Any]] = {}

    def spend_since(self, start: dt.datetime) -> Decimal:
        total = Decimal(0)
        for entry in reversed(self.entries):
            if entry[0] <= start:
                break
            if entry[3] is not None:
                total += entry[3]
        return total

    def spend_window(self, window: Any, start: dt.datetime) -> Decimal:
        """``spend_since(start)`` for one window, kept as a running sum between calls.

        A window's start only moves forward as the customer's clock does, so the sum is carried
        from the last call: the entries added since are added, those now at or before ``start``
        taken off. A start earlier than the last one (a clock set back across an autumn fold
        moves a window's start back an hour) sums afresh. The value is ``spend_since``'s; its
        exponent may differ (``20.00`` for ``20``), which only a comparison ever sees.
        """
        entries = self.entries
        end = len(entries)
        cache = self.windows.get(window)
        if cache is None or start < cache[0]:
            first = end
            while first and entries[first - 1][0] > start:
                first -= 1
            total = _ZERO
            for entry in entries[first:]:
                if entry[3] is not None:
                    total += entry[3]
            self.windows[window] = [start, first, end, total]
            return total
        _, first, seen, total = cache
        for i in range(seen, end):
            amount = entries[i][3]
            if amount is not None:
                total += amount
        while first < end and entries[first][0] <= start:
            amount = entries[first][3]
            if amount is not None:
                total -= amount
            first += 1
        cache[0], cache[1], cache[2], cache[3] = start, first, end, total
        return total

    def spend_between(self, window: Any, low: dt.datetime, high: dt.datetime) -> Decimal | None:
        """``spend_since(start)`` for a start known only to lie in ``[low, high]``, or None when
        an event lies in ``(low, high]`` (then only the start itself can tell).

        Events after ``high`` are surely in the window and those at or before ``low`` surely out,
        whatever the calendar: bounds of the window's length (``zonecalendar.at_least`` and
        ``at_most``) answer without the zone-aware subtraction, most of the time. It keeps the
        same running sum as :meth:`spend_window`, which it leaves valid for it: what it leaves
        out is at or before ``low``, and no later start is earlier than that.
        """
        entries = self.entries
        end = len(entries)
        cache = self.windows.get(window)
        if cache is None or (cache[1] and entries[cache[1] - 1][0] > high):
            first, seen, total = 0, 0, _ZERO  # no sum yet, or one of a later time
        else:
            _, first, seen, total = cache
        inside = first
        while inside < end and entries[inside][0] <= high:
            inside += 1
        if inside and entries[inside - 1][0] > low:
            return None
        for i in range(seen, end):
            amount = entries[i][3]
            if amount is not None:
                total += amount
        for i in range(first, inside):
            amount = entries[i][3]
            if amount is not None:
                total -= amount
        self.windows[window] = [low, inside, end, total]
        return total

    def changed(self) -> None:
        """An entry's amount changed, or entries were dropped: the running sums start afresh."""
        self.windows.clear()

    def count_since(self, event: str, start: dt.datetime) -> int:
        n = 0
        for entry in reversed(self.entries):
            if entry[0] <= start:
                break
            if entry[2] == event and entry[4]:
                n += 1
        return n

    def count_total(self, event: str) -> int:
        return self.counts.get(event, 0)

    def find(self, event_id: str) -> list[Any] | None:
        for entry in reversed(self.entries):
            if entry[1] == event_id:
                return entry
        return None

    def prune(self, before: dt.datetime) -> None:
        keep = 0
        while keep < len(self.entries) and self.entries[keep][0] <= before:
            keep += 1
        if keep:
            del self.entries[:keep]
            self.windows.clear()

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": [[instant_text(t), i, k, None if a is None else str(a), c] for t, i, k, a, c in self.entries],
            "spend_total": _d(self.spend_total),
            "counts": dict(self.counts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        h = cls()
        h.entries = [[text_instant(t), i, k, None if a is None else Decimal(a), c] for t, i, k, a, c in data["entries"]]
        h.spend_total = Decimal(data["spend_total"])
        h.counts = dict(data["counts"])
        return h


class CustomerState:
    __slots__ = (
        "customer", "clock", "last_time", "last_id", "balance", "lots", "next_id", "profile",
        "tier", "tier_held", "tier_kept", "counters", "firsts", "limit_counts", "cap_points",
        "history", "applied", "last_activity", "birthday_due", "birthday_year", "inactive_done",
        "reminders_sent", "schedule", "seq", "wakes", "tiers_seen",
    )

    def __init__(self, customer: str):
        self.customer = customer
        self.clock: dt.datetime | None = None
        self.last_time: dt.datetime | None = None
        self.last_id: str | None = None
        self.balance = 0
        self.lots: list[Lot] = []
        self.next_id = 1  # lot ids and schedule tie-breakers
        self.profile: dict[str, Any] = {}
        self.tier: str | None = None
        self.tier_held: dict[str, bool] = {}
        self.tier_kept: dict[str, dt.datetime] = {}
        self.counters: dict[int, list[Any]] = {}  # rule index -> [value, high-water multiple]
        self.firsts: set[int] = set()
        self.limit_counts: dict[int, dict[str, int]] = {}
        self.cap_points: dict[int, dict[str, int]] = {}
        self.history = History()
        self.applied: dict[str, Applied] = {}
        self.last_activity: dt.datetime | None = None
        self.birthday_due: dt.datetime | None = None
        self.birthday_year: int | None = None
        self.inactive_done: set[int] = set()
        self.reminders_sent: set[tuple[int, str]] = set()
        self.schedule: list[tuple[Any, ...]] = []  # heap of (due, order, tie, kind, payload)
        self.seq = 0  # effects made so far (the order in which they happened)
        # the chains of items the kernel keeps one at a time (the lots' expiry, each `inactive
        # for` rule, each tier window's exits) and the earliest due of each; derived from the
        # schedule, never stored: None until the kernel first needs it (``Kernel._wakes``)
        self.wakes: dict[tuple[Any, ...], list[Any]] | None = None
        # the tiers were evaluated since this state was made or read (``Plan.tier_events``);
        # never stored
        self.tiers_seen = False

    # -- schedule
    def push(self, due: dt.datetime, order: int, kind: str, payload: tuple[Any, ...] = ()) -> None:
        self.next_id += 1
        heapq.heappush(self.schedule, (due, order, self.next_id, kind, payload))

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    # -- views
    def lot_points(self) -> int:
        return sum(lot.points for lot in self.lots)

    def pending_points(self) -> int:
        return sum(a.standing for rec in self.applied.values() for a in rec.awards if a.pending)

    # -- serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "clock": _t(self.clock),
            "last": [_t(self.last_time), self.last_id],
            "balance": self.balance,
            "lots": [lot.to_list() for lot in self.lots],
            "next_id": self.next_id,
            "profile": {k: _value_out(v) for k, v in self.profile.items()},
            "tier": self.tier,
            "tier_held": dict(self.tier_held),
            "tier_kept": {k: _t(v) for k, v in self.tier_kept.items()},
            "counters": {str(k): [_d(v[0]), v[1]] for k, v in self.counters.items()},
            "firsts": sorted(self.firsts),
            "limit_counts": {str(k): dict(v) for k, v in self.limit_counts.items()},
            "cap_points": {str(k): dict(v) for k, v in self.cap_points.items()},
            "history": self.history.to_dict(),
            "applied": {k: v.to_list() for k, v in self.applied.items()},
            "last_activity": _t(self.last_activity),
            "birthday": [_t(self.birthday_due), self.birthday_year],
            "inactive_done": sorted(self.inactive_done),
            "reminders_sent": sorted([n, d] for n, d in self.reminders_sent),
            "schedule": [[instant_text(d), o, i, k, list(p)] for d, o, i, k, p in sorted(self.schedule)],
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomerState:
        s = cls(data["customer"])
        s.clock = _p(data["clock"])
        s.last_time, s.last_id = _p(data["last"][0]), data["last"][1]
        s.balance = data["balance"]
        s.lots = [Lot.from_list(x) for x in data["lots"]]
        s.next_id = data["next_id"]
        s.profile = {k: _value_in(v) for k, v in data["profile"].items()}
        s.tier = data["tier"]
        s.tier_held = dict(data["tier_held"])
        s.tier_kept = {k: _p(v) for k, v in data["tier_kept"].items()}  # type: ignore[misc]
        s.counters = {int(k): [_dd(v[0]), v[1]] for k, v in data["counters"].items()}
        s.firsts = set(data["firsts"])
        s.limit_counts = {int(k): dict(v) for k, v in data["limit_counts"].items()}
        s.cap_points = {int(k): dict(v) for k, v in data["cap_points"].items()}
        s.history = History.from_dict(data["history"])
        s.applied = {k: Applied.from_list(v) for k, v in data["applied"].items()}
        s.last_activity = _p(data["last_activity"])
        s.birthday_due, s.birthday_year = _p(data["birthday"][0]), data["birthday"][1]
        s.inactive_done = set(data["inactive_done"])
        s.reminders_sent = {(n, d) for n, d in data["reminders_sent"]}
        s.schedule = [(text_instant(d), o, i, k, tuple(p)) for d, o, i, k, p in data["schedule"]]
        heapq.heapify(s.schedule)
        s.seq = data["seq"]
        return s


_ZERO = Decimal(0)


def _t(value: dt.datetime | None) -> str | None:
    return None if value is None else instant_text(value)


def _p(value: str | None) -> dt.datetime | None:
    return None if value is None else text_instant(value)


def _d(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dd(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _value_out(value: Any) -> Any:
    """Profile values as JSON: tagged where JSON has no type of their own."""
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, tuple):
        return {"list": list(value)}
    return value


def _value_in(value: Any) -> Any:
    if isinstance(value, dict):
        if "decimal" in value:
            return Decimal(value["decimal"])
        if "date" in value:
            return dt.date.fromisoformat(value["date"])
        if "list" in value:
            return tuple(value["list"])
    return value
