"""The checked programme: what the checker hands to the compiler and to embedding code.

A ``Program`` is a ruleset whose names are resolved and whose settings have their defaults: the
compiler never has to look at a raw ``Ruleset`` again, nor re-derive what ``purchases`` means.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

import attrs

from rewardlang import ast

FieldType = Literal["money", "number", "text", "date", "bool", "list of text"]


@attrs.frozen
class Field:
    name: str
    type: str
    optional: bool


# The built-in event types of LANGUAGE.md §3 and the fields a rule may read from them. A
# ``profile`` event carries the customer fields (all optional there: it sets what it carries).
BUILTIN_EVENTS: Mapping[str, tuple[Field, ...]] = {
    "profile": (),
    "refund": (Field("refunds", "text", False), Field("amount", "money", True)),
    "redeem": (Field("reward", "text", False),),
    "adjust": (Field("points", "number", False), Field("reason", "text", True)),
}

# Keys of every input line; they are not fields and cannot be declared as fields.
INPUT_KEYS = ("id", "type", "customer", "time", "currency")

DEFAULT_REFUND_WINDOW = ast.Duration(Decimal(1), "year", False)


def event_forms(name: str) -> tuple[str, ...]:
    """The words that name an event: itself and its plurals (``s``, ``es``, ``y`` → ``ies``)."""
    forms = [name, name + "s", name + "es"]
    if name.endswith("y") and len(name) > 1:
        forms.append(name[:-1] + "ies")
    return tuple(forms)


@attrs.frozen
class Program:
    """A checked ruleset, ready to compile. Built only by ``rewardlang.checker``."""

    ruleset: ast.Ruleset
    name: str | None
    currency: str | None
    timezone: str
    expiry: ast.ExpirySetting | None
    pending: ast.Duration | None
    refund_window: ast.Duration
    point_value: ast.Money | None
    rounding: str
    customer_fields: Mapping[str, Field]
    events: Mapping[str, tuple[Field, ...]]
    event_words: Mapping[str, str]
    segments: Mapping[str, ast.SegmentDecl]
    tiers: tuple[ast.TierDecl, ...]
    rewards: Mapping[str, ast.RewardDecl]
    vouchers: Mapping[str, ast.VoucherDecl]
    free_items: Mapping[str, ast.FreeItemDecl]
    rules: tuple[ast.Rule, ...]
    rule_names: tuple[str, ...]
    notifications: tuple[ast.Notify, ...]

    @property
    def filename(self) -> str:
        return self.ruleset.filename

    def event_of(self, word: str) -> str:
        """The declared (or built-in) event that a word as written in a rule refers to."""
        return self.event_words[word]

    def rule(self, name: str) -> ast.Rule:
        return self.rules[self.rule_names.index(name)]
