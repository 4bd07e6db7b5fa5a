"""The sentences of ``explain``: why a rule did not fire, and the arithmetic of one that did.

The kernel records a ``Decision`` for each rule it decides on when (and only when) a trace is
asked for; these functions word that decision for people, with the values the kernel saw:
``amount 249.00 SEK is not >= 300 SEK``, ``customer is not in segment stockholm (customer.city
is "Malmö", not "Stockholm")``, ``249.00 SEK ÷ 10 SEK × 1 = 24.9 → 24 (rounding down)``,
``at most 3 per month: 3 of 3 this month``.

Which part of a condition is false is decided by ``rewardlang.interpreter.evaluate`` — the test
oracle the compiled closures are held equal to — so the words cannot name a part that the
evaluator holds true. Nothing here is called unless a trace was asked for: running costs
nothing for it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from rewardlang import ast, localtime, printer
from rewardlang.interpreter import evaluate, false_part, read
from rewardlang.program import Program

ROUNDING_WORDS = {"down": "rounding down", "nearest": "rounding to nearest, halves up", "up": "rounding up"}

PERIOD_WORDS = {"day": "today", "week": "this week", "month": "this month", "year": "this year", None: "in total"}

GUARD_TYPES = (ast.ForModifier, ast.DateWindow, ast.WeekdayModifier, ast.TimeWindow)
LIMIT_TYPES = (ast.LimitModifier, ast.OnceModifier)


# ---------------------------------------------------------------------------- values


def number(value: Decimal) -> str:
    """A decimal as written plainly: ``24.9``, ``250``, ``249.00`` (trailing zeros of an input
    amount are kept: they are what the shop sent)."""
    text = format(value, "f")
    return text


def computed(value: Decimal) -> str:
    """A computed decimal without needless zeros: ``24.900`` → ``24.9``, ``250.0`` → ``250``."""
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


def money(value: Decimal, currency: str | None) -> str:
    return number(value) if currency is None else f"{number(value)} {currency}"


def show(value: Any, like: ast.Value | None = None) -> str:
    """A value the evaluator saw, as a rule would write it; money gets the currency of ``like``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return printer.text(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Decimal):
        if isinstance(like, ast.Money):
            return money(value, like.currency.text)
        return number(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def local(instant: dt.datetime, zone: dt.tzinfo) -> str:
    """``2026-03-01 10:15`` (seconds only when there are some), the programme's wall clock."""
    wall = localtime.local_datetime(instant, zone)
    text = wall.strftime("%Y-%m-%d %H:%M")
    if wall.second or wall.microsecond:
        text += wall.strftime(":%S")
        if wall.microsecond:
            text += "." + f"{wall.microsecond:06d}".rstrip("0")
    return text


# ---------------------------------------------------------------------------- conditions


def condition_false(node: ast.Condition, ctx: Any, program: Program) -> str:
    """Why a condition is false, with the values seen (which part: ``interpreter.false_part``)."""
    return false_part(node, ctx, program, _false_words)


def _false_words(node: Any, value: Any) -> str:
    shown = printer.operand(node.left)
    if isinstance(node, ast.Compare):
        right = printer.value(node.right)
        seen = show(value, node.right)
        if node.op in ("is", "="):
            return f"{shown} is {seen}, not {right}"
        if node.op in ("is not", "!="):
            return f"{shown} is {seen}"
        return f"{shown} {seen} is not {node.op} {right}"
    if isinstance(node, ast.InList):
        listed = "[" + ", ".join(printer.value(v) for v in node.values) + "]"
        word = "is in" if node.negated else "is not in"
        return f"{shown} {show(value)} {word} {listed}"
    if isinstance(node, ast.Contains):
        return f"{shown} {show(value)} does not contain {printer.value(node.value)}"
    if isinstance(node, ast.Between):
        return (f"{shown} {show(value, node.low)} is not between {printer.value(node.low)} and "
                f"{printer.value(node.high)}")
    return printer.condition(node)


def condition_holds(node: ast.Condition, ctx: Any, program: Program) -> str:
    """Why a condition holds, shortly (for ``for not SEGMENT``): the values it saw."""
    if isinstance(node, ast.Group):
        return condition_holds(node.item, ctx, program)
    if isinstance(node, (ast.And, ast.Or, ast.Not)):
        return printer.condition(node)
    value = read(node.left, ctx, program)
    like = node.right if isinstance(node, ast.Compare) else node.low if isinstance(node, ast.Between) else None
    return f"{printer.operand(node.left)} is {show(value, like)}"


# ---------------------------------------------------------------------------- guards


def guard_false(node: ast.Modifier, ctx: Any, program: Program, zone: dt.tzinfo) -> str:
    """Why a ``for``, date, weekday or time-of-day modifier keeps a rule from firing now."""
    if isinstance(node, ast.ForModifier):
        return _for_false(node, ctx, program)
    if isinstance(node, ast.DateWindow):
        day = localtime.local_date(ctx.time, zone)
        return f"{day.isoformat()} is not {printer.modifier(node)}"
    if isinstance(node, ast.WeekdayModifier):
        day = localtime.local_date(ctx.time, zone)
        return f"{day.isoformat()} is a {ast.WEEKDAYS[day.weekday()]}, not {printer.modifier(node)}"
    if isinstance(node, ast.TimeWindow):
        wall = localtime.local_datetime(ctx.time, zone)
        return f"{wall:%H:%M} is not {printer.modifier(node)}"
    return printer.modifier(node)


def _for_false(node: ast.ForModifier, ctx: Any, program: Program) -> str:
    """``for X or Y`` fails when none holds: say why each does not; ``for not X or Y`` fails
    when one holds: say which, with the values that make it hold."""
    parts = []
    for name in node.names:
        segment = program.segments.get(name.text)
        if segment is None:  # a tier
            holds = ctx.tier == name.text
            if node.negated and holds:
                parts.append(f"customer is in tier {name.text}")
            elif not node.negated and not holds:
                now = "has no tier" if ctx.tier is None else f"is in tier {ctx.tier}"
                parts.append(f"customer {now}, not {name.text}")
            continue
        holds = evaluate(segment.condition, ctx, program)
        if node.negated and holds:
            parts.append(f"customer is in segment {name.text} ({condition_holds(segment.condition, ctx, program)})")
        elif not node.negated and not holds:
            parts.append(f"customer is not in segment {name.text} "
                         f"({condition_false(segment.condition, ctx, program)})")
    return " and ".join(parts) if parts else printer.modifier(node)


# ---------------------------------------------------------------------------- limits and counters


def limit_texts(rule: ast.Rule) -> list[str]:
    """The ``at most N per PERIOD``/``once`` modifiers of a rule, in the order the compiler
    turns them into limits."""
    return [printer.modifier(m) for m in rule.modifiers if isinstance(m, LIMIT_TYPES)]


def cap_texts(rule: ast.Rule) -> list[str]:
    """The ``at most N points per PERIOD`` modifiers of a rule, in the compiler's order."""
    return [printer.modifier(m) for m in rule.modifiers if isinstance(m, ast.CapModifier)]


def limit_reached(written: str, used: int, limit: int, period: str | None) -> str:
    """``at most 3 per month: 3 of 3 this month``; ``once: already fired``."""
    if written == "once":
        return "once: it fired before"
    return f"{written}: {used} of {limit} {PERIOD_WORDS[period]}"


def counter_short(rule: ast.Rule, value: Decimal, target: Decimal, currency: str | None) -> str:
    """``3 of 5 purchases``, ``7 of 10 items``, ``249.00 SEK of 1000 SEK spent``."""
    trigger = rule.trigger
    if isinstance(trigger, ast.CountTrigger):
        return f"{number(value)} of {computed(target)} {trigger.event.text}"
    if isinstance(trigger, ast.FieldSumTrigger):
        return f"{number(value)} of {computed(target)} {trigger.field.text}"
    return f"{money(value, currency)} of {money(target, currency)} spent"


# ---------------------------------------------------------------------------- effects


def rate_arithmetic(rule: ast.Rule, amount: Decimal | None, rounding: str, points: int) -> str:
    """``249.00 SEK ÷ 10 SEK × 1 = 24.9 → 24 (rounding down)``."""
    effect = rule.effect
    assert isinstance(effect, ast.RateEffect)
    field = "amount" if effect.field is None else effect.field.text
    currency = effect.per.currency.text
    if amount is None:
        return f"no {field} on the event: 0 points"
    raw = effect.points.value * amount / effect.per.amount
    head = "" if field == "amount" else f"{field} "
    text = (f"{head}{money(amount, currency)} ÷ {printer.money(effect.per)} × "
            f"{printer.number_node(effect.points)} = {computed(raw)}")
    if raw != raw.to_integral_value():
        text += f" → {points} ({ROUNDING_WORDS[rounding]})"
    return text


def effect_text(rule: ast.Rule, event_type: str | None) -> str:
    """What a non-points effect gives: ``1 free "book"``, ``1 voucher "100 SEK off"``."""
    effect = rule.effect
    if isinstance(effect, ast.FreeItemEffect):
        quantity = 1 if effect.quantity is None else int(effect.quantity.value)
        item = effect.item if effect.item is not None else event_type
        return f"{quantity} free {printer.text(item or '')}"
    if isinstance(effect, ast.VoucherEffect):
        quantity = 1 if effect.quantity is None else int(effect.quantity.value)
        return f"{quantity} voucher{'s' if quantity != 1 else ''} {printer.text(effect.voucher.value)}"
    if isinstance(effect, ast.MessageEffect):
        return f"message {printer.text(effect.template.value)}"
    return printer.effect(effect)


def points(n: int) -> str:
    return f"{n} point" if abs(n) == 1 else f"{n} points"
