"""The grammar and the parser: strict LALR build, the line rule, error recovery, the public API."""

from __future__ import annotations

from pathlib import Path

import pytest
from lark import Lark

import rewardlang
from rewardlang import ast
from rewardlang.diagnostics import RulesetError
from rewardlang.parser import build_lark, grammar_text, split_statements

ROOT = Path(__file__).resolve().parents[1]
RULESETS = sorted((ROOT / "rulesets").glob("*.reward"))


def test_grammar_builds_in_lark_strict_mode():
    """No shift/reduce or reduce/reduce conflict, no terminal collision (needs lark[interegular])."""
    pytest.importorskip("interegular")
    assert isinstance(build_lark(strict=True), Lark)


def test_grammar_ships_one_file():
    assert "start:" in grammar_text()
    assert (ROOT / "grammar" / "rewardlang.lark").read_text(encoding="utf-8") == grammar_text()


def test_keywords_are_the_grammar_words(parser):
    for word in ("rule", "earns", "gives", "points", "date", "text", "saturday", "once", "spend", "tier"):
        assert word in parser.keywords
    for name in ("purchase", "amount", "refund", "age", "SEK"):
        assert name not in parser.keywords


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.name)
def test_shipped_rulesets_have_no_diagnostic_at_all(path):
    checked = rewardlang.check_path(path)
    assert checked.diagnostics == (), [d.headline() for d in checked.diagnostics]


def test_every_shipped_ruleset_declares_its_programme():
    assert {p.stem for p in RULESETS} >= {"bookshop", "cafe", "fashion", "webshop"}


# ---------------------------------------------------------------------------- the line rule


def _rules(parser, text):
    parsed = parser.parse(text)
    return parsed, [s for s in parsed.ruleset.statements if isinstance(s, ast.Rule)]


def test_an_indented_line_continues_the_statement(parser):
    parsed, (rule,) = _rules(parser, 'rule "A": review earns 50 points,\n  at most 3 per month\n')
    assert parsed.ok and rule.modifiers == (ast.LimitModifier(ast.Number(3), "month"),)
    assert (rule.span.line, rule.span.end_line) == (1, 2)


def test_a_tab_continues_too_and_crlf_is_a_line_end(parser):
    parsed, (rule,) = _rules(parser, 'rule "A": review earns 50 points,\r\n\tonce\r\n')
    assert parsed.ok and rule.modifiers == (ast.OnceModifier(),)


def test_an_indented_comment_line_inside_a_statement(parser):
    parsed, (rule,) = _rules(parser, 'rule "A": review earns 50 points,\n  # why\n  once\n')
    assert parsed.ok and rule.modifiers == (ast.OnceModifier(),)


def test_a_blank_line_ends_the_statement(parser):
    parsed = parser.parse('rule "A": review earns 50 points,\n\n  once\n')
    assert [(d.code, d.span.line) for d in parsed.diagnostics] == [
        ("RL001", 1),  # the statement ends with a comma
        ("RL001", 3),  # `once` alone is no statement
        ("RL904", 3),  # and the warning says why: the blank line cut it off
    ]


def test_split_statements_follows_the_line_rule():
    text = "a\n  b\n# c\n  d\n\ne\n   # f\n   g\nh  # i\n"
    chunks = split_statements(text)
    assert [(c.first_line, c.text) for c in chunks] == [
        (1, "a\n  b"),
        (4, "  d"),
        (6, "e\n   # f\n   g"),
        (9, "h  # i"),
    ]


def test_a_bare_sentence_ruleset(parser):
    parsed, rules = _rules(parser, "event purchase\nevent review\n5 purchases gives 1 free\nreview earns 50 points\n")
    assert parsed.ok and len(rules) == 2 and all(r.name is None for r in rules)


def test_plural_words_are_kept_as_written(parser):
    _, (rule,) = _rules(parser, "3 deliveries gives 1 free\n")
    assert rule.trigger.event.text == "deliveries" and rule.trigger.every is False


# ---------------------------------------------------------------------------- recovery


def test_one_broken_statement_hides_nothing(parser):
    text = (
        "currency SEK\n"
        "event purchase with amount money\n"
        "rule \"A\": purchase 10 points\n"
        "rule \"B\": purchase where amount >= 500 SEK earns 50 points\n"
        "rule \"C\": purchase earns 1 point per\n"
        "rule \"D\": purchase earns 1 point\n"
    )
    parsed = parser.parse(text, "shop.reward")
    assert [(d.code, d.span.line) for d in parsed.diagnostics] == [("RL001", 3), ("RL001", 5)]
    names = [s.name.value for s in parsed.ruleset.statements if isinstance(s, ast.Rule)]
    assert names == ["B", "D"]


def test_spans_after_recovery_are_in_file_lines(parser):
    text = "rule \"A\": purchase 10 points\n\n\nrule \"B\": purchase where amount >= 500 SEK earns 5 points\n"
    parsed = parser.parse(text)
    (rule,) = [s for s in parsed.ruleset.statements if isinstance(s, ast.Rule)]
    where = rule.trigger.where
    assert rule.span.line == 4 and rule.trigger.span.line == 4
    assert (where.span.line, where.span.column, where.span.end_line) == (4, 26, 4)
    assert where.right.span == ast.Span("<string>", 4, 36, 4, 43)


def test_fast_and_careful_paths_agree_on_the_design_example(parser):
    text = (ROOT / "rulesets" / "bookshop.reward").read_text(encoding="utf-8")
    fast = parser.parse(text, "b.reward")
    careful = parser.parse(text, "b.reward", fast=False)
    assert fast.ruleset == careful.ruleset
    assert [s.span for s in fast.ruleset.statements] == [s.span for s in careful.ruleset.statements]


# ---------------------------------------------------------------------------- the public API


def test_loads_returns_a_checked_program():
    program = rewardlang.loads("currency SEK\nevent purchase with amount money\npurchase earns 1 point per 10 SEK\n")
    assert program.currency == "SEK" and program.timezone == "UTC" and program.rounding == "down"
    assert program.rule_names == ("purchase earns 1 point per 10 SEK",)
    assert program.event_of("purchases") == "purchase"


def test_loads_raises_one_error_with_every_diagnostic():
    with pytest.raises(RulesetError) as caught:
        rewardlang.loads("event purchase\npurchse earns 1 point\nreview earns 1 point\n", "x.reward")
    codes = [d.code for d in caught.value.diagnostics]
    assert codes == ["RL101", "RL101"]
    assert "x.reward:2:1: error[RL101]" in str(caught.value)


def test_load_reads_a_file_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "shop.reward"
    path.write_bytes("\ufeffevent review\nreview earns 50 points\n".encode())
    assert rewardlang.load(path).rule_names == ("review earns 50 points",)


@pytest.mark.parametrize(
    ("line", "word", "help"),
    [
        ("purchase earns 5 pointsper 10 SEK", "pointsper", "write `points per`"),
        ('inactive for6 months gives message "x"', "for6", "write `for 6`"),
    ],
)
def test_a_keyword_glued_to_the_next_word_is_an_error(parser, line, word, help):
    parsed = parser.parse(f"currency SEK\nevent purchase with amount money\n{line}\n")
    (diagnostic,) = parsed.diagnostics
    assert diagnostic.code == "RL001" and f"`{word}`" in diagnostic.message and diagnostic.help == help
