"""Hand-checked engine scenarios: conditions and history aggregates (LANGUAGE.md §2.3). Helpers
and conventions: ``tests/test_engine_scenarios.py``."""

from __future__ import annotations

from tests.test_engine_scenarios import expected, ledger, run


def test_spend_in_last_30_days_window_is_open_at_the_start_and_sees_history_before_the_event() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        event purchase with amount money
        rule "Regular": purchase where spend in last 30 days >= 1000 SEK earns 100 points
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-01-01T10:00:00Z", "amount": "1000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-01-31T09:59:59Z", "amount": "10.00"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-01-31T10:00:00Z", "amount": "10.00"}
        """,
    )
    # e1: the rule sees the history before e1: 0 (its own 1000 does not count): no.
    # e2: window (2026-01-01T09:59:59Z, e2] holds e1: 1000 ≥ 1000: +100.
    # e3: window (2026-01-01T10:00:00Z, e3]: e1 sits exactly on the open start: out; e2: 10: no.
    assert ledger(report) == expected(
        """
        {"time": "2026-01-31T09:59:59Z", "customer": "c1", "event": "e2", "rule": "Regular", "kind": "points", "points": 100, "balance": 100}
        """
    )


def test_spend_in_total_is_net_of_refunds() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        rule "Loyal": purchase where spend in total >= 500 SEK earns 5 points
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "300.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "300.00"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z", "amount": "10.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-05T10:00:00Z", "refunds": "e1", "amount": "150.00"}
        {"id": "e4", "type": "purchase", "customer": "c1", "time": "2026-03-06T10:00:00Z", "amount": "10.00"}
        """,
    )
    # spend before each: e1 0, e2 300, e3 600 (+5), then 610; r1 takes 150 → 460; e4 460: no
    assert ledger(report) == expected(
        """
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "e3", "rule": "Loyal", "kind": "points", "points": 5, "balance": 5}
        """
    )


def test_count_of_purchases_in_last_3_months_is_local_calendar_arithmetic() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        event purchase
        rule "Frequent": purchase where count of purchases in last 3 months >= 2 earns 20 points
        """,
        """
        {"id": "a1", "type": "purchase", "customer": "c1", "time": "2026-01-15T09:00:00Z"}
        {"id": "a2", "type": "purchase", "customer": "c1", "time": "2026-04-01T08:00:00Z"}
        {"id": "a3", "type": "purchase", "customer": "c1", "time": "2026-04-15T07:59:00Z"}
        {"id": "b1", "type": "purchase", "customer": "c2", "time": "2026-01-15T09:00:00Z"}
        {"id": "b2", "type": "purchase", "customer": "c2", "time": "2026-04-01T08:00:00Z"}
        {"id": "b3", "type": "purchase", "customer": "c2", "time": "2026-04-15T08:00:00Z"}
        """,
    )
    # a1/b1: 15 Jan 10:00 CET. a2/b2: one earlier purchase: no.
    # a3: 15 Apr 09:59 CEST − 3 months = 15 Jan 09:59 CET = 08:59Z: a1 (09:00Z) is in: 2: +20.
    # b3: 15 Apr 10:00 CEST − 3 months = 15 Jan 10:00 CET = 09:00Z = b1: on the open start, out:
    #     1: no. (UTC arithmetic would start the window at 08:00Z and count b1.)
    assert ledger(report) == expected(
        """
        {"time": "2026-04-15T07:59:00Z", "customer": "c1", "event": "a3", "rule": "Frequent", "kind": "points", "points": 20, "balance": 20}
        """
    )


def test_count_of_reviews_in_total_singular_and_plural() -> None:
    engine, report = run(
        """
        event review
        rule "Third review":  review where count of reviews in total = 2 earns 30 points
        rule "Steady":        review where count of review in total >= 3 earns 1 point
        """,
        """
        {"id": "r1", "type": "review", "customer": "c1", "time": "2026-03-02T10:00:00Z"}
        {"id": "r2", "type": "review", "customer": "c1", "time": "2026-03-03T10:00:00Z"}
        {"id": "r3", "type": "review", "customer": "c1", "time": "2026-03-04T10:00:00Z"}
        {"id": "r4", "type": "review", "customer": "c1", "time": "2026-03-05T10:00:00Z"}
        """,
    )
    # reviews before: r1 0, r2 1, r3 2 (Third review +30), r4 3 (Steady +1)
    assert ledger(report) == expected(
        """
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "r3", "rule": "Third review", "kind": "points", "points": 30, "balance": 30}
        {"time": "2026-03-05T10:00:00Z", "customer": "c1", "event": "r4", "rule": "Steady", "kind": "points", "points": 1, "balance": 31}
        """
    )


def test_balance_condition_sees_the_balance_before_the_event() -> None:
    engine, report = run(
        """
        event purchase
        rule "Base": purchase earns 100 points
        rule "Rich": purchase where balance >= 100 earns 1 point
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z"}
        """,
    )
    # e1: Base +100 → 100; Rich sees the balance before e1 (0), not Base's 100: no.
    # e2: Base +100 → 200; Rich sees 100: +1 → 201
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 100, "balance": 100}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Base", "kind": "points", "points": 100, "balance": 200}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Rich", "kind": "points", "points": 1, "balance": 201}
        """
    )


def test_tier_is_gold_condition() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        tier gold = spend in total >= 5000 SEK
        rule "Gold bonus":  purchase where tier is gold earns 7 points
        rule "Not gold yet": purchase where tier is not gold earns 1 point
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "5000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "10.00"}
        """,
    )
    # e1: tier before is none: "is gold" false; "is not gold" true (+1 → 1); → gold
    # e2: gold: +7 → 8
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Not gold yet", "kind": "points", "points": 1, "balance": 1}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": null, "kind": "tier", "from": null, "to": "gold"}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Gold bonus", "kind": "points", "points": 7, "balance": 8}
        """
    )


def test_customer_age_in_whole_years_at_the_local_date_of_the_event() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        customer has birthdate date
        segment young = customer.age between 18 and 29
        event purchase
        rule "Adults": purchase where customer.age >= 18 earns 10 points
        rule "Young":  purchase earns 1 point, for young
        """,
        """
        {"id": "p1", "type": "profile",  "customer": "c1", "time": "2026-01-01T10:00:00Z", "birthdate": "2008-03-10"}
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-09T22:59:00Z"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-09T23:00:00Z"}
        {"id": "e1", "type": "purchase", "customer": "c2", "time": "2026-03-09T23:00:00Z"}
        """,
    )
    # c1, born 2008-03-10: e1 is 9 Mar 23:59 CET: 17; e2 is 10 Mar 00:00 CET: 18: Adults +10,
    #     Young (18..29) +1. c2 has no birthdate: customer.age is missing: both false.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-09T23:00:00Z", "customer": "c1", "event": "e2", "rule": "Adults", "kind": "points", "points": 10, "balance": 10}
        {"time": "2026-03-09T23:00:00Z", "customer": "c1", "event": "e2", "rule": "Young", "kind": "points", "points": 1, "balance": 11}
        """
    )


def test_contains_on_a_list_of_text() -> None:
    engine, report = run(
        """
        event order with tags list of text
        rule "Gift": order where tags contains "gift" earns 15 points
        """,
        """
        {"id": "o1", "type": "order", "customer": "c1", "time": "2026-03-02T10:00:00Z", "tags": ["sale", "gift"]}
        {"id": "o2", "type": "order", "customer": "c1", "time": "2026-03-03T10:00:00Z", "tags": ["sale", "gifts"]}
        {"id": "o3", "type": "order", "customer": "c1", "time": "2026-03-04T10:00:00Z", "tags": []}
        """,
    )
    # o1 holds "gift": +15; o2 holds "gifts", not "gift": no; o3 holds nothing: no
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "o1", "rule": "Gift", "kind": "points", "points": 15, "balance": 15}
        """
    )


def test_in_and_not_in_lists_and_nfc_text() -> None:
    engine, report = run(
        """
        event purchase with category text
        rule "Books and games": purchase where category in ["books", "games"] earns 2 points
        rule "Not outlet":      purchase where category not in ["outlet", "gift cards"] earns 1 point
        rule "Café":            purchase where category is "café" earns 100 points
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "category": "books"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "category": "outlet"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z", "category": "Books"}
        {"id": "e4", "type": "purchase", "customer": "c1", "time": "2026-03-05T10:00:00Z", "category": "cafe\\u0301"}
        """,
    )
    # e1 books: +2 → 2, +1 → 3. e2 outlet: neither. e3 "Books" (text is exact): not in the list,
    # so Not outlet +1 → 4. e4 "cafe" + combining acute = "café" after NFC: Not outlet +1 → 5,
    # Café +100 → 105
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Books and games", "kind": "points", "points": 2, "balance": 2}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Not outlet", "kind": "points", "points": 1, "balance": 3}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "e3", "rule": "Not outlet", "kind": "points", "points": 1, "balance": 4}
        {"time": "2026-03-05T10:00:00Z", "customer": "c1", "event": "e4", "rule": "Not outlet", "kind": "points", "points": 1, "balance": 5}
        {"time": "2026-03-05T10:00:00Z", "customer": "c1", "event": "e4", "rule": "Café", "kind": "points", "points": 100, "balance": 105}
        """
    )


def test_comparison_on_a_missing_optional_field_is_false() -> None:
    engine, report = run(
        """
        event purchase with coupon text optional
        rule "Staff":     purchase where coupon = "STAFF" earns 1 point
        rule "Not staff": purchase where coupon != "STAFF" earns 2 points
        rule "No staff":  purchase where not coupon is "STAFF" earns 4 points
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "coupon": "X"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z", "coupon": "STAFF"}
        {"id": "e4", "type": "purchase", "customer": "c1", "time": "2026-03-05T10:00:00Z", "coupon": null}
        """,
    )
    # e1 (no coupon): `=` false, `!=` false too; `not (coupon is "STAFF")` = not false: +4 → 4.
    # e2 "X": != +2 → 6; not … +4 → 10. e3 "STAFF": = +1 → 11. e4 null = missing: +4 → 15.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "No staff", "kind": "points", "points": 4, "balance": 4}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Not staff", "kind": "points", "points": 2, "balance": 6}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "No staff", "kind": "points", "points": 4, "balance": 10}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "e3", "rule": "Staff", "kind": "points", "points": 1, "balance": 11}
        {"time": "2026-03-05T10:00:00Z", "customer": "c1", "event": "e4", "rule": "No staff", "kind": "points", "points": 4, "balance": 15}
        """
    )


# regression (a kernel bug at fd89844): `spend in last D` also sums the `amount` of the refund event
# itself, so a partial refund leaves windowed spend unchanged
def test_spend_in_last_30_days_is_net_of_a_partial_refund() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        rule "Regular": purchase where spend in last 30 days >= 1000 SEK earns 100 points
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "1000.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-03T10:00:00Z", "refunds": "e1", "amount": "500.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z", "amount": "1.00"}
        """,
    )
    # spend drops the refunded amount at e1's time: 1000 − 500 = 500 < 1000: e2 earns nothing
    assert ledger(report) == []


# regression (a kernel bug at fd89844): `spend in last D` sums an `amount` field of any type (here a
# number), not only of event types declared with `amount money`
def test_spend_in_last_counts_only_events_with_an_amount_money_field() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        event donation with amount number
        rule "Regular": purchase where spend in last 30 days >= 1000 SEK earns 100 points
        rule "Loyal":   purchase where spend in total >= 1000 SEK earns 10 points
        """,
        """
        {"id": "d1", "type": "donation", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": 1000}
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z", "amount": "1.00"}
        """,
    )
    # a donation's `amount` is a number, not money: spend (in last 30 days or in total) is 0
    assert ledger(report) == []
