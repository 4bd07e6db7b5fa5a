"""Checked conditions → Python source → functions: the compiler's fast back end.

The closures of ``ConditionCompiler`` make a call per node of a condition (an ``and`` calls
each part, a comparison calls its operand), and the kernel's rule loop makes a few more per
rule. Here a condition is written out as one Python expression, and the rules that listen to
one event type as one function (``decide``): where-conditions, segments and modifiers'
tests inlined, in the same order and with the same short-circuits as the loop they replace.

Rule text is data, never code: the source is made only of names this module chooses
(``ctx``, ``_v1``, ``_k1`` …) and operators from a fixed table. Every value that comes from
the ruleset — field and event names, texts, numbers, dates, lists — is bound to a ``_kN``
name in the function's namespace, never written into the source (tests/test_transpiler.py
walks the source of every shipped ruleset to hold this). Each function is compiled under a
file name that says which rule, segment or tier of which file it is, and where: a traceback
through it points at the ruleset.

Exactness: Python raises ``TypeError`` comparing values of different kinds (a date with a
number), where the closures answer False for that one comparison. The generated expression
does not test for it; where it raises, the function answers with the closure instead (the
exact back end, side-effect free, so asking again is safe). ``ConditionCompiler`` and the
interpreter stay as the oracles the generated functions are held equal to.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from rewardlang import ast
from rewardlang.compiler import MISSING, ConditionCompiler, Context, Predicate, duration, literal, nfc
from rewardlang.effects import Effect
from rewardlang.program import Program
from rewardlang.state import Award
from rewardlang.zonecalendar import at_least, at_most

# the comparison operators of the language, as Python writes them (the only operators emitted)
_PY_OPS = {"=": "==", "is": "==", "!=": "!=", "is not": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _Function:
    """The source and namespace of one generated function being written."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"_MISSING": MISSING, "_Decimal": Decimal}
        self._names = itertools.count(1)

    def const(self, value: Any) -> str:
        """A name bound to ``value`` (a value from the ruleset is never written into the source)."""
        name = f"_k{next(self._names)}"
        self.namespace[name] = value
        return name

    def local(self) -> str:
        return f"_v{next(self._names)}"

    def build(self, source: str, name: str, filename: str) -> Callable[..., Any]:
        code = compile(source, filename, "exec")
        exec(code, self.namespace)  # noqa: S102 — our own source; the ruleset's values are in the namespace
        fn = self.namespace[name]
        fn.source = source  # for tests and for reading what was made
        return fn  # type: ignore[no-any-return]


class Transpiler:
    """Writes and compiles the functions of one programme's plan."""

    def __init__(self, program: Program, closures: ConditionCompiler):
        self.program = program
        self.closures = closures  # the exact back end: the fall-back, and the segments' tests
        self.segments = {name: decl.condition for name, decl in program.segments.items()}
        self.tier_names = {t.name.text for t in program.tiers}
        self.sources: list[str] = []  # every function's source, in the order made

    # ------------------------------------------------------------------ expressions
    def operand(self, node: ast.Operand, fn: _Function) -> str:
        if isinstance(node, ast.FieldRef):
            return f"ctx.fields.get({fn.const(node.name.text)}, _MISSING)"
        if isinstance(node, ast.CustomerFieldRef):
            name = node.name.text
            if name == "age" and "age" not in self.program.customer_fields:
                return f"{fn.const(self.closures.operand(node))}(ctx)"
            return f"ctx.profile.get({fn.const(name)}, _MISSING)"  # None is tested where it is compared
        if isinstance(node, ast.TierRef):
            return "ctx.tier"
        if isinstance(node, ast.BalanceRef):
            return "_Decimal(ctx.balance)"
        if isinstance(node, ast.SpendAggregate):
            if node.window is None:
                return "ctx.history.spend_total"
            count, unit = duration(node.window)
            return (f"ctx.spend_in({fn.const(count)}, {fn.const(unit)}, {fn.const(at_least(count, unit))}, "
                    f"{fn.const(at_most(count, unit))})")
        if isinstance(node, ast.CountAggregate):
            event = fn.const(self.program.event_of(node.event.text))
            if node.window is None:
                return f"_Decimal(ctx.history.count_total({event}))"
            count, unit = duration(node.window)
            return f"_Decimal(ctx.history.count_since({event}, ctx.window_start({fn.const(count)}, {fn.const(unit)})))"
        raise TypeError(node)

    def condition(self, node: ast.Condition, fn: _Function) -> str:
        """A Python expression, True or False, with the closures' meaning (``ConditionCompiler``)."""
        if isinstance(node, ast.And):
            return "(" + " and ".join(self.condition(item, fn) for item in node.items) + ")"
        if isinstance(node, ast.Or):
            return "(" + " or ".join(self.condition(item, fn) for item in node.items) + ")"
        if isinstance(node, ast.Not):
            return f"(not {self.condition(node.item, fn)})"
        if isinstance(node, ast.Group):
            return self.condition(node.item, fn)
        value = fn.local()
        present = f"({value} := {self.operand(node.left, fn)}) is not _MISSING"
        if not isinstance(node.left, ast.TierRef) or isinstance(node, (ast.Contains, ast.Between)):
            present += f" and {value} is not None"  # a missing optional field; no tier is None and compares
        if isinstance(node, ast.Compare):
            return f"({present} and {value} {_PY_OPS[node.op]} {fn.const(literal(node.right))})"
        if isinstance(node, ast.InList):
            values = fn.const(frozenset(literal(v) for v in node.values))
            return f"({present} and {value} {'not in' if node.negated else 'in'} {values})"
        if isinstance(node, ast.Contains):
            return f"({present} and {fn.const(nfc(node.value.value))} in {value})"
        if isinstance(node, ast.Between):
            return f"({present} and {fn.const(literal(node.low))} <= {value} <= {fn.const(literal(node.high))})"
        raise TypeError(node)

    def modifier(self, mod: ast.Modifier, fn: _Function) -> str | None:
        """A guard's test as an expression (``for``, dates, weekdays, times of day); None for the
        modifiers that are not tests (limits, caps, ``instead of``)."""
        if isinstance(mod, ast.ForModifier):
            tests = [self.condition(self.segments[n.text], fn) if n.text in self.segments
                     else f"(ctx.tier == {fn.const(n.text)})" for n in mod.names]
            either = tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"
            return f"(not {either})" if mod.negated else either
        if isinstance(mod, ast.DateWindow):
            return f"({fn.const(mod.start.date)} <= ctx.local_date() <= {fn.const(mod.end.date)})"
        if isinstance(mod, ast.WeekdayModifier):
            days = fn.const(frozenset(ast.WEEKDAYS.index(d) for d in mod.days))
            return f"(ctx.local_date().weekday() in {days})"
        if isinstance(mod, ast.TimeWindow):
            return f"ctx.cal.in_time_window(ctx.time, {fn.const(mod.start.time)}, {fn.const(mod.end.time)})"
        return None

    # ------------------------------------------------------------------ functions
    def predicate(self, node: ast.Condition, exact: Predicate, what: str, span: Any) -> Predicate:
        """One condition as a function of the context; ``exact`` answers where Python's
        comparison of two kinds of value raises."""
        fn = _Function()
        body = self.condition(node, fn)
        source = ("def predicate(ctx):\n"
                  "    try:\n"
                  f"        return {body}\n"
                  "    except TypeError:\n"
                  f"        return {fn.const(exact)}(ctx)\n")
        return self._build(fn, source, "predicate", what, span)

    def decide(self, rules: Sequence[Any], order: Sequence[Any],
               suppressed_by: Mapping[int, tuple[int, ...]]) -> Callable[..., dict[int, int]]:
        """The rules of one event type (``RulePlan``s, in the plan's order) as one function
        ``(ctx, state, event, record, counted, allowed) -> {rule index: firings}``, the
        trace-free ``Kernel._firing`` unrolled. First the candidates: each rule's
        where-condition, then its guards, in order; then 1 firing, or what ``counted`` (the
        kernel's ``_counted``, which moves the rule's counter) says. Then, in ``order`` (the
        suppression order), a candidate fires unless a rule that fires instead of it does, as
        many times as its limits allow (``allowed``: the kernel's ``_allowed``)."""
        fn = _Function()
        lines = ["def decide(ctx, state, event, record, counted, allowed):", "    found = {}"]
        for rule in rules:
            tests = []
            if rule.where is not None:  # a spend rule has none, whatever its trigger holds
                tests.append(self.condition(rule.node.trigger.where, fn))
            for mod in rule.node.modifiers:
                test = self.modifier(mod, fn)
                if test is not None:
                    tests.append(test)
            index = int(rule.index)  # a position in the plan, not rule text
            indent = "    "
            if tests:
                lines += ["    try:", f"        ok = {' and '.join(tests)}", "    except TypeError:",
                          f"        ok = {fn.const(_exact_tests(rule))}(ctx)", "    if ok:"]
                indent = "        "
            if rule.trigger == "event":
                lines.append(f"{indent}found[{index}] = 1")
            else:
                lines += [f"{indent}n = counted(state, {fn.const(rule)}, ctx, event, record, None)",
                          f"{indent}if n:", f"{indent}    found[{index}] = n"]
        lines += ["    if not found:", "        return found", "    firing = {}"]
        for rule in order:
            index = int(rule.index)
            unless = "".join(f" and {int(other)} not in firing" for other in suppressed_by.get(rule.index, ()))
            lines.append(f"    n = found.get({index})")
            lines.append(f"    if n is not None{unless}:")
            if rule.limits:
                lines.append(f"        n = allowed(state, {fn.const(rule)}, ctx.time, n, event.id, None)")
                lines += ["        if n:", f"            firing[{index}] = n"]
            else:
                lines.append(f"        firing[{index}] = n")
        lines.append("    return firing")
        names = ", ".join(repr(r.name) for r in rules)
        span = rules[0].node.span if rules else None
        return self._build(fn, "\n".join(lines) + "\n", "decide", f"rules {names}", span)

    def fire(self, rules: Sequence[Any], pending_for: tuple[int, str] | None = None) -> Callable[..., None]:
        """Step 2's effects for one event type as one function ``(kernel, state, event, record,
        firing, out, pending)``: in the plan's order, each rule that fires (``firing``: what
        ``decide`` returned), as many times as it fires, its limits counted and its effect
        applied, written out for the effect's kind (the kernel's ``_apply_effect`` without a
        trace; the kernel's own methods do the capping, crediting and emitting). With
        ``pending_for`` (the programme's ``points pending for``), an award on an event that is
        not a built-in one is written out too: a ``pending`` line and the award kept for its
        release (the kernel's ``_award``; the event's awards share one release time)."""
        fn = _Function()
        fn.namespace.update(_Effect=Effect, _Award=Award)
        lines = ["def fire(kernel, state, event, record, firing, out, pending):",
                 "    time = event.time", "    eid = event.id", "    fields = event.fields"]
        for rule in rules:
            plan = fn.const(rule)
            effect = rule.effect
            lines += [f"    n = firing.get({int(rule.index)})", "    if n:", "        for _ in range(n):"]
            body: list[str] = []
            if rule.limits:
                body.append(f"kernel._record_firing(state, {plan}, time, 1)")
            if effect.kind in ("points", "rate"):
                rate = per = "None"
                if effect.kind == "points":
                    body.append(f"points = {fn.const(int(effect.points))}")
                else:
                    given, each = fn.const(effect.points), fn.const(effect.per)
                    body += [f"amount = fields.get({fn.const(effect.field)})",
                             f"points = kernel._rate_points({given}, {each}, amount) "
                             "if isinstance(amount, _Decimal) else 0"]
                    if effect.field == "amount":  # kept for a partial refund
                        rate, per = given, each
                if rule.caps:
                    body.append(f"points = kernel._cap(state, {plan}, time, points)")
                award = (f"kernel._award(state, out, time, eid, {plan}, points, pending=pending, record=record, "
                         f"rate={rate}, per={per})")
                if pending_for is None:
                    body.append(award)
                else:
                    name = fn.const(rule.name)
                    body += ["if points and pending:",
                             "    awards = record.awards",
                             "    if awards and awards[0].release is not None:",
                             "        release = awards[0].release",
                             "    else:",
                             f"        release = kernel.cal.add(time, {fn.const(pending_for[0])}, "
                             f"{fn.const(pending_for[1])})",
                             "    state.seq += 1",
                             f"    out.append(_Effect(time, state.customer, eid, {name}, {fn.const('pending')}, "
                             f"(({fn.const('pending')}, points),), state.seq))",
                             f"    awards.append(_Award({name}, {rate}, {per}, points, None, True, release))",
                             "else:",
                             f"    {award}"]
            else:
                if effect.kind == "free_item":
                    values: tuple[Any, ...] = (("item", effect.item), ("quantity", effect.quantity))
                elif effect.kind == "voucher":
                    values = (("voucher", effect.name), ("quantity", effect.quantity))
                else:  # message
                    values = (("message", effect.name),)
                body.append(f"kernel._emit(state, out, time, eid, {fn.const(rule.name)}, {fn.const(effect.kind)}, "
                            f"{fn.const(values)})")
            lines += [f"            {line}" for line in body]
        names = ", ".join(repr(r.name) for r in rules)
        span = rules[0].node.span if rules else None
        return self._build(fn, "\n".join(lines) + "\n", "fire", f"effects of rules {names}", span)

    def _build(self, fn: _Function, source: str, name: str, what: str, span: Any) -> Callable[..., Any]:
        self.sources.append(source)
        where = f"{span.filename}:{span.line}" if span is not None and getattr(span, "line", 0) else "?"
        return fn.build(source, name, f"<rewardlang {what} at {where}>")


def _exact_tests(rule: Any) -> Predicate:
    """A rule's where-condition and guards as the plan's predicates: each answers exactly (a
    generated one falls back on its closure), so together they are the rule's exact tests."""
    where, guards = rule.where, tuple(g for _, g in rule.guards)

    def tests(ctx: Context) -> bool:
        if where is not None and not where(ctx):
            return False
        return all(guard(ctx) for guard in guards)

    return tests


class SourceConditions(ConditionCompiler):
    """``ConditionCompiler`` whose conditions are generated functions (``Transpiler``), with a
    plain ``ConditionCompiler``'s closures (on the same calendar) as their exact fall-back."""

    def __init__(self, program: Program):
        super().__init__(program)
        self.exact = ConditionCompiler(program, self.calendar)
        self.transpiler = Transpiler(program, self.exact)

    def condition(self, node: ast.Condition) -> Predicate:
        span = getattr(node, "span", None)
        return self.transpiler.predicate(node, self.exact.condition(node), "condition", span)
