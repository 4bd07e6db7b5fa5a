"""The checker's rules, one small ruleset each (beancount style: the ruleset inline in the test).

The golden files (tests/golden/) pin the full text of the diagnostics for one mistake of each
kind; these tests pin the rules around them: what is accepted, what each name resolves to, and
what the checked ``Program`` holds.
"""

from __future__ import annotations

import re
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from rewardlang import ast
from rewardlang.checker import ISO_4217, did_you_mean
from rewardlang.loading import check_text
from rewardlang.program import DEFAULT_REFUND_WINDOW, Program

DESIGN = Path("/work/shared/design/LANGUAGE.md")


def check(text: str):
    return check_text(textwrap.dedent(text).lstrip("\n"), "t.reward")


def codes(text: str) -> list[str]:
    return [d.code for d in check(text).diagnostics]


def where(text: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in check(text).diagnostics]


def only(text: str):
    found = check(text).diagnostics
    assert len(found) == 1, found
    return found[0]


def program(text: str) -> Program:
    checked = check(text)
    assert checked.diagnostics == (), checked.diagnostics
    assert checked.program is not None
    return checked.program


# ---------------------------------------------------------------------------- the design's example


# LANGUAGE.md §2's example, copied so that the test runs where the design document is not; the
# test below holds the copy to the document wherever the document is.
DESIGN_EXAMPLE = '''\
# Bookshop Club — a bookshop's loyalty programme
program "Bookshop Club"
currency SEK
timezone "Europe/Stockholm"
points expire after 12 months
points pending for 14 days
refunds accepted within 90 days
point value 0.10 SEK

customer has city text, birthdate date, gender text optional
event purchase with amount money, category text, items number
event review with stars number
event referral with friend text
event signup

segment stockholm = customer.city is "Stockholm"
segment young = customer.age between 18 and 29

tier silver = spend in last 12 months >= 2000 SEK
tier gold   = spend in last 12 months >= 5000 SEK, kept for 12 months

reward "Free shipping" costs 200 points
reward "Tote bag" costs 800 points
voucher "100 SEK off" worth 100 SEK
voucher "50 SEK bonus check" worth 50 SEK
free "book" worth 120 SEK

rule "Welcome":          signup earns 100 points, once
rule "Base points":      purchase earns 1 point per 10 SEK
rule "Gold points":      purchase earns 2 points per 10 SEK, for gold, instead of "Base points"
rule "Punch card":       5 purchases where category is "books" gives 1 free "book"
rule "Student books":    purchase where category is "books" earns 20 points, for young,
                           at most 2 per month
rule "Review bonus":     review where stars >= 1 earns 50 points, at most 3 per month
rule "Referral":         referral earns 100 points
rule "First purchase":   first purchase earns 200 points
rule "Big basket":       purchase where amount >= 500 SEK and items >= 3 earns 50 points
rule "Saturday double":  purchase earns 1 point per 10 SEK, on saturday,
                           at most 500 points per month
rule "Christmas":        purchase where category in ["books", "games"] earns 2 points per 10 SEK,
                           from 2026-12-01 to 2026-12-24, for stockholm
rule "Birthday":         birthday earns 200 points
rule "Big spender":      every 1000 SEK spent gives 1 voucher "100 SEK off"
rule "Bonus check":      500 points converts to voucher "50 SEK bonus check"
rule "Welcome mail":     signup gives message "welcome"
rule "Gold mail":        tier change to gold gives message "welcome-to-gold"
rule "Win back":         inactive for 6 months gives message "we-miss-you"
notify "points-expiring" 30 days before points expire
'''


def design_example() -> str:
    if not DESIGN.exists():
        return DESIGN_EXAMPLE
    match = re.search(r"^```\n(.*?)^```$", DESIGN.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    assert match, "no fenced block in LANGUAGE.md"
    return match.group(1)


def test_design_example_copy_is_up_to_date() -> None:
    assert design_example() == DESIGN_EXAMPLE


def test_design_example_is_clean() -> None:
    text = design_example()
    assert text.startswith("# Bookshop Club")
    checked = check_text(text, "design.reward")
    assert checked.diagnostics == ()
    assert checked.program is not None
    assert len(checked.program.rules) == 17
    assert checked.program.event_of("purchases") == "purchase"


# ---------------------------------------------------------------------------- plurals and events

EVENTS = """
    currency SEK
    event purchase with amount money, category text
    event delivery
    event coffee
    event box
"""


@pytest.mark.parametrize(
    ("rule", "event"),
    [
        ("5 purchases gives 1 free", "purchase"),
        ("every 5 purchases gives 1 free", "purchase"),
        ("3 deliveries gives 1 free", "delivery"),
        ("2 coffees gives 1 free", "coffee"),
        ("4 boxes gives 1 free", "box"),
        ("first purchase earns 200 points", "purchase"),
        ("delivery earns 5 points", "delivery"),
    ],
)
def test_plural_and_singular_event_words(rule: str, event: str) -> None:
    prog = program(EVENTS + f"    {rule}\n")
    trigger = prog.rules[0].trigger
    assert prog.event_of(trigger.event.text) == event  # type: ignore[union-attr]


def test_count_of_takes_the_plural_or_the_singular() -> None:
    prog = program(EVENTS + """
    purchase where count of purchases in last 30 days >= 3 earns 10 points
    purchase where count of purchase in total >= 3 earns 10 points
    purchase where count of deliveries in total >= 1 earns 10 points
    """)
    assert len(prog.rules) == 3


def test_event_words_map_every_form_to_its_event() -> None:
    prog = program(EVENTS)
    words = prog.event_words
    assert words["purchases"] == words["purchase"] == "purchase"
    assert words["deliveries"] == "delivery"
    assert words["coffees"] == "coffee"
    assert words["boxes"] == "box"
    assert words["refunds"] == "refund"  # the built-ins too


def test_a_singular_wins_over_another_events_plural() -> None:
    prog = program("""
        event item
        event items
        items earns 1 point
        3 items gives 1 free
    """)
    assert prog.event_words["items"] == "items"
    assert prog.event_words["item"] == "item"


def test_unknown_plural_suggests_declaring_the_singular() -> None:
    d = only(EVENTS + "    10 orders gives 1 free\n")
    assert d.code == "RL101"
    assert d.message == "unknown event `orders`"
    assert d.help is not None and "`event order …`" in d.help


def test_unknown_event_did_you_mean_a_plural() -> None:
    d = only(EVENTS + "    3 deliveris gives 1 free\n")
    assert (d.code, d.help) == ("RL101", "did you mean `deliveries`?")


def test_unknown_event_in_other_case() -> None:
    d = only(EVENTS + "    Purchase earns 1 point\n")
    assert d.help == "did you mean `purchase`?"


@pytest.mark.parametrize(
    "rule",
    [
        'refund gives message "sorry"',
        "refund where amount >= 100 SEK earns 5 points",
        'redeem gives message "enjoy"',
        'redeem where reward is "Tote bag" gives message "enjoy"',
        "adjust where points >= 1000 gives message \"big-adjustment\"",
        'adjust where reason is "goodwill" earns 10 points',
        "3 refunds gives message \"are-you-happy\"",
        'profile where city is "Lund" gives message "hej-lund"',
    ],
)
def test_builtin_events_need_no_declaration(rule: str) -> None:
    program(f"""
        currency SEK
        customer has city text
        reward "Tote bag" costs 800 points
        {rule}
    """)


def test_builtin_event_cannot_be_declared() -> None:
    d = only("event refund with amount money\n")
    assert d.code == "RL106"
    assert d.message == "`refund` is a built-in event and cannot be declared"


def test_builtin_fields_are_typed() -> None:
    d = only("refund where amount >= 100 earns 1 point\ncurrency SEK\n")
    assert d.code == "RL201"
    assert d.message == "`amount` is money and cannot be compared with a number"


def test_redeem_of_an_unknown_reward() -> None:
    d = only('reward "Tote bag" costs 800 points\nredeem where reward in ["Tote bag", "Tote bg"] gives message "x"\n')
    assert (d.code, d.message, d.help) == ("RL105", 'unknown reward "Tote bg"', 'did you mean "Tote bag"?')


# ---------------------------------------------------------------------------- customer.age and birthdays


def test_customer_age_needs_a_birthdate() -> None:
    d = only("""
        customer has city text
        segment young = customer.age < 30
        signup earns 1 point, for young
        event signup
    """)
    assert (d.code, d.span.line) == ("RL102", 2)
    assert "birthdate" in d.message


def test_customer_age_with_a_birthdate_is_a_number() -> None:
    program("""
        customer has birthdate date
        event signup
        segment young = customer.age between 18 and 29
        signup earns 1 point, for young
    """)
    d = only("""
        customer has birthdate date
        event signup
        signup where customer.age is "young" earns 1 point
    """)
    assert d.code == "RL201"


def test_birthdate_of_the_wrong_type() -> None:
    found = check("customer has birthdate text\nbirthday earns 200 points\n").diagnostics
    assert [d.code for d in found] == ["RL307"]
    assert found[0].help == "`birthdate` is declared as text on line 1: declare it as `birthdate date`"


def test_age_cannot_be_declared() -> None:
    assert codes("customer has birthdate date, age number\n") == ["RL106"]


def test_birthday_with_a_birthdate() -> None:
    program("customer has birthdate date\nbirthday earns 200 points\n")


# ---------------------------------------------------------------------------- types

TYPES = """
    currency SEK
    customer has city text, member bool, joined date, tags list of text
    event purchase with amount money, category text, items number, delivered date, gift bool
    tier silver = spend in last 12 months >= 2000 SEK
    tier gold = spend in last 12 months >= 5000 SEK
"""


@pytest.mark.parametrize(
    "condition",
    [
        "amount >= 100 SEK",
        "amount between 100 SEK and 500 SEK",
        "items > 2",
        'category is "books"',
        'category in ["books", "games"]',
        'category not in ["books"]',
        'category != "books"',
        "delivered >= 2026-12-01",
        "gift is true",
        "customer.member = false",
        'customer.tags contains "vegan"',
        "tier is gold",
        "tier in [silver, gold]",
        "tier is not silver",
        "balance >= 1000",
        "spend in total >= 10000 SEK",
        "count of purchases in last 12 months >= 3",
        '(category is "books" or category is "games") and not items < 2',
    ],
)
def test_conditions_that_type_check(condition: str) -> None:
    program(TYPES + f"    purchase where {condition} earns 1 point\n")


@pytest.mark.parametrize(
    ("condition", "code", "message"),
    [
        ("amount >= 100", "RL201", "`amount` is money and cannot be compared with a number"),
        ("items >= 3 SEK", "RL201", "`items` is a number and cannot be compared with money"),
        ('amount >= "100"', "RL201", "`amount` is money and cannot be compared with text"),
        ("delivered >= 2026", "RL201", "`delivered` is a date and cannot be compared with a number"),
        ('delivered >= "2026-12-01"', "RL201", "`delivered` is a date and cannot be compared with text"),
        ("amount >= 2026-12-01", "RL201", "`amount` is money and cannot be compared with a date"),
        ('gift is "yes"', "RL201", "`gift` is true/false and cannot be compared with text"),
        ("items between 1 SEK and 3", "RL201", "`items` is a number and cannot be compared with money"),
        ('category >= "b"', "RL202", "`>=` compares numbers, money or dates, and `category` is text"),
        ('category contains "book"', "RL202", "`contains` tests a list of texts, and `category` is text"),
        ('customer.tags is "vegan"', "RL202", "`customer.tags` is a list of texts: it is tested with `contains`, not compared"),
        ('customer.tags in ["vegan"]', "RL202", "`customer.tags` is a list of texts: it is tested with `contains`, not compared"),
        ('category between "a" and "c"', "RL202", "`between` needs numbers, money or dates, and `category` is text"),
        ("tier >= silver", "RL202", "`>=` compares numbers, money or dates, not tiers"),
        ("category is books", "RL208", "`books` is a bare word; text values are written in double quotes"),
        ("gift is yes", "RL208", "`yes` is not a value: a true/false field is compared with `true` or `false`"),
        ("amount >= lots", "RL208", "`lots` is a bare word where money is expected"),
        ("tier is platinum", "RL103", "unknown tier `platinum`"),
    ],
)
def test_conditions_that_do_not(condition: str, code: str, message: str) -> None:
    d = only(TYPES + f"    purchase where {condition} earns 1 point\n")
    assert (d.code, d.message) == (code, message)
    assert d.help


def test_tier_is_gold_but_category_is_books() -> None:
    """A bare word is a tier's name after `tier`, and a mistake anywhere else (even a tier's name)."""
    assert codes(TYPES + "    purchase where tier is gold earns 1 point\n") == []
    found = check(TYPES + "    purchase where category is books or category is gold earns 1 point\n").diagnostics
    assert [d.code for d in found] == ["RL208", "RL208"]
    assert found[0].help == 'write `"books"`'
    assert found[1].help == "write `\"gold\"` (a bare word is only a tier's name, in `tier is gold`)"


def test_tier_order_help_lists_the_tiers() -> None:
    d = only(TYPES + "    purchase where tier > silver earns 1 point\n")
    assert d.help is not None and d.help.endswith("`tier in [gold]`")


def test_money_help_uses_the_programmes_currency() -> None:
    d = only(TYPES.replace("SEK", "EUR") + "    purchase where amount >= 100 earns 1 point\n")
    assert d.help == "write the amount with its currency: `100 EUR`"


def test_contains_on_text_suggests_is() -> None:
    d = only(TYPES + '    purchase where category contains "book" earns 1 point\n')
    assert d.help == '`contains` does not look inside a text; to test the whole text write `category is "book"`'


# ---------------------------------------------------------------------------- segments and tiers


def test_for_not_gold_or_silver() -> None:
    prog = program(TYPES + "    purchase earns 1 point, for not gold or silver\n")
    modifier = prog.rules[0].modifiers[0]
    assert isinstance(modifier, ast.ForModifier)
    assert modifier.negated
    assert [n.text for n in modifier.names] == ["gold", "silver"]


def test_segment_used_in_for_is_used() -> None:
    program(TYPES + '    segment locals = customer.city is "Lund"\n    purchase earns 1 point, for not locals\n')


def test_segment_or_tier_unknown_did_you_mean() -> None:
    d = only(TYPES + "    purchase earns 1 point, for silvr\n")
    assert (d.code, d.help) == ("RL103", "did you mean `silver`?")


def test_segments_and_tiers_see_the_customer_not_an_event() -> None:
    d = only("customer has city text\nsegment lund = city is \"Lund\"\nevent e\ne earns 1 point, for lund\n")
    assert d.code == "RL102"
    assert d.help == "segments and tiers see the customer, not an event: write `customer.city`"


def test_a_tier_cannot_depend_on_the_tier() -> None:
    assert codes("tier gold = tier is gold\n") == ["RL202"]


def test_tier_change_to_a_segment() -> None:
    d = only('customer has city text\nsegment lund = customer.city is "Lund"\ntier change to lund gives message "x"\n'
             "event e\ne earns 1 point, for lund\n")
    assert (d.code, d.message) == ("RL103", "`lund` is a segment, not a tier")


def test_kept_for_needs_a_whole_duration() -> None:
    assert codes("currency SEK\nevent e with amount money\ntier gold = spend in total >= 1 SEK, kept for 0 months\n") == [
        "RL306"
    ]


# ---------------------------------------------------------------------------- names


def test_keyword_as_a_field_name() -> None:
    d = only("event purchase with date date\n")
    assert (d.code, d.message, d.help) == (
        "RL107", "`date` is a keyword and cannot name a field", "rename the field, e.g. `purchase_date`"
    )


@pytest.mark.parametrize("key", ["id", "type", "customer", "time", "currency"])
def test_input_keys_are_not_fields(key: str) -> None:
    assert codes(f"event purchase with {key} text\n") == ["RL108"]
    assert codes(f"customer has {key} text\n") == ["RL108"]


def test_snake_case_suggestion() -> None:
    assert only("event ReviewWritten\n").help == "names of events are lower case, with `_` between words: write `review_written`"
    assert only("event VIP\n").help == "names of events are lower case, with `_` between words: write `vip`"


def test_field_declared_twice_across_customer_lines() -> None:
    d = only("customer has city text\ncustomer has city text\n")
    assert (d.code, d.span.line, d.help) == ("RL106", 2, "first declared on line 1")


def test_rule_names_are_unique_bare_ones_too() -> None:
    assert codes("event review\nreview earns 50 points\nreview   earns 50 points\n") == ["RL106"]


def test_did_you_mean() -> None:
    assert did_you_mean("purchse", ["purchase", "review"]) == "purchase"
    assert did_you_mean("Book", ["book"]) == "book"
    assert did_you_mean("orders", ["redeems", "refunds"]) is None  # not a typo: no suggestion
    assert did_you_mean("x", []) is None


# ---------------------------------------------------------------------------- money and currencies


def test_currency_codes() -> None:
    assert {"SEK", "EUR", "NOK", "DKK", "GBP", "USD"} <= ISO_4217
    assert only("currency kr\n").help == "write the ISO 4217 code: `SEK`, `NOK`, `DKK` or `ISK`"
    assert only("currency sek\n").help == "currency codes are written in capitals: write `SEK`"
    assert only("currency SKE\n").message == "`SKE` is not an ISO 4217 currency code"


def test_kr_in_an_amount_suggests_the_programmes_currency() -> None:
    d = only("currency SEK\npoint value 0.10 kr\n")
    assert (d.code, d.help) == ("RL204", "write the programme's currency code, `SEK`")


def test_decimal_comma_in_money() -> None:
    d = only("currency SEK\npoint value 0,10 SEK\n")
    assert (d.code, d.help) == ("RL206", "write `0.10 SEK`")


def test_foreign_currency() -> None:
    d = only("currency SEK\npoint value 0.01 EUR\n")
    assert (d.code, d.span.column) == ("RL203", 18)


def test_money_without_currency_is_reported_once() -> None:
    found = check("""
        event purchase with amount money
        purchase where amount >= 100 SEK earns 1 point per 10 SEK
        point value 0.10 SEK
    """).diagnostics
    assert [d.code for d in found] == ["RL205"]


def test_spend_needs_a_currency() -> None:
    found = check("event purchase with amount money\ntier gold = spend in total >= 100 SEK\n").diagnostics
    assert [(d.code, d.span.column) for d in found] == [("RL205", 13)]


def test_per_needs_a_money_field() -> None:
    assert codes("currency SEK\nevent review with stars number\nreview earns 1 point per 10 SEK\n") == ["RL207"]
    program("currency SEK\nevent order with price money\norder earns 1 point per 10 SEK of price\n")
    d = only("currency SEK\nevent order with price money\norder earns 1 point per 10 SEK\n")
    assert d.help == "name a money field of `order`: `per 10 SEK of price`"


def test_per_on_a_trigger_without_an_event() -> None:
    d = only("currency SEK\ncustomer has birthdate date\nbirthday earns 1 point per 10 SEK\n")
    assert d.code == "RL207"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("purchase earns 1 point per 0 SEK", "RL302"),
        ("purchase earns 1 point per -10 SEK", "RL302"),
        ("every 0 SEK spent gives message \"x\"", "RL302"),
        ("purchase earns 0 points", "RL301"),
        ("purchase earns 0 points per 10 SEK", "RL301"),
        ("0 purchases gives 1 free", "RL301"),
        ("every 0 items of purchases gives 1 free", "RL301"),
        ("purchase gives 0 free", "RL301"),
        ("purchase earns 5 points, at most 0 per month", "RL301"),
        ("purchase earns 5 points, at most 1.5 in total", "RL301"),
        ("purchase earns 5 points, at most 0 points per month", "RL301"),
        ("0 points converts to message \"x\"", "RL301"),
    ],
)
def test_counts_and_amounts(text: str, code: str) -> None:
    assert codes(f"currency SEK\nevent purchase with amount money, items number\n{text}\n") == [code]


def test_points_per_a_fraction_is_fine() -> None:
    program("currency SEK\nevent purchase with amount money\npurchase earns 2.5 points per 100 SEK\n")


# ---------------------------------------------------------------------------- settings


def test_each_setting_at_most_once() -> None:
    found = check("""
        rounding up
        points expire after 12 months
        points expire after 6 months without activity
        rounding nearest
        points pending for 14 days
    """).diagnostics
    assert [(d.code, d.span.line) for d in found] == [("RL111", 3), ("RL111", 4)]
    assert found[0].message == "`points expire after` is set twice (first on line 2)"


def test_timezone() -> None:
    assert program('timezone "Europe/Stockholm"\n').timezone == "Europe/Stockholm"
    assert only('timezone "europe/stockholm"\n').help == 'did you mean `"Europe/Stockholm"`?'
    assert codes('timezone "../../etc/passwd"\n') == ["RL305"]
    assert codes('timezone "Mars/Olympus"\n') == ["RL305"]


def test_notify_needs_expiry() -> None:
    assert codes('notify "x" 30 days before points expire\n') == ["RL308"]
    program('points expire after 12 months\nnotify "x" 30 days before points expire\n')


# ---------------------------------------------------------------------------- dates and windows


def test_dates_and_times() -> None:
    assert only("event e\ne earns 1 point, from 2026-02-30 to 2026-03-01\n").help == "February 2026 has 28 days"
    assert only("event e\ne earns 1 point, from 2026-13-01 to 2026-12-31\n").code == "RL304"
    assert only("event e\ne earns 1 point, between 22:00 and 24:00\n").code == "RL304"
    program("event e\ne earns 1 point, from 2028-02-29 to 2028-03-01, between 22:00 and 02:00\n")


def test_from_after_to() -> None:
    d = only("event e\ne earns 1 point, from 2026-12-24 to 2026-12-01\n")
    assert (d.code, d.help) == ("RL303", "write `from 2026-12-01 to 2026-12-24`")


def test_date_window_with_no_allowed_day() -> None:
    assert codes("event e\ne earns 1 point, from 2026-12-07 to 2026-12-11, on saturday\n") == ["RL902"]
    assert codes("event e\ne earns 1 point, from 2026-12-07 to 2026-12-12, on saturday\n") == []
    assert codes("event e\ne earns 1 point, from 2026-12-01 to 2026-12-05, from 2026-12-10 to 2026-12-20\n") == ["RL902"]
    assert codes("event e\ne earns 1 point, on monday, on friday\n") == ["RL902"]
    assert codes("event e\ne earns 1 point, on monday or friday, on friday\n") == []


def test_date_window_warning_is_not_an_error() -> None:
    checked = check("event e\ne earns 1 point, from 2026-12-07 to 2026-12-11, on saturday\n")
    assert checked.program is not None


# ---------------------------------------------------------------------------- instead of

INSTEAD = """
    currency SEK
    event purchase with amount money
    tier gold = spend in total >= 5000 SEK
"""


def test_instead_of_unknown_rule() -> None:
    d = only(INSTEAD + '    rule "A": purchase earns 1 point, instead of "B"\n')
    assert (d.code, d.help) == ("RL104", 'the rules are: "A"')


def test_instead_of_cycle_of_two() -> None:
    found = check(INSTEAD + """
    rule "A": purchase earns 1 point, for gold, instead of "B"
    rule "B": purchase earns 2 points, on saturday, instead of "A"
    """).diagnostics
    assert [d.code for d in found] == ["RL110"]
    assert found[0].message == '`instead of` goes round in a circle: "A" → "B" → "A"'


def test_instead_of_chain_is_not_a_cycle() -> None:
    program(INSTEAD + """
    rule "A": purchase earns 1 point, for gold, instead of "B"
    rule "B": purchase earns 2 points, on saturday, instead of "C"
    rule "C": purchase where amount >= 100 SEK earns 3 points
    """)


def test_instead_of_itself() -> None:
    assert codes(INSTEAD + '    rule "A": purchase earns 1 point, instead of "A"\n') == ["RL309"]


def test_fully_suppressed_rule() -> None:
    found = check(INSTEAD + """
    rule "Base": purchase earns 1 point per 10 SEK
    rule "New":  purchase earns 2 points per 10 SEK, instead of "Base"
    """).diagnostics
    assert [(d.code, d.span.line) for d in found] == [("RL903", 5)]


@pytest.mark.parametrize(
    "winner",
    [
        'purchase where amount >= 100 SEK earns 2 points, instead of "Base"',
        'purchase earns 2 points, for gold, instead of "Base"',
        'purchase earns 2 points, once, instead of "Base"',
        'first purchase earns 2 points, instead of "Base"',
        'refund earns 2 points, instead of "Base"',
    ],
)
def test_partly_suppressed_rule_is_no_warning(winner: str) -> None:
    program(INSTEAD + f'    rule "Base": purchase earns 1 point per 10 SEK\n    rule "New": {winner}\n')


def test_instead_of_on_a_conversion() -> None:
    found = check(INSTEAD + """
    rule "Base": purchase earns 1 point per 10 SEK
    rule "Check": 500 points converts to message "x", instead of "Base"
    """).diagnostics
    assert [d.code for d in found] == ["RL905"]  # a warning only: it neither suppresses nor cycles


# ---------------------------------------------------------------------------- the Program


def test_program_of_a_clean_file() -> None:
    prog = program("""
        program "Bookshop Club"
        currency SEK

        event purchase with amount money, category text optional
        event delivery

        tier gold = spend in last 12 months >= 5000 SEK

        rule "Base points": purchase earns 1 point per 10 SEK
        3 deliveries   gives   1 free
        review earns 50 points
        event review with stars number
    """)
    assert prog.name == "Bookshop Club"
    assert prog.currency == "SEK"
    assert prog.timezone == "UTC"
    assert prog.rounding == "down"
    assert prog.refund_window == DEFAULT_REFUND_WINDOW
    assert (prog.refund_window.count, prog.refund_window.unit) == (Decimal(1), "year")
    assert prog.expiry is None and prog.pending is None and prog.point_value is None
    assert prog.event_words["deliveries"] == "delivery"
    assert prog.event_words["purchases"] == "purchase"
    assert prog.rule_names == ("Base points", "3 deliveries gives 1 free", "review earns 50 points")
    assert prog.rule("3 deliveries gives 1 free") is prog.rules[1]
    assert [f.name for f in prog.events["purchase"]] == ["amount", "category"]
    assert prog.events["purchase"][1].optional
    assert [t.name.text for t in prog.tiers] == ["gold"]


def test_program_settings() -> None:
    prog = program("""
        currency EUR
        timezone "Europe/Berlin"
        rounding nearest
        refunds accepted within 90 days
        points pending for 14 days
        points expire after 12 months without activity
        point value 0.01 EUR
    """)
    assert prog.timezone == "Europe/Berlin"
    assert prog.rounding == "nearest"
    assert (prog.refund_window.count, prog.refund_window.unit) == (Decimal(90), "day")
    assert prog.pending is not None and prog.pending.count == 14
    assert prog.expiry is not None and prog.expiry.without_activity
    assert prog.point_value is not None and prog.point_value.amount == Decimal("0.01")


def test_no_program_when_there_is_an_error_but_one_with_warnings() -> None:
    assert check("event e\ne earns 0 points\n").program is None
    checked = check('customer has city text\nsegment lund = customer.city is "Lund"\n')
    assert [d.code for d in checked.diagnostics] == ["RL901"]
    assert checked.program is not None
