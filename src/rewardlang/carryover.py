"""Customers' states carried over to a changed ruleset (``rewardlang run --allow-ruleset-change``).

A customer's state keeps what it knows about each rule by the rule's position in the file
(counters and their multiples, ``first``, limits, caps, inactivity messages sent and scheduled,
what each applied event added to which counter) and its expiry reminders by the position of the
``notify`` line. A state computed with one ruleset and read with another whose rules moved would
credit one rule's counter to another — or name a rule that is no longer what it was. So when the
ruleset changes, every stored state is carried over once, before the run: positions are mapped by
the rule's name (by the ``notify`` line's text), what belonged to a removed rule is dropped, and
scheduled inactivity items of a rule that is no longer an ``inactive for`` rule are dropped.
A rule kept by name but changed keeps its counters and limits (the marketer changed the rule, not
the customer's history).

It works on the plain form of ``CustomerState.to_dict()`` (the form stored in a state file).
"""

from __future__ import annotations

from typing import Any

import attrs

from rewardlang import ast
from rewardlang.program import Program
from rewardlang.rulediff import Description


@attrs.frozen
class Carryover:
    """How positions move from an old ruleset to a new one."""

    rules: dict[int, int]  # old rule position -> new position, for rules kept by name
    notifications: dict[int, int]
    inactive: frozenset[int]  # new positions of the `inactive for` rules

    @classmethod
    def between(cls, old: Description, new: Description, program: Program) -> Carryover:
        new_rules = {name: i for i, (name, _) in enumerate(new.rules)}
        new_notes = {text: i for i, text in enumerate(new.notifications)}
        return cls(
            {i: new_rules[name] for i, (name, _) in enumerate(old.rules) if name in new_rules},
            {i: new_notes[text] for i, text in enumerate(old.notifications) if text in new_notes},
            frozenset(i for i, rule in enumerate(program.rules) if isinstance(rule.trigger, ast.InactiveTrigger)),
        )

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        """A state's plain form, its positions moved to the new ruleset's."""
        rules, notes = self.rules, self.notifications
        out = dict(data)

        def keyed(mapping: dict[str, Any]) -> dict[str, Any]:
            return {str(rules[int(k)]): v for k, v in mapping.items() if int(k) in rules}

        out["counters"] = keyed(data["counters"])
        out["limit_counts"] = keyed(data["limit_counts"])
        out["cap_points"] = keyed(data["cap_points"])
        out["firsts"] = sorted(rules[i] for i in data["firsts"] if i in rules)
        out["inactive_done"] = sorted(rules[i] for i in data["inactive_done"] if i in rules)
        out["reminders_sent"] = sorted([notes[n], day] for n, day in data["reminders_sent"] if n in notes)
        applied = {}
        for event_id, record in data["applied"].items():
            record = list(record)
            record[6] = [[rules[i], value] for i, value in record[6] if i in rules]
            applied[event_id] = record
        out["applied"] = applied
        schedule = []
        for due, order, tie, kind, payload in data["schedule"]:
            if kind == "inactive":
                if payload[0] not in rules or rules[payload[0]] not in self.inactive:
                    continue
                payload = [rules[payload[0]]]
            elif kind == "remind":
                if payload[0] not in notes:
                    continue
                payload = [notes[payload[0]]]
            schedule.append([due, order, tie, kind, payload])
        out["schedule"] = schedule
        return out
