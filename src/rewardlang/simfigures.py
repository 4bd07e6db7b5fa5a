"""The figures of ``rewardlang simulate``: one customer's events and effects tallied into sums
that add up across customers, and the sums turned into the report's figures.

Why it is split this way: the simulation applies customers in several processes (customers are
independent), so everything a process computes must be a sum that can be added to another
process's sums in any order and give the same total — integers and exact ``Decimal`` amounts
only, never floats, never an average until the very end. ``Accountant.customer`` applies one
customer's lines (through ``engine.apply_customer``, the one path every command uses) and adds
what it made to a ``Tally``; ``Tally.merge`` adds two tallies; ``figures`` turns the merged tally
and the per-customer figures into the plain, JSON-ready dict that every output format is drawn
from (docs/simulate.md says what each figure means).

Definitions the code relies on (docs/simulate.md is the user's version):

- A **member** is a customer with at least one applied event; **buyers** are members with at
  least one applied *spend event* (an event type declared with ``amount money``).
- **Spend** is the amounts of applied spend events less the amounts of applied refunds of them
  (a refund without ``amount`` takes what remained), by the time each happens.
- **Points awarded** are the points rules gave (pending ones when they were awarded);
  **reversed** are what refunds took back of them; **issued** = awarded − reversed.
  **Redeemed** = points spent on catalogue rewards (``redeem`` events) + points taken by
  ``converts to`` rules. Then, for every customer and in total:
  outstanding = issued − redeemed − expired + adjusted − pending at the end.
- A **firing** is a rule's line in the ledger that gives something: a points or pending award, a
  free item, a voucher, a message (a conversion counts once, by what it gives). A points firing
  that came to 0 writes no line and is not counted.
- **Reward cost** = what was given (vouchers and free items at their ``worth``, points redeemed
  for rewards at the ``point value``) + the **liability** at the end (points outstanding in
  positive balances, and pending points, at the ``point value``). Points that expired or were
  converted cost nothing more: a conversion's cost is the worth of what it gives.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs

from rewardlang import localtime
from rewardlang.compiler import ConditionCompiler, Context, Predicate
from rewardlang.engine import Engine, Line, apply_customer
from rewardlang.events import Event
from rewardlang.localtime import format_instant
from rewardlang.program import Program
from rewardlang.state import CustomerState

ZERO = Decimal(0)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
HUNDRED = Decimal(100)
TOP_SHARE = 5  # the top fifth of buyers by spend: ceil(buyers / 5) of them
NO_TIER = "(no tier)"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


# ---------------------------------------------------------------------------- sums


@attrs.define
class RuleTally:
    """One rule's sums. ``converted`` is what a ``converts to`` rule took from balances."""

    firings: int = 0
    customers: int = 0
    awarded: int = 0
    reversed: int = 0
    converted: int = 0
    vouchers: int = 0
    free_items: int = 0
    messages: int = 0
    worth: Decimal = ZERO  # of its vouchers and free items that have a declared worth

    def merge(self, other: RuleTally) -> None:
        self.firings += other.firings
        self.customers += other.customers
        self.awarded += other.awarded
        self.reversed += other.reversed
        self.converted += other.converted
        self.vouchers += other.vouchers
        self.free_items += other.free_items
        self.messages += other.messages
        self.worth += other.worth


@attrs.define
class MonthTally:
    """One calendar month (in the programme's time zone)."""

    active: int = 0  # members with an applied event of a declared type in the month
    purchases: int = 0
    spend: Decimal = ZERO
    issued: int = 0  # awarded − reversed, by the time of each line
    redeemed: int = 0
    expired: int = 0

    def merge(self, other: MonthTally) -> None:
        self.active += other.active
        self.purchases += other.purchases
        self.spend += other.spend
        self.issued += other.issued
        self.redeemed += other.redeemed
        self.expired += other.expired


@attrs.define
class GroupTally:
    """A group of customers (a segment): how many, and their sums."""

    customers: int = 0
    buyers: int = 0
    spend: Decimal = ZERO
    purchases: int = 0
    issued: int = 0
    outstanding: int = 0
    cost: Decimal = ZERO

    def add(self, c: CustomerFigures) -> None:
        self.customers += 1
        self.buyers += 1 if c.purchases else 0
        self.spend += c.spend
        self.purchases += c.purchases
        self.issued += c.issued
        self.outstanding += c.outstanding
        self.cost += c.cost

    def merge(self, other: GroupTally) -> None:
        self.customers += other.customers
        self.buyers += other.buyers
        self.spend += other.spend
        self.purchases += other.purchases
        self.issued += other.issued
        self.outstanding += other.outstanding
        self.cost += other.cost


def _add(into: dict[Any, Any], key: Any, n: Any) -> None:
    into[key] = into.get(key, 0) + n


@attrs.define
class Tally:
    """Everything one programme's simulation adds up, over any set of customers."""

    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_by: dict[str, int] = attrs.field(factory=dict)
    customers: int = 0
    buyers: int = 0
    repeat_buyers: int = 0
    spend: Decimal = ZERO
    purchases: int = 0
    refunds: int = 0
    refunded: Decimal = ZERO
    awarded: int = 0
    reversed: int = 0
    redeemed_rewards: int = 0
    redemptions: int = 0
    converted: int = 0
    expired: int = 0
    adjusted: int = 0
    pending: int = 0
    outstanding: int = 0
    positive: int = 0  # the sum of positive balances (debts are not a liability)
    debtors: int = 0
    debt: int = 0
    vouchers: dict[str, int] = attrs.field(factory=dict)
    free_items: dict[str, int] = attrs.field(factory=dict)
    messages: int = 0
    reminders: int = 0
    cost: Decimal = ZERO
    rules: dict[str, RuleTally] = attrs.field(factory=dict)
    tiers: dict[str | None, int] = attrs.field(factory=dict)
    moves: dict[tuple[str | None, str | None], int] = attrs.field(factory=dict)
    segments: dict[str, GroupTally] = attrs.field(factory=dict)
    months: dict[str, MonthTally] = attrs.field(factory=dict)
    month_tiers: dict[tuple[str, str | None], int] = attrs.field(factory=dict)

    def reject(self, code: str) -> None:
        self.rejected += 1
        _add(self.rejected_by, code, 1)

    def month(self, key: str) -> MonthTally:
        found = self.months.get(key)
        if found is None:
            found = self.months[key] = MonthTally()
        return found

    def rule(self, name: str) -> RuleTally:
        found = self.rules.get(name)
        if found is None:
            found = self.rules[name] = RuleTally()
        return found

    def merge(self, other: Tally) -> None:
        """Add ``other`` to this tally (sums of integers and exact decimals: order does not matter)."""
        for field in attrs.fields(Tally):
            name = field.name
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, (int, Decimal)):
                setattr(self, name, mine + theirs)
            elif name in ("rules", "segments", "months"):
                for key, value in theirs.items():
                    target = mine.get(key)
                    if target is None:
                        mine[key] = target = type(value)()
                    target.merge(value)
            else:
                for key, value in theirs.items():
                    _add(mine, key, value)


@attrs.frozen(slots=True)
class CustomerFigures:
    """One customer under one programme: what the loyalty-effect and comparison figures need."""

    spend: Decimal
    purchases: int
    issued: int
    outstanding: int
    cost: Decimal


# ---------------------------------------------------------------------------- one customer


class Accountant:
    """Applies customers' lines under one programme and tallies what they make.

    One per programme per process; it holds the engine (plan, kernel, validator), the prices of
    the catalogue, the compiled segments and a memo of month keys and month ends.
    """

    def __init__(self, program: Program):
        self.program = program
        self.engine = Engine(program)
        plan = self.engine.plan
        self.kernel = self.engine.kernel
        self.validator = self.engine.validator
        self.calendar = plan.calendar
        self.zone = plan.zone
        self.spend_events = plan.spend_events
        self.declared = frozenset(program.events)
        self.converters = frozenset(rule.name for rule in plan.convert_rules)
        self.point_value = program.point_value.amount if program.point_value is not None else None
        self.voucher_worth = {name: decl.worth.amount for name, decl in program.vouchers.items()}
        self.item_worth = {name: decl.worth.amount for name, decl in program.free_items.items()}
        compiler = ConditionCompiler(program, plan.calendar)
        self.segments: tuple[tuple[str, Predicate], ...] = tuple(
            (name, compiler.condition(decl.condition)) for name, decl in program.segments.items())
        self._month_ends: dict[str, dt.datetime] = {}
        self._spans: dict[tuple[str, str], tuple[tuple[str, dt.datetime], ...]] = {}
        # the month last asked for, as [start, end): a customer's lines come in time order, so
        # the next instant is nearly always in it (two comparisons instead of a calendar lookup)
        self._month = ("", _EPOCH, _EPOCH)
        # every month met so far, by its start (sorted): each customer starts again from its
        # first month, and a search here is cheaper than the calendar
        self._starts: list[dt.datetime] = []
        self._months: list[tuple[str, dt.datetime, dt.datetime]] = []

    # -- months
    def month_of(self, instant: dt.datetime) -> str:
        key, start, end = self._month
        if start <= instant < end:
            return key
        i = bisect.bisect_right(self._starts, instant) - 1
        if i >= 0:
            found = self._months[i]
            if instant < found[2]:
                self._month = found
                return found[0]
        day = self.calendar.local_date(instant)
        key = f"{day.year:04d}-{day.month:02d}"
        start = localtime.local_midnight(dt.date(day.year, day.month, 1), self.zone)
        self._month = found = (key, start, self.month_end(key))
        i = bisect.bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._months.insert(i, found)
        return key

    def month_end(self, month: str) -> dt.datetime:
        """The instant the month after ``month`` begins (local midnight of its first day)."""
        end = self._month_ends.get(month)
        if end is None:
            year, number = int(month[:4]), int(month[5:])
            following = dt.date(year + number // 12, number % 12 + 1, 1)
            end = self._month_ends[month] = localtime.local_midnight(following, self.zone)
        return end

    # -- a customer
    def customer(self, tally: Tally, customer: str, lines: Sequence[Line], end: dt.datetime | None,
                 ) -> CustomerFigures | None:
        """Apply one customer's lines (then advance to ``end``), add what they made to ``tally``,
        and return the customer's figures (None when none of its lines was applied)."""
        state = CustomerState(customer)
        result = apply_customer(self.kernel, state, lines)
        # apply_customer applies a customer's events in (time, id) order and reports each line's
        # outcome in the order it dealt with them: the applied events, in the order applied
        indexes: list[int] = []
        for outcome in result.outcomes:
            status = outcome.status
            if status == "applied":
                indexes.append(outcome.index)
            elif status == "duplicate":
                tally.duplicates += 1
            else:
                tally.reject(outcome.code or "rejected")
        if not indexes:
            return None
        tally.applied += len(indexes)
        items = {line.index: line.item for line in lines}
        applied: list[Event] = [items[index] for index in indexes]  # type: ignore[misc]
        effects = result.effects
        if end is not None:
            effects = effects + self.kernel.advance(state, end)
        tally.customers += 1
        spend, purchases = self._events(tally, applied)
        issued, given, tier_changes = self._effects(tally, effects)
        pending = state.pending_points()
        balance = state.balance
        tally.pending += pending
        tally.outstanding += balance
        if balance > 0:
            tally.positive += balance
        elif balance < 0:
            tally.debtors += 1
            tally.debt -= balance
        cost = given
        if self.point_value is not None:
            cost += (max(balance, 0) + pending) * self.point_value
        tally.cost += cost
        _add(tally.tiers, state.tier, 1)
        self._tier_months(tally, self.month_of(applied[0].time), end, tier_changes, state.tier)
        figures = CustomerFigures(spend, purchases, issued, balance, cost)
        if purchases:
            tally.buyers += 1
            if purchases >= 2:
                tally.repeat_buyers += 1
        if self.segments and end is not None:
            context = Context(end, {}, state.profile, state.tier, state.balance, state.history, self.calendar)
            for name, holds in self.segments:
                if holds(context):
                    group = tally.segments.get(name)
                    if group is None:
                        group = tally.segments[name] = GroupTally()
                    group.add(figures)
        return figures

    def _events(self, tally: Tally, applied: list[Event]) -> tuple[Decimal, int]:
        """Spend, purchases, refunds and activity from the applied events (in the order applied)."""
        spend = ZERO
        purchases = 0
        remaining: dict[str, Decimal] = {}
        active: set[str] = set()
        declared = self.declared
        spend_events = self.spend_events
        months = tally.months
        month, start, stop = self._month
        for event in applied:
            kind = event.type
            time = event.time
            if not start <= time < stop:
                month = self.month_of(time)
                _, start, stop = self._month
            if kind in declared:
                active.add(month)
            if kind in spend_events:
                amount = event.fields.get("amount")
                if isinstance(amount, Decimal):
                    remaining[event.id] = amount
                    spend += amount
                    purchases += 1
                    m = months.get(month) or tally.month(month)
                    m.purchases += 1
                    m.spend += amount
            elif kind == "refund":
                target = event.fields["refunds"]
                left = remaining.get(target)  # type: ignore[call-overload]
                if left is not None:
                    asked = event.fields.get("amount")
                    amount = left if asked is None else asked  # type: ignore[assignment]
                    remaining[target] = left - amount  # type: ignore[index,operator]
                    spend -= amount  # type: ignore[operator]
                    tally.refunds += 1
                    tally.refunded += amount  # type: ignore[operator]
                    tally.month(month).spend -= amount  # type: ignore[operator]
        for month in active:
            tally.month(month).active += 1
        tally.spend += spend
        tally.purchases += purchases
        return spend, purchases

    def _effects(self, tally: Tally, effects: Iterable[Any]) -> tuple[int, Decimal, list[tuple[dt.datetime, str | None]]]:
        """Tally the ledger lines of one customer; return its points issued, the worth of what it
        was given (vouchers, free items, rewards at the point value) and its tier changes."""
        issued = 0
        given = ZERO
        rewards = 0
        fired: set[str] = set()
        changes: list[tuple[dt.datetime, str | None]] = []
        rules = tally.rules
        months = tally.months
        converters = self.converters
        month, start, stop = self._month
        for effect in effects:
            kind = effect.kind
            rule = effect.rule
            if kind == "points" or kind == "pending":
                # (points|pending, n), then (balance, n) for points, then releases|reverses|reason
                values = effect.values
                extra = values[-1][0]
                if extra == "releases":
                    continue  # a pending award becoming available: counted when it was awarded
                points = values[0][1]
                if rule is None and extra != "reverses":
                    tally.adjusted += points
                    continue
                time = effect.time
                if not start <= time < stop:
                    month = self.month_of(time)
                    _, start, stop = self._month
                m = months.get(month) or tally.month(month)
                r = rules.get(rule) or tally.rule(rule)  # type: ignore[arg-type]
                if extra == "reverses":
                    tally.reversed -= points
                    r.reversed -= points
                    m.issued += points
                    issued += points
                elif points < 0 and rule in converters:
                    tally.converted -= points
                    r.converted -= points
                    m.redeemed -= points
                else:
                    r.firings += 1
                    r.awarded += points
                    fired.add(rule)  # type: ignore[arg-type]
                    tally.awarded += points
                    m.issued += points
                    issued += points
            elif kind == "voucher" or kind == "free_item":
                quantity = int(effect.get("quantity"))
                r = rules.get(rule) or tally.rule(rule)  # type: ignore[arg-type]
                r.firings += 1
                fired.add(rule)  # type: ignore[arg-type]
                if kind == "voucher":
                    name = effect.get("voucher")
                    r.vouchers += quantity
                    _add(tally.vouchers, name, quantity)
                    worth = self.voucher_worth.get(name)
                else:
                    name = effect.get("item")
                    r.free_items += quantity
                    _add(tally.free_items, name, quantity)
                    worth = self.item_worth.get(name)
                if worth is not None:
                    r.worth += worth * quantity
                    given += worth * quantity
            elif kind == "message":
                if rule is None:
                    tally.reminders += 1
                else:
                    r = rules.get(rule) or tally.rule(rule)
                    r.firings += 1
                    r.messages += 1
                    fired.add(rule)
                    tally.messages += 1
            elif kind == "tier":
                _add(tally.moves, (effect.get("from"), effect.get("to")), 1)
                changes.append((effect.time, effect.get("to")))
            elif kind == "expire":
                points = -int(effect.get("points"))
                tally.expired += points
                tally.month(self.month_of(effect.time)).expired += points
            elif kind == "redeem":
                points = -int(effect.get("points"))
                tally.redeemed_rewards += points
                tally.redemptions += 1
                rewards += points
                tally.month(self.month_of(effect.time)).redeemed += points
        for rule in fired:
            rules[rule].customers += 1
        if self.point_value is not None:
            given += rewards * self.point_value
        return issued, given, changes

    def _tier_months(self, tally: Tally, first: str, end: dt.datetime | None,
                     changes: list[tuple[dt.datetime, str | None]], final: str | None) -> None:
        """The customer's tier at the end of each month from its first to the end's month."""
        if end is None:
            _add(tally.month_tiers, (first, final), 1)
            return
        last = self.month_of(end)
        span = self._spans.get((first, last))
        if span is None:
            span = self._spans[(first, last)] = tuple((m, self.month_end(m)) for m in months_between(first, last))
        tier, i, n = None, 0, len(changes)
        month_tiers = tally.month_tiers
        for month, boundary in span:
            while i < n and (month == last or changes[i][0] < boundary):
                tier = changes[i][1]
                i += 1
            key = (month, tier)
            month_tiers[key] = month_tiers.get(key, 0) + 1


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    months = [first]
    while months[-1] < last:
        months.append(next_month(months[-1]))
    return months


# ---------------------------------------------------------------------------- the figures


def money(value: Decimal) -> Decimal:
    """Money as shown: to the cent, halves up (sums of prices are exact already)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """A quotient to two decimals, halves up; None when there is nothing to divide by."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """A share in per cent to one decimal, halves up; None when the whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def _priced(quantities: Mapping[str, int], worth: Mapping[str, Decimal]) -> tuple[Decimal, list[str]]:
    total = ZERO
    unpriced: list[str] = []
    for name, n in quantities.items():
        price = worth.get(name)
        if price is None:
            unpriced.append(name)
        else:
            total += price * n
    return total, sorted(unpriced)


def figures(program: Program, ruleset: str, tally: Tally, records: Mapping[str, CustomerFigures],
            read: int, unreadable: Mapping[str, int]) -> dict[str, Any]:
    """One programme's figures as a plain dict (Decimals, ints, texts, None): the source of the
    JSON output, the text and CSV tables and the HTML report. ``read`` and ``unreadable`` are the
    lines of the input and those that could not be read at all (they count as rejected)."""
    pv = program.point_value.amount if program.point_value is not None else None
    voucher_worth = {name: d.worth.amount for name, d in program.vouchers.items()}
    item_worth = {name: d.worth.amount for name, d in program.free_items.items()}
    vouchers_value, vouchers_unpriced = _priced(tally.vouchers, voucher_worth)
    items_value, items_unpriced = _priced(tally.free_items, item_worth)
    issued = tally.awarded - tally.reversed
    redeemed = tally.redeemed_rewards + tally.converted
    rewards_value = tally.redeemed_rewards * pv if pv is not None else None
    liability = (tally.positive + tally.pending) * pv if pv is not None else None
    given = vouchers_value + items_value + (rewards_value or ZERO)
    rejected_by = dict(tally.rejected_by)
    for code, n in unreadable.items():
        rejected_by[code] = rejected_by.get(code, 0) + n
    programme = {
        "customers": tally.customers,
        "buyers": tally.buyers,
        "spend": money(tally.spend),
        "purchases": tally.purchases,
        "refunds": tally.refunds,
        "refunded": money(tally.refunded),
        "points_awarded": tally.awarded,
        "points_reversed": tally.reversed,
        "points_issued": issued,
        "points_redeemed": redeemed,
        "points_redeemed_for_rewards": tally.redeemed_rewards,
        "rewards_redeemed": tally.redemptions,
        "points_converted": tally.converted,
        "points_expired": tally.expired,
        "points_adjusted": tally.adjusted,
        "points_pending": tally.pending,
        "points_outstanding": tally.outstanding,
        "customers_in_debt": tally.debtors,
        "points_in_debt": tally.debt,
        "vouchers": sum(tally.vouchers.values()),
        "vouchers_value": money(vouchers_value),
        "free_items": sum(tally.free_items.values()),
        "free_items_value": money(items_value),
        "messages": tally.messages,
        "reminders": tally.reminders,
        "rewards_value": None if rewards_value is None else money(rewards_value),
        "given_value": money(given),
        "liability": None if liability is None else money(liability),
        "reward_cost": money(tally.cost),
        "cost_per_customer": ratio(tally.cost, tally.customers),
        "cost_per_100_spend": ratio(tally.cost * HUNDRED, tally.spend),
    }
    total_points = sum(max(t.awarded - t.reversed, 0) for name, t in tally.rules.items())
    rules = []
    for name in program.rule_names:
        t = tally.rules.get(name, RuleTally())
        points = t.awarded - t.reversed - t.converted
        value = t.worth + (points * pv if pv is not None else ZERO)
        rules.append({
            "rule": name, "firings": t.firings, "customers": t.customers, "points": points,
            "share": percent(points, total_points) if points > 0 else None,
            "vouchers": t.vouchers, "free_items": t.free_items, "messages": t.messages,
            "cost": money(value),
        })
    tier_names: list[str | None] = [None] + [t.name.text for t in program.tiers]
    tiers = [{"tier": tier, "customers": tally.tiers.get(tier, 0),
              "share": percent(tally.tiers.get(tier, 0), tally.customers)} for tier in tier_names]
    order = {tier: n for n, tier in enumerate(tier_names)}
    moves = [{"from": a, "to": b, "moves": n}
             for (a, b), n in sorted(tally.moves.items(), key=lambda kv: (order.get(kv[0][0], 99),
                                                                           order.get(kv[0][1], 99)))]
    segments = []
    for name in program.segments:
        g = tally.segments.get(name, GroupTally())
        segments.append({"segment": name, "customers": g.customers, "share": percent(g.customers, tally.customers),
                         "spend": money(g.spend), "points_issued": g.issued, "points_outstanding": g.outstanding,
                         "reward_cost": money(g.cost), "cost_per_100_spend": ratio(g.cost * HUNDRED, g.spend)})
    keys = set(tally.months) | {m for m, _ in tally.month_tiers}
    months = []
    if keys:
        for key in months_between(min(keys), max(keys)):
            m = tally.months.get(key, MonthTally())
            months.append({"month": key, "active": m.active, "purchases": m.purchases, "spend": money(m.spend),
                           "points_issued": m.issued, "points_redeemed": m.redeemed, "points_expired": m.expired,
                           "tiers": [{"tier": tier, "customers": tally.month_tiers.get((key, tier), 0)}
                                     for tier in tier_names]})
    notes = []
    if pv is None:
        notes.append("the ruleset sets no `point value`: points are not priced, and the reward cost leaves "
                     "them out")
    for kind, names in (("voucher", vouchers_unpriced), ("free item", items_unpriced)):
        if names:
            shown = ", ".join(f'"{n}"' for n in names)
            notes.append(f"no worth declared for the {kind}{'s' if len(names) > 1 else ''} {shown}: "
                         "not priced in the reward cost")
    return {
        "ruleset": ruleset,
        "program": program.name,
        "currency": program.currency,
        "point_value": pv,
        "input": {"read": read, "applied": tally.applied, "duplicates": tally.duplicates,
                  "rejected": tally.rejected + sum(unreadable.values()),
                  "rejected_by": dict(sorted(rejected_by.items(), key=lambda kv: (-kv[1], kv[0])))},
        "programme": programme,
        "rules": rules,
        "tiers": tiers,
        "tier_moves": moves,
        "segments": segments,
        "months": months,
        "loyalty": loyalty(records),
        "notes": notes,
    }


def loyalty(records: Mapping[str, CustomerFigures]) -> list[dict[str, Any]]:
    """The loyalty effect: the top fifth of buyers by spend (ties broken by customer id) against
    the rest, and all buyers."""
    buyers = sorted(((c, f) for c, f in records.items() if f.purchases), key=lambda cf: (-cf[1].spend, cf[0]))
    n_top = -(-len(buyers) // TOP_SHARE)
    total = sum((f.spend for _, f in buyers), ZERO)
    groups = []
    for name, members in (("top 20 %", buyers[:n_top]), ("the rest", buyers[n_top:]), ("all buyers", buyers)):
        n = len(members)
        spend = sum((f.spend for _, f in members), ZERO)
        purchases = sum(f.purchases for _, f in members)
        cost = sum((f.cost for _, f in members), ZERO)
        groups.append({
            "group": name, "customers": n, "spend": money(spend), "revenue_share": percent(spend, total),
            "spend_per_customer": ratio(spend, n), "purchases_per_customer": ratio(purchases, n),
            "repeat_rate": percent(sum(1 for _, f in members if f.purchases >= 2), n),
            "points_per_customer": ratio(sum(f.issued for _, f in members), n),
            "cost_per_100_spend": ratio(cost * HUNDRED, spend),
        })
    return groups


def differing(base: Mapping[str, CustomerFigures], other: Mapping[str, CustomerFigures], top: int,
              ) -> list[dict[str, Any]]:
    """The customers whose points issued differ most between two programmes (largest absolute
    difference first, then by customer id); customers with no difference are left out."""
    rows = []
    for customer in set(base) | set(other):
        a = base[customer].issued if customer in base else 0
        b = other[customer].issued if customer in other else 0
        if a != b:
            rows.append((-abs(b - a), customer, a, b))
    rows.sort()
    return [{"customer": c, "base": a, "compare": b, "difference": b - a} for _, c, a, b in rows[:top]]


def instant_text(instant: dt.datetime | None) -> str | None:
    return None if instant is None else format_instant(instant)
