"""Seeded, realistic event streams for a shop: ``rewardlang generate`` and the benchmarks' streams.

Users want to try a programme before they have data, and benchmarks and tests want events that
look like a shop's, so this module makes them, in the input format of LANGUAGE.md §3. Three
generators, all deterministic for their arguments (one ``random.Random(seed)``, no clock, no
hash order, no float arithmetic on money: amounts are integer öre until they are written):

* ``generate_stream(customers, years, seed, start, problems)`` — the ``generate`` command: a
  bookshop's year(s) with the statistics ``docs/generate.md`` promises (8,000 customers a year
  buying 4 times a year for about 200 SEK, the most loyal fifth five times as often as the rest,
  profiles, reviews, referrals, refunds, redemptions, signups over the year), time-ordered and
  clean by default: every event is valid for ``rulesets/bookshop.reward``.
* ``benchmark_events(n_events, seed, customers)`` — exactly ``n_events`` events over two years,
  with input problems (duplicates, invalid lines) at a low rate: what ``benchmarks/engine.py`` and
  the hand-written bookshop oracle (``tests/test_bookshop_by_hand.py``) run on. Its output must not
  change for the arguments they use (the oracle's seeds are pinned), so it keeps its own, older
  model; ``benchmarks/generate_events.py`` re-exports it as ``generate``.
* ``edge_case_events(customers, events_per_customer, seed)`` — dense, adversarial streams for the
  oracle tests (``generate_edge_cases`` in the benchmarks).

``write_jsonl`` and ``write_csv`` write a stream the way the command does.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from typing import IO, Any

import attrs

from rewardlang import localtime

ZONE = localtime.zone("Europe/Stockholm")
UTC = dt.timezone.utc
CENT = Decimal("0.01")

_CITIES = (("Stockholm", 30), ("Göteborg", 15), ("Malmö", 12), ("Uppsala", 8), ("Lund", 5), ("Umeå", 5),
           ("Västerås", 5), ("Örebro", 5), ("Linköping", 5), ("Kiruna", 2), ("Visby", 2), ("Sundsvall", 6))
_CITY_NAMES = tuple(c for c, _ in _CITIES)
_CITY_WEIGHTS = tuple(w for _, w in _CITIES)


# ============================================================================ the `generate` command


DEFAULT_CUSTOMERS = 8000
DEFAULT_YEARS = 1
DEFAULT_SEED = 1
DEFAULT_START = dt.date(2026, 1, 1)  # a calendar year that the bookshop's "Christmas" rule falls in
MAX_YEARS = 50

# The promises of docs/generate.md; tests/test_generate.py measures them.
PURCHASES_PER_YEAR = 4  # mean purchases of a customer in a year in which they buy
LOYAL_SHARE = 0.2  # the most loyal fifth ...
LOYAL_FACTOR = 5  # ... buys five times as often as the rest
RETURNING = 0.65  # share of a year's customers who buy again the next year (the rest are replaced)
REFUND_RATE = 0.03  # share of purchases refunded, within 30 days
REVIEW_RATE = 0.12  # share of book purchases reviewed, 3 to 40 days later
REFERRAL_RATE = 0.08  # referrals per customer and year
MOVE_RATE = 0.03  # profile updates (a new city) per customer and year
REDEEM_RATE = 0.3  # chance of redeeming "Free shipping" on an online order the points cover

_REST_MEAN = PURCHASES_PER_YEAR / (LOYAL_SHARE * LOYAL_FACTOR + (1 - LOYAL_SHARE))  # 2.22
_LOYAL_MEAN = LOYAL_FACTOR * _REST_MEAN  # 11.1

# Item prices: a log-normal draw (median 113 SEK), then a shelf-price ending (119.00, 112.90,
# 112.50). With the basket sizes below, a purchase averages 200 SEK (measured on 400,000 baskets).
_PRICE_MU = 4.725
_PRICE_SIGMA = 0.5
_BASKET = ((1, 73), (2, 17), (3, 6), (4, 2), (5, 1), (6, 1))  # items in a basket, weights
_BIG_ORDER = 0.004  # a class set or a company's gifts: 10-40 items
_CATEGORIES = (("books", 75), ("games", 10), ("other", 15))
_GENDERS = (("f", 56), ("m", 41), ("x", 3))
_GENDER_GIVEN = 0.9
_AGES = ((16, 24, 12), (25, 34, 18), (35, 44, 18), (45, 54, 18), (55, 64, 17), (65, 85, 17))
_STARS = ((1, 3), (2, 5), (3, 15), (4, 35), (5, 42))
# seasons of a bookshop: the Christmas trade, a quieter summer and January; Saturdays are busy
_MONTH_WEIGHTS = (0.85, 0.8, 0.9, 0.95, 0.95, 0.9, 0.85, 0.95, 1.0, 1.0, 1.15, 1.7)
_WEEKDAY_WEIGHTS = (0.85, 0.85, 0.9, 0.95, 1.1, 1.45, 0.9)
_ONLINE = 0.25  # share of orders placed online (07-23); the rest in the shop (10-19)

CSV_COLUMNS = ("id", "type", "customer", "time", "amount", "currency", "category", "items", "stars", "friend",
               "refunds", "reward", "points", "reason", "city", "birthdate", "gender")


@attrs.define(eq=False)
class _Member:
    """A customer of the shop and what the generator knows of them."""

    number: int
    loyal: bool
    city: str
    birthdate: dt.date
    gender: str | None
    signed_up: bool = False
    plans: list[_Plan] = attrs.Factory(list)


@attrs.define(eq=False)
class _Plan:
    """An event before it has an id: ids are given in time order once the stream is sorted, and a
    refund names its purchase by the purchase's plan."""

    instant: dt.datetime
    member: _Member
    type: str
    fields: dict[str, Any] = attrs.Factory(dict)
    target: _Plan | None = None  # the purchase a refund refunds
    ore: int = 0  # a purchase's amount, or a refund's, in öre
    items: tuple[int, ...] = ()  # a purchase's item prices in öre
    online: bool = False
    id: str = ""


@attrs.frozen
class _Table:
    """Values and their cumulative weights, for ``random.choices`` without rebuilding them."""

    values: tuple[Any, ...]
    cum: tuple[int, ...]

    @classmethod
    def of(cls, pairs: Iterable[tuple[Any, int]]) -> _Table:
        values, cum, total = [], [], 0
        for value, weight in pairs:
            total += weight
            values.append(value)
            cum.append(total)
        return cls(tuple(values), tuple(cum))


def _weighted(rng: random.Random, table: _Table) -> Any:
    return rng.choices(table.values, cum_weights=table.cum)[0]


_CITY_TABLE = _Table.of(_CITIES)
_AGE_TABLE = _Table.of(((low, high), weight) for low, high, weight in _AGES)
_GENDER_TABLE = _Table.of(_GENDERS)
_STAR_TABLE = _Table.of(_STARS)
_BASKET_TABLE = _Table.of(_BASKET)
_CATEGORY_TABLE = _Table.of(_CATEGORIES)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means used here (at most ~10)."""
    limit = math.exp(-mean)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _money_text(ore: int) -> str:
    return f"{ore // 100}.{ore % 100:02d}"


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def _time_text(instant: dt.datetime) -> str:
    return instant.astimezone(ZONE).isoformat(timespec="seconds")


def _item_price(rng: random.Random) -> int:
    """One item's shelf price in öre: for a draw of 148 kronor, 149.00, 147.90 or 147.50."""
    kronor = max(29, round(math.exp(rng.gauss(_PRICE_MU, _PRICE_SIGMA))))
    ending = rng.random()
    if ending < 0.7:
        return (kronor - kronor % 10 + 9) * 100
    if ending < 0.9:
        return kronor * 100 - 10
    return kronor * 100 - 50


def _age_on(birthdate: dt.date, day: dt.date) -> int:
    return day.year - birthdate.year - ((day.month, day.day) < (birthdate.month, birthdate.day))


@attrs.define(eq=False)
class _Lot:
    """An award's points: spendable from ``available``, gone at ``expires``."""

    available: dt.datetime
    expires: dt.datetime
    points: int


@attrs.define(eq=False)
class _Points:
    """A customer's spendable points under ``rulesets/bookshop.reward``, estimated.

    Why: a stream that users try programmes with should not be full of redemptions the balance
    does not cover, so a customer redeems only when this estimate says the points are there.
    The lots follow the bookshop's 14 days pending, 12 months expiry, refund reversals and
    "500 points converts to" a voucher; ``_Estimate`` says what its rules award. It is an
    estimate, not the engine: the engine may still reject a rare redemption (docs/generate.md).
    """

    lots: list[_Lot] = attrs.Factory(list)
    debt: int = 0
    now: dt.datetime = dt.datetime(1900, 1, 1, tzinfo=UTC)

    def award(self, available: dt.datetime, points: int) -> _Lot:
        lot = _Lot(available, localtime.add(available, 12, "month", ZONE), points)
        self.lots.append(lot)
        self.lots.sort(key=lambda x: x.available)
        return lot

    def _spendable(self) -> int:
        return sum(x.points for x in self.lots if x.available <= self.now) - self.debt

    def _take(self, points: int) -> int:
        """Takes up to ``points`` from the available lots, oldest first; returns what is left."""
        for lot in self.lots:
            if points <= 0 or lot.available > self.now:
                break
            took = min(lot.points, points)
            lot.points -= took
            points -= took
        return points

    def _settle_at(self, instant: dt.datetime) -> None:
        self.now = instant
        self.lots = [x for x in self.lots if x.expires > instant and x.points > 0]
        if self.debt:
            self.debt = self._take(self.debt)
        while self._spendable() >= 500:  # "500 points converts to voucher"
            self._take(500)

    def settle(self, until: dt.datetime) -> int:
        """Releases, expiries and conversions up to ``until``; the spendable balance then."""
        while True:
            due = [x.available for x in self.lots if self.now < x.available <= until]
            due += [x.expires for x in self.lots if self.now < x.expires <= until]
            if not due:
                break
            self._settle_at(min(due))
        self._settle_at(until)
        return self._spendable()

    def spend(self, points: int) -> None:
        self.debt += self._take(points)

    def reverse(self, lot: _Lot, points: int) -> None:
        """A refund's reversal: from the award's own lot first, then the oldest, then a debt."""
        took = min(lot.points, points)
        lot.points -= took
        if points > took:
            self.spend(points - took)


@attrs.define(eq=False)
class _Award:
    """What the bookshop's rules gave one purchase: its lot, and its rate awards (points per
    10 SEK) as multipliers, which a partial refund cuts to what the remaining amount earns."""

    lot: _Lot
    ore: int
    rates: tuple[int, ...]
    total: int
    reversed: int = 0


_CHRISTMAS = (dt.date(2026, 12, 1), dt.date(2026, 12, 24))  # the bookshop's "Christmas" rule


@attrs.define(eq=False)
class _Estimate:
    """The rules of ``rulesets/bookshop.reward`` that award points, applied to one member's plans
    (see ``_Points``): welcome, base or gold points, first purchase, Saturday double, student
    books, big basket, Christmas, reviews, referrals, birthdays; a full refund reverses an
    event's awards, a partial one cuts its rate awards. Not followed: "Saturday double"'s cap of
    500 points a month, which a bookshop customer seldom reaches."""

    member: _Member
    points: _Points = attrs.Factory(_Points)
    awards: dict[int, _Award] = attrs.Factory(dict)  # by id() of the purchase plan
    spend: list[list[Any]] = attrs.Factory(list)  # [instant, net öre] of each purchase
    gold_until: dt.datetime | None = None
    city: str = ""
    birthdate: dt.date | None = None
    bought: bool = False
    reviews: dict[tuple[int, int], int] = attrs.Factory(dict)
    student: dict[tuple[int, int], int] = attrs.Factory(dict)

    def _gold(self, instant: dt.datetime) -> bool:
        """Gold (tier on 5000 SEK in 12 months, kept for 12 months) as of just before ``instant``."""
        return self.gold_until is not None and instant < self.gold_until

    def _retier(self, instant: dt.datetime) -> None:
        since = localtime.subtract(instant, 12, "month", ZONE)
        if sum(ore for t, ore in self.spend if since < t <= instant) >= 500_000:
            # gold is kept for 12 months after the condition stops holding, which is no earlier
            # than now: gold until a year from now at least
            self.gold_until = localtime.add(instant, 12, "month", ZONE)

    def apply(self, plan: _Plan, years: int) -> None:
        instant = plan.instant
        pending = localtime.add(instant, 14, "day", ZONE)
        day = localtime.local_date(instant, ZONE)
        month = (day.year, day.month)
        if plan.type == "signup":
            self.points.award(pending, 100)
        elif plan.type == "profile":
            self.city = plan.fields.get("city", self.city)
            if "birthdate" in plan.fields:
                self.birthdate = self.member.birthdate
                birthday = instant
                for _ in range(years + 1):
                    birthday = localtime.next_birthday(birthday, self.birthdate, ZONE)
                    self.points.award(birthday, 200)
        elif plan.type == "review":
            self.reviews[month] = self.reviews.get(month, 0) + 1
            if self.reviews[month] <= 3 and plan.fields["stars"] >= 1:
                self.points.award(pending, 50)
        elif plan.type == "referral":
            self.points.award(pending, 100)
        elif plan.type == "purchase":
            category = plan.fields["category"]
            rates = [2 if self._gold(instant) else 1]
            if day.weekday() == 5:
                rates.append(1)
            if _CHRISTMAS[0] <= day <= _CHRISTMAS[1] and self.city == "Stockholm" and category in ("books", "games"):
                rates.append(2)
            extra = 0 if self.bought else 200
            self.bought = True
            if plan.ore >= 50_000 and len(plan.items) >= 3:
                extra += 50
            if category == "books" and self.birthdate is not None and 18 <= _age_on(self.birthdate, day) <= 29:
                self.student[month] = self.student.get(month, 0) + 1
                if self.student[month] <= 2:
                    extra += 20
            total = sum(plan.ore * n // 1000 for n in rates) + extra
            self.awards[id(plan)] = _Award(self.points.award(pending, total), plan.ore, tuple(rates), total)
            self.spend.append([instant, plan.ore])
            self._retier(instant)
        elif plan.type == "refund" and plan.target is not None:
            award = self.awards[id(plan.target)]
            self.points.settle(instant)
            remaining = award.ore - plan.ore
            if remaining <= 0:
                cut = award.total - award.reversed
            else:
                cut = sum((award.ore * n // 1000) - (remaining * n // 1000) for n in award.rates)
            award.reversed += cut
            self.points.reverse(award.lot, cut)
            for entry in self.spend:
                if entry[0] == plan.target.instant:
                    entry[1] -= plan.ore


@attrs.define(eq=False)
class _Shop:
    """One run of ``generate_stream``: the members, their plans, then the sorted stream."""

    customers: int
    years: int
    start: dt.date
    rng: random.Random
    members: list[_Member] = attrs.Factory(list)
    next_friend: int = 0

    def run(self) -> list[_Plan]:
        active: list[_Member] = []
        for year in range(self.years):
            first = _add_years(self.start, year)
            last = _add_years(self.start, year + 1)
            days = [first + dt.timedelta(days=i) for i in range((last - first).days)]
            cum: list[float] = []
            total = 0.0
            for day in days:
                total += _MONTH_WEIGHTS[day.month - 1] * _WEEKDAY_WEIGHTS[day.weekday()]
                cum.append(total)
            active = self._this_years(active)
            end = localtime.local_midnight(last, ZONE)
            for member in active:
                self._plan_year(member, days, cum, end)
        plans: list[_Plan] = []
        for member in self.members:
            if member.plans:
                member.plans.sort(key=lambda p: p.instant)  # stable: plans made at one instant keep their order
                self._redemptions(member)
                plans.extend(member.plans)
        order = {id(p): i for i, p in enumerate(plans)}
        plans.sort(key=lambda p: (p.instant, p.member.number, order[id(p)]))
        for i, plan in enumerate(plans, 1):
            plan.id = f"e{i}"
        return plans

    def _this_years(self, last_year: list[_Member]) -> list[_Member]:
        """This year's customers: a share of last year's come back, new ones make up the number.

        Exactly ``LOYAL_SHARE`` of each year's customers are loyal (as near as whole customers
        go; the newcomers make up the loyal ones who did not come back), not a draw per customer:
        a loyal customer buys nine more times a year than another, so a few loyal customers more
        or less would move the year's purchases per customer more than anything else."""
        rng = self.rng
        returning = [m for m in last_year if rng.random() < RETURNING]
        new = self.customers - len(returning)
        loyal_new = min(new, max(0, round(LOYAL_SHARE * self.customers) - sum(m.loyal for m in returning)))
        flags = [True] * loyal_new + [False] * (new - loyal_new)
        rng.shuffle(flags)
        for loyal in flags:
            returning.append(self._new_member(loyal))
        return returning

    def _new_member(self, loyal: bool) -> _Member:
        rng = self.rng
        low, high = _weighted(rng, _AGE_TABLE)
        year = self.start.year - rng.randint(low, high)
        length = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
        birthdate = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(length))
        gender = _weighted(rng, _GENDER_TABLE) if rng.random() < _GENDER_GIVEN else None
        member = _Member(len(self.members) + 1, loyal, _weighted(rng, _CITY_TABLE),
                         birthdate, gender)
        self.members.append(member)
        return member

    def _moment(self, day: dt.date, online: bool) -> dt.datetime:
        """A time of ``day`` when the shop is open (10-19) or an order is placed online (07-23):
        never in the night's DST gap or fold."""
        low, high = (7, 23) if online else (10, 19)
        seconds = self.rng.randrange(low * 3600, high * 3600)
        return localtime.resolve(dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds), ZONE)

    def _plan_year(self, member: _Member, days: list[dt.date], cum: list[float], end: dt.datetime) -> None:
        rng = self.rng
        count = 1 + _poisson(rng, (_LOYAL_MEAN if member.loyal else _REST_MEAN) - 1)
        visits = sorted(rng.choices(days, cum_weights=cum, k=count))
        purchases = []
        for day in visits:
            online = rng.random() < _ONLINE
            purchases.append(self._purchase(member, self._moment(day, online), online))
        purchases.sort(key=lambda p: p.instant)
        if not member.signed_up:  # a new member signs up at the till (or the checkout) of the first visit
            member.signed_up = True
            first = purchases[0].instant
            member.plans.append(_Plan(first - dt.timedelta(minutes=3), member, "signup"))
            profile: dict[str, Any] = {"city": member.city, "birthdate": member.birthdate.isoformat()}
            if member.gender is not None:
                profile["gender"] = member.gender
            member.plans.append(_Plan(first - dt.timedelta(minutes=2), member, "profile", profile))
        member.plans.extend(purchases)
        for purchase in purchases:
            if rng.random() < REFUND_RATE:
                self._refund(member, purchase, end)
            if purchase.fields["category"] == "books" and rng.random() < REVIEW_RATE:
                day = localtime.local_date(purchase.instant, ZONE) + dt.timedelta(days=rng.randint(3, 40))
                stars = _weighted(rng, _STAR_TABLE)
                self._later(member, day, end, "review", {"stars": stars})
        # referrals and moves: on a day of the year after the first visit (when the member has signed up)
        first_day = localtime.local_date(purchases[0].instant, ZONE)
        later_days = (days[-1] - first_day).days
        for _ in range(_poisson(rng, REFERRAL_RATE)):
            if later_days >= 1:
                self.next_friend += 1
                day = first_day + dt.timedelta(days=rng.randint(1, later_days))
                self._later(member, day, end, "referral", {"friend": f"friend{self.next_friend}@example.com"})
        for _ in range(_poisson(rng, MOVE_RATE)):
            city = _weighted(rng, _CITY_TABLE)
            if later_days >= 1 and city != member.city:
                day = first_day + dt.timedelta(days=rng.randint(1, later_days))
                if self._later(member, day, end, "profile", {"city": city}):
                    member.city = city

    def _later(self, member: _Member, day: dt.date, end: dt.datetime, kind: str, fields: dict[str, Any]) -> bool:
        """Plans an event on ``day`` unless it falls after the stream's end."""
        instant = self._moment(day, online=True)
        if instant >= end:
            return False
        member.plans.append(_Plan(instant, member, kind, fields))
        return True

    def _purchase(self, member: _Member, instant: dt.datetime, online: bool) -> _Plan:
        rng = self.rng
        items = rng.randint(10, 40) if rng.random() < _BIG_ORDER else _weighted(rng, _BASKET_TABLE)
        prices = tuple(_item_price(rng) for _ in range(items))
        ore = sum(prices)
        fields = {"amount": _money_text(ore), "currency": "SEK", "category": _weighted(rng, _CATEGORY_TABLE),
                  "items": items}
        return _Plan(instant, member, "purchase", fields, ore=ore, items=prices, online=online)

    def _refund(self, member: _Member, purchase: _Plan, end: dt.datetime) -> None:
        """A return within 30 days: one item of a basket (partial), a price cut on a damaged item
        (partial), or the whole purchase."""
        rng = self.rng
        day = localtime.local_date(purchase.instant, ZONE) + dt.timedelta(days=rng.randint(1, 30))
        instant = self._moment(day, online=rng.random() < _ONLINE)
        if instant >= end:
            return
        fields: dict[str, Any] = {"refunds": None}
        ore = purchase.ore
        if len(purchase.items) > 1 and rng.random() < 0.7:
            ore = rng.choice(purchase.items)
            fields["amount"] = _money_text(ore)
        elif len(purchase.items) == 1 and rng.random() < 0.15:
            ore = purchase.ore * rng.choice((10, 20, 25, 30)) // 100
            fields["amount"] = _money_text(ore)
        member.plans.append(_Plan(instant, member, "refund", fields, target=purchase, ore=ore))

    def _redemptions(self, member: _Member) -> None:
        """Walks the member's plans in time order with a points estimate and adds a "Free
        shipping" redemption to some online orders the points cover (a minute before the order)."""
        rng = self.rng
        estimate = _Estimate(member)
        added: list[_Plan] = []
        for plan in member.plans:
            if plan.type == "purchase" and plan.online:
                moment = plan.instant - dt.timedelta(minutes=1)
                if estimate.points.settle(moment) >= 200 and rng.random() < REDEEM_RATE:
                    estimate.points.spend(200)
                    added.append(_Plan(moment, member, "redeem", {"reward": "Free shipping"}))
            estimate.apply(plan, self.years)
        if added:
            member.plans.extend(added)
            member.plans.sort(key=lambda p: p.instant)

    def event(self, plan: _Plan) -> dict[str, Any]:
        event: dict[str, Any] = {"id": plan.id, "type": plan.type, "customer": f"c{plan.member.number:05d}",
                                 "time": _time_text(plan.instant)}
        event.update(plan.fields)
        if plan.target is not None:
            event["refunds"] = plan.target.id
        return event


def check_arguments(customers: int, years: int, start: dt.date) -> None:
    """``ValueError`` with a sentence for the user when ``generate_stream`` cannot take these."""
    if isinstance(customers, bool) or not isinstance(customers, int) or customers < 1:
        raise ValueError(f"customers must be a whole number of at least 1, not {customers!r}")
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= MAX_YEARS:
        raise ValueError(f"years must be a whole number from 1 to {MAX_YEARS}, not {years!r}")
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise ValueError(f"start must be a date, not {start!r}")
    if not 1901 <= start.year <= 2999 - years:
        raise ValueError(f"the stream must fall within the years 1901 to 2998 (event times go up to 2999), and "
                         f"{years} year(s) from {start} do not")


def generate_stream(customers: int = DEFAULT_CUSTOMERS, years: int = DEFAULT_YEARS, seed: int = DEFAULT_SEED,
                    start: dt.date = DEFAULT_START, problems: bool = False) -> Iterator[dict[str, Any]]:
    """A bookshop's event stream: ``customers`` customers buying in each of ``years`` years from
    local midnight of ``start`` (Europe/Stockholm), sorted by time; the same arguments always give
    the same events. ``problems=True`` mixes in the input problems a real feed has (resends and
    invalid lines, about 1 % of the lines). The statistics are in docs/generate.md.

    Raises ``ValueError`` (from ``check_arguments``) for arguments out of range.
    """
    check_arguments(customers, years, start)
    rng = random.Random(seed)
    shop = _Shop(customers, years, start, rng)
    plans = shop.run()
    events = (shop.event(plan) for plan in plans)
    return _with_problems(rng, events) if problems else events


def _with_problems(rng: random.Random, events: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """About 0.5 % invalid lines (of the kinds ``benchmark_events`` makes), 0.4 % exact resends and
    0.1 % resends with other content (a conflicting duplicate), each next to its event."""
    n = 0
    for event in events:
        yield event
        r = rng.random()
        if r < 0.005:
            n += 1
            yield _problem(rng, {"id": f"p{n}", "customer": event["customer"], "time": event["time"]})
        elif r < 0.009:
            yield dict(event)
        elif r < 0.010:
            changed = dict(event)
            if "amount" in changed:
                changed["amount"] = _money_text(int(Decimal(changed["amount"]) * 100) + 1000)
            else:
                changed["note"] = "resent"  # an undeclared key is part of the content too
            yield changed


def write_jsonl(events: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """One ``json.dumps(event, ensure_ascii=False)`` a line; returns the number of events."""
    n = 0
    for event in events:
        out.write(json.dumps(event, ensure_ascii=False) + "\n")
        n += 1
    return n


def csv_columns(events: Iterable[dict[str, Any]]) -> list[str]:
    """The keys the events use, in ``CSV_COLUMNS`` order (any other key after them, sorted), so
    that the header does not depend on which event came first."""
    keys: set[str] = set()
    for event in events:
        keys.update(event)
    known = [k for k in CSV_COLUMNS if k in keys]
    return known + sorted(keys - set(CSV_COLUMNS))


def _cell(value: Any) -> str:
    if value is None:
        return ""  # an empty cell is an absent key to the CSV reader
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(events: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """RFC 4180 CSV (``\\r\\n`` line ends; open ``out`` with ``newline=""``): a header of
    ``csv_columns``, one row an event, an empty cell for a key the event does not have."""
    rows = list(events)
    columns = csv_columns(rows)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for event in rows:
        writer.writerow([_cell(event.get(k)) for k in columns])
    return len(rows)


# ============================================================================ benchmark streams
#
# Kept byte for byte: the oracle tests pin seeds of these streams, and the benchmark's figures are
# compared over time. Random draws are floats; they become money once, rounded to öre as Python's
# ``f"{x:.2f}"`` would (``_cents``), and money is Decimal from there on.

START = dt.datetime(2025, 3, 1, tzinfo=UTC)
DAYS = 730

_REASONS = ("goodwill", "opening balance", "correction", "late delivery", "staff error")
_OFFSETS = (dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-5)),
            dt.timezone(dt.timedelta(hours=9)))


@attrs.define(eq=False)
class _Customer:
    """A customer of ``benchmark_events``: when they are around, how active, what they did."""

    id: str
    loyal: bool = False
    join: float = 0.0
    stop: float = 1.0
    gap: tuple[float, float] | None = None
    weight: float = 1.0
    birth: dt.date = dt.date(2000, 1, 1)
    city: str = ""
    purchases: list[tuple[dt.datetime, str, Decimal, list[Decimal]]] = attrs.Factory(list)  # time, id, amount, refunded
    events: list[dict[str, Any]] = attrs.Factory(list)


def _cents(draw: float | Decimal) -> Decimal:
    """A random draw made money: rounded to öre, half to even on its exact value (as ``:.2f``)."""
    return Decimal(draw).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _local_instant(day: dt.date, seconds: float) -> dt.datetime:
    whole = int(seconds)
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=whole)
    return localtime.resolve(local, ZONE)


def _write_time(rng: random.Random, instant: dt.datetime) -> str:
    r = rng.random()
    spec = "seconds" if not instant.microsecond else "milliseconds"
    if r < 0.70:
        text = instant.astimezone(ZONE).isoformat(timespec=spec)
    elif r < 0.95:
        text = instant.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")
    else:
        text = instant.astimezone(rng.choice(_OFFSETS)).isoformat(timespec=spec)
    return text


def _price(rng: random.Random) -> Decimal:
    r = rng.random()
    if r < 0.012:  # a big order: a class set, a library, a company's gifts
        draw = rng.uniform(1500, 9000)
    else:
        draw = math.exp(rng.gauss(5.35, 0.75))
    draw = max(draw, 5.0)
    ending = rng.random()
    if ending < 0.5:
        value = Decimal(round(draw))  # 249.00
    elif ending < 0.85:
        value = Decimal(round(draw)) - Decimal("0.10")  # 199.90
    elif ending < 0.95:
        value = Decimal(round(draw)) - Decimal("0.50")
    else:
        value = _cents(draw)
    return _cents(max(value, Decimal(1)))


def benchmark_events(n_events: int, seed: int = 1, customers: int | None = None, *, start: dt.datetime = START,
                     days: int = DAYS, problems: bool = True) -> list[dict[str, Any]]:
    """Exactly ``n_events`` bookshop events (dicts), deterministic for the arguments.

    What the stream looks like:

    * **Customers** (default ``n_events // 25``) join at a random moment of the first three
      quarters of the span (``days`` from ``start``: about two years from 2025-03-01, so it
      crosses two Christmases, four DST changes and a leap day's absence) and stay until the end,
      or churn (a quarter stop early; a tenth take a break of seven to nine months, long enough
      for the "Win back" message). Activity is skewed: the most loyal 20 % are five times as
      active as the others.
    * **Their first events** are usually a ``signup`` and a ``profile`` with ``city`` (Stockholm
      for about 30 %), ``birthdate`` (ages 14-80, a few born on 29 February) and sometimes
      ``gender``.
    * **Then** mostly purchases (``amount`` as a money string like ``"249.00"`` or ``"199.90"``, a
      few big orders of thousands of kronor, ``currency`` ``"SEK"`` usually, ``category`` books
      about 60 %, games, other; ``items``), reviews (``stars`` 0-5), referrals, profile updates
      (moving house, a corrected birthdate, rarely an unset one), refunds of a recent purchase
      (most in full, a third partial, a few of more than remains, older than the refund window,
      or of an unknown event), redemptions ("Free shipping", "Tote bag"), adjustments (goodwill,
      corrections, opening balances), a repeated signup now and then.
    * **Times** are local shop hours (09-21) mostly, the rest at any hour (online, so DST gaps and
      folds are crossed); written with the local offset, as UTC (``Z``) or another offset, a few
      with milliseconds. A few events fall exactly on the instant of an earlier event's pending
      release (14 days later, same wall time) or at a local midnight, where scheduled items and
      events meet.
    * **Input problems** (unless ``problems=False``) at a low rate: exact resends (duplicates), a
      resend with other content (a conflicting duplicate), a resend mangled into an invalid line
      (a decimal comma) that shares its id with the valid one, and invalid lines (negative money,
      a foreign currency, a decimal comma, a missing field, an unknown type, a time without an
      offset, an unknown reward).

    Ordered by time as a shop's log would be (the engine sorts per customer anyway).
    """
    rng = random.Random(seed)
    n_customers = max(1, customers if customers is not None else n_events // 25)
    n_customers = min(n_customers, max(1, n_events))
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
                event = _problem(rng, base)
            elif problems and r < 0.012 and c.events:
                event = dict(rng.choice(c.events[-3:]))  # an exact resend
            elif problems and r < 0.0135 and c.events and c.events[-1]["type"] == "purchase":
                event = dict(c.events[-1])  # the same purchase again, mangled on the way
                event["amount"] = str(event["amount"]).replace(".", ",")
            elif problems and r < 0.014 and c.events:
                event = dict(rng.choice(c.events[-3:]))
                if "amount" in event and "," not in str(event["amount"]):
                    event["amount"] = str(_cents(Decimal(str(event["amount"])) + 10))
                else:
                    event["note"] = "resent"  # undeclared keys are part of the content too
            elif r < 0.06 and c.purchases:
                event = _refund(rng, base, c)
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
    # a count of items from the money: a float division of the draw, not money arithmetic
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


def _refund(rng: random.Random, base: dict[str, Any], c: _Customer) -> dict[str, Any]:
    r = rng.random()
    event: dict[str, Any] = {**base, "type": "refund"}
    if r < 0.03:
        event["refunds"] = f"e-unknown-{rng.randrange(1000)}"
        return event
    if r < 0.05 and len(c.events) > 2:
        other = rng.choice(c.events)
        event["refunds"] = other["id"]  # maybe a review or signup (full refund), maybe a built-in (rejected)
        return event
    _, target, amount, refunded = rng.choice(c.purchases[-4:])
    event["refunds"] = target
    remaining = amount - refunded[0]
    r = rng.random()
    if r < 0.62 or remaining <= Decimal("2"):
        refunded[0] = amount
    elif r < 0.95:
        part = _cents(remaining * Decimal(rng.uniform(0.1, 0.9)))  # a random share of what remains
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


def _problem(rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    """An invalid line: each kind is one of the rejections a real feed produces."""
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


def edge_case_events(customers: int, events_per_customer: int, seed: int = 1) -> list[dict[str, Any]]:
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
