"""The kernel: one customer's events, in ``(time, id)`` order, folded into effects and a new state.

Everything that applies rules goes through here — ``Engine.apply``/``run``/``advance``, and later
the ``run`` command, ``simulate`` and distributed runs — so there is one implementation of
LANGUAGE.md §4. Per event: (1) the scheduled items due by then; (2) the event's own built-in
effect, then the rules in file order, each deciding on the state before the event; (3) history;
(4) the tier, and the ``tier change`` rules; (5) the conversions.

Decisions (why a rule fired, did not match, was outside its dates, skipped by a limit or
suppressed, and the scheduled items as they fire) are recorded only when a ``trace`` list is
passed: at no cost otherwise — every string of a decision is built under ``if trace is not
None``. ``rewardlang.explain`` turns them into the ``explain`` command's report, and
``rewardlang.reasons`` words them.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import attrs

from rewardlang import localtime, printer, reasons
from rewardlang.compiler import Context, Plan, RulePlan
from rewardlang.effects import Effect
from rewardlang.events import Event, Rejection
from rewardlang.interpreter import why_not
from rewardlang.state import (
    BIRTHDAY,
    EXPIRY,
    INACTIVITY,
    RELEASE,
    REMINDER,
    TIER,
    Applied,
    Award,
    CustomerState,
    Lot,
)
from rewardlang.zonecalendar import at_least, at_most

_ROUNDING = {"down": ROUND_FLOOR, "nearest": ROUND_HALF_UP, "up": ROUND_CEILING}
_BUILTIN_TYPES = frozenset({"profile", "refund", "redeem", "adjust"})


@attrs.frozen
class Decision:
    """Why a rule did or did not apply at one moment, or what a scheduled item did (``explain``).

    ``outcome`` is, for a rule: ``fired``, ``no_match`` (its ``where``), ``outside`` (a ``for``,
    date, weekday or time-of-day modifier), ``not_yet`` (a counter short of its next multiple),
    ``used_up`` (``first``: not the first), ``skipped`` (a limit) or ``suppressed`` (``instead
    of``); for a scheduled item: ``release``, ``expire``, ``remind``, ``birthday``, ``inactive``
    or ``tier`` (a re-evaluation when a window or a ``kept for`` ends). ``detail`` is the short
    reason (the condition or modifier as written, ``3 of 5``, ``limit reached``); ``text`` is the
    sentence ``explain`` prints, with the values seen and, for a firing, the arithmetic;
    ``points`` is what a firing changed the balance (or the pending points) by, ``None`` for
    effects that are not points. ``rule`` is ``""`` where no rule is concerned.
    """

    time: dt.datetime
    event: str | None
    rule: str
    outcome: str
    detail: str = ""
    text: str = ""
    points: int | None = None


@attrs.frozen
class Outcome:
    """What became of one input event."""

    status: str  # applied | duplicate | rejected
    effects: tuple[Effect, ...]
    reason: str | None = None
    code: str | None = None
    event: str | None = None
    customer: str | None = None


class Kernel:
    """Applies a plan to customer states. Holds no customer data itself."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.zone = plan.zone
        self.cal = plan.calendar
        windows = [w for t in plan.tiers for w in t.windows]
        self._tier_windows = tuple(sorted(set(windows)))
        self._rounding = _ROUNDING[plan.rounding]
        self._convert_costs = tuple((rule, int(rule.step)) for rule in plan.convert_rules)
        self._decide = plan.decide
        self._fire = plan.fire
        self._lots_expire = plan.expiry is not None and not plan.expire_without_activity
        # plain-timedelta bounds of the `inactive for` and `notify … before` durations: where
        # they settle a comparison, no calendar sum is made
        spans = ({rule.inactive for rule in plan.inactive_rules} | {d for _, d in plan.notifications}
                 | set(self._tier_windows))
        self._least = {d: at_least(*d) for d in spans if d is not None}
        self._most = {d: at_most(*d) for d in spans if d is not None}
        # plain-timedelta spans past which applied events and history are surely forgotten
        self._applied_kept = at_most(*plan.refund_window)
        kept = [plan.refund_window] + ([plan.max_window] if plan.max_window is not None else [])
        self._history_kept = max(at_most(count, unit) for count, unit in kept)

    # ------------------------------------------------------------------ entry points
    def apply(self, state: CustomerState, item: Event | Rejection, trace: list[Decision] | None = None) -> Outcome:
        out: list[Effect] = []
        status, reason, code = self.apply_into(state, item, out, trace)
        return Outcome(status, tuple(out), reason, code, item.id, item.customer)

    def apply_into(self, state: CustomerState, item: Event | Rejection, out: list[Effect],
                   trace: list[Decision] | None = None) -> tuple[str, str | None, str | None]:
        """``apply``, with the effects appended to ``out``: (status, reason, code). A batch
        (``engine.apply_customer``) collects a customer's effects in one list this way."""
        if isinstance(item, Rejection):
            if item.time is not None:
                self._advance(state, item.time, out, trace)
            return ("rejected", item.reason, item.code)
        event = item
        known = state.applied.get(event.id)
        if known is not None and state.clock is not None and self._forgotten(known.time, state.clock):
            known = None  # ids are remembered for the refund window only, however long we keep them
        if known is not None:
            if known.fingerprint == event.fingerprint:
                return ("duplicate", "duplicate", "duplicate")
            self._advance(state, event.time, out, trace)  # rejected: step 1 still runs
            return ("rejected", f"conflicting duplicate: event {event.id} was applied with other content",
                    "conflicting_duplicate")
        last_time = state.last_time
        if (state.clock is not None and event.time < state.clock) or (last_time is not None and (
            event.time < last_time or (event.time == last_time and event.id <= (state.last_id or "")))
        ):  # (time, id) not after the last event's
            return ("rejected", f"late: the customer's clock is at "
                    f"{localtime.format_instant(state.clock or state.last_time)}",  # type: ignore[arg-type]
                    "late")
        self._advance(state, event.time, out, trace)
        problem = self._event(state, event, out, trace)
        if problem is not None:
            code, reason = problem
            return ("rejected", reason, code)
        return ("applied", None, None)

    def advance(self, state: CustomerState, until: dt.datetime, trace: list[Decision] | None = None) -> list[Effect]:
        """``--until``: fire what is due by ``until`` and move the clock there."""
        out: list[Effect] = []
        self._advance(state, until, out, trace)
        return out

    def fold(self, state: CustomerState, items: Iterable[Event | Rejection]) -> list[Outcome]:
        """Apply a customer's items, which the caller has put in ``(time, id)`` order."""
        return [self.apply(state, item) for item in items]

    # ------------------------------------------------------------------ emitting
    def _emit(self, state: CustomerState, out: list[Effect], time: dt.datetime, event: str | None,
              rule: str | None, kind: str, values: tuple[tuple[str, Any], ...]) -> None:
        state.seq += 1
        out.append(Effect(time, state.customer, event, rule, kind, values, state.seq))

    # ------------------------------------------------------------------ points and lots
    def _credit(self, state: CustomerState, points: int, time: dt.datetime, source: str | None,
                batch: list[int] | None = None, expires: dt.datetime | None = None) -> int | None:
        """Add available points; a debt is paid first; the rest becomes a lot. Returns the lot id.

        With ``batch``, a lot that expires is added to it and not scheduled: the caller makes
        several lots at one instant (a release), gives their expiry (``expires``) and schedules
        them together (``_schedule_lots``).
        """
        debt_paid = min(points, -state.balance) if state.balance < 0 else 0
        state.balance += points
        rest = points - debt_paid
        if rest <= 0:
            return None
        if not self._lots_expire:
            expires = None
        elif batch is None:
            count, unit = self.plan.expiry  # type: ignore[misc]
            expires = self.cal.add(time, count, unit)
        lot = Lot(state.new_id(), rest, time, expires, source)
        state.lots.append(lot)
        if expires is not None:
            if batch is not None:
                batch.append(lot.id)
            else:
                self._wake(state, _EXPIRY_CHAIN, expires)
                self._schedule_reminders(state, expires, time)
        elif self.plan.expire_without_activity:
            deadline = self._activity_deadline(state)
            if deadline is not None:
                self._schedule_reminders(state, deadline, time)
        return lot.id

    def _schedule_lots(self, state: CustomerState, time: dt.datetime, batch: list[int], expires: dt.datetime) -> None:
        """Schedule the expiry of lots made at ``time`` (they expire together, at ``expires``) and
        one set of reminders for them all (a reminder is sent once a day: one item per lot was
        the same message looked for again)."""
        if batch:
            self._wake(state, _EXPIRY_CHAIN, expires)
            self._schedule_reminders(state, expires, time)

    def _schedule_reminders(self, state: CustomerState, expires: dt.datetime, now: dt.datetime) -> None:
        for n, (_, (count, unit)) in enumerate(self.plan.notifications):
            remind = self.cal.subtract(expires, count, unit)
            if remind >= now:
                state.push(remind, REMINDER, "remind", (n,))

    def _debit(self, state: CustomerState, points: int, own_lot: int | None = None) -> None:
        """Take points: from ``own_lot`` first, then the oldest lots, then make a debt."""
        state.balance -= points
        left = points
        if own_lot is not None:
            for lot in state.lots:
                if lot.id == own_lot:
                    take = min(left, lot.points)
                    lot.points -= take
                    left -= take
                    break
        for lot in state.lots:
            if left <= 0:
                break
            take = min(left, lot.points)
            lot.points -= take
            left -= take
        state.lots = [lot for lot in state.lots if lot.points > 0]

    def _award(self, state: CustomerState, out: list[Effect], time: dt.datetime, event: str | None,
               rule: RulePlan, points: int, *, pending: bool, record: Applied | None,
               rate: Decimal | None = None, per: Decimal | None = None) -> None:
        if points == 0:
            return
        if pending and self.plan.pending is not None:
            awards = record.awards if record is not None else None
            if awards and awards[0].release is not None:  # the event's awards are released together
                release = awards[0].release
            else:
                count, unit = self.plan.pending
                release = self.cal.add(time, count, unit)
            self._emit(state, out, time, event, rule.name, "pending", (("pending", points),))
            if record is not None:  # released by one item for the event (``_event``)
                record.awards.append(Award(rule.name, rate, per, points, None, True, release))
            return
        lot = self._credit(state, points, time, event)
        self._emit(state, out, time, event, rule.name, "points", (("points", points), ("balance", state.balance)))
        if record is not None:
            record.awards.append(Award(rule.name, rate, per, points, lot, False, None))

    # ------------------------------------------------------------------ step 1: the schedule
    def _advance(self, state: CustomerState, until: dt.datetime, out: list[Effect], trace: list[Decision] | None) -> None:
        schedule = state.schedule
        while schedule and schedule[0][0] <= until:
            instant = schedule[0][0]
            balance_before = state.balance
            tier_due = False
            while schedule and schedule[0][0] == instant:
                _, order, _, kind, payload = heapq.heappop(schedule)
                if order == TIER:
                    tier_due = True
                    if payload:  # ("exit", count, unit): the next window exit
                        self._woken(state, payload, instant)
                        self._next_exit(state, instant, (payload[1], payload[2]))
                    continue
                self._scheduled(state, instant, kind, payload, out, trace)
            if tier_due:
                self._tiers(state, instant, None, out, trace)
            if state.balance > balance_before:
                self._conversions(state, instant, None, out, trace)
        if state.clock is None or until > state.clock:
            state.clock = until
        self._prune(state)

    def _scheduled(self, state: CustomerState, instant: dt.datetime, kind: str, payload: tuple[Any, ...],
                   out: list[Effect], trace: list[Decision] | None) -> None:
        if kind == "release":
            # (event, None): every pending award of the event, in the order they were made; a
            # state written before 0.1.0's one item per event has (event, index of one award)
            event_id, index = payload
            record = state.applied.get(event_id)
            if record is None:
                return
            batch: list[int] | None = None
            expires: dt.datetime | None = None
            if self._lots_expire:  # the lots of the release expire together
                batch = []
                count, unit = self.plan.expiry  # type: ignore[misc]
                expires = self.cal.add(instant, count, unit)
            for award in record.awards if index is None else (record.awards[index],):
                if not award.pending:
                    continue
                award.pending = False
                if trace is not None:
                    text = (f"{reasons.points(award.standing)} pending since event {event_id} released"
                            if award.standing > 0 else
                            f"nothing of event {event_id}'s pending award is left to release (refunded)")
                    trace.append(Decision(instant, None, award.rule, "release", event_id, text, award.standing))
                if award.standing > 0:
                    award.lot = self._credit(state, award.standing, instant, event_id, batch, expires)
                    self._emit(state, out, instant, None, award.rule, "points",
                               (("points", award.standing), ("balance", state.balance), ("releases", event_id)))
            if batch:
                self._schedule_lots(state, instant, batch, expires)  # type: ignore[arg-type]
        elif kind == "expire":
            # (): the lots that expire now, in the order they were made, then the next such item;
            # (lot id, ...): those lots (a state written before one item did for all)
            if not payload:
                self._woken(state, _EXPIRY_CHAIN, instant)
                payload = tuple(lot.id for lot in state.lots if lot.expires == instant and lot.points > 0)
                later = [lot.expires for lot in state.lots if lot.expires is not None and lot.expires > instant]
                if later:
                    self._wake(state, _EXPIRY_CHAIN, min(later))
            for lot_id in payload:
                for lot in state.lots:
                    if lot.id == lot_id and lot.points > 0:
                        if trace is not None:
                            count, unit = self.plan.expiry  # type: ignore[misc]
                            source = "" if lot.source is None else f" (event {lot.source})"
                            text = (f"{reasons.points(lot.points)} awarded "
                                    f"{reasons.local(lot.available, self.zone)}{source} expired: points expire "
                                    f"after {count} {unit}{'s' * (count != 1)}")
                            trace.append(Decision(instant, None, "", "expire", "", text, -lot.points))
                        self._expire(state, instant, [lot], out)
                        break
        elif kind == "expire_all":
            if state.last_activity is None or self._activity_deadline(state) != instant:
                return
            if trace is not None and state.lot_points() > 0:
                count, unit = self.plan.expiry  # type: ignore[misc]
                text = (f"all {reasons.points(state.lot_points())} expired: no activity for {count} "
                        f"{unit}{'s' * (count != 1)} since {reasons.local(state.last_activity, self.zone)}")
                trace.append(Decision(instant, None, "", "expire", "", text, -state.lot_points()))
            self._expire(state, instant, list(state.lots), out)
        elif kind == "remind":
            self._remind(state, instant, payload[0], out, trace)
        elif kind == "birthday":
            if state.birthday_due != instant:
                return
            birthdate = state.profile.get("birthdate")
            year = self.cal.local_date(instant).year
            if birthdate is not None and state.birthday_year != year:
                state.birthday_year = year
                if trace is not None:
                    trace.append(Decision(instant, None, "", "birthday", "",
                                          f"birthdate {birthdate.isoformat()}"))
                self._fire_scheduled_rules(state, instant, self.plan.birthday_rules, out, trace)
            if birthdate is not None:
                state.birthday_due = self.cal.next_birthday(instant, birthdate)
                state.push(state.birthday_due, BIRTHDAY, "birthday")
        elif kind == "inactive":
            (index,) = payload
            self._woken(state, ("inactive", index), instant)
            rule = self.plan.rules[index]
            count, unit = rule.inactive  # type: ignore[misc]
            if state.last_activity is None or index in state.inactive_done:
                return
            due = self.cal.add(state.last_activity, count, unit)
            if due != instant:
                if due > instant:  # there was activity since this item was scheduled: wake then
                    self._wake(state, ("inactive", index), due)
                return
            state.inactive_done.add(index)
            if trace is not None:
                text = (f"no event for {count} {unit}{'s' * (count != 1)} since "
                        f"{reasons.local(state.last_activity, self.zone)}")
                trace.append(Decision(instant, None, rule.name, "inactive", "", text))
            self._fire_scheduled_rules(state, instant, (rule,), out, trace)

    def _expire(self, state: CustomerState, instant: dt.datetime, lots: list[Lot], out: list[Effect]) -> None:
        points = sum(lot.points for lot in lots if lot.points > 0)
        if points <= 0:
            return
        ids = {lot.id for lot in lots}
        state.lots = [lot for lot in state.lots if lot.id not in ids]
        state.balance -= points
        self._emit(state, out, instant, None, None, "expire", (("points", -points), ("balance", state.balance)))

    def _activity_deadline(self, state: CustomerState) -> dt.datetime | None:
        if self.plan.expiry is None or state.last_activity is None:
            return None
        count, unit = self.plan.expiry
        return self.cal.add(state.last_activity, count, unit)

    def _lot_expiry(self, state: CustomerState, lot: Lot) -> dt.datetime | None:
        return self._activity_deadline(state) if self.plan.expire_without_activity else lot.expires

    def _remind(self, state: CustomerState, instant: dt.datetime, n: int, out: list[Effect],
                trace: list[Decision] | None) -> None:
        template, (count, unit) = self.plan.notifications[n]
        today = self.cal.local_date(instant)
        day = today.isoformat()
        if (n, day) in state.reminders_sent:
            return
        expiring = 0
        expires: dt.datetime | None = None
        least, most = self._least[(count, unit)], self._most[(count, unit)]
        for lot in state.lots:
            lot_expires = self._lot_expiry(state, lot)
            if lot.points <= 0 or lot_expires is None or lot_expires <= instant:
                continue
            if lot_expires - least < instant or lot_expires - most > instant + _TWO_DAYS:
                continue  # its reminder is surely before now, or surely after today
            remind = self.cal.subtract(lot_expires, count, unit)
            if remind < instant or self.cal.local_date(remind) != today:
                continue
            expiring += lot.points
            expires = lot_expires if expires is None or lot_expires < expires else expires
        if expiring <= 0:
            return
        state.reminders_sent.add((n, day))
        if trace is not None:
            text = (f"{printer.text(template)}: {reasons.points(expiring)} expire "
                    f"{reasons.local(expires, self.zone)}")  # type: ignore[arg-type]
            trace.append(Decision(instant, None, "", "remind", "", text))
        self._emit(state, out, instant, None, None, "message",
                   (("message", template), ("expiring", expiring), ("expires", expires)))

    def _fire_scheduled_rules(self, state: CustomerState, instant: dt.datetime, rules: Iterable[RulePlan],
                              out: list[Effect], trace: list[Decision] | None, event: str | None = None) -> None:
        """Birthday, inactivity and tier-change rules: guards and limits, then the effect at once."""
        ctx = Context(instant, {}, state.profile, state.tier, state.balance, state.history, self.cal)
        for rule in rules:
            if not self._guards(rule, ctx, event, trace):
                continue
            if self._allowed(state, rule, instant, 1, event, trace) == 0:
                continue
            self._record_firing(state, rule, instant, 1)
            points = self._apply_effect(state, rule, instant, event, {}, out, pending=False, record=None)
            if trace is not None:
                trace.append(self._fired(state, rule, instant, event, {}, points, False))

    # ------------------------------------------------------------------ steps 2-5: an event
    def _event(self, state: CustomerState, event: Event, out: list[Effect],
               trace: list[Decision] | None) -> tuple[str, str] | None:
        time = event.time
        ctx = Context(time, event.fields, state.profile, state.tier, state.balance, state.history, self.cal)
        record = Applied(event.fingerprint, time, event.type, _amount(event), _ZERO, [], [])
        builtin = event.type in _BUILTIN_TYPES
        if builtin:  # a built-in event that cannot be applied rejects the event before anything
            problem = self._builtin_problem(state, event)
            if problem is not None:
                return problem
        # step 2: the rules decide on the state before the event (the profile and history as they
        # were); then the built-in effect comes first in the ledger, the rules' effects after it
        rules = self.plan.by_event.get(event.type, ())
        decide = self._decide.get(event.type) if trace is None else None
        if decide is not None:  # the rules of this type as one generated function (``transpiler``)
            firing = decide(ctx, state, event, record, self._counted, self._allowed)
        else:
            firing = self._firing(state, rules, ctx, event, record, trace)
        if builtin:
            self._builtin(state, event, out)
        pending = not builtin
        fire = self._fire.get(event.type) if trace is None else None
        if fire is not None:  # the effects of this type's rules as one generated function
            if firing:
                fire(self, state, event, record, firing, out, pending)
        elif firing:
            for rule in rules:
                times = firing.get(rule.index, 0)
                for _ in range(times):
                    if rule.limits:
                        self._record_firing(state, rule, time, 1)
                    points = self._apply_effect(state, rule, time, event.id, event.fields, out, pending=pending,
                                                record=record)
                    if trace is not None:
                        trace.append(self._fired(state, rule, time, event.id, event.fields, points, pending))
        if pending and record.awards and self.plan.pending is not None:  # one release for them all
            state.push(record.awards[0].release, RELEASE, "release", (event.id, None))  # type: ignore[arg-type]
        # step 3: history
        spend = record.amount if event.type in self.plan.spend_events else None
        if event.type in self.plan.history_events:  # what no window reads is not kept
            state.history.entries.append([time, event.id, event.type, spend, True])
        if spend is not None:
            state.history.spend_total += spend
        state.history.counts[event.type] = state.history.counts.get(event.type, 0) + 1
        if event.type in self.plan.window_events:
            wakes = self._wakes(state)
            for window in self._tier_windows:
                # an earlier event's exit is due first (exits follow the events' order): it will
                # schedule this one's when it comes (``_next_exit``)
                if ("exit", *window) not in wakes:
                    self._wake(state, ("exit", *window), self.cal.window_exit(time, *window))
        state.applied[event.id] = record
        state.last_time, state.last_id = time, event.id
        state.clock = time
        self._activity(state, time)
        # step 4: the tier; step 5: conversions
        tier_events = self.plan.tier_events
        if tier_events is None or not state.tiers_seen or event.type in tier_events:
            self._tiers(state, time, event.id, out, trace, ctx)
        self._conversions(state, time, event.id, out, trace)
        return None

    def _firing(self, state: CustomerState, rules: tuple[RulePlan, ...], ctx: Context, event: Event,
                record: Applied, trace: list[Decision] | None) -> dict[int, int]:
        """Step 2's decision, rule by rule: {rule index: firings}. The candidates (where,
        guards, counters), then in suppression order the suppressed and the limited are left
        out. ``transpiler.Transpiler.decide`` writes the same as one function per event type."""
        candidates: dict[int, int] = {}
        if trace is None:  # _candidate's work, without a call per rule (nothing to record)
            for rule in rules:
                where = rule.where
                if where is not None and not where(ctx):
                    continue
                for _, guard in rule.guards:
                    if not guard(ctx):
                        break
                else:
                    firings = 1 if rule.trigger == "event" else self._counted(state, rule, ctx, event, record, None)
                    if firings:
                        candidates[rule.index] = firings
        else:
            for rule in rules:
                firings = self._candidate(state, rule, ctx, event, record, trace)
                if firings:
                    candidates[rule.index] = firings
        firing: dict[int, int] = {}
        if candidates:
            time = ctx.time
            for index in self.plan.order_by_event.get(event.type, ()):
                wanted = candidates.get(index)
                if wanted is None:
                    continue
                rule = self.plan.rules[index]
                suppressor = None
                for other in self.plan.suppressed_by.get(index, ()):
                    if other in firing:
                        suppressor = other
                        break
                if suppressor is not None:
                    if trace is not None:
                        name = printer.text(self.plan.rules[suppressor].name)
                        trace.append(Decision(time, event.id, rule.name, "suppressed", f"instead of it: {name}",
                                              f"{name} fired instead of it (instead of {printer.text(rule.name)})"))
                    continue
                allowed = self._allowed(state, rule, time, wanted, event.id, trace) if rule.limits else wanted
                if allowed:
                    firing[index] = allowed
        return firing

    def _activity(self, state: CustomerState, time: dt.datetime) -> None:
        state.last_activity = time
        if state.inactive_done:
            state.inactive_done = set()
        if self.plan.inactive_rules:
            # one item per `inactive for` rule is enough: one due before the new deadline wakes
            # up, finds the deadline moved, and schedules itself again for it (``_scheduled``)
            # (not always the latest deadline: 6 months after 02:30 before the clocks go back is
            # later than 6 months after 02:10 after they did)
            wakes = self._wakes(state)
            for rule in self.plan.inactive_rules:
                wake = wakes.get(("inactive", rule.index))
                if wake is not None and wake[0] <= time + self._least[rule.inactive]:  # type: ignore[index]
                    continue  # due before the new deadline, whatever the calendar says
                count, unit = rule.inactive  # type: ignore[misc]
                self._wake(state, ("inactive", rule.index), self.cal.add(time, count, unit))
        if self.plan.expire_without_activity:
            deadline = self._activity_deadline(state)
            assert deadline is not None
            state.push(deadline, EXPIRY, "expire_all")  # whatever lots there are by then
            if state.lots:
                self._schedule_reminders(state, deadline, time)

    # ------------------------------------------------------------------ chains of one item
    # The lots' expiry, each `inactive for` rule and each tier window keep one item in the
    # schedule at a time instead of one per lot, activity or purchase: the item due does its
    # work and schedules the next (``_scheduled``, ``_next_exit``). ``state.wakes`` holds each
    # chain's earliest due, derived from the schedule (a state read from a file, or written
    # before the chains, has none or one item per lot, activity or purchase: all still work).

    @staticmethod
    def _wakes(state: CustomerState) -> dict[tuple[Any, ...], list[Any]]:
        """Each chain's [earliest due, number of items in the schedule]."""
        wakes = state.wakes
        if wakes is None:
            wakes = state.wakes = {}
            for due, _, _, kind, payload in state.schedule:
                chain = _chain_of(kind, payload)
                if chain is not None:
                    entry = wakes.get(chain)
                    if entry is None:
                        wakes[chain] = [due, 1]
                    else:
                        entry[0] = min(entry[0], due)
                        entry[1] += 1
        return wakes

    def _wake(self, state: CustomerState, chain: tuple[Any, ...], due: dt.datetime) -> None:
        """Make sure ``chain`` has an item due by ``due`` (a second one where ``due`` is earlier
        than its item: a later lot or activity can be due first across the autumn fold)."""
        wakes = self._wakes(state)
        entry = wakes.get(chain)
        if entry is None:
            wakes[chain] = [due, 1]
        elif entry[0] <= due:
            return
        else:
            entry[0] = due
            entry[1] += 1
        if chain == _EXPIRY_CHAIN:
            state.push(due, EXPIRY, "expire")
        elif chain[0] == "inactive":
            # the rule's index as tie-breaker: rules' items due at one instant fire in file order,
            # whenever each was pushed
            heapq.heappush(state.schedule, (due, INACTIVITY, chain[1], "inactive", (chain[1],)))
        else:  # ("exit", count, unit)
            state.push(due, TIER, "tier", chain)

    def _woken(self, state: CustomerState, chain: tuple[Any, ...], instant: dt.datetime) -> None:
        """A chain's item came due (it is off the schedule): its earliest due is its next
        item's. A chain nearly always has one item, and then nothing is looked for."""
        if state.wakes is None:  # derived now, from the schedule without the item: right as it is
            self._wakes(state)
            return
        entry = state.wakes.get(chain)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del state.wakes[chain]
        elif entry[0] == instant:
            entry[0] = min(due for due, _, _, kind, payload in state.schedule if _chain_of(kind, payload) == chain)

    def _next_exit(self, state: CustomerState, instant: dt.datetime, window: tuple[int, str]) -> None:
        """A window-exit item came due: schedule the next exit from the window, the first event
        of the history (of the types the tiers' windows read) not yet out of it.

        Window exits follow the events' order (``window_exit`` is monotone), so the events still
        in the window leave one after another. The history keeps every event until surely out of
        the longest window (``_prune``)."""
        count, unit = window
        surely_out = self._most[window]
        types = self.plan.window_events
        for entry in state.history.entries:
            if entry[2] not in types or entry[0] + surely_out <= instant:
                continue
            due = self.cal.window_exit(entry[0], count, unit)
            if due > instant:
                self._wake(state, ("exit", count, unit), due)
                return

    def _candidate(self, state: CustomerState, rule: RulePlan, ctx: Context, event: Event,
                   record: Applied, trace: list[Decision] | None) -> int:
        """How many firings this event earns the rule (0: none), counters updated."""
        if rule.where is not None and not rule.where(ctx):
            if trace is not None:
                where = rule.node.trigger.where  # type: ignore[union-attr]
                trace.append(Decision(ctx.time, event.id, rule.name, "no_match",
                                      why_not(where, ctx, self.plan.program),
                                      reasons.condition_false(where, ctx, self.plan.program)))
            return 0
        if not self._guards(rule, ctx, event.id, trace):
            return 0
        return 1 if rule.trigger == "event" else self._counted(state, rule, ctx, event, record, trace)

    def _counted(self, state: CustomerState, rule: RulePlan, ctx: Context, event: Event, record: Applied,
                 trace: list[Decision] | None) -> int:
        """A ``first``, counting or spend rule whose condition and modifiers hold: its firings."""
        kind = rule.trigger
        if kind == "first":
            if rule.index in state.firsts:
                if trace is not None:
                    trace.append(Decision(ctx.time, event.id, rule.name, "used_up", "not the first",
                                          f"only the customer's first matching {event.type} counts, and "
                                          "there was one before"))
                return 0
            state.firsts.add(rule.index)
            return 1
        if kind == "count":
            step = Decimal(1)
        elif kind == "field_sum":
            step = _number(event.fields.get(rule.field))  # type: ignore[arg-type]
        else:  # spend
            step = _number(event.fields.get("amount"))
        counter = state.counters.setdefault(rule.index, [Decimal(0), 0])
        counter[0] += step
        record.counted.append([rule.index, step])
        multiple = int((counter[0] / rule.step).to_integral_value(rounding=ROUND_FLOOR))
        if multiple > counter[1]:
            firings = multiple - counter[1]
            counter[1] = multiple
            return firings
        if trace is not None:
            target = rule.step * (counter[1] + 1)
            text = reasons.counter_short(rule.node, counter[0], target, self.plan.program.currency)
            if counter[1] and counter[0] >= rule.step * counter[1] > counter[0] - step:
                text += (f" ({reasons.computed(rule.step * counter[1])} was reached before a refund: "
                         "each multiple fires once)")
            trace.append(Decision(ctx.time, event.id, rule.name, "not_yet", f"{counter[0]} of {target}", text))
        return 0

    def _guards(self, rule: RulePlan, ctx: Context, event: str | None, trace: list[Decision] | None) -> bool:
        for text, guard in rule.guards:
            if not guard(ctx):
                if trace is not None:
                    # the compiler makes a guard of each of these modifiers, in the rule's order
                    nodes = [m for m in rule.node.modifiers if isinstance(m, reasons.GUARD_TYPES)]
                    n = [g for _, g in rule.guards].index(guard)
                    why = (reasons.guard_false(nodes[n], ctx, self.plan.program, self.zone)
                           if len(nodes) == len(rule.guards) else text)
                    trace.append(Decision(ctx.time, event, rule.name, "outside", text, why))
                return False
        return True

    def _period(self, period: str | None, time: dt.datetime) -> str:
        return "total" if period is None else self.cal.period_key(time, period)

    def _allowed(self, state: CustomerState, rule: RulePlan, time: dt.datetime, wanted: int,
                 event: str | None, trace: list[Decision] | None) -> int:
        allowed = wanted
        counts = state.limit_counts.get(rule.index, {})
        for limit, period in rule.limits:
            used = counts.get(self._period(period, time), 0)
            allowed = min(allowed, max(limit - used, 0))
        if allowed < wanted and trace is not None:
            reached = []
            for (limit, period), written in zip(rule.limits, reasons.limit_texts(rule.node)):
                used = counts.get(self._period(period, time), 0)
                if used + allowed >= limit:
                    reached.append(reasons.limit_reached(written, min(used + allowed, limit), limit, period))
            text = "; ".join(reached)
            if allowed:
                text = f"{wanted - allowed} of {wanted} firings over the limit: {text}"
            trace.append(Decision(time, event, rule.name, "skipped", "limit reached", text))
        return allowed

    def _record_firing(self, state: CustomerState, rule: RulePlan, time: dt.datetime, times: int) -> None:
        if not rule.limits:
            return
        counts = state.limit_counts.setdefault(rule.index, {})
        for _, period in rule.limits:
            key = self._period(period, time)
            counts[key] = counts.get(key, 0) + times
        keep = {self._period(p, time) for _, p in rule.limits}
        for key in [k for k in counts if k not in keep]:
            del counts[key]

    def _cap(self, state: CustomerState, rule: RulePlan, time: dt.datetime, points: int) -> int:
        if not rule.caps or points <= 0:
            return points
        caps = state.cap_points.setdefault(rule.index, {})
        for cap, period in rule.caps:
            points = min(points, max(cap - caps.get(self._period(period, time), 0), 0))
        keep = {self._period(p, time) for _, p in rule.caps}
        for key in [k for k in caps if k not in keep]:
            del caps[key]
        for _, period in rule.caps:
            key = self._period(period, time)
            caps[key] = caps.get(key, 0) + points
        return points

    def _rate_points(self, rate: Decimal, per: Decimal, amount: Decimal) -> int:
        raw = rate * amount / per
        return int(raw.to_integral_value(rounding=self._rounding))

    def _apply_effect(self, state: CustomerState, rule: RulePlan, time: dt.datetime, event: str | None,
                      fields: Any, out: list[Effect], *, pending: bool, record: Applied | None) -> int | None:
        """Apply a rule's effect; the points it awarded (after a cap), None for other effects."""
        effect = rule.effect
        if effect.kind == "points":
            points = self._cap(state, rule, time, int(effect.points))
            self._award(state, out, time, event, rule, points, pending=pending, record=record)
            return points
        if effect.kind == "rate":
            amount = fields.get(effect.field)
            points = self._rate_points(effect.points, effect.per, amount) if isinstance(amount, Decimal) else 0
            points = self._cap(state, rule, time, points)
            on_amount = effect.field == "amount"
            self._award(state, out, time, event, rule, points, pending=pending, record=record,
                        rate=effect.points if on_amount else None, per=effect.per if on_amount else None)
            return points
        if effect.kind == "free_item":
            self._emit(state, out, time, event, rule.name, "free_item",
                       (("item", effect.item), ("quantity", effect.quantity)))
        elif effect.kind == "voucher":
            self._emit(state, out, time, event, rule.name, "voucher",
                       (("voucher", effect.name), ("quantity", effect.quantity)))
        elif effect.kind == "message":
            self._emit(state, out, time, event, rule.name, "message", (("message", effect.name),))
        return None

    def _fired(self, state: CustomerState, rule: RulePlan, time: dt.datetime, event: str | None, fields: Any,
               points: int | None, pending: bool) -> Decision:
        """The ``fired`` decision of a firing just applied, with its arithmetic (only under a trace).

        The uncapped award is computed again with the kernel's own ``_rate_points``; what a cap
        left is read back from the state the firing updated.
        """
        effect = rule.effect
        event_type = next(iter(rule.events)) if len(rule.events) == 1 else None
        if points is None:
            return Decision(time, event, rule.name, "fired", "", reasons.effect_text(rule.node, event_type))
        if effect.kind == "rate":
            amount = fields.get(effect.field)
            amount = amount if isinstance(amount, Decimal) else None
            wanted = 0 if amount is None else self._rate_points(effect.points, effect.per, amount)
            head = reasons.rate_arithmetic(rule.node, amount, self.plan.rounding, wanted)
        else:
            wanted = int(effect.points)
            head = "" if points == wanted else reasons.points(wanted)
        if points != wanted:
            caps = state.cap_points.get(rule.index, {})
            cut = []
            for (_, period), written in zip(rule.caps, reasons.cap_texts(rule.node)):
                before = caps.get(self._period(period, time), 0) - points
                cut.append(f"{written} ({before} already {reasons.PERIOD_WORDS[period]})")
            head += f", cut to {points} by " + " and ".join(cut)
        if points == 0:
            tail = "0 points, no ledger line"
        elif pending and self.plan.pending is not None:
            count, unit = self.plan.pending
            release = self.cal.add(time, count, unit)
            tail = f"{reasons.points(points)} pending until {reasons.local(release, self.zone)}"
        else:
            tail = f"{'+' if points > 0 else ''}{reasons.points(points)}"
        text = f"{head}: {tail}" if head else tail
        return Decision(time, event, rule.name, "fired", "", text, points)

    # ------------------------------------------------------------------ built-in events
    def _builtin_problem(self, state: CustomerState, event: Event) -> tuple[str, str] | None:
        """Why a built-in event cannot be applied, or None; changes nothing."""
        fields = event.fields
        if event.type == "redeem":
            name = fields["reward"]
            reward = self.plan.program.rewards.get(name)
            if reward is None:
                return ("unknown_reward", f'there is no reward "{name}" in the catalogue')
            cost = int(reward.cost.value)
            if state.balance < cost:
                return ("not_enough_points", f'"{name}" costs {cost} points and the balance is {state.balance}')
        elif event.type == "refund":
            target_id = fields["refunds"]
            target = state.applied.get(target_id)
            if target is None or target.type in _BUILTIN_TYPES:
                return ("unknown_event", f"event {target_id} is not an applied event of this customer that can "
                        "be refunded (unknown, built in, or older than the refund window)")
            count, unit = self.plan.refund_window
            if self.cal.add(target.time, count, unit) < event.time:
                return ("refund_window", f"event {target_id} is older than the refund window")
            asked = fields.get("amount")
            if target.amount is None:
                if target.refunded:
                    return ("refund_too_much", f"event {target_id} is already refunded")
                if asked is not None:
                    return ("refund_too_much", f"event {target_id} has no amount to refund")
            else:
                remaining = target.amount - target.refunded
                amount = remaining if asked is None else asked
                if amount > remaining or remaining <= 0:
                    return ("refund_too_much",
                            f"the refund asks for {amount} and {remaining} remains of event {target_id}")
        return None

    def _builtin(self, state: CustomerState, event: Event, out: list[Effect]) -> None:
        """The built-in event's own effect (``_builtin_problem`` has said it can be applied)."""
        fields = event.fields
        if event.type == "profile":
            for key, value in fields.items():
                if value is None:
                    state.profile.pop(key, None)
                else:
                    state.profile[key] = value
            if "birthdate" in fields:
                birthdate = fields["birthdate"]
                if birthdate is None:
                    state.birthday_due = None
                else:
                    state.birthday_due = self.cal.next_birthday(event.time, birthdate)
                    state.push(state.birthday_due, BIRTHDAY, "birthday")
            return
        if event.type == "adjust":
            points = int(fields["points"])
            if points > 0:
                self._credit(state, points, event.time, event.id)
            elif points < 0:
                self._debit(state, -points)
            if points:
                self._emit(state, out, event.time, event.id, None, "points",
                           (("points", points), ("balance", state.balance), ("reason", fields.get("reason"))))
            return
        if event.type == "redeem":
            name = fields["reward"]
            cost = int(self.plan.program.rewards[name].cost.value)
            self._debit(state, cost)
            self._emit(state, out, event.time, event.id, None, "redeem",
                       (("reward", name), ("points", -cost), ("balance", state.balance)))
            return
        self._refund(state, event, out)

    def _refund(self, state: CustomerState, event: Event, out: list[Effect]) -> None:
        fields = event.fields
        target_id = fields["refunds"]
        target = state.applied[target_id]
        asked = fields.get("amount")
        if target.amount is None:
            remaining_after, amount, full = Decimal(0), Decimal(0), True
            target.refunded = Decimal(1)
        else:
            amount = target.amount - target.refunded if asked is None else asked
            target.refunded += amount
            remaining_after = target.amount - target.refunded
            full = remaining_after == 0
        for award in target.awards:
            if award.standing <= 0:
                continue
            if award.rate is not None and award.per is not None and target.amount is not None:
                keep = min(award.standing, self._rate_points(award.rate, award.per, remaining_after))
                cut = award.standing - keep
            else:
                cut = award.standing if full else 0
            if cut <= 0:
                continue
            award.standing -= cut
            if award.pending:
                self._emit(state, out, event.time, event.id, award.rule, "pending",
                           (("pending", -cut), ("reverses", target_id)))
            else:
                self._debit(state, cut, award.lot)
                self._emit(state, out, event.time, event.id, award.rule, "points",
                           (("points", -cut), ("balance", state.balance), ("reverses", target_id)))
        entry = state.history.find(target_id)
        if entry is not None and entry[3] is not None and target.type in self.plan.spend_events:
            entry[3] -= amount
            state.history.changed()
            state.history.spend_total -= amount
        elif target.type in self.plan.spend_events and target.amount is not None:
            state.history.spend_total -= amount
        for counted in target.counted:
            index, value = counted
            rule = self.plan.rules[index]
            if rule.trigger == "spend":
                state.counters[index][0] -= amount
            elif full and value:
                state.counters[index][0] -= value
                counted[1] = Decimal(0)
        if full:
            if entry is not None and entry[4]:
                entry[4] = False
            state.history.counts[target.type] = state.history.counts.get(target.type, 1) - 1

    # ------------------------------------------------------------------ tiers and conversions
    def _tiers(self, state: CustomerState, time: dt.datetime, event: str | None, out: list[Effect],
               trace: list[Decision] | None, ctx: Context | None = None) -> None:
        """Step 4. ``ctx``: the event's context, done with, taken over (its time and local date
        are this one's; a tier's condition reads no event field; what the event changed — the
        balance, the history's sums — is read afresh)."""
        if not self.plan.tiers:
            return
        state.tiers_seen = True
        if ctx is None:
            ctx = Context(time, {}, state.profile, state.tier, state.balance, state.history, self.cal)
        else:
            ctx.fields, ctx.tier, ctx.balance, ctx.starts = {}, state.tier, state.balance, {}
        new: str | None = None
        for tier in self.plan.tiers:
            holds = tier.condition(ctx)
            if tier.kept_for is not None:
                if holds:
                    state.tier_held[tier.name] = True
                    state.tier_kept.pop(tier.name, None)
                elif state.tier_held.get(tier.name):
                    state.tier_held[tier.name] = False
                    count, unit = tier.kept_for
                    until = self.cal.add(time, count, unit)
                    state.tier_kept[tier.name] = until
                    state.push(until, TIER, "tier")
                kept = state.tier_kept.get(tier.name)
                if kept is not None and kept <= time:
                    del state.tier_kept[tier.name]
                    kept = None
                holds = holds or kept is not None
            if holds:
                new = tier.name
        if trace is not None and event is None:  # a scheduled re-evaluation: a window or `kept for` ended
            text = (f"re-evaluated: still {new or 'no tier'}" if new == state.tier
                    else f"re-evaluated: {state.tier or 'no tier'} → {new or 'no tier'}")
            trace.append(Decision(time, None, "", "tier", "", text))
        if new == state.tier:
            return
        old, state.tier = state.tier, new
        self._emit(state, out, time, event, None, "tier", (("from", old), ("to", new)))
        rules = [r for r in self.plan.tier_change_rules if r.tier_to is None or r.tier_to == new]
        self._fire_scheduled_rules(state, time, rules, out, trace, event)

    def _conversions(self, state: CustomerState, time: dt.datetime, event: str | None, out: list[Effect],
                     trace: list[Decision] | None) -> None:
        for rule, cost in self._convert_costs:
            while state.balance >= cost:
                ctx = Context(time, {}, state.profile, state.tier, state.balance, state.history, self.cal)
                if not self._guards(rule, ctx, event, trace) or not self._allowed(state, rule, time, 1, event, trace):
                    break
                self._record_firing(state, rule, time, 1)
                self._debit(state, cost)
                self._emit(state, out, time, event, rule.name, "points", (("points", -cost), ("balance", state.balance)))
                self._apply_effect(state, rule, time, event, {}, out, pending=False, record=None)
                if trace is not None:
                    text = f"{reasons.points(cost)} converted to {reasons.effect_text(rule.node, None)}"
                    trace.append(Decision(time, event, rule.name, "fired", "", text, -cost))

    # ------------------------------------------------------------------ forgetting
    def _forgotten(self, time: dt.datetime, clock: dt.datetime) -> bool:
        """Is an event at ``time`` older than the refund window, seen from ``clock``?"""
        count, unit = self.plan.refund_window
        return time < self.cal.subtract(clock, count, unit)

    def _prune(self, state: CustomerState) -> None:
        """Forget what no rule can need any more: events past the refund window, old history.

        Forgetting is only an economy — no outcome depends on when it happens: a repeated id is
        judged by ``_forgotten`` and a refund by the refund window, both exactly. So what is
        forgotten is what is older than a plain-timedelta span no calendar duration of the
        windows is longer than (``zonecalendar.at_most``), without calendar arithmetic: an event is kept up
        to a few days past its window (it was one or two zone-aware subtractions on 40 % of the
        events, most of them finding nothing to forget).
        """
        clock = state.clock
        if clock is None:
            return
        applied, entries = state.applied, state.history.entries
        if applied:
            horizon = clock - self._applied_kept
            # applied events are kept in the order they were applied (time order): look at the
            # oldest only, so that forgetting costs nothing while nothing is old enough
            while applied:
                key = next(iter(applied))
                record = applied[key]
                if record.time >= horizon or any(a.pending for a in record.awards):
                    break
                del applied[key]
        if entries and entries[0][0] < clock - self._history_kept:
            state.history.prune(clock - self._history_kept)
        if state.reminders_sent:
            today = self.cal.local_date(clock).isoformat()
            if any(d < today for _, d in state.reminders_sent):
                state.reminders_sent = {(n, d) for n, d in state.reminders_sent if d >= today}


_ZERO = Decimal(0)
_TWO_DAYS = dt.timedelta(days=2)
_EXPIRY_CHAIN = ("expire",)


def _chain_of(kind: str, payload: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The chain a scheduled item belongs to, if any (``Kernel._wakes``)."""
    if kind == "expire" and not payload:
        return _EXPIRY_CHAIN
    if kind == "inactive":
        return ("inactive", payload[0])
    if kind == "tier" and payload:
        return tuple(payload)
    return None


def _amount(event: Event) -> Decimal | None:
    value = event.fields.get("amount")
    return value if isinstance(value, Decimal) else None


def _number(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(0)
