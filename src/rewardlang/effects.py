"""Effects: the lines of the ledger (LANGUAGE.md §5), as values.

An ``Effect`` knows its place in the canonical order (customer, time, scheduled before event
effects, event id, then the order in which it happened) and how it is printed: the keys
``time, customer, event, rule, kind`` first, then the keys of its kind in the order §5 gives,
written as ``json.dumps(line, ensure_ascii=False)`` writes them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs

from rewardlang.localtime import format_instant

# json.dumps(line, ensure_ascii=False) builds an encoder on every call (its arguments are not the
# defaults); one stateless encoder writes the same text
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
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
        return _ENCODE(self.to_dict())


def canonical(effects: list[Effect]) -> list[Effect]:
    """The ledger order of §5."""
    return sorted(effects, key=Effect.sort_key)
