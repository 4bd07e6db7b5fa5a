"""Real data: the UCI "Online Retail" events (/work/shared/data/online-retail, see its README)
through a UK gift shop's programme (rulesets/retail.reward), with ``rewardlang run``.

Every line is accounted for; the 36 refunds that ask for more than remains of their purchase
(the README's count) are rejected with that reason, and the one refund of a purchase older than
the programme's one-year refund window with its own; a second run on a fresh state writes the
same ledger and rejected file byte for byte. (Two runs of 21,986 events: some seconds each.)
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from rewardlang.cli import main

ROOT = Path(__file__).resolve().parents[1]
RETAIL = ROOT / "rulesets" / "retail.reward"
DATA = Path("/work/shared/data/online-retail/events.jsonl")
SHA256 = "a745f190ca870a79fed3742cb05938887bbd762d917352e18070b5830a28adad"

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is not on this machine")


def run(tmp_path: Path, name: str):
    args = ["run", str(RETAIL), str(DATA), "--state", str(tmp_path / f"{name}.db"), "--ledger",
            str(tmp_path / f"{name}.jsonl"), "--rejected", str(tmp_path / f"{name}-rejected.jsonl"),
            "--until", "2011-12-10T00:00:00Z"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def untimed(output: str) -> str:
    return re.sub(r"took .*\n", "", output)


def test_the_online_retail_events_through_the_gift_shop_programme(tmp_path):
    assert hashlib.sha256(DATA.read_bytes()).hexdigest() == SHA256
    events = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(events) == 21_986
    first = run(tmp_path, "first")
    match = re.search(r"([\d,]+) lines read: ([\d,]+) applied, ([\d,]+) duplicates, ([\d,]+) rejected", first.output)
    assert match, first.output
    read, applied, duplicates, rejected = (int(g.replace(",", "")) for g in match.groups())
    assert read == len(events) == applied + duplicates + rejected
    assert duplicates == 0
    assert "4,338 customers in the input" in first.output

    lines = [json.loads(x) for x in (tmp_path / "first-rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == rejected == 37
    too_much = [r for r in lines if re.fullmatch(r"the refund asks for [\d.]+ and [\d.]+ remains of event inv-\d+",
                                                   r["reason"])]
    assert len(too_much) == 36
    others = [r for r in lines if r not in too_much]
    assert [json.loads(r["line"])["id"] for r in others] == ["inv-C580954"]  # a purchase of 2010-12-03
    assert "older than the refund window" in others[0]["reason"]
    assert all(json.loads(r["line"])["type"] == "refund" for r in lines)
    assert [r["line_number"] for r in lines] == sorted(r["line_number"] for r in lines)
    by_number = DATA.read_text(encoding="utf-8").splitlines()
    assert all(by_number[r["line_number"] - 1] == r["line"] for r in lines)

    ledger = (tmp_path / "first.jsonl").read_text(encoding="utf-8").splitlines()
    effects = [json.loads(x) for x in ledger]
    applied_ids = {e["id"] for e in events} - {json.loads(r["line"])["id"] for r in lines}
    assert {x["event"] for x in effects if x["event"] is not None} <= applied_ids
    purchases = {e["id"] for e in events if e["type"] == "purchase"}
    assert purchases <= {x["event"] for x in effects if x["rule"] == "Base points" or x["rule"] == "Gold points"} | {
        e["id"] for e in events if e["type"] == "purchase" and Decimal(e["amount"]) < 1}

    second = run(tmp_path, "second")
    assert untimed(second.output) == untimed(first.output)
    assert (tmp_path / "second.jsonl").read_bytes() == (tmp_path / "first.jsonl").read_bytes()
    assert (tmp_path / "second-rejected.jsonl").read_bytes() == (tmp_path / "first-rejected.jsonl").read_bytes()
