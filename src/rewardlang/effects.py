"""Effects: the lines of the ledger (LANGUAGE.md §5), as values.

An ``Effect`` knows its place in the canonical order (customer, time, scheduled before event
effects, event id, then the order in which it happened) and how it is printed: the keys
``time, customer, event, rule, kind`` first, then the keys of its kind in the order §5 gives,
written as ``json.dumps(line, ensure_ascii=False)`` writes them.

``to_json`` writes that text itself rather than building the dict and encoding it: a run writes
every effect once (60,000 lines for 20,000 events), and the dict, the encoder's walk over it and
the aware ``isoformat`` of its time were a tenth of ``rewardlang run``. It writes the same bytes
as ``json.dumps(self.to_dict(), ensure_ascii=False)`` (tests/test_effects.py holds them equal);
a value of a type it does not know, or a line whose keys a dict would merge, goes to the encoder.
"""

from __future__ import annotations

import datetime as dt
import json
from json.encoder import encode_basestring
from typing import Any

import attrs

from rewardlang.isotext import instant_text
from rewardlang.localtime import format_instant

# json.dumps(line, ensure_ascii=False) builds an encoder on every call (its arguments are not the
# defaults); one stateless encoder writes the same text
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
# the keys every line starts with: a value under one of them would replace it in the dict
_FIRST_KEYS = frozenset(("time", "customer", "event", "rule", "kind"))
KINDS = ("points", "pending", "free_item", "voucher", "message", "tier", "expire", "redeem")


@attrs.frozen(slots=True)
class Effect:
    time: dt.datetime
    customer: str
    event: str | None
    rule: str | None
    kind: str
    values: tuple[tuple[str, Any], ...]
    seq: int = attrs.field(default=0, eq=False)  # the order in which it happened, per customer

    def sort_key(self) -> tuple[str, dt.datetime, int, str, int]:
        return (self.customer, self.time, 0 if self.event is None else 1, self.event or "", self.seq)

    def get(self, key: str) -> Any:
        for name, value in self.values:
            if name == key:
                return value
        return None

    @property
    def points(self) -> int:
        """The signed change of the balance this line makes (0 for kinds that make none)."""
        if self.kind in ("points", "expire", "redeem"):
            return int(self.get("points"))
        return 0

    def to_dict(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "time": format_instant(self.time),
            "customer": self.customer,
            "event": self.event,
            "rule": self.rule,
            "kind": self.kind,
        }
        for key, value in self.values:
            line[key] = format_instant(value) if isinstance(value, dt.datetime) else value
        return line

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, written directly (see the module)."""
        values = self.values
        event, rule = self.event, self.rule
        text = ('{"time": "' + instant_text(self.time) + '", "customer": ' + encode_basestring(self.customer)
                + ', "event": ' + ("null" if event is None else encode_basestring(event))
                + ', "rule": ' + ("null" if rule is None else encode_basestring(rule))
                + ', "kind": ' + encode_basestring(self.kind))
        for key, value in values:
            kind = type(value)
            if kind is int:
                item = int.__repr__(value)
            elif kind is str:
                item = encode_basestring(value)
            elif value is None:
                item = "null"
            elif kind is dt.datetime:
                item = '"' + instant_text(value) + '"'
            else:
                return _ENCODE(self.to_dict())
            if key in _FIRST_KEYS or type(key) is not str:
                return _ENCODE(self.to_dict())
            text += ", " + encode_basestring(key) + ": " + item
        if len(values) > 1 and len({key for key, _ in values}) != len(values):
            return _ENCODE(self.to_dict())  # a key twice: the dict keeps its first place, the last value
        return text + "}"


def canonical(effects: list[Effect]) -> list[Effect]:
    """The ledger order of §5."""
    return sorted(effects, key=Effect.sort_key)
