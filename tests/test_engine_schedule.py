"""The schedule's compact items (issue 7): one release item an event, one expiry item for all of a
customer's lots, one inactivity item a rule, one window-exit item a tier window — and states
written with the older items (one a pending award, one a lot, one an activity, one a purchase)
still give the same ledger.

Helpers and conventions: ``tests/test_engine_scenarios.py``.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import rewardlang
from rewardlang import localtime
from rewardlang.engine import Engine
from tests.test_engine_scenarios import events, expected, ledger, run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate_events import generate  # noqa: E402

BOOKSHOP = ROOT / "rulesets" / "bookshop.reward"
UNTIL = "2028-12-31T00:00:00Z"
ZONE = localtime.zone("Europe/Stockholm")


def _older_items(data: dict[str, Any]) -> dict[str, Any]:
    """A state's plain form with its schedule as the kernel wrote it before the compact items:
    a release item per pending award, an expiry item per lot, an inactivity item per activity
    (the extra ones are stale and fire nothing) with the counter as tie-breaker."""
    data = copy.deepcopy(data)
    schedule = []
    tie = data["next_id"]
    for due, order, _tie, kind, payload in data["schedule"]:
        if kind == "release" and payload[1] is None:
            awards = data["applied"][payload[0]][5]
            for index, award in enumerate(awards):
                if award[5]:  # pending
                    tie += 1
                    schedule.append([due, order, tie, kind, [payload[0], index]])
        elif kind == "expire" and not payload:
            for lot in data["lots"]:
                if lot[3] is not None and lot[3] >= due:
                    tie += 1
                    schedule.append([lot[3], order, tie, kind, [lot[0]]])
        elif kind == "tier" and payload:  # ["exit", count, unit]: one item per purchase
            for entry in data["history"]["entries"]:
                if entry[2] == "purchase":
                    leaves = localtime.window_exit(localtime.parse_instant(entry[0]), payload[1], payload[2], ZONE)
                    if leaves >= localtime.parse_instant(due):
                        tie += 1
                        schedule.append([localtime.format_instant(leaves), order, tie, kind, []])
        elif kind == "inactive":
            tie += 1
            schedule.append([due, order, tie, kind, payload])
            tie += 1
            schedule.append([data["clock"], order, tie, kind, payload])  # a stale one
        else:
            schedule.append([due, order, _tie, kind, payload])
    data["schedule"] = schedule
    data["next_id"] = tie + 1
    return data


def test_one_release_item_per_event_and_one_expiry_item_per_customer() -> None:
    program = rewardlang.load(BOOKSHOP)
    engine = Engine(program)
    engine.run(generate(3000, 5))
    for customer in engine.states:
        data = engine.state_of(customer)
        assert data is not None
        kinds = [item[3] for item in data["schedule"]]
        assert kinds.count("expire") <= 1, kinds
        assert kinds.count("inactive") <= 1, kinds
        assert len([item for item in data["schedule"] if item[3] == "tier" and item[4]]) <= 1, kinds
        releases = [tuple(item[4]) for item in data["schedule"] if item[3] == "release"]
        assert len(releases) == len(set(releases)), releases
        assert all(index is None for _, index in releases)


def test_states_with_the_older_items_give_the_same_ledger() -> None:
    program = rewardlang.load(BOOKSHOP)
    stream = generate(4000, 11)
    first, rest = stream[: len(stream) // 2], stream[len(stream) // 2:]
    engine = Engine(program)
    engine.run(first)
    states = {c: engine.state_of(c) for c in sorted(engine.states)}
    reference = [e.to_json() for e in engine.run(rest).effects + engine.advance(UNTIL)]

    older = Engine(program)
    changed = 0
    for data in states.values():
        assert data is not None
        old = _older_items(data)
        changed += old["schedule"] != data["schedule"]
        older.load_state(old)
    assert changed > 100
    again = [e.to_json() for e in older.run(rest).effects + older.advance(UNTIL)]
    assert again == reference


def test_a_later_activity_with_an_earlier_deadline_still_wins_back() -> None:
    """6 months after 02:59 CEST on the night the clocks go back is 02:59 CEST; 6 months after
    02:00 CET, a minute later, is 02:00 CEST: the last activity's deadline comes first, and the
    one inactivity item must be due by then."""
    engine, report = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        event visit
        rule "Win back": inactive for 6 months gives message "we-miss-you"
        """,
        """
        {"id": "e1", "type": "visit", "customer": "c1", "time": "2026-10-25T00:59:00Z"}
        {"id": "e2", "type": "visit", "customer": "c1", "time": "2026-10-25T01:00:00Z"}
        """,
    )
    assert ledger(report) == []
    assert ledger(engine.advance("2027-12-31T00:00:00Z")) == expected(
        """
        {"time": "2027-04-25T00:00:00Z", "customer": "c1", "event": null, "rule": "Win back", "kind": "message", "message": "we-miss-you"}
        """
    )


def test_activity_before_the_deadline_moves_the_win_back() -> None:
    engine, _ = run(
        """
        currency SEK
        timezone "Europe/Stockholm"
        event visit
        rule "Win back": inactive for 6 months gives message "we-miss-you"
        rule "Come back": inactive for 6 months gives message "come-back"
        """,
        """
        {"id": "e1", "type": "visit", "customer": "c1", "time": "2026-01-10T10:00:00Z"}
        {"id": "e2", "type": "visit", "customer": "c1", "time": "2026-03-10T10:00:00Z"}
        {"id": "e3", "type": "visit", "customer": "c1", "time": "2026-05-10T09:00:00Z"}
        """,
    )
    # the item due 2026-07-10 wakes, finds the deadline at 2026-11-10 and waits for it; both rules
    # fire then, in file order
    assert ledger(engine.advance("2027-12-31T00:00:00Z")) == expected(
        """
        {"time": "2026-11-10T10:00:00Z", "customer": "c1", "event": null, "rule": "Win back", "kind": "message", "message": "we-miss-you"}
        {"time": "2026-11-10T10:00:00Z", "customer": "c1", "event": null, "rule": "Come back", "kind": "message", "message": "come-back"}
        """
    )
    assert ledger(engine.run(events(
        """
        {"id": "e4", "type": "visit", "customer": "c1", "time": "2028-01-10T10:00:00Z"}
        """
    ))) == []


def test_the_plain_bounds_of_a_duration_hold_in_odd_zones() -> None:
    """The kernel settles some comparisons with plain-timedelta bounds of a calendar duration
    instead of a zone-aware sum (``zonecalendar.at_least`` / ``at_most``): every sum lies within them,
    month ends, leap days, DST and a skipped day (Pacific/Apia, 2011-12-30) included."""
    import datetime as dt
    import random

    from rewardlang.zonecalendar import at_least, at_most

    rng = random.Random(7)
    zones = [localtime.zone(name) for name in
             ("Europe/Stockholm", "Pacific/Apia", "Australia/Lord_Howe", "America/St_Johns", "Asia/Kathmandu")]
    durations = [(6, "month"), (12, "month"), (1, "month"), (30, "day"), (1, "year"), (2, "week"), (1, "day")]
    start = dt.datetime(2010, 1, 1, tzinfo=localtime.UTC)
    instants = [start + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 20)) for _ in range(300)]
    instants += [dt.datetime(2011, 12, 29, h, tzinfo=localtime.UTC) for h in range(24)]
    for tz in zones:
        for count, unit in durations:
            least, most = at_least(count, unit), at_most(count, unit)
            for t in instants:
                span = localtime.add(t, count, unit, tz) - t
                assert least <= span <= most, (tz, count, unit, t, span)
                back = t - localtime.add(t, -count, unit, tz)
                assert least <= back <= most, (tz, count, unit, t, back)
