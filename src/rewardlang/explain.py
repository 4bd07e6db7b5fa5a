"""``explain``: one customer's events, each rule's decision on each, and the state after each.

It is built on the kernel's own decision records (``rewardlang.kernel.Decision``): the customer's
lines go through the same resolution and the same kernel as ``Engine.run`` (``apply_customer``),
with a trace, so what ``explain`` says fired is what fired — there is no second evaluator that
could disagree (a test holds the effects of an explanation equal to the run's). Between kernel
calls it reads the state (balance, pending points, tier, counters), which is what a run cannot
show after the fact.

An explanation is a tuple of ``Step`` values in the order things happened: for each event, the
scheduled items that fell due before it (releases, expiries, reminders, birthdays, inactivity,
tier re-evaluations — one step per instant), then the event itself with every rule that listens
to its type, the ledger lines it made, and the state after it. ``render_text`` and ``to_dict``
are the command's two formats.

Decisions where the design is silent (docs/explain.md has them for users):

- ``Engine.explain`` starts from the engine's state of the customer (a new customer if it has
  none) and works on a copy: explaining never changes the engine.
- Only the named customer's lines are applied (customers are independent, §4); lines of other
  customers, and lines that cannot be read, are left out.
- A ``for SEGMENT_OR_TIER`` that keeps a rule from firing is reported as "no match" (it is a
  condition on the customer); a date, weekday or time-of-day modifier as "outside".
- Rules of an event are listed in file order; then tier-change rules and conversions in the
  order they ran.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import attrs

from rewardlang import printer, reasons
from rewardlang.effects import Effect
from rewardlang.events import Event, Rejection
from rewardlang.kernel import Decision, Kernel, Outcome
from rewardlang.localtime import format_instant, parse_instant
from rewardlang.program import BUILTIN_EVENTS, Program
from rewardlang.state import CustomerState

if TYPE_CHECKING:
    from rewardlang.engine import Engine


# ---------------------------------------------------------------------------- values


@attrs.frozen
class Snapshot:
    """What can be seen of the customer after a step: balance, pending points, tier, counters
    (each counting rule's count toward its next multiple, ``3 of 5 purchases``)."""

    balance: int
    pending: int
    tier: str | None
    counters: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"balance": self.balance, "pending": self.pending, "tier": self.tier,
                "counters": dict(self.counters)}


@attrs.frozen
class Step:
    """One thing that happened to the customer.

    ``kind`` is ``event`` (an input line of the customer: applied, duplicate or rejected) or
    ``scheduled`` (items due at one instant, fired before the next event or by ``until``).
    ``fields`` are an applied event's typed fields; ``after`` is the state after an event, and
    after the last scheduled step of ``until`` (``None`` for other scheduled steps, duplicates
    and lines that could not be placed in time).
    """

    kind: str
    time: dt.datetime | None
    event: str | None = None
    type: str | None = None
    status: str | None = None
    reason: str | None = None
    fields: tuple[tuple[str, Any], ...] = ()
    money: tuple[str, ...] = ()  # which of the fields are money (shown with the currency)
    decisions: tuple[Decision, ...] = ()
    effects: tuple[Effect, ...] = ()
    after: Snapshot | None = None


@attrs.frozen
class Explanation:
    """Everything ``explain`` says about one customer, in the order it happened."""

    customer: str
    program: str | None  # the programme's name
    ruleset: str  # the ruleset's file name
    timezone: str
    steps: tuple[Step, ...]
    event: str | None = None  # the one event asked for, if any
    currency: str | None = None

    @property
    def found(self) -> bool:
        """Whether there was anything to explain (the customer had lines; the event was among them)."""
        return bool(self.steps)

    @property
    def effects(self) -> tuple[Effect, ...]:
        """Every ledger line of the explained steps, in the order they happened."""
        return tuple(e for step in self.steps for e in step.effects)

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return tuple(d for step in self.steps for d in step.decisions)

    def text(self) -> str:
        """The ``--format text`` report."""
        return render_text(self)

    def to_json(self) -> str:
        """The ``--format json`` report."""
        return to_json(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "program": self.program,
            "ruleset": self.ruleset,
            "timezone": self.timezone,
            "event": self.event,
            "steps": [_step_dict(step) for step in self.steps],
        }


# ---------------------------------------------------------------------------- explaining


class _Recorder:
    """Stands in for the kernel in ``apply_customer``: each ``apply`` goes to the real kernel
    with a fresh trace, and the decisions, effects and resulting state are kept per item."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self.groups: list[list[Step]] = []

    def apply_into(self, state: CustomerState, item: Event | Rejection, out: list[Effect],
                   trace: list[Decision] | None = None) -> tuple[str, str | None, str | None]:
        """``Kernel.apply_into``'s form, which ``apply_customer`` calls."""
        outcome = self.apply(state, item, trace)
        out.extend(outcome.effects)
        return outcome.status, outcome.reason, outcome.code

    def apply(self, state: CustomerState, item: Event | Rejection, trace: list[Decision] | None = None) -> Outcome:
        own: list[Decision] = []
        outcome = self.kernel.apply(state, item, own)
        if trace is not None:
            trace.extend(own)
        steps = _scheduled_steps(own, outcome.effects)
        event_id = item.id
        mine = [d for d in own if d.event is not None]
        fields: tuple[tuple[str, Any], ...] = ()
        money: tuple[str, ...] = ()
        if isinstance(item, Event) and outcome.status == "applied":
            fields = tuple(item.fields.items())
            types = _field_types(self.kernel.plan.program, item.type)
            money = tuple(name for name, _ in fields if types.get(name) == "money")
        steps.append(Step(
            kind="event",
            time=item.time,
            event=event_id,
            type=item.type if isinstance(item, Event) else None,
            status=outcome.status,
            reason=outcome.reason,
            fields=fields,
            money=money,
            decisions=tuple(_in_file_order(mine, self.kernel, item)),
            effects=tuple(e for e in outcome.effects if e.event is not None),
            after=snapshot(state, self.kernel),
        ))
        self.groups.append(steps)
        return outcome


def _scheduled_steps(decisions: list[Decision], effects: Iterable[Effect]) -> list[Step]:
    """The scheduled items of one kernel call, one step per instant (they come first)."""
    by_time: dict[dt.datetime, tuple[list[Decision], list[Effect]]] = {}
    for d in decisions:
        if d.event is None:
            by_time.setdefault(d.time, ([], []))[0].append(d)
    for e in effects:
        if e.event is None:
            by_time.setdefault(e.time, ([], []))[1].append(e)
    return [Step(kind="scheduled", time=t, decisions=tuple(ds), effects=tuple(es))
            for t, (ds, es) in sorted(by_time.items(), key=lambda kv: kv[0])]


def _in_file_order(decisions: list[Decision], kernel: Kernel, item: Event | Rejection) -> list[Decision]:
    """The rules of the event (step 2) in file order; then the others (tier change, conversions)
    in the order they ran. The sort is stable: a rule's several firings keep their order."""
    if not isinstance(item, Event):
        return decisions
    listening = {rule.name: rule.index for rule in kernel.plan.by_event.get(item.type, ())}
    first = sorted((d for d in decisions if d.rule in listening), key=lambda d: listening[d.rule])
    return first + [d for d in decisions if d.rule not in listening]


def snapshot(state: CustomerState, kernel: Kernel) -> Snapshot:
    """The state as ``explain`` shows it after an event."""
    plan = kernel.plan
    counters = []
    for index, (value, multiple) in sorted(state.counters.items()):
        rule = plan.rules[index]
        target = rule.step * (multiple + 1)
        counters.append((rule.name, reasons.counter_short(rule.node, value, target, plan.program.currency)))
    return Snapshot(state.balance, state.pending_points(), state.tier, tuple(counters))


def explain(engine: Engine, events: Iterable[object], customer: str, event: str | None = None, *,
            until: dt.datetime | str | None = None) -> Explanation:
    """Explain ``customer``'s lines among ``events`` (dicts, as ``Engine.run`` takes them).

    Starts from the engine's state of the customer (a copy: the engine is left as it was). With
    ``event``, only the steps of applying that event (the scheduled items due before it, and it)
    are returned, or none when the customer has no such line. With ``until``, the scheduled
    items due by then are fired after the events, as ``rewardlang run --until`` does.
    """
    from rewardlang.engine import apply_customer, line_of

    program = engine.program
    instant = parse_instant(until) if isinstance(until, str) else until
    if until is not None and instant is None:
        raise ValueError(f"not a time with an offset: {until!r}")
    lines = []
    for index, raw in enumerate(events):
        item = engine.validator.validate(raw)
        if item.customer == customer:
            lines.append(line_of(index, item, raw))
    existing = engine.states.get(customer)
    state = CustomerState.from_dict(existing.to_dict()) if existing is not None else CustomerState(customer)
    recorder = _Recorder(engine.kernel)
    result = apply_customer(cast(Kernel, recorder), state, lines, [])
    groups = recorder.groups
    by_index = {line.index: line for line in lines}
    # lines that never reached the kernel: duplicates (after the line they repeat) and rejections
    # that cannot be placed in time (at the end)
    for outcome in sorted(result.outcomes, key=lambda o: o.index):
        if outcome.status == "duplicate":
            step = Step(kind="event", time=None, event=outcome.event, status="duplicate",
                        reason="a repeat of an applied line: not applied again")
            at = next((i for i, g in enumerate(groups) if g[-1].event == outcome.event), None)
            if at is None:
                groups.append([step])
            else:
                groups[at].append(step)
        elif outcome.status == "rejected" and by_index[outcome.index].item.time is None:
            groups.append([Step(kind="event", time=None, event=outcome.event, status="rejected",
                                reason=outcome.reason)])
    if instant is not None and event is None:
        trace: list[Decision] = []
        effects = engine.kernel.advance(state, instant, trace)
        steps = _scheduled_steps(trace, effects)
        if steps:  # the state after everything is due: on the last of them
            steps[-1] = attrs.evolve(steps[-1], after=snapshot(state, engine.kernel))
        groups.append(steps)
    if event is not None:
        groups = [g for g in groups if any(s.kind == "event" and s.event == event for s in g)][:1]
    steps = tuple(step for group in groups for step in group)
    return Explanation(customer, program.name, program.filename, program.timezone, steps, event,
                       program.currency)


# ---------------------------------------------------------------------------- json


def _value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return format_instant(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_value(v) for v in value]
    return value


def _decision_dict(d: Decision) -> dict[str, Any]:
    return {"time": format_instant(d.time), "event": d.event, "rule": d.rule or None, "outcome": d.outcome,
            "detail": d.detail, "text": d.text or d.detail, "points": d.points}


def _step_dict(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": step.kind, "time": None if step.time is None else format_instant(step.time)}
    if step.kind == "event":
        out.update({"event": step.event, "type": step.type, "status": step.status, "reason": step.reason,
                    "fields": {k: _value(v) for k, v in step.fields}})
    out["decisions"] = [_decision_dict(d) for d in step.decisions]
    out["effects"] = [e.to_dict() for e in step.effects]
    out["after"] = None if step.after is None else step.after.to_dict()
    return out


def to_json(explanation: Explanation) -> str:
    import json

    return json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------------------- text

_LABELS = {
    "fired": "fired",
    "no_match": "no match",
    "outside": "outside",
    "not_yet": "not yet",
    "used_up": "used up",
    "skipped": "skipped",
    "suppressed": "suppressed",
    "release": "released",
    "expire": "expired",
    "remind": "reminder",
    "birthday": "birthday",
    "inactive": "inactive",
    "tier": "tier",
}
_WIDTH = max(len(label) for label in _LABELS.values())


def label(decision: Decision) -> str:
    """The word ``explain`` puts before a decision. A ``for`` modifier that fails is a condition
    on the customer: "no match", as for a ``where``; dates, weekdays and hours are "outside"."""
    if decision.outcome == "outside" and decision.detail.startswith("for "):
        return "no match"
    return _LABELS.get(decision.outcome, decision.outcome)


def _decision_line(d: Decision) -> str:
    text = d.text or d.detail
    if d.rule and d.outcome not in ("release",):
        text = f"{printer.text(d.rule)}: {text}" if text else printer.text(d.rule)
    elif d.rule:
        text = f"{text} ({printer.text(d.rule)})"
    return f"  {label(d):<{_WIDTH}}  {text}"


def ledger_line(e: Effect, zone: dt.tzinfo) -> str:
    """A ledger line in a few words: ``points +24, balance 24 ("Base points")``."""
    get = e.get
    kind = e.kind
    if kind == "points":
        text = f"points {get('points'):+d}, balance {get('balance')}"
        if get("reverses") is not None:
            text += f", reverses {get('reverses')}"
        if get("releases") is not None:
            text += f", releases {get('releases')}"
        if get("reason") is not None:
            text += f", reason {printer.text(get('reason'))}"
    elif kind == "pending":
        text = f"pending {get('pending'):+d}"
        if get("reverses") is not None:
            text += f", reverses {get('reverses')}"
    elif kind == "free_item":
        text = f"free item {printer.text(str(get('item')))} × {get('quantity')}"
    elif kind == "voucher":
        text = f"voucher {printer.text(str(get('voucher')))} × {get('quantity')}"
    elif kind == "message":
        text = f"message {printer.text(str(get('message')))}"
        if get("expiring") is not None:
            text += f", {get('expiring')} points expiring {reasons.local(get('expires'), zone)}"
    elif kind == "tier":
        text = f"tier {get('from') or 'none'} → {get('to') or 'none'}"
    elif kind == "expire":
        text = f"expire {get('points'):+d}, balance {get('balance')}"
    elif kind == "redeem":
        text = f"redeem {printer.text(str(get('reward')))} {get('points'):+d}, balance {get('balance')}"
    else:  # pragma: no cover - every kind of §5 is above
        text = kind
    if e.rule is not None:
        text += f" ({printer.text(e.rule)})"
    return f"  {'ledger':<{_WIDTH}}  {text}"


def _fields_line(step: Step, currency: str | None) -> str | None:
    if not step.fields:
        return None
    parts = []
    for name, value in step.fields:
        if value is None:
            parts.append(f"{name} none")
        elif name in step.money and isinstance(value, Decimal):
            parts.append(f"{name} {reasons.money(value, currency)}")
        else:
            parts.append(f"{name} {reasons.show(value)}")
    return "  " + ", ".join(parts)


def _field_types(program: Program, event_type: str) -> dict[str, str]:
    if event_type == "profile":
        return {f.name: f.type for f in program.customer_fields.values()}
    fields = program.events.get(event_type, BUILTIN_EVENTS.get(event_type, ()))
    return {f.name: f.type for f in fields}


def render_text(explanation: Explanation) -> str:
    """The ``--format text`` report: a header, then a block per step, blank lines between."""
    from rewardlang.localtime import zone as zone_of

    zone = zone_of(explanation.timezone)
    name = f"{printer.text(explanation.program)} ({explanation.ruleset})" if explanation.program \
        else explanation.ruleset
    head = f"Customer {explanation.customer} with {name}; times are local to {explanation.timezone}."
    blocks = [head]
    for step in explanation.steps:
        lines: list[str] = []
        when = "" if step.time is None else reasons.local(step.time, zone) + "  "
        if step.kind == "scheduled":
            lines.append(f"{when}scheduled")
        else:
            what = f"event {step.event}" + (f" ({step.type})" if step.type else "")
            status = step.status or ""
            if step.reason:
                status += f": {step.reason}"
            lines.append(f"{when}{what}: {status}")
            fields = _fields_line(step, explanation.currency)
            if fields:
                lines.append(fields)
            if step.status == "applied" and not step.decisions and step.type is not None:
                lines.append(f"  no rule listens to {step.type} events")
        lines.extend(_decision_line(d) for d in step.decisions)
        lines.extend(ledger_line(e, zone) for e in step.effects)
        if step.after is not None and step.status != "duplicate":
            after = step.after
            lines.append(f"  {'after':<{_WIDTH}}  balance {after.balance}, pending {after.pending}, "
                         f"tier {after.tier or 'none'}")
            if after.counters:
                counted = "; ".join(f"{printer.text(rule)} {text}" for rule, text in after.counters)
                lines.append(f"  {'counters':<{_WIDTH}}  {counted}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
