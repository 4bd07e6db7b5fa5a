"""``rewardlang diff OLD NEW``: what a pull request changes in the programme, by meaning.

A reformatting (``fmt``), a reordering of declarations and a rewording (``gives`` for ``earns``)
are no change (exit 0); rules added, removed and changed are (exit 1), each with its old and new
canonical text; a renamed rule is one removed and one added; a ruleset that does not check is
exit 2 with its diagnostics as ``check`` shows them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import rewardlang
from rewardlang import ast
from rewardlang.cli import main
from rewardlang.printer import format_ruleset, statement
from rewardlang.rulediff import compare_programs, meaning

ROOT = Path(__file__).resolve().parents[1]
RULESETS = sorted((ROOT / "rulesets").glob("*.reward"))

BASE = """\
program "Shop"
currency SEK
points expire after 12 months
event purchase with amount money, category text
tier silver = spend in last 12 months >= 2000 SEK
tier gold = spend in last 12 months >= 5000 SEK
voucher "50 SEK off" worth 50 SEK
free "book" worth 100 SEK
rule "Base": purchase earns 1 point per 10 SEK
rule "Books": purchase where category is "books" earns 20 points, at most 2 per month
rule "Punch": 5 purchases gives 1 free "book"
rule "Check": 500 points converts to voucher "50 SEK off"
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the report names the files as given: short, relative names


def run(old: str, new: str, *args: str):
    Path("old.reward").write_text(old, encoding="utf-8")
    Path("new.reward").write_text(new, encoding="utf-8")
    return CliRunner().invoke(main, ["diff", "old.reward", "new.reward", *args])


# ---------------------------------------------------------------------------- no change


def test_the_same_file_is_no_change():
    result = run(BASE, BASE)
    assert (result.exit_code, result.stdout) == (0, "No change in meaning.\n")


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.name)
def test_a_reformatted_ruleset_is_no_change(path):
    """The shipped rulesets against their layout as a tree printer writes it: no blank lines,
    no alignment, no comments."""
    text = path.read_text(encoding="utf-8")
    plain = format_ruleset(rewardlang.load(path).ruleset)
    assert plain != text
    result = run(text, plain)
    assert result.exit_code == 0, result.stdout
    assert result.stdout == "No change in meaning.\n"


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.name)
def test_reordered_declarations_are_no_change(path):
    """Settings and declarations moved (here: reversed, after the rules), rules and tiers kept
    in their order: nothing changed in meaning."""
    statements = rewardlang.load(path).ruleset.statements
    ordered = [s for s in statements if isinstance(s, (ast.Rule, ast.TierDecl))]
    others = [s for s in statements if not isinstance(s, (ast.Rule, ast.TierDecl))]
    shuffled = "\n".join(statement(s) for s in ordered + others[::-1]) + "\n"
    result = run(path.read_text(encoding="utf-8"), shuffled)
    assert (result.exit_code, result.stdout) == (0, "No change in meaning.\n")


def test_reformatted_and_commented():
    new = "# the shop's programme\n\n" + BASE.replace('rule "Base": purchase', 'rule "Base":   purchase  ') \
        .replace(", at most 2 per month", ",\n    at most 2 per month  # two a month")
    assert run(BASE, new).exit_code == 0


def test_rewordings_are_no_change_but_shown():
    new = (BASE.replace('earns 1 point per 10 SEK', 'gives 1 points per 10.00 SEK')
           .replace('category is "books"', '(category = "books")')
           .replace("5 purchases gives 1 free", "every 5 purchases earns free")
           .replace("event purchase with amount money, category text", "event purchase with category text, amount money"))
    result = run(BASE, new)
    assert result.exit_code == 0, result.stdout
    out = result.stdout.splitlines()
    assert out[:2] == ["--- old.reward", "+++ new.reward"]
    assert 'rule "Base" reworded (same meaning)' in out
    assert '  - rule "Base": purchase earns 1 point per 10 SEK' in out
    assert '  + rule "Base": purchase gives 1 points per 10.00 SEK' in out
    assert 'rule "Punch" reworded (same meaning)' in out
    assert "declaration event purchase reworded (same meaning)" in out
    assert out[-1] == "No change in meaning (4 statements reworded, same meaning)."


def test_meaning_sees_through_the_words_and_not_further():
    program = rewardlang.loads(BASE, "a.reward")
    rule = program.rule("Books")
    once = rewardlang.loads(BASE.replace("at most 2 per month", "once"), "c.reward")
    total = rewardlang.loads(BASE.replace("at most 2 per month", "at most 1 in total"), "d.reward")
    assert meaning(once.rule("Books"), once) == meaning(total.rule("Books"), total)
    assert meaning(once.rule("Books"), once) != meaning(rule, program)


# ---------------------------------------------------------------------------- changes


def test_rules_added_removed_changed_with_their_canonical_text():
    new = (BASE.replace('rule "Books": purchase where category is "books" earns 20 points, at most 2 per month\n', "")
           .replace("1 point per 10 SEK", "2 points per 10 SEK")
           + 'rule "Games":   purchase where category is "games"   earns 10 points\n')
    result = run(BASE, new)
    assert result.exit_code == 1
    assert result.stdout == (
        "--- old.reward\n"
        "+++ new.reward\n"
        'rule "Games" added\n'
        '  + rule "Games": purchase where category is "games" earns 10 points\n'
        'rule "Base" changed\n'
        '  - rule "Base": purchase earns 1 point per 10 SEK\n'
        '  + rule "Base": purchase earns 2 points per 10 SEK\n'
        'rule "Books" removed\n'
        '  - rule "Books": purchase where category is "books" earns 20 points, at most 2 per month\n'
        "\n"
        "3 changes: 1 rule added, 1 rule changed, 1 rule removed.\n"
    )


def test_a_renamed_rule_is_removed_and_added():
    result = run(BASE, BASE.replace('rule "Base"', 'rule "Base points"'))
    assert result.exit_code == 1
    assert 'rule "Base points" added' in result.stdout and 'rule "Base" removed' in result.stdout


def test_settings_declarations_and_order():
    new = (BASE.replace("points expire after 12 months", "points expire after 24 months")
           .replace('voucher "50 SEK off" worth 50 SEK', 'voucher "50 SEK off" worth 60 SEK'))
    lines = new.splitlines(keepends=True)
    punch, check = lines.index('rule "Punch": 5 purchases gives 1 free "book"\n'), len(lines) - 1
    lines[punch], lines[check] = lines[check], lines[punch]
    result = run(BASE, "".join(lines))
    assert result.exit_code == 1
    out = result.stdout
    assert "setting points expire changed\n  - points expire after 12 months\n  + points expire after 24 months\n" in out
    assert 'declaration voucher "50 SEK off" changed\n' in out
    assert "order of rules changed\n  - Base, Books, Punch, Check\n  + Base, Books, Check, Punch\n" in out
    assert out.endswith("3 changes: 1 declaration changed, 1 setting changed, order of rules changed.\n")


def test_tier_order_is_a_change():
    lines = BASE.splitlines(keepends=True)
    swapped = "".join(lines[:4] + [lines[5], lines[4]] + lines[6:])
    result = run(BASE, swapped)
    assert result.exit_code == 1 and "order of tiers changed" in result.stdout


def test_bare_sentence_rules_are_named_by_their_text():
    old = "event review\nreview earns 50 points\n"
    result = run(old, "event review\nreview   gives 50 points\n")  # a new name: its text changed
    assert result.exit_code == 1
    assert "  + review gives 50 points\n" in result.stdout and "  - review earns 50 points\n" in result.stdout


def test_json_format():
    result = run(BASE, BASE.replace("20 points", "25 points"), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data == {
        "old": "old.reward", "new": "new.reward", "changed": True,
        "changes": [{"what": "rule", "name": "Books", "change": "changed",
                     "old": 'purchase where category is "books" earns 20 points, at most 2 per month',
                     "new": 'purchase where category is "books" earns 25 points, at most 2 per month'}],
        "reworded": [],
    }
    same = run(BASE, BASE, "--format", "json")
    assert same.exit_code == 0 and json.loads(same.stdout)["changed"] is False


def test_compare_programs_api():
    old = rewardlang.loads(BASE, "a.reward")
    new = rewardlang.loads(BASE.replace("gives 1 free", "earns 1 free"), "b.reward")
    d = compare_programs(old, new)
    assert not d and [c.name for c in d.reworded] == ["Punch"]
    assert str(d.reworded[0]).startswith('rule "Punch" reworded (same meaning): was 5 purchases gives')


# ---------------------------------------------------------------------------- errors


def test_a_ruleset_that_does_not_check_is_exit_2_with_its_diagnostics():
    result = run(BASE, BASE.replace('rule "Base": purchase', 'rule "Base": purchse'))
    assert result.exit_code == 2 and result.stdout == ""
    assert "new.reward:9:14: error[RL101]: unknown event `purchse`" in result.stderr
    assert "error: new.reward: the ruleset has 1 error; fix them (rewardlang check new.reward) and diff again" \
        in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_and_two_stdins_are_exit_2():
    Path("old.reward").write_text(BASE, encoding="utf-8")
    runner = CliRunner()
    missing = runner.invoke(main, ["diff", "old.reward", "nope.reward"])
    assert missing.exit_code == 2 and "nope.reward: no such file or directory" in missing.stderr
    both = runner.invoke(main, ["diff", "-", "-"], input=BASE)
    assert both.exit_code == 2 and "only one of OLD and NEW can be -" in both.stderr


def test_stdin_as_one_side():
    Path("old.reward").write_text(BASE, encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", "old.reward", "-"], input=BASE.replace("20 points", "30 points"))
    assert result.exit_code == 1 and "+++ <stdin>" in result.stdout
