"""The embedding API: ``Engine(program)`` keeps customers' states in memory and applies events.

``apply`` is one event, as a shop's checkout would call it; ``run`` is a batch in any order
(sorted per customer, same-id lines resolved as LANGUAGE.md §4 says, effects returned in the
ledger's canonical order); ``advance`` fires what is due by a time (``--until``). All of them go
through the one kernel (``rewardlang.kernel``). A customer's state can be taken out as a plain
dict and put back (``state_of``/``load_state``), which is how runs are persisted and resumed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from rewardlang.compiler import Plan, compile_program
from rewardlang.effects import Effect, canonical
from rewardlang.events import Event, Rejection, Validator, fingerprint
from rewardlang.kernel import Decision, Kernel, Outcome
from rewardlang.localtime import format_instant, parse_instant
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
    """Rules applied to customers' events, in memory. Not thread-safe: one engine per thread."""

    def __init__(self, program: Program, *, interpreted: bool = False):
        self.program = program
        self.plan: Plan = compile_program(program, interpreted=interpreted)
        self.kernel = Kernel(self.plan)
        self.validator = Validator(program)
        self.states: dict[str, CustomerState] = {}

    # ------------------------------------------------------------------ one event
    def apply(self, event: object, *, explain: list[Decision] | None = None) -> Outcome:
        item = self.validator.validate(event)
        customer = item.customer
        if customer is None:
            return Outcome("rejected", (), item.reason, item.code, item.id, None)  # type: ignore[union-attr]
        return self.kernel.apply(self._state(customer), item, explain)

    # ------------------------------------------------------------------ a batch
    def run(self, events: Iterable[object], *, explain: bool = False) -> RunReport:
        outcomes: dict[int, InputOutcome] = {}
        per_customer: dict[str, list[tuple[Any, int, Event | Rejection]]] = {}
        by_id: dict[tuple[str, str], list[tuple[int, Event | Rejection, str | None]]] = {}
        for index, raw in enumerate(events):
            item = self.validator.validate(raw)
            if item.customer is not None and item.id is not None:
                # lines with one customer and id: one event if identical, all rejected if not
                fingerprint_ = item.fingerprint if isinstance(item, Event) else fingerprint(raw)
                by_id.setdefault((item.customer, item.id), []).append((index, item, fingerprint_))
            elif isinstance(item, Rejection) and (item.customer is None or item.time is None):
                outcomes[index] = InputOutcome(index, "rejected", item.reason, item.code, item.customer, item.id)
            else:
                per_customer.setdefault(item.customer, []).append((_order(item), index, item))  # type: ignore[arg-type]
        for (customer, event_id), group in by_id.items():
            first_index, first, first_print = group[0]
            if len(group) == 1 or (first_print is not None and all(p == first_print for _, _, p in group)):
                if isinstance(first, Rejection) and first.time is None:
                    outcomes[first_index] = InputOutcome(first_index, "rejected", first.reason, first.code,
                                                         customer, event_id)
                else:
                    per_customer.setdefault(customer, []).append((_order(first), first_index, first))
                for index, _, _ in group[1:]:
                    outcomes[index] = InputOutcome(index, "duplicate", "duplicate", "duplicate", customer, event_id)
            else:
                reason = (f"conflicting duplicate: {len(group)} lines carry event {event_id} with different "
                          "content")
                for index, item, _ in group:
                    rejection = Rejection(reason, "conflicting_duplicate", event_id, customer, item.time)
                    if item.time is None:
                        outcomes[index] = InputOutcome(index, "rejected", reason, rejection.code, customer, event_id)
                    else:  # a rejected event still fires what is due and moves its customer's clock
                        per_customer.setdefault(customer, []).append((_order(rejection), index, rejection))
        effects: list[Effect] = []
        decisions: list[Decision] | None = [] if explain else None
        for customer in sorted(per_customer):
            state = self._state(customer)
            for _, index, item in sorted(per_customer[customer], key=lambda t: t[0]):
                outcome = self.kernel.apply(state, item, decisions)
                effects.extend(outcome.effects)
                outcomes[index] = InputOutcome(index, outcome.status, outcome.reason, outcome.code, customer,
                                               outcome.event)
        return RunReport(tuple(canonical(effects)), tuple(outcomes[i] for i in sorted(outcomes)),
                         tuple(decisions or ()))

    def advance(self, until: dt.datetime | str) -> tuple[Effect, ...]:
        """Fire the scheduled items due by ``until`` for every customer; move every clock there."""
        instant = parse_instant(until) if isinstance(until, str) else until
        if instant is None:
            raise ValueError(f"not a time with an offset: {until!r}")
        effects: list[Effect] = []
        for customer in sorted(self.states):
            effects.extend(self.kernel.advance(self.states[customer], instant))
        return tuple(canonical(effects))

    # ------------------------------------------------------------------ state
    def _state(self, customer: str) -> CustomerState:
        state = self.states.get(customer)
        if state is None:
            state = self.states[customer] = CustomerState(customer)
        return state

    def state_of(self, customer: str) -> dict[str, Any] | None:
        state = self.states.get(customer)
        return None if state is None else state.to_dict()

    def load_state(self, data: Mapping[str, Any]) -> None:
        state = CustomerState.from_dict(dict(data))
        self.states[state.customer] = state

    def customer(self, customer: str) -> CustomerView:
        state = self._state(customer)
        names = self.program.rule_names
        return CustomerView(
            customer=customer,
            balance=state.balance,
            pending=state.pending_points(),
            tier=state.tier,
            lots=tuple(LotView(lot.points, format_instant(lot.available),
                               None if lot.expires is None else format_instant(lot.expires)) for lot in state.lots),
            counters={names[i]: str(v[0]) for i, v in sorted(state.counters.items())},
            clock=None if state.clock is None else format_instant(state.clock),
        )


def _order(item: Event | Rejection) -> tuple[Any, ...]:
    """(time, id) first; then a tie-break that does not depend on the input's order."""
    if isinstance(item, Event):
        return (item.time, item.id, 0, item.fingerprint)
    return (item.time, item.id or "", 1, item.reason)
