"""Embedding rewardlang in a shop: load a programme, apply events as they happen, read balances.

Run it from the repository root: ``python examples/embed.py``. It prints the ledger lines each
event makes, the customer's balance, and shows that the state can be saved and restored.
"""

from __future__ import annotations

import json
from pathlib import Path

import rewardlang
from rewardlang.engine import Engine

HERE = Path(__file__).resolve().parent


def main() -> None:
    program = rewardlang.load(HERE.parent / "rulesets" / "bookshop.reward")
    engine = Engine(program)

    # a checkout calls apply() once per event; the result says what happened and why
    checkout = [
        {"id": "p1", "type": "profile", "customer": "c42", "time": "2026-03-01T09:00:00+01:00",
         "city": "Stockholm", "birthdate": "1999-05-17"},
        {"id": "e17", "type": "purchase", "customer": "c42", "time": "2026-03-01T10:15:00+01:00",
         "amount": "249.00", "currency": "SEK", "category": "books", "items": 2},
        {"id": "e17", "type": "purchase", "customer": "c42", "time": "2026-03-01T10:15:00+01:00",
         "amount": "249.00", "currency": "SEK", "category": "books", "items": 2},  # sent twice
        {"id": "e18", "type": "purchase", "customer": "c42", "time": "2026-03-02T11:00:00+01:00",
         "amount": "49,90", "currency": "SEK", "category": "books", "items": 1},  # a decimal comma
    ]
    for event in checkout:
        outcome = engine.apply(event)
        print(f"{event['id']}: {outcome.status}" + (f" ({outcome.reason})" if outcome.reason else ""))
        for effect in outcome.effects:
            print("  " + effect.to_json())

    # pending points are released 14 days later: advance the clock to see them
    for effect in engine.advance("2026-03-20T00:00:00Z"):
        print("  " + effect.to_json())
    view = engine.customer("c42")
    print(f"c42: balance {view.balance}, pending {view.pending}, tier {view.tier}")

    # the state is a plain value: save it, and go on in another engine (or another process)
    saved = json.dumps(engine.state_of("c42"))
    later = Engine(program)
    later.load_state(json.loads(saved))
    assert later.customer("c42").balance == view.balance
    print(f"state restored ({len(saved)} bytes of JSON)")


if __name__ == "__main__":
    main()
