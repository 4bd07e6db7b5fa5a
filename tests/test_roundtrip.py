"""Format round trip (sqlglot's identity tests, with trees drawn by hypothesis).

- a drawn tree, printed and parsed back, is the same tree (spans aside);
- ``fmt`` is idempotent and never changes the tree, comments included;
- the strategy draws every node class, so the round trip covers the whole language.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewardlang import ast, printer
from tests.strategies import node_classes_in, rules, rulesets, statements


def _parse(parser, text: str) -> ast.Ruleset:
    parsed = parser.parse(text, "<roundtrip>")
    assert parsed.ok, (text, [d.headline() for d in parsed.diagnostics])
    return parsed.ruleset


@given(rulesets)
def test_printed_tree_parses_back_to_the_same_tree(parser, tree):
    text = printer.format_ruleset(tree)
    assert _parse(parser, text) == tree


@given(rulesets)
def test_fmt_is_idempotent(parser, tree):
    once = printer.format_file(parser.parse(printer.format_ruleset(tree)))
    twice = printer.format_file(parser.parse(once))
    assert once == twice


@given(st.lists(statements, min_size=1, max_size=6), st.data())
def test_fmt_keeps_comments_and_meaning(parser, stmts, data):
    """Comments on their own lines and after statements survive ``fmt``, and the tree is kept."""
    lines: list[str] = []
    for i, stmt in enumerate(stmts):
        if data.draw(st.booleans(), label="comment above"):
            lines.append(f"# note {i}")
        if data.draw(st.booleans(), label="blank line"):
            lines.append("")
        text = printer.statement(stmt)
        if data.draw(st.booleans(), label="trailing comment"):
            text += f"  # after {i}"
        lines.append(text)
    source = "\n".join(lines) + "\n"
    parsed = parser.parse(source)
    assert parsed.ok, source
    formatted = printer.format_file(parsed)
    reparsed = parser.parse(formatted)
    assert reparsed.ruleset == parsed.ruleset
    assert [c.text for c in reparsed.comments] == [c.text for c in parsed.comments]
    assert printer.format_file(reparsed) == formatted


@given(rules())
def test_bare_rule_name_survives_fmt(parser, rule):
    """A bare sentence is named by its text; ``fmt`` must not rename it."""
    bare = attrs.evolve(rule, name=None)
    source = printer.format_ruleset(ast.Ruleset((bare,)))
    formatted = printer.format_file(parser.parse(source))
    (again,) = _parse(parser, formatted).statements
    assert printer.rule_name(again) == printer.rule_name(bare)


def test_strategy_draws_every_node_class():
    """One seeded run of the strategy reaches every node class of the tree."""
    seen: set[type] = set()

    @settings(max_examples=1500, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(rulesets)
    def draw(tree):
        node_classes_in(tree, seen)

    draw()
    missing = sorted(c.__name__ for c in set(ast.node_classes()) - seen)
    assert not missing, f"the strategy never draws: {missing}"


@pytest.mark.parametrize("mode", ["down", "nearest", "up"])
def test_rounding_setting_round_trips(parser, mode):
    tree = ast.Ruleset((ast.RoundingSetting(mode),))
    assert _parse(parser, printer.format_ruleset(tree)) == tree
