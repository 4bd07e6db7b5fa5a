"""Hypothesis strategies for event streams over a given programme (LANGUAGE.md §3).

``event_streams(program)`` draws a list of raw input events (JSON-like dicts, as a shop would
send them, plus a sprinkling of things that are not valid events) made to exercise the
evaluator: a small pool of customers, so that customers have histories; times over about two
years, clustered around a few anchors, with exact ties (same instant, other ids; the same id
twice) and the same instant spelt with other offsets; ids unique per customer, but with
deliberate repeats, identical and conflicting; every declared event with typed values, whose
texts, numbers and money come from the ruleset's own literals (so that ``where`` conditions
hold often) and from their neighbours; profiles (29 February birthdays included), refunds of
earlier events of the same customer (whole, partial, too much, late, of unknown ids, of things
that cannot be refunded), redemptions (of catalogue names and of others), adjustments (positive
and negative) and invalid dicts.

Everything a programme offers is read from it (``program.events``, ``program.customer_fields``,
the catalogue and the literals of its conditions), so the strategies work for any programme,
the real ones in ``rulesets/`` and the small random ones of ``random_rulesets()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

import rewardlang
from rewardlang import ast, localtime
from rewardlang.program import Program

UTC = dt.timezone.utc
START = dt.datetime(2026, 1, 1, tzinfo=UTC)
END = dt.datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC)
SPAN_SECONDS = int((END - START).total_seconds())

# "c10" sorts before "c2" by code point; "7" may also be sent as the integer 7
CUSTOMER_POOL = ("c1", "c2", "c10", "7", "Åsa")

# instants that calendar code gets wrong: DST changes in Europe, local and UTC midnights, a
# Saturday, New Year, the end of February in a leap year, the edges of the ruleset windows
_INTERESTING = tuple(
    dt.datetime.fromisoformat(text).astimezone(UTC)
    for text in (
        "2026-01-01T00:00:00+01:00",
        "2026-01-31T23:30:00+01:00",
        "2026-02-28T23:59:59+01:00",
        "2026-03-29T01:00:00+00:00",  # Europe/Stockholm springs forward
        "2026-03-29T00:59:59+00:00",
        "2026-05-09T12:00:00+02:00",  # a Saturday (and the store opening)
        "2026-10-25T00:30:00+00:00",  # the repeated hour of the autumn fold
        "2026-10-25T01:30:00+00:00",
        "2026-11-23T00:00:00+01:00",
        "2026-11-30T23:59:59+01:00",
        "2026-12-24T23:00:00+00:00",
        "2026-12-31T23:00:00+00:00",
        "2027-02-28T23:00:00+00:00",
        "2027-03-28T01:00:00+00:00",
        "2027-06-30T22:00:00+00:00",
        "2027-12-31T12:00:00+00:00",
    )
)

_OFFSETS = (0, 0, 0, 0, 1, 59, 3600, 7200, 6 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400,
            30 * 86400, 31 * 86400, 61 * 86400, 91 * 86400, 183 * 86400, 366 * 86400)

_TEXT_EXTRAS = ("other", "Books", "", "Café", "Cafe\u0301")  # the last two: NFC equal, not equal JSON
_DATES = ("2000-02-29", "1996-02-29", "2008-03-01", "2004-06-15", "1990-05-17", "1985-12-31",
          "2010-01-01", "2019-12-31", "2020-01-01", "2026-03-29", "2027-01-01")


# ---------------------------------------------------------------------------- what a programme offers


class Catalogue:
    """What the strategies read from one programme. The strategies take a ``Catalogue`` or a
    ``Program``; a catalogue's repr is short, which keeps hypothesis's reports readable (it is
    a plain class on purpose: hypothesis prints attrs classes field by field)."""

    def __init__(self, *, program: Program, events: tuple[tuple[str, tuple[Any, ...]], ...],
                 customer_fields: tuple[Any, ...], texts: dict[str, tuple[str, ...]],
                 numbers: dict[str, tuple[Decimal, ...]], moneys: tuple[Decimal, ...], rewards: tuple[str, ...],
                 anchors: tuple[dt.datetime, ...], amount_events: tuple[str, ...], currency: str | None,
                 durations: tuple[tuple[int, str], ...]) -> None:
        self.program = program
        self.events = events  # declared: (name, fields)
        self.customer_fields = customer_fields
        self.texts = texts  # field name -> text literals compared with it
        self.numbers = numbers  # field name -> number literals
        self.moneys = moneys  # every money literal of the ruleset
        self.rewards = rewards
        self.anchors = anchors  # instants near the ruleset's own date windows
        self.amount_events = amount_events  # declared events with an `amount money` field
        self.currency = currency
        self.durations = durations  # every duration of the ruleset, the refund window's too
        self.zone = localtime.zone(program.timezone)

    def __repr__(self) -> str:
        return f"catalogue({self.program.filename!r})"


def _walk(node: object) -> Iterator[object]:
    if isinstance(node, (tuple, list)):
        for item in node:
            yield from _walk(item)
    elif attrs.has(type(node)) and not isinstance(node, ast.Span):
        yield node
        for f in attrs.fields(type(node)):
            yield from _walk(getattr(node, f.name))


def _field_name(operand: object) -> str | None:
    if isinstance(operand, (ast.FieldRef, ast.CustomerFieldRef)):
        return operand.name.text
    return None


_CATALOGUES: dict[int, tuple[Program, Catalogue]] = {}


def catalogue(program: Program | Catalogue) -> Catalogue:
    """What the strategies read from ``program`` (cached by identity: programmes are not hashable)."""
    if isinstance(program, Catalogue):
        return program
    entry = _CATALOGUES.get(id(program))
    if entry is None or entry[0] is not program:
        if len(_CATALOGUES) > 256:
            _CATALOGUES.clear()
        entry = _CATALOGUES[id(program)] = (program, _catalogue(program))
    return entry[1]


def _catalogue(program: Program) -> Catalogue:
    texts: dict[str, set[str]] = {}
    numbers: dict[str, set[Decimal]] = {}
    moneys: set[Decimal] = set()
    anchors: set[dt.datetime] = set()
    window = program.refund_window
    durations: set[tuple[int, str]] = {(int(window.count), window.unit)}
    for node in _walk(program.ruleset.statements):
        if isinstance(node, ast.Duration) and node.count == node.count.to_integral_value() and 0 < node.count < 100:
            durations.add((int(node.count), node.unit))
        if isinstance(node, ast.Money):
            moneys.add(node.amount)
        if isinstance(node, ast.DateWindow):
            for day in (node.start.date, node.end.date):
                local = dt.datetime.combine(day, dt.time(12, 0), tzinfo=UTC)
                anchors.update({local - dt.timedelta(hours=13), local, local + dt.timedelta(hours=11, minutes=30)})
        values: tuple[object, ...] = ()
        name = None
        if isinstance(node, ast.Compare):
            name, values = _field_name(node.left), (node.right,)
        elif isinstance(node, ast.InList):
            name, values = _field_name(node.left), node.values
        elif isinstance(node, ast.Contains):
            name, values = _field_name(node.left), (node.value,)
        elif isinstance(node, ast.Between):
            name, values = _field_name(node.left), (node.low, node.high)
        if name is None:
            continue
        for value in values:
            if isinstance(value, ast.Text):
                texts.setdefault(name, set()).add(value.value)
            elif isinstance(value, ast.Number):
                numbers.setdefault(name, set()).add(value.value)
            elif isinstance(value, ast.Money):
                numbers.setdefault(name, set()).add(value.amount)
    events = tuple((name, tuple(fields)) for name, fields in program.events.items())
    return Catalogue(
        program=program,
        events=events,
        customer_fields=tuple(program.customer_fields.values()),
        texts={k: tuple(sorted(v)) for k, v in texts.items()},
        numbers={k: tuple(sorted(v)) for k, v in numbers.items()},
        moneys=tuple(sorted(moneys)),
        rewards=tuple(program.rewards),
        anchors=tuple(sorted(anchors)),
        amount_events=tuple(n for n, fs in events if any(f.name == "amount" and f.type == "money" for f in fs)),
        currency=program.currency,
        durations=tuple(sorted(durations)),
    )


# ---------------------------------------------------------------------------- times
#
# Drawing is the slow part of these tests, so the strategies below are built once (per module or
# per programme) and an event takes few draws.

_POOL_ANCHOR = st.sampled_from(_INTERESTING)
_ANY_SECOND = st.integers(0, SPAN_SECONDS)
_OFFSET = st.one_of(st.sampled_from(_OFFSETS), st.sampled_from(_OFFSETS), st.integers(0, 400 * 86400))
_FRACTION = st.sampled_from([0] * 12 + [250000, 500000, 1, 999999])
_SPELLING = st.sampled_from([(0, "Z"), (0, "Z"), (0, "+00:00"), (60, ""), (120, ""), (-300, ""), (330, ""),
                             (-90, "")])


@st.composite
def anchors(draw: st.DrawFn, cat: Catalogue | None = None) -> dt.datetime:
    pool = _POOL_ANCHOR if cat is None or not cat.anchors else _strategies(cat).anchor
    if draw(st.integers(0, 2)) == 0:
        return draw(pool)
    return START + dt.timedelta(seconds=draw(_ANY_SECOND))


_CALENDAR = st.sampled_from([False] * 3 + [True])
_EDGE = st.sampled_from([0, 0, -1, 1])  # seconds


def draw_near(draw: st.DrawFn, anchor: dt.datetime, cat: Catalogue | None = None) -> dt.datetime:
    """An instant at or after ``anchor``: often exactly it, often close, sometimes far; and, for a
    programme, often exactly one of its durations later in its calendar (or a second either
    side): where a release, an expiry, a reminder, a refund window, a tier window, `kept for` or
    `inactive for` falls due, so that events tie with scheduled items."""
    if cat is not None and cat.durations and draw(_CALENDAR):
        count, unit = draw(_strategies(cat).duration)
        due = localtime.add(anchor, count, unit, cat.zone)
        if draw(st.booleans()):
            due = localtime.window_exit(anchor, count, unit, cat.zone)
        return due + dt.timedelta(seconds=draw(_EDGE))
    return anchor + dt.timedelta(seconds=draw(_OFFSET), microseconds=draw(_FRACTION))


@st.composite
def near(draw: st.DrawFn, anchor: dt.datetime) -> dt.datetime:
    return draw_near(draw, anchor)


def spell(instant: dt.datetime, spelling: tuple[int, str]) -> str:
    offset, suffix = spelling
    text = instant.astimezone(dt.timezone(dt.timedelta(minutes=offset))).isoformat()
    return text[:-6] + "Z" if suffix == "Z" else text


def draw_time_text(draw: st.DrawFn, instant: dt.datetime) -> str:
    """One spelling of an instant: ``Z``, ``+00:00``, or another offset (the same instant)."""
    return spell(instant, draw(_SPELLING))


@st.composite
def time_texts(draw: st.DrawFn, instant: dt.datetime) -> str:
    return draw_time_text(draw, instant)


def instant_of(raw: object) -> dt.datetime | None:
    """The instant a raw line's ``time`` names, if it names one."""
    return localtime.parse_instant(raw.get("time")) if isinstance(raw, dict) else None


# ---------------------------------------------------------------------------- values


def money_text(value: Decimal) -> str:
    return f"{value:.2f}"


_CENT = Decimal("0.01")


def _money_spellings(value: Decimal) -> list[object]:
    """How the input may carry one amount: "123.45" mostly, sometimes "123" or 123."""
    out: list[object] = [money_text(value)] * 4
    if value == value.to_integral_value():
        out += [int(value), str(int(value))]
    return out


def _money_strategy(cat: Catalogue, field: str) -> st.SearchStrategy[object]:
    literals = sorted(set(cat.numbers.get(field, ())) | set(cat.moneys))
    near_literals = sorted({max(v + d, Decimal(0)) for v in literals for d in (-_CENT, Decimal(0), _CENT)})
    spelt = [x for v in near_literals for x in _money_spellings(v)]
    small = [x for v in (0, 1, 5, 9, 10, 11, 99, 100) for x in _money_spellings(Decimal(v))]
    parts = [st.sampled_from(small), st.integers(0, 400_000).map(lambda c: money_text(Decimal(c).scaleb(-2)))] * 2
    if spelt:
        parts.append(st.sampled_from(spelt))
    return st.one_of(parts)


def _number_strategy(cat: Catalogue, field: str) -> st.SearchStrategy[object]:
    values = {Decimal(v) for v in range(13)}
    for v in cat.numbers.get(field, ()):
        values.update({v - 1, v, v + 1})
    ints = sorted(int(v) for v in values if v == v.to_integral_value())
    odd = ["0.5", "2.5", "-1", "100"] + [str(v) for v in ints[:3]]
    return st.one_of(st.sampled_from(ints), st.sampled_from(ints), st.sampled_from(ints), st.sampled_from(odd))


def text_json(cat: Catalogue, field: str) -> st.SearchStrategy[str]:
    literals = cat.texts.get(field, ())
    if literals:
        return st.one_of(st.sampled_from(literals), st.sampled_from(literals), st.sampled_from(_TEXT_EXTRAS))
    return st.sampled_from(("Ann", "shop", "Stockholm", "other") + _TEXT_EXTRAS[3:])


def list_json(cat: Catalogue, field: str) -> st.SearchStrategy[list[str]]:
    literals = cat.texts.get(field, ()) + ("sale", "other")
    return st.lists(st.sampled_from(literals), max_size=3)


bool_json = st.sampled_from([True, False, True, False, "true", "FALSE"])
date_json = st.sampled_from(_DATES)


def value_of(cat: Catalogue, field: Any) -> st.SearchStrategy[object]:
    """The values of one declared field (of an event, or of the customer), built once."""
    return _strategies(cat).value(field)


@attrs.define
class _Strategies:
    """The strategies of one programme, built on first use."""

    cat: Catalogue
    values: dict[tuple[str, str], st.SearchStrategy[object]] = attrs.Factory(dict)
    bodies: dict[str, st.SearchStrategy[dict[str, object]]] = attrs.Factory(dict)
    anchor: st.SearchStrategy[dt.datetime] = st.nothing()
    declared_type: st.SearchStrategy[str] = st.nothing()
    duration: st.SearchStrategy[tuple[int, str]] = st.nothing()

    def value(self, field: Any) -> st.SearchStrategy[object]:
        key = (field.name, field.type)
        found = self.values.get(key)
        if found is None:
            cat, kind = self.cat, field.type
            if kind == "money":
                found = _money_strategy(cat, field.name)
            elif kind == "number":
                found = _number_strategy(cat, field.name)
            elif kind == "text":
                found = text_json(cat, field.name)
            elif kind == "date":
                found = date_json
            elif kind == "bool":
                found = bool_json
            elif kind == "list of text":
                found = list_json(cat, field.name)
            else:
                raise AssertionError(kind)
            self.values[key] = found
        return found

    def profile(self) -> st.SearchStrategy[dict[str, object]]:
        """The keys of a ``profile`` event: each customer field absent, null or set; an ``age``
        now and then (derived, so ignored)."""
        found = self.bodies.get(" profile")
        if found is None:
            fields = self.cat.customer_fields
            optional: dict[str, st.SearchStrategy[object]] = {
                f.name: st.one_of(st.none(), self.value(f), self.value(f), self.value(f)) for f in fields}
            optional["age"] = st.just(99)
            found = self.bodies[" profile"] = st.fixed_dictionaries({}, optional=optional)
        return found

    def body(self, type_: str) -> st.SearchStrategy[dict[str, object]]:
        """The declared fields of an event of ``type_``: optional ones absent, null or set."""
        found = self.bodies.get(type_)
        if found is None:
            fields = dict(self.cat.events)[type_]
            required = {f.name: self.value(f) for f in fields if not f.optional}
            optional = {f.name: st.one_of(st.none(), self.value(f), self.value(f)) for f in fields if f.optional}
            found = self.bodies[type_] = st.fixed_dictionaries(required, optional=optional)
        return found


_STRATEGIES: dict[int, _Strategies] = {}


def _strategies(cat: Catalogue) -> _Strategies:
    found = _STRATEGIES.get(id(cat))
    if found is None or found.cat is not cat:
        weighted = [n for n, _ in cat.events] + list(cat.amount_events) * 2
        found = _STRATEGIES[id(cat)] = _Strategies(
            cat, anchor=st.sampled_from(_INTERESTING + cat.anchors),
            declared_type=st.sampled_from(weighted) if weighted else st.nothing(),
            duration=st.sampled_from(cat.durations) if cat.durations else st.nothing())
    return found


# ---------------------------------------------------------------------------- events


@attrs.define
class _Builder:
    """The stream being drawn: what has been generated so far, so that later events can refer
    to earlier ones (refunds of a customer's purchases, repeats of an event)."""

    cat: Catalogue
    customers: tuple[str, ...]
    events: list[dict[str, Any]] = attrs.Factory(list)
    next_id: dict[str, int] = attrs.Factory(dict)
    refundable: list[tuple[str, str, dt.datetime, Decimal | None]] = attrs.Factory(list)

    def new_id(self, customer: str) -> str:
        n = self.next_id.get(customer, 0) + 1
        self.next_id[customer] = n
        return f"e{n}"


# (integer id, integer customer, with a currency, with an undeclared key): mostly none of them
_FLAGS = st.sampled_from([(False, False, False, False)] * 8 + [
    (True, False, False, False), (False, True, False, False), (False, False, True, False),
    (False, False, True, True), (False, False, False, True), (True, True, True, True)])


def _base(draw: st.DrawFn, b: _Builder, type_: str, customer: str, instant: dt.datetime) -> dict[str, Any]:
    event_id: object = b.new_id(customer)
    int_id, int_customer, currency, note = draw(_FLAGS)
    if int_id:
        event_id = int(event_id[1:]) + 1000  # type: ignore[index]
    raw: dict[str, Any] = {"id": event_id, "type": type_,
                           "customer": int(customer) if int_customer and customer.isdigit() else customer,
                           "time": draw_time_text(draw, instant)}
    if currency and b.cat.currency:
        raw["currency"] = b.cat.currency if note else b.cat.currency.lower()
    if note:
        raw["note"] = "an undeclared key is ignored"
    return raw


def _amount_of(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    except ArithmeticError:
        return None


def _declared(draw: st.DrawFn, b: _Builder, customer: str, instant: dt.datetime,
              type_: str | None = None) -> dict[str, Any]:
    strategies = _strategies(b.cat)
    if type_ is None:
        # events with an amount come up more often: they are what most rules are about
        type_ = draw(strategies.declared_type)
    raw = _base(draw, b, type_, customer, instant)
    raw.update(draw(strategies.body(type_)))
    b.refundable.append((customer, str(raw["id"]), instant, _amount_of(raw.get("amount"))))
    return raw


def _profile(draw: st.DrawFn, b: _Builder, customer: str, instant: dt.datetime) -> dict[str, Any]:
    raw = _base(draw, b, "profile", customer, instant)
    raw.update(draw(_strategies(b.cat).profile()))
    return raw


_REFUND_DELAY = st.sampled_from([0, 1, 3600, 86400, 13 * 86400, 15 * 86400, 29 * 86400, 31 * 86400, 59 * 86400,
                                 61 * 86400, 89 * 86400, 91 * 86400, 366 * 86400])


def _refund(draw: st.DrawFn, b: _Builder, customer: str, instant: dt.datetime) -> dict[str, Any]:
    own = [r for r in b.refundable if r[0] == customer]
    choice = draw(st.integers(0, 9))
    if own and choice < 8:
        _, target, when, amount = draw(st.sampled_from(own))
        if draw(_CALENDAR):  # at the end of the refund window, or a second either side
            window = b.cat.program.refund_window
            instant = localtime.add(when, int(window.count), window.unit, b.cat.zone)
            instant += dt.timedelta(seconds=draw(_EDGE))
        else:
            instant = when + dt.timedelta(seconds=draw(_REFUND_DELAY))
        raw = _base(draw, b, "refund", customer, instant)
        raw["refunds"] = target
        how = draw(st.integers(0, 5))
        if amount is not None and how == 1:
            raw["amount"] = money_text(amount)  # all of it, said explicitly
        elif amount is not None and how in (2, 3):  # a part
            part = (amount * draw(st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal("0.999")]))
                    ).quantize(Decimal("0.01"))
            raw["amount"] = money_text(part)
        elif how == 4:  # too much, or an amount on an event without one
            raw["amount"] = money_text((amount or Decimal(0)) + Decimal("0.01"))
        return raw
    raw = _base(draw, b, "refund", customer, instant)
    if choice == 8 and b.events:
        # an event of this customer that may not be refundable: a built-in one, or another
        # customer's id
        others = [e for e in b.events if isinstance(e, dict) and "id" in e]
        raw["refunds"] = str(draw(st.sampled_from(others))["id"]) if others else "e1"
    else:
        raw["refunds"] = draw(st.sampled_from(["nope", "e999", "e1"]))
    return raw


def _redeem(draw: st.DrawFn, b: _Builder, customer: str, instant: dt.datetime) -> dict[str, Any]:
    raw = _base(draw, b, "redeem", customer, instant)
    names = list(b.cat.rewards) * 3 + ["No such reward"]
    raw["reward"] = draw(st.sampled_from(names))
    return raw


def _adjust(draw: st.DrawFn, b: _Builder, customer: str, instant: dt.datetime) -> dict[str, Any]:
    raw = _base(draw, b, "adjust", customer, instant)
    points = draw(st.one_of(
        st.sampled_from([-1000, -250, -1, 1, 99, 100, 150, 300, 500, 499, 1000, 2500, 5000]),
        st.integers(-600, 3000),
    ))
    raw["points"] = str(points) if draw(st.integers(0, 5)) == 0 else points
    if draw(st.booleans()):
        raw["reason"] = draw(st.sampled_from(["opening balance", "goodwill", "correction"]))
    return raw


_BAD_VALUES = ("49,90", "-5.00", "1e3", "NaN", " 5", "", [], {"x": 1}, True, 12.5)


def _invalid(draw: st.DrawFn, b: _Builder, customer: str, instant: dt.datetime) -> object:
    """Something that is not a valid event. Mostly a dict with a customer and a time (a
    rejection that still advances the customer's clock), sometimes not even that."""
    raw = _declared(draw, b, customer, instant)
    b.refundable.pop()  # it will not be applied: not a refund target
    how = draw(st.integers(0, 11))
    if how == 0:
        del raw[draw(st.sampled_from(["id", "type", "customer", "time"]))]
    elif how == 1:
        raw["time"] = instant.replace(tzinfo=None).isoformat()  # no offset
    elif how == 2:
        raw["time"] = draw(st.sampled_from(["2026-02-30T10:00:00Z", "yesterday", "1899-12-31T23:00:00Z",
                                            "2026-03-01 10:00:00Z", 20260301]))
    elif how == 3:
        raw["type"] = draw(st.sampled_from(["Purchase", "nope", "", 7, "refunds"]))
    elif how == 4:
        raw["currency"] = "EUR" if b.cat.currency != "EUR" else "SEK"
    elif how == 5:
        raw["id"] = draw(st.sampled_from(["", "  ", 1.5, True, None]))
    elif how == 6:
        raw["customer"] = draw(st.sampled_from(["", 2.0, False, ["c1"]]))
    else:
        fields = [k for k in raw if k not in ("id", "type", "customer", "time", "currency", "note")]
        if fields:
            key = draw(st.sampled_from(fields))
            if draw(st.integers(0, 3)) == 0:
                del raw[key]
            else:
                raw[key] = draw(st.sampled_from(_BAD_VALUES))
        else:
            return draw(st.sampled_from([None, "an event", 17, ["id", "e1"], {"id": "e1"}]))
    return raw


def _repeat(draw: st.DrawFn, b: _Builder) -> object:
    """The same id again: an identical copy, or one with other content (another amount,
    another time, the same instant spelt with another offset, a key added)."""
    dicts = [e for e in b.events if isinstance(e, dict) and "id" in e and "customer" in e]
    if not dicts:
        return None
    original = draw(st.sampled_from(dicts))
    copy = dict(original)
    how = draw(st.integers(0, 5))
    if how <= 2:
        return copy  # identical: key order may differ, the content is the same
    if how == 3:
        instant = instant_of(copy)
        if instant is not None:
            copy["time"] = draw_time_text(draw, instant)  # maybe the same spelling, maybe not
        return copy
    if how == 4:
        instant = instant_of(copy)
        if instant is not None:
            later = instant + dt.timedelta(seconds=draw(st.sampled_from([1, 86400, 40 * 86400])))
            copy["time"] = draw_time_text(draw, later)
        return copy
    for key in ("amount", "points", "reward", "refunds"):
        if key in copy:
            copy[key] = {"amount": "1.00", "points": 1, "reward": "No such reward", "refunds": "nope"}[key]
            return copy
    copy["note"] = "other content"
    return copy


_KINDS = ("declared",) * 10 + ("profile",) * 3 + ("refund",) * 4 + ("redeem",) * 2 + ("adjust",) * 2 + (
    "invalid", "repeat", "repeat")


@st.composite
def event_streams(draw: st.DrawFn, program: Program | Catalogue, *, max_size: int = 30, min_size: int = 0,
                  invalid: bool = True, repeats: bool = True, customers: tuple[str, ...] | None = None,
                  kinds: tuple[str, ...] | None = None) -> list[object]:
    """A list of raw input events over ``program`` (see the module's docstring)."""
    cat = catalogue(program)
    pool = customers or tuple(draw(st.lists(st.sampled_from(CUSTOMER_POOL), min_size=1, max_size=3, unique=True)))
    b = _Builder(cat, pool)
    points = draw(st.lists(anchors(cat), min_size=1, max_size=4))
    allowed = kinds or tuple(k for k in _KINDS if (invalid or k != "invalid") and (repeats or k != "repeat"))
    if not cat.events:
        allowed = tuple(k for k in allowed if k != "declared") or ("adjust",)
    n = draw(st.integers(min_size, max_size))
    choices = st.sampled_from([(kind, customer, anchor) for kind in allowed for customer in pool
                               for anchor in points])
    for _ in range(n):
        kind, customer, anchor = draw(choices)
        instant = draw_near(draw, anchor, cat)
        raw: object
        if kind == "declared":
            raw = _declared(draw, b, customer, instant)
        elif kind == "profile":
            raw = _profile(draw, b, customer, instant)
        elif kind == "refund":
            raw = _refund(draw, b, customer, instant)
        elif kind == "redeem":
            raw = _redeem(draw, b, customer, instant)
        elif kind == "adjust":
            raw = _adjust(draw, b, customer, instant)
        elif kind == "invalid":
            raw = _invalid(draw, b, customer, instant)
        else:
            raw = _repeat(draw, b)
            if raw is None:
                continue
        b.events.append(raw)  # type: ignore[arg-type]
    return b.events


# ---------------------------------------------------------------------------- anything at all

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(10**40), 10**40),
    st.floats(allow_nan=True, allow_infinity=True), st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["2026-03-01T10:15:00+01:00", "2026-03-01", "249.00", "49,90", "NaN",
                                           "purchase", "refund", "profile", "\ud800"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def arbitrary_inputs(draw: st.DrawFn, program: Program | Catalogue) -> object:
    """Any JSON-like value, or a dict with the event keys holding anything, or an event of the
    programme with one value replaced by anything."""
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return draw(json_values)
    if choice == 1:
        types = [name for name, _ in catalogue(program).events] + ["profile", "refund", "redeem", "adjust"]
        keys = {
            "id": st.one_of(st.sampled_from(["e1", "e2", 1]), json_values),
            "type": st.one_of(st.sampled_from(types), json_values),
            "customer": st.one_of(st.sampled_from(["c1", "c2", 7]), json_values),
            "time": st.one_of(st.builds(lambda s: (START + dt.timedelta(seconds=s)).isoformat(),
                                        st.integers(0, SPAN_SECONDS)), json_values),
        }
        raw = draw(st.fixed_dictionaries({}, optional=keys))
        extra = draw(st.dictionaries(st.sampled_from(
            ["amount", "refunds", "reward", "points", "reason", "currency", "birthdate", "category", "items",
             "goods", "extras", "tags", "online", "x"]), json_values, max_size=4))
        raw.update(extra)
        return raw
    stream = draw(event_streams(program, min_size=1, max_size=3, invalid=False))
    raw = stream[-1] if stream else draw(json_values)
    if isinstance(raw, dict) and raw:
        key = draw(st.sampled_from(sorted(raw, key=str)))
        raw = dict(raw)
        raw[key] = draw(json_values)
    return raw


# ---------------------------------------------------------------------------- small random rulesets

_HEADER = """\
currency SEK
timezone "{zone}"
{settings}
customer has city text, birthdate date, vip bool optional
event purchase with amount money, category text, items number
event review with stars number
event signup

segment stockholm = customer.city is "Stockholm"
segment young = customer.age between 18 and 29
segment vip = customer.vip = true
{tiers}
reward "Mug" costs 100 points
reward "Bag" costs 400 points
voucher "50 off" worth 50 SEK
free "book" worth 100 SEK
"""

_SETTINGS = (
    "points expire after 3 months", "points expire after 2 months without activity",
    "points pending for 14 days", "points pending for 1 month", "refunds accepted within 30 days",
    "rounding nearest", "rounding up", "rounding down",
)
_TIERS = (
    "tier silver = spend in last 6 months >= 1000 SEK\n"
    "tier gold = spend in last 3 months >= 3000 SEK, kept for 2 months",
    "tier silver = count of purchases in last 1 month >= 3\ntier gold = count of purchases in last 14 days >= 5",
    "tier gold = spend in total >= 2000 SEK or balance >= 800",
    'tier gold = customer.city is "Göteborg"',
)
_RULES = (
    'rule "Base": purchase earns 1 point per 10 SEK',
    'rule "Double": purchase earns 2 points per 10 SEK, for gold, instead of "Base"',
    'rule "Books": purchase where category is "books" earns 20 points, at most 2 per month',
    'rule "Big": purchase where amount >= 500 SEK and items >= 3 earns 50 points',
    'rule "First": first purchase earns 200 points',
    'rule "Punch": 3 purchases where category in ["books", "games"] gives 1 free "book"',
    'rule "Stamps": every 5 items of purchases gives 1 free',
    'rule "Spender": every 1000 SEK spent gives 1 voucher "50 off"',
    'rule "Saturday": purchase earns 1 point per 10 SEK, on saturday, at most 100 points per week',
    'rule "Evening": purchase earns 15 points, between 22:00 and 02:00',
    'rule "Window": purchase earns 3 points per 10 SEK, from 2026-03-01 to 2026-04-30, for stockholm',
    'rule "Review": review where stars >= 3 earns 30 points, at most 3 per month',
    'rule "Welcome": signup earns 100 points, once',
    'rule "Welcome mail": signup gives message "welcome"',
    'rule "Birthday": birthday earns 150 points',
    'rule "Young birthday": birthday gives voucher "50 off", for young',
    'rule "Tier mail": tier change gives message "tier"',
    'rule "Gold bonus": tier change to gold earns 75 points',
    'rule "Away": inactive for 2 months gives message "miss-you"',
    'rule "Convert": 300 points converts to voucher "50 off"',
    'rule "Refund mail": refund gives message "refunded"',
    'rule "Rich": purchase where balance >= 500 gives message "rich", at most 1 per week',
    'rule "Recent": purchase where count of purchases in last 7 days >= 2 earns 10 points',
    'rule "Loyal": purchase where spend in last 1 month >= 800 SEK earns 1 point per 20 SEK',
    'rule "Adjusted": adjust gives message "adjusted"',
    'rule "Vip": purchase earns 5 points, for vip or gold, instead of "Books" and "Evening"',
)


def _setting_kind(setting: str) -> str:
    """Each setting at most once: `points expire`, `points pending`, `refunds`, `rounding`."""
    words = setting.split()
    return words[1] if words[0] == "points" else words[0]


@st.composite
def random_rulesets(draw: st.DrawFn) -> str:
    """The text of a small programme made of a random choice of settings, tiers and rule lines; every
    combination checks (rules named by ``instead of`` are kept when a rule names them)."""
    zone = draw(st.sampled_from(["Europe/Stockholm", "UTC", "America/New_York"]))
    settings = draw(st.lists(st.sampled_from(_SETTINGS), max_size=3, unique_by=_setting_kind))
    if any("expire" in s for s in settings) and draw(st.booleans()):
        settings.append('notify "expiring" 10 days before points expire')
    tiers = draw(st.sampled_from(_TIERS))
    chosen = draw(st.lists(st.sampled_from(_RULES), min_size=1, max_size=7, unique=True))
    rules = [r for r in _RULES if r in chosen]
    if _RULES[1] in rules and _RULES[0] not in rules:
        rules.insert(0, _RULES[0])
    if _RULES[-1] in rules:
        for needed in (_RULES[2], _RULES[9]):
            if needed not in rules:
                rules.insert(0, needed)
    text = _HEADER.format(zone=zone, settings="\n".join(settings), tiers=tiers) + "\n" + "\n".join(rules) + "\n"
    rewardlang.loads(text, "random.reward")  # it checks
    return text
