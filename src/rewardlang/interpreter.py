"""A plain tree-walking interpreter of conditions: the test oracle of the compiled closures.

It walks the syntax tree on every call, written independently of ``rewardlang.compiler``'s
closures and as directly from LANGUAGE.md as possible, so that a hypothesis test holding the two
equal on random rulesets and event streams catches a mistake in either. It is slow on purpose of
nothing but plainness; ``Engine(program, interpreted=True)`` runs the whole kernel with it.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from collections.abc import Callable
from typing import Any

from rewardlang import ast, localtime
from rewardlang.program import Program

_ABSENT = object()


class InterpretingCompiler:
    """Offers the ``condition`` method the plan builder calls, returning AST-walking predicates."""

    def __init__(self, program: Program):
        self.program = program

    def condition(self, node: ast.Condition):  # type: ignore[no-untyped-def]
        program = self.program
        return lambda ctx: evaluate(node, ctx, program)


def evaluate(node: ast.Condition, ctx: Any, program: Program) -> bool:
    if isinstance(node, ast.Group):
        return evaluate(node.item, ctx, program)
    if isinstance(node, ast.Not):
        return not evaluate(node.item, ctx, program)
    if isinstance(node, ast.And):
        for item in node.items:
            if not evaluate(item, ctx, program):
                return False
        return True
    if isinstance(node, ast.Or):
        for item in node.items:
            if evaluate(item, ctx, program):
                return True
        return False
    value = read(node.left, ctx, program)
    is_tier = isinstance(node.left, ast.TierRef)
    if value is _ABSENT or (value is None and not is_tier):
        return False  # a comparison on a missing optional field is false
    if isinstance(node, ast.Compare):
        right = constant(node.right)
        if node.op in ("=", "is"):
            return value == right
        if node.op in ("!=", "is not"):
            return value != right
        if type(value) is not type(right):
            return False
        if node.op == "<":
            return value < right
        if node.op == "<=":
            return value <= right
        if node.op == ">":
            return value > right
        return value >= right
    if isinstance(node, ast.InList):
        found = any(value == constant(v) for v in node.values)
        return not found if node.negated else found
    if isinstance(node, ast.Contains):
        return unicodedata.normalize("NFC", node.value.value) in value
    if isinstance(node, ast.Between):
        low, high = constant(node.low), constant(node.high)
        if type(value) is not type(low) or type(value) is not type(high):
            return False
        return low <= value <= high
    raise TypeError(node)


def constant(node: ast.Value) -> Any:
    if isinstance(node, ast.Number):
        return node.value
    if isinstance(node, ast.Money):
        return node.amount
    if isinstance(node, ast.Text):
        return unicodedata.normalize("NFC", node.value)
    if isinstance(node, ast.DateLit):
        return node.date
    if isinstance(node, ast.Word):
        return node.name
    if isinstance(node, ast.Bool):
        return node.value
    raise TypeError(node)


def read(node: ast.Operand, ctx: Any, program: Program) -> Any:
    if isinstance(node, ast.FieldRef):
        return ctx.fields.get(node.name.text, _ABSENT)
    if isinstance(node, ast.CustomerFieldRef):
        name = node.name.text
        if name == "age" and "age" not in program.customer_fields:
            birthdate = ctx.profile.get("birthdate")
            return _ABSENT if birthdate is None else Decimal(localtime.age(birthdate, ctx.time, ctx.zone))
        value = ctx.profile.get(name)
        return _ABSENT if value is None else value
    if isinstance(node, ast.TierRef):
        return ctx.tier
    if isinstance(node, ast.BalanceRef):
        return Decimal(ctx.balance)
    start = None
    if node.window is not None:  # type: ignore[union-attr]
        count, unit = int(node.window.count), node.window.unit  # type: ignore[union-attr]
        start = localtime.subtract(ctx.time, count, unit, ctx.zone)
    if isinstance(node, ast.SpendAggregate):
        return ctx.history.spend_total if start is None else ctx.history.spend_since(start)
    if isinstance(node, ast.CountAggregate):
        event = program.event_of(node.event.text)
        if start is None:
            return Decimal(ctx.history.count_total(event))
        return Decimal(ctx.history.count_since(event, start))
    raise TypeError(node)


def false_part(node: ast.Condition, ctx: Any, program: Program, word: Callable[[Any, Any], str]) -> str:
    """Why a condition is false: which part, decided by :func:`evaluate` (so the words never name
    a part the evaluator holds true), with ``word(leaf, value)`` wording a false comparison and
    the value it saw. For ``and`` it is the first false part; for ``or`` every part, joined by
    ``and``; for ``not X`` that X holds; a missing value is "missing". Only called when a trace
    was asked for; ``why_not`` and ``rewardlang.reasons`` word the leaves each their own way.
    """
    from rewardlang import printer

    if isinstance(node, ast.Group):
        return false_part(node.item, ctx, program, word)
    if isinstance(node, ast.And):
        for item in node.items:
            if not evaluate(item, ctx, program):
                return false_part(item, ctx, program, word)
        return "the condition holds"
    if isinstance(node, ast.Or):
        return " and ".join(false_part(item, ctx, program, word) for item in node.items)
    if isinstance(node, ast.Not):
        return f"{printer.condition(node.item)} holds"
    value = read(node.left, ctx, program)
    if value is _ABSENT or (value is None and not isinstance(node.left, ast.TierRef)):
        return f"{printer.operand(node.left)} is missing"
    return word(node, value)


def why_not(node: ast.Condition, ctx: Any, program: Program) -> str:
    """Why a condition is false, in words with the values seen (``amount 249.00 is not >= 300 SEK``):
    the ``detail`` of a decision record."""
    return false_part(node, ctx, program, _plain_words)


def _plain_words(node: Any, value: Any) -> str:
    from rewardlang import printer

    shown, seen = printer.operand(node.left), _show(value)
    if isinstance(node, ast.Compare):
        return f"{shown} {seen} is not {node.op} {printer.value(node.right)}"
    if isinstance(node, ast.InList):
        word = "is in" if node.negated else "is not in"
        return f"{shown} {seen} {word} [{', '.join(printer.value(v) for v in node.values)}]"
    if isinstance(node, ast.Contains):
        return f"{shown} {seen} does not contain {printer.value(node.value)}"
    if isinstance(node, ast.Between):
        return f"{shown} {seen} is not between {printer.value(node.low)} and {printer.value(node.high)}"
    return printer.condition(node)


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)
