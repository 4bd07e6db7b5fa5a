"""A ledger line's bytes: ``Effect.to_json`` writes the text itself, and it must be exactly what
``json.dumps(effect.to_dict(), ensure_ascii=False)`` writes (LANGUAGE.md §5) for any effect —
also for values and keys the kernel does not make today (those go to the encoder). And the fast
instant text of ``rewardlang.isotext`` against ``localtime``, its definition."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rewardlang.effects import Effect
from rewardlang.isotext import instant_text, text_instant
from rewardlang.localtime import UTC, format_instant, parse_instant

ZONES = [UTC, dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=-9, minutes=-30))]
instants = st.builds(lambda naive, zone: naive.replace(tzinfo=zone),
                     st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
                     st.sampled_from(ZONES))
texts = st.text(max_size=12)  # any code points: quotes, backslashes, controls, lone surrogates
keys = st.one_of(st.sampled_from(["points", "balance", "reverses", "message", "expires", "from", "to", "time",
                                  "kind", "customer"]), texts)
values = st.one_of(st.integers(), texts, st.none(), instants, st.booleans(),
                   st.lists(st.integers(), max_size=2))


def reference(effect: Effect) -> str:
    return json.dumps(effect.to_dict(), ensure_ascii=False)


@settings(max_examples=400)
@given(instants, texts, st.one_of(st.none(), texts), st.one_of(st.none(), texts), texts,
       st.lists(st.tuples(keys, values), max_size=4))
def test_to_json_is_json_dumps_of_the_line(time, customer, event, rule, kind, items):
    effect = Effect(time, customer, event, rule, kind, tuple(items), 3)
    assert effect.to_json() == reference(effect)


def test_to_json_of_the_kernels_kinds():
    t = dt.datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    for values in [(("points", 10), ("balance", 10)), (("pending", -5), ("reverses", "e1")),
                   (("message", "points-expiring"), ("expiring", 40), ("expires", t + dt.timedelta(days=30))),
                   (("from", None), ("to", "gold")), (("points", 1), ("points", 2)), (("time", "x"),),
                   (("amount", Decimal("1.5")),)]:
        effect = Effect(t, "c1", "e\u00e91", "R\u00e9gle \"1\"", "points", values)
        if any(isinstance(v, Decimal) for _, v in values):
            continue  # not JSON: both refuse it
        assert effect.to_json() == reference(effect)


@settings(max_examples=500)
@given(instants)
def test_instant_text_is_format_instant(instant):
    assert instant_text(instant) == format_instant(instant)


@settings(max_examples=500)
@given(instants)
def test_text_instant_reads_what_format_instant_wrote(instant):
    text = format_instant(instant)
    assert text_instant(text) == parse_instant(text)
    if parse_instant(text) is not None:
        assert text_instant(text).tzinfo is UTC


def test_text_instant_is_parse_instant_on_other_text():
    for text in ["2026-03-01T09:15:00+01:00", "2026-03-01T09:15:00z", "2026-03-01", "2026-03-01Z",
                 "2026-13-01T09:15:00Z", "x" * 70 + "Z", "2026-03-01T09:15:00.5Z", "", "Z",
                 "2026-03-01T09:15:00+00:00Z"]:
        assert text_instant(text) == parse_instant(text), text
