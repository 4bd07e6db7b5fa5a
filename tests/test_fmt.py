"""``fmt``: identity lines (sqlglot style), golden layouts, and the shipped rulesets.

- every line of fixtures/identity.reward is one statement in canonical form: ``fmt`` leaves it as is;
- fixtures/fmt/NAME.reward formats to fixtures/fmt/NAME.formatted (``REWARDLANG_UPDATE_GOLDEN=1``
  rewrites the expected files after a deliberate layout change: read the diff before committing);
- every ruleset in rulesets/ is fmt-clean.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rewardlang import printer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IDENTITY = [line for line in (HERE / "fixtures" / "identity.reward").read_text(encoding="utf-8").split("\n") if line]
GOLDEN = sorted((HERE / "fixtures" / "fmt").glob("*.reward"))


@pytest.mark.parametrize("line", IDENTITY)
def test_identity(parser, line):
    parsed = parser.parse(line + "\n", "identity.reward")
    assert parsed.ok, [d.headline() for d in parsed.diagnostics]
    assert printer.format_file(parsed) == line + "\n"
    (statement,) = parsed.ruleset.statements
    assert printer.statement(statement) == line


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_layout(parser, path):
    parsed = parser.parse(path.read_text(encoding="utf-8-sig"), path.name)
    assert parsed.ok, [d.headline() for d in parsed.diagnostics]
    formatted = printer.format_file(parsed)
    expected_path = path.with_suffix(".formatted")
    if os.environ.get("REWARDLANG_UPDATE_GOLDEN"):
        expected_path.write_text(formatted, encoding="utf-8")
    assert formatted == expected_path.read_text(encoding="utf-8")
    assert parser.parse(formatted).ruleset == parsed.ruleset
    assert printer.format_file(parser.parse(formatted)) == formatted


@pytest.mark.parametrize("path", sorted((ROOT / "rulesets").glob("*.reward")), ids=lambda p: p.name)
def test_shipped_rulesets_are_fmt_clean(parser, path):
    text = path.read_text(encoding="utf-8")
    assert printer.format_file(parser.parse(text, path.name)) == text


def test_bare_rule_name_is_its_own_text(parser):
    parsed = parser.parse("review   earns\t50 points,at most 3 per month\n")
    (rule,) = parsed.ruleset.statements
    assert printer.rule_name(rule) == "review earns 50 points, at most 3 per month"


def test_spelling_of_numbers_and_times_is_kept(parser):
    line = 'rule "x": 05 purchases gives 1 free, between 7:00 and 9:05, at most 01 per day\n'
    assert printer.format_file(parser.parse(line)) == line
