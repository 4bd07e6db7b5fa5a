"""Syntax tree → text: the canonical text of every node, and the layout of a whole file (``fmt``).

The printer never changes a word: the tree keeps the words as written (``point``/``points``,
``every``, ``earns``/``gives``, parentheses), and only white space is canonical. That is what
makes ``fmt`` safe: a bare-sentence rule is named by its own text (``rule_name``), and that text
is the printer's, so formatting never renames a rule.

Layout rules of ``format_file`` (documented in docs/language.md):
- one statement a line, single spaces, ``, `` between list items and modifiers;
- runs of two or more consecutive named rules (no blank line between them) align their bodies
  two spaces after the longest ``rule "NAME":`` (a lone rule: one space); runs of segments or of
  tiers align their ``=`` one space after the longest name;
- a statement longer than ``WIDTH`` is filled greedily, breaking only between pieces: after a
  comma (between modifiers, between declared fields, before ``kept for``), or before ``where``,
  a top-level ``and``/``or`` of a condition, or the verb. Continuation lines of a rule are
  indented two spaces past the rule body's column; of a segment or tier, under its condition;
  of other statements, four spaces;
- comments are kept: a comment on its own line stays on its own line at column 1, a comment after
  code stays after the statement's last line; runs of blank lines become one blank line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from rewardlang import ast

WIDTH = 100


# ---------------------------------------------------------------------------- atoms


def number(value: Decimal) -> str:
    text = format(value, "f")
    return text


def text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def number_node(node: ast.Number) -> str:
    return node.text if node.text is not None else number(node.value)


def money(node: ast.Money) -> str:
    if node.text is not None:
        amount = node.text
    else:
        amount = number(node.amount)
        if node.decimal_comma:
            amount = amount.replace(".", ",")
    return f"{amount} {node.currency.text}"


def duration(node: ast.Duration) -> str:
    count = node.text if node.text is not None else number(node.count)
    return f"{count} {node.unit}{'s' if node.plural else ''}"


def points_word(plural: bool) -> str:
    return "points" if plural else "point"


def date(node: ast.DateLit) -> str:
    return f"{node.year:04d}-{node.month:02d}-{node.day:02d}"


def time_of_day(node: ast.TimeOfDay) -> str:
    return node.text if node.text is not None else f"{node.hour:02d}:{node.minute:02d}"


def value(node: ast.Value) -> str:
    if isinstance(node, ast.Number):
        return number_node(node)
    if isinstance(node, ast.Money):
        return money(node)
    if isinstance(node, ast.Text):
        return text(node.value)
    if isinstance(node, ast.DateLit):
        return date(node)
    if isinstance(node, ast.Word):
        return node.name
    if isinstance(node, ast.Bool):
        return "true" if node.value else "false"
    raise TypeError(f"not a value: {node!r}")


# ---------------------------------------------------------------------------- conditions


def operand(node: ast.Operand) -> str:
    if isinstance(node, ast.FieldRef):
        return node.name.text
    if isinstance(node, ast.CustomerFieldRef):
        return f"customer.{node.name.text}"
    if isinstance(node, ast.TierRef):
        return "tier"
    if isinstance(node, ast.BalanceRef):
        return "balance"
    if isinstance(node, ast.SpendAggregate):
        return "spend in total" if node.window is None else f"spend in last {duration(node.window)}"
    if isinstance(node, ast.CountAggregate):
        window = "total" if node.window is None else f"last {duration(node.window)}"
        return f"count of {node.event.text} in {window}"
    raise TypeError(f"not an operand: {node!r}")


def condition(node: ast.Condition) -> str:
    if isinstance(node, ast.Or):
        return " or ".join(condition(item) for item in node.items)
    if isinstance(node, ast.And):
        return " and ".join(condition(item) for item in node.items)
    if isinstance(node, ast.Not):
        return f"not {condition(node.item)}"
    if isinstance(node, ast.Group):
        return f"({condition(node.item)})"
    if isinstance(node, ast.Compare):
        return f"{operand(node.left)} {node.op} {value(node.right)}"
    if isinstance(node, ast.InList):
        items = ", ".join(value(v) for v in node.values)
        return f"{operand(node.left)} {'not in' if node.negated else 'in'} [{items}]"
    if isinstance(node, ast.Contains):
        return f"{operand(node.left)} contains {text(node.value.value)}"
    if isinstance(node, ast.Between):
        return f"{operand(node.left)} between {value(node.low)} and {value(node.high)}"
    raise TypeError(f"not a condition: {node!r}")


def _where(node: ast.Condition | None) -> str:
    return "" if node is None else f" where {condition(node)}"


# ---------------------------------------------------------------------------- rules


def trigger(node: ast.Trigger) -> str:
    if isinstance(node, ast.EventTrigger):
        return node.event.text + _where(node.where)
    if isinstance(node, ast.FirstTrigger):
        return f"first {node.event.text}{_where(node.where)}"
    if isinstance(node, ast.CountTrigger):
        every = "every " if node.every else ""
        return f"{every}{number_node(node.count)} {node.event.text}{_where(node.where)}"
    if isinstance(node, ast.FieldSumTrigger):
        return (
            f"every {number_node(node.step)} {node.field.text} of {node.event.text}"
            f"{_where(node.where)}"
        )
    if isinstance(node, ast.SpendTrigger):
        return f"every {money(node.step)} spent"
    if isinstance(node, ast.BirthdayTrigger):
        return "birthday"
    if isinstance(node, ast.TierChangeTrigger):
        return "tier change" if node.to is None else f"tier change to {node.to.text}"
    if isinstance(node, ast.InactiveTrigger):
        return f"inactive for {duration(node.duration)}"
    if isinstance(node, ast.ConvertTrigger):
        return f"{number_node(node.points)} {points_word(node.plural)}"
    raise TypeError(f"not a trigger: {node!r}")


def effect(node: ast.Effect) -> str:
    if isinstance(node, ast.PointsEffect):
        return f"{number_node(node.points)} {points_word(node.plural)}"
    if isinstance(node, ast.RateEffect):
        of = "" if node.field is None else f" of {node.field.text}"
        return f"{number_node(node.points)} {points_word(node.plural)} per {money(node.per)}{of}"
    if isinstance(node, ast.FreeItemEffect):
        quantity = "" if node.quantity is None else f"{number_node(node.quantity)} "
        if node.item is None:
            item = ""
        elif node.quoted:
            item = " " + text(node.item)
        else:
            item = " " + node.item
        return f"{quantity}free{item}"
    if isinstance(node, ast.VoucherEffect):
        quantity = "" if node.quantity is None else f"{number_node(node.quantity)} "
        word = "vouchers" if node.plural else "voucher"
        return f"{quantity}{word} {text(node.voucher.value)}"
    if isinstance(node, ast.MessageEffect):
        return f"message {text(node.template.value)}"
    raise TypeError(f"not an effect: {node!r}")


def modifier(node: ast.Modifier) -> str:
    if isinstance(node, ast.ForModifier):
        names = " or ".join(n.text for n in node.names)
        return f"for {'not ' if node.negated else ''}{names}"
    if isinstance(node, ast.DateWindow):
        return f"from {date(node.start)} to {date(node.end)}"
    if isinstance(node, ast.WeekdayModifier):
        return "on " + " or ".join(node.days)
    if isinstance(node, ast.TimeWindow):
        return f"between {time_of_day(node.start)} and {time_of_day(node.end)}"
    if isinstance(node, ast.LimitModifier):
        if node.period is None:
            return f"at most {number_node(node.count)} in total"
        return f"at most {number_node(node.count)} per {node.period}"
    if isinstance(node, ast.OnceModifier):
        return "once"
    if isinstance(node, ast.CapModifier):
        return f"at most {number_node(node.points)} {points_word(node.plural)} per {node.period}"
    if isinstance(node, ast.InsteadOf):
        return "instead of " + " and ".join(text(r.value) for r in node.rules)
    raise TypeError(f"not a modifier: {node!r}")


def _rule_units(rule: ast.Rule) -> list[str]:
    """The pieces a rule may be wrapped between: the sentence, then each modifier."""
    return [f"{trigger(rule.trigger)} {rule.verb} {effect(rule.effect)}"] + [
        modifier(m) for m in rule.modifiers
    ]


def rule_body(rule: ast.Rule) -> str:
    return ", ".join(_rule_units(rule))


def rule_name(rule: ast.Rule) -> str:
    """A rule's name: its own, or for a bare sentence its canonical one-line text."""
    return rule.name.value if rule.name is not None else rule_body(rule)


def rule_head(rule: ast.Rule) -> str:
    return "" if rule.name is None else f"rule {text(rule.name.value)}:"


# ---------------------------------------------------------------------------- statements


def field_decl(node: ast.FieldDecl) -> str:
    return f"{node.name.text} {node.type}{' optional' if node.optional else ''}"


def _statement_units(node: ast.Statement) -> tuple[str, list[str]]:
    """A statement as a head and the comma-separated units after it (for wrapping)."""
    if isinstance(node, ast.ProgramName):
        return f"program {text(node.name.value)}", []
    if isinstance(node, ast.CurrencySetting):
        return f"currency {node.code.text}", []
    if isinstance(node, ast.TimezoneSetting):
        return f"timezone {text(node.zone.value)}", []
    if isinstance(node, ast.ExpirySetting):
        tail = " without activity" if node.without_activity else ""
        return f"points expire after {duration(node.after)}{tail}", []
    if isinstance(node, ast.PendingSetting):
        return f"points pending for {duration(node.duration)}", []
    if isinstance(node, ast.RefundWindowSetting):
        return f"refunds accepted within {duration(node.duration)}", []
    if isinstance(node, ast.PointValueSetting):
        return f"point value {money(node.value)}", []
    if isinstance(node, ast.RoundingSetting):
        return f"rounding {node.mode}", []
    if isinstance(node, ast.CustomerDecl):
        return "customer has", [field_decl(f) for f in node.fields]
    if isinstance(node, ast.EventDecl):
        if not node.fields:
            return f"event {node.name.text}", []
        return f"event {node.name.text} with", [field_decl(f) for f in node.fields]
    if isinstance(node, ast.SegmentDecl):
        return f"segment {node.name.text} = {condition(node.condition)}", []
    if isinstance(node, ast.TierDecl):
        kept = [] if node.kept_for is None else [f"kept for {duration(node.kept_for)}"]
        return f"tier {node.name.text} = {condition(node.condition)}", kept
    if isinstance(node, ast.RewardDecl):
        return (
            f"reward {text(node.name.value)} costs {number_node(node.cost)} "
            f"{points_word(node.plural)}",
            [],
        )
    if isinstance(node, ast.VoucherDecl):
        return f"voucher {text(node.name.value)} worth {money(node.worth)}", []
    if isinstance(node, ast.FreeItemDecl):
        return f"free {text(node.name.value)} worth {money(node.worth)}", []
    if isinstance(node, ast.Notify):
        return f"notify {text(node.template.value)} {duration(node.before)} before points expire", []
    if isinstance(node, ast.Rule):
        units = _rule_units(node)
        head = rule_head(node)
        return (f"{head} {units[0]}" if head else units[0]), units[1:]
    raise TypeError(f"not a statement: {node!r}")


def statement(node: ast.Statement) -> str:
    """A statement's canonical one-line text."""
    head, units = _statement_units(node)
    if not units:
        return head
    joiner = " " if isinstance(node, (ast.CustomerDecl, ast.EventDecl)) else ", "
    return head + joiner + ", ".join(units)


def format_ruleset(ruleset: ast.Ruleset) -> str:
    """The canonical text of a tree with no comments (for generated trees and tests)."""
    return format_statements(list(ruleset.statements), [], {})


# ---------------------------------------------------------------------------- file layout


def _wrap(first: str, units: Sequence[str], joiner: str, indent: int) -> list[str]:
    """Greedy fill: units joined by ``, `` (the first by ``joiner``), lines up to ``WIDTH``."""
    pieces = [(unit, joiner if i == 0 else ", ") for i, unit in enumerate(units)]
    return _fill(first, pieces, indent)


def _fill(first: str, pieces: Sequence[tuple[str, str]], indent: int) -> list[str]:
    """Greedy fill of ``(text, joiner)`` pieces; a break after a ``,`` joiner keeps the comma."""
    lines = [first]
    for piece, joiner in pieces:
        candidate = f"{lines[-1]}{joiner}{piece}"
        if len(candidate) <= WIDTH or lines[-1].strip() == "":
            lines[-1] = candidate
        else:
            if joiner.startswith(","):
                lines[-1] += ","
            lines.append(" " * indent + piece)
    return lines


def _condition_pieces(node: ast.Condition, lead: str) -> list[str]:
    """A condition cut before its top-level ``and``/``or`` (``lead`` goes before the first)."""
    if isinstance(node, (ast.And, ast.Or)):
        word = "and" if isinstance(node, ast.And) else "or"
        parts = [condition(item) for item in node.items]
        return [f"{lead}{parts[0]}"] + [f"{word} {p}" for p in parts[1:]]
    return [f"{lead}{condition(node)}"]


def _sentence_pieces(rule: ast.Rule) -> list[str]:
    """A rule's sentence cut where a line may break: before ``where``, its ``and``/``or``, the verb."""
    trig = rule.trigger
    where = getattr(trig, "where", None)
    if where is None:
        head = [trigger(trig)]
    else:
        bare = attrs.evolve(trig, where=None)
        head = [trigger(bare)] + _condition_pieces(where, "where ")
    return head + [f"{rule.verb} {effect(rule.effect)}"]


def _align_key(node: ast.Statement) -> str | None:
    if isinstance(node, ast.Rule) and node.name is not None:
        return "rule"
    if isinstance(node, ast.SegmentDecl):
        return "segment"
    if isinstance(node, ast.TierDecl):
        return "tier"
    return None


def _layout(node: ast.Statement, pad: int) -> list[str]:
    """The lines of one statement; ``pad`` is the width its aligned part is padded to."""
    if isinstance(node, ast.Rule):
        head = rule_head(node)
        if head:
            head = head.ljust(pad) + " "
        indent = len(head) + 2
        sentence = _sentence_pieces(node)
        pieces = [(p, " ") for p in sentence[1:]] + [(modifier(m), ", ") for m in node.modifiers]
        return _fill(head + sentence[0], pieces, indent)
    if isinstance(node, (ast.SegmentDecl, ast.TierDecl)):
        keyword = "segment" if isinstance(node, ast.SegmentDecl) else "tier"
        left = f"{keyword} {node.name.text}".ljust(pad)
        first, *rest = _condition_pieces(node.condition, f"{left} = ")
        pieces = [(p, " ") for p in rest]
        if isinstance(node, ast.TierDecl) and node.kept_for is not None:
            pieces.append((f"kept for {duration(node.kept_for)}", ", "))
        return _fill(first, pieces, len(left) + 3)
    head, units = _statement_units(node)
    joiner = " " if isinstance(node, (ast.CustomerDecl, ast.EventDecl)) else ", "
    if not units:
        return [head]
    return _wrap(head, units, joiner, 4)


def _aligned_part(node: ast.Statement) -> int:
    if isinstance(node, ast.Rule):
        return len(rule_head(node))
    if isinstance(node, ast.SegmentDecl):
        return len(f"segment {node.name.text}")
    if isinstance(node, ast.TierDecl):
        return len(f"tier {node.name.text}")
    return 0


def format_statements(
    statements: list[ast.Statement],
    comments: Iterable[object],
    blank_before: dict[int, bool],
) -> str:
    """Lay out statements with their comments.

    ``comments`` are ``parser.Comment`` values; ``blank_before[i]`` says whether a blank line
    stood before item ``i`` of the merged sequence built here (statements and own-line comments
    in source order), as computed by ``format_file``.
    """
    items: list[tuple[int, str, object]] = []  # (line, kind, payload)
    for index, stmt in enumerate(statements):
        items.append((stmt.span.line, "statement", index))
    inside: dict[int, list[object]] = {}  # comments within a statement's lines, in source order
    own_line: list[tuple[int, str]] = []
    for comment in comments:
        owner = _owner(statements, comment.line)  # type: ignore[attr-defined]
        if owner is not None:
            inside.setdefault(owner, []).append(comment)
        else:
            own_line.append((comment.line, comment.text))  # type: ignore[attr-defined]
    for line, body in own_line:
        items.append((line, "comment", body))
    items.sort(key=lambda item: (item[0], item[1] != "comment"))

    # alignment runs: consecutive statements of one kind with no blank line between them
    pads: dict[int, int] = {}
    run: list[int] = []
    run_key: str | None = None
    blank_since_last = False
    for position, (_, kind, payload) in enumerate(items):
        blank_since_last = blank_since_last or blank_before.get(position, False)
        if kind != "statement":
            continue
        stmt = statements[payload]  # type: ignore[index]
        key = _align_key(stmt)
        if key != run_key or blank_since_last:
            _close_run(run, statements, pads)
            run, run_key = [], key
        if key is not None:
            run.append(payload)  # type: ignore[arg-type]
        blank_since_last = False
    _close_run(run, statements, pads)

    out: list[str] = []
    for position, (_, kind, payload) in enumerate(items):
        if out and blank_before.get(position, False):
            out.append("")
        if kind == "comment":
            out.append(payload)  # type: ignore[arg-type]
            continue
        index: int = payload  # type: ignore[assignment]
        stmt = statements[index]
        # the last comment after code stays after the statement; the others go above it
        notes = inside.get(index, [])
        last = next((c for c in reversed(notes) if not c.own_line), None)  # type: ignore[attr-defined]
        out.extend(c.text for c in notes if c is not last)  # type: ignore[attr-defined]
        lines = _layout(stmt, pads.get(index, 0))
        if last is not None:
            lines[-1] = f"{lines[-1]}  {last.text}"  # type: ignore[attr-defined]
        out.extend(lines)
    return "\n".join(out) + "\n" if out else ""


def _close_run(run: list[int], statements: list[ast.Statement], pads: dict[int, int]) -> None:
    if not run:
        return
    width = max(_aligned_part(statements[i]) for i in run)
    if len(run) > 1 and isinstance(statements[run[0]], ast.Rule):
        width += 1  # aligned rule bodies stand two spaces after the longest head
    for i in run:
        pads[i] = width


def _owner(statements: list[ast.Statement], line: int) -> int | None:
    """The statement whose lines include ``line``, if any (statements are in line order)."""
    lo, hi = 0, len(statements) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        span = statements[mid].span
        if line < span.line:
            hi = mid - 1
        elif line > span.end_line:
            lo = mid + 1
        else:
            return mid
    return None


def format_file(parsed: object) -> str:
    """``fmt``: the canonical layout of a parsed file (``parser.ParsedFile``) with no syntax error."""
    statements = list(parsed.ruleset.statements)  # type: ignore[attr-defined]
    comments = list(parsed.comments)  # type: ignore[attr-defined]
    from rewardlang.parser import source_lines as split_lines

    source_lines = split_lines(parsed.source)  # type: ignore[attr-defined]

    # where each merged item starts and ends, to know which ones a blank line separates
    spans: list[tuple[int, int]] = [(s.span.line, s.span.end_line) for s in statements]
    for c in comments:
        if _owner(statements, c.line) is None:
            spans.append((c.line, c.line))
    spans.sort()
    blank_before: dict[int, bool] = {}
    previous_end = None
    for position, (start, end) in enumerate(spans):
        if previous_end is not None:
            between = source_lines[previous_end : start - 1]
            blank_before[position] = any(not line.strip() for line in between)
        previous_end = max(end, previous_end or 0)
    return format_statements(statements, comments, blank_before)
