"""The syntax tree of a ruleset: frozen, slotted attrs classes, one per form of LANGUAGE.md §2.

The tree mirrors what the marketer wrote, word for word (``point`` or ``points``, ``every 5
purchases`` or ``5 purchases``, ``earns`` or ``gives``, parentheses), so that the formatter can
print it back without changing a single word: ``fmt`` only ever changes white space. Meaning
(which event ``purchases`` refers to, which words are tiers) is resolved by the checker, not here.

Every node carries its source ``span``; spans take no part in equality, so two trees parsed from
differently laid-out text compare equal when they say the same thing.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Union

import attrs

from rewardlang.spans import NO_SPAN, Span  # noqa: F401 (ast.Span, ast.NO_SPAN)




def _span() -> attrs.Attribute:  # type: ignore[type-arg]
    return attrs.field(default=NO_SPAN, eq=False, repr=False, kw_only=True)


def _spelling() -> attrs.Attribute:  # type: ignore[type-arg]
    """How a number or time was spelled (``05``, ``7:00``): printed back as is, not compared."""
    return attrs.field(default=None, eq=False, repr=False, kw_only=True)


# ---------------------------------------------------------------------------- literals


@attrs.frozen
class Name:
    """An identifier as written: an event, field, segment, tier, currency code or bare word."""

    text: str
    span: Span = _span()


@attrs.frozen
class Text:
    """A double-quoted string; ``value`` is the text between the quotes, escapes resolved."""

    value: str
    span: Span = _span()


@attrs.frozen
class Number:
    value: Decimal
    text: str | None = _spelling()
    span: Span = _span()


@attrs.frozen
class Money:
    """``NUMBER CODE``. ``decimal_comma`` records ``49,90 SEK`` so the checker can say so."""

    amount: Decimal
    currency: Name
    decimal_comma: bool = False
    text: str | None = _spelling()
    span: Span = _span()


@attrs.frozen
class DateLit:
    """``YYYY-MM-DD``, kept as written so that an impossible date reaches the checker."""

    year: int
    month: int
    day: int
    span: Span = _span()

    @property
    def date(self) -> _dt.date | None:
        try:
            return _dt.date(self.year, self.month, self.day)
        except ValueError:
            return None


@attrs.frozen
class TimeOfDay:
    """``HH:MM``, kept as written so that ``25:00`` reaches the checker."""

    hour: int
    minute: int
    text: str | None = _spelling()
    span: Span = _span()

    @property
    def time(self) -> _dt.time | None:
        try:
            return _dt.time(self.hour, self.minute)
        except ValueError:
            return None


@attrs.frozen
class Word:
    """A bare word in a value position: a tier name (``tier is gold``) or a mistake."""

    name: str
    span: Span = _span()


@attrs.frozen
class Bool:
    value: bool
    span: Span = _span()


UNITS = ("day", "week", "month", "year")


@attrs.frozen
class Duration:
    """``N day(s)|week(s)|month(s)|year(s)``; ``plural`` is the word as written."""

    count: Decimal
    unit: str
    plural: bool
    text: str | None = _spelling()
    span: Span = _span()


Value = Union[Number, Money, Text, DateLit, Word, Bool]

# ---------------------------------------------------------------------------- settings


@attrs.frozen
class ProgramName:
    name: Text
    span: Span = _span()


@attrs.frozen
class CurrencySetting:
    code: Name
    span: Span = _span()


@attrs.frozen
class TimezoneSetting:
    zone: Text
    span: Span = _span()


@attrs.frozen
class ExpirySetting:
    """``points expire after D`` or, with ``without_activity``, ``... without activity``."""

    after: Duration
    without_activity: bool
    span: Span = _span()


@attrs.frozen
class PendingSetting:
    duration: Duration
    span: Span = _span()


@attrs.frozen
class RefundWindowSetting:
    duration: Duration
    span: Span = _span()


@attrs.frozen
class PointValueSetting:
    value: Money
    span: Span = _span()


ROUNDING_MODES = ("down", "nearest", "up")


@attrs.frozen
class RoundingSetting:
    mode: str
    span: Span = _span()


Setting = Union[
    ProgramName,
    CurrencySetting,
    TimezoneSetting,
    ExpirySetting,
    PendingSetting,
    RefundWindowSetting,
    PointValueSetting,
    RoundingSetting,
]

# ---------------------------------------------------------------------------- declarations

FIELD_TYPES = ("money", "number", "text", "date", "bool", "list of text")


@attrs.frozen
class FieldDecl:
    name: Name
    type: str
    optional: bool
    span: Span = _span()


@attrs.frozen
class CustomerDecl:
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@attrs.frozen
class EventDecl:
    name: Name
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@attrs.frozen
class SegmentDecl:
    name: Name
    condition: Condition
    span: Span = _span()


@attrs.frozen
class TierDecl:
    name: Name
    condition: Condition
    kept_for: Duration | None
    span: Span = _span()


@attrs.frozen
class RewardDecl:
    name: Text
    cost: Number
    plural: bool
    span: Span = _span()


@attrs.frozen
class VoucherDecl:
    name: Text
    worth: Money
    span: Span = _span()


@attrs.frozen
class FreeItemDecl:
    name: Text
    worth: Money
    span: Span = _span()


Declaration = Union[
    CustomerDecl, EventDecl, SegmentDecl, TierDecl, RewardDecl, VoucherDecl, FreeItemDecl
]

# ---------------------------------------------------------------------------- conditions


@attrs.frozen
class FieldRef:
    """A field of the event that triggered the rule."""

    name: Name
    span: Span = _span()


@attrs.frozen
class CustomerFieldRef:
    """``customer.FIELD``; ``customer.age`` is derived from a ``birthdate`` date field."""

    name: Name
    span: Span = _span()


@attrs.frozen
class TierRef:
    span: Span = _span()


@attrs.frozen
class BalanceRef:
    span: Span = _span()


@attrs.frozen
class SpendAggregate:
    """``spend in last D`` (``window`` set) or ``spend in total``."""

    window: Duration | None
    span: Span = _span()


@attrs.frozen
class CountAggregate:
    """``count of EVENTS in last D`` or ``count of EVENTS in total``; ``event`` as written."""

    event: Name
    window: Duration | None
    span: Span = _span()


Operand = Union[FieldRef, CustomerFieldRef, TierRef, BalanceRef, SpendAggregate, CountAggregate]

COMPARE_OPS = ("=", "!=", "<", "<=", ">", ">=", "is", "is not")


@attrs.frozen
class Compare:
    left: Operand
    op: str
    right: Value
    span: Span = _span()


@attrs.frozen
class InList:
    left: Operand
    values: tuple[Value, ...]
    negated: bool
    span: Span = _span()


@attrs.frozen
class Contains:
    left: Operand
    value: Text
    span: Span = _span()


@attrs.frozen
class Between:
    left: Operand
    low: Value
    high: Value
    span: Span = _span()


@attrs.frozen
class And:
    items: tuple[Condition, ...]
    span: Span = _span()


@attrs.frozen
class Or:
    items: tuple[Condition, ...]
    span: Span = _span()


@attrs.frozen
class Not:
    item: Condition
    span: Span = _span()


@attrs.frozen
class Group:
    """Parentheses as written: kept so that ``fmt`` keeps them."""

    item: Condition
    span: Span = _span()


Comparison = Union[Compare, InList, Contains, Between]
Condition = Union[Comparison, And, Or, Not, Group]

# ---------------------------------------------------------------------------- triggers


@attrs.frozen
class EventTrigger:
    """``EVENT [where COND]``; ``event`` is the word as written (singular or plural)."""

    event: Name
    where: Condition | None
    span: Span = _span()


@attrs.frozen
class FirstTrigger:
    event: Name
    where: Condition | None
    span: Span = _span()


@attrs.frozen
class CountTrigger:
    """``[every] N EVENTS [where COND]``; ``every`` records whether the word was written."""

    count: Number
    event: Name
    where: Condition | None
    every: bool
    span: Span = _span()


@attrs.frozen
class FieldSumTrigger:
    """``every N FIELD of EVENTS [where COND]``: stamps by quantity."""

    step: Number
    field: Name
    event: Name
    where: Condition | None
    span: Span = _span()


@attrs.frozen
class SpendTrigger:
    """``every MONEY spent``."""

    step: Money
    span: Span = _span()


@attrs.frozen
class BirthdayTrigger:
    span: Span = _span()


@attrs.frozen
class TierChangeTrigger:
    to: Name | None
    span: Span = _span()


@attrs.frozen
class InactiveTrigger:
    duration: Duration
    span: Span = _span()


@attrs.frozen
class ConvertTrigger:
    """``N points converts to``: the trigger of a conversion rule."""

    points: Number
    plural: bool
    span: Span = _span()


Trigger = Union[
    EventTrigger,
    FirstTrigger,
    CountTrigger,
    FieldSumTrigger,
    SpendTrigger,
    BirthdayTrigger,
    TierChangeTrigger,
    InactiveTrigger,
    ConvertTrigger,
]

# ---------------------------------------------------------------------------- effects


@attrs.frozen
class PointsEffect:
    points: Number
    plural: bool
    span: Span = _span()


@attrs.frozen
class RateEffect:
    """``N point(s) per MONEY [of FIELD]``: N × amount ÷ MONEY, rounded."""

    points: Number
    plural: bool
    per: Money
    field: Name | None
    span: Span = _span()


@attrs.frozen
class FreeItemEffect:
    """``[N] free ["ITEM" | ITEM]``; no item means one of the event (``5 coffees gives 1 free``)."""

    quantity: Number | None
    item: str | None
    quoted: bool
    span: Span = _span()


@attrs.frozen
class VoucherEffect:
    quantity: Number | None
    voucher: Text
    plural: bool
    span: Span = _span()


@attrs.frozen
class MessageEffect:
    template: Text
    span: Span = _span()


Effect = Union[PointsEffect, RateEffect, FreeItemEffect, VoucherEffect, MessageEffect]

# ---------------------------------------------------------------------------- modifiers

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PERIODS = ("day", "week", "month", "year")


@attrs.frozen
class ForModifier:
    """``for X [or Y]...``; ``negated`` is ``for not X or Y`` = not (X or Y)."""

    negated: bool
    names: tuple[Name, ...]
    span: Span = _span()


@attrs.frozen
class DateWindow:
    start: DateLit
    end: DateLit
    span: Span = _span()


@attrs.frozen
class WeekdayModifier:
    days: tuple[str, ...]
    span: Span = _span()


@attrs.frozen
class TimeWindow:
    start: TimeOfDay
    end: TimeOfDay
    span: Span = _span()


@attrs.frozen
class LimitModifier:
    """``at most N per PERIOD``, or ``at most N in total`` when ``period`` is None."""

    count: Number
    period: str | None
    span: Span = _span()


@attrs.frozen
class OnceModifier:
    span: Span = _span()


@attrs.frozen
class CapModifier:
    """``at most N points per PERIOD``: the award is cut to what is left."""

    points: Number
    plural: bool
    period: str
    span: Span = _span()


@attrs.frozen
class InsteadOf:
    rules: tuple[Text, ...]
    span: Span = _span()


Modifier = Union[
    ForModifier,
    DateWindow,
    WeekdayModifier,
    TimeWindow,
    LimitModifier,
    OnceModifier,
    CapModifier,
    InsteadOf,
]

# ---------------------------------------------------------------------------- statements

VERBS = ("earns", "gives", "converts to")


@attrs.frozen
class Rule:
    """``rule "NAME": TRIGGER VERB EFFECT [, MODIFIER]...``; ``name`` None for a bare sentence.

    A bare sentence's name is its own canonical text (see ``rewardlang.printer.rule_name``).
    """

    name: Text | None
    trigger: Trigger
    verb: str
    effect: Effect
    modifiers: tuple[Modifier, ...]
    span: Span = _span()


@attrs.frozen
class Notify:
    """``notify "TEMPLATE" DURATION before points expire``."""

    template: Text
    before: Duration
    span: Span = _span()


Statement = Union[Setting, Declaration, Rule, Notify]


@attrs.frozen
class Ruleset:
    """A whole file: its statements in order. Comments live beside it (``parser.ParsedFile``)."""

    statements: tuple[Statement, ...]
    filename: str = attrs.field(default="<string>", eq=False)


def node_classes() -> tuple[type, ...]:
    """Every node class of the tree, for tests that must show they cover all of them."""
    return tuple(
        obj
        for obj in globals().values()
        if isinstance(obj, type) and attrs.has(obj) and obj is not Span
    )
