"""Hand-checked engine scenarios: pending points, expiry, debts, reminders and refunds (LANGUAGE.md
§2.1, §2.3, §4, §5). Helpers and conventions: ``tests/test_engine_scenarios.py``."""

from __future__ import annotations

from tests.test_engine_scenarios import events, expected, ledger, outcomes, run

# ---------------------------------------------------------------------------------------- pending

PENDING = """
    currency SEK
    timezone "Europe/Stockholm"
    points pending for 14 days
    event purchase with amount money
    rule "Base":       purchase earns 1 point per 10 SEK
    rule "Big basket": purchase where amount >= 500 SEK earns 50 points
    """


def test_pending_points_are_released_14_local_days_later() -> None:
    engine, report = run(
        PENDING,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-20T10:00:00Z", "amount": "1000.00"}
        """,
    )
    # 1000/10 = 100 and the big basket's 50, both pending
    assert ledger(report) == expected(
        """
        {"time": "2026-03-20T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "pending", "pending": 100}
        {"time": "2026-03-20T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Big basket", "kind": "pending", "pending": 50}
        """
    )
    view = engine.customer("c1")
    assert (view.balance, view.pending) == (0, 150)
    # 20 Mar 11:00 CET + 14 days = 3 Apr 11:00 CEST = 09:00Z (across the DST change: 13 days 23
    # hours); one release line per award, with that award's rule, in the order of the awards
    assert ledger(engine.advance("2026-04-30T00:00:00Z")) == expected(
        """
        {"time": "2026-04-03T09:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 100, "balance": 100, "releases": "e1"}
        {"time": "2026-04-03T09:00:00Z", "customer": "c1", "event": null, "rule": "Big basket", "kind": "points", "points": 50, "balance": 150, "releases": "e1"}
        """
    )


def test_refund_during_the_pending_window_cuts_the_pending_award() -> None:
    engine, report = run(
        PENDING,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-20T10:00:00Z", "amount": "1000.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-25T10:00:00Z", "refunds": "e1", "amount": "400.00"}
        {"id": "e1", "type": "purchase", "customer": "c2", "time": "2026-03-20T10:00:00Z", "amount": "1000.00"}
        {"id": "r1", "type": "refund",   "customer": "c2", "time": "2026-03-25T10:00:00Z", "refunds": "e1"}
        """,
    )
    # c1: a partial refund: 600 remains, Base becomes 600/10 = 60: pending −40 (reverses e1); the
    #     big basket's 50 is a fixed award and e1 is not fully refunded: it stands.
    # c2: a full refund: Base −100 and Big basket −50, both still pending
    assert ledger(report) == expected(
        """
        {"time": "2026-03-20T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "pending", "pending": 100}
        {"time": "2026-03-20T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Big basket", "kind": "pending", "pending": 50}
        {"time": "2026-03-25T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Base", "kind": "pending", "pending": -40, "reverses": "e1"}
        {"time": "2026-03-20T10:00:00Z", "customer": "c2", "event": "e1", "rule": "Base", "kind": "pending", "pending": 100}
        {"time": "2026-03-20T10:00:00Z", "customer": "c2", "event": "e1", "rule": "Big basket", "kind": "pending", "pending": 50}
        {"time": "2026-03-25T10:00:00Z", "customer": "c2", "event": "r1", "rule": "Base", "kind": "pending", "pending": -100, "reverses": "e1"}
        {"time": "2026-03-25T10:00:00Z", "customer": "c2", "event": "r1", "rule": "Big basket", "kind": "pending", "pending": -50, "reverses": "e1"}
        """
    )
    # c1 gets what stands at the release (3 Apr 09:00Z): 60 and 50; c2 nothing
    assert ledger(engine.advance("2026-04-30T00:00:00Z")) == expected(
        """
        {"time": "2026-04-03T09:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 60, "balance": 60, "releases": "e1"}
        {"time": "2026-04-03T09:00:00Z", "customer": "c1", "event": null, "rule": "Big basket", "kind": "points", "points": 50, "balance": 110, "releases": "e1"}
        """
    )
    assert (engine.customer("c2").balance, engine.customer("c2").pending) == (0, 0)


# ---------------------------------------------------------------------------------------- expiry

EXPIRY = """
    currency SEK
    timezone "Europe/Stockholm"
    points expire after 12 months
    event purchase with amount money
    reward "Mug" costs 120 points
    rule "Base": purchase earns 1 point per 10 SEK
    """


def test_expiry_is_fifo_a_redemption_takes_the_oldest_lot_first() -> None:
    engine, report = run(
        EXPIRY,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-01-10T10:00:00Z", "amount": "1000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-06-10T10:00:00Z", "amount": "500.00"}
        {"id": "x1", "type": "redeem",   "customer": "c1", "time": "2026-07-01T10:00:00Z", "reward": "Mug"}
        """,
    )
    # lot A: 100 from e1, expires 2027-01-10 11:00 CET = 10:00Z; lot B: 50 from e2, expires
    # 2027-06-10 12:00 CEST = 10:00Z. The Mug (120) takes A's 100, then 20 of B: B has 30 left.
    assert ledger(report) == expected(
        """
        {"time": "2026-01-10T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 100, "balance": 100}
        {"time": "2026-06-10T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Base", "kind": "points", "points": 50, "balance": 150}
        {"time": "2026-07-01T10:00:00Z", "customer": "c1", "event": "x1", "rule": null, "kind": "redeem", "reward": "Mug", "points": -120, "balance": 30}
        """
    )
    # A is empty at its expiry: no line; B's 30 expire at 2027-06-10T10:00Z
    assert ledger(engine.advance("2027-12-31T00:00:00Z")) == expected(
        """
        {"time": "2027-06-10T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -30, "balance": 0}
        """
    )


def test_expiry_is_the_same_local_wall_clock_time_12_months_on() -> None:
    engine, report = run(
        EXPIRY,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-28T10:00:00Z", "amount": "100.00"}
        """,
    )
    # 2026-03-28 11:00 CET (the day before summer time) + 12 months = 2027-03-28 11:00, which is
    # summer time in 2027 (from 28 Mar 01:00Z): CEST = 09:00Z
    assert engine.customer("c1").lots[0].expires == "2027-03-28T09:00:00Z"
    assert ledger(engine.advance("2027-12-31T00:00:00Z")) == expected(
        """
        {"time": "2027-03-28T09:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -10, "balance": 0}
        """
    )


WITHOUT_ACTIVITY = """
    currency SEK
    timezone "Europe/Stockholm"
    points expire after 6 months without activity
    event purchase with amount money
    event visit
    rule "Base": purchase earns 1 point per 10 SEK
    """


def test_points_expire_after_6_months_without_activity() -> None:
    engine, report = run(
        WITHOUT_ACTIVITY,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-01-10T10:00:00Z", "amount": "1000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-02-10T10:00:00Z", "amount": "500.00"}
        {"id": "v1", "type": "visit",    "customer": "c1", "time": "2026-03-01T12:00:00Z"}
        """,
    )
    assert ledger(report) == expected(
        """
        {"time": "2026-01-10T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 100, "balance": 100}
        {"time": "2026-02-10T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Base", "kind": "points", "points": 50, "balance": 150}
        """
    )
    # the last event is v1 (an event of any kind is activity): 2026-03-01 13:00 CET + 6 months =
    # 2026-09-01 13:00 CEST = 11:00Z: all 150 expire at once. Nothing at e1's or e2's 6 months.
    assert ledger(engine.advance("2026-12-31T00:00:00Z")) == expected(
        """
        {"time": "2026-09-01T11:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -150, "balance": 0}
        """
    )


# regression (a kernel bug at fd89844): with `without activity` the expiry is only scheduled when
# the customer has lots at the event; points that were pending then (or that a birthday gives later)
# never expire
def test_points_expire_without_activity_also_when_they_were_pending_at_the_last_event() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        points pending for 14 days
        points expire after 6 months without activity
        event purchase with amount money
        rule "Base": purchase earns 1 point per 10 SEK
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-01-10T10:00:00Z", "amount": "1000.00"}
        """,
    )
    # released 2026-01-24 11:00 CET = 10:00Z; no event for 6 months after e1 (2026-01-10 11:00
    # CET): on 2026-07-10 11:00 CEST = 09:00Z all points expire
    assert ledger(engine.advance("2026-12-31T00:00:00Z")) == expected(
        """
        {"time": "2026-01-24T10:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 100, "balance": 100, "releases": "e1"}
        {"time": "2026-07-10T09:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -100, "balance": 0}
        """
    )


# ---------------------------------------------------------------------------------------- debts


def test_a_reversal_larger_than_the_balance_makes_a_debt_that_later_awards_pay_first() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        reward "Tote bag" costs 150 points
        rule "Base": purchase earns 1 point per 10 SEK
        """,
        """
        {"id": "a1", "type": "adjust",   "customer": "c1", "time": "2026-03-01T10:00:00Z", "points": 100, "reason": "opening balance"}
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "1000.00"}
        {"id": "x1", "type": "redeem",   "customer": "c1", "time": "2026-03-03T10:00:00Z", "reward": "Tote bag"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-04T10:00:00Z", "refunds": "e1"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-05T10:00:00Z", "amount": "300.00"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-06T10:00:00Z", "amount": "500.00"}
        """,
    )
    # a1 100 (lot a1) → 100; e1 100 (lot e1) → 200; x1 −150 FIFO: lot a1 0, lot e1 50 → 50;
    # r1 reverses e1's 100: lot e1's 50, no other lot, 50 of debt → −50;
    # e2 +30 pays debt → −20; e3 +50: 20 pays the debt, 30 becomes a lot → 30
    assert ledger(report) == expected(
        """
        {"time": "2026-03-01T10:00:00Z", "customer": "c1", "event": "a1", "rule": null, "kind": "points", "points": 100, "balance": 100, "reason": "opening balance"}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 100, "balance": 200}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "x1", "rule": null, "kind": "redeem", "reward": "Tote bag", "points": -150, "balance": 50}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Base", "kind": "points", "points": -100, "balance": -50, "reverses": "e1"}
        {"time": "2026-03-05T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Base", "kind": "points", "points": 30, "balance": -20}
        {"time": "2026-03-06T10:00:00Z", "customer": "c1", "event": "e3", "rule": "Base", "kind": "points", "points": 50, "balance": 30}
        """
    )
    view = engine.customer("c1")
    assert view.balance == 30
    assert [(lot.points, lot.available) for lot in view.lots] == [(30, "2026-03-06T10:00:00Z")]


# ---------------------------------------------------------------------------------------- notify


def test_notify_one_message_per_local_day_at_the_earliest_reminder_with_what_is_left() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        points expire after 12 months
        event purchase with amount money
        reward "Mug" costs 30 points
        rule "Base": purchase earns 1 point per 10 SEK
        notify "points-expiring" 30 days before points expire
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-01-10T10:00:00Z", "amount": "1000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-01-10T15:00:00Z", "amount": "500.00"}
        {"id": "x1", "type": "redeem",   "customer": "c1", "time": "2026-06-01T10:00:00Z", "reward": "Mug"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-07-01T10:00:00Z", "amount": "200.00"}
        {"id": "e1", "type": "purchase", "customer": "c2", "time": "2026-01-10T10:00:00Z", "amount": "300.00"}
        {"id": "x1", "type": "redeem",   "customer": "c2", "time": "2026-02-01T10:00:00Z", "reward": "Mug"}
        """,
    )
    assert len(ledger(report)) == 6
    # c1: lot e1 100 (expires 2027-01-10 11:00 CET = 10:00Z), lot e2 50 (2027-01-10T15:00Z);
    #     x1 takes 30 of lot e1 (70 left) → 120; lot e3 20 (2026-07-01 12:00 CEST + 12 months =
    #     2027-07-01 12:00 CEST = 10:00Z) → 140.
    #     Reminders 30 days before: e1's 2026-12-11 11:00 CET = 10:00Z, e2's 2026-12-11T15:00Z:
    #     the same local day: one message at 10:00Z, expiring 70 + 50 = 120, expires the earlier
    #     (2027-01-10T10:00Z). e3's: 2027-06-01 12:00 CEST = 10:00Z: expiring 20.
    #     Expiries: −70 → 70, −50 → 20, −20 → 0.
    # c2: lot e1 30 is all spent by x1: no reminder, no expiry.
    assert ledger(engine.advance("2027-12-31T00:00:00Z")) == expected(
        """
        {"time": "2026-12-11T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "message", "message": "points-expiring", "expiring": 120, "expires": "2027-01-10T10:00:00Z"}
        {"time": "2027-01-10T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -70, "balance": 70}
        {"time": "2027-01-10T15:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -50, "balance": 20}
        {"time": "2027-06-01T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "message", "message": "points-expiring", "expiring": 20, "expires": "2027-07-01T10:00:00Z"}
        {"time": "2027-07-01T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -20, "balance": 0}
        """
    )


# ---------------------------------------------------------------------------------------- refunds

REFUNDS = """
    currency SEK
    event purchase with amount money
    rule "Base":       purchase earns 1 point per 10 SEK
    rule "Big basket": purchase where amount >= 500 SEK earns 50 points
    """


def test_partial_refund_reduces_rate_awards_to_the_award_of_the_remaining_amount() -> None:
    engine, report = run(
        REFUNDS,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "1000.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-03T10:00:00Z", "refunds": "e1", "amount": "249.00"}
        """,
    )
    # e1: Base 100 → 100, Big basket 50 → 150.
    # r1: 751.00 remains: Base becomes 75.1 → 75: reversal 100 − 75 = 25 → 125. Big basket is
    #     fixed and e1 is not fully refunded: stands (conditions are not re-checked: 751 ≥ 500 or not)
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 100, "balance": 100}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Big basket", "kind": "points", "points": 50, "balance": 150}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Base", "kind": "points", "points": -25, "balance": 125, "reverses": "e1"}
        """
    )


def test_full_refund_reverses_every_award_and_uncounts_the_event() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        free "book" worth 120 SEK
        rule "Base":       purchase earns 1 point per 10 SEK
        rule "Punch card": 3 purchases gives 1 free "book"
        rule "Regular":    purchase where count of purchases in total >= 2 earns 7 points
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "200.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-04T10:00:00Z", "refunds": "e2"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-05T10:00:00Z", "amount": "100.00"}
        {"id": "e4", "type": "purchase", "customer": "c1", "time": "2026-03-06T10:00:00Z", "amount": "100.00"}
        """,
    )
    # e1: +10 → 10 (count before 0; punch 1). e2: +20 → 30 (count before 1: no; punch 2).
    # r1 (no amount: all of it): Base −20 → 10; punch back to 1; count of purchases back to 1.
    # e3: +10 → 20; count before 1: no; punch 2. e4: +10 → 30; punch 3: book; count before 2: +7 → 37
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 10, "balance": 10}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Base", "kind": "points", "points": 20, "balance": 30}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Base", "kind": "points", "points": -20, "balance": 10, "reverses": "e2"}
        {"time": "2026-03-05T10:00:00Z", "customer": "c1", "event": "e3", "rule": "Base", "kind": "points", "points": 10, "balance": 20}
        {"time": "2026-03-06T10:00:00Z", "customer": "c1", "event": "e4", "rule": "Base", "kind": "points", "points": 10, "balance": 30}
        {"time": "2026-03-06T10:00:00Z", "customer": "c1", "event": "e4", "rule": "Punch card", "kind": "free_item", "item": "book", "quantity": 1}
        {"time": "2026-03-06T10:00:00Z", "customer": "c1", "event": "e4", "rule": "Regular", "kind": "points", "points": 7, "balance": 37}
        """
    )


def test_two_partial_refunds_adding_up_to_the_whole_reverse_the_fixed_awards_on_the_second() -> None:
    engine, report = run(
        REFUNDS,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "1000.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-03T10:00:00Z", "refunds": "e1", "amount": "400.00"}
        {"id": "r2", "type": "refund",   "customer": "c1", "time": "2026-03-04T10:00:00Z", "refunds": "e1", "amount": "600.00"}
        """,
    )
    # e1: 100 + 50 → 150. r1: 600 remains → Base 60: −40 → 110.
    # r2: 0 remains → Base 0: −60 → 50; fully refunded now: Big basket −50 → 0
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 100, "balance": 100}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Big basket", "kind": "points", "points": 50, "balance": 150}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Base", "kind": "points", "points": -40, "balance": 110, "reverses": "e1"}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "r2", "rule": "Base", "kind": "points", "points": -60, "balance": 50, "reverses": "e1"}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "r2", "rule": "Big basket", "kind": "points", "points": -50, "balance": 0, "reverses": "e1"}
        """
    )


def test_refund_of_more_than_remains_is_rejected() -> None:
    engine, report = run(
        REFUNDS,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "1000.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-03T10:00:00Z", "refunds": "e1", "amount": "1200.00"}
        {"id": "r2", "type": "refund",   "customer": "c1", "time": "2026-03-04T10:00:00Z", "refunds": "e1", "amount": "600.00"}
        {"id": "r3", "type": "refund",   "customer": "c1", "time": "2026-03-05T10:00:00Z", "refunds": "e1", "amount": "500.00"}
        """,
    )
    # r1: 1200 > 1000: rejected. r2: 400 remains → Base 40: −60 → 90. r3: 500 > 400: rejected.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 100, "balance": 100}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Big basket", "kind": "points", "points": 50, "balance": 150}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "r2", "rule": "Base", "kind": "points", "points": -60, "balance": 90, "reverses": "e1"}
        """
    )
    assert outcomes(report) == [
        ("e1", "applied", None),
        ("r1", "rejected", "refund_too_much"),
        ("r2", "applied", None),
        ("r3", "rejected", "refund_too_much"),
    ]
    reasons = [o.reason for o in report.rejected]
    assert "1200" in reasons[0] and "1000" in reasons[0]
    assert "500" in reasons[1] and "400" in reasons[1]


def test_refund_of_an_unknown_or_built_in_event_is_rejected() -> None:
    engine, report = run(
        REFUNDS,
        """
        {"id": "a1", "type": "adjust", "customer": "c1", "time": "2026-03-01T10:00:00Z", "points": 10}
        {"id": "r1", "type": "refund", "customer": "c1", "time": "2026-03-02T10:00:00Z", "refunds": "nope"}
        {"id": "r2", "type": "refund", "customer": "c1", "time": "2026-03-03T10:00:00Z", "refunds": "a1"}
        """,
    )
    # only declared events can be refunded: a1 (adjust) cannot; "nope" was never applied
    assert ledger(report) == expected(
        """
        {"time": "2026-03-01T10:00:00Z", "customer": "c1", "event": "a1", "rule": null, "kind": "points", "points": 10, "balance": 10, "reason": null}
        """
    )
    assert outcomes(report) == [
        ("a1", "applied", None),
        ("r1", "rejected", "unknown_event"),
        ("r2", "rejected", "unknown_event"),
    ]


def test_refund_older_than_the_refund_window_is_rejected() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        refunds accepted within 90 days
        event purchase with amount money
        rule "Base": purchase earns 1 point per 10 SEK
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-01-10T10:00:00Z", "amount": "1000.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-04-10T09:00:00Z", "refunds": "e1"}
        {"id": "e1", "type": "purchase", "customer": "c2", "time": "2026-01-10T10:00:00Z", "amount": "1000.00"}
        {"id": "r1", "type": "refund",   "customer": "c2", "time": "2026-04-10T09:00:01Z", "refunds": "e1"}
        """,
    )
    # e1 is 10 Jan 11:00 CET; + 90 days (21 + 28 + 31 + 10) = 10 Apr 11:00 CEST = 09:00Z.
    # c1's refund is exactly 90 days old: not older than the window: accepted (−100).
    # c2's is one second older: rejected.
    assert ledger(report) == expected(
        """
        {"time": "2026-01-10T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 100, "balance": 100}
        {"time": "2026-04-10T09:00:00Z", "customer": "c1", "event": "r1", "rule": "Base", "kind": "points", "points": -100, "balance": 0, "reverses": "e1"}
        {"time": "2026-01-10T10:00:00Z", "customer": "c2", "event": "e1", "rule": "Base", "kind": "points", "points": 100, "balance": 100}
        """
    )
    assert [(o.customer, o.event, o.status) for o in report.outcomes] == [
        ("c1", "e1", "applied"), ("c1", "r1", "applied"), ("c2", "e1", "applied"), ("c2", "r1", "rejected"),
    ]
    assert "refund window" in report.rejected[0].reason


def test_reversal_takes_from_the_awards_own_lot_first() -> None:
    engine, report = run(
        EXPIRY,
        """
        {"id": "a1", "type": "adjust",   "customer": "c1", "time": "2026-01-10T10:00:00Z", "points": 100, "reason": "goodwill"}
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-02-10T10:00:00Z", "amount": "500.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-02-11T10:00:00Z", "refunds": "e1"}
        """,
    )
    # lots: a1 100 (expires 2027-01-10T10:00Z), e1 50 (expires 2027-02-10T10:00Z); the reversal
    # of e1's 50 takes e1's own lot, not the older a1 (FIFO would leave 50 + 50)
    assert ledger(report) == expected(
        """
        {"time": "2026-01-10T10:00:00Z", "customer": "c1", "event": "a1", "rule": null, "kind": "points", "points": 100, "balance": 100, "reason": "goodwill"}
        {"time": "2026-02-10T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 50, "balance": 150}
        {"time": "2026-02-11T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Base", "kind": "points", "points": -50, "balance": 100, "reverses": "e1"}
        """
    )
    assert ledger(engine.advance("2027-12-31T00:00:00Z")) == expected(
        """
        {"time": "2027-01-10T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -100, "balance": 0}
        """
    )


# regression (a kernel bug at fd89844): rules on a refund event see the history after the refund's
# own effect (spend already reduced), not the state before the event
def test_rules_on_refund_come_after_its_own_effect_and_see_the_state_before_it() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        rule "Base":      purchase earns 1 point per 10 SEK
        rule "Sorry":     refund gives message "sorry"
        rule "Sorry big": refund where spend in total >= 1000 SEK gives message "sorry-big-spender"
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "1000.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-03T10:00:00Z", "refunds": "e1"}
        """,
    )
    # r1: its own effect first (Base −100 → 0), then the rules in file order, which see the state
    # before r1: spend in total 1000 ≥ 1000, so both messages
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 100, "balance": 100}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Base", "kind": "points", "points": -100, "balance": 0, "reverses": "e1"}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Sorry", "kind": "message", "message": "sorry"}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Sorry big", "kind": "message", "message": "sorry-big-spender"}
        """
    )


# regression (a kernel bug at fd89844): with `without activity` the expiry is only scheduled when
# the customer has lots at the event; birthday points given later never expire
def test_points_expire_without_activity_also_when_a_birthday_gave_them_after_the_last_event() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        points expire after 6 months without activity
        customer has birthdate date
        rule "Birthday": birthday earns 200 points
        """,
        """
        {"id": "p1", "type": "profile", "customer": "c1", "time": "2026-01-10T10:00:00Z", "birthdate": "1990-05-17"}
        """,
    )
    # birthday 2026-05-17 00:00 CEST = 2026-05-16T22:00Z: +200 at once. The last event is p1
    # (2026-01-10 11:00 CET): "all of a customer's points expire when 6 months pass with no event"
    # → 2026-07-10 11:00 CEST = 09:00Z. (The engine never expires them, not even by 2027-03.)
    assert ledger(engine.advance("2027-03-01T00:00:00Z")) == expected(
        """
        {"time": "2026-05-16T22:00:00Z", "customer": "c1", "event": null, "rule": "Birthday", "kind": "points", "points": 200, "balance": 200}
        {"time": "2026-07-10T09:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -200, "balance": 0}
        """
    )


def test_notify_before_points_expire_without_activity() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        points expire after 6 months without activity
        event purchase with amount money
        rule "Base": purchase earns 1 point per 10 SEK
        notify "points-expiring" 30 days before points expire
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-01-10T10:00:00Z", "amount": "1000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-02-10T10:00:00Z", "amount": "500.00"}
        """,
    )
    assert len(ledger(report)) == 2
    # deadline: e2 (10 Feb 11:00 CET) + 6 months = 10 Aug 11:00 CEST = 09:00Z; the reminder 30
    # days before: 11 Jul 11:00 CEST = 09:00Z, for all 150. (e1's old deadline, 10 Jul, and its
    # reminder, 10 Jun, no longer hold: nothing then.)
    assert ledger(engine.advance("2026-12-31T00:00:00Z")) == expected(
        """
        {"time": "2026-07-11T09:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "message", "message": "points-expiring", "expiring": 150, "expires": "2026-08-10T09:00:00Z"}
        {"time": "2026-08-10T09:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -150, "balance": 0}
        """
    )


def test_at_one_instant_a_release_comes_before_an_expiry() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        points expire after 12 months
        points pending for 14 days
        event purchase with amount money
        rule "Base": purchase earns 1 point per 10 SEK
        """,
        """
        {"id": "a1", "type": "adjust",   "customer": "c1", "time": "2025-03-16T10:00:00Z", "points": 100, "reason": "opening balance"}
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}
        """,
    )
    # a1's lot expires 2026-03-16 11:00 CET = 10:00Z, the moment e1's 10 points are released
    # (2026-03-02 11:00 CET + 14 days): releases first (+10 → 110), then expiries (−100 → 10)
    assert ledger(engine.advance("2026-03-31T00:00:00Z")) == expected(
        """
        {"time": "2026-03-16T10:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 10, "balance": 110, "releases": "e1"}
        {"time": "2026-03-16T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -100, "balance": 10}
        """
    )


def test_first_is_not_given_back_by_a_refund() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        rule "First purchase": first purchase earns 200 points
        rule "Base":           purchase earns 1 point per 10 SEK
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-03T10:00:00Z", "refunds": "e1"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z", "amount": "100.00"}
        """,
    )
    # e1: +200 → 200, +10 → 210; r1 (full): −200 → 10, −10 → 0; e2 is not a new first: +10 → 10
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "First purchase", "kind": "points", "points": 200, "balance": 200}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "points", "points": 10, "balance": 210}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "r1", "rule": "First purchase", "kind": "points", "points": -200, "balance": 10, "reverses": "e1"}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Base", "kind": "points", "points": -10, "balance": 0, "reverses": "e1"}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Base", "kind": "points", "points": 10, "balance": 10}
        """
    )


def test_a_rate_award_on_another_field_is_reversed_only_by_a_full_refund() -> None:
    engine, report = run(
        """
        currency SEK
        event order with amount money, goods money
        rule "Goods points": order earns 1 point per 10 SEK of goods
        rule "Base":         order earns 1 point per 10 SEK
        """,
        """
        {"id": "o1", "type": "order",  "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "1049.00", "goods": "1000.00"}
        {"id": "r1", "type": "refund", "customer": "c1", "time": "2026-03-03T10:00:00Z", "refunds": "o1", "amount": "549.00"}
        {"id": "r2", "type": "refund", "customer": "c1", "time": "2026-03-04T10:00:00Z", "refunds": "o1", "amount": "500.00"}
        """,
    )
    # o1: goods 1000/10 = 100 → 100; amount 1049/10 = 104.9 → 104 → 204.
    # r1: 500 remains: Base becomes 50: −54 → 150; "Goods points" (not of `amount`) stands.
    # r2: nothing remains: fully refunded: Goods points −100 → 50, Base −50 → 0 (award order)
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "o1", "rule": "Goods points", "kind": "points", "points": 100, "balance": 100}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "o1", "rule": "Base", "kind": "points", "points": 104, "balance": 204}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Base", "kind": "points", "points": -54, "balance": 150, "reverses": "o1"}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "r2", "rule": "Goods points", "kind": "points", "points": -100, "balance": 50, "reverses": "o1"}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "r2", "rule": "Base", "kind": "points", "points": -50, "balance": 0, "reverses": "o1"}
        """
    )


# regression (a kernel bug at fd89844): the same bug as above; no reminder and no expiry either
def test_notify_without_activity_covers_points_released_after_the_last_event() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        points pending for 14 days
        points expire after 6 months without activity
        event purchase with amount money
        rule "Base": purchase earns 1 point per 10 SEK
        notify "points-expiring" 30 days before points expire
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-01-10T10:00:00Z", "amount": "1000.00"}
        """,
    )
    # released 2026-01-24T10:00Z; deadline: e1 (10 Jan 11:00 CET) + 6 months = 10 Jul 11:00 CEST
    # = 09:00Z; the reminder 30 days before: 10 Jun 11:00 CEST = 09:00Z, for the 100
    assert ledger(engine.advance("2026-12-31T00:00:00Z")) == expected(
        """
        {"time": "2026-01-24T10:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 100, "balance": 100, "releases": "e1"}
        {"time": "2026-06-10T09:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "message", "message": "points-expiring", "expiring": 100, "expires": "2026-07-10T09:00:00Z"}
        {"time": "2026-07-10T09:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -100, "balance": 0}
        """
    )
