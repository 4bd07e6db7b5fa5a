"""Peers: the bookshop programme's conditions (``rulesets/bookshop.reward``) in three Python rules
libraries, with the state handling written around them as their users would write it.

The suite (``benchmarks/run.py``) runs each peer over the same event dicts as ``Engine.run`` and
the hand-written function. The libraries are the ``bench`` extra (``pip install -e '.[bench]'``),
never a runtime dependency:

* ``rule-engine`` (PyPI ``rule-engine``, module ``rule_engine``): one string expression per rule,
  ``Rule(text).matches(fact)`` over a dict, every rule tried on every event;
* ``business-rules`` (PyPI ``business-rules``): rules as JSON conditions and actions (what a
  marketing UI would emit), variables and actions as Python classes, ``run_all`` per event;
* ``durable_rules`` (PyPI ``durable_rules``, a Rete engine in C): one ``@when_all`` per rule; the
  event is asserted as a fact (an event, ``post``, is consumed by the first rule that matches it,
  so that only one rule of many would fire) and retracted once its rules have fired.

What every peer runs is the same ``Shop`` around it (plain Python, the same code for every peer):
reading an event dict as a shop's developer would (``datetime.fromisoformat``, ``Decimal`` for
money, the event's local time, the customer's age on that day, duplicates dropped by id), the
customer's state in a dict of ``Member`` objects (balance, flags, counters, profile), and the
actions (points, vouchers, free items, messages). The peer decides which rules' conditions hold
for an event (``Peer.fire``) and whether the balance converts (``Peer.converts``); the shop applies
what fired. ``SubsetByHand`` is the same decisions in plain ``if`` statements: every peer's
tallies must equal its tallies (``Shop.summary``), and the difference between the two timings is
what the library costs; ``NoRules`` decides nothing (the shop's own cost, the floor of every peer).

What a peer cannot express is left out, the same for every peer (``COVERAGE``): the peers express
6 of the programme's 17 rules in full, 7 in part and 4 not at all, and none of its settings
(pending points, calendar-aware expiry and its notice, refunds and their reversal, per-customer
time order, late and conflicting events). Their figures are therefore for less work than
``Engine.run`` does; the suite prints them beside it with that said.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import zoneinfo
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

ZONE = zoneinfo.ZoneInfo("Europe/Stockholm")
RULES = (
    "Welcome", "Base points", "Gold points", "Punch card", "Student books", "Review bonus", "Referral",
    "First purchase", "Big basket", "Saturday double", "Christmas", "Birthday", "Big spender", "Bonus check",
    "Welcome mail", "Gold mail", "Win back",
)

# How far each rule of rulesets/bookshop.reward is expressed by the peers (all three alike, by the
# conditions below): "full", "part" (what is left out is said) or "none".
COVERAGE: dict[str, tuple[str, str]] = {
    "Welcome": ("full", "'once': a condition on a flag the shop keeps"),
    "Base points": ("part", "also for gold customers: no tiers, so no 'instead of'"),
    "Gold points": ("none", "a tier over a rolling 12 months; 'instead of'"),
    "Punch card": ("part", "the count is the action's; a refund does not un-count"),
    "Student books": ("part", "no 'at most 2 per month'; the age on the local date is computed by the shop"),
    "Review bonus": ("part", "no 'at most 3 per month'"),
    "Referral": ("full", ""),
    "First purchase": ("full", "a condition on a flag the shop keeps"),
    "Big basket": ("full", ""),
    "Saturday double": ("part", "no 'at most 500 points per month'; the local weekday is the shop's"),
    "Christmas": ("full", "the local date and the city are supplied by the shop"),
    "Birthday": ("none", "scheduled at local midnight, once a local year"),
    "Big spender": ("part", "the running total is the action's; not net of refunds"),
    "Bonus check": ("part", "on a balance with no pending points and no expiry"),
    "Welcome mail": ("full", ""),
    "Gold mail": ("none", "a tier change"),
    "Win back": ("none", "'inactive for 6 months': a deadline scheduled per customer"),
}
NOT_EXPRESSED = (
    "points pending for 14 days", "points expire after 12 months (local calendar) and the notice 30 days before",
    "refunds within 90 days and what they reverse", "events applied in time order per customer; late and "
    "conflicting events", "what is due between events (releases, expiries, birthdays, tier exits)",
)


def coverage_counts() -> dict[str, int]:
    counts = {"full": 0, "part": 0, "none": 0}
    for level, _ in COVERAGE.values():
        counts[level] += 1
    return counts


def coverage_text() -> str:
    c = coverage_counts()
    return f"expresses {c['full']} of {len(RULES)} rules in full, {c['part']} in part, {c['none']} not"


# ---------------------------------------------------------------------------- the shop

_TEN = Decimal(10)
_THOUSAND = Decimal(1000)
_CENT = Decimal("0.01")
_REWARDS = {"Free shipping": 200, "Tote bag": 800}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Member:
    """A customer as the shop keeps them (what the expressed rules need)."""

    __slots__ = ("balance", "welcomed", "first", "books", "spent", "spent_mark", "city", "birthdate",
                 "vouchers", "items", "messages")

    def __init__(self) -> None:
        self.balance = 0
        self.welcomed = False
        self.first = False  # a first purchase was made
        self.books = 0
        self.spent = Decimal(0)
        self.spent_mark = 0
        self.city: str | None = None
        self.birthdate: dt.date | None = None
        self.vouchers = 0
        self.items = 0
        self.messages = 0


def _number(value: Any) -> int | None:
    """A whole number from an event's field (int, or an integral Decimal), else None."""
    if type(value) is int:
        return value
    if type(value) is Decimal and value == value.to_integral_value():
        return int(value)
    return None


def _age(birthdate: dt.date | None, today: dt.date) -> int | None:
    if birthdate is None:
        return None
    age = today.year - birthdate.year
    if (today.month, today.day) < (birthdate.month, birthdate.day):
        age -= 1
    return age


class Shop:
    """The state handling around a peer: read each event dict, keep members, apply what fired."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.members: dict[str, Member] = {}
        self.seen: set[tuple[str, str]] = set()
        self.firings = dict.fromkeys(RULES, 0)
        self.points = dict.fromkeys(RULES, 0)
        self.counts = {"read": 0, "evaluated": 0, "skipped": 0}

    # the actions: the same Python for every peer
    def _award(self, m: Member, rule: str, points: int) -> None:
        self.firings[rule] += 1
        self.points[rule] += points
        m.balance += points

    def apply(self, rule: str, m: Member, fact: dict[str, Any]) -> None:
        if rule == "Welcome":
            m.welcomed = True
            self._award(m, rule, 100)
        elif rule == "Base points" or rule == "Saturday double":
            self._award(m, rule, int(fact["amount"] // _TEN))
        elif rule == "Christmas":
            self._award(m, rule, int(2 * fact["amount"] // _TEN))
        elif rule == "Punch card":
            self.firings[rule] += 1
            m.books += 1
            if m.books % 5 == 0:
                m.items += 1
        elif rule == "Student books":
            self._award(m, rule, 20)
        elif rule == "Review bonus" or rule == "Big basket":
            self._award(m, rule, 50)
        elif rule == "Referral":
            self._award(m, rule, 100)
        elif rule == "First purchase":
            m.first = True
            self._award(m, rule, 200)
        elif rule == "Big spender":
            self.firings[rule] += 1
            m.spent += fact["amount"]
            mark = int(m.spent // _THOUSAND)
            if mark > m.spent_mark:
                m.vouchers += mark - m.spent_mark
                m.spent_mark = mark
        elif rule == "Welcome mail":
            self.firings[rule] += 1
            m.messages += 1
        else:
            raise ValueError(f"the shop has no action for {rule!r}")

    def _convert(self, m: Member) -> None:
        converts = self.peer.converts
        while converts(m.balance):
            self.firings["Bonus check"] += 1
            self.points["Bonus check"] -= 500
            m.balance -= 500
            m.vouchers += 1

    def run(self, events: Iterable[object]) -> Shop:
        read = self.read
        fire = self.peer.fire
        apply = self.apply
        counts = self.counts
        for raw in events:
            counts["read"] += 1
            got = read(raw)
            if got is None:
                continue
            m, fact = got
            if fact is None:  # a state-only event (profile, redeem, adjust)
                continue
            counts["evaluated"] += 1
            before = m.balance
            for rule in fire(fact):
                apply(rule, m, fact)
            if m.balance > before:
                self._convert(m)
        return self

    def read(self, raw: object) -> tuple[Member, dict[str, Any] | None] | None:
        """An event dict read as a shop's developer would: the fact the rules look at, or None
        for what is skipped (invalid, a duplicate id, a type no rule looks at)."""
        if type(raw) is not dict:
            return self._skip()
        cid = raw.get("customer")
        eid = raw.get("id")
        kind = raw.get("type")
        text = raw.get("time")
        if type(cid) is not str or type(eid) is not str or type(kind) is not str or type(text) is not str:
            return self._skip()
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            return self._skip()
        if when.tzinfo is None:
            return self._skip()
        key = (cid, eid)
        if key in self.seen:
            return self._skip()
        fact: dict[str, Any] | None
        if kind == "purchase":
            amount = raw.get("amount")
            try:
                amount = Decimal(amount) if type(amount) is str or type(amount) is int else None
            except InvalidOperation:
                amount = None
            items = _number(raw.get("items"))
            category = raw.get("category")
            currency = raw.get("currency", "SEK")
            if (amount is None or not amount.is_finite() or amount < 0 or amount != amount.quantize(_CENT)
                    or items is None or type(category) is not str or currency != "SEK"):
                return self._skip()
            m = self._member(cid)
            local = when.astimezone(ZONE)
            today = local.date()
            fact = {"type": kind, "amount": amount, "category": category, "items": items, "local": local,
                    "weekday": _WEEKDAYS[local.weekday()], "date": today.year * 10000 + today.month * 100 + today.day,
                    "age": _age(m.birthdate, today), "city": m.city, "first": m.first}
        elif kind == "review":
            stars = _number(raw.get("stars"))
            if stars is None:
                return self._skip()
            m = self._member(cid)
            fact = {"type": kind, "stars": stars}
        elif kind == "signup" or kind == "referral":
            m = self._member(cid)
            fact = {"type": kind, "welcomed": m.welcomed}
        elif kind == "profile":
            city = raw.get("city", "")
            birth = raw.get("birthdate", "")
            try:
                birthdate = dt.date.fromisoformat(birth) if type(birth) is str and birth else None
            except ValueError:
                return self._skip()
            if (city != "" and city is not None and type(city) is not str) or (birth != "" and birth is not None
                                                                               and birthdate is None):
                return self._skip()
            m = self._member(cid)
            if city != "":
                m.city = city
            if birth != "":
                m.birthdate = birthdate
            fact = None
        elif kind == "redeem":
            cost = _REWARDS.get(raw.get("reward"))  # type: ignore[arg-type]
            if cost is None:
                return self._skip()
            m = self._member(cid)
            if m.balance < cost:
                return self._skip()
            m.balance -= cost
            fact = None
        elif kind == "adjust":
            points = _number(raw.get("points"))
            if points is None:
                return self._skip()
            m = self._member(cid)
            m.balance += points
            if points > 0:
                self._convert(m)
            fact = None
        else:  # refunds are not modelled (COVERAGE); unknown types are skipped
            return self._skip()
        self.seen.add(key)
        return m, fact

    def _skip(self) -> None:
        self.counts["skipped"] += 1
        return None

    def _member(self, cid: str) -> Member:
        m = self.members.get(cid)
        if m is None:
            m = self.members[cid] = Member()
        return m

    def summary(self) -> dict[str, Any]:
        """What the run did: per rule the firings and points, totals, and a digest of every
        member's balance and counters (equal for every peer, or a peer decided differently)."""
        h = hashlib.sha256()
        for cid in sorted(self.members):
            m = self.members[cid]
            h.update(f"{cid}\t{m.balance}\t{m.vouchers}\t{m.items}\t{m.messages}\t{m.books}\t{m.spent}\n".encode())
        return {"firings": {r: n for r, n in self.firings.items() if n}, "points": {r: n for r, n in self.points.items() if n},
                "members": len(self.members), "balance": sum(m.balance for m in self.members.values()),
                "vouchers": sum(m.vouchers for m in self.members.values()),
                "free_items": sum(m.items for m in self.members.values()), "counts": dict(self.counts),
                "digest": h.hexdigest()}


# ---------------------------------------------------------------------------- the peers

class Peer:
    """Which rules fire for an event's fact, and whether a balance converts."""

    name = "peer"
    package = ""  # the PyPI name
    module = ""  # the import name
    how = ""  # what the figure includes, beyond the shop

    def fire(self, fact: dict[str, Any]) -> Sequence[str]:
        raise NotImplementedError

    def converts(self, balance: int) -> bool:
        raise NotImplementedError


class NoRules(Peer):
    """No decisions: the shop's own cost (reading events, members), the floor of every peer."""

    name = "the shop alone (no rules)"
    how = "reading the events and keeping members; no rule looked at"

    def fire(self, fact: dict[str, Any]) -> Sequence[str]:
        return ()

    def converts(self, balance: int) -> bool:
        return False


class SubsetByHand(Peer):
    """The peers' subset of the programme in plain ``if`` statements (the reference they must equal)."""

    name = "hand-written, the peers' subset"
    how = "the same conditions as the peers, as plain if statements"

    def fire(self, fact: dict[str, Any]) -> Sequence[str]:
        kind = fact["type"]
        if kind == "purchase":
            fired = ["Base points", "Big spender"]
            category = fact["category"]
            if category == "books":
                fired.append("Punch card")
                age = fact["age"]
                if age is not None and 18 <= age <= 29:
                    fired.append("Student books")
            if not fact["first"]:
                fired.append("First purchase")
            if fact["amount"] >= 500 and fact["items"] >= 3:
                fired.append("Big basket")
            if fact["weekday"] == "Saturday":
                fired.append("Saturday double")
            if (category == "books" or category == "games") and 20261201 <= fact["date"] <= 20261224 \
                    and fact["city"] == "Stockholm":
                fired.append("Christmas")
            return fired
        if kind == "review":
            return ("Review bonus",) if fact["stars"] >= 1 else ()
        if kind == "signup":
            return ("Welcome mail",) if fact["welcomed"] else ("Welcome", "Welcome mail")
        if kind == "referral":
            return ("Referral",)
        return ()

    def converts(self, balance: int) -> bool:
        return balance >= 500


class RuleEnginePeer(Peer):
    """``rule-engine``: a string expression per rule, every rule tried on every event."""

    name = "rule-engine"
    package = "rule-engine"
    module = "rule_engine"
    how = "Rule.matches of each of 13 expressions on each event's fact dict"

    EXPRESSIONS = {
        "Welcome": 'type == "signup" and not welcomed',
        "Base points": 'type == "purchase"',
        "Punch card": 'type == "purchase" and category == "books"',
        "Student books": 'type == "purchase" and category == "books" and age != null and age >= 18 and age <= 29',
        "Review bonus": 'type == "review" and stars >= 1',
        "Referral": 'type == "referral"',
        "First purchase": 'type == "purchase" and not first',
        "Big basket": 'type == "purchase" and amount >= 500 and items >= 3',
        "Saturday double": 'type == "purchase" and local.weekday == "Saturday"',
        "Christmas": ('type == "purchase" and category in ["books", "games"] and local.date >= d"2026-12-01"'
                      ' and local.date <= d"2026-12-24" and city == "Stockholm"'),
        "Big spender": 'type == "purchase"',
        "Welcome mail": 'type == "signup"',
    }
    CONVERSION = "balance >= 500"

    def __init__(self) -> None:
        import rule_engine

        context = rule_engine.Context(default_value=None, default_timezone=ZONE)
        self.rules = [(name, rule_engine.Rule(text, context=context)) for name, text in self.EXPRESSIONS.items()]
        self.conversion = rule_engine.Rule(self.CONVERSION, context=context)

    def fire(self, fact: dict[str, Any]) -> Sequence[str]:
        return [name for name, rule in self.rules if rule.matches(fact)]

    def converts(self, balance: int) -> bool:
        return self.conversion.matches({"balance": balance})


def _all(*conditions: tuple[str, str, Any]) -> dict[str, Any]:
    return {"all": [{"name": n, "operator": o, "value": v} for n, o, v in conditions]}


def _is(kind: str) -> tuple[str, str, Any]:
    return ("type", "equal_to", kind)


class BusinessRulesPeer(Peer):
    """``business-rules``: JSON conditions and actions, ``run_all`` of every rule on every event."""

    name = "business-rules"
    package = "business-rules"
    module = "business_rules"
    how = "run_all of 13 JSON rules on each event (variables and actions as classes)"

    RULES: list[tuple[str, dict[str, Any]]] = [
        ("Welcome", _all(_is("signup"), ("welcomed", "is_false", None))),
        ("Base points", _all(_is("purchase"))),
        ("Punch card", _all(_is("purchase"), ("category", "equal_to", "books"))),
        ("Student books", _all(_is("purchase"), ("category", "equal_to", "books"), ("has_age", "is_true", None),
                               ("age", "greater_than_or_equal_to", 18), ("age", "less_than_or_equal_to", 29))),
        ("Review bonus", _all(_is("review"), ("stars", "greater_than_or_equal_to", 1))),
        ("Referral", _all(_is("referral"))),
        ("First purchase", _all(_is("purchase"), ("first_purchase_done", "is_false", None))),
        ("Big basket", _all(_is("purchase"), ("amount", "greater_than_or_equal_to", 500),
                            ("items", "greater_than_or_equal_to", 3))),
        ("Saturday double", _all(_is("purchase"), ("weekday", "equal_to", "Saturday"))),
        ("Christmas", {"all": [{"name": "type", "operator": "equal_to", "value": "purchase"},
                               {"any": [{"name": "category", "operator": "equal_to", "value": "books"},
                                        {"name": "category", "operator": "equal_to", "value": "games"}]},
                               {"name": "local_date", "operator": "greater_than_or_equal_to", "value": 20261201},
                               {"name": "local_date", "operator": "less_than_or_equal_to", "value": 20261224},
                               {"name": "city", "operator": "equal_to", "value": "Stockholm"}]}),
        ("Big spender", _all(_is("purchase"))),
        ("Welcome mail", _all(_is("signup"))),
    ]
    CONVERSION = [{"conditions": _all(("balance", "greater_than_or_equal_to", 500)),
                   "actions": [{"name": "fire", "params": {"rule": "Bonus check"}}]}]

    def __init__(self) -> None:
        from business_rules import run_all
        from business_rules.actions import BaseActions, rule_action
        from business_rules.fields import FIELD_TEXT
        from business_rules.variables import (BaseVariables, boolean_rule_variable, numeric_rule_variable,
                                              string_rule_variable)

        self.run_all = run_all
        # what a marketing UI would emit: the rules as JSON text, read back
        import json

        self.rules = json.loads(json.dumps([{"conditions": c, "actions": [{"name": "fire", "params": {"rule": name}}]}
                                            for name, c in self.RULES]))

        class EventVariables(BaseVariables):
            def __init__(self, fact: dict[str, Any]) -> None:
                self.fact = fact

            @string_rule_variable()
            def type(self) -> str:
                return self.fact["type"]

            @numeric_rule_variable()
            def amount(self) -> Decimal:
                return self.fact["amount"]

            @numeric_rule_variable()
            def items(self) -> int:
                return self.fact["items"]

            @string_rule_variable()
            def category(self) -> str:
                return self.fact["category"]

            @numeric_rule_variable()
            def stars(self) -> int:
                return self.fact["stars"]

            @string_rule_variable()
            def weekday(self) -> str:
                return self.fact["weekday"]

            @numeric_rule_variable()
            def local_date(self) -> int:
                return self.fact["date"]

            @boolean_rule_variable()
            def has_age(self) -> bool:
                return self.fact["age"] is not None

            @numeric_rule_variable()
            def age(self) -> int:
                return self.fact["age"]

            @string_rule_variable()
            def city(self) -> str | None:
                return self.fact["city"]

            @boolean_rule_variable()
            def welcomed(self) -> bool:
                return self.fact["welcomed"]

            @boolean_rule_variable()
            def first_purchase_done(self) -> bool:
                return self.fact["first"]

        class BalanceVariables(BaseVariables):
            def __init__(self, balance: int) -> None:
                self.value = balance

            @numeric_rule_variable()
            def balance(self) -> int:
                return self.value

        class Fired(BaseActions):
            def __init__(self) -> None:
                self.rules: list[str] = []

            @rule_action(params={"rule": FIELD_TEXT})
            def fire(self, rule: str) -> None:
                self.rules.append(rule)

        self.EventVariables = EventVariables
        self.BalanceVariables = BalanceVariables
        self.Fired = Fired

    def fire(self, fact: dict[str, Any]) -> Sequence[str]:
        fired = self.Fired()
        self.run_all(self.rules, self.EventVariables(fact), fired)
        return fired.rules

    def converts(self, balance: int) -> bool:
        fired = self.Fired()
        return self.run_all(self.CONVERSION, self.BalanceVariables(balance), fired)


_DURABLE: dict[str, Any] = {}  # durable_rules' rulesets are process-wide: defined once


class DurableRulesPeer(Peer):
    """``durable_rules``: a ``@when_all`` per rule in a C Rete engine; each event asserted as a
    fact (JSON: money as whole öre, its numbers being C doubles) and retracted after."""

    name = "durable_rules"
    package = "durable_rules"
    module = "durable"
    how = "assert_fact + retract_fact of each event (JSON into the C engine), a Python callback per firing"

    EVENTS = "rewardlang_bench_bookshop"
    BALANCE = "rewardlang_bench_balance"

    def __init__(self) -> None:
        from durable import engine
        from durable.lang import assert_fact, m, retract_fact, ruleset, when_all

        self.assert_fact = assert_fact
        self.retract_fact = retract_fact
        self.not_handled = (engine.MessageNotHandledException, engine.MessageObservedException)
        if not _DURABLE:
            fired: list[str] = []
            _DURABLE["fired"] = fired

            def rule(name: str, condition: Any) -> None:
                def action(c: Any) -> None:
                    fired.append(name)
                action.__name__ = "r_" + "".join(ch if ch.isalnum() else "_" for ch in name.lower())
                when_all(condition)(action)

            purchase = m.type == "purchase"
            with ruleset(self.EVENTS):
                rule("Welcome", (m.type == "signup") & (m.welcomed == False))  # noqa: E712 (durable's DSL)
                rule("Base points", purchase)
                rule("Punch card", purchase & (m.category == "books"))
                rule("Student books", purchase & (m.category == "books") & (m.age >= 18) & (m.age <= 29))
                rule("Review bonus", (m.type == "review") & (m.stars >= 1))
                rule("Referral", m.type == "referral")
                rule("First purchase", purchase & (m.first == False))  # noqa: E712
                rule("Big basket", purchase & (m.amount >= 50000) & (m.items >= 3))
                rule("Saturday double", purchase & (m.weekday == "Saturday"))
                rule("Christmas", purchase & ((m.category == "books") | (m.category == "games"))
                     & (m.date >= 20261201) & (m.date <= 20261224) & (m.city == "Stockholm"))
                rule("Big spender", purchase)
                rule("Welcome mail", m.type == "signup")
            with ruleset(self.BALANCE):
                rule("Bonus check", m.balance >= 500)
        self.fired = _DURABLE["fired"]

    def _assert(self, ruleset: str, fact: dict[str, Any]) -> list[str]:
        fired = self.fired
        fired.clear()
        try:
            self.assert_fact(ruleset, fact)
        except self.not_handled:
            return []
        self.retract_fact(ruleset, fact)
        return list(fired)

    def fire(self, fact: dict[str, Any]) -> Sequence[str]:
        kind = fact["type"]
        if kind == "purchase":
            json_fact: dict[str, Any] = {
                "type": kind, "amount": int(fact["amount"] * 100), "category": fact["category"], "items": fact["items"],
                "weekday": fact["weekday"], "date": fact["date"], "first": fact["first"]}
            if fact["age"] is not None:
                json_fact["age"] = fact["age"]
            if fact["city"] is not None:
                json_fact["city"] = fact["city"]
        else:
            json_fact = dict(fact)
        return self._assert(self.EVENTS, json_fact)

    def converts(self, balance: int) -> bool:
        return bool(self._assert(self.BALANCE, {"balance": balance}))


PEERS: tuple[type[Peer], ...] = (RuleEnginePeer, BusinessRulesPeer, DurableRulesPeer)


def load(peer: type[Peer]) -> tuple[Peer | None, str | None]:
    """An instance of ``peer``, or None and why not (not installed, does not import or build here)."""
    try:
        importlib.import_module(peer.module)
    except Exception as exc:  # noqa: BLE001 — any failure to import is the answer
        return None, f"{type(exc).__name__}: {exc}"
    try:
        return peer(), None
    except Exception as exc:  # noqa: BLE001
        return None, f"{type(exc).__name__}: {exc}"


def version(peer: type[Peer]) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(peer.package)
    except metadata.PackageNotFoundError:
        return None
