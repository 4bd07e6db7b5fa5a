"""Hand-checked engine scenarios: tiers, built-in events, input handling and calendar edges
(LANGUAGE.md §2.2, §3, §4). Helpers and conventions: ``tests/test_engine_scenarios.py``."""

from __future__ import annotations

from tests.test_engine_scenarios import events, expected, ledger, make_engine, outcomes, run

# ---------------------------------------------------------------------------------------- tiers


def test_tier_goes_up_and_down_with_a_rolling_window() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        event purchase with amount money
        tier silver = spend in last 12 months >= 2000 SEK
        rule "Tier mail": tier change gives message "tier-changed"
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-01-10T10:00:00Z", "amount": "2500.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-06-01T10:00:00Z", "amount": "1000.00"}
        """,
    )
    # e1: 2500 in the window → silver (tier line, then the tier change rule); e2: 3500, silver
    assert ledger(report) == expected(
        """
        {"time": "2026-01-10T10:00:00Z", "customer": "c1", "event": "e1", "rule": null, "kind": "tier", "from": null, "to": "silver"}
        {"time": "2026-01-10T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Tier mail", "kind": "message", "message": "tier-changed"}
        """
    )
    # e1 leaves the window at 2027-01-10 11:00 CET = 10:00Z (window (t − 12 months, t] no longer
    # holds it): 1000 → no tier, a scheduled tier line (event null). e3 (2027-03-01 11:00 CET):
    # window from 2026-03-01 11:00 CET holds e2 and e3: 2500 → silver again.
    report = engine.run(events(
        """
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2027-03-01T10:00:00Z", "amount": "1500.00"}
        """
    ))
    assert ledger(report) == expected(
        """
        {"time": "2027-01-10T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "tier", "from": "silver", "to": null}
        {"time": "2027-01-10T10:00:00Z", "customer": "c1", "event": null, "rule": "Tier mail", "kind": "message", "message": "tier-changed"}
        {"time": "2027-03-01T10:00:00Z", "customer": "c1", "event": "e3", "rule": null, "kind": "tier", "from": null, "to": "silver"}
        {"time": "2027-03-01T10:00:00Z", "customer": "c1", "event": "e3", "rule": "Tier mail", "kind": "message", "message": "tier-changed"}
        """
    )
    # e2 leaves at 2027-06-01 12:00 CEST = 10:00Z: 1500 → none. e3 leaves 2028-03-01: no change.
    assert ledger(engine.advance("2028-12-31T00:00:00Z")) == expected(
        """
        {"time": "2027-06-01T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "tier", "from": "silver", "to": null}
        {"time": "2027-06-01T10:00:00Z", "customer": "c1", "event": null, "rule": "Tier mail", "kind": "message", "message": "tier-changed"}
        """
    )


def test_tier_kept_for_12_months_after_its_condition_stops() -> None:
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        event purchase with amount money
        tier silver = spend in last 12 months >= 2000 SEK
        tier gold   = spend in last 12 months >= 5000 SEK, kept for 12 months
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-01-10T10:00:00Z", "amount": "5000.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2027-03-01T10:00:00Z", "amount": "2500.00"}
        """,
    )
    # e1 → gold. At 2027-01-10T10:00Z e1 leaves the window: gold's condition stops and it is kept
    # until 2028-01-10 11:00 CET = 10:00Z: no line. e2: silver holds, gold is kept: still gold.
    assert ledger(report) == expected(
        """
        {"time": "2026-01-10T10:00:00Z", "customer": "c1", "event": "e1", "rule": null, "kind": "tier", "from": null, "to": "gold"}
        """
    )
    assert engine.customer("c1").tier == "gold"
    # 2028-01-10T10:00Z: gold's 12 months end; e2 (2027-03-01) is in the window: silver.
    # 2028-03-01 11:00 CET = 10:00Z: e2 leaves: none.
    assert ledger(engine.advance("2028-12-31T00:00:00Z")) == expected(
        """
        {"time": "2028-01-10T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "tier", "from": "gold", "to": "silver"}
        {"time": "2028-03-01T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "tier", "from": "silver", "to": null}
        """
    )


# regression (a kernel bug at fd89844): `spend in last D` also sums the `amount` of the refund event
# itself (history entries of every type are summed), so a partial refund does not lower windowed
# spend
def test_a_partial_refund_can_take_a_tier_away_at_once() -> None:
    engine, report = run(
        """
        currency SEK
        event purchase with amount money
        tier gold = spend in last 12 months >= 5000 SEK
        rule "Gold mail": tier change to gold gives message "welcome-to-gold"
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "5000.00"}
        {"id": "r1", "type": "refund",   "customer": "c1", "time": "2026-03-03T10:00:00Z", "refunds": "e1", "amount": "0.01"}
        """,
    )
    # e1 → gold (+ the gold mail); r1 drops spend at e1's time to 4999.99: the tier is
    # re-evaluated after r1 (step 4): none. "tier change to gold" does not fire on the way down.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": null, "kind": "tier", "from": null, "to": "gold"}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Gold mail", "kind": "message", "message": "welcome-to-gold"}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "r1", "rule": null, "kind": "tier", "from": "gold", "to": null}
        """
    )


# ---------------------------------------------------------------------------------------- built-ins


def test_redeem_deducts_the_cost_or_is_rejected() -> None:
    engine, report = run(
        """
        reward "Tote bag" costs 800 points
        """,
        """
        {"id": "a1", "type": "adjust", "customer": "c1", "time": "2026-03-01T10:00:00Z", "points": 1000, "reason": "goodwill"}
        {"id": "x1", "type": "redeem", "customer": "c1", "time": "2026-03-02T10:00:00Z", "reward": "Tote bag"}
        {"id": "x2", "type": "redeem", "customer": "c1", "time": "2026-03-03T10:00:00Z", "reward": "Tote bag"}
        {"id": "x3", "type": "redeem", "customer": "c1", "time": "2026-03-04T10:00:00Z", "reward": "Mug"}
        """,
    )
    # a1 +1000; x1 −800 → 200; x2: 800 > 200: rejected; x3: no such reward: rejected
    assert ledger(report) == expected(
        """
        {"time": "2026-03-01T10:00:00Z", "customer": "c1", "event": "a1", "rule": null, "kind": "points", "points": 1000, "balance": 1000, "reason": "goodwill"}
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "x1", "rule": null, "kind": "redeem", "reward": "Tote bag", "points": -800, "balance": 200}
        """
    )
    assert outcomes(report) == [
        ("a1", "applied", None),
        ("x1", "applied", None),
        ("x2", "rejected", "not_enough_points"),
        ("x3", "rejected", "unknown_reward"),
    ]
    x2, x3 = report.rejected
    assert "800" in x2.reason and "200" in x2.reason
    assert "Mug" in x3.reason
    assert engine.customer("c1").balance == 200


def test_adjust_positive_is_a_lot_that_expires_negative_is_taken_fifo() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        points expire after 12 months
        """,
        """
        {"id": "a1", "type": "adjust", "customer": "c1", "time": "2026-01-10T10:00:00Z", "points": 100, "reason": "opening balance"}
        {"id": "a2", "type": "adjust", "customer": "c1", "time": "2026-02-01T10:00:00Z", "points": -30, "reason": "correction"}
        {"id": "a1", "type": "adjust", "customer": "c2", "time": "2026-01-10T10:00:00Z", "points": "-50", "reason": "correction"}
        {"id": "a2", "type": "adjust", "customer": "c2", "time": "2026-02-01T10:00:00Z", "points": 80, "reason": "goodwill"}
        """,
    )
    # c1: +100 → 100 (a lot expiring 2027-01-10 11:00 CET = 10:00Z); −30 → 70, from that lot.
    # c2: −50 → −50 (a debt); +80: 50 pays the debt, a lot of 30 → 30 (expires 2027-02-01T10:00Z)
    assert ledger(report) == expected(
        """
        {"time": "2026-01-10T10:00:00Z", "customer": "c1", "event": "a1", "rule": null, "kind": "points", "points": 100, "balance": 100, "reason": "opening balance"}
        {"time": "2026-02-01T10:00:00Z", "customer": "c1", "event": "a2", "rule": null, "kind": "points", "points": -30, "balance": 70, "reason": "correction"}
        {"time": "2026-01-10T10:00:00Z", "customer": "c2", "event": "a1", "rule": null, "kind": "points", "points": -50, "balance": -50, "reason": "correction"}
        {"time": "2026-02-01T10:00:00Z", "customer": "c2", "event": "a2", "rule": null, "kind": "points", "points": 80, "balance": 30, "reason": "goodwill"}
        """
    )
    assert ledger(engine.advance("2027-12-31T00:00:00Z")) == expected(
        """
        {"time": "2027-01-10T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -70, "balance": 0}
        {"time": "2027-02-01T10:00:00Z", "customer": "c2", "event": null, "rule": null, "kind": "expire", "points": -30, "balance": 0}
        """
    )


def test_adjust_without_a_reason_prints_reason_null() -> None:
    # §5 lists `reason` as a key of an adjustment's line; with no reason given, the engine writes
    # null (one reading of the design: the key is always there on an adjustment)
    engine, report = run(
        "",
        """
        {"id": "a1", "type": "adjust", "customer": "c1", "time": "2026-03-01T10:00:00Z", "points": 5}
        """,
    )
    assert ledger(report) == expected(
        """
        {"time": "2026-03-01T10:00:00Z", "customer": "c1", "event": "a1", "rule": null, "kind": "points", "points": 5, "balance": 5, "reason": null}
        """
    )


def test_profile_sets_fields_keeps_the_others_and_null_unsets() -> None:
    engine, report = run(
        """
        customer has city text, gender text optional
        segment stockholm = customer.city is "Stockholm"
        event purchase
        rule "Local": purchase earns 10 points, for stockholm
        """,
        """
        {"id": "p1", "type": "profile",  "customer": "c1", "time": "2026-03-01T10:00:00Z", "city": "Stockholm"}
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z"}
        {"id": "p2", "type": "profile",  "customer": "c1", "time": "2026-03-03T10:00:00Z", "gender": "f"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z"}
        {"id": "p3", "type": "profile",  "customer": "c1", "time": "2026-03-05T10:00:00Z", "city": null}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-06T10:00:00Z"}
        """,
    )
    # p1 sets the city: e1 +10; p2 sets only the gender, the city stays: e2 +10; p3 unsets the
    # city: e3 nothing. Profile events write no lines themselves.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Local", "kind": "points", "points": 10, "balance": 10}
        {"time": "2026-03-04T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Local", "kind": "points", "points": 10, "balance": 20}
        """
    )
    assert report.counts == {"read": 6, "applied": 6, "duplicates": 0, "rejected": 0}


# ---------------------------------------------------------------------------------------- input

BASE = """
    currency SEK
    timezone "Europe/Stockholm"
    points pending for 14 days
    event purchase with amount money
    rule "Base": purchase earns 1 point per 10 SEK
    """

E1 = '{"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}'


def test_a_repeated_event_is_a_duplicate_with_no_effects() -> None:
    engine, report = run(BASE, E1)
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "pending", "pending": 10}
        """
    )
    # the same content, keys in another order: a duplicate
    again = engine.run(events(
        """
        {"amount": "100.00", "time": "2026-03-02T10:00:00Z", "customer": "c1", "type": "purchase", "id": "e1"}
        """
    ))
    assert ledger(again) == []
    assert again.counts == {"read": 1, "applied": 0, "duplicates": 1, "rejected": 0}
    assert engine.customer("c1").pending == 10


def test_a_conflicting_duplicate_is_rejected() -> None:
    engine, report = run(BASE, E1)
    again = engine.run(events(
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "200.00"}
        """
    ))
    assert ledger(again) == []
    assert outcomes(again) == [("e1", "rejected", "conflicting_duplicate")]
    assert engine.customer("c1").pending == 10


def test_a_late_event_is_rejected() -> None:
    engine, report = run(
        BASE,
        """
        {"id": "e5", "type": "purchase", "customer": "c1", "time": "2026-03-05T10:00:00Z", "amount": "100.00"}
        """,
    )
    late = engine.run(events(
        """
        {"id": "e4", "type": "purchase", "customer": "c1", "time": "2026-03-04T10:00:00Z", "amount": "100.00"}
        {"id": "e0", "type": "purchase", "customer": "c1", "time": "2026-03-05T10:00:00Z", "amount": "100.00"}
        """
    ))
    # e4 is before the customer's clock; e0 is at the clock's time but ("e0" < "e5") its (time, id)
    # is not after the last applied (time, id): both late
    assert ledger(late) == []
    assert outcomes(late) == [("e4", "rejected", "late"), ("e0", "rejected", "late")]
    assert all("late" in o.reason for o in late.rejected)


def test_a_rejected_event_still_fires_what_is_due_and_advances_the_clock() -> None:
    engine, report = run(BASE, E1)
    # a purchase without its amount, on 2026-03-20: rejected; but the release of e1's 10 points,
    # due 2026-03-16 11:00 CET = 10:00Z, fires first
    report = engine.run(events(
        """
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-20T10:00:00Z"}
        """
    ))
    assert ledger(report) == expected(
        """
        {"time": "2026-03-16T10:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 10, "balance": 10, "releases": "e1"}
        """
    )
    assert outcomes(report) == [("e2", "rejected", "missing_field")]
    # the clock is at 2026-03-20T10:00Z now: an event on 2026-03-18 is late
    report = engine.run(events(
        """
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-03-18T10:00:00Z", "amount": "100.00"}
        """
    ))
    assert outcomes(report) == [("e3", "rejected", "late")]


def test_in_one_batch_identical_lines_are_one_event_and_differing_lines_are_all_rejected() -> None:
    engine, report = run(
        BASE,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "100.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "300.00"}
        {"amount": "100.00", "id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z"}
        """,
    )
    # e1 twice with the same content: applied once (pending 10), the second a duplicate;
    # e2 twice with different amounts: both rejected
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "pending", "pending": 10}
        """
    )
    assert outcomes(report) == [
        ("e1", "applied", None),
        ("e2", "rejected", "conflicting_duplicate"),
        ("e2", "rejected", "conflicting_duplicate"),
        ("e1", "duplicate", "duplicate"),
    ]
    assert report.counts == {"read": 4, "applied": 1, "duplicates": 1, "rejected": 2}


# regression (a kernel bug at fd89844): Engine.run groups same-id lines only among valid events; a
# valid line and an invalid line with one id are not seen as conflicting, and the valid one is
# applied
def test_in_one_batch_a_valid_and_an_invalid_line_with_one_id_are_both_rejected() -> None:
    engine, report = run(
        BASE,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "-100.00"}
        """,
    )
    # §4: "Several lines with one customer and id in one input: ... differing ones are all
    # rejected as conflicting." The second line is also invalid by itself (negative money).
    assert ledger(report) == []
    assert [o.status for o in report.outcomes] == ["rejected", "rejected"]
    assert report.outcomes[0].code == "conflicting_duplicate"


def test_the_order_of_the_input_lines_does_not_matter() -> None:
    text = """
        {"id": "e1", "type": "purchase", "customer": "c2", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-03T10:00:00Z", "amount": "200.00"}
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}
        """
    forward = events(text)
    _, report = run(BASE, text)
    backward = make_engine(BASE).run(list(reversed(forward)))
    # customers in order, then time: c1 e1, c1 e2, c2 e1
    assert ledger(report) == ledger(backward) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "pending", "pending": 10}
        {"time": "2026-03-03T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Base", "kind": "pending", "pending": 20}
        {"time": "2026-03-02T10:00:00Z", "customer": "c2", "event": "e1", "rule": "Base", "kind": "pending", "pending": 10}
        """
    )


# ---------------------------------------------------------------------------------------- calendar edges


def test_a_monthly_limit_follows_stockholm_months_across_both_dst_changes() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        event review
        rule "Review bonus": review earns 50 points, at most 1 per month
        """,
        """
        {"id": "r1", "type": "review", "customer": "c1", "time": "2026-03-10T10:00:00Z"}
        {"id": "r2", "type": "review", "customer": "c1", "time": "2026-03-31T21:59:00Z"}
        {"id": "r3", "type": "review", "customer": "c1", "time": "2026-03-31T22:00:00Z"}
        {"id": "r4", "type": "review", "customer": "c1", "time": "2026-10-31T22:59:00Z"}
        {"id": "r5", "type": "review", "customer": "c1", "time": "2026-10-31T23:00:00Z"}
        {"id": "r6", "type": "review", "customer": "c1", "time": "2026-11-30T22:59:00Z"}
        """,
    )
    # r1 March: +50. r2 = 31 Mar 23:59 CEST (summer time since 29 Mar): March again: skipped.
    # r3 = 1 Apr 00:00 CEST: April: +50 → 100. r4 = 31 Oct 23:59 CET (winter time since 25 Oct):
    # October: +50 → 150. r5 = 1 Nov 00:00 CET: November: +50 → 200. r6 = 30 Nov 23:59 CET: skipped.
    assert ledger(report) == expected(
        """
        {"time": "2026-03-10T10:00:00Z", "customer": "c1", "event": "r1", "rule": "Review bonus", "kind": "points", "points": 50, "balance": 50}
        {"time": "2026-03-31T22:00:00Z", "customer": "c1", "event": "r3", "rule": "Review bonus", "kind": "points", "points": 50, "balance": 100}
        {"time": "2026-10-31T22:59:00Z", "customer": "c1", "event": "r4", "rule": "Review bonus", "kind": "points", "points": 50, "balance": 150}
        {"time": "2026-10-31T23:00:00Z", "customer": "c1", "event": "r5", "rule": "Review bonus", "kind": "points", "points": 50, "balance": 200}
        """
    )


def test_iso_weeks_across_the_year_boundary() -> None:
    engine, report = run(
        """
        timezone "Europe/Stockholm"
        event review
        rule "Weekly": review earns 10 points, at most 1 per week
        rule "Yearly": review earns 1 point, at most 1 per year
        """,
        """
        {"id": "w1", "type": "review", "customer": "c1", "time": "2026-12-31T10:00:00Z"}
        {"id": "w2", "type": "review", "customer": "c1", "time": "2026-12-31T23:30:00Z"}
        {"id": "w3", "type": "review", "customer": "c1", "time": "2027-01-03T22:59:00Z"}
        {"id": "w4", "type": "review", "customer": "c1", "time": "2027-01-03T23:00:00Z"}
        """,
    )
    # w1 Thu 31 Dec 2026 (ISO 2026-W53): Weekly +10, Yearly (2026) +1 → 11.
    # w2 Fri 1 Jan 2027 00:30 CET: still 2026-W53: Weekly skipped; Yearly: the year 2027: +1 → 12.
    # w3 Sun 3 Jan 23:59 CET: 2026-W53: skipped; 2027 has had its one: skipped.
    # w4 Mon 4 Jan 00:00 CET: 2027-W01: Weekly +10 → 22; Yearly skipped.
    assert ledger(report) == expected(
        """
        {"time": "2026-12-31T10:00:00Z", "customer": "c1", "event": "w1", "rule": "Weekly", "kind": "points", "points": 10, "balance": 10}
        {"time": "2026-12-31T10:00:00Z", "customer": "c1", "event": "w1", "rule": "Yearly", "kind": "points", "points": 1, "balance": 11}
        {"time": "2026-12-31T23:30:00Z", "customer": "c1", "event": "w2", "rule": "Yearly", "kind": "points", "points": 1, "balance": 12}
        {"time": "2027-01-03T23:00:00Z", "customer": "c1", "event": "w4", "rule": "Weekly", "kind": "points", "points": 10, "balance": 22}
        """
    )


def test_pending_points_cannot_be_redeemed() -> None:
    engine, report = run(
        """
        currency SEK
        points pending for 14 days
        event purchase with amount money
        reward "Mug" costs 50 points
        rule "Base": purchase earns 1 point per 10 SEK
        """,
        """
        {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "1000.00"}
        {"id": "x1", "type": "redeem",   "customer": "c1", "time": "2026-03-03T10:00:00Z", "reward": "Mug"}
        {"id": "x2", "type": "redeem",   "customer": "c1", "time": "2026-03-17T10:00:00Z", "reward": "Mug"}
        """,
    )
    # x1: the 100 are pending, the balance is 0: rejected. The release (UTC: 2026-03-16T10:00Z)
    # fires before x2: 100 → x2 −50 → 50
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "pending", "pending": 100}
        {"time": "2026-03-16T10:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 100, "balance": 100, "releases": "e1"}
        {"time": "2026-03-17T10:00:00Z", "customer": "c1", "event": "x2", "rule": null, "kind": "redeem", "reward": "Mug", "points": -50, "balance": 50}
        """
    )
    assert outcomes(report) == [("e1", "applied", None), ("x1", "rejected", "not_enough_points"),
                                ("x2", "applied", None)]


def test_a_repeat_of_an_event_older_than_the_refund_window_is_late() -> None:
    engine, report = run(
        """
        refunds accepted within 30 days
        event visit
        rule "Visit": visit earns 1 point
        """,
        """
        {"id": "v1", "type": "visit", "customer": "c1", "time": "2026-03-02T10:00:00Z"}
        {"id": "v2", "type": "visit", "customer": "c1", "time": "2026-03-20T10:00:00Z"}
        """,
    )
    # v1 is 18 days before the clock: still remembered: duplicate
    assert outcomes(engine.run(events(
        '{"id": "v1", "type": "visit", "customer": "c1", "time": "2026-03-02T10:00:00Z"}'
    ))) == [("v1", "duplicate", "duplicate")]
    engine.run(events('{"id": "v3", "type": "visit", "customer": "c1", "time": "2026-04-15T10:00:00Z"}'))
    # now v1 is 44 days before the clock, older than the refund window: late, not a duplicate
    assert outcomes(engine.run(events(
        '{"id": "v1", "type": "visit", "customer": "c1", "time": "2026-03-02T10:00:00Z"}'
    ))) == [("v1", "rejected", "late")]


SPLIT = """
    currency SEK
    timezone "Europe/Stockholm"
    points expire after 12 months
    points pending for 14 days
    event purchase with amount money
    rule "Base": purchase earns 1 point per 10 SEK
    """

SPLIT_EVENTS = """
    {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00Z", "amount": "100.00"}
    {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-20T10:00:00Z", "amount": "200.00"}
    {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-04-10T10:00:00Z", "amount": "300.00"}
    """


def test_runs_cut_at_points_in_time_give_the_lines_of_one_run() -> None:
    whole = make_engine(SPLIT)
    one = ledger(whole.run(events(SPLIT_EVENTS))) + ledger(whole.advance("2027-12-31T00:00:00Z"))
    # e1 (2 Mar 11:00 CET): pending 10, released 16 Mar 11:00 CET = 10:00Z → 10, expires
    #     2027-03-16T10:00Z. e2 (20 Mar 11:00 CET): pending 20, released 3 Apr 11:00 CEST = 09:00Z
    #     → 30, expires 2027-04-03T09:00Z. e3 (10 Apr 12:00 CEST): pending 30, released 24 Apr
    #     12:00 CEST = 10:00Z → 60, expires 2027-04-24T10:00Z. Then −10 → 50, −20 → 30, −30 → 0.
    assert one == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c1", "event": "e1", "rule": "Base", "kind": "pending", "pending": 10}
        {"time": "2026-03-16T10:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 10, "balance": 10, "releases": "e1"}
        {"time": "2026-03-20T10:00:00Z", "customer": "c1", "event": "e2", "rule": "Base", "kind": "pending", "pending": 20}
        {"time": "2026-04-03T09:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 20, "balance": 30, "releases": "e2"}
        {"time": "2026-04-10T10:00:00Z", "customer": "c1", "event": "e3", "rule": "Base", "kind": "pending", "pending": 30}
        {"time": "2026-04-24T10:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 30, "balance": 60, "releases": "e3"}
        {"time": "2027-03-16T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -10, "balance": 50}
        {"time": "2027-04-03T09:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -20, "balance": 30}
        {"time": "2027-04-24T10:00:00Z", "customer": "c1", "event": null, "rule": null, "kind": "expire", "points": -30, "balance": 0}
        """
    )
    first, second, third = events(SPLIT_EVENTS)
    cut = make_engine(SPLIT)
    pieces = ledger(cut.run([first]))
    pieces += ledger(cut.advance("2026-03-10T00:00:00Z"))
    pieces += ledger(cut.run([second]))
    pieces += ledger(cut.advance("2026-04-03T09:00:00Z"))  # exactly the release: due at or before
    pieces += ledger(cut.run([third]))
    pieces += ledger(cut.advance("2027-12-31T00:00:00Z"))
    assert pieces == one


def test_advance_moves_the_clock_events_before_it_are_late() -> None:
    engine, report = run(BASE, E1)
    # the release (2026-03-16 11:00 CET = 10:00Z) is due by the --until
    assert ledger(engine.advance("2026-04-01T00:00:00Z")) == expected(
        """
        {"time": "2026-03-16T10:00:00Z", "customer": "c1", "event": null, "rule": "Base", "kind": "points", "points": 10, "balance": 10, "releases": "e1"}
        """
    )
    report = engine.run(events(
        """
        {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-31T23:59:59Z", "amount": "100.00"}
        {"id": "e3", "type": "purchase", "customer": "c1", "time": "2026-04-01T00:00:00Z", "amount": "100.00"}
        """
    ))
    # e2 is before the clock: late; e3 is at the clock, not before it: applied
    assert outcomes(report) == [("e2", "rejected", "late"), ("e3", "applied", None)]


def test_ledger_order_times_in_utc_with_fractions_and_ids_by_code_point() -> None:
    engine, report = run(
        """
        event visit
        rule "Visit": visit earns 1 point
        """,
        """
        {"id": "b",  "type": "visit", "customer": "c9",  "time": "2026-03-02T10:00:00.250+01:00"}
        {"id": "a",  "type": "visit", "customer": "c9",  "time": "2026-03-02T09:00:00.25Z"}
        {"id": "e9", "type": "visit", "customer": "c10", "time": "2026-03-02T10:00:00Z"}
        {"id": "e10", "type": "visit", "customer": "c10", "time": "2026-03-02T10:00:00Z"}
        """,
    )
    # customers by code point: "c10" < "c9"; within c10 one instant: "e10" < "e9" (applied in that
    # order too); within c9 "a" and "b" are one instant (09:00:00.25Z), printed with the fraction
    assert ledger(report) == expected(
        """
        {"time": "2026-03-02T10:00:00Z", "customer": "c10", "event": "e10", "rule": "Visit", "kind": "points", "points": 1, "balance": 1}
        {"time": "2026-03-02T10:00:00Z", "customer": "c10", "event": "e9", "rule": "Visit", "kind": "points", "points": 1, "balance": 2}
        {"time": "2026-03-02T09:00:00.25Z", "customer": "c9", "event": "a", "rule": "Visit", "kind": "points", "points": 1, "balance": 1}
        {"time": "2026-03-02T09:00:00.25Z", "customer": "c9", "event": "b", "rule": "Visit", "kind": "points", "points": 1, "balance": 2}
        """
    )
