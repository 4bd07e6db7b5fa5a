"""``rewardlang simulate``: every number of the text output checked by hand on a small stream —
one programme, the same without a point value, and a comparison of two — the JSON and CSV
outputs held equal to the text, a programme compared with itself, a comparison equal to the two
simulations alone, and the figures independent of the number of processes, of chunking and of
the order of the input.

The small stream (``TINY`` and ``EVENTS`` below) is three customers over three months, built so
that every figure is non-trivial: pending points, a refund that reverses released points and
takes a tier away, a catalogue redemption, a conversion, an expiry and its reminder, a negative
adjustment that leaves a debt, a duplicate, a rejected line and an unreadable one. The ledger of
each customer is worked out in the comments of ``EVENTS``; the tests then check the figures
against the arithmetic written next to each expected value.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import random
import re
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from rewardlang import simulate as simulate_module
from rewardlang.cli import main
from rewardlang.loading import check_text
from rewardlang.simtables import PROGRAMME
from rewardlang.events import Validator
from rewardlang.inputs import open_events
from rewardlang.runner import dump_value
from rewardlang.simulate import Problem, SimulateRequest, simulate, validation_key

ROOT = Path(__file__).resolve().parents[1]
BOOKSHOP = ROOT / "rulesets" / "bookshop.reward"
EXAMPLE = ROOT / "examples" / "bookshop" / "events.jsonl"

TINY = """\
program "Tiny Club"
currency SEK
timezone "UTC"
points expire after 2 months
points pending for 7 days
point value 0.10 SEK

customer has city text
event purchase with amount money
event review

segment stockholm = customer.city is "Stockholm"
tier silver = spend in last 12 months >= 1000 SEK

reward "Mug" costs 100 points
voucher "50 off" worth 50 SEK
free "coffee" worth 30 SEK

rule "Base":        purchase earns 1 point per 10 SEK
rule "Welcome":     first purchase earns 50 points
rule "Review":      review earns 20 points
rule "Coffee card": 2 purchases gives 1 free "coffee"
rule "Check":       200 points converts to voucher "50 off"
rule "Silver mail": tier change to silver gives message "silver"
notify "expiring" 7 days before points expire
"""

# The ledger, by hand (times UTC; awards on events are pending for 7 days; lots expire 2 months
# after they become available; a reminder falls 7 days before):
#
# a (Stockholm)
#   01-05 a2 purchase 600: pending Base +60, pending Welcome +50      spend 600
#   01-10 a3 purchase 500: pending Base +50, free coffee (2nd purchase); spend 1100 -> tier silver,
#         message "silver"
#   01-12 releases of a2: +60, +50 (lots L1 60, L2 50, expiring 03-12)          balance 110
#   01-17 release of a3: +50 (lot L3)                                            balance 160
#   01-20 a4 review: pending Review +20
#   01-25 a5 refund of a3 (all 500): Base's 50 reversed from its own lot L3      balance 110
#         spend 600 -> tier silver -> none (no message: the mail is for `to silver`)
#   01-27 release of a4: +20 (lot L4, expiring 03-27)                            balance 130
#   02-01 a6 redeem "Mug": -100, from L1 (60) then L2 (40 of 50)                 balance 30
#   03-05 reminder for L1/L2 (L1 is gone): one message, expiring 10
#   03-12 expiry of L2: -10                                                      balance 20
#   awarded 60+50+50+20 = 180, reversed 50, issued 130, redeemed 100 (rewards), expired 10,
#   outstanding 20 = 130 - 100 - 10; cost = coffee 30 + Mug 100 x 0.10 + 20 x 0.10 = 42.00
# b
#   02-10 b1 purchase 2500: pending Base +250, pending Welcome +50; tier none -> silver, message
#   02-17 releases +250, +50 (balance 300), then Check converts: -200, voucher "50 off"  balance 100
#   02-20 b2 adjust -150: balance -50 (a debt)
#   03-14 b3 purchase 100: pending Base +10 (released 03-21: after the end), free coffee
#   03-14 b3 again, identical: a duplicate
#   awarded 250+50+10 = 310, converted 200, adjusted -150, pending 10, outstanding -50
#   = 310 - 200 - 150 - 10; cost = voucher 50 + coffee 30 + (0 + 10 pending) x 0.10 = 81.00
# c
#   03-01 a purchase with amount "abc": rejected (bad_field), c is not yet a member
#   03-15 c1 review: pending Review +20 (released 03-22: after the end)
#   awarded 20, pending 20, outstanding 0; cost = 20 x 0.10 = 2.00
# and one line that is not JSON (rejected: not_json). The end is the latest time: 03-15 09:00.
EVENTS = [
    {"id": "a1", "type": "profile", "customer": "a", "time": "2026-01-01T09:00:00Z", "city": "Stockholm"},
    {"id": "a2", "type": "purchase", "customer": "a", "time": "2026-01-05T10:00:00Z", "amount": "600.00"},
    {"id": "a3", "type": "purchase", "customer": "a", "time": "2026-01-10T10:00:00Z", "amount": "500.00"},
    {"id": "a4", "type": "review", "customer": "a", "time": "2026-01-20T10:00:00Z"},
    {"id": "a5", "type": "refund", "customer": "a", "time": "2026-01-25T10:00:00Z", "refunds": "a3"},
    {"id": "a6", "type": "redeem", "customer": "a", "time": "2026-02-01T10:00:00Z", "reward": "Mug"},
    {"id": "b1", "type": "purchase", "customer": "b", "time": "2026-02-10T12:00:00Z", "amount": "2500.00"},
    {"id": "b2", "type": "adjust", "customer": "b", "time": "2026-02-20T12:00:00Z", "points": -150,
     "reason": "correction"},
    {"id": "b3", "type": "purchase", "customer": "b", "time": "2026-03-14T12:00:00Z", "amount": "100.00"},
    {"id": "b3", "type": "purchase", "customer": "b", "time": "2026-03-14T12:00:00Z", "amount": "100.00"},
    {"id": "c0", "type": "purchase", "customer": "c", "time": "2026-03-01T08:00:00Z", "amount": "abc"},
    {"id": "c1", "type": "review", "customer": "c", "time": "2026-03-15T09:00:00Z"},
]


# Every figure of the text output of TINY over EVENTS, worked out by hand from the ledger above.
BY_HAND_PROGRAMME = {
    "customers (with an applied event)": "3",  # a, b, c
    "buyers (with a purchase)": "2",  # a, b
    "spend": "3,200.00 SEK",  # a 600 + 500 - 500, b 2500 + 100
    "purchases": "4",  # a2, a3, b1, b3
    "refunds": "1",  # a5
    "refunded": "500.00 SEK",  # all of a3
    "points awarded": "510",  # a 180 + b 310 + c 20
    "points reversed by refunds": "50",  # a3's Base
    "points issued (awarded - reversed)": "460",  # 510 - 50
    "points redeemed (for rewards + converted)": "300",  # 100 + 200
    "points redeemed for rewards": "100",  # a's Mug
    "rewards redeemed": "1",
    "points converted (converts to)": "200",  # b's Check
    "points expired": "10",  # a's L2 rest
    "points adjusted (adjust events)": "-150",  # b2
    "points pending at the end": "30",  # b 10 + c 20
    "points outstanding at the end": "-30",  # a 20 + b -50 + c 0 = 460 - 300 - 10 - 150 - 30
    "customers in debt at the end": "1",  # b
    "points in debt at the end": "50",
    "vouchers given": "1",  # b's "50 off"
    "vouchers worth": "50.00 SEK",
    "free items given": "2",  # a's and b's coffee
    "free items worth": "60.00 SEK",  # 2 x 30
    "messages (rules)": "2",  # Silver mail to a and b
    "messages (expiry reminders)": "1",  # a, 03-05
    "rewards redeemed, at the point value": "10.00 SEK",  # 100 x 0.10
    "given (vouchers + free items + rewards)": "120.00 SEK",  # 50 + 60 + 10
    "liability at the end (outstanding + pending points)": "5.00 SEK",  # (a 20 + pending 30) x 0.10; b's debt is no liability
    "reward cost (given + liability)": "125.00 SEK",  # 120 + 5 = a 42 + b 81 + c 2
    "reward cost per customer": "41.67 SEK",  # 125 / 3 = 41.666...
    "reward cost per 100 of spend": "3.91 SEK",  # 125 x 100 / 3200 = 3.906...
}
BY_HAND_TABLES: dict[str, list[list[str]]] = {
    "Rules": [
        ["rule", "firings", "customers", "points", "share of points", "vouchers", "free items", "messages",
         "cost (SEK)"],
        # Base: a2 60, a3 50, b1 250, b3 10 (4 pending awards); 370 - 50 reversed = 320; 320 / 460
        ["Base", "4", "2", "320", "69.6 %", "0", "0", "0", "32.00"],
        # Welcome: a2, b1; 100 / 460 = 21.7 %
        ["Welcome", "2", "2", "100", "21.7 %", "0", "0", "0", "10.00"],
        # Review: a4, c1; 40 / 460 = 8.7 %
        ["Review", "2", "2", "40", "8.7 %", "0", "0", "0", "4.00"],
        # Coffee card: a3, b3 -> 2 coffees x 30
        ["Coffee card", "2", "2", "0", "—", "0", "2", "0", "60.00"],
        # Check: one conversion, -200 points, a 50 SEK voucher: 50 - 200 x 0.10 = 30.00
        ["Check", "1", "1", "-200", "—", "1", "0", "0", "30.00"],
        ["Silver mail", "2", "2", "0", "—", "0", "0", "2", "0.00"],
    ],
    "Customers per tier at the end": [
        ["tier", "customers", "share"],
        ["(no tier)", "2", "66.7 %"],  # a (lost silver), c
        ["silver", "1", "33.3 %"],  # b
    ],
    "Tier moves": [
        ["from", "to", "moves"],
        ["(no tier)", "silver", "2"],  # a 01-10, b 02-10
        ["silver", "(no tier)", "1"],  # a 01-25 (the refund)
    ],
    "Segments (customers in each at the end)": [
        ["segment", "customers", "share", "spend (SEK)", "points issued", "points outstanding", "reward cost (SEK)",
         "cost per 100 of spend (SEK)"],
        ["stockholm", "1", "33.3 %", "600.00", "130", "20", "42.00", "7.00"],  # a alone; 42 x 100 / 600
    ],
    "Month by month": [
        ["month", "active customers", "purchases", "spend (SEK)", "points issued", "points redeemed",
         "points expired"],
        # January: a's purchases, review and refund: 60 + 50 + 50 + 20 - 50; spend 600 + 500 - 500
        ["2026-01", "1", "2", "600.00", "130", "0", "0"],
        # February: b1 (the redeem and the adjust are not activity); 250 + 50; Mug 100 + Check 200
        ["2026-02", "1", "1", "2,500.00", "300", "300", "0"],
        # March: b3 and c1; 10 + 20; a's expiry 10
        ["2026-03", "2", "1", "100.00", "30", "0", "10"],
    ],
    "Customers per tier at each month's end": [
        ["month", "(no tier)", "silver"],
        ["2026-01", "1", "0"],  # a (silver 01-10 .. 01-25); b and c are not members yet
        ["2026-02", "1", "1"],  # a; b silver since 02-10
        ["2026-03", "2", "1"],  # a, c; b
    ],
    "Loyalty effect: the top 20 % of buyers by spend against the rest": [
        ["group", "customers", "spend (SEK)", "share of revenue", "spend per customer (SEK)", "purchases per customer",
         "repeat-purchase rate", "points per customer", "reward cost per 100 of spend (SEK)"],
        # ceil(2 / 5) = 1 buyer on top: b (2600); 2600 / 3200 = 81.25 %; 81 x 100 / 2600 = 3.115...
        ["top 20 %", "1", "2,600.00", "81.3 %", "2,600.00", "2.00", "100.0 %", "310.00", "3.12"],
        # a: 600 / 3200 = 18.75 %; 42 x 100 / 600
        ["the rest", "1", "600.00", "18.8 %", "600.00", "2.00", "100.0 %", "130.00", "7.00"],
        # (310 + 130) / 2; (81 + 42) x 100 / 3200 = 3.84375 (c, who bought nothing, is not a buyer)
        ["all buyers", "2", "3,200.00", "100.0 %", "1,600.00", "2.00", "100.0 %", "220.00", "3.84"],
    ],
}


def _stream_text(events: list[dict[str, object]]) -> str:
    lines = [json.dumps(e) for e in events]
    lines.insert(7, "this is not JSON")
    return "\n".join(lines) + "\n"


@pytest.fixture()
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    ruleset = tmp_path / "tiny.reward"
    ruleset.write_text(TINY, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(_stream_text(EVENTS), encoding="utf-8")
    return ruleset, events


def invoke(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["simulate", *args], input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# ---------------------------------------------------------------------------- reading the text


def sections(text: str) -> tuple[list[str], dict[str, list[list[str]]]]:
    """The head lines, and each table as rows of cells (the header row first)."""
    blocks = text.rstrip("\n").split("\n\n")
    out: dict[str, list[list[str]]] = {}
    for block in blocks[1:]:
        title, *rows = block.split("\n")
        out[title] = [re.split(r"\s{2,}", row.strip()) for row in rows]
    return blocks[0].split("\n"), out


def number(text: str) -> Decimal | None:
    """A shown value as a number: 1,234.50 SEK -> 1234.50, 12.3 % -> 12.3, +5 -> 5, — -> None."""
    if text == "—":
        return None
    cleaned = re.sub(r"( [A-Z]{3}| %| pp)$", "", text).replace(",", "")
    return Decimal(cleaned)


# ---------------------------------------------------------------------------- every number by hand


def test_every_figure_of_the_text_output_by_hand(tiny):
    ruleset, events = tiny
    code, out, err = invoke(str(ruleset), str(events), "--processes", "1")
    assert code == 0, err
    assert re.fullmatch(r"simulated 13 lines of 3 customers in \d+\.\d s \(1 process: staging \d+\.\d s, "
                        r"applying \d+\.\d s\)\n", err)
    head, tables = sections(out)
    assert head == [
        f"Simulation of Tiny Club ({ruleset}); currency SEK, point value 0.10 SEK",
        # 12 events + 1 unreadable line; applied: a 6, b 3, c 1; b3 twice; c0 and the non-JSON line
        "13 lines read: 10 applied, 1 duplicates, 2 rejected (bad_field 1, not_json 1)",
        "Events from 2026-01-01T09:00:00Z; figures at the end: 2026-03-15T09:00:00Z (the latest time in the input).",
    ]
    programme = {row[0]: row[1] for row in tables["Programme"][1:]}
    assert tables["Programme"][0] == ["figure", "value"]
    assert programme == BY_HAND_PROGRAMME
    for title, rows in BY_HAND_TABLES.items():
        assert tables[title] == rows, title
    assert list(tables) == ["Programme", *BY_HAND_TABLES]


def _replaced(rows: list[list[str]], changes: dict[tuple[str, str], str]) -> list[list[str]]:
    """Table rows (header first) with the cells named (row label, column header) replaced."""
    header = rows[0]
    return [header] + [[changes.get((row[0], column), cell) for column, cell in zip(header, row)]
                       for row in rows[1:]]


def test_without_a_point_value_points_are_not_priced(tiny, tmp_path):
    ruleset, events = tiny
    unpriced = tmp_path / "unpriced.reward"
    unpriced.write_text(TINY.replace("point value 0.10 SEK\n", ""), encoding="utf-8")
    code, out, err = invoke(str(unpriced), str(events))
    assert code == 0, err
    head, tables = sections(out)
    assert head[0] == f"Simulation of Tiny Club ({unpriced}); currency SEK, no point value"
    assert head[-1] == ("Note: the ruleset sets no `point value`: points are not priced, and the reward cost "
                        "leaves them out.")
    # the cost is what was given: a a coffee (30), b a voucher (50) and a coffee (30), c nothing
    assert {row[0]: row[1] for row in tables["Programme"][1:]} == BY_HAND_PROGRAMME | {
        "rewards redeemed, at the point value": "—",
        "given (vouchers + free items + rewards)": "110.00 SEK",  # 50 + 60
        "liability at the end (outstanding + pending points)": "—",
        "reward cost (given + liability)": "110.00 SEK",
        "reward cost per customer": "36.67 SEK",  # 110 / 3
        "reward cost per 100 of spend": "3.44 SEK",  # 11,000 / 3,200 = 3.4375
    }
    expected = dict(BY_HAND_TABLES)
    expected["Rules"] = _replaced(BY_HAND_TABLES["Rules"], {
        ("Base", "cost (SEK)"): "0.00", ("Welcome", "cost (SEK)"): "0.00", ("Review", "cost (SEK)"): "0.00",
        ("Check", "cost (SEK)"): "50.00"})  # the voucher's worth; the points it took are not priced
    expected["Segments (customers in each at the end)"] = _replaced(
        BY_HAND_TABLES["Segments (customers in each at the end)"],
        {("stockholm", "reward cost (SEK)"): "30.00", ("stockholm", "cost per 100 of spend (SEK)"): "5.00"})
    expected["Loyalty effect: the top 20 % of buyers by spend against the rest"] = _replaced(
        BY_HAND_TABLES["Loyalty effect: the top 20 % of buyers by spend against the rest"], {
            ("top 20 %", "reward cost per 100 of spend (SEK)"): "3.08",  # 8,000 / 2,600
            ("the rest", "reward cost per 100 of spend (SEK)"): "5.00",  # 3,000 / 600
            ("all buyers", "reward cost per 100 of spend (SEK)"): "3.44"})
    for title, rows in expected.items():
        assert tables[title] == rows, title


def test_an_input_with_nothing_to_apply(tiny, tmp_path):
    ruleset, _ = tiny
    for content in ("", '{"id": "x", "type": "purchase", "customer": "c", "time": "yesterday"}\n'):
        events = tmp_path / "events.jsonl"
        events.write_text(content, encoding="utf-8")
        code, out, err = invoke(str(ruleset), str(events))
        assert code == 0, err
        head, tables = sections(out)
        n = len(content.splitlines())
        assert head[1:] == [f"{n} lines read: 0 applied, 0 duplicates, {n} rejected" + (" (bad_time 1)" if n else ""),
                            "No event could be placed in time: nothing was applied."]
        for figure, shown in tables["Programme"][1:]:
            # nothing to divide by: no ratio
            assert shown == ("—" if figure.startswith("reward cost per") else "0.00 SEK" if "SEK" in shown else "0")
        assert [row[:5] for row in tables["Rules"][1:]] == [[name, "0", "0", "0", "—"] for name in
                                                           ("Base", "Welcome", "Review", "Coffee card", "Check",
                                                            "Silver mail")]
        for title in ("Tier moves", "Month by month", "Customers per tier at each month's end"):
            assert tables[title] == [["(none)"]], title
        assert tables["Customers per tier at the end"][1:] == [["(no tier)", "0", "—"], ["silver", "0", "—"]]
        assert tables["Segments (customers in each at the end)"][1] == ["stockholm", "0", "—", "0.00", "0", "0",
                                                                        "0.00", "—"]
        assert tables["Loyalty effect: the top 20 % of buyers by spend against the rest"][1:] == [
            [group, "0", "0.00", "—", "—", "—", "—", "—", "—"]
            for group in ("top 20 %", "the rest", "all buyers")]


def test_until_counts_what_falls_due_by_then(tiny):
    ruleset, events = tiny
    # at 03-23: b3's Base (03-21) and c1's Review (03-22) are released, a's L4 reminder (03-20)
    # falls; a's L4 (expiring 03-27) is still there
    code, out, err = invoke(str(ruleset), str(events), "--until", "2026-03-23T00:00:00Z", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["end"] == "2026-03-23T00:00:00Z" and data["end_is"] == "until"
    p = data["programmes"][0]["programme"]
    assert (p["points_pending"], p["points_outstanding"], p["reminders"], p["points_expired"]) == (0, 0, 2, 10)
    # outstanding: a 20 + b (-50 + 10) + c 20 = 0; liability: (a 20 + c 20) x 0.10, b's -40 is a debt
    assert (p["liability"], p["customers_in_debt"], p["points_in_debt"]) == ("4.00", 1, 40)


def test_an_until_before_the_input_ends_is_a_usage_error(tiny):
    ruleset, events = tiny
    code, out, err = invoke(str(ruleset), str(events), "--until", "2026-02-01T00:00:00Z")
    assert code == 2 and out == ""
    assert err == ("error: --until 2026-02-01T00:00:00Z is before the latest time in the input "
                   "(2026-03-15T09:00:00Z); simulate applies the whole input and reports at the end: give a time "
                   "at or after it, or leave --until out\n")


# ---------------------------------------------------------------------------- the formats agree


def _json_and_text(*args: str) -> tuple[dict, list[str], dict[str, list[list[str]]]]:
    code, out, err = invoke(*args, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    code, text, err = invoke(*args)
    assert code == 0, err
    head, tables = sections(text)
    return data, head, tables


TABLE_KEYS = {
    "Rules": ("rules", ["rule", "firings", "customers", "points", "share", "vouchers", "free_items", "messages",
                        "cost"]),
    "Customers per tier at the end": ("tiers", ["tier", "customers", "share"]),
    "Tier moves": ("tier_moves", ["from", "to", "moves"]),
    "Segments (customers in each at the end)": ("segments", ["segment", "customers", "share", "spend",
                                                             "points_issued", "points_outstanding", "reward_cost",
                                                             "cost_per_100_spend"]),
    "Month by month": ("months", ["month", "active", "purchases", "spend", "points_issued", "points_redeemed",
                                  "points_expired"]),
    "Loyalty effect: the top 20 % of buyers by spend against the rest": (
        "loyalty", ["group", "customers", "spend", "revenue_share", "spend_per_customer", "purchases_per_customer",
                    "repeat_rate", "points_per_customer", "cost_per_100_spend"]),
}


def _same(shown: str, value: object) -> bool:
    if value is None:
        return shown in ("—", "(no tier)")
    if isinstance(value, str) and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return shown == value
    return number(shown) == Decimal(str(value))


@pytest.mark.parametrize("stream", ["tiny", "example"])
def test_the_json_output_says_what_the_text_says(tiny, stream):
    ruleset, events = tiny if stream == "tiny" else (BOOKSHOP, EXAMPLE)
    data, head, tables = _json_and_text(str(ruleset), str(events))
    (figures,) = data["programmes"]
    labels = {label: key for key, label, _ in PROGRAMME}
    rows = tables["Programme"][1:]
    assert len(rows) == len(figures["programme"])
    for label, shown in rows:
        assert _same(shown, figures["programme"][labels[label]]), label
    i = figures["input"]
    assert f"{i['read']:,} lines read: {i['applied']:,} applied" in head[1]
    assert data["end"] in head[2]
    for title, (key, columns) in TABLE_KEYS.items():
        if not figures[key]:
            assert title not in tables
            continue
        body = tables[title][1:]
        assert len(body) == len(figures[key]), title
        for row, item in zip(body, figures[key]):
            for shown, column in zip(row, columns):
                assert _same(shown, item[column]), (title, column, shown, item[column])
    for row, month in zip(tables["Customers per tier at each month's end"][1:], figures["months"]):
        assert row == [month["month"]] + [f"{t['customers']:,}" for t in month["tiers"]]


def test_the_csv_output_says_what_the_json_says(tiny):
    ruleset, events = tiny
    code, out, err = invoke(str(ruleset), str(events), "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["section", "item", "figure", "value"]
    found = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert found[("programme", "", "reward cost (given + liability)")] == "125.00"
    assert found[("programme", "", "points adjusted (adjust events)")] == "-150"
    assert found[("rules", "Base", "share of points")] == "69.6"
    assert found[("rules", "Coffee card", "share of points")] == ""
    assert found[("tier_moves", "silver / (no tier)", "moves")] == "1"
    assert found[("months", "2026-02", "spend (SEK)")] == "2500.00"
    assert found[("month_tiers", "2026-03", "(no tier)")] == "2"
    assert found[("loyalty", "top 20 %", "share of revenue")] == "81.3"
    data = json.loads(invoke(str(ruleset), str(events), "--format", "json")[1])
    assert sum(1 for r in rows[1:] if r[0] == "programme") == len(data["programmes"][0]["programme"])


# ---------------------------------------------------------------------------- comparing


def test_a_programme_compared_with_itself_shows_no_difference(tiny):
    ruleset, events = tiny
    code, out, err = invoke(str(ruleset), str(events), "--compare", str(ruleset), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    base, other = data["programmes"]
    assert {k: v for k, v in base.items() if k != "ruleset"} == {k: v for k, v in other.items() if k != "ruleset"}
    assert data["differences"] == []
    assert data["customers_differing"] == []
    code, text, err = invoke(str(ruleset), str(events), "--compare", str(ruleset))
    assert code == 0, err
    head, tables = sections(text)
    assert head[0].startswith("base: Tiny Club") and head[1].startswith("compare: Tiny Club")
    differences = [row[-1] for title, rows in tables.items() if title != "Customers whose points issued differ most"
                   for row in rows[1:]]
    assert len(differences) > 100
    assert {d for d in differences} <= {"0", "0.00", "0.00 SEK", "0.0 pp", "—"}
    assert tables["Customers whose points issued differ most"] == [["(none)"]]
    code, out, err = invoke(str(ruleset), str(events), "--compare", str(ruleset), "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert len(rows) > 100 and {row[-1] for row in rows} <= {"0", "0.00", "0.0", ""}
    assert all(row[3] == row[4] for row in rows)


def test_a_comparison_shows_both_programmes_and_the_customers_that_differ_most(tiny, tmp_path):
    ruleset, events = tiny
    richer = tmp_path / "richer.reward"
    # Base doubled: a 2 x (60 + 50) - 2 x 50 = 120 (+ 110 - 50 = +60), b +260, c 0
    richer.write_text(TINY.replace("earns 1 point per 10 SEK", "earns 2 points per 10 SEK"), encoding="utf-8")
    code, out, err = invoke(str(ruleset), str(events), "--compare", str(richer), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["customers_differing"] == [
        {"customer": "b", "base": 310, "compare": 570, "difference": 260},  # Base 260 -> 520
        {"customer": "a", "base": 130, "compare": 190, "difference": 60},  # Base 60 -> 120
    ]
    base, other = data["programmes"]
    assert (base["rules"][0]["points"], other["rules"][0]["points"]) == (320, 640)
    diff = {(d["section"], d["item"], d["figure"]): d["difference"] for d in data["differences"]}
    assert diff[("programme", None, "points issued (awarded - reversed)")] == 320
    assert diff[("rules", "Base", "points")] == 320
    code, text, err = invoke(str(ruleset), str(events), "--compare", str(richer), "--top", "1")
    assert code == 0, err
    head, tables = sections(text)
    assert tables["Customers whose points issued differ most"] == [
        ["customer", "points issued (base)", "points issued (compare)", "difference"], ["b", "310", "570", "+260"]]
    base_row = [r for r in tables["Rules"] if r[:2] == ["Base", "points"]]
    assert base_row == [["Base", "points", "320", "640", "+320"]]
    assert [r for r in tables["Programme"] if r[0] == "points issued (awarded - reversed)"] == [
        ["points issued (awarded - reversed)", "460", "780", "+320"]]


# TINY with "Review" at 30 points instead of 20, worked out by hand: only a4 and c1 change. a's
# lot L4 is 30 (released 01-27, expiring 03-27: still there at the end; the Mug on 02-01 takes L1
# and L2 first, as they expire sooner; a's balance never reaches the 200 of "Check"), so a has
# issued 140 and 30 outstanding, and costs 30 + 10 + 30 x 0.10 = 43; c has 30 pending (cost 3).
# What changes, as (table, row labels, figure): (compare, difference); every other figure of
# the comparison is the base figure twice, with a difference of 0.
REVIEW_30 = {
    ("Programme", (), "points awarded"): ("530", "+20"),  # 510 + 2 x 10
    ("Programme", (), "points issued (awarded - reversed)"): ("480", "+20"),
    ("Programme", (), "points pending at the end"): ("40", "+10"),  # b 10 + c 30
    ("Programme", (), "points outstanding at the end"): ("-20", "+10"),  # a 30 - b 50 = 480 - 300 - 10 - 150 - 40
    ("Programme", (), "liability at the end (outstanding + pending points)"): (
        "7.00 SEK", "+2.00 SEK"),  # (30 + 40) x 0.10
    ("Programme", (), "reward cost (given + liability)"): ("127.00 SEK", "+2.00 SEK"),  # 120 + 7
    ("Programme", (), "reward cost per customer"): ("42.33 SEK", "+0.66 SEK"),  # 127 / 3; 42.33 - 41.67
    ("Programme", (), "reward cost per 100 of spend"): ("3.97 SEK", "+0.06 SEK"),  # 12,700 / 3,200 = 3.96875
    ("Rules", ("Base",), "share of points"): ("66.7 %", "-2.9 pp"),  # 320 / 480
    ("Rules", ("Welcome",), "share of points"): ("20.8 %", "-0.9 pp"),  # 100 / 480
    ("Rules", ("Review",), "points"): ("60", "+20"),
    ("Rules", ("Review",), "share of points"): ("12.5 %", "+3.8 pp"),  # 60 / 480
    ("Rules", ("Review",), "cost (SEK)"): ("6.00", "+2.00"),
    ("Segments (customers in each at the end)", ("stockholm",), "points issued"): ("140", "+10"),  # a
    ("Segments (customers in each at the end)", ("stockholm",), "points outstanding"): ("30", "+10"),
    ("Segments (customers in each at the end)", ("stockholm",), "reward cost (SEK)"): ("43.00", "+1.00"),
    ("Segments (customers in each at the end)", ("stockholm",), "cost per 100 of spend (SEK)"): (
        "7.17", "+0.17"),  # 4,300 / 600
    ("Month by month", ("2026-01",), "points issued"): ("140", "+10"),  # a4
    ("Month by month", ("2026-03",), "points issued"): ("40", "+10"),  # c1
    ("Loyalty effect: the top 20 % of buyers by spend against the rest", ("the rest",), "points per customer"): (
        "140.00", "+10.00"),  # a
    ("Loyalty effect: the top 20 % of buyers by spend against the rest", ("the rest",),
     "reward cost per 100 of spend (SEK)"): ("7.17", "+0.17"),
    ("Loyalty effect: the top 20 % of buyers by spend against the rest", ("all buyers",), "points per customer"): (
        "225.00", "+5.00"),  # (310 + 140) / 2
    ("Loyalty effect: the top 20 % of buyers by spend against the rest", ("all buyers",),
     "reward cost per 100 of spend (SEK)"): ("3.88", "+0.04"),  # (81 + 43) x 100 / 3,200 = 3.875, half up
}
LABELS = {"Tier moves": 2}  # columns that name a row; 1 in every other table but the programme's


def _zero(shown: str) -> str:
    """The difference of a figure with itself, as shown: 0, 0.00, 0.00 SEK, 0.0 pp, or — for none."""
    if shown == "—":
        return "—"
    if shown.endswith(" %"):
        return "0.0 pp"
    if shown.endswith(" SEK"):
        return "0.00 SEK"
    return "0.00" if "." in shown else "0"


def _compared_by_hand(changes: dict) -> dict[str, list[list[str]]]:
    """The comparison's tables, in long form, from the hand-checked base figures and ``changes``."""
    tables: dict[str, list[list[str]]] = {"Programme": [["figure", "base", "compare", "difference"]]}
    for figure, shown in BY_HAND_PROGRAMME.items():
        compare, difference = changes.get(("Programme", (), figure), (shown, _zero(shown)))
        tables["Programme"].append([figure, shown, compare, difference])
    for title, (header, *rows) in BY_HAND_TABLES.items():
        n = LABELS.get(title, 1)
        out = [header[:n] + ["figure", "base", "compare", "difference"]]
        for row in rows:
            for figure, shown in zip(header[n:], row[n:]):
                compare, difference = changes.get((title, tuple(row[:n]), figure), (shown, _zero(shown)))
                out.append(row[:n] + [figure, shown, compare, difference])
        tables[title] = out
    return tables


def test_every_figure_of_a_comparison_by_hand(tiny, tmp_path):
    ruleset, events = tiny
    other = tmp_path / "review30.reward"
    other.write_text(TINY.replace("review earns 20 points", "review earns 30 points"), encoding="utf-8")
    code, out, err = invoke(str(ruleset), str(events), "--compare", str(other), "--processes", "1")
    assert code == 0, err
    head, tables = sections(out)
    assert head == [
        f"base: Tiny Club ({ruleset}); currency SEK, point value 0.10 SEK",
        f"compare: Tiny Club ({other}); currency SEK, point value 0.10 SEK",
        "base: 13 lines read: 10 applied, 1 duplicates, 2 rejected (bad_field 1, not_json 1)",
        "compare: 13 lines read: 10 applied, 1 duplicates, 2 rejected (bad_field 1, not_json 1)",
        "Events from 2026-01-01T09:00:00Z; figures at the end: 2026-03-15T09:00:00Z (the latest time in the input).",
    ]
    expected = _compared_by_hand(REVIEW_30)
    # a 130 -> 140, c 20 -> 30: ties by customer id
    expected["Customers whose points issued differ most"] = [
        ["customer", "points issued (base)", "points issued (compare)", "difference"],
        ["a", "130", "140", "+10"], ["c", "20", "30", "+10"]]
    assert list(tables) == list(expected)
    for title, rows in expected.items():
        assert tables[title] == rows, title
    # the JSON says the same: both programmes' figures, and exactly the non-zero differences
    code, out, err = invoke(str(ruleset), str(events), "--compare", str(other), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    sections_of = {"Programme": "programme", "Rules": "rules", "Segments (customers in each at the end)": "segments",
                   "Month by month": "months",
                   "Loyalty effect: the top 20 % of buyers by spend against the rest": "loyalty"}
    assert {(d["section"], d["item"], d["figure"]): d["difference"] for d in data["differences"]} == {
        (sections_of[title], " / ".join(labels) or None, figure): str(number(difference))
        if "." in difference else int(difference) for (title, labels, figure), (_, difference) in REVIEW_30.items()}
    assert data["customers_differing"] == [{"customer": "a", "base": 130, "compare": 140, "difference": 10},
                                           {"customer": "c", "base": 20, "compare": 30, "difference": 10}]
    base, compare = data["programmes"]
    assert (base["programme"]["points_issued"], compare["programme"]["points_issued"]) == (460, 480)
    # and the CSV: one row a figure, with both values and the difference, plain
    code, out, err = invoke(str(ruleset), str(events), "--compare", str(other), "--format", "csv")
    assert code == 0, err
    rows = {(r[0], r[1], r[2]): r[3:] for r in csv.reader(io.StringIO(out))}
    assert rows[("programme", "", "reward cost per customer")] == ["41.67", "42.33", "0.66"]
    assert rows[("rules", "Review", "share of points")] == ["8.7", "12.5", "3.8"]
    assert rows[("rules", "Coffee card", "share of points")] == ["", "", ""]
    assert rows[("months", "2026-02", "spend (SEK)")] == ["2500.00", "2500.00", "0.00"]
    assert rows[("rules", "Silver mail", "cost (SEK)")] == ["0.00", "0.00", "0.00"]  # a zero is money too
    assert rows[("customers_differing", "c", "points issued")] == ["20", "30", "10"]


def test_compare_needs_one_currency(tiny, tmp_path):
    ruleset, events = tiny
    other = tmp_path / "euro.reward"
    other.write_text(TINY.replace("SEK", "EUR"), encoding="utf-8")
    code, out, err = invoke(str(ruleset), str(events), "--compare", str(other))
    assert code == 2
    assert err.startswith(f"error: --compare {other}: its currency (EUR) is not that of {ruleset} (SEK)")


# ---------------------------------------------------------------------------- the same figures however run


def _figures(ruleset_text: str, events: list[str], **options: object) -> dict:
    program = check_text(ruleset_text, "r.reward").program
    assert program is not None
    result = simulate(SimulateRequest(program, "r.reward", tuple(events), **options))  # type: ignore[arg-type]
    assert not isinstance(result, Problem), result
    return result.to_dict()


def test_the_figures_do_not_depend_on_processes_chunks_or_the_order_of_lines(tmp_path, monkeypatch):
    text = BOOKSHOP.read_text(encoding="utf-8")
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    one = _figures(text, [str(EXAMPLE)], processes=1)
    monkeypatch.setattr(simulate_module, "CHUNK_BYTES", 50_000)  # the example cut into 13 chunks
    monkeypatch.setattr(simulate_module, "FLUSH_LINES", 97)  # staged 97 lines at a time
    shuffled = list(lines)
    random.Random(7).shuffle(shuffled)
    halves = [tmp_path / "first.jsonl", tmp_path / "second.jsonl"]
    halves[0].write_text("\n".join(shuffled[:1500]) + "\n", encoding="utf-8")
    halves[1].write_text("\n".join(shuffled[1500:]) + "\n", encoding="utf-8")
    two = _figures(text, [str(h) for h in halves], processes=2)
    one.pop("inputs"), two.pop("inputs")
    assert one == two


def test_standard_input_and_csv(tiny, tmp_path):
    ruleset, events = tiny
    code, from_file, _ = invoke(str(ruleset), str(events), "--format", "json")
    code, from_stdin, err = invoke(str(ruleset), "-", "--format", "json", input=events.read_bytes())
    assert code == 0, err
    a, b = json.loads(from_file), json.loads(from_stdin)
    assert b["inputs"] == ["-"]
    a.pop("inputs"), b.pop("inputs")
    assert a == b
    table = tmp_path / "events.csv"
    with table.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        keys = ["id", "type", "customer", "time", "amount", "city", "refunds", "reward", "points", "reason"]
        writer.writerow(keys)
        for event in EVENTS:
            writer.writerow([str(event.get(k, "")) for k in keys])
    code, out, err = invoke(str(ruleset), str(table), "--format", "json")
    assert code == 0, err
    c = json.loads(out)
    c.pop("inputs")
    assert c["programmes"][0]["programme"] == a["programmes"][0]["programme"]
    assert c["read"] == a["read"] - 1  # the CSV has no unreadable line


# ---------------------------------------------------------------------------- how it runs

# JSON values as ``rewardlang.inputs`` reads them: exact Decimals for numbers with a fraction or
# an exponent, texts with any code point (a lone surrogate comes from a \ud800 escape)
_TEXTS = st.text(st.characters(blacklist_categories=()), max_size=6)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | _TEXTS
    | st.decimals(allow_nan=False, allow_infinity=False, places=None),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXTS, inner, max_size=3), max_leaves=10)


def _exact(value: object) -> object:
    """A value with its types spelled out: 1, True, Decimal("1") and Decimal("1.0") all differ."""
    if isinstance(value, dict):
        return ("dict", [(key, _exact(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_exact(item) for item in value])
    return (type(value).__name__, str(value))


@given(st.dictionaries(_TEXTS, _VALUES, max_size=6))
@example({"amount": Decimal("-0.00"), "n": [Decimal("1E+3"), {"x": Decimal("1.50")}], "who": "\ud800", "k": True})
@example({"amount": "249.00", "items": 2, "tags": ["a", None]})
def test_a_staged_line_reads_back_exactly_as_the_reader_read_it(value):
    """A line is staged as JSON text (its own, or a CSV row's cells written as JSON) and read back
    with one decoder: the value is the reader's, types, digits and exponents alike."""
    text = dump_value(value)
    (line,) = open_events("-", fmt="jsonl", stdin=io.BytesIO(text.encode("utf-8", "surrogatepass") + b"\n"))
    assert line.value is not None, line.problem
    assert _exact(line.value) == _exact(value)
    assert _exact(simulate_module._DECODER.decode(line.text)) == _exact(value)  # the staged text, read back


def _variants() -> dict[str, str]:
    """TINY, and programmes that validate lines as it does (other rules, settings, tiers) or not."""
    return {
        "richer": TINY.replace("earns 1 point per 10 SEK", "earns 2 points per 10 SEK"),
        "other settings": TINY.replace('timezone "UTC"', 'timezone "Pacific/Apia"').replace(
            "point value 0.10 SEK", "point value 0.25 SEK").replace("points pending for 7 days\n", "").replace(
            "tier silver = spend in last 12 months >= 1000 SEK", "tier silver = spend in last 12 months >= 300 SEK"),
        "another event": TINY.replace("event review\n", "event review with stars number\n"),
        "another reward": TINY.replace('reward "Mug" costs 100 points', 'reward "Cup" costs 100 points'),
        "another field": TINY.replace("customer has city text", "customer has city text, vip bool"),
    }


def test_two_programmes_that_validate_alike_share_the_validation(tiny):
    ruleset, events = tiny
    base = check_text(TINY, "tiny.reward").program
    lines = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    lines += [{**event, "stars": 4, "vip": "yes", "reward": "Cup"} for event in EVENTS]
    shared = {}
    for name, text in _variants().items():
        other = check_text(text, f"{name}.reward").program
        assert other is not None and base is not None
        shared[name] = validation_key(other) == validation_key(base)
        if shared[name]:  # what the key promises: every line validated alike
            assert [Validator(other).validate(v) for v in lines] == [Validator(base).validate(v) for v in lines]
    assert shared == {"richer": True, "other settings": True, "another event": False, "another reward": False,
                      "another field": False}


@pytest.mark.parametrize("variant", list(_variants()))
def test_a_comparison_shows_each_programme_as_simulating_it_alone_would(tiny, variant):
    ruleset, events = tiny
    base = check_text(TINY, "tiny.reward").program
    other = check_text(_variants()[variant], "other.reward").program
    compared = simulate(SimulateRequest(base, "tiny.reward", (str(events),), compare=other,
                                        compare_ruleset="other.reward", processes=1))
    alone = [simulate(SimulateRequest(program, name, (str(events),), processes=1))
             for program, name in ((base, "tiny.reward"), (other, "other.reward"))]
    assert not isinstance(compared, Problem)
    assert list(compared.programmes) == [a.programmes[0] for a in alone]  # type: ignore[union-attr]


def test_the_garbage_collector_is_left_as_it_was(tiny):
    """Simulate pauses the cyclic collector while it stages and applies, and puts it back."""
    ruleset, events = tiny
    program = check_text(TINY, "tiny.reward").program
    try:
        for enabled in (True, False):
            gc.enable() if enabled else gc.disable()
            result = simulate(SimulateRequest(program, "tiny.reward", (str(events),), processes=1))
            assert not isinstance(result, Problem)
            assert gc.isenabled() is enabled
    finally:
        gc.enable()


# ---------------------------------------------------------------------------- usage errors


def test_usage_errors_are_one_line_and_exit_2(tiny, tmp_path):
    ruleset, events = tiny
    code, out, err = invoke(str(ruleset), str(tmp_path / "missing.jsonl"))
    assert (code, out) == (2, "")
    assert err == f"error: {tmp_path / 'missing.jsonl'}: no such file: check the path\n"
    broken = tmp_path / "broken.reward"
    broken.write_text('event purchase\nrule "A": purchse earns 10 points\n', encoding="utf-8")
    code, out, err = invoke(str(broken), str(events))
    assert code == 2 and "error[" in err and "Traceback" not in err
    code, out, err = invoke(str(ruleset), str(events), "--format", "xml")
    assert code == 2 and "Invalid value for '--format'" in err
    code, out, err = invoke(str(ruleset), str(events), "--report", str(tmp_path / "nowhere" / "r.html"))
    assert code == 2 and err.startswith("error: --report") and "does not exist" in err
    code, out, err = invoke(str(ruleset), str(events), "--until", "yesterday")
    assert code == 2 and err.startswith("error: --until yesterday: not a time with an offset")


def test_strict_exits_1_when_a_line_was_rejected(tiny):
    ruleset, events = tiny
    code, out, err = invoke(str(ruleset), str(events), "--strict")
    assert code == 1 and out.startswith("Simulation of Tiny Club")


def test_nothing_is_written_but_stdout(tiny, tmp_path, monkeypatch):
    ruleset, events = tiny
    monkeypatch.chdir(tmp_path)
    scratch = tmp_path / "scratch"  # the system's temporary directory, for this test
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    made: list[str] = []
    mkdtemp = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", lambda *a, **k: made.append(mkdtemp(*a, **k)) or made[-1])
    before = sorted(p.name for p in tmp_path.iterdir())
    for processes in ("1", "2"):
        code, out, err = invoke(str(ruleset), str(events), "--processes", processes)
        assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    # the staging directories were there, and are gone
    assert len(made) == 2 and all(path.startswith(str(scratch)) for path in made)
    assert list(scratch.iterdir()) == []
