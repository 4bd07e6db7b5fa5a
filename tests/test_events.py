"""Input events (LANGUAGE.md §3): typing, rejections with codes and reasons, fingerprints."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import rewardlang
from rewardlang import events
from rewardlang.events import CODES, Event, Rejection, Validator, fingerprint, validate

RULESET = """\
program "Test Club"
currency SEK
customer has city text, birthdate date
event purchase with amount money, category text, items number, tags list of text optional,
  gift bool optional, delivered date optional
event review with stars number
reward "Tote bag" costs 800 points
reward "Free shipping" costs 200 points
purchase earns 1 point per 10 SEK
"""

PROGRAM = rewardlang.loads(RULESET)
VALIDATOR = Validator(PROGRAM)
UTC = dt.timezone.utc

LINE = (
    '{"id": "e17", "type": "purchase", "customer": "c42", "time": "2026-03-01T10:15:00+01:00", '
    '"amount": "249.00", "currency": "SEK", "category": "books", "items": 2}'
)


def purchase(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = json.loads(LINE, parse_float=Decimal)
    for key, value in changes.items():
        if value is _DROP:
            del raw[key]
        else:
            raw[key] = value
    return raw


_DROP = object()


def event_of(raw: object) -> Event:
    result = validate(raw, PROGRAM)
    assert isinstance(result, Event), result
    return result


def rejection_of(raw: object) -> Rejection:
    result = VALIDATOR.check(raw)  # unguarded: a bug would raise here, not hide as "unreadable"
    assert isinstance(result, Rejection), result
    assert result.code in CODES
    return result


# ---------------------------------------------------------------------------- valid events


def test_the_design_example_line() -> None:
    event = event_of(json.loads(LINE, parse_float=Decimal))
    assert event.id == "e17"
    assert event.type == "purchase"
    assert event.customer == "c42"
    assert event.time == dt.datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    assert event.time.tzinfo is UTC
    assert dict(event.fields) == {"amount": Decimal("249.00"), "category": "books", "items": Decimal(2)}
    assert type(event.fields["items"]) is Decimal
    assert list(event.fields) == ["amount", "category", "items"]  # declaration order
    with pytest.raises(TypeError):
        event.fields["amount"] = Decimal(1)  # type: ignore[index]


def test_validator_and_program_forms_agree() -> None:
    raw = purchase()
    assert validate(raw, PROGRAM) == VALIDATOR.validate(raw) == validate(raw, VALIDATOR)
    assert events.validator_for(PROGRAM) is events.validator_for(PROGRAM)


def test_integer_id_and_customer_are_their_decimal_text() -> None:
    event = event_of(purchase(id=17, customer=4200))
    assert (event.id, event.customer) == ("17", "4200")
    assert event_of(purchase(id=-3)).id == "-3"


def test_every_field_type() -> None:
    event = event_of(purchase(
        amount=Decimal("49.9"), items="-3", tags=["gift", "sale"], gift=True, delivered="2026-02-28"))
    assert event.fields["amount"] == Decimal("49.9")
    assert event.fields["items"] == Decimal(-3)
    assert event.fields["tags"] == ("gift", "sale")
    assert event.fields["gift"] is True
    assert event.fields["delivered"] == dt.date(2026, 2, 28)


def test_csv_spellings() -> None:
    """CSV gives every value as text: numbers, bools and lists are read from strings."""
    event = event_of(purchase(id="17", amount="249", items="2.5", gift="FALSE", tags='["a", "b"]'))
    assert event.fields["amount"] == Decimal(249)
    assert event.fields["items"] == Decimal("2.5")
    assert event.fields["gift"] is False
    assert event.fields["tags"] == ("a", "b")
    assert event_of(purchase(gift="true")).fields["gift"] is True


def test_json_numbers_and_floats() -> None:
    assert event_of(purchase(amount=249)).fields["amount"] == Decimal(249)
    assert event_of(purchase(amount=Decimal("1E+3"))).fields["amount"] == Decimal(1000)
    # a float from an embedding caller goes through repr: 0.1 is exactly Decimal("0.1")
    assert event_of(purchase(amount=0.1)).fields["amount"] == Decimal("0.1")
    assert event_of(purchase(items=-2.5)).fields["items"] == Decimal("-2.5")
    # trailing zeros beyond 12 places do not count; the value is kept at 12 places at most
    amount = event_of(purchase(amount="1.50000000000000000000")).fields["amount"]
    assert amount == Decimal("1.5") and amount.as_tuple().exponent >= -12
    assert str(event_of(purchase(amount="-0.00", items="-0")).fields["items"]) == "0"


def test_limits_are_inclusive_of_the_largest_allowed() -> None:
    assert event_of(purchase(amount="999999999999999.999999999999")).fields["amount"] == Decimal(
        "999999999999999.999999999999")
    assert event_of(purchase(items=-(10**15 - 1))).fields["items"] == -(10**15 - 1)


def test_optional_fields_absent_or_null() -> None:
    event = event_of(purchase(tags=None, gift=None))
    assert "tags" not in event.fields and "gift" not in event.fields and "delivered" not in event.fields


def test_undeclared_keys_are_ignored_but_in_the_fingerprint() -> None:
    plain = event_of(purchase())
    extra = event_of(purchase(store="Göteborg", basket=[{"sku": 1}], note=None))
    assert extra.fields == plain.fields
    assert extra.fingerprint != plain.fingerprint
    assert '"store":"Göteborg"' in extra.fingerprint


def test_currency_absent_null_or_in_another_case() -> None:
    assert isinstance(validate(purchase(currency=_DROP), PROGRAM), Event)
    assert isinstance(validate(purchase(currency=None), PROGRAM), Event)
    assert isinstance(validate(purchase(currency="sek"), PROGRAM), Event)


def test_a_programme_without_currency_accepts_any() -> None:
    program = rewardlang.loads("event review with stars number\nreview earns 5 points\n")
    raw = {"id": "1", "type": "review", "customer": "c", "time": "2026-01-01T00:00:00Z", "stars": 5,
           "currency": "EUR"}
    assert isinstance(validate(raw, program), Event)


def test_text_is_nfc_normalised() -> None:
    decomposed = "Go\u0308teborg"  # o + combining diaeresis
    event = event_of(purchase(category=decomposed, tags=[decomposed]))
    assert event.fields["category"] == "Göteborg" == "G\u00f6teborg"
    assert event.fields["tags"] == ("G\u00f6teborg",)
    profile = event_of({"id": "p", "type": "profile", "customer": "c", "time": "2026-01-01T00:00:00Z",
                        "city": decomposed})
    assert profile.fields["city"] == "G\u00f6teborg"
    # ids are the shop's keys: kept exactly as given
    assert event_of(purchase(customer=decomposed)).customer == decomposed


def test_time_forms() -> None:
    assert event_of(purchase(time="2026-03-01T09:15:00Z")).time == dt.datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    assert event_of(purchase(time="2026-03-01T10:15:00.25+01:00")).time.microsecond == 250000


# ---------------------------------------------------------------------------- built-ins


def builtin(kind: str, **fields: object) -> dict[str, object]:
    return {"id": "b1", "type": kind, "customer": "c42", "time": "2026-03-05T12:00:00Z", **fields}


def test_profile_sets_what_it_carries_and_null_unsets() -> None:
    event = event_of(builtin("profile", city="Stockholm", birthdate="1990-05-17", age=36))
    assert dict(event.fields) == {"city": "Stockholm", "birthdate": dt.date(1990, 5, 17)}
    event = event_of(builtin("profile", city=None))
    assert dict(event.fields) == {"city": None}
    assert dict(event_of(builtin("profile")).fields) == {}
    assert rejection_of(builtin("profile", birthdate="17/05/1990")).code == "bad_field"


def test_refund_with_and_without_amount() -> None:
    assert dict(event_of(builtin("refund", refunds="e17", amount="100.00")).fields) == {
        "refunds": "e17", "amount": Decimal("100.00")}
    assert dict(event_of(builtin("refund", refunds=17)).fields) == {"refunds": "17"}
    assert rejection_of(builtin("refund")).code == "missing_field"
    assert rejection_of(builtin("refund", refunds="e17", amount="-5")).code == "negative_money"


def test_redeem() -> None:
    assert dict(event_of(builtin("redeem", reward="Tote bag")).fields) == {"reward": "Tote bag"}
    rejection = rejection_of(builtin("redeem", reward="Tote bags"))
    assert rejection.code == "unknown_reward" and '"Tote bag"' in rejection.reason


def test_adjust_points_are_signed_whole_numbers() -> None:
    assert event_of(builtin("adjust", points=350, reason="old system")).fields == {
        "points": 350, "reason": "old system"}
    points = event_of(builtin("adjust", points=-20)).fields["points"]
    assert points == -20 and type(points) is int
    assert event_of(builtin("adjust", points="-20")).fields["points"] == -20
    assert event_of(builtin("adjust", points=Decimal("35.0"))).fields["points"] == 35
    rejection = rejection_of(builtin("adjust", points=Decimal("12.5")))
    assert rejection.code == "not_whole" and "whole" in rejection.reason
    assert rejection_of(builtin("adjust", points=True)).code == "bad_field"


# ---------------------------------------------------------------------------- rejections

BAD = [
    # (raw, code, a fragment of the reason)
    ([1, 2], "not_an_object", "not a JSON object"),
    ("{}", "not_an_object", "not a JSON object"),
    (None, "not_an_object", "not a JSON object"),
    (purchase(id=_DROP), "missing_key", "has no `id`"),
    (purchase(type=_DROP), "missing_key", "has no `type`"),
    (purchase(customer=_DROP), "missing_key", "has no `customer`"),
    (purchase(time=_DROP), "missing_key", "has no `time`"),
    (purchase(time=None), "missing_key", "has no `time`"),
    (purchase(id=""), "bad_id", "blank"),
    (purchase(id="  "), "bad_id", "blank"),
    (purchase(id=True), "bad_id", "yes/no"),
    (purchase(id=17.0), "bad_id", "decimal number"),
    (purchase(id=Decimal("17")), "bad_id", "decimal number"),
    (purchase(id=["e17"]), "bad_id", "an array"),
    (purchase(customer={"id": 1}), "bad_customer", "an object"),
    (purchase(customer=False), "bad_customer", "yes/no"),
    (purchase(time="2026-03-01T10:15:00"), "missing_offset", "add one"),
    (purchase(time="2026-03-01 10:15:00+01:00"), "bad_time", 'write a "T"'),
    (purchase(time="2026-03-01"), "bad_time", "without a time of day"),
    (purchase(time="yesterday"), "bad_time", "not an ISO 8601"),
    (purchase(time="2026-02-30T10:00:00Z"), "bad_time", "not an ISO 8601"),
    (purchase(time=1772356500), "bad_time", "a number"),
    (purchase(time="0001-01-01T00:30:00+01:00"), "bad_time", "out of range"),
    (purchase(time="1066-10-14T09:00:00Z"), "bad_time", "1900-2999"),
    (purchase(type="purchse"), "unknown_type", 'did you mean "purchase"?'),
    (purchase(type="Purchase"), "unknown_type", 'did you mean "purchase"?'),
    (purchase(type="signup"), "unknown_type", "declare it with `event signup`"),
    (purchase(type=3), "bad_type", "a number"),
    (purchase(type=""), "bad_type", "name of an event type"),
    (purchase(currency="EUR"), "foreign_currency", "EUR"),
    (purchase(currency="EUR"), "foreign_currency", "SEK"),
    (purchase(currency=752), "bad_currency", "currency code"),
    (purchase(category=_DROP), "missing_field", "has no `category`"),
    (purchase(category=None), "missing_field", "`category` is null"),
    (purchase(amount="249.00 SEK"), "bad_field", "not a number"),
    (purchase(amount=[249]), "bad_field", "not a number"),
    (purchase(amount=float("nan")), "not_finite", "not a finite number"),
    (purchase(amount=float("inf")), "not_finite", "not a finite number"),
    (purchase(amount=Decimal("NaN")), "not_finite", "not a finite number"),
    (purchase(amount=Decimal("sNaN")), "not_finite", "not a finite number"),
    (purchase(amount=Decimal("-Infinity")), "not_finite", "not a finite number"),
    (purchase(amount="Infinity"), "not_finite", "not a finite number"),
    (purchase(items="NaN"), "not_finite", "not a finite number"),
    (purchase(amount=Decimal("1e999")), "too_large", "too large for the engine"),
    (purchase(amount="1000000000000000"), "too_large", "too large for the engine"),
    (purchase(items=10**15), "too_large", "too large for the engine"),
    (purchase(items=-(10**400)), "too_large", "too large for the engine"),
    (purchase(amount=1e300), "too_large", "too large for the engine"),
    (purchase(amount="0.0000000000001"), "too_precise", "more than 12 decimal places"),
    (purchase(amount=Decimal("1e-999999")), "too_precise", "more than 12 decimal places"),
    (purchase(amount="49,90"), "decimal_comma", 'write "49.90"'),
    (purchase(amount="1,234.50"), "decimal_comma", "thousands separators"),
    (purchase(amount="1e3"), "bad_field", 'plain decimal notation, as in "1000"'),
    (purchase(amount="+5"), "bad_field", 'as in "5"'),
    (purchase(amount=".5"), "bad_field", 'as in "0.5"'),
    (purchase(amount=" 5"), "bad_field", 'as in "5"'),
    (purchase(amount="-0.01"), "negative_money", "cannot be negative"),
    (purchase(amount=-1), "negative_money", "cannot be negative"),
    (purchase(items=True), "bad_field", "yes/no value, not a number"),
    (purchase(category=5), "bad_field", 'quote it, as in "5"'),
    (purchase(category=["books"]), "bad_field", "declared text"),
    (purchase(delivered="2026-02-30"), "bad_field", "not a date in the calendar"),
    (purchase(delivered="2026-3-1"), "bad_field", "YYYY-MM-DD"),
    (purchase(delivered=20260301), "bad_field", "YYYY-MM-DD"),
    (purchase(gift="yes"), "bad_field", "write true or false"),
    (purchase(gift=1), "bad_field", "write true or false"),
    (purchase(tags=["gift", 3]), "bad_field", "holds 3, a number"),
    (purchase(tags="gift"), "bad_field", 'as in ["gift"]'),
    (purchase(tags='["gift", 3]'), "bad_field", "holds 3"),
    (purchase(tags="[not json"), "bad_field", "not a JSON array"),
    (purchase(tags={"a": "b"}), "bad_field", "declared list of text"),
    (purchase(category="bad \ud800 text"), "bad_field", "unpaired surrogate"),
    (purchase(note={1: "a"}), "not_json", 'the key "note" has the key 1'),
    (purchase(note={"a", "b"}), "not_json", "not a JSON value"),
    (purchase(note="\udfff"), "not_json", "unpaired surrogate"),
    (purchase(note=dt.date(2026, 1, 1)), "not_json", "Python date"),
]


@pytest.mark.parametrize(("raw", "code", "fragment"), BAD, ids=[f"{i}-{b[1]}" for i, b in enumerate(BAD)])
def test_rejections(raw: object, code: str, fragment: str) -> None:
    rejection = rejection_of(raw)
    assert rejection.code == code, rejection.reason
    assert fragment in rejection.reason, rejection.reason
    assert rejection.reason.encode("utf-8")  # a reason can always be written out


def test_rejections_carry_what_could_be_read() -> None:
    time = dt.datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    rejection = rejection_of(purchase(amount="49,90"))
    assert (rejection.id, rejection.customer, rejection.time) == ("e17", "c42", time)
    rejection = rejection_of(purchase(id=_DROP, type="nope"))
    assert (rejection.code, rejection.id, rejection.customer, rejection.time) == ("missing_key", None, "c42", time)
    rejection = rejection_of(purchase(time="soon"))
    assert (rejection.id, rejection.customer, rejection.time) == ("e17", "c42", None)
    rejection = rejection_of(purchase(customer=1.5, type="nope"))
    assert (rejection.code, rejection.customer, rejection.time) == ("unknown_type", None, time)


def test_the_first_problem_is_reported() -> None:
    assert rejection_of(purchase(id=True, type="x", time="y")).code == "bad_id"
    assert rejection_of(purchase(type="x", time="y")).code == "unknown_type"
    assert rejection_of(purchase(currency="EUR", amount="x")).code == "foreign_currency"
    assert rejection_of(purchase(amount="x", category=5)).code == "bad_field"
    assert "`amount`" in rejection_of(purchase(amount="x", category=5)).reason


def test_nesting_too_deep_or_cyclic() -> None:
    deep: object = "x"
    for _ in range(200):
        deep = [deep]
    assert rejection_of(purchase(note=deep)).code == "not_json"
    cyclic: list[object] = []
    cyclic.append(cyclic)
    assert rejection_of(purchase(note=cyclic)).code == "not_json"
    raw = purchase()
    raw["self"] = raw
    assert rejection_of(raw).code == "not_json"
    assert rejection_of(purchase(tags=cyclic)).code == "bad_field"


def test_a_broken_mapping_is_unreadable_not_an_exception() -> None:
    class Broken(dict):  # a dict subclass whose get fails
        def get(self, key, default=None):  # type: ignore[no-untyped-def, override]
            raise RuntimeError("boom")

    from collections.abc import Mapping

    class Weird(Mapping):  # type: ignore[type-arg]
        def __getitem__(self, key):  # type: ignore[no-untyped-def]
            raise KeyError(key)

        def __iter__(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

        def __len__(self) -> int:
            return 1

    result = validate(Weird(), PROGRAM)
    assert isinstance(result, Rejection) and result.code == "unreadable"
    assert isinstance(validate(Broken(purchase()), PROGRAM), (Event, Rejection))


def test_mappings_and_subclasses_are_accepted() -> None:
    class Text(str):
        def __str__(self) -> str:
            return "not me"

    from types import MappingProxyType

    event = event_of(MappingProxyType(purchase(category=Text("books"), id=Text("e17"))))
    assert event.fields["category"] == "books" and event.id == "e17"
    assert type(event.id) is str and type(event.fields["category"]) is str
    assert event.fingerprint == event_of(purchase()).fingerprint


def test_every_code_is_documented() -> None:
    doc = events.__doc__ or ""
    for code in CODES:
        assert f"``{code}``" in doc, code


# ---------------------------------------------------------------------------- fingerprints


def test_fingerprint_ignores_key_order() -> None:
    raw = purchase(note={"b": 1, "a": [1, {"y": 2, "x": 3}]})
    items = list(raw.items())
    random.Random(7).shuffle(items)
    shuffled = dict(items)
    shuffled["note"] = {"a": [1, {"x": 3, "y": 2}], "b": 1}
    assert list(shuffled) != list(raw)
    assert event_of(shuffled).fingerprint == event_of(raw).fingerprint


def test_fingerprint_compares_numbers_by_value() -> None:
    spellings = [249, 249.0, Decimal("249"), Decimal("249.00"), Decimal("2.49E+2")]
    prints = {event_of(purchase(items=n, note=n)).fingerprint for n in spellings}
    assert len(prints) == 1
    assert {fingerprint({"n": n}) for n in [2490, 2490.0, Decimal("2.49E3"), Decimal("2490.000")]} == {
        '{"n":2.49E+3}'}
    assert fingerprint({"n": -0.0}) == fingerprint({"n": 0}) == fingerprint({"n": Decimal("-0.00")})
    assert fingerprint({"n": 10**40 + 1}) != fingerprint({"n": 10**40})  # exactly, not to 28 digits
    assert fingerprint({"n": Decimal(10**40 + 1)}) == fingerprint({"n": 10**40 + 1})


def test_fingerprint_keeps_kinds_and_spellings_apart() -> None:
    assert event_of(purchase(items="2")).fingerprint != event_of(purchase(items=2)).fingerprint
    assert event_of(purchase(id="17")).fingerprint != event_of(purchase(id=17)).fingerprint
    assert fingerprint({"n": True}) != fingerprint({"n": 1})
    assert fingerprint({"n": None}) != fingerprint({})
    assert fingerprint({"s": "Go\u0308teborg"}) != fingerprint({"s": "G\u00f6teborg"})
    assert fingerprint({"a": [1, 2]}) == fingerprint({"a": (1, 2)})
    assert fingerprint({"a": "x"}) != fingerprint({"a": "y"})


def test_fingerprint_of_ignored_non_finite_numbers() -> None:
    assert fingerprint({"n": float("nan")}) == fingerprint({"n": Decimal("NaN")}) == '{"n":NaN}'
    assert fingerprint({"n": float("-inf")}) == '{"n":-Infinity}'
    assert fingerprint([1]) is None and fingerprint({1: 2}) is None


def test_fingerprint_is_the_json_of_the_content() -> None:
    """For strings, nulls, bools and ints not ending in 0 it is compact, sorted JSON."""
    raw = purchase(note=[None, True, "ä\"\\\n"], gift=False)
    assert fingerprint(raw) == json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert json.loads(event_of(raw).fingerprint) == raw


# ---------------------------------------------------------------------------- properties

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.decimals() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)

field_names = st.sampled_from(["amount", "category", "items", "tags", "gift", "delivered", "currency",
                               "refunds", "reward", "points", "reason", "city", "birthdate", "note"])
plausible_ids = st.one_of(st.text(max_size=5), st.integers(), st.none(), json_like)
plausible_types = st.one_of(st.sampled_from(["purchase", "review", "profile", "refund", "redeem", "adjust",
                                             "purchse", ""]), json_like)
plausible_times = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda t: t.isoformat()), st.text(max_size=30),
    json_like)
plausible_values = st.one_of(
    json_like,
    st.from_regex(r"-?[0-9]{1,17}(\.[0-9]{1,14})?", fullmatch=True),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.sampled_from(["true", "FALSE", '["a", "b"]', "Tote bag", "49,90", "1e3", "NaN"]),
)


@st.composite
def events_with_the_right_keys(draw: st.DrawFn) -> dict[str, object]:
    raw = {"id": draw(plausible_ids), "type": draw(plausible_types), "customer": draw(plausible_ids),
           "time": draw(plausible_times)}
    raw.update(draw(st.dictionaries(field_names, plausible_values, max_size=8)))
    return raw


def check_result(raw: object) -> Event | Rejection:
    result = VALIDATOR.check(raw)  # the unguarded form: it must not need the guard
    assert isinstance(result, (Event, Rejection))
    if isinstance(result, Rejection):
        assert result.code in CODES and result.code != "unreadable"
        assert result.reason and result.reason.encode("utf-8")
    else:
        assert result.time.tzinfo is UTC
        assert result.fingerprint.encode("utf-8")
        assert fingerprint(raw) == result.fingerprint
    return result


@given(json_like)
def test_any_json_value_is_an_event_or_a_rejection(raw: object) -> None:
    check_result(raw)


@given(events_with_the_right_keys())
def test_any_object_with_the_right_keys_is_an_event_or_a_rejection(raw: dict[str, object]) -> None:
    result = check_result(raw)
    # key order aside, the same content gives the same result
    reordered = dict(reversed(list(raw.items())))
    assert VALIDATOR.check(reordered) == result
    # runs stage a line by customer_of before validating it in full: the same customer
    assert VALIDATOR.customer_of(raw) == result.customer


@given(json_like)
def test_the_customer_a_line_is_staged_under_is_the_validated_one(raw: object) -> None:
    assert VALIDATOR.customer_of(raw) == VALIDATOR.validate(raw).customer


@given(st.builds(
    dict,
    id=st.text(min_size=1, max_size=5).filter(lambda s: not s.isspace()) | st.integers(),
    type=st.just("purchase"),
    customer=st.text(min_size=1, max_size=5).filter(lambda s: not s.isspace()) | st.integers(),
    time=st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2998, 1, 1),
                      timezones=st.timezones()).map(lambda t: t.isoformat()),
    amount=st.decimals(min_value=0, max_value=10**14, places=2) | st.integers(0, 10**14),
    category=st.text(),
    items=st.decimals(min_value=-(10**14), max_value=10**14, places=3),
    tags=st.none() | st.lists(st.text()),
))
def test_valid_purchases_are_typed(raw: dict[str, object]) -> None:
    surrogate = re.compile("[\ud800-\udfff]")
    texts = [raw["category"], *(raw["tags"] or [])]
    if any(isinstance(t, str) and surrogate.search(t) for t in [raw["id"], raw["customer"], *texts]):
        return
    result = check_result(raw)
    assert isinstance(result, Event), result
    assert result.fields["amount"] == raw["amount"] and type(result.fields["amount"]) is Decimal
    assert result.fields["items"] == raw["items"]
    assert isinstance(result.fields["category"], str)
    if raw["tags"] is not None:
        assert isinstance(result.fields["tags"], tuple) and len(result.fields["tags"]) == len(raw["tags"])
    assert result.time == dt.datetime.fromisoformat(raw["time"])  # type: ignore[arg-type]
    assert not math.isnan(float(result.fields["items"]))  # type: ignore[arg-type]
