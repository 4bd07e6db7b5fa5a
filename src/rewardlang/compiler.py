"""Checked ``Program`` → ``Plan``: what the kernel executes, built once per programme.

Rules are indexed by the event type they listen to, so an event only meets the rules that can
fire on it. Conditions, segment tests and the ``for``/date/weekday/time-of-day guards become
Python closures over a ``Context`` (no tree is walked per event). With ``interpreted=True`` the
same plan evaluates conditions by walking the syntax tree instead (``rewardlang.interpreter``):
that is the test oracle the compiled closures are held equal to.
"""

from __future__ import annotations

import datetime as dt
import operator
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from rewardlang import ast, localtime, printer
from rewardlang.program import Program
from rewardlang.zonecalendar import ExactCalendar, ZoneCalendar, at_least, at_most

Predicate = Callable[["Context"], bool]
MISSING: Any = object()


class Context:
    """What a condition can see while a rule is being decided for one customer at one time."""

    __slots__ = ("time", "fields", "profile", "tier", "balance", "history", "cal", "zone", "starts", "_date")

    def __init__(self, time, fields, profile, tier, balance, history, cal):  # type: ignore[no-untyped-def]
        self.time = time
        self.fields = fields
        self.profile = profile
        self.tier = tier
        self.balance = balance
        self.history = history  # rewardlang.state.History: spend and counts over windows
        self.cal = cal  # the plan's calendar (rewardlang.zonecalendar)
        self.zone = cal.tz
        self.starts: dict[tuple[Any, ...], Any] = {}  # window starts and spends, computed once per context
        self._date: dt.date | None = None

    def window_start(self, count: int, unit: str) -> Any:
        key = (count, unit)
        start = self.starts.get(key)
        if start is None:
            start = self.starts[key] = self.cal.window_start(self.time, count, unit)
        return start

    def spend_in(self, count: int, unit: str, least: dt.timedelta, most: dt.timedelta) -> Any:
        """``spend in last D``, once per context: every tier asks for the same window. ``least``
        and ``most`` bound D's length: when no event lies near the window's start they settle
        which are in it, and the start is not computed (``History.spend_between``)."""
        key = ("spend", count, unit)
        spend = self.starts.get(key)
        if spend is None:
            time = self.time
            spend = self.history.spend_between(key, time - most, time - least)
            if spend is None:
                spend = self.history.spend_window(key, self.window_start(count, unit))
            self.starts[key] = spend
        return spend

    def local_date(self) -> dt.date:
        """The local date of ``time``, once per context (date, weekday and age tests ask for it)."""
        day = self._date
        if day is None:
            day = self._date = self.cal.local_date(self.time)
        return day


@attrs.frozen
class EffectPlan:
    kind: str  # points | rate | free_item | voucher | message
    points: Decimal = Decimal(0)
    per: Decimal = Decimal(1)
    field: str = "amount"
    item: str | None = None
    quantity: int = 1
    name: str = ""


@attrs.frozen
class RulePlan:
    index: int
    name: str
    trigger: str  # event | first | count | field_sum | spend | birthday | tier_change | inactive | convert
    events: frozenset[str]
    where: Predicate | None
    guards: tuple[tuple[str, Predicate], ...]  # (what the guard is, for explain), predicate
    step: Decimal
    field: str | None
    tier_to: str | None
    inactive: tuple[int, str] | None
    limits: tuple[tuple[int, str | None], ...]
    caps: tuple[tuple[int, str], ...]
    suppresses: tuple[int, ...]
    effect: EffectPlan
    node: ast.Rule


@attrs.frozen
class TierPlan:
    name: str
    condition: Predicate
    kept_for: tuple[int, str] | None
    windows: tuple[tuple[int, str], ...]  # durations of the windows its condition reads


@attrs.frozen
class Plan:
    program: Program
    zone: Any
    calendar: ExactCalendar  # a ZoneCalendar, or the ExactCalendar when interpreted
    rules: tuple[RulePlan, ...]
    by_event: Mapping[str, tuple[RulePlan, ...]]
    birthday_rules: tuple[RulePlan, ...]
    tier_change_rules: tuple[RulePlan, ...]
    inactive_rules: tuple[RulePlan, ...]
    convert_rules: tuple[RulePlan, ...]
    spend_rules: tuple[RulePlan, ...]
    suppression_order: tuple[int, ...]
    tiers: tuple[TierPlan, ...]
    spend_events: frozenset[str]
    window_events: frozenset[str]  # event types whose window exits re-evaluate tiers
    expiry: tuple[int, str] | None
    expire_without_activity: bool
    pending: tuple[int, str] | None
    refund_window: tuple[int, str]
    rounding: str
    notifications: tuple[tuple[str, tuple[int, str]], ...]
    max_window: tuple[int, str] | None  # the longest `in last D` window anywhere in the programme
    interpreted: bool
    # event types that some `in last D` window anywhere reads: the history keeps only these
    history_events: frozenset[str] = frozenset()
    # the event types after which the tiers can have changed, where the tiers read only `spend`
    # and `count of` aggregates (their windows' exits and `kept for` ends are scheduled): after
    # another event they are not evaluated again once a customer's have been; None: after every
    # event (a tier reads the balance, the profile, an age or the tier; or the plan is interpreted)
    tier_events: frozenset[str] | None = None
    # rule index → the rules that fire instead of it (`instead of`)
    suppressed_by: Mapping[int, tuple[int, ...]] = attrs.field(factory=dict)
    # the suppression order restricted to each event type's rules (the others cannot fire)
    order_by_event: Mapping[str, tuple[int, ...]] = attrs.field(factory=dict)
    # event type → the generated function that decides its rules (``transpiler.Transpiler.decide``);
    # empty when interpreted: the kernel's loop over the rules decides (``Kernel._firing``)
    decide: Mapping[str, Callable[..., dict[int, int]]] = attrs.field(factory=dict)
    # event type → the generated function that applies its rules' effects (``Transpiler.fire``)
    fire: Mapping[str, Callable[..., None]] = attrs.field(factory=dict)


def duration(node: ast.Duration) -> tuple[int, str]:
    return (int(node.count), node.unit)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ---------------------------------------------------------------------------- conditions


def literal(node: ast.Value) -> Any:
    if isinstance(node, ast.Number):
        return node.value
    if isinstance(node, ast.Money):
        return node.amount
    if isinstance(node, ast.Text):
        return nfc(node.value)
    if isinstance(node, ast.DateLit):
        return node.date
    if isinstance(node, ast.Word):
        return node.name
    if isinstance(node, ast.Bool):
        return node.value
    raise TypeError(node)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "is": operator.eq,
    "!=": operator.ne,
    "is not": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ConditionCompiler:
    """Builds closures for conditions; one per plan (it holds the programme's zone)."""

    def __init__(self, program: Program, calendar: ExactCalendar | None = None):
        self.program = program
        self.zone = localtime.zone(program.timezone)
        self.calendar = calendar if calendar is not None else ZoneCalendar(self.zone)

    def operand(self, node: ast.Operand) -> Callable[[Context], Any]:
        if isinstance(node, ast.FieldRef):
            name = node.name.text
            return lambda ctx: ctx.fields.get(name, MISSING)
        if isinstance(node, ast.CustomerFieldRef):
            name = node.name.text
            if name == "age" and "age" not in self.program.customer_fields:
                calendar = self.calendar

                def age(ctx: Context) -> Any:
                    birthdate = ctx.profile.get("birthdate")
                    if birthdate is None:
                        return MISSING
                    return Decimal(calendar.age(birthdate, ctx.time))

                return age
            return lambda ctx: _present(ctx.profile.get(name, MISSING))
        if isinstance(node, ast.TierRef):
            return lambda ctx: ctx.tier
        if isinstance(node, ast.BalanceRef):
            return lambda ctx: Decimal(ctx.balance)
        if isinstance(node, ast.SpendAggregate):
            if node.window is None:
                return lambda ctx: ctx.history.spend_total
            count, unit = duration(node.window)
            least, most = at_least(count, unit), at_most(count, unit)
            return lambda ctx: ctx.spend_in(count, unit, least, most)
        if isinstance(node, ast.CountAggregate):
            event = self.program.event_of(node.event.text)
            if node.window is None:
                return lambda ctx: Decimal(ctx.history.count_total(event))
            count, unit = duration(node.window)
            return lambda ctx: Decimal(ctx.history.count_since(event, ctx.window_start(count, unit)))
        raise TypeError(node)

    def condition(self, node: ast.Condition) -> Predicate:
        if isinstance(node, ast.And):
            parts = tuple(self.condition(item) for item in node.items)
            return lambda ctx: all(p(ctx) for p in parts)
        if isinstance(node, ast.Or):
            parts = tuple(self.condition(item) for item in node.items)
            return lambda ctx: any(p(ctx) for p in parts)
        if isinstance(node, ast.Not):
            inner = self.condition(node.item)
            return lambda ctx: not inner(ctx)
        if isinstance(node, ast.Group):
            return self.condition(node.item)
        left = self.operand(node.left)
        tier_operand = isinstance(node.left, ast.TierRef)
        if isinstance(node, ast.Compare):
            op = _OPS[node.op]
            right = literal(node.right)

            def compare(ctx: Context) -> bool:
                value = left(ctx)
                if value is MISSING or (value is None and not tier_operand):
                    return False
                try:
                    return bool(op(value, right))
                except TypeError:
                    return False

            return compare
        if isinstance(node, ast.InList):
            values = frozenset(literal(v) for v in node.values)
            negated = node.negated

            def member(ctx: Context) -> bool:
                value = left(ctx)
                if value is MISSING or (value is None and not tier_operand):
                    return False
                return (value in values) != negated

            return member
        if isinstance(node, ast.Contains):
            wanted = nfc(node.value.value)

            def contains(ctx: Context) -> bool:
                value = left(ctx)
                return value is not MISSING and value is not None and wanted in value

            return contains
        if isinstance(node, ast.Between):
            low, high = literal(node.low), literal(node.high)

            def between(ctx: Context) -> bool:
                value = left(ctx)
                if value is MISSING or value is None:
                    return False
                try:
                    return bool(low <= value <= high)
                except TypeError:
                    return False

            return between
        raise TypeError(node)


def _present(value: Any) -> Any:
    return MISSING if value is None else value


# ---------------------------------------------------------------------------- rules


def _trigger_kind(trigger: ast.Trigger) -> str:
    return {
        ast.EventTrigger: "event",
        ast.FirstTrigger: "first",
        ast.CountTrigger: "count",
        ast.FieldSumTrigger: "field_sum",
        ast.SpendTrigger: "spend",
        ast.BirthdayTrigger: "birthday",
        ast.TierChangeTrigger: "tier_change",
        ast.InactiveTrigger: "inactive",
        ast.ConvertTrigger: "convert",
    }[type(trigger)]


def _effect_plan(node: ast.Effect, event: str | None) -> EffectPlan:
    if isinstance(node, ast.PointsEffect):
        return EffectPlan("points", points=node.points.value)
    if isinstance(node, ast.RateEffect):
        field = node.field.text if node.field is not None else "amount"
        return EffectPlan("rate", points=node.points.value, per=node.per.amount, field=field)
    if isinstance(node, ast.FreeItemEffect):
        quantity = int(node.quantity.value) if node.quantity is not None else 1
        return EffectPlan("free_item", item=node.item if node.item is not None else event, quantity=quantity)
    if isinstance(node, ast.VoucherEffect):
        quantity = int(node.quantity.value) if node.quantity is not None else 1
        return EffectPlan("voucher", quantity=quantity, name=node.voucher.value)
    if isinstance(node, ast.MessageEffect):
        return EffectPlan("message", name=node.template.value)
    raise TypeError(node)


def compile_program(program: Program, *, interpreted: bool = False) -> Plan:
    """Build the plan. ``interpreted`` swaps the closures for the tree-walking oracle."""
    compiler: Any
    if interpreted:
        from rewardlang.interpreter import InterpretingCompiler

        compiler = InterpretingCompiler(program)
        zone = localtime.zone(program.timezone)
        calendar: ExactCalendar = ExactCalendar(zone)
    else:
        from rewardlang.transpiler import SourceConditions

        compiler = SourceConditions(program)
        zone, calendar = compiler.zone, compiler.calendar
    segments = {name: compiler.condition(decl.condition) for name, decl in program.segments.items()}
    tier_names = {t.name.text for t in program.tiers}
    spend_events = frozenset(
        name for name, fields in program.events.items() if any(f.name == "amount" and f.type == "money" for f in fields)
    )
    rules: list[RulePlan] = []
    for index, node in enumerate(program.rules):
        rules.append(_rule_plan(index, node, program, compiler, segments, tier_names, spend_events, zone))
    by_event: dict[str, list[RulePlan]] = {}
    for rule in rules:
        if rule.trigger in ("event", "first", "count", "field_sum", "spend"):
            for event in sorted(rule.events):
                by_event.setdefault(event, []).append(rule)
    tiers = tuple(
        TierPlan(
            t.name.text,
            compiler.condition(t.condition),
            duration(t.kept_for) if t.kept_for is not None else None,
            tuple(sorted(_windows(t.condition))),
        )
        for t in program.tiers
    )
    suppression_order = _suppression_order(rules)
    suppressed_by: dict[int, tuple[int, ...]] = {}
    for rule in rules:
        for target in rule.suppresses:
            suppressed_by[target] = suppressed_by.get(target, ()) + (rule.index,)
    order_by_event = {event: tuple(i for i in suppression_order if i in {r.index for r in event_rules})
                      for event, event_rules in by_event.items()}
    window_events: set[str] = set()
    for t in program.tiers:
        window_events |= _window_events(t.condition, program, spend_events)
    expiry = program.expiry
    return Plan(
        program=program,
        zone=zone,
        calendar=calendar,
        rules=tuple(rules),
        by_event={k: tuple(v) for k, v in by_event.items()},
        birthday_rules=tuple(r for r in rules if r.trigger == "birthday"),
        tier_change_rules=tuple(r for r in rules if r.trigger == "tier_change"),
        inactive_rules=tuple(r for r in rules if r.trigger == "inactive"),
        convert_rules=tuple(r for r in rules if r.trigger == "convert"),
        spend_rules=tuple(r for r in rules if r.trigger == "spend"),
        suppression_order=suppression_order,
        tiers=tiers,
        spend_events=spend_events,
        window_events=frozenset(window_events),
        expiry=duration(expiry.after) if expiry is not None else None,
        expire_without_activity=bool(expiry is not None and expiry.without_activity),
        pending=duration(program.pending) if program.pending is not None else None,
        refund_window=duration(program.refund_window),
        rounding=program.rounding,
        notifications=tuple((n.template.value, duration(n.before)) for n in program.notifications),
        max_window=_longest(_windows(program.ruleset.statements)),
        interpreted=interpreted,
        history_events=frozenset(_window_events(program.ruleset.statements, program, spend_events)),
        tier_events=None if interpreted else _tier_events(program, spend_events),
        suppressed_by=suppressed_by,
        order_by_event=order_by_event,
        decide={} if interpreted else {
            event: compiler.transpiler.decide(event_rules, [rules[i] for i in order_by_event[event]], suppressed_by)
            for event, event_rules in by_event.items()},
        fire={} if interpreted else {
            event: compiler.transpiler.fire(event_rules, duration(program.pending) if program.pending else None)
            for event, event_rules in by_event.items()},
    )


def _rule_plan(index, node, program, compiler, segments, tier_names, spend_events, zone) -> RulePlan:  # type: ignore[no-untyped-def]
    trigger = node.trigger
    kind = _trigger_kind(trigger)
    events: frozenset[str] = frozenset()
    where = None
    step = Decimal(0)
    field = None
    if kind in ("event", "first", "count", "field_sum"):
        events = frozenset({program.event_of(trigger.event.text)})
        where = compiler.condition(trigger.where) if trigger.where is not None else None
    if kind == "count":
        step = trigger.count.value
    elif kind == "field_sum":
        step, field = trigger.step.value, trigger.field.text
    elif kind == "spend":
        step, events = trigger.step.amount, spend_events
    elif kind == "convert":
        step = trigger.points.value
    guards: list[tuple[str, Predicate]] = []
    limits: list[tuple[int, str | None]] = []
    caps: list[tuple[int, str]] = []
    suppresses: list[int] = []
    for mod in node.modifiers:
        text = printer.modifier(mod)
        if isinstance(mod, ast.ForModifier):
            guards.append((text, _for_guard(mod, segments, tier_names)))
        elif isinstance(mod, ast.DateWindow):
            start, end = mod.start.date, mod.end.date
            guards.append((text, lambda ctx, s=start, e=end: s <= ctx.local_date() <= e))
        elif isinstance(mod, ast.WeekdayModifier):
            days = frozenset(ast.WEEKDAYS.index(d) for d in mod.days)
            guards.append((text, lambda ctx, d=days: ctx.local_date().weekday() in d))
        elif isinstance(mod, ast.TimeWindow):
            start_t, end_t = mod.start.time, mod.end.time
            guards.append(
                (text, lambda ctx, s=start_t, e=end_t: ctx.cal.in_time_window(ctx.time, s, e))
            )
        elif isinstance(mod, ast.LimitModifier):
            limits.append((int(mod.count.value), mod.period))
        elif isinstance(mod, ast.OnceModifier):
            limits.append((1, None))
        elif isinstance(mod, ast.CapModifier):
            caps.append((int(mod.points.value), mod.period))
        elif isinstance(mod, ast.InsteadOf) and kind != "convert":
            suppresses.extend(program.rule_names.index(r.value) for r in mod.rules)
    event_name = next(iter(events)) if len(events) == 1 else None
    return RulePlan(
        index=index,
        name=program.rule_names[index],
        trigger=kind,
        events=events,
        where=where,
        guards=tuple(guards),
        step=step,
        field=field,
        tier_to=trigger.to.text if kind == "tier_change" and trigger.to is not None else None,
        inactive=duration(trigger.duration) if kind == "inactive" else None,
        limits=tuple(limits),
        caps=tuple(caps),
        suppresses=tuple(suppresses),
        effect=_effect_plan(node.effect, event_name),
        node=node,
    )


def _for_guard(mod: ast.ForModifier, segments: Mapping[str, Predicate], tiers: set[str]) -> Predicate:
    tests: list[Predicate] = []
    for name in mod.names:
        if name.text in segments:
            tests.append(segments[name.text])
        else:
            tests.append(lambda ctx, t=name.text: ctx.tier == t)
    negated = mod.negated
    if len(tests) == 1:  # `for gold`: the test itself, without a generator per event
        (test,) = tests
        return (lambda ctx: not test(ctx)) if negated else test
    return lambda ctx: any(t(ctx) for t in tests) != negated


def _suppression_order(rules: list[RulePlan]) -> tuple[int, ...]:
    """Rules ordered so that every rule comes after the rules that may suppress it."""
    suppressors: dict[int, list[int]] = {r.index: [] for r in rules}
    for rule in rules:
        for target in rule.suppresses:
            suppressors[target].append(rule.index)
    order: list[int] = []
    done: set[int] = set()

    def visit(i: int) -> None:
        if i in done:
            return
        done.add(i)
        for s in suppressors[i]:
            visit(s)
        order.append(i)

    for rule in rules:
        visit(rule.index)
    return tuple(order)


def _walk(node: object):  # type: ignore[no-untyped-def]
    if isinstance(node, (tuple, list)):
        for item in node:
            yield from _walk(item)
    elif attrs.has(type(node)) and not isinstance(node, ast.Span):
        yield node
        for f in attrs.fields(type(node)):
            yield from _walk(getattr(node, f.name))


def _windows(node_or_nodes: object) -> set[tuple[int, str]]:
    found = set()
    for node in _walk(node_or_nodes):
        if isinstance(node, (ast.SpendAggregate, ast.CountAggregate)) and node.window is not None:
            found.add(duration(node.window))
    return found


_UNIT_DAYS = {"day": 1, "week": 7, "month": 31, "year": 366}


def _longest(windows: set[tuple[int, str]]) -> tuple[int, str] | None:
    return max(windows, key=lambda w: w[0] * _UNIT_DAYS[w[1]], default=None)


def _tier_events(program: Program, spend_events: frozenset[str]) -> frozenset[str] | None:
    """``Plan.tier_events``: what can change a tier condition that reads only aggregates — an
    event that adds to them (spend, a counted type), or a refund (which takes from them)."""
    events = {"refund"}
    for node in _walk([t.condition for t in program.tiers]):
        if isinstance(node, ast.SpendAggregate):
            events |= spend_events
        elif isinstance(node, ast.CountAggregate):
            events.add(program.event_of(node.event.text))
        elif isinstance(node, (ast.FieldRef, ast.CustomerFieldRef, ast.TierRef, ast.BalanceRef)):
            return None
    return frozenset(events)


def _window_events(condition: object, program: Program, spend_events: frozenset[str]) -> set[str]:
    """The event types the `in last D` windows under ``condition`` (a node or nodes) read."""
    found: set[str] = set()
    for node in _walk(condition):
        if isinstance(node, ast.SpendAggregate) and node.window is not None:
            found |= spend_events
        elif isinstance(node, ast.CountAggregate) and node.window is not None:
            found.add(program.event_of(node.event.text))
    return found
