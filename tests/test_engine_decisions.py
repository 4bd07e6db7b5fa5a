"""Decisions on request: why each rule fired or not, recorded only when asked."""

from __future__ import annotations

import rewardlang
from rewardlang.engine import Engine

RULESET = """currency SEK
customer has city text
event purchase with amount money, category text
segment vip = customer.city is "Stockholm"
rule "Big":   purchase where amount >= 300 SEK and category is "books" earns 50 points
rule "Cat":   purchase where category in ["books", "games"] or amount > 1000 SEK earns 5 points
rule "Vip":   purchase earns 1 point, for vip
rule "Base":  purchase earns 1 point per 10 SEK
rule "Promo": purchase earns 2 points per 10 SEK, instead of "Base"
rule "Once":  purchase earns 7 points, once
"""


def _decisions(events):
    report = Engine(rewardlang.loads(RULESET)).run(events, explain=True)
    return [(d.event, d.rule, d.outcome, d.detail) for d in report.decisions]


def _purchase(id, time, amount, category="toys"):
    return {"id": id, "type": "purchase", "customer": "c1", "time": time, "amount": amount, "category": category}


def test_each_rule_says_why():
    got = _decisions([_purchase("e1", "2026-01-01T10:00:00Z", "249.00"),
                      _purchase("e2", "2026-01-02T10:00:00Z", "500.00", "books")])
    # in the kernel's order: matching, then suppression and limits, then firing in file order
    assert got == [
        ("e1", "Big", "no_match", "amount 249.00 is not >= 300 SEK"),
        ("e1", "Cat", "no_match", 'category "toys" is not in ["books", "games"] and amount 249.00 is not > 1000 SEK'),
        ("e1", "Vip", "outside", "for vip"),
        ("e1", "Base", "suppressed", 'instead of it: "Promo"'),
        ("e1", "Promo", "fired", ""),
        ("e1", "Once", "fired", ""),
        ("e2", "Vip", "outside", "for vip"),
        ("e2", "Base", "suppressed", 'instead of it: "Promo"'),
        ("e2", "Once", "skipped", "limit reached"),
        ("e2", "Big", "fired", ""),
        ("e2", "Cat", "fired", ""),
        ("e2", "Promo", "fired", ""),
    ]


def test_no_decisions_unless_asked():
    report = Engine(rewardlang.loads(RULESET)).run([_purchase("e1", "2026-01-01T10:00:00Z", "249.00")])
    assert report.decisions == ()


def test_a_repeat_older_than_the_refund_window_is_late_even_if_still_remembered():
    """Ids are remembered for the refund window: past it, a repeat is late, not a duplicate, even
    when the engine still holds the event (here its award is pending longer than the window)."""
    program = rewardlang.loads(
        "event review\nrefunds accepted within 30 days\npoints pending for 60 days\nreview earns 5 points\n"
    )
    first = {"id": "r1", "type": "review", "customer": "c1", "time": "2026-01-01T10:00:00Z"}
    later = {"id": "r2", "type": "review", "customer": "c1", "time": "2026-02-15T10:00:00Z"}
    engine = Engine(program)
    engine.run([first, later])
    assert "r1" in engine.states["c1"].applied  # kept: its award is still pending
    again = engine.apply(dict(first))
    assert (again.status, again.code) == ("rejected", "late")
