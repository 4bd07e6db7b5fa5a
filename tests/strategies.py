"""Hypothesis strategies that draw syntax trees (not text) of every node class.

The trees have the shapes the parser produces — an ``And`` holds no ``And`` or ``Or`` directly (a
``Group`` stands between), a conversion rule has the verb ``converts to`` — so that printing a
tree and parsing the text back must give the same tree. They are not necessarily *valid*
programmes (names need not be declared): the round trip is about syntax, the checker is tested
elsewhere. ``test_roundtrip.test_strategy_draws_every_node_class`` proves each class is reachable.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from rewardlang import ast
from rewardlang.parser import build_lark, keywords_of

KEYWORDS = keywords_of(build_lark())

# ---------------------------------------------------------------------------- atoms

names_text = st.from_regex(r"[a-z_][a-z0-9_]{0,9}", fullmatch=True).filter(lambda s: s not in KEYWORDS)
names = st.builds(ast.Name, names_text)
currency_codes = st.builds(ast.Name, st.sampled_from(["SEK", "EUR", "GBP", "USD", "NOK", "Kr", "kr", "sek"]))

# any character a quoted text may hold: not a newline, a quote and a backslash are escaped
text_values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=20
)
texts = st.builds(ast.Text, text_values)


@st.composite
def decimals(draw: st.DrawFn, *, signed: bool = True, places: int = 2) -> Decimal:
    units = draw(st.integers(min_value=-10_000 if signed else 0, max_value=1_000_000))
    scale = draw(st.integers(min_value=0, max_value=places))
    return Decimal(units).scaleb(-scale)


numbers = st.builds(ast.Number, decimals())
whole_numbers = st.builds(ast.Number, st.integers(0, 10_000).map(Decimal))


@st.composite
def moneys(draw: st.DrawFn) -> ast.Money:
    amount = draw(decimals())
    comma = draw(st.booleans()) if amount != amount.to_integral_value() else False
    return ast.Money(amount, draw(currency_codes), comma)


durations = st.builds(ast.Duration, decimals(signed=False, places=0), st.sampled_from(ast.UNITS), st.booleans())
dates = st.builds(ast.DateLit, st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99))
times = st.builds(ast.TimeOfDay, st.integers(0, 99), st.integers(0, 99))
words = st.builds(ast.Word, names_text)
bools = st.builds(ast.Bool, st.booleans())
values = st.one_of(numbers, moneys(), texts, dates, words, bools)

# ---------------------------------------------------------------------------- conditions

operands = st.one_of(
    st.builds(ast.FieldRef, names),
    st.builds(ast.CustomerFieldRef, names),
    st.builds(ast.TierRef),
    st.builds(ast.BalanceRef),
    st.builds(ast.SpendAggregate, st.none() | durations),
    st.builds(ast.CountAggregate, names, st.none() | durations),
)

comparisons = st.one_of(
    st.builds(ast.Compare, operands, st.sampled_from(ast.COMPARE_OPS), values),
    st.builds(ast.InList, operands, st.lists(values, max_size=3).map(tuple), st.booleans()),
    st.builds(ast.Contains, operands, texts),
    st.builds(ast.Between, operands, values, values),
)


def _conditions() -> st.SearchStrategy[ast.Condition]:
    # the lowest precedence level first: a comparison, `not X`, or `(any condition)`
    not_level = st.recursive(
        comparisons,
        lambda inner: st.one_of(st.builds(ast.Not, inner), st.builds(ast.Group, _or_level(inner))),
        max_leaves=4,
    )
    return _or_level(not_level)


def _and_level(not_level: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(not_level, st.builds(ast.And, st.lists(not_level, min_size=2, max_size=3).map(tuple)))


def _or_level(not_level: st.SearchStrategy) -> st.SearchStrategy:
    and_level = _and_level(not_level)
    return st.one_of(and_level, st.builds(ast.Or, st.lists(and_level, min_size=2, max_size=3).map(tuple)))


conditions = _conditions()
wheres = st.none() | conditions

# ---------------------------------------------------------------------------- rules

event_triggers = st.one_of(
    st.builds(ast.EventTrigger, names, wheres),
    st.builds(ast.FirstTrigger, names, wheres),
    st.builds(ast.CountTrigger, numbers, names, wheres, st.booleans()),
    st.builds(ast.FieldSumTrigger, numbers, names, names, wheres),
    st.builds(ast.SpendTrigger, moneys()),
    st.builds(ast.BirthdayTrigger),
    st.builds(ast.TierChangeTrigger, st.none() | names),
    st.builds(ast.InactiveTrigger, durations),
)

effects = st.one_of(
    st.builds(ast.PointsEffect, numbers, st.booleans()),
    st.builds(ast.RateEffect, numbers, st.booleans(), moneys(), st.none() | names),
    st.one_of(
        st.builds(ast.FreeItemEffect, st.none() | numbers, st.none(), st.just(False)),
        st.builds(ast.FreeItemEffect, st.none() | numbers, text_values, st.just(True)),
        st.builds(ast.FreeItemEffect, st.none() | numbers, names_text, st.just(False)),
    ),
    st.builds(ast.VoucherEffect, st.none() | numbers, texts, st.booleans()),
    st.builds(ast.MessageEffect, texts),
)

modifiers = st.one_of(
    st.builds(ast.ForModifier, st.booleans(), st.lists(names, min_size=1, max_size=3).map(tuple)),
    st.builds(ast.DateWindow, dates, dates),
    st.builds(ast.WeekdayModifier, st.lists(st.sampled_from(ast.WEEKDAYS), min_size=1, max_size=3).map(tuple)),
    st.builds(ast.TimeWindow, times, times),
    st.builds(ast.LimitModifier, numbers, st.none() | st.sampled_from(ast.PERIODS)),
    st.builds(ast.OnceModifier),
    st.builds(ast.CapModifier, numbers, st.booleans(), st.sampled_from(ast.PERIODS)),
    st.builds(ast.InsteadOf, st.lists(texts, min_size=1, max_size=3).map(tuple)),
)


@st.composite
def rules(draw: st.DrawFn) -> ast.Rule:
    name = draw(st.none() | texts)
    if draw(st.integers(0, 9)) == 0:
        trigger: ast.Trigger = ast.ConvertTrigger(draw(numbers), draw(st.booleans()))
        verb = "converts to"
    else:
        trigger = draw(event_triggers)
        verb = draw(st.sampled_from(["earns", "gives"]))
    effect = draw(effects)
    mods = tuple(draw(st.lists(modifiers, max_size=4)))
    return ast.Rule(name, trigger, verb, effect, mods)


# ---------------------------------------------------------------------------- statements

field_decls = st.builds(ast.FieldDecl, names, st.sampled_from(ast.FIELD_TYPES), st.booleans())

statements = st.one_of(
    st.builds(ast.ProgramName, texts),
    st.builds(ast.CurrencySetting, currency_codes),
    st.builds(ast.TimezoneSetting, texts),
    st.builds(ast.ExpirySetting, durations, st.booleans()),
    st.builds(ast.PendingSetting, durations),
    st.builds(ast.RefundWindowSetting, durations),
    st.builds(ast.PointValueSetting, moneys()),
    st.builds(ast.RoundingSetting, st.sampled_from(ast.ROUNDING_MODES)),
    st.builds(ast.CustomerDecl, st.lists(field_decls, min_size=1, max_size=3).map(tuple)),
    st.builds(ast.EventDecl, names, st.lists(field_decls, max_size=3).map(tuple)),
    st.builds(ast.SegmentDecl, names, conditions),
    st.builds(ast.TierDecl, names, conditions, st.none() | durations),
    st.builds(ast.RewardDecl, texts, numbers, st.booleans()),
    st.builds(ast.VoucherDecl, texts, moneys()),
    st.builds(ast.FreeItemDecl, texts, moneys()),
    rules(),
    rules(),
    rules(),
    st.builds(ast.Notify, texts, durations),
)

rulesets = st.builds(ast.Ruleset, st.lists(statements, max_size=8).map(tuple))


def node_classes_in(node: object, found: set[type] | None = None) -> set[type]:
    """Every node class that occurs in a tree."""
    import attrs

    found = set() if found is None else found
    if isinstance(node, (tuple, list)):
        for item in node:
            node_classes_in(item, found)
        return found
    if attrs.has(type(node)) and not isinstance(node, ast.Span):
        found.add(type(node))
        for field in attrs.fields(type(node)):
            node_classes_in(getattr(node, field.name), found)
    return found
