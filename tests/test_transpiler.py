"""The generated back end (rewardlang.transpiler): rule text never becomes code, and every
generated function answers as the closures (and the interpreter) do."""

from __future__ import annotations

import ast as pyast
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import rewardlang
from rewardlang import ast, printer
from rewardlang.compiler import ConditionCompiler, Context, compile_program
from rewardlang.engine import Engine
from rewardlang.interpreter import evaluate
from rewardlang.state import History
from rewardlang.transpiler import SourceConditions

ROOT = Path(__file__).resolve().parent.parent
RULESETS = sorted((ROOT / "rulesets").glob("*.reward"))

# the only names and attributes generated source may use: its own, never the ruleset's
_NAME = re.compile(r"^(_k\d+|_v\d+|_MISSING|_Decimal|ctx|state|event|record|counted|allowed|found|firing|ok|n|predicate|decide|fire|TypeError|kernel|time|eid|fields|amount|points|pending|out|isinstance|range|_|awards|release|_Effect|_Award)$")
_ATTRIBUTES = {"awards", "release", "seq", "customer", "append", "add", "_record_firing", "_award", "_cap", "_rate_points", "_emit", "id", "fields", "profile", "tier", "balance", "history", "spend_total", "spend_in", "count_total",
               "count_since", "window_start", "local_date", "weekday", "cal", "in_time_window", "time", "get"}


def _functions(plan):  # type: ignore[no-untyped-def]
    found = list(plan.decide.values()) + list(plan.fire.values()) + [t.condition for t in plan.tiers]
    found += [r.where for r in plan.rules if r.where is not None]
    return [f for f in found if hasattr(f, "source")]


def _assert_only_our_words(source: str) -> None:
    for node in pyast.walk(pyast.parse(source)):
        if isinstance(node, pyast.Constant):
            assert node.value in (None, True, False) or type(node.value) is int, f"a literal in generated source: {node.value!r}"
        elif isinstance(node, pyast.Name):
            assert _NAME.match(node.id), f"a name the transpiler does not make: {node.id}"
        elif isinstance(node, pyast.Attribute):
            assert node.attr in _ATTRIBUTES, f"an attribute the transpiler does not use: {node.attr}"
        elif isinstance(node, pyast.FunctionDef):
            assert node.name in ("predicate", "decide", "fire")
        assert not isinstance(node, (pyast.Import, pyast.ImportFrom, pyast.Lambda, pyast.JoinedStr))


def test_every_shipped_ruleset_compiles_to_source_made_only_of_our_own_words() -> None:
    assert RULESETS
    for path in RULESETS:
        plan = compile_program(rewardlang.load(path))
        functions = _functions(plan)
        assert functions, path
        for fn in functions:
            _assert_only_our_words(fn.source)


HOSTILE = '"); __import__("os").system("echo owned") #'


def test_a_hostile_text_is_a_value_not_code() -> None:
    program = rewardlang.loads(
        'program "P"\ncurrency SEK\ntimezone "UTC"\n'
        "event purchase with amount money, category text\n"
        f'rule "R": purchase where category is "{HOSTILE.replace(chr(34), chr(92) + chr(34))}" earns 5 points\n')
    plan = compile_program(program)
    source = plan.decide["purchase"].source
    assert "import" not in source and "system" not in source
    _assert_only_our_words(source)
    engine = Engine(program)
    base = {"type": "purchase", "customer": "c", "time": "2026-01-05T10:00:00Z", "amount": "10"}
    assert [e.kind for e in engine.run([dict(base, id="1", category=HOSTILE)]).effects] == ["points"]
    assert engine.run([dict(base, id="2", time="2026-01-06T10:00:00Z", category="books")]).effects == ()


def test_a_function_is_named_after_the_rules_and_the_file_it_comes_from() -> None:
    plan = compile_program(rewardlang.load(ROOT / "rulesets" / "bookshop.reward"))
    filename = plan.decide["review"].__code__.co_filename
    assert "Review bonus" in filename and "bookshop.reward:" in filename


# ---------------------------------------------------------------------------- equivalence

HEAD = ('program "P"\ncurrency SEK\ntimezone "Europe/Stockholm"\n'
        "customer has city text optional, birthdate date optional, level number optional\n"
        "event purchase with amount money, category text, items number\n"
        "tier silver = spend in last 12 months >= 100 SEK\n")
PROGRAM = rewardlang.loads(HEAD + 'rule "R": purchase earns 1 point\n')

_FIELDS = ["amount", "category", "items", "day"]
_CUSTOMER = ["city", "birthdate", "level", "age"]
_VALUES = st.one_of(
    st.builds(ast.Number, st.integers(-3, 3).map(Decimal)),
    st.builds(ast.Money, st.integers(-3, 3).map(Decimal), st.just(ast.Name("SEK")), st.just(False)),
    st.builds(ast.Text, st.sampled_from(["a", "b", "Stockholm", "é"])),
    st.builds(ast.DateLit, st.just(2026), st.integers(1, 2), st.integers(1, 3)),
    st.builds(ast.Word, st.sampled_from(["silver", "gold"])),
    st.builds(ast.Bool, st.booleans()),
)
_DURATIONS = st.builds(ast.Duration, st.integers(1, 3).map(Decimal), st.sampled_from(["day", "month"]), st.just(False))
_OPERANDS = st.one_of(
    st.builds(ast.FieldRef, st.sampled_from(_FIELDS).map(ast.Name)),
    st.builds(ast.CustomerFieldRef, st.sampled_from(_CUSTOMER).map(ast.Name)),
    st.builds(ast.TierRef),
    st.builds(ast.BalanceRef),
    st.builds(ast.SpendAggregate, st.none() | _DURATIONS),
    st.builds(ast.CountAggregate, st.just(ast.Name("purchase")), st.none() | _DURATIONS),
)
_COMPARISONS = st.one_of(
    st.builds(ast.Compare, _OPERANDS, st.sampled_from(ast.COMPARE_OPS), _VALUES),
    st.builds(ast.InList, _OPERANDS, st.lists(_VALUES, max_size=3).map(tuple), st.booleans()),
    st.builds(ast.Between, _OPERANDS, _VALUES, _VALUES),
)
_CONDITIONS = st.recursive(
    _COMPARISONS,
    lambda inner: st.one_of(
        st.builds(ast.Not, inner), st.builds(ast.Group, inner),
        st.builds(ast.And, st.lists(inner, min_size=2, max_size=3).map(tuple)),
        st.builds(ast.Or, st.lists(inner, min_size=2, max_size=3).map(tuple)),
    ),
    max_leaves=5,
)
# operands with literals of their own kind: what the checker accepts
_NUM = st.builds(ast.Number, st.integers(-3, 3).map(Decimal))
_MONEY = st.builds(ast.Money, st.integers(-3, 300).map(Decimal), st.just(ast.Name("SEK")), st.just(False))
_TEXT = st.builds(ast.Text, st.sampled_from(["a", "b", "Stockholm"]))
_KINDS = [
    (st.just(ast.FieldRef(ast.Name("amount"))), _MONEY), (st.just(ast.FieldRef(ast.Name("items"))), _NUM),
    (st.just(ast.FieldRef(ast.Name("category"))), _TEXT), (st.just(ast.CustomerFieldRef(ast.Name("city"))), _TEXT),
    (st.just(ast.CustomerFieldRef(ast.Name("level"))), _NUM), (st.just(ast.CustomerFieldRef(ast.Name("age"))), _NUM),
    (st.just(ast.CustomerFieldRef(ast.Name("birthdate"))),
     st.builds(ast.DateLit, st.sampled_from([1995, 2000, 2005]), st.integers(1, 12), st.integers(1, 28))),
    (st.just(ast.TierRef()), st.builds(ast.Word, st.sampled_from(["silver"]))), (st.just(ast.BalanceRef()), _NUM),
    (st.builds(ast.SpendAggregate, st.none() | _DURATIONS), _MONEY),
    (st.builds(ast.CountAggregate, st.just(ast.Name("purchase")), st.none() | _DURATIONS), _NUM),
]
_TYPED_COMPARISONS = st.one_of(*[
    st.one_of(st.builds(ast.Compare, left, st.sampled_from(ast.COMPARE_OPS), value),
              st.builds(ast.InList, left, st.lists(value, min_size=1, max_size=3).map(tuple), st.booleans()),
              st.builds(ast.Between, left, value, value))
    for left, value in _KINDS])
_TYPED_CONDITIONS = st.recursive(
    _TYPED_COMPARISONS,
    lambda inner: st.one_of(
        st.builds(ast.Not, st.builds(ast.Group, inner)),
        st.builds(ast.And, st.lists(st.builds(ast.Group, inner), min_size=2, max_size=3).map(tuple)),
        st.builds(ast.Or, st.lists(st.builds(ast.Group, inner), min_size=2, max_size=3).map(tuple)),
    ),
    max_leaves=5,
)
# any kind in any field: validated events never mix kinds, but the fall-back must be exact too
_ANY = st.one_of(st.none(), st.integers(-3, 3).map(Decimal), st.sampled_from(["a", "b", "Stockholm", "é"]),
                 st.dates(dt.date(2026, 1, 1), dt.date(2026, 2, 3)), st.booleans())
_WELL_TYPED = {"amount": st.integers(-3, 3).map(Decimal), "category": st.sampled_from(["a", "b"]),
               "items": st.integers(0, 3).map(Decimal), "city": st.sampled_from(["a", "Stockholm"]) | st.none(),
               "birthdate": st.dates(dt.date(1990, 1, 1), dt.date(2010, 1, 1)) | st.none(),
               "level": st.integers(-3, 3).map(Decimal) | st.none()}


@st.composite
def _contexts(draw: st.DrawFn, well_typed: bool) -> Context:
    def value(name: str):  # type: ignore[no-untyped-def]
        return draw(_WELL_TYPED[name] if well_typed and name in _WELL_TYPED else _ANY)

    fields = {name: value(name) for name in _FIELDS if draw(st.booleans())}
    profile = {name: value(name) for name in _CUSTOMER if name != "age" and draw(st.booleans())}
    time = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc) + dt.timedelta(hours=draw(st.integers(0, 2000)))
    history = History()
    for i, hours in enumerate(sorted(draw(st.lists(st.integers(1, 3000), max_size=5)))):
        amount = Decimal(draw(st.integers(0, 200)))
        history.entries.append([time - dt.timedelta(hours=3001 - hours), f"e{i}", "purchase", amount, True])
        history.spend_total += amount
        history.counts["purchase"] = history.counts.get("purchase", 0) + 1
    tier = draw(st.sampled_from([None, "silver", "gold"]))
    cal = ConditionCompiler(PROGRAM).calendar
    return Context(time, fields, profile, tier, draw(st.integers(-5, 5)), history, cal)


def _outcome(predicate, ctx):  # type: ignore[no-untyped-def]
    try:
        return predicate(ctx)
    except Exception as exc:  # noqa: BLE001 — both back ends must fail alike, too
        return type(exc)


@given(_CONDITIONS, _contexts(well_typed=False))
def test_generated_conditions_answer_as_the_closures_on_any_values(node: ast.Condition, ctx: Context) -> None:
    generated = SourceConditions(PROGRAM).condition(node)
    closure = ConditionCompiler(PROGRAM, ctx.cal).condition(node)
    assert _outcome(generated, ctx) == _outcome(closure, ctx)


@given(_TYPED_CONDITIONS, _contexts(well_typed=True))
def test_generated_conditions_answer_as_the_interpreter_on_well_typed_values(node: ast.Condition,
                                                                             ctx: Context) -> None:
    """On conditions the checker accepts (the drawn one printed into a rule and read back)."""
    checked = rewardlang.check_text(HEAD + f'rule "R": purchase where {printer.condition(node)} earns 1 point\n')
    if checked.program is None:
        return
    program = checked.program
    where = program.rules[0].trigger.where
    generated = SourceConditions(program).condition(where)
    answer = _outcome(generated, ctx)
    assert answer == _outcome(ConditionCompiler(program, ctx.cal).condition(where), ctx)
    assert answer == evaluate(where, ctx, program)


TIERS = ('program "T"\ncurrency SEK\ntimezone "Europe/Stockholm"\n'
         "customer has city text optional\n"
         "event purchase with amount money\nevent review with stars number\n"
         "tier starter = spend in total >= 0 SEK\n"
         "tier fan = count of review in last 1 month >= 2\n"
         "tier silver = spend in last 2 months >= 100 SEK, kept for 1 month\n"
         'rule "Fan mail": tier change to fan gives message "fan"\n'
         'rule "Base": purchase earns 1 point per 10 SEK\n')


def test_tiers_are_not_evaluated_again_after_events_that_cannot_change_them() -> None:
    """A tier of aggregates alone changes only with the events it counts, a refund, a window
    exit or a `kept for` end (all scheduled): the compiled plan skips the others once a
    customer's tiers have been evaluated, and answers as the interpreter, which never skips."""
    program = rewardlang.loads(TIERS)
    plan = compile_program(program)
    assert plan.tier_events == frozenset({"refund", "purchase", "review"})
    assert compile_program(program, interpreted=True).tier_events is None
    with_balance = rewardlang.loads(TIERS.replace("tier fan = count of review in last 1 month >= 2",
                                                  "tier fan = balance >= 5"))
    assert compile_program(with_balance).tier_events is None

    def at(day: int, hour: int = 10) -> str:
        return (dt.datetime(2026, 1, 1, hour, tzinfo=dt.timezone.utc) + dt.timedelta(days=day)).isoformat()

    events = [
        {"type": "profile", "id": "p0", "customer": "c", "time": at(0), "city": "Lund"},  # first: evaluated
        {"type": "review", "id": "r1", "customer": "c", "time": at(3), "stars": 5},
        {"type": "profile", "id": "p1", "customer": "c", "time": at(4), "city": "Malmö"},
        {"type": "review", "id": "r2", "customer": "c", "time": at(5), "stars": 4},
        {"type": "purchase", "id": "b1", "customer": "c", "time": at(6), "amount": "150"},
        {"type": "adjust", "id": "a1", "customer": "c", "time": at(7), "points": 3, "reason": "x"},
        {"type": "profile", "id": "p2", "customer": "c", "time": at(50), "city": "Lund"},
        {"type": "refund", "id": "f1", "customer": "c", "time": at(60), "refunds": "b1"},
        {"type": "profile", "id": "p3", "customer": "c", "time": at(200), "city": "Umeå"},
    ]
    compiled, interpreted = Engine(program), Engine(program, interpreted=True)
    lines = [e.to_dict() for e in compiled.run(events).effects + compiled.advance(at(400))]
    assert lines == [e.to_dict() for e in interpreted.run(events).effects + interpreted.advance(at(400))]
    tiers = [line["to"] for line in lines if line["kind"] == "tier"]
    assert tiers[0] == "starter" and "fan" in tiers and "silver" in tiers
    one_by_one, reference = Engine(program), Engine(program, interpreted=True)
    reference.run(events)
    for event in events:  # a state read back has its tiers evaluated again at its next event
        if "c" in one_by_one.states:
            one_by_one.load_state(one_by_one.state_of("c"))
        one_by_one.apply(event)
    assert one_by_one.customer("c") == reference.customer("c")
