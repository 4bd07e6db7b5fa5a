"""Syntax errors in words: every known mistake lands on its own message, and the parse goes on.

``syntax_errors.EXAMPLES`` maps a message to the statements that make that mistake; Lark matches
a failing parse against them by parser state. If a grammar change moves the states, an example
lands on another message (or none) and the test below names it.
"""

from __future__ import annotations

import re

import pytest
from lark.exceptions import UnexpectedInput

from rewardlang import syntax_errors
from rewardlang.loading import check_text
from rewardlang.parser import Parser

EXAMPLES = [
    (label, example) for label, examples in syntax_errors.example_table() for example in examples
]


def _id(item: tuple[tuple[str, str | None], str]) -> str:
    return item[1][:60]


@pytest.fixture(scope="module")
def parser() -> Parser:
    return Parser()


def diagnostics(text: str, filename: str = "t.reward") -> list[tuple[str, int, int, str, str | None]]:
    """(code, line, column, message, help) of every diagnostic, in order."""
    return [
        (d.code, d.span.line, d.span.column, d.message, d.help) for d in check_text(text, filename).diagnostics
    ]


def only(text: str) -> tuple[str, int, int, str, str | None]:
    found = diagnostics(text)
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------------------- the example table


@pytest.mark.parametrize("item", EXAMPLES, ids=[_id(i) for i in EXAMPLES])
def test_example_fails_and_maps_to_its_own_message(parser: Parser, item) -> None:
    label, example = item
    with pytest.raises(UnexpectedInput) as caught:
        parser.lark.parse(example + "\n")
    assert syntax_errors.match_message(parser, caught.value) == label


def test_example_table_has_a_named_twin_of_every_rule_example() -> None:
    table = dict(syntax_errors.example_table())
    examples = table[("a rule needs `earns` or `gives` before its reward", "write it like `purchase earns 10 points`")]
    assert "purchase 10 points" in examples
    assert 'rule "x": purchase 10 points' in examples


_RAW = re.compile(r"\$END|\b_NL\b|__\w+|\bANON|DECIMAL_COMMA|\b(LPAR|RPAR|LSQB|RSQB|COMMA|COLON|EQUAL|DOT)\b")


@pytest.mark.parametrize("item", EXAMPLES, ids=[_id(i) for i in EXAMPLES])
def test_example_reported_in_words(item) -> None:
    """Each mistake gives one error in words, with a help, and no terminal's name."""
    _, example = item
    found = [d for d in check_text(example + "\n", "t.reward").diagnostics if d.severity == "error"]
    syntax = [d for d in found if d.code in ("RL001", "RL002", "RL003", "RL206")]
    assert len(syntax) == 1, found
    assert syntax[0].help
    assert not _RAW.search(syntax[0].message + syntax[0].help), syntax[0]


# ---------------------------------------------------------------------------- the end of input


@pytest.mark.parametrize("ending", ["", "\n", "   # the rest later", "\n\n\n"])
def test_end_of_input_inside_a_statement(ending: str) -> None:
    code, line, column, message, help = only("event purchase\npurchase earns" + ending)
    assert (code, line, column) == ("RL001", 2, 15)
    assert message.startswith("after `earns` or `gives` comes the reward")
    assert message.endswith("(found the end of the line)")
    assert "earns 50 points" in (help or "")


def test_end_of_input_after_an_indented_continuation() -> None:
    code, line, column, message, _ = only('event review\nrule "Reviews": review earns 50 points,\n  at most')
    assert (code, line, column) == ("RL001", 3, 10)
    assert message.startswith("`at most` needs a number")


def test_empty_and_comment_only_files_are_clean() -> None:
    assert diagnostics("") == []
    assert diagnostics("# nothing yet\n\n   \n") == []


# ---------------------------------------------------------------------------- recovery


RECOVERY = """\
currency SEK
event purchase with amount money, category text

rule "Base":   purchse earns 1 point per 10 SEK
rule "Broken": purchase earns 5 points once
rule "Mixed":  purchase where amount >= 300 earns 50 points
rule "Books":  purchase where category is "books" earns 10 points, instead of "Bsae"
"""


def test_a_syntax_error_does_not_hide_checker_errors_in_other_statements() -> None:
    found = [(code, line, column) for code, line, column, *_ in diagnostics(RECOVERY)]
    assert found == [
        ("RL101", 4, 16),
        ("RL001", 5, 40),
        ("RL201", 6, 41),
        ("RL104", 7, 79),
    ]


def test_spans_of_nested_nodes_are_right_after_a_syntax_error() -> None:
    """A comparison starts with a node, not a token: its line is the statement's, once."""
    text = (
        "event purchase with category text\n"
        "\n"
        'rule "Broken": purchase earns\n'
        'rule "Vegan":  purchase where category contains "vegan" earns 5 points\n'
        'purchase where category contains "x" earns 1 point\n'
    )
    found = [(code, line, column) for code, line, column, *_ in diagnostics(text)]
    assert found == [("RL001", 3, 30), ("RL202", 4, 31), ("RL202", 5, 16)]


def test_a_broken_declaration_does_not_make_its_uses_unknown() -> None:
    text = (
        "currency SEK\n"
        "event purchase with amount money, items int\n"
        "segment locals = customer.city is\n"
        'rule "Base": purchase earns 1 point per 10 SEK, for locals\n'
    )
    codes = [code for code, *_ in diagnostics(text)]
    assert codes == ["RL001", "RL001"]


# ---------------------------------------------------------------------------- what the messages say


@pytest.mark.parametrize(
    ("statement", "message", "help"),
    [
        ("purchase earns 1 point for every 10 SEK", "points per amount are written with `per`, not `for every`",
         "write `1 point per 10 SEK`"),
        ("purchase earns 10 points, on saturday, sunday", "weekdays in `on` are joined with `or`, not with a comma",
         "write `on saturday or sunday`"),
        ("purchase earns 10 points, for gold, silver",
         "segments and tiers in `for` are joined with `or`, not with a comma", "write `for gold or silver`"),
        ('purchase if category is "books" earns 20 points', "a condition starts with `where`", None),
        ("every 5th purchase gives 1 free", "the count is written without `th`", None),
        ('purchase gives message "thanks".', "a statement does not end with a full stop", "remove the `.`"),
        ("purchase Earns 10 points", "`Earns` is written in lower case: `earns`", None),
        ("Currency SEK", "`Currency` is written in lower case: `currency`", None),
        ("purchase earns 10 points, at most 3 per mont",
         "`mont` is not a word of the language here: did you mean `month`?", None),
        ("purchase earns 5 pionts", "`pionts` is not a word of the language here: did you mean `points`?", None),
        ("purchase earns 10 points per 100 SEK spent", "`per` already means per amount spent: leave out `spent`",
         None),
        ("purchase where amount > SEK 100 earns 10 points", "money is written with the amount first",
         "write `100 SEK`"),
        ('purchase where category is not in ["books"] earns 1 point',
         "a list test is written `in [...]` or `not in [...]`, without `is`", None),
        ('purchase where category == "books" earns 1 point', "`==` is written `=` (or `is`)", None),
        ("signup earns 100 points,", "the statement ends with a comma", None),
        ("timezone Europe/Stockholm", "the `timezone` setting is not written that way (found `Europe`)",
         'write it like `timezone "Europe/Stockholm"`: the zone in double quotes'),
        ('currency "SEK"', 'the `currency` setting is not written that way (found `"SEK"`)',
         "write it like `currency SEK`: the ISO 4217 code, without quotes"),
        ("rounding half up", "the `rounding` setting is not written that way (found `half`)",
         "write `rounding down`, `rounding nearest` or `rounding up`"),
        ("review where stars >= 4 and <= 5 earns 10 points",
         "after `and` or `or` comes a whole comparison, with its field (found `<=`)", None),
    ],
)
def test_message(statement: str, message: str, help: str | None) -> None:
    prelude = "currency SEK\nevent purchase with amount money, category text\nevent review with stars number\n"
    found = [d for d in check_text(prelude + statement + "\n", "t.reward").diagnostics if d.code == "RL001"]
    assert len(found) == 1, found
    assert found[0].span.line == 4
    assert found[0].message == message
    if help is not None:
        assert found[0].help == help


def test_ordinal_points_at_the_suffix() -> None:
    assert only("event purchase\nevery 5th purchase gives 1 free\n")[:3] == ("RL001", 2, 8)


@pytest.mark.parametrize(
    ("statement", "column", "help"),
    [
        ("purchase earns 1,5 points", 16, "write `1.5`"),
        ("review where stars >= 4,5 earns 50 points", 23, "write `4.5`"),
    ],
)
def test_decimal_comma_in_a_number_is_rl206(statement: str, column: int, help: str) -> None:
    code, line, col, message, got_help = only("event purchase\nevent review with stars number\n" + statement + "\n")
    assert (code, line, col) == ("RL206", 3, column)
    assert message == "decimals are written with a point, not a comma"
    assert got_help == help


def test_decimal_comma_inside_text_is_not_blamed() -> None:
    code, *_ = only('event purchase\npurchase gives message "1,5 x" once\n')
    assert code == "RL001"


@pytest.mark.parametrize(
    ("text", "message", "width", "help"),
    [
        ("'books'", "text is written in double quotes, not single ones", 7, "write `\"books\"` instead of `'books'`"),
        ("“books”", "`“` is a typographic quote; text is written in plain double quotes", 7, None),
        ("books%", "there are no percentages in a ruleset", 1, None),
    ],
)
def test_unexpected_characters(text: str, message: str, width: int, help: str | None) -> None:
    diagnostic = check_text(f"event purchase with category text\npurchase where category is {text} earns 5 points\n",
                            "t.reward").diagnostics
    assert [d.code for d in diagnostic] == ["RL002"]
    d = diagnostic[0]
    assert d.message == message
    assert d.span.end_column - d.span.column == width
    if help is not None:
        assert d.help == help


def test_unclosed_text_underlines_to_the_end_of_the_line() -> None:
    d = check_text('event signup\nsignup gives message "welcome\n', "t.reward").diagnostics[0]
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("RL003", 2, 22, 30)


def test_indented_line_gets_the_warning_and_a_matching_error() -> None:
    text = 'event review\nevent signup\nreview earns 50 points\n  signup earns 100 points\n'
    found = diagnostics(text)
    assert [(code, line, column) for code, line, column, *_ in found] == [("RL904", 4, 1), ("RL001", 4, 3)]
    assert found[1][3] == "`signup` cannot continue the statement above"


def test_intended_continuation_keeps_the_specific_message() -> None:
    """A continuation that was meant (but lacks its comma) is not blamed on the indentation."""
    text = 'event review\nrule "Reviews": review earns 50 points, once\n  at most 3 per month\n'
    found = diagnostics(text)
    assert [code for code, *_ in found] == ["RL001"]
    assert found[0][3] == "modifiers after the reward are separated by commas"
    assert found[0][1:3] == (3, 3)
