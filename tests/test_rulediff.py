"""``rewardlang.rulediff``: what changed between two rulesets, by meaning, and the fingerprint that
``rewardlang run`` keeps in a state file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rewardlang
from rewardlang.rulediff import Description, compare, describe

ROOT = Path(__file__).resolve().parents[1]

BASE = """\
program "Shop"
currency SEK
points expire after 12 months
event purchase with amount money, category text
tier silver = spend in last 12 months >= 2000 SEK
tier gold = spend in last 12 months >= 5000 SEK
voucher "50 SEK off" worth 50 SEK
rule "Base": purchase earns 1 point per 10 SEK
rule "Books": purchase where category is "books" earns 20 points
rule "Check": 500 points converts to voucher "50 SEK off"
"""


def desc(text: str) -> Description:
    return describe(rewardlang.loads(text, "shop.reward").ruleset)


def test_layout_and_comments_do_not_change_the_fingerprint():
    reformatted = "# a comment\n" + BASE.replace("rule \"Base\": purchase", "rule \"Base\":    purchase") + "\n\n"
    assert desc(reformatted).fingerprint == desc(BASE).fingerprint
    assert not compare(desc(BASE), desc(reformatted))


def test_rules_added_removed_changed_by_name():
    new = (BASE.replace('rule "Books": purchase where category is "books" earns 20 points\n', "")
           .replace("1 point per 10 SEK", "2 points per 10 SEK")
           + 'rule "Games": purchase where category is "games" earns 10 points\n')
    diff = compare(desc(BASE), desc(new))
    assert [c.name for c in diff.of("rule", "added")] == ["Games"]
    assert [c.name for c in diff.of("rule", "removed")] == ["Books"]
    changed = diff.of("rule", "changed")
    assert [(c.name, c.old, c.new) for c in changed] == [
        ("Base", "purchase earns 1 point per 10 SEK", "purchase earns 2 points per 10 SEK")]
    assert 'rule "Games" added: purchase where category is "games" earns 10 points' in diff.lines()
    assert 'rule "Books" removed (was: purchase where category is "books" earns 20 points)' in diff.lines()
    assert diff.moves_rules  # "Check" moved from position 3 to 2


def test_settings_and_declarations():
    new = BASE.replace("points expire after 12 months", "points expire after 24 months").replace(
        'program "Shop"\n', "").replace("event purchase with amount money, category text",
                                        "event purchase with amount money, category text, items number")
    diff = compare(desc(BASE), desc(new))
    assert [(c.name, c.change) for c in diff.of("setting")] == [("points expire", "changed"),
                                                                 ("program", "removed")]
    assert [(c.name, c.change) for c in diff.of("declaration")] == [("event purchase", "changed")]
    assert "setting points expire changed: was points expire after 12 months, now points expire after " \
           "24 months" in diff.lines()
    assert not diff.moves_rules


def test_order_of_rules_and_tiers_is_a_change():
    lines = BASE.splitlines(keepends=True)
    swapped_rules = "".join(lines[:7] + [lines[8], lines[7]] + lines[9:])
    diff = compare(desc(BASE), desc(swapped_rules))
    assert [c.name for c in diff.of("order")] == ["of rules"]
    assert diff.moves_rules
    swapped_tiers = "".join(lines[:4] + [lines[5], lines[4]] + lines[6:])
    diff = compare(desc(BASE), desc(swapped_tiers))
    assert [c.name for c in diff.of("order")] == ["of tiers"]
    assert desc(swapped_tiers).fingerprint != desc(BASE).fingerprint


def test_a_rule_appended_at_the_end_moves_nothing():
    diff = compare(desc(BASE), desc(BASE + 'rule "Extra": purchase earns 1 point\n'))
    assert [c.name for c in diff.of("rule", "added")] == ["Extra"]
    assert not diff.moves_rules


@pytest.mark.parametrize("path", sorted((ROOT / "rulesets").glob("*.reward")), ids=lambda p: p.name)
def test_descriptions_round_trip_through_json(path):
    d = describe(rewardlang.load(path).ruleset)
    again = Description.from_dict(json.loads(d.to_json()))
    assert again == d
    assert again.fingerprint == d.fingerprint
    assert not compare(d, again)
