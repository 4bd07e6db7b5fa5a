"""Text → syntax tree: the Lark LALR parser of ``grammar/rewardlang.lark`` and its error recovery.

Two paths over the same grammar tables and the same tree builder (``AstBuilder``, an inline
transformer: no parse tree is built):
- the fast path lexes the whole text with one regular expression (``rewardlang.fast_lexer``) and
  runs the LALR tables; it takes every well-formed file;
- on any failure there, the careful path parses again with Lark's contextual lexer, first the
  whole file and then, if that fails too, statement by statement (cut by the same line rule the
  post-lexer applies), so that a syntax error in one statement never hides the problems of the
  others: the good statements go on to the checker, the bad ones become diagnostics.

The Lark parsers are built on first use, never at import. Lark's table cache is written to the
user's cache directory (``REWARDLANG_CACHE_DIR``, else ``$XDG_CACHE_HOME/rewardlang``, else
``~/.cache/rewardlang``) and never into the package, which may be read-only; where no cache can
be written the grammar is simply built each time.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from functools import partial
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path

import attrs
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput
from lark.lexer import PatternStr

from rewardlang import ast, collector
from rewardlang.makers import makers_of
from rewardlang.diagnostics import Diagnostic, warning
from rewardlang.spans import SPAN_SETTERS, Span

GRAMMAR_NAME = "rewardlang.lark"


def grammar_text() -> str:
    """The grammar: inside the installed package, or ``grammar/`` of a source checkout."""
    packaged = resources.files("rewardlang").joinpath("grammar", GRAMMAR_NAME)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "grammar" / GRAMMAR_NAME
    return checkout.read_text(encoding="utf-8")


class ContinuationPostLexer:
    """Drops a line break that is followed by indentation: that line continues the statement.

    A run of line breaks (a blank line in between) always ends the statement. It also catches a
    keyword glued to the next word (``pointsper``, ``tier changes``): Lark's string terminals have
    no word boundary, so the contextual lexer would split such a word in two and accept it. The
    second half is passed on as a ``GLUED`` token, which no rule accepts: the statement fails
    there and ``syntax_errors`` says what to write. (No token is held back: the contextual lexer
    must lex each token in the parser state that follows the one before.)
    """

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        previous: Token | None = None
        for token in stream:
            if token.type == "_NL" and token.count("\n") == 1 and token[-1] in " \t":
                continue
            if (
                previous is not None
                and previous.end_pos == token.start_pos
                and previous.type != "NAME"
                and _IDENTIFIER.fullmatch(previous)
                and token[:1].isalnum()
            ):
                glued = Token("GLUED", previous + token, previous.start_pos, previous.line,
                              previous.column, token.end_line, token.end_column, token.end_pos)
                previous = glued
                yield glued
                continue
            previous = token
            yield token


def _cache_path(grammar: str) -> str | None:
    base = os.environ.get("REWARDLANG_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
        base = os.path.join(xdg, "rewardlang")
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        return None
    if not os.access(base, os.W_OK):
        return None
    digest = hashlib.sha256(grammar.encode()).hexdigest()[:16]
    return os.path.join(base, f"grammar-{digest}.lark-cache")


def build_lark(
    *,
    transformer: Transformer | None = None,
    strict: bool = False,
    cache: bool = True,
    fast: bool = False,
) -> Lark:
    """A new Lark LALR parser of the grammar; with ``transformer`` it builds no parse tree.

    ``strict`` is for the test that proves the grammar has no conflict. ``fast`` builds the
    parser of the fast path: the one-regex lexer of ``rewardlang.fast_lexer`` in place of the
    contextual lexer, which applies the continuation rule itself (so no post-lexer). The two
    kinds are cached in separate files.
    """
    grammar = grammar_text()
    options: dict[str, object] = {
        "parser": "lalr",
        "lexer": "contextual",
        "maybe_placeholders": True,
        "keep_all_tokens": True,
        "postlex": ContinuationPostLexer(),
    }
    if fast:
        from rewardlang.fast_lexer import FastLexer

        options["lexer"] = FastLexer
        del options["postlex"]
    if transformer is not None:
        options["transformer"] = transformer
    if strict:
        return Lark(grammar, strict=True, **options)  # type: ignore[arg-type]
    path = _cache_path(grammar) if cache else None
    if path is not None:
        if fast:
            # Lark checks the options against a hash in the file: one file per kind of parser
            root, ext = os.path.splitext(path)
            path = f"{root}-fast{ext}"
        try:
            return Lark(grammar, cache=path, **options)  # type: ignore[arg-type]
        except OSError:
            pass
    return Lark(grammar, **options)  # type: ignore[arg-type]


_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def keywords_of(lark: Lark) -> frozenset[str]:
    """The reserved words: every literal terminal of the grammar that looks like a name."""
    return frozenset(
        t.pattern.value
        for t in lark.terminals
        if isinstance(t.pattern, PatternStr) and _IDENTIFIER.fullmatch(t.pattern.value)
    )


# ---------------------------------------------------------------------------- the tree builder

_ESCAPE = re.compile(r"\\([\"\\])")


def unquote(token: str) -> str:
    inner = token[1:-1]
    return _ESCAPE.sub(r"\1", inner) if "\\" in inner else inner  # most strings have no escape


def _decimal(token: str) -> Decimal:
    return Decimal(token.replace(",", ".")) if "," in token else Decimal(token)


def _start_of(items: object, offset: int) -> tuple[int, int] | None:
    """Where the first positioned item starts, in file lines (tokens shifted by ``offset``; a
    node's span is already in file lines)."""
    for item in items:  # type: ignore[attr-defined]
        if item is None:
            continue
        if isinstance(item, Token):
            return (item.line + offset, item.column)  # type: ignore[operator,return-value]
        span = getattr(item, "span", None)
        if span is not None:
            if span is not ast.NO_SPAN:
                return (span.line, span.column)
            continue
        if isinstance(item, (tuple, list)):
            found = _start_of(item, offset)
            if found is not None:
                return found
    return None


def _end_of(items: object, offset: int) -> tuple[int, int] | None:
    for item in reversed(items):  # type: ignore[call-overload]
        cls = item.__class__
        if cls is Token:  # the common cases first, in one test each (same answers as below)
            return (item.end_line + offset, item.end_column)  # type: ignore[operator,return-value]
        if cls is tuple:  # rule_body's (trigger, verb, effect, modifiers), modifiers
            found = _end_of(item, offset)
            if found is not None:
                return found
            continue
        if item is None:
            continue
        if isinstance(item, Token):
            return (item.end_line + offset, item.end_column)  # type: ignore[operator,return-value]
        span = getattr(item, "span", None)
        if span is not None:
            if span is not ast.NO_SPAN:
                return (span.end_line, span.end_column)
            continue
        if isinstance(item, (tuple, list)):
            found = _end_of(item, offset)
            if found is not None:
                return found
    return None


def _nodes(children: list) -> list:
    """The children that are not tokens: the sub-nodes, in order."""
    return [c for c in children if c is not None and not isinstance(c, Token)]


def _tokens(children: list, kind: str) -> list[Token]:
    return [c for c in children if isinstance(c, Token) and c.type == kind]


_new_span = object.__new__
#: the tree's node classes, made without attrs' __init__ (``rewardlang.makers``): a million nodes
#: for 100,000 rules
_new = makers_of(ast.node_classes())
_set_filename, _set_line, _set_column, _set_end_line, _set_end_column = SPAN_SETTERS


class AstBuilder(Transformer):  # type: ignore[type-arg]
    """Builds ``rewardlang.ast`` nodes while Lark parses (an inline transformer: no parse tree).

    Lark is built with ``keep_all_tokens`` so that every node can take its span from its first
    and last token; ``filename`` and ``line_offset`` are set by the ``Parser`` before each parse
    (a statement parsed alone during error recovery starts at its own line in the file).
    """

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.filename = "<string>"
        self.line_offset = 0
        #: the numbers of the file being parsed, by their text: one Decimal for each text (a
        #: ruleset says "10" and "100" thousands of times; a Decimal is immutable, so equal ones
        #: may be one object). Emptied by the Parser after each parse.
        self.decimals: dict[str, Decimal] = {}

    def _decimal(self, tok: Token) -> Decimal:
        text = tok.value
        found = self.decimals.get(text)
        if found is None:
            found = self.decimals[text] = _decimal(text)
        return found

    # -- spans
    def _span(self, children: list) -> ast.Span:
        """The span from the first positioned child to the last (``_start_of``, ``_end_of``).

        A million spans for 100,000 rules: the usual case — a token at both ends, or a token
        first and a node last — is answered here without a call, and the span is made through
        its slots' descriptors (as ``spans.make_span``) in place; anything else goes the general
        way, with the same answer."""
        off = self.line_offset
        first = children[0] if children else None
        if first.__class__ is Token:
            line = first.line + off if off else first.line  # type: ignore[union-attr]
            column = first.column  # type: ignore[union-attr]
        else:
            start = _start_of(children, off)
            if start is None:
                return ast.NO_SPAN
            line, column = start
        last = children[-1] if children else None
        if last is None and len(children) > 1:  # an optional part left out at the end
            last = children[-2]
        cls = last.__class__
        if cls is Token:
            end_line = last.end_line + off if off else last.end_line  # type: ignore[union-attr]
            end_column = last.end_column  # type: ignore[union-attr]
        else:
            span = getattr(last, "span", None) if cls is not tuple and last is not None else None
            if span is not None and span is not ast.NO_SPAN:
                end_line = span.end_line
                end_column = span.end_column
            else:
                end = _end_of(children, off)
                if end is None:
                    return ast.NO_SPAN
                end_line, end_column = end
        made = _new_span(Span)
        _set_filename(made, self.filename)
        _set_line(made, line)
        _set_column(made, column)
        _set_end_line(made, end_line)
        _set_end_column(made, end_column)
        return made

    def _tok_span(self, tok: Token) -> ast.Span:
        # ``line + 0`` would be a new int object for every line above 256 (four a rule): the
        # token's own is kept when there is no offset (the whole file at once)
        off = self.line_offset
        made = _new_span(Span)
        _set_filename(made, self.filename)
        _set_line(made, tok.line + off if off else tok.line)  # type: ignore[operator]
        _set_column(made, tok.column)
        _set_end_line(made, tok.end_line + off if off else tok.end_line)  # type: ignore[operator]
        _set_end_column(made, tok.end_column)
        return made

    # the three commonest leaves make their token's span in place (``_tok_span`` without the call)
    def _name(self, tok: Token) -> ast.Name:
        off = self.line_offset
        made = _new_span(Span)
        _set_filename(made, self.filename)
        _set_line(made, tok.line + off if off else tok.line)  # type: ignore[operator]
        _set_column(made, tok.column)
        _set_end_line(made, tok.end_line + off if off else tok.end_line)  # type: ignore[operator]
        _set_end_column(made, tok.end_column)
        return _new.Name(str(tok), made)

    def _text(self, tok: Token) -> ast.Text:
        off = self.line_offset
        made = _new_span(Span)
        _set_filename(made, self.filename)
        _set_line(made, tok.line + off if off else tok.line)  # type: ignore[operator]
        _set_column(made, tok.column)
        _set_end_line(made, tok.end_line + off if off else tok.end_line)  # type: ignore[operator]
        _set_end_column(made, tok.end_column)
        return _new.Text(unquote(tok), made)

    def _number(self, tok: Token) -> ast.Number:
        off = self.line_offset
        made = _new_span(Span)
        _set_filename(made, self.filename)
        _set_line(made, tok.line + off if off else tok.line)  # type: ignore[operator]
        _set_column(made, tok.column)
        _set_end_line(made, tok.end_line + off if off else tok.end_line)  # type: ignore[operator]
        _set_end_column(made, tok.end_column)
        return _new.Number(self._decimal(tok), str(tok), made)

    def _date(self, tok: Token) -> ast.DateLit:
        y, m, d = (int(p) for p in tok.split("-"))
        return _new.DateLit(y, m, d, self._tok_span(tok))

    def _time(self, tok: Token) -> ast.TimeOfDay:
        h, m = (int(p) for p in tok.split(":"))
        return _new.TimeOfDay(h, m, str(tok), self._tok_span(tok))

    # -- the file
    def start(self, c):
        return [s for s in c if not isinstance(s, Token)]

    # -- words whose choice matters: passed up as the token itself (it keeps its position)
    def _token(self, c):
        return c[0]

    _token.returns_only_child = True  # type: ignore[attr-defined]  # FastParse skips the call

    rounding_mode = verb = point_word = voucher_word = weekday = period = unit = _token
    compare_op = scalar_type_word = scalar_type = _token

    def list_type(self, c):
        first, last = c[0], c[-1]
        return Token("LIST_TYPE", "list of text", first.start_pos, first.line, first.column,
                     last.end_line, last.end_column, last.end_pos)

    # -- settings
    def program_setting(self, c):
        return _new.ProgramName(self._text(c[1]), self._span(c))

    def currency_setting(self, c):
        return _new.CurrencySetting(self._name(c[1]), self._span(c))

    def timezone_setting(self, c):
        return _new.TimezoneSetting(self._text(c[1]), self._span(c))

    def expire_setting(self, c):
        return _new.ExpirySetting(c[3], False, self._span(c))

    def expire_inactive_setting(self, c):
        return _new.ExpirySetting(c[3], True, self._span(c))

    def pending_setting(self, c):
        return _new.PendingSetting(c[3], self._span(c))

    def refund_window_setting(self, c):
        return _new.RefundWindowSetting(c[3], self._span(c))

    def point_value_setting(self, c):
        return _new.PointValueSetting(c[2], self._span(c))

    def rounding_setting(self, c):
        return _new.RoundingSetting(str(c[1]), self._span(c))

    # -- declarations
    def field_decl(self, c):
        return _new.FieldDecl(self._name(c[0]), str(c[1]), c[2] is not None, self._span(c))

    def customer_decl(self, c):
        return _new.CustomerDecl(tuple(_nodes(c)), self._span(c))

    def event_decl(self, c):
        return _new.EventDecl(self._name(c[1]), tuple(_nodes(c)), self._span(c))

    def segment_decl(self, c):
        return _new.SegmentDecl(self._name(c[1]), c[3], self._span(c))

    def tier_decl(self, c):
        return _new.TierDecl(self._name(c[1]), c[3], c[-1], self._span(c))

    def reward_decl(self, c):
        return _new.RewardDecl(
            self._text(c[1]), self._number(c[3]), c[4] == "points", self._span(c)
        )

    def voucher_decl(self, c):
        return _new.VoucherDecl(self._text(c[1]), c[3], self._span(c))

    def free_decl(self, c):
        return _new.FreeItemDecl(self._text(c[1]), c[3], self._span(c))

    # -- rules
    def named_rule(self, c):
        trigger, verb, effect, modifiers = c[3]
        return _new.Rule(self._text(c[1]), trigger, verb, effect, modifiers,
                         self._rule_span(c, modifiers[-1] if modifiers else effect))

    def bare_rule(self, c):
        trigger, verb, effect, modifiers = c[0]
        return _new.Rule(None, trigger, verb, effect, modifiers,
                         self._rule_span(c, modifiers[-1] if modifiers else effect))

    def _rule_span(self, c: list, last: object) -> ast.Span:
        """``_span(c)`` of a rule, whose last child is the body's tuple: it ends where its last
        modifier ends, or without modifiers its effect (what ``_end_of`` finds, without
        walking the tuples); a rule of ``rule "NAME":`` starts at its first token."""
        first = c[0]
        span = getattr(last, "span", None)
        if first.__class__ is not Token or span is None or span is ast.NO_SPAN:
            return self._span(c)
        made = _new_span(Span)
        _set_filename(made, self.filename)
        _set_line(made, first.line + self.line_offset if self.line_offset else first.line)
        _set_column(made, first.column)
        _set_end_line(made, span.end_line)
        _set_end_column(made, span.end_column)
        return made

    def rule_body(self, c):
        return (c[0], str(c[1]), c[2], c[3])

    def converts_body(self, c):
        trigger = _new.ConvertTrigger(self._number(c[0]), c[1] == "points", self._span(c[:2]))
        return (trigger, "converts to", c[4], c[5])

    def event_trigger(self, c):
        name = self._name(c[0])
        if c[1] is None:  # the event's name alone: the trigger's span is the name's (one object)
            return _new.EventTrigger(name, None, name.span)
        return _new.EventTrigger(name, c[1], self._span(c))

    def first_trigger(self, c):
        return _new.FirstTrigger(self._name(c[1]), c[2], self._span(c))

    def count_trigger(self, c):
        return _new.CountTrigger(
            self._number(c[1]), self._name(c[2]), c[3], c[0] is not None, self._span(c)
        )

    def field_sum_trigger(self, c):
        return _new.FieldSumTrigger(
            self._number(c[1]), self._name(c[2]), self._name(c[4]), c[5], self._span(c)
        )

    def spend_trigger(self, c):
        return _new.SpendTrigger(c[1], self._span(c))

    def birthday_trigger(self, c):
        return _new.BirthdayTrigger(self._span(c))

    def tier_change_trigger(self, c):
        to = self._name(c[3]) if c[3] is not None else None
        return _new.TierChangeTrigger(to, self._span(c))

    def inactive_trigger(self, c):
        return _new.InactiveTrigger(c[2], self._span(c))

    def where(self, c):
        return c[1]

    # -- effects
    def points_effect(self, c):
        # a point_word token is POINT or POINTS: its type says which without Token.__eq__ (a
        # Python function, a third of this method's time)
        return _new.PointsEffect(self._number(c[0]), c[1].type == "POINTS", self._span(c))

    def rate_effect(self, c):
        field = self._name(c[5]) if c[5] is not None else None
        return _new.RateEffect(self._number(c[0]), c[1].type == "POINTS", c[3], field, self._span(c))

    def free_effect(self, c):
        quantity = self._number(c[0]) if c[0] is not None else None
        item = c[2]
        if item is None:
            return _new.FreeItemEffect(quantity, None, False, self._span(c))
        if item.type == "STRING":
            return _new.FreeItemEffect(quantity, unquote(item), True, self._span(c))
        return _new.FreeItemEffect(quantity, str(item), False, self._span(c))

    def voucher_effect(self, c):
        quantity = self._number(c[0]) if c[0] is not None else None
        return _new.VoucherEffect(quantity, self._text(c[2]), c[1] == "vouchers", self._span(c))

    def message_effect(self, c):
        return _new.MessageEffect(self._text(c[1]), self._span(c))

    # -- modifiers
    def modifiers(self, c):
        # (",", modifier, ",", modifier, ...): every modifier is a node, every other child a comma
        return tuple(c[1::2])

    def for_modifier(self, c):
        names = tuple(self._name(t) for t in _tokens(c, "NAME"))
        return _new.ForModifier(c[1] is not None, names, self._span(c))

    def date_modifier(self, c):
        return _new.DateWindow(self._date(c[1]), self._date(c[3]), self._span(c))

    def weekday_modifier(self, c):
        days = tuple(str(t) for t in c[1::2])
        return _new.WeekdayModifier(days, self._span(c))

    def time_modifier(self, c):
        return _new.TimeWindow(self._time(c[1]), self._time(c[3]), self._span(c))

    def limit_modifier(self, c):
        return _new.LimitModifier(self._number(c[2]), str(c[4]), self._span(c))

    def total_limit_modifier(self, c):
        return _new.LimitModifier(self._number(c[2]), None, self._span(c))

    def once_modifier(self, c):
        return _new.OnceModifier(self._span(c))

    def cap_modifier(self, c):
        return _new.CapModifier(
            self._number(c[2]), c[3] == "points", str(c[5]), self._span(c)
        )

    def instead_modifier(self, c):
        return _new.InsteadOf(tuple(self._text(t) for t in _tokens(c, "STRING")), self._span(c))

    # -- notify
    def notify(self, c):
        return _new.Notify(self._text(c[1]), c[2], self._span(c))

    # -- conditions
    def or_(self, c):
        items = _nodes(c)
        return items[0] if len(items) == 1 else _new.Or(tuple(items), self._span(c))

    def and_(self, c):
        items = _nodes(c)
        return items[0] if len(items) == 1 else _new.And(tuple(items), self._span(c))

    # one child (``or_condition: and_condition``) is a condition node, returned as it is: FastParse
    # skips the call (a condition without `or` or `and` is most of them)
    or_.returns_only_child = and_.returns_only_child = True  # type: ignore[attr-defined]

    def not_(self, c):
        return _new.Not(c[1], self._span(c))

    def group(self, c):
        return _new.Group(c[1], self._span(c))

    def compare(self, c):
        return _new.Compare(c[0], str(c[1]), c[2], self._span(c))

    def is_(self, c):
        return _new.Compare(c[0], "is", c[2], self._span(c))

    def is_not(self, c):
        return _new.Compare(c[0], "is not", c[3], self._span(c))

    def in_(self, c):
        return _new.InList(c[0], tuple(_nodes(c[2])), False, self._span(c))

    def not_in(self, c):
        return _new.InList(c[0], tuple(_nodes(c[3])), True, self._span(c))

    def contains(self, c):
        return _new.Contains(c[0], self._text(c[2]), self._span(c))

    def between(self, c):
        return _new.Between(c[0], c[2], c[4], self._span(c))

    def value_list(self, c):
        return c  # the brackets stay, so that ``in [...]`` ends at its ``]``

    # -- operands
    def field_ref(self, c):
        name = self._name(c[0])  # a name alone: the reference's span is the name's (one object)
        return _new.FieldRef(name, name.span)

    def customer_field_ref(self, c):
        return _new.CustomerFieldRef(self._name(c[2]), self._span(c))

    def tier_ref(self, c):
        return _new.TierRef(self._span(c))

    def balance_ref(self, c):
        return _new.BalanceRef(self._span(c))

    def spend_last(self, c):
        return _new.SpendAggregate(c[3], self._span(c))

    def spend_total(self, c):
        return _new.SpendAggregate(None, self._span(c))

    def count_last(self, c):
        return _new.CountAggregate(self._name(c[2]), c[5], self._span(c))

    def count_total(self, c):
        return _new.CountAggregate(self._name(c[2]), None, self._span(c))

    # -- values
    def number(self, c):
        return self._number(c[0])

    def money(self, c):
        amount, code = c
        return _new.Money(
            self._decimal(amount),
            self._name(code),
            amount.type == "DECIMAL_COMMA",
            str(amount),
            self._span(c),
        )

    def text(self, c):
        return self._text(c[0])

    def date(self, c):
        return self._date(c[0])

    def word(self, c):
        return _new.Word(str(c[0]), self._tok_span(c[0]))

    def boolean(self, c):
        return _new.Bool(c[0] == "true", self._tok_span(c[0]))

    def duration(self, c):
        unit = str(c[1])
        return _new.Duration(
            self._decimal(c[0]), unit.rstrip("s"), unit.endswith("s"), str(c[0]), self._span(c)
        )


# ---------------------------------------------------------------------------- statements and comments


@attrs.frozen
class Comment:
    """A ``#`` comment: ``own_line`` when nothing but white space stands before it."""

    line: int
    column: int
    text: str
    own_line: bool


@attrs.frozen
class StatementChunk:
    """The lines of one statement: its first line and its text (continuation lines included)."""

    first_line: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def comment_start(line: str) -> int:
    """The index of the ``#`` that starts a comment on this line, or -1 (``#`` in text is text)."""
    in_text = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_text:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_text = False
        elif ch == '"':
            in_text = True
        elif ch == "#":
            return i
        i += 1
    return -1


def source_lines(source: str) -> list[str]:
    """The lines of a ruleset as the lexer counts them: only ``\n`` ends a line.

    (``str.splitlines`` would also break at form feeds, ``\x85`` or ``\u2028``, which may stand
    inside a quoted text.)
    """
    return [line[:-1] if line.endswith("\r") else line for line in source.split("\n")]


def find_comments(source: str) -> tuple[Comment, ...]:
    comments = []
    for number, line in enumerate(source_lines(source), start=1):
        at = comment_start(line)
        if at >= 0:
            comments.append(Comment(number, at + 1, line[at:].rstrip(), not line[:at].strip()))
    return tuple(comments)


def split_statements(source: str) -> list[StatementChunk]:
    """Cut a file into statements by the same line rule the post-lexer applies.

    A non-indented line with code starts a statement; an indented line directly below a line of
    an open statement continues it; a blank line, or a non-indented comment line, closes it.
    """
    chunks: list[StatementChunk] = []
    current: list[str] | None = None
    first = 0
    is_open = False
    for number, line in enumerate(source_lines(source), start=1):
        stripped = line.strip(" \t\f\r")
        if not stripped:
            is_open = False
            continue
        indented = line[0] in " \t"
        if indented and is_open and current is not None:
            current.append(line)
            continue
        is_open = False
        if stripped.startswith("#"):
            continue
        if current is not None:
            chunks.append(StatementChunk(first, tuple(current)))
        current, first, is_open = [line], number, True
    if current is not None:
        chunks.append(StatementChunk(first, tuple(current)))
    return chunks


# ---------------------------------------------------------------------------- the parser


@attrs.frozen
class ParsedFile:
    """What the parser made of one file: the tree of every statement that parsed, the comments
    (for ``fmt``), the syntax diagnostics, and the names that broken statements tried to declare
    (so that the checker does not pile "unknown name" errors on top of a syntax error)."""

    ruleset: ast.Ruleset
    source: str
    comments: tuple[Comment, ...]
    diagnostics: tuple[Diagnostic, ...]
    broken_declarations: frozenset[tuple[str, str]] = frozenset()

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


_DECLARATION_START = re.compile(
    r'^\s*(?:(event|segment|tier)\s+([A-Za-z_]\w*)|(rule)\s+"((?:[^"\\]|\\.)*)"|(customer)\s+has'
    r'|(voucher|free|reward)\s+"((?:[^"\\]|\\.)*)")'
)


def _declared_by_broken(text: str) -> set[tuple[str, str]]:
    match = _DECLARATION_START.match(text)
    if not match:
        return set()
    if match.group(1):
        return {(match.group(1), match.group(2))}
    if match.group(3):
        return {("rule", unquote('"' + match.group(4) + '"'))}
    if match.group(5):
        return {("customer", "*")}
    return {(match.group(6), unquote('"' + match.group(7) + '"'))}


class Parser:
    """Parses ruleset text. Holds two Lark instances (fast and careful): build one and reuse it.

    Not shared between threads: Lark's parser keeps no per-parse state on the instance, but the
    syntax-message memo here does, so give each thread its own ``Parser``.
    """

    def __init__(self) -> None:
        self.builder = AstBuilder()
        # the careful path: the contextual lexer; error recovery and syntax messages use it
        self.lark = build_lark(transformer=self.builder)
        # the fast path: one regex over the whole text (rewardlang.fast_lexer), same tables,
        # same tree builder; any failure on it falls back to the careful path
        self.fast_lark = build_lark(transformer=self.builder, fast=True)
        self.fast_lexer = self.fast_lark.parser.lexer
        try:  # Lark's parser loop, flattened (it reads Lark's internals: if they change, skip)
            from rewardlang.fast_lexer import FastParse

            self._fast_parse = FastParse(self.fast_lark)
            #: lex and parse a text in one loop (FastParse.parse_text)
            self._fast_parse_text = partial(self._fast_parse.parse_text, self.fast_lexer)
        except Exception:  # noqa: BLE001
            self._fast_parse = self.fast_lark.parse
            self._fast_parse_text = lambda text, comments: self._fast_parse(self.fast_lexer.scan(text, comments))
        self.keywords = keywords_of(self.lark)
        self._messages: dict[object, tuple[str, str | None] | None] = {}
        self._examples: list | None = None

    def parse(self, text: str, filename: str = "<string>", *, fast: bool = True) -> ParsedFile:
        """Parse a file. The fast path first (unless ``fast=False``); should it fail in any way
        (a syntax error, a keyword used as a name, a character it cannot lex) the careful path
        parses the file again: the contextual lexer on the whole file, and then, if that fails
        too, statement by statement with diagnostics.

        The cyclic garbage collector is paused while the tree is built (the parse makes many
        small objects and no garbage cycles; the collector's passes over them cost a third of
        the time) and restored afterwards, the tree promoted to its oldest generation
        (``collector.paused``).
        """
        source = text
        if source.startswith("\ufeff"):
            source = source[1:]
        try:
            return self._parse(source, filename, fast)
        finally:
            self.builder.decimals.clear()

    def _parse(self, source: str, filename: str, fast: bool) -> ParsedFile:
        with collector.paused(promote=True):
            if fast:
                self.builder.filename, self.builder.line_offset = filename, 0
                try:
                    lexed: list = []  # the comments, as scan() meets them
                    statements = self._fast_parse_text(source + "\n", lexed)
                except Exception:  # noqa: BLE001 - any failure: the careful path decides
                    pass
                else:
                    comments = tuple(
                        Comment(c.line, c.column, c.text.rstrip(), c.own_line) for c in lexed
                    )
                    return ParsedFile(ast.Ruleset(tuple(statements), filename), source, comments, ())
            comments = find_comments(source)
            self.builder.filename, self.builder.line_offset = filename, 0
            try:
                statements = self.lark.parse(source + "\n")
            except UnexpectedInput:
                return self._parse_by_statement(source, filename, comments)
            return ParsedFile(ast.Ruleset(tuple(statements), filename), source, comments, ())

    def _parse_by_statement(self, source: str, filename: str, comments: tuple[Comment, ...]) -> ParsedFile:
        from rewardlang.syntax_errors import describe  # the error path only

        statements: list[ast.Statement] = []
        diagnostics: list[Diagnostic] = []
        broken: set[tuple[str, str]] = set()
        for chunk in split_statements(source):
            parsed = self._parse_chunk(chunk, filename)
            if isinstance(parsed, UnexpectedInput):
                diagnostics.append(describe(self, parsed, chunk, filename))
                broken |= _declared_by_broken(chunk.text)
                joined = self._joined_line_warning(chunk, filename) or _detached_line_warning(
                    chunk, filename
                )
                if joined is not None:
                    diagnostics.append(joined)
            else:
                statements.extend(parsed)
        return ParsedFile(
            ast.Ruleset(tuple(statements), filename), source, comments, tuple(diagnostics), frozenset(broken)
        )

    def _parse_chunk(self, chunk: StatementChunk, filename: str) -> list | UnexpectedInput:
        self.builder.filename, self.builder.line_offset = filename, chunk.first_line - 1
        try:
            return self.lark.parse(chunk.text + "\n")  # type: ignore[no-any-return]
        except UnexpectedInput as exc:
            return exc

    def _joined_line_warning(self, chunk: StatementChunk, filename: str) -> Diagnostic | None:
        """RL904: the statement fails as joined, but its lines parse as separate statements."""
        if len(chunk.lines) < 2:
            return None
        for i in range(1, len(chunk.lines)):
            line = chunk.lines[i]
            if not line.strip() or line.strip().startswith("#"):
                continue
            head = StatementChunk(chunk.first_line, chunk.lines[:i])
            tail = StatementChunk(chunk.first_line + i, (line.lstrip(" \t"),) + chunk.lines[i + 1 :])
            if isinstance(self._parse_chunk(head, filename), UnexpectedInput):
                continue
            if isinstance(self._parse_chunk(tail, filename), UnexpectedInput):
                continue
            indent = len(line) - len(line.lstrip(" \t"))
            span = ast.Span(filename, chunk.first_line + i, 1, chunk.first_line + i, indent + 1)
            return warning(
                "RL904",
                "this line starts with a space, so it continues the statement above, and together "
                "they do not make a statement",
                span,
                "remove the indentation to start a new statement here",
            )
        return None


def _detached_line_warning(chunk: StatementChunk, filename: str) -> Diagnostic | None:
    """RL904, the other way round: an indented line that a blank or comment line cut off."""
    first = chunk.lines[0]
    indent = len(first) - len(first.lstrip(" \t"))
    if indent == 0 or chunk.first_line == 1:
        return None
    span = ast.Span(filename, chunk.first_line, 1, chunk.first_line, indent + 1)
    return warning(
        "RL904",
        "this line is indented, but the blank line or comment line above it ends the statement "
        "before, so it starts a statement of its own",
        span,
        "remove the blank line or move the comment, to continue the statement above",
    )


_local = threading.local()


def default_parser() -> Parser:
    """One parser per thread, built on first use (never at import time)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = Parser()
    return parser


__all__ = [
    "Comment",
    "ContinuationPostLexer",
    "ParsedFile",
    "Parser",
    "build_lark",
    "default_parser",
    "find_comments",
    "grammar_text",
    "split_statements",
]
