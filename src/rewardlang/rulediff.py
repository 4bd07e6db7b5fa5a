"""What changed between two rulesets, by meaning: rules added, removed or changed (by name),
settings and declarations changed — never layout or comments.

A state file remembers the ``Description`` of the ruleset its customers were computed with, so
that ``rewardlang run`` can refuse a changed ruleset and, with ``--allow-ruleset-change``, say
what changed; ``rewardlang diff`` compares two files with ``compare_programs``, which goes one
step further: a statement whose text changed only in words that mean the same (``gives`` for
``earns``, ``point`` for ``points``, ``every 5 purchases`` for ``5 purchases``, ``once`` for
``at most 1 in total``, ``=`` for ``is``, the order of modifiers or of the names of a ``for``)
is *reworded*, not changed: a reviewer sees it, and it is no change of the programme.

A description is each statement's canonical one-line text (``rewardlang.printer.statement``),
keyed by what it declares. Its ``fingerprint`` is a hash of that, so reformatting a file or
editing its comments does not change it, while any change that can change a ledger does
(the order of rules and of tiers included: rules apply in file order, the last tier that holds
wins). The order of other declarations does not matter and is not part of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from rewardlang import ast
from rewardlang.printer import rule_body, rule_name, statement

if TYPE_CHECKING:
    from rewardlang.program import Program

_SETTING_KEYS: Mapping[type, str] = {
    ast.ProgramName: "program",
    ast.CurrencySetting: "currency",
    ast.TimezoneSetting: "timezone",
    ast.ExpirySetting: "points expire",
    ast.PendingSetting: "points pending",
    ast.RefundWindowSetting: "refunds accepted",
    ast.PointValueSetting: "point value",
    ast.RoundingSetting: "rounding",
}


@attrs.frozen
class Description:
    """A ruleset as what it says: settings, declarations (by key), tiers and rules in order."""

    settings: tuple[tuple[str, str], ...]
    declarations: tuple[tuple[str, str], ...]
    tiers: tuple[str, ...]
    rules: tuple[tuple[str, str], ...]
    notifications: tuple[str, ...] = ()  # the `notify` lines in order (a state keeps them by position)

    def to_dict(self) -> dict[str, Any]:
        return {"settings": [list(p) for p in self.settings], "declarations": [list(p) for p in self.declarations],
                "tiers": list(self.tiers), "rules": [list(p) for p in self.rules],
                "notifications": list(self.notifications)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Description:
        return cls(tuple((k, v) for k, v in data["settings"]), tuple((k, v) for k, v in data["declarations"]),
                   tuple(data["tiers"]), tuple((k, v) for k, v in data["rules"]),
                   tuple(data.get("notifications", ())))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()


def describe(ruleset: ast.Ruleset) -> Description:
    """The description of a parsed ruleset (a ``Program``'s is ``describe(program.ruleset)``)."""
    settings: list[tuple[str, str]] = []
    declarations: list[tuple[str, str]] = []
    tiers: list[str] = []
    rules: list[tuple[str, str]] = []
    notifications: list[str] = []
    for node in ruleset.statements:
        key = _SETTING_KEYS.get(type(node))
        if key is not None:
            settings.append((key, statement(node)))
        elif isinstance(node, ast.Rule):
            rules.append((rule_name(node), rule_body(node)))
        elif isinstance(node, ast.CustomerDecl):
            for field in node.fields:
                optional = " optional" if field.optional else ""
                declarations.append((f"customer field {field.name.text}", f"{field.type}{optional}"))
        else:
            declarations.append((_declaration_key(node), statement(node)))
            if isinstance(node, ast.TierDecl):
                tiers.append(node.name.text)
            elif isinstance(node, ast.Notify):
                notifications.append(statement(node))
    return Description(tuple(sorted(settings)), tuple(sorted(declarations)), tuple(tiers), tuple(rules),
                       tuple(notifications))


def _declaration_key(node: ast.Statement) -> str:
    if isinstance(node, ast.EventDecl):
        return f"event {node.name.text}"
    if isinstance(node, ast.SegmentDecl):
        return f"segment {node.name.text}"
    if isinstance(node, ast.TierDecl):
        return f"tier {node.name.text}"
    if isinstance(node, ast.RewardDecl):
        return f"reward {json.dumps(node.name.value, ensure_ascii=False)}"
    if isinstance(node, ast.VoucherDecl):
        return f"voucher {json.dumps(node.name.value, ensure_ascii=False)}"
    if isinstance(node, ast.FreeItemDecl):
        return f"free {json.dumps(node.name.value, ensure_ascii=False)}"
    if isinstance(node, ast.Notify):
        return statement(node)  # several notify lines may share a template: the whole text is the key
    return statement(node)


@attrs.frozen
class Change:
    """One difference: ``what`` is rule, setting, declaration or order; ``change`` is added,
    removed, changed or reordered (or reworded, from ``compare_programs``); ``old``/``new`` are
    canonical texts (None where absent)."""

    what: str
    name: str
    change: str
    old: str | None = None
    new: str | None = None

    def __str__(self) -> str:
        label = f'rule "{self.name}"' if self.what == "rule" else f"{self.what} {self.name}"
        if self.change == "added":
            return f"{label} added: {self.new}"
        if self.change == "removed":
            return f"{label} removed (was: {self.old})"
        if self.change == "reordered":
            return f"{label} reordered: was {self.old}, now {self.new}"
        if self.change == "reworded":
            return f"{label} reworded (same meaning): was {self.old}, now {self.new}"
        return f"{label} changed: was {self.old}, now {self.new}"

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class RulesetDiff:
    """The changes, and whether a rule kept from the old ruleset now stands at another position
    (rules were removed, inserted before it, or reordered): per-rule state — counters, limits,
    ``first`` — is kept by a rule's position, so a run that allows such a change warns.

    ``reworded`` (only from ``compare_programs``) are statements whose text changed and whose
    meaning did not; they are not among ``changes`` and do not make the diff true."""

    changes: tuple[Change, ...]
    moves_rules: bool = False
    reworded: tuple[Change, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changes)

    def of(self, what: str, change: str | None = None) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.what == what and (change is None or c.change == change))

    def lines(self) -> list[str]:
        return [str(c) for c in self.changes]


def compare(old: Description, new: Description) -> RulesetDiff:
    """The changes from ``old`` to ``new``: settings, declarations, rules (by name), order."""
    changes: list[Change] = []
    changes += _keyed("setting", dict(old.settings), dict(new.settings))
    changes += _keyed("declaration", dict(old.declarations), dict(new.declarations))
    old_rules, new_rules = dict(old.rules), dict(new.rules)
    old_names, new_names = [n for n, _ in old.rules], [n for n, _ in new.rules]
    for name in new_names:
        if name not in old_rules:
            changes.append(Change("rule", name, "added", None, new_rules[name]))
    for name in old_names:
        if name not in new_rules:
            changes.append(Change("rule", name, "removed", old_rules[name], None))
        elif old_rules[name] != new_rules[name]:
            changes.append(Change("rule", name, "changed", old_rules[name], new_rules[name]))
    kept_old = [n for n in old_names if n in new_rules]
    kept_new = [n for n in new_names if n in old_rules]
    if kept_old != kept_new:
        changes.append(Change("order", "of rules", "reordered", ", ".join(kept_old), ", ".join(kept_new)))
    kept_old_tiers = [t for t in old.tiers if t in new.tiers]
    kept_new_tiers = [t for t in new.tiers if t in old.tiers]
    if kept_old_tiers != kept_new_tiers:
        changes.append(Change("order", "of tiers", "reordered", ", ".join(kept_old_tiers),
                              ", ".join(kept_new_tiers)))
    kept_positions = [(old_names.index(n), new_names.index(n)) for n in kept_new]
    return RulesetDiff(tuple(changes), any(a != b for a, b in kept_positions))


def _keyed(what: str, old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    out: list[Change] = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out.append(Change(what, key, "added", None, new[key]))
        elif key not in new:
            out.append(Change(what, key, "removed", old[key], None))
        elif old[key] != new[key]:
            out.append(Change(what, key, "changed", old[key], new[key]))
    return out


# ---------------------------------------------------------------------------- by meaning
#
# ``compare`` works on descriptions (texts, as a state file keeps them). ``compare_programs`` has
# the two checked programmes, so it can tell a rewording from a change: it holds the syntax trees
# of a changed statement equal after ``meaning`` has made the words that mean the same one word.


def compare_programs(old: Program, new: Program) -> RulesetDiff:
    """What changed in meaning from ``old`` to ``new``: ``compare`` of their descriptions, with
    the statements whose text changed but whose meaning did not moved to ``reworded``."""
    diff = compare(describe(old.ruleset), describe(new.ruleset))
    old_nodes, new_nodes = _nodes(old.ruleset), _nodes(new.ruleset)
    changes: list[Change] = []
    reworded: list[Change] = []
    for change in diff.changes:
        key = (change.what, change.name)
        if (change.change == "changed" and key in old_nodes and key in new_nodes
                and meaning(old_nodes[key], old) == meaning(new_nodes[key], new)):
            reworded.append(attrs.evolve(change, change="reworded"))
        else:
            changes.append(change)
    return RulesetDiff(tuple(changes), diff.moves_rules, tuple(reworded))


def _nodes(ruleset: ast.Ruleset) -> dict[tuple[str, str], Any]:
    """Each statement (or customer field) under the key ``describe`` gives its text."""
    out: dict[tuple[str, str], Any] = {}
    for node in ruleset.statements:
        key = _SETTING_KEYS.get(type(node))
        if key is not None:
            out[("setting", key)] = node
        elif isinstance(node, ast.Rule):
            out[("rule", rule_name(node))] = node
        elif isinstance(node, ast.CustomerDecl):
            for field in node.fields:
                out[("declaration", f"customer field {field.name.text}")] = field
        else:
            out[("declaration", _declaration_key(node))] = node
    return out


_SAME_OPS = {"=": "is", "!=": "is not"}
_ONE = ast.Number(Decimal(1))


def meaning(node: Any, program: Program | None = None) -> Any:
    """A syntax tree with the words that mean the same made one: two statements mean the same
    when their ``meaning`` trees are equal (spans and number spellings never take part).

    ``gives`` → ``earns``; singular/plural words; ``every N EVENTS`` → ``N EVENTS``; an event's
    plural → the event (with ``program``); ``=``/``!=`` → ``is``/``is not``; parentheses dropped
    (the tree keeps the grouping); ``once`` → ``at most 1 in total``; a missing quantity → 1;
    ``free book`` → ``free "book"``; modifiers, the names of ``for``, the days of ``on``, the
    rules of ``instead of``, the values of ``in [...]`` and an event's declared fields in a
    sorted order (none of them is ordered in meaning).
    """
    if isinstance(node, tuple):
        return tuple(meaning(item, program) for item in node)
    if not attrs.has(type(node)) or isinstance(node, ast.Span):
        return node
    if isinstance(node, ast.Group):
        return meaning(node.item, program)
    if isinstance(node, ast.OnceModifier):
        return ast.LimitModifier(_ONE, None)
    changes = {f.name: meaning(getattr(node, f.name), program)
               for f in attrs.fields(type(node)) if f.eq and f.name != "span"}
    if "plural" in changes:
        changes["plural"] = False
    if isinstance(node, ast.Rule):
        changes["name"] = None  # rules are matched by name; their meaning is the rest
        changes["verb"] = "earns" if node.verb == "gives" else node.verb
        changes["modifiers"] = _sorted(changes["modifiers"])
    elif isinstance(node, ast.CountTrigger):
        changes["every"] = False
    elif isinstance(node, ast.Compare):
        changes["op"] = _SAME_OPS.get(node.op, node.op)
    elif isinstance(node, ast.InList):
        changes["values"] = _sorted(changes["values"])
    elif isinstance(node, ast.ForModifier):
        changes["names"] = _sorted(changes["names"])
    elif isinstance(node, ast.WeekdayModifier):
        changes["days"] = tuple(sorted(node.days))
    elif isinstance(node, ast.InsteadOf):
        changes["rules"] = _sorted(changes["rules"])
    elif isinstance(node, ast.EventDecl):
        changes["fields"] = _sorted(changes["fields"])
    elif isinstance(node, (ast.FreeItemEffect, ast.VoucherEffect)):
        if changes["quantity"] is None:
            changes["quantity"] = _ONE
        if isinstance(node, ast.FreeItemEffect):
            changes["quoted"] = True
    if program is not None and isinstance(node, (ast.EventTrigger, ast.FirstTrigger, ast.CountTrigger,
                                                  ast.FieldSumTrigger, ast.CountAggregate)):
        word = node.event.text
        if word in program.event_words:
            changes["event"] = ast.Name(program.event_of(word))
    return attrs.evolve(node, **changes)


def _sorted(items: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=repr))


# ---------------------------------------------------------------------------- for people


def statement_text(change: Change, text: str) -> str:
    """The full canonical line of one side of a change: ``rule "Base": purchase earns …`` (a bare
    sentence is its own name), ``customer has city text``, or the statement as it is."""
    if change.what == "rule":
        return text if text == change.name else f"rule {json.dumps(change.name, ensure_ascii=False)}: {text}"
    if change.what == "declaration" and change.name.startswith("customer field "):
        return f"customer has {change.name[len('customer field '):]} {text}"
    return text


_ORDER = {"rule": 0, "declaration": 1, "setting": 2, "order": 3}


def render_text(diff: RulesetDiff, old_name: str, new_name: str) -> str:
    """``rewardlang diff``'s report: each change with its old (``-``) and new (``+``) canonical
    lines, rules first, then declarations, settings and order; rewordings after them; a summary."""
    lines: list[str] = []
    changes = sorted(diff.changes, key=lambda c: _ORDER.get(c.what, 9))  # stable: compare's order within
    if changes or diff.reworded:
        lines += [f"--- {old_name}", f"+++ {new_name}"]
    for change in list(changes) + list(diff.reworded):
        if change.what == "order":
            lines.append(f"order {change.name} changed")
        else:
            label = f"rule {json.dumps(change.name, ensure_ascii=False)}" if change.what == "rule" else \
                f"{change.what} {change.name}"
            lines.append(f"{label} {'reworded (same meaning)' if change.change == 'reworded' else change.change}")
        if change.old is not None:
            lines.append("  - " + (change.old if change.what == "order" else statement_text(change, change.old)))
        if change.new is not None:
            lines.append("  + " + (change.new if change.what == "order" else statement_text(change, change.new)))
    if lines:
        lines.append("")
    lines.append(summary(diff))
    return "\n".join(lines) + "\n"


def summary(diff: RulesetDiff) -> str:
    """``3 changes: 1 rule added, 1 rule changed, 1 setting changed.`` or ``No change in meaning.``"""
    counts: dict[str, int] = {}
    for change in sorted(diff.changes, key=lambda c: _ORDER.get(c.what, 9)):
        if change.what == "order":
            key = f"order {change.name} changed"
        else:
            key = f"{change.what} {change.change}"
        counts[key] = counts.get(key, 0) + 1
    parts = []
    for key, n in counts.items():
        if key.startswith("order "):
            parts.append(key)
        else:
            what, change = key.split(" ", 1)
            parts.append(f"{n} {what}{'s' if n != 1 else ''} {change}")
    reworded = len(diff.reworded)
    tail = f" ({reworded} statement{'s' if reworded != 1 else ''} reworded, same meaning)" if reworded else ""
    if not diff.changes:
        return f"No change in meaning{tail}."
    n = len(diff.changes)
    return f"{n} change{'s' if n != 1 else ''}: {', '.join(parts)}{tail}."


def to_dict(diff: RulesetDiff, old_name: str, new_name: str) -> dict[str, Any]:
    """``rewardlang diff --format json``."""
    return {"old": old_name, "new": new_name, "changed": bool(diff),
            "changes": [c.to_dict() for c in diff.changes], "reworded": [c.to_dict() for c in diff.reworded]}
