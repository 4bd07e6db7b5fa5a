"""The embedding API: ``Engine(program)`` keeps customers' states in memory and applies events.

``apply`` is one event, as a shop's checkout would call it; ``run`` is a batch in any order
(sorted per customer, same-id lines resolved as LANGUAGE.md §4 says, effects returned in the
ledger's canonical order); ``advance`` fires what is due by a time (``--until``). All of them go
through the one kernel (``rewardlang.kernel``). A customer's state can be taken out as a plain
dict and put back (``state_of``/``load_state``), which is how runs are persisted and resumed.

``apply_customer`` is the per-customer half of ``run`` (same-id lines resolved, ``(time, id)``
order, the kernel), shared with the ``run`` command's out-of-core runner (``rewardlang.runner``),
which reads a state file's customers one at a time; ``view_of`` is ``customer`` for a state alone.

``Engine(program, compact=True)`` holds the customers it is not working on packed
(``rewardlang.packing``: about 0.9 KB a bookshop customer instead of about 17 KB of live objects),
at the cost of unpacking and packing a customer's state once per ``apply``, once per customer per
``run`` and ``advance`` (docs/embedding.md gives the figures). Its ledgers and states are those of
the default engine, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from rewardlang import collector
from rewardlang.compiler import Plan, compile_program
from rewardlang.effects import Effect, canonical
from rewardlang.events import Event, Rejection, Validator, fingerprint
from rewardlang.kernel import Decision, Kernel, Outcome
from rewardlang.localtime import format_instant, parse_instant, zone
from rewardlang.packing import Packer, dictionary_words
from rewardlang.program import Program
from rewardlang.state import CustomerState


@attrs.frozen
class InputOutcome:
    """What became of input item number ``index`` of a ``run``."""

    index: int
    status: str  # applied | duplicate | rejected
    reason: str | None = None
    code: str | None = None
    customer: str | None = None
    event: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class RunReport:
    effects: tuple[Effect, ...]
    outcomes: tuple[InputOutcome, ...]
    decisions: tuple[Decision, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        tally = Counter(o.status for o in self.outcomes)
        return {"read": len(self.outcomes), "applied": tally["applied"], "duplicates": tally["duplicate"],
                "rejected": tally["rejected"]}

    @property
    def rejected(self) -> tuple[InputOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "rejected")

    def to_dict(self) -> dict[str, Any]:
        return {"effects": [e.to_dict() for e in self.effects], "outcomes": [o.to_dict() for o in self.outcomes],
                "counts": self.counts}


@attrs.frozen
class LotView:
    points: int
    available: str
    expires: str | None


@attrs.frozen
class CustomerView:
    """A customer at a glance: balance, pending points, tier, lots with expiry, counters."""

    customer: str
    balance: int
    pending: int
    tier: str | None
    lots: tuple[LotView, ...]
    counters: Mapping[str, str]
    clock: str | None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


class Engine:
    """Rules applied to customers' events, in memory. Not thread-safe: one engine per thread.

    ``compact=True`` keeps each customer's state packed as bytes between calls (see the module's
    docstring): the same results for much less memory and more CPU. ``states`` is a mapping of
    customer id to ``CustomerState`` in both modes; in compact mode each access unpacks a copy,
    so changing what it returns changes nothing in the engine.
    """

    def __init__(self, program: Program, *, interpreted: bool = False, compact: bool = False):
        self.program = program
        self.plan: Plan = compile_program(program, interpreted=interpreted)
        self.kernel = Kernel(self.plan)
        self.validator = Validator(program)
        self.compact = compact
        self.states: Mapping[str, CustomerState]
        if compact:
            self._packer = Packer(program.rule_names, dictionary_words(program), tz=zone(program.timezone))
            self._packed: dict[str, bytes] = {}
            self.states = PackedStates(self._packed, self._packer)
        else:
            self.states = self._live = {}

    # ------------------------------------------------------------------ one event
    def apply(self, event: object, *, explain: list[Decision] | None = None) -> Outcome:
        item = self.validator.validate(event)
        customer = item.customer
        if customer is None:
            return Outcome("rejected", (), item.reason, item.code, item.id, None)  # type: ignore[union-attr]
        if not self.compact:
            return self.kernel.apply(self._state(customer), item, explain)
        state = self._take(customer)
        outcome = self.kernel.apply(state, item, explain)
        self._packed[customer] = self._packer.pack(state)
        return outcome

    # ------------------------------------------------------------------ a batch
    def run(self, events: Iterable[object], *, explain: bool = False) -> RunReport:
        """A batch, with the cyclic garbage collector paused (``collector.paused``): the states
        and effects a batch makes are many small objects in no garbage cycle, and the
        collector's passes over them cost about a third of a run (docs/performance.md). What
        the batch made is promoted to the oldest generation after, without a pass over it:
        the states live on in the engine."""
        with collector.paused(promote=True):
            return self._run(events, explain)

    def _run(self, events: Iterable[object], explain: bool) -> RunReport:
        outcomes: dict[int, InputOutcome] = {}
        per_customer: dict[str, list[Line]] = {}
        for index, raw in enumerate(events):
            item = self.validator.validate(raw)
            if item.customer is None:  # nothing to apply it to: it touches no state
                outcomes[index] = InputOutcome(index, "rejected", item.reason, item.code, None,  # type: ignore[union-attr]
                                               item.id)
            else:
                per_customer.setdefault(item.customer, []).append(line_of(index, item, raw))
        effects: list[Effect] = []
        decisions: list[Decision] | None = [] if explain else None
        compact = self.compact
        for customer in sorted(per_customer):
            if compact:
                packed = self._packed.get(customer)
                state = CustomerState(customer) if packed is None else self._packer.unpack(packed)
            else:
                state = self._live.get(customer) or CustomerState(customer)
            result = apply_customer(self.kernel, state, per_customer[customer], decisions)
            if result.touched:
                if compact:
                    self._packed[customer] = self._packer.pack(state)
                else:
                    self._live[customer] = state
            effects.extend(result.effects)
            for outcome in result.outcomes:
                outcomes[outcome.index] = outcome
        return RunReport(tuple(canonical(effects)), tuple(outcomes[i] for i in sorted(outcomes)),
                         tuple(decisions or ()))

    def advance(self, until: dt.datetime | str) -> tuple[Effect, ...]:
        """Fire the scheduled items due by ``until`` for every customer; move every clock there."""
        instant = parse_instant(until) if isinstance(until, str) else until
        if instant is None:
            raise ValueError(f"not a time with an offset: {until!r}")
        effects: list[Effect] = []
        with collector.paused(promote=True):  # as ``run``
            if self.compact:
                packed, packer = self._packed, self._packer
                for customer in sorted(packed):
                    state = packer.unpack(packed[customer])
                    effects.extend(self.kernel.advance(state, instant))
                    packed[customer] = packer.pack(state)
            else:
                for customer in sorted(self._live):
                    effects.extend(self.kernel.advance(self._live[customer], instant))
        return tuple(canonical(effects))

    # ------------------------------------------------------------------ state
    def _state(self, customer: str) -> CustomerState:
        """The customer's state, made (and kept) if the engine has none; in compact mode a copy:
        the caller packs it back if it changes it."""
        if self.compact:
            return self._take(customer)
        state = self._live.get(customer)
        if state is None:
            state = self._live[customer] = CustomerState(customer)
        return state

    def _take(self, customer: str) -> CustomerState:
        """Compact mode: the customer's state unpacked, or a new one (kept, packed, at once)."""
        packed = self._packed.get(customer)
        if packed is not None:
            return self._packer.unpack(packed)
        state = CustomerState(customer)
        self._packed[customer] = self._packer.pack(state)
        return state

    def state_of(self, customer: str) -> dict[str, Any] | None:
        state = self.states.get(customer)
        return None if state is None else state.to_dict()

    def load_state(self, data: Mapping[str, Any]) -> None:
        state = CustomerState.from_dict(dict(data))
        if self.compact:
            self._packed[state.customer] = self._packer.pack(state)
        else:
            self._live[state.customer] = state

    def customer(self, customer: str) -> CustomerView:
        return view_of(self._state(customer), self.program.rule_names)

    def explain(self, events: Iterable[object], customer: str, event: str | None = None, *,
                until: dt.datetime | str | None = None) -> Any:
        """Why each rule fired or not on ``customer``'s lines among ``events``: a
        ``rewardlang.explain.Explanation`` built on the kernel's own decisions. A dry run from
        this engine's state of the customer: the engine is left unchanged (docs/explain.md)."""
        from rewardlang.explain import explain

        return explain(self, events, customer, event, until=until)


class PackedStates(Mapping[str, CustomerState]):
    """A compact engine's ``states``: customer id to ``CustomerState``, each unpacked when it is
    read (a copy: the engine keeps the packed bytes, not what this returns)."""

    __slots__ = ("_packed", "_packer")

    def __init__(self, packed: dict[str, bytes], packer: Packer):
        self._packed = packed
        self._packer = packer

    def __getitem__(self, customer: str) -> CustomerState:
        return self._packer.unpack(self._packed[customer])

    def __contains__(self, customer: object) -> bool:
        return customer in self._packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def packed_size(self) -> int:
        """The packed bytes' total length (what the states take, Python's overhead aside)."""
        return sum(len(b) for b in self._packed.values())


def view_of(state: CustomerState, rule_names: Sequence[str]) -> CustomerView:
    """What can be seen of a customer's state; ``rule_names`` name the counters (by rule position),
    so a state file's view needs only the names of its ruleset's rules, not the ruleset."""
    return CustomerView(
        customer=state.customer,
        balance=state.balance,
        pending=state.pending_points(),
        tier=state.tier,
        lots=tuple(LotView(lot.points, format_instant(lot.available),
                           None if lot.expires is None else format_instant(lot.expires)) for lot in state.lots),
        counters={(rule_names[i] if i < len(rule_names) else f"rule #{i + 1}"): str(v[0])
                  for i, v in sorted(state.counters.items())},
        clock=None if state.clock is None else format_instant(state.clock),
    )


@attrs.frozen(slots=True)
class Line:
    """One input line of one customer, validated: its position in the input (``index``; the
    first of several identical lines is the one applied), the event or rejection, and the
    fingerprint of its content (``None`` when it is not a JSON object)."""

    index: int
    item: Event | Rejection
    fingerprint: str | None


def line_of(index: int, item: Event | Rejection, raw: object) -> Line:
    """A validated line; a rejection's fingerprint is that of its raw content, so that identical
    invalid lines are one rejected line and duplicates (docs/semantics.md)."""
    return Line(index, item, item.fingerprint if isinstance(item, Event) else fingerprint(raw))


@attrs.frozen
class CustomerResult:
    """What one customer's lines made: effects (in the order they happened), an outcome per line,
    and whether the state was touched at all (a customer whose only lines carry no time is not)."""

    effects: list[Effect]
    outcomes: list[InputOutcome]
    touched: bool


def apply_customer(kernel: Kernel, state: CustomerState, lines: Iterable[Line],
                   trace: list[Decision] | None = None) -> CustomerResult:
    """One customer's lines of one input, resolved and applied (LANGUAGE.md §4).

    This is the one place where a batch is turned into kernel calls — ``Engine.run`` and the
    ``run`` command's out-of-core runner (``rewardlang.runner``) both call it, one customer at a
    time, so a batch means the same whichever of them reads it. Lines that carry one id: identical
    ones are one event and the others duplicates; differing ones are all rejected as conflicting
    (each still fires what is due and moves the clock). Then the lines are applied in ``(time,
    id)`` order, with a tie-break that does not depend on the input's order.
    """
    customer = state.customer
    outcomes: list[InputOutcome] = []
    ordered: list[tuple[Any, int, Event | Rejection]] = []
    by_id: dict[str, list[Line]] = {}
    for line in lines:
        item = line.item
        if item.id is not None:
            by_id.setdefault(item.id, []).append(line)
        elif item.time is None:  # a rejection that cannot be placed in time: it touches no state
            outcomes.append(InputOutcome(line.index, "rejected", item.reason, item.code, customer,  # type: ignore[union-attr]
                                         None))
        else:
            ordered.append((_order(item), line.index, item))
    for event_id, group in by_id.items():
        first = group[0]
        if len(group) == 1 or (first.fingerprint is not None
                               and all(line.fingerprint == first.fingerprint for line in group)):
            item = first.item
            if isinstance(item, Rejection) and item.time is None:
                outcomes.append(InputOutcome(first.index, "rejected", item.reason, item.code, customer, event_id))
            else:
                ordered.append((_order(item), first.index, item))
            for line in group[1:]:
                outcomes.append(InputOutcome(line.index, "duplicate", "duplicate", "duplicate", customer, event_id))
        else:
            reason = f"conflicting duplicate: {len(group)} lines carry event {event_id} with different content"
            for line in group:
                rejection = Rejection(reason, "conflicting_duplicate", event_id, customer, line.item.time)
                if rejection.time is None:
                    outcomes.append(InputOutcome(line.index, "rejected", reason, rejection.code, customer, event_id))
                else:  # a rejected event still fires what is due and moves its customer's clock
                    ordered.append((_order(rejection), line.index, rejection))
    effects: list[Effect] = []
    apply_into = kernel.apply_into
    ordered.sort(key=_first)
    for _, index, item in ordered:
        status, reason, code = apply_into(state, item, effects, trace)
        outcomes.append(InputOutcome(index, status, reason, code, customer, item.id))
    return CustomerResult(effects, outcomes, bool(ordered))


_first = operator.itemgetter(0)


def _order(item: Event | Rejection) -> tuple[Any, ...]:
    """(time, id) first; then a tie-break that does not depend on the input's order."""
    if isinstance(item, Event):
        return (item.time, item.id, 0, item.fingerprint)
    return (item.time, item.id or "", 1, item.reason)
