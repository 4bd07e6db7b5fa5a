"""Hand-checked engine scenarios: effects and modifiers (LANGUAGE.md §2.3). Helpers and conventions:
``tests/test_engine_scenarios.py``."""

from __future__ import annotations

import pytest

from tests.test_engine_scenarios import expected, ledger, run

# ---------------------------------------------------------------------------------------- effects


def test_fixed_points_from_a_bare_sentence_rule() -> None:
    engine, report = run(
        """
        event review with stars number
        review earns 50 points
        """,
        """
        {"id": "r1", "type": "review", "customer": "c1", "time": "2026-03-02T10:00:00Z", "stars": 4}
        {"id": "r2", "type": "review", "customer": "c1", "time": "2026-03-03T10:00:00Z", "stars": 1}
        """,
    )
    # the rule's name is its own text; 50 + 50
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "r1", "rule": "review earns 50 points", "kind": "points", "points": 50, "balance": 50}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "r2", "rule": "review earns 50 points", "kind": "points", "points": 50, "balance": 100}
        """
    )


@pytest.mark.parametrize(
    ("setting", "amount", "points"),
    [
        ("", "249.00", 24),  # 24.9, default rounding: down
        ("rounding down", "249.00", 24),  # 24.9 → 24
        ("rounding nearest", "249.00", 25),  # 24.9 → 25
        ("rounding up", "249.00", 25),  # 24.9 → 25
        ("rounding down", "245.00", 24),  # 24.5 → 24
        ("rounding nearest", "245.00", 25),  # 24.5: halves up → 25
        ("rounding up", "245.00", 25),  # 24.5 → 25
        ("rounding nearest", "244.99", 24),  # 24.499 → 24
        ("rounding up", "240.00", 24),  # exactly 24: nothing to round
        ("rounding up", "240.01", 25),  # 24.001 → 25
    ],
)
def test_points_per_money_rounding(setting: str, amount: str, points: int) -> None:
    engine, report = run(
        f"""
        currency SEK
        {setting}
        event purchase with amount money
        rule "Base": purchase earns 1 point per 10 SEK
        """,
        f"""
        {{"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "{amount}"}}
        """,
    )
    assert ledger(report) == expected(
        f"""
        {{"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": {points}, "balance": {points}}}
        """
    )


def test_points_per_money_of_a_named_field() -> None:
    engine, report = run(
        """
        currency SEK
        event order with goods money, shipping money
        rule "Order points": order earns 2 points per 25 SEK of goods
        """,
        """
        {"id": "o1", "type": "order", "customer": "c1", "time": "2026-03-02T10:00:00Z", "goods": "399.00", "shipping": "49.00"}
        """,
    )
    # 2 × 399.00 / 25 = 31.92 → 31 (down); shipping is not counted
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "o1", "rule": "Order points", "kind": "points", "points": 31, "balance": 31}
        """
    )


def test_free_named_item() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        free "book" worth 120 SEK
        rule "Gift": purchase where amount >= 500 SEK gives 1 free "book"
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "499.99"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "500.00"}
        """,
    )
    assert ledger(report) == expected(
        """
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Gift", "kind": "free_item", "item": "book", "quantity": 1}
        """
    )


def test_free_without_an_item_is_one_of_the_event() -> None:
    engine, report = run(
        """
        event coffee
        5 coffees gives 1 free
        """,
        """
        {"id": "k1", "type": "coffee", "customer": "c1", "time": "2026-03-02T08:00:00Z"}
        {"id": "k2", "type": "coffee", "customer": "c1", "time": "2026-03-03T08:00:00Z"}
        {"id": "k3", "type": "coffee", "customer": "c1", "time": "2026-03-04T08:00:00Z"}
        {"id": "k4", "type": "coffee", "customer": "c1", "time": "2026-03-05T08:00:00Z"}
        {"id": "k5", "type": "coffee", "customer": "c1", "time": "2026-03-06T08:00:00Z"}
        """,
    )
    # the 5th coffee: one free "coffee" (the event type's name)
    assert ledger(report) == expected(
        """
        {"time": "2026-03-06T08:00:00Z", "customer": "c1", "event": "k5", "rule": "5 coffees gives 1 free", "kind": "free_item", "item": "coffee", "quantity": 1}
        """
    )


def test_several_vouchers_are_one_line_with_a_quantity() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        voucher "Free shipping" worth 49 SEK
        rule "Big order": purchase where amount > 2500 SEK gives 2 vouchers "Free shipping"
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "2600.00"}
        """,
    )
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Big order", "kind": "voucher", "voucher": "Free shipping", "quantity": 2}
        """
    )


def test_message_is_printed_as_written() -> None:
    engine, report = run(
        """
        event signup
        rule "Welcome mail": signup gives message "welcome {name}, välkommen"
        """,
        """
        {"id": "s1", "type": "signup", "customer": "c1", "time": "2026-03-02T10:00:00Z"}
        """,
    )
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "s1", "rule": "Welcome mail", "kind": "message", "message": "welcome {name}, välkommen"}
        """
    )


def test_points_that_come_to_zero_write_no_line_but_are_a_firing() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        event purchase with amount money
        rule "Monthly": purchase earns 1 point per 10 SEK, at most 1 per month
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "5.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "100.00"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-04-02T10:00:00Z", "amount": "100.00"}
        """,
    )
    # e1: 5/10 = 0.5 → 0: no line, but March's one firing is used; e2 (March): over the limit;
    # e3 (April): 100/10 = 10
    assert ledger(report) == expected(
        """
        {"time": "2026-04-02T10:00:00Z", "customer": "c1", "event": "e3", "rule": "Monthly", "kind": "points", "points": 10, "balance": 10}
        """
    )


# ---------------------------------------------------------------------------------------- modifiers


def test_for_segment() -> None:
    engine, report = run(
        """
        customer has city text
        segment stockholm = customer.city is "Stockholm"
        event purchase
        rule "Local": purchase earns 10 points, for stockholm
        """,
        """
        {"id": "p1", "type": "profile",  "customer": "c1", "time": "2026-03-01T10:00:00Z", "city": "Stockholm"}
        {"id": "p1", "type": "profile",  "customer": "c2", "time": "2026-03-01T10:00:00Z", "city": "Malmö"}
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z"}
        {"id": "e1", "type": "purchase", "customer": "c2", "time": "2026-03-02T10:00:00Z"}
        {"id": "e1", "type": "purchase", "customer": "c3", "time": "2026-03-02T10:00:00Z"}
        """,
    )
    # c1 lives in Stockholm: +10; c2 in Malmö: no; c3 has no city (missing → false): no
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Local", "kind": "points", "points": 10, "balance": 10}
        """
    )


def test_for_tiers_or_and_not() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        tier silver = spend in total >= 1000 SEK
        tier gold   = spend in total >= 5000 SEK
        rule "Members":    purchase earns 10 points, for gold or silver
        rule "Not gold":   purchase earns 5 points, for not gold
        rule "Newcomers":  purchase earns 1 point, for not silver or gold
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "1000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "4000.00"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z", "amount": "10.00"}
        """,
    )
    # rules see the tier before the event.
    # e1 (no tier): Members no; Not gold +5 → 5; Newcomers (not (silver or gold)) +1 → 6; → silver
    # e2 (silver): Members +10 → 16; Not gold +5 → 21; Newcomers no; spend 5000 → gold
    # e3 (gold): Members +10 → 31; Not gold no; Newcomers no
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Not gold", "kind": "points", "points": 5, "balance": 5}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Newcomers", "kind": "points", "points": 1, "balance": 6}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": null, "kind": "tier", "from": null, "to": "silver"}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Members", "kind": "points", "points": 10, "balance": 16}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Not gold", "kind": "points", "points": 5, "balance": 21}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": null, "kind": "tier", "from": "silver", "to": "gold"}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "e3", "rule": "Members", "kind": "points", "points": 10, "balance": 31}
        """
    )


def test_from_to_are_inclusive_local_dates() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        event purchase
        rule "Christmas": purchase earns 10 points, from 2026-12-01 to 2026-12-24
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-11-30T22:59:59Z"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-11-30T23:00:00Z"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-12-24T22:59:00Z"}
        {"id": "e4", "type": "purchase", "customer": "c1", "time": "2026-12-24T23:30:00Z"}
        """,
    )
    # CET (UTC+1): e1 = 30 Nov 23:59:59 (before); e2 = 1 Dec 00:00 (first day, in);
    # e3 = 24 Dec 23:59 (last day, in); e4 = 25 Dec 00:30 (after, although 24 Dec in UTC)
    assert ledger(report) == expected(
        """
        {"time": "2026-11-30T23:00:00Z", "customer": "c1", "event": "e2", "rule": "Christmas", "kind": "points", "points": 10, "balance": 10}
        {"time": "2026-12-24T22:59:00Z", "customer": "c1", "event": "e3", "rule": "Christmas", "kind": "points", "points": 10, "balance": 20}
        """
    )


def test_on_weekdays_are_local_days() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        event purchase
        rule "Weekend": purchase earns 10 points, on saturday or sunday
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-06T22:30:00Z"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-06T23:30:00Z"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-08T22:30:00Z"}
        {"id": "e4", "type": "purchase", "customer": "c1", "time": "2026-03-08T23:30:00Z"}
        """,
    )
    # CET: e1 = Fri 6 Mar 23:30 (no); e2 = Sat 7 Mar 00:30 (yes, though Friday in UTC);
    # e3 = Sun 8 Mar 23:30 (yes); e4 = Mon 9 Mar 00:30 (no, though Sunday in UTC)
    assert ledger(report) == expected(
        """
        {"time": "2026-03-06T23:30:00Z", "customer": "c1", "event": "e2", "rule": "Weekend", "kind": "points", "points": 10, "balance": 10}
        {"time": "2026-03-08T22:30:00Z", "customer": "c1", "event": "e3", "rule": "Weekend", "kind": "points", "points": 10, "balance": 20}
        """
    )


def test_between_wraps_past_midnight_start_included_end_excluded() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        event purchase
        rule "Night owls": purchase earns 25 points, between 22:00 and 02:00
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T20:59:00Z"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-02T21:00:00Z"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-03T00:59:00Z"}
        {"id": "e4", "type": "purchase", "customer": "c1", "time": "2026-03-03T01:00:00Z"}
        {"id": "e5", "type": "purchase", "customer": "c1", "time": "2026-03-03T11:00:00Z"}
        """,
    )
    # local (CET): e1 21:59 no; e2 22:00 yes (start included); e3 01:59 yes; e4 02:00 no (end
    # excluded); e5 12:00 no
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T21:00:00Z", "customer": "c1", "event": "e2", "rule": "Night owls", "kind": "points", "points": 25, "balance": 25}
        {"time": "2026-03-03T00:59:00Z", "customer": "c1", "event": "e3", "rule": "Night owls", "kind": "points", "points": 25, "balance": 50}
        """
    )


def test_at_most_n_per_month() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        event review with stars number
        rule "Review bonus": review where stars >= 1 earns 50 points, at most 2 per month
        """,
        """
        {"id": "r1", "type": "review", "customer": "c1", "time": "2026-03-02T10:00:00Z", "stars": 5}
        {"id": "r2", "type": "review", "customer": "c1", "time": "2026-03-10T10:00:00Z", "stars": 5}
        {"id": "r3", "type": "review", "customer": "c1", "time": "2026-03-20T10:00:00Z", "stars": 5}
        {"id": "r4", "type": "review", "customer": "c1", "time": "2026-04-01T10:00:00Z", "stars": 5}
        {"id": "r5", "type": "review", "customer": "c1", "time": "2026-04-02T10:00:00Z", "stars": 5}
        {"id": "r6", "type": "review", "customer": "c1", "time": "2026-04-03T10:00:00Z", "stars": 5}
        """,
    )
    # March: r1, r2 fire; r3 is the third: skipped. April: r4, r5 fire; r6 skipped.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Review bonus", "kind": "points", "points": 50, "balance": 50}
        {"time": "2026-03-10T10:00:00Z", "customer": "c1", "event": "r2", "rule": "Review bonus", "kind": "points", "points": 50, "balance": 100}
        {"time": "2026-04-01T10:00:00Z", "customer": "c1", "event": "r4", "rule": "Review bonus", "kind": "points", "points": 50, "balance": 150}
        {"time": "2026-04-02T10:00:00Z", "customer": "c1", "event": "r5", "rule": "Review bonus", "kind": "points", "points": 50, "balance": 200}
        """
    )


def test_at_most_n_per_week_uses_local_iso_weeks() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        event review
        rule "Weekly": review earns 10 points, at most 1 per week
        """,
        """
        {"id": "r1", "type": "review", "customer": "c1", "time": "2026-03-01T10:00:00Z"}
        {"id": "r2", "type": "review", "customer": "c1", "time": "2026-03-02T10:00:00Z"}
        {"id": "r3", "type": "review", "customer": "c1", "time": "2026-03-08T22:30:00Z"}
        {"id": "r4", "type": "review", "customer": "c1", "time": "2026-03-08T23:10:00Z"}
        """,
    )
    # r1 Sun 1 Mar (2026-W09): fires. r2 Mon 2 Mar (W10): fires. r3 Sun 8 Mar 23:30 CET (W10):
    # skipped. r4 Mon 9 Mar 00:10 CET (W11, though Sunday in UTC): fires.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-01T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Weekly", "kind": "points", "points": 10, "balance": 10}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "r2", "rule": "Weekly", "kind": "points", "points": 10, "balance": 20}
        {"time": "2026-03-08T23:10:00Z", "customer": "c1", "event": "r4", "rule": "Weekly", "kind": "points", "points": 10, "balance": 30}
        """
    )


def test_at_most_n_in_total_and_once() -> None:
    engine, report = run(
        """
        event review
        event signup
        rule "Early reviews": review earns 20 points, at most 3 in total
        rule "Welcome":       signup earns 100 points, once
        """,
        """
        {"id": "s1", "type": "signup", "customer": "c1", "time": "2026-03-01T10:00:00Z"}
        {"id": "r1", "type": "review", "customer": "c1", "time": "2026-03-02T10:00:00Z"}
        {"id": "r2", "type": "review", "customer": "c1", "time": "2026-04-02T10:00:00Z"}
        {"id": "s2", "type": "signup", "customer": "c1", "time": "2026-05-01T10:00:00Z"}
        {"id": "r3", "type": "review", "customer": "c1", "time": "2027-03-02T10:00:00Z"}
        {"id": "r4", "type": "review", "customer": "c1", "time": "2028-03-02T10:00:00Z"}
        """,
    )
    # s1 +100; r1, r2, r3 +20 each (years apart does not matter: "in total"); s2 and r4 over
    assert ledger(report) == expected(
        """
        {"time": "2026-03-01T10:00:00Z", "customer": "c1", "event": "s1", "rule": "Welcome", "kind": "points", "points": 100, "balance": 100}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Early reviews", "kind": "points", "points": 20, "balance": 120}
        {"time": "2026-04-02T10:00:00Z", "customer": "c1", "event": "r2", "rule": "Early reviews", "kind": "points", "points": 20, "balance": 140}
        {"time": "2027-03-02T10:00:00Z", "customer": "c1", "event": "r3", "rule": "Early reviews", "kind": "points", "points": 20, "balance": 160}
        """
    )


def test_points_cap_cuts_the_award_and_a_cut_to_zero_is_a_firing() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        event purchase with amount money
        rule "Capped": purchase earns 1 point per 10 SEK, at most 500 points per month,
                         at most 3 per year
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "3000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "3000.00"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z", "amount": "1000.00"}
        {"id": "e4", "type": "purchase", "customer": "c1", "time": "2026-04-02T10:00:00Z", "amount": "1000.00"}
        {"id": "e1", "type": "purchase", "customer": "c2", "time": "2026-03-02T10:00:00Z", "amount": "6000.00"}
        {"id": "e2", "type": "purchase", "customer": "c2", "time": "2026-04-02T10:00:00Z", "amount": "1000.00"}
        """,
    )
    # c1: e1 300 (300 of March's 500 used); e2 300 cut to the 200 left → 500; e3 100 cut to 0:
    #     no line, but the year's 3rd firing; e4 (April, a fresh cap) is the 4th this year: skipped.
    # c2: e1 600 cut to 500; e2 in April: the cap is fresh, 100 → 600.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Capped", "kind": "points", "points": 300, "balance": 300}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Capped", "kind": "points", "points": 200, "balance": 500}
        {"time": "2026-03-02T10:00:00Z", "customer": "c2", "event": "e1", "rule": "Capped", "kind": "points", "points": 500, "balance": 500}
        {"time": "2026-04-02T10:00:00Z", "customer": "c2", "event": "e2", "rule": "Capped", "kind": "points", "points": 100, "balance": 600}
        """
    )


INSTEAD_OF_GOLD = """
    currency SEK
    event purchase with amount money
    tier gold = spend in total >= 5000 SEK
    rule "Base points": purchase earns 1 point per 10 SEK
    rule "Gold points": purchase earns 2 points per 10 SEK, for gold, instead of "Base points"
    """


def test_instead_of_replaces_the_named_rule_when_it_fires() -> None:
    engine, report = run(
        INSTEAD_OF_GOLD,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "5000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "100.00"}
        """,
    )
    # e1 (no tier before): Gold points does not fire, Base 500 → 500; → gold
    # e2 (gold): Gold points 2 × 100/10 = 20 → 520, and Base points does not fire (not 10 + 20)
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base points", "kind": "points", "points": 500, "balance": 500}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": null, "kind": "tier", "from": null, "to": "gold"}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Gold points", "kind": "points", "points": 20, "balance": 520}
        """
    )


def test_instead_of_uses_up_the_suppressed_rules_multiple() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        free "book" worth 120 SEK
        voucher "Big basket" worth 100 SEK
        rule "Punch card": 5 purchases gives 1 free "book"
        rule "Big basket": purchase where amount >= 1000 SEK gives 1 voucher "Big basket",
                             instead of "Punch card"
        """,
        """
        {"id": "p01", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}
        {"id": "p02", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "100.00"}
        {"id": "p03", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z", "amount": "100.00"}
        {"id": "p04", "type": "purchase", "customer": "c1", "time": "2026-03-05T10:00:00Z", "amount": "100.00"}
        {"id": "p05", "type": "purchase", "customer": "c1", "time": "2026-03-06T10:00:00Z", "amount": "1000.00"}
        {"id": "p06", "type": "purchase", "customer": "c1", "time": "2026-03-07T10:00:00Z", "amount": "100.00"}
        {"id": "p07", "type": "purchase", "customer": "c1", "time": "2026-03-08T10:00:00Z", "amount": "100.00"}
        {"id": "p08", "type": "purchase", "customer": "c1", "time": "2026-03-09T10:00:00Z", "amount": "100.00"}
        {"id": "p09", "type": "purchase", "customer": "c1", "time": "2026-03-10T10:00:00Z", "amount": "100.00"}
        {"id": "p10", "type": "purchase", "customer": "c1", "time": "2026-03-11T10:00:00Z", "amount": "100.00"}
        """,
    )
    # p05 is the 5th purchase and a big one: Big basket fires, Punch card's 5th is suppressed and
    # its multiple 1 used up (no book on p06); the 10th purchase (p10) gives the book.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-06T10:00:00Z", "customer": "c1", "event": "p05", "rule": "Big basket", "kind": "voucher", "voucher": "Big basket", "quantity": 1}
        {"time": "2026-03-11T10:00:00Z", "customer": "c1", "event": "p10", "rule": "Punch card", "kind": "free_item", "item": "book", "quantity": 1}
        """
    )


def test_instead_of_a_skipped_rule_suppresses_nothing() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        event purchase with amount money
        rule "Base points":    purchase earns 1 point per 10 SEK
        rule "Monthly double": purchase earns 2 points per 10 SEK, at most 1 per month,
                                 instead of "Base points"
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "100.00"}
        """,
    )
    # e1: Monthly double 20 → 20, Base suppressed; e2: Monthly double is over its limit (skipped),
    # so it replaces nothing: Base 10 → 30
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Monthly double", "kind": "points", "points": 20, "balance": 20}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Base points", "kind": "points", "points": 10, "balance": 30}
        """
    )


def test_instead_of_a_suppressed_rule_suppresses_nothing() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        rule "C": purchase earns 1 point
        rule "B": purchase earns 10 points, instead of "C"
        rule "A": purchase where amount >= 100 SEK earns 100 points, instead of "B"
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "50.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "150.00"}
        """,
    )
    # e1: A does not match; B fires (+10 → 10) and replaces C.
    # e2: A fires and replaces B; B, not firing, replaces nothing: C fires. File order: C +1 → 11,
    #     then A +100 → 111.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "B", "kind": "points", "points": 10, "balance": 10}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "C", "kind": "points", "points": 1, "balance": 11}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "A", "kind": "points", "points": 100, "balance": 111}
        """
    )


def test_instead_of_a_rule_capped_to_zero_still_fires_and_replaces() -> None:
    # §2.3: "a firing that a cap cuts to 0 points is still a firing", and "when this rule fires
    # on an event, the named rules do not fire" — so a capped-out promotion still replaces Base.
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        event purchase with amount money
        rule "Base points": purchase earns 1 point per 10 SEK
        rule "Promo":       purchase earns 2 points per 10 SEK, at most 100 points per month,
                              instead of "Base points"
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "1000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "1000.00"}
        """,
    )
    # e1: Promo 200 cut to 100 → 100; e2: Promo 200 cut to 0 (no line), still fires: no Base
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Promo", "kind": "points", "points": 100, "balance": 100}
        """
    )


def test_a_limit_on_a_counting_rule_uses_up_the_multiples_it_skips() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        event purchase with items number
        free "sock" worth 30 SEK
        rule "Sock stamps": every 10 items of purchases gives 1 free "sock", at most 1 per day
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "items": 25}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "items": 4}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-03T11:00:00Z", "items": 1}
        """,
    )
    # e1: 25 crosses 10 and 20; one firing a day: one sock, multiple 2 is used up (not carried over).
    # e2: 29: no new multiple. e3: 30 → multiple 3, the first firing on 3 March: one sock.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Sock stamps", "kind": "free_item", "item": "sock", "quantity": 1}
        {"time": "2026-03-03T11:00:00Z", "customer": "c1", "event": "e3", "rule": "Sock stamps", "kind": "free_item", "item": "sock", "quantity": 1}
        """
    )
