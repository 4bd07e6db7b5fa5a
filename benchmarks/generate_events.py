"""Realistic, seeded event streams for the bookshop programme (``rulesets/bookshop.reward``).

``generate(n_events, seed, customers=...)`` returns exactly ``n_events`` event dicts in the input
format of LANGUAGE.md §3 (the keys ``id``, ``type``, ``customer``, ``time`` and the declared
fields), ordered by time as a shop's log would be (the engine sorts per customer anyway). The
same arguments always give the same list (one ``random.Random(seed)``; no clock, no hash order).

What the stream looks like:

* **Customers** join at a random moment of the first three quarters of the span (about two years
  from 2025-03-01, so it crosses two Christmases, four DST changes and a leap day's absence) and
  stay until the end, or churn (a quarter stop early; a tenth take a break of seven to nine
  months, long enough for the "Win back" message). Activity is skewed: the most loyal 20 % buy
  five times as often as the others.
* **Their first events** are usually a ``signup`` and a ``profile`` with ``city`` (Stockholm for
  about 30 %), ``birthdate`` (ages 14-80, a few born on 29 February) and sometimes ``gender``.
* **Then** mostly purchases (``amount`` as a money string like ``"249.00"`` or ``"199.90"``, a
  few big orders of thousands of kronor, ``currency`` ``"SEK"`` usually, ``category`` books
  about 60 %, games, other; ``items``), reviews (``stars`` 0-5), referrals, profile updates
  (moving house, a corrected birthdate, rarely an unset one), refunds of a recent purchase (most
  in full, a third partial, a few of more than remains, older than the refund window, or of an
  unknown event), redemptions ("Free shipping", "Tote bag"), adjustments (goodwill, corrections,
  opening balances), a repeated signup now and then.
* **Times** are local shop hours (09-21) mostly, the rest at any hour (online, so DST gaps and
  folds are crossed); written with the local offset, as UTC (``Z``) or another offset, a few
  with milliseconds. A few events fall exactly on the instant of an earlier event's pending
  release (14 days later, same wall time) or at a local midnight, where scheduled items and
  events meet.
* **Input problems** at a low rate: exact resends (duplicates), a resend with other content
  (a conflicting duplicate), a resend mangled into an invalid line (a decimal comma) that shares
  its id with the valid one, and invalid lines (negative money, a foreign currency, a decimal
  comma, a missing field, an unknown type, a time without an offset, an unknown reward).

Knobs: ``customers`` (default ``n_events // 25``), ``start``/``days`` for the span, and
``problems=False`` for a stream without the input problems.

``generate_edge_cases(customers, events_per_customer, seed)`` makes dense, adversarial streams
instead, for tests: events on the very instants where scheduled items fall.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import sys
from decimal import Decimal
from typing import Any

from rewardlang import localtime

ZONE = localtime.zone("Europe/Stockholm")
UTC = dt.timezone.utc
START = dt.datetime(2025, 3, 1, tzinfo=UTC)
DAYS = 730

_CITIES = (("Stockholm", 30), ("Göteborg", 15), ("Malmö", 12), ("Uppsala", 8), ("Lund", 5), ("Umeå", 5),
           ("Västerås", 5), ("Örebro", 5), ("Linköping", 5), ("Kiruna", 2), ("Visby", 2), ("Sundsvall", 6))
_CITY_NAMES = tuple(c for c, _ in _CITIES)
_CITY_WEIGHTS = tuple(w for _, w in _CITIES)
_REASONS = ("goodwill", "opening balance", "correction", "late delivery", "staff error")
_OFFSETS = (dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-5)),
            dt.timezone(dt.timedelta(hours=9)))


class _Customer:
    __slots__ = ("id", "loyal", "join", "stop", "gap", "weight", "purchases", "events", "birth", "city")

    def __init__(self, cid: str) -> None:
        self.id = cid
        self.purchases: list[tuple[dt.datetime, str, Decimal, list[Decimal]]] = []  # time, id, amount, refunded
        self.events: list[dict[str, Any]] = []


def _local_instant(day: dt.date, seconds: float) -> dt.datetime:
    whole = int(seconds)
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=whole)
    instant = localtime.resolve(local, ZONE)
    return instant


def _write_time(rng: random.Random, instant: dt.datetime) -> str:
    r = rng.random()
    if r < 0.70:
        text = instant.astimezone(ZONE).isoformat(timespec="seconds" if not instant.microsecond else "milliseconds")
    elif r < 0.95:
        text = instant.astimezone(UTC).isoformat(
            timespec="seconds" if not instant.microsecond else "milliseconds").replace("+00:00", "Z")
    else:
        text = instant.astimezone(rng.choice(_OFFSETS)).isoformat(
            timespec="seconds" if not instant.microsecond else "milliseconds")
    return text


def _money(value: float) -> str:
    return f"{value:.2f}"


def _price(rng: random.Random) -> Decimal:
    r = rng.random()
    if r < 0.012:  # a big order: a class set, a library, a company's gifts
        value = rng.uniform(1500, 9000)
    else:
        value = math.exp(rng.gauss(5.35, 0.75))
    value = max(value, 5.0)
    ending = rng.random()
    if ending < 0.5:
        value = round(value)  # 249.00
    elif ending < 0.85:
        value = round(value) - 0.10  # 199.90
    elif ending < 0.95:
        value = round(value) - 0.50
    else:
        value = round(value, 2)
    return Decimal(_money(max(value, 1.0)))


def generate(n_events: int, seed: int = 1, customers: int | None = None, *, start: dt.datetime = START,
             days: int = DAYS, problems: bool = True) -> list[dict[str, Any]]:
    """``n_events`` bookshop events (dicts), deterministic for the arguments."""
    rng = random.Random(seed)
    n_customers = max(1, customers if customers is not None else n_events // 25)
    n_customers = min(n_customers, max(1, n_events))
    span = dt.timedelta(days=days)
    start_day = start.astimezone(ZONE).date()
    people: list[_Customer] = []
    for i in range(n_customers):
        c = _Customer(f"c{i + 1}")
        c.loyal = rng.random() < 0.2
        c.join = rng.uniform(0.0, 0.75)
        c.stop = 1.0 if rng.random() < 0.75 else rng.uniform(c.join, 1.0)
        c.gap = None
        if rng.random() < 0.10:
            length = rng.uniform(210, 270) / days
            at = rng.uniform(c.join, max(c.join, c.stop - length))
            if at + length < c.stop:
                c.gap = (at, at + length)
        active = c.stop - c.join - (c.gap[1] - c.gap[0] if c.gap else 0.0)
        c.weight = (5.0 if c.loyal else 1.0) * max(active, 0.002)
        age = rng.randint(14, 80)
        year = start_day.year - age
        if rng.random() < 0.01:
            year -= year % 4  # a leap year (1900 is not, but ages stay well after it)
            c.birth = dt.date(year, 2, 29)
        else:
            c.birth = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        c.city = rng.choices(_CITY_NAMES, _CITY_WEIGHTS)[0]
        people.append(c)

    # events per customer, proportional to weight, summing to n_events (each customer at least 1)
    total = sum(c.weight for c in people)
    counts = [max(1, int(n_events * c.weight / total)) for c in people]
    diff = n_events - sum(counts)
    while diff != 0:
        i = rng.randrange(n_customers)
        if diff > 0:
            counts[i] += 1
            diff -= 1
        elif counts[i] > 1:
            counts[i] -= 1
            diff += 1

    next_id = [0]

    def new_id() -> str:
        next_id[0] += 1
        return f"e{next_id[0]}"

    out: list[tuple[dt.datetime, int, dict[str, Any]]] = []
    order = 0
    for c, count in zip(people, counts):
        # the customer's moments: sorted fractions of the span, outside the gap
        moments: list[float] = []
        while len(moments) < count:
            f = rng.uniform(c.join, c.stop)
            if c.gap and c.gap[0] < f < c.gap[1]:
                continue
            moments.append(f)
        moments.sort()
        instants: list[dt.datetime] = []
        for f in moments:
            day = start_day + dt.timedelta(days=int(f * days))
            if rng.random() < 0.8:
                secs = rng.uniform(9 * 3600, 21 * 3600)
            else:
                secs = rng.uniform(0, 86400)
            instant = _local_instant(day, secs)
            if rng.random() < 0.02:
                instant += dt.timedelta(microseconds=rng.randrange(1, 1000) * 1000)
            instants.append(instant)
        instants.sort()
        has_signup = rng.random() < 0.85
        has_profile = rng.random() < 0.92
        profile_done = False
        signup_done = False
        customer_id: Any = c.id
        for k, instant in enumerate(instants):
            r = rng.random()
            event: dict[str, Any]
            # a few events fall on the instant an earlier purchase's points are released
            if c.purchases and rng.random() < 0.01:
                release = localtime.add(rng.choice(c.purchases[-5:])[0], 14, "day", ZONE)
                if release > instant and (k + 1 == len(instants) or release < instants[k + 1]):
                    instant = release
            elif rng.random() < 0.004:
                instant = localtime.local_midnight(localtime.local_date(instant, ZONE), ZONE)
            base = {"id": new_id(), "customer": customer_id, "time": _write_time(rng, instant)}
            if has_signup and not signup_done:
                signup_done = True
                event = {**base, "type": "signup"}
            elif has_profile and not profile_done:
                profile_done = True
                event = {**base, "type": "profile", "city": c.city, "birthdate": c.birth.isoformat()}
                if rng.random() < 0.5:
                    event["gender"] = rng.choice(("f", "m", "x"))
            elif problems and r < 0.006:
                event = _problem(rng, base, c)
            elif problems and r < 0.012 and c.events:
                event = dict(rng.choice(c.events[-3:]))  # an exact resend
            elif problems and r < 0.0135 and c.events and c.events[-1]["type"] == "purchase":
                event = dict(c.events[-1])  # the same purchase again, mangled on the way
                event["amount"] = str(event["amount"]).replace(".", ",")
            elif problems and r < 0.014 and c.events:
                event = dict(rng.choice(c.events[-3:]))
                if "amount" in event and "," not in str(event["amount"]):
                    event["amount"] = _money(float(event["amount"]) + 10)
                else:
                    event["note"] = "resent"  # undeclared keys are part of the content too
            elif r < 0.06 and c.purchases:
                event = _refund(rng, base, c, instant)
            elif r < 0.075:
                event = {**base, "type": "redeem", "reward": "Free shipping" if rng.random() < 0.85 else "Tote bag"}
            elif r < 0.083:
                if rng.random() < 0.7:
                    points = rng.randint(10, 1500)
                else:
                    points = -rng.randint(10, 300)
                event = {**base, "type": "adjust", "points": points}
                if rng.random() < 0.85:
                    event["reason"] = rng.choice(_REASONS)
            elif r < 0.10:
                event = _profile_update(rng, base, c)
            elif r < 0.104:
                event = {**base, "type": "signup"}
            elif r < 0.20:
                stars = rng.choice((0, 1, 2, 3, 4, 4, 5, 5, 5)) if rng.random() < 0.97 else 0
                event = {**base, "type": "review", "stars": stars}
            elif r < 0.225:
                event = {**base, "type": "referral", "friend": f"friend-{rng.randrange(10**6)}"}
            else:
                event = _purchase(rng, base, c, instant)
            c.events.append(event)
            out.append((instant, order, event))
            order += 1
    out.sort(key=lambda t: (t[0], t[1]))
    return [e for _, _, e in out]


def _purchase(rng: random.Random, base: dict[str, Any], c: _Customer, instant: dt.datetime) -> dict[str, Any]:
    amount = _price(rng)
    r = rng.random()
    category = "books" if r < 0.6 else "games" if r < 0.8 else "other"
    items = max(1, min(40, int(float(amount) / rng.uniform(90, 250)) + rng.randint(0, 2)))
    event: dict[str, Any] = {**base, "type": "purchase", "amount": str(amount)}
    cur = rng.random()
    if cur < 0.95:
        event["currency"] = "SEK"
    elif cur < 0.96:
        event["currency"] = "sek"
    event["category"] = category
    event["items"] = items
    if rng.random() < 0.02:
        event["amount"] = int(amount)  # a JSON number, whole kronor
        amount = Decimal(int(amount))
    if rng.random() < 0.05:
        event["store"] = rng.choice(("Drottninggatan", "Web", "Kungsgatan"))  # undeclared, ignored
    c.purchases.append((instant, base["id"], amount, [Decimal(0)]))
    return event


def _refund(rng: random.Random, base: dict[str, Any], c: _Customer, instant: dt.datetime) -> dict[str, Any]:
    r = rng.random()
    event: dict[str, Any] = {**base, "type": "refund"}
    if r < 0.03:
        event["refunds"] = f"e-unknown-{rng.randrange(1000)}"
        return event
    if r < 0.05 and len(c.events) > 2:
        other = rng.choice(c.events)
        event["refunds"] = other["id"]  # maybe a review or signup (full refund), maybe a built-in (rejected)
        return event
    when, target, amount, refunded = rng.choice(c.purchases[-4:])
    event["refunds"] = target
    remaining = amount - refunded[0]
    r = rng.random()
    if r < 0.62 or remaining <= Decimal("2"):
        refunded[0] = amount
    elif r < 0.95:
        part = Decimal(_money(float(remaining) * rng.uniform(0.1, 0.9)))
        if part <= 0 or part >= remaining:
            part = Decimal("1.00")
        refunded[0] += part
        event["amount"] = str(part)
    else:
        event["amount"] = str(remaining + Decimal("50.00"))  # more than remains: rejected
    return event


def _profile_update(rng: random.Random, base: dict[str, Any], c: _Customer) -> dict[str, Any]:
    event: dict[str, Any] = {**base, "type": "profile"}
    r = rng.random()
    if r < 0.6:
        c.city = rng.choices(_CITY_NAMES, _CITY_WEIGHTS)[0]
        event["city"] = c.city
    elif r < 0.8:
        event["gender"] = rng.choice(("f", "m", "x", None))
    elif r < 0.9:
        event["birthdate"] = c.birth.isoformat()  # the same again, with the city
        event["city"] = c.city
    elif r < 0.98:
        c.birth = c.birth + dt.timedelta(days=rng.randint(-40, 40))  # a corrected birthdate
        event["birthdate"] = c.birth.isoformat()
    else:
        event["birthdate"] = None  # unset
    return event


def _problem(rng: random.Random, base: dict[str, Any], c: _Customer) -> dict[str, Any]:
    kind = rng.randrange(7)
    event: dict[str, Any] = {**base, "type": "purchase", "amount": "199.00", "currency": "SEK",
                             "category": "books", "items": 1}
    if kind == 0:
        event["amount"] = "-199.00"
    elif kind == 1:
        event["currency"] = "EUR"
    elif kind == 2:
        event["amount"] = "199,00"
    elif kind == 3:
        del event["category"]
    elif kind == 4:
        event["type"] = "purchse"
    elif kind == 5:
        event["time"] = event["time"][:19]  # no offset: no time, so no customer clock either
    else:
        event = {**base, "type": "redeem", "reward": "Tote bags"}
    return event


_EDGE_AMOUNTS = ("5.00", "9.99", "10.00", "249.00", "500.00", "999.99", "1000.00", "1999.90", "2500.00", "3000.00",
                 "5000.00")
_DST = (dt.datetime(2026, 3, 29, 1, tzinfo=UTC), dt.datetime(2026, 10, 25, 1, tzinfo=UTC),
        dt.datetime(2027, 3, 28, 1, tzinfo=UTC), dt.datetime(2027, 10, 31, 1, tzinfo=UTC))


def generate_edge_cases(customers: int, events_per_customer: int, seed: int = 1) -> list[dict[str, Any]]:
    """Dense, adversarial streams (not realistic ones): each customer's events fall, about half
    the time, exactly on (or a millisecond beside) an instant where something is scheduled — an
    earlier event's release (14 days), expiry and its reminder, window exit, ``kept for`` end,
    inactivity (6 months), refund-window edge (90 days), a local midnight, a birthday, a clock
    change — and otherwise after gaps of a second to a hundred days; amounts sit on the
    thresholds of the rules and tiers; ids collide on purpose (same-time events ordered by id,
    reused ids); refunds are full, partial, too large, of the wrong event; birthdates change,
    fall on 29 February or are unset; adjustments make debts. Shuffled; deterministic for a seed.
    """
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(customers):
        out.extend(_edge_stream(rng, f"c{i}", events_per_customer))
    rng.shuffle(out)
    return out


def _edge_stream(rng: random.Random, cid: str, n: int) -> list[dict[str, Any]]:
    t = dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=rng.randrange(60 * 24 * 60))
    marks = list(_DST)
    purchases: list[tuple[str, str]] = []
    out: list[dict[str, Any]] = []
    birth = dt.date(rng.choice((1996, 2000, 2004, 1980)), rng.choice((1, 2, 3, 10, 12)),
                    rng.choice((1, 15, 28, 29 if rng.random() < 0.5 else 27)))
    for k in range(1, n + 1):
        future = [m for m in marks if m > t]
        if future and rng.random() < 0.45:
            then = min(future) if rng.random() < 0.5 else rng.choice(future)
            if rng.random() < 0.2:
                then += dt.timedelta(milliseconds=rng.choice((-1, 1)))
            t = max(then, t)
        else:
            step = rng.choice((0, 1, 60, 3600, 86400, 3 * 86400, 20 * 86400, 100 * 86400)) * rng.random()
            t = (t + dt.timedelta(seconds=step + (0 if rng.random() < 0.2 else 1))).replace(microsecond=0)
        eid = f"e{rng.randrange(1, 40)}-{k}" if rng.random() < 0.3 else f"e{k}"
        shown = t.astimezone(ZONE).isoformat() if rng.random() < 0.5 else t.isoformat().replace("+00:00", "Z")
        base = {"id": eid, "customer": cid, "time": shown}
        r = rng.random()
        event: dict[str, Any]
        if r < 0.45:
            event = {**base, "type": "purchase", "amount": rng.choice(_EDGE_AMOUNTS),
                     "category": rng.choice(("books", "books", "games", "other")), "items": rng.randint(1, 5)}
            purchases.append((eid, event["amount"]))
        elif r < 0.6 and purchases:
            target, amount = rng.choice(purchases[-4:])
            event = {**base, "type": "refund", "refunds": target}
            if rng.random() < 0.5:
                event["amount"] = rng.choice(("1.00", "10.00", "100.00", "249.00", amount))
        elif r < 0.68:
            event = {**base, "type": "profile", "city": rng.choice(("Stockholm", "Lund"))}
            q = rng.random()
            if q < 0.5:
                event["birthdate"] = birth.isoformat()
            elif q < 0.7:
                event["birthdate"] = (birth + dt.timedelta(days=rng.randint(-20, 20))).isoformat()
            elif q < 0.75:
                event["birthdate"] = None
        elif r < 0.75:
            event = {**base, "type": "adjust", "points": rng.choice((-700, -200, -10, 10, 300, 499, 500, 1200))}
        elif r < 0.8:
            event = {**base, "type": "redeem", "reward": rng.choice(("Free shipping", "Tote bag"))}
        elif r < 0.9:
            event = {**base, "type": "review", "stars": rng.choice((0, 1, 5))}
        elif r < 0.95:
            event = {**base, "type": "signup"}
        else:
            event = {**base, "type": "referral", "friend": "f"}
        out.append(event)
        release = localtime.add(t, 14, "day", ZONE)
        expiry = localtime.add(release, 12, "month", ZONE)
        leaves = localtime.window_exit(t, 12, "month", ZONE)
        marks += [release, expiry, localtime.add(expiry, -30, "day", ZONE), leaves,
                  localtime.add(leaves, 12, "month", ZONE), localtime.add(t, 12, "month", ZONE),
                  localtime.add(t, 6, "month", ZONE), localtime.add(t, 90, "day", ZONE),
                  localtime.local_midnight(localtime.local_date(t, ZONE) + dt.timedelta(days=1), ZONE),
                  localtime.next_birthday(t, birth, ZONE)]
        marks = [m for m in marks if m > t][-60:]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--customers", type=int, default=None)
    args = parser.parse_args(argv)
    for event in generate(args.events, args.seed, args.customers):
        sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
