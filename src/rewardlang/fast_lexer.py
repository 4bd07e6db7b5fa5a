"""The fast path's lexer: one compiled regular expression over the whole text.

Lark's contextual lexer asks the parser, token by token, which terminals may come next, and
tries only those; that is what lets it read a keyword as a name where no keyword fits, and it
is most of the time of a parse. ``FastLexer`` does not ask: it lexes the whole file in one pass
with one regular expression built from the grammar's own terminals, in the order Lark's lexers
try them (priority, then width, then length, then name), with the literal keywords folded into
``NAME`` the way Lark folds them (a ``NAME`` whose text is a keyword is that keyword's terminal).

It is meant for the happy path only. Where the contextual lexer would have read a keyword as a
``NAME`` (a keyword used as a name), a number as a ``NUMBER`` where a ``DATE`` did not fit, or a
keyword glued to what follows as two tokens (``5 pointsper 10 SEK``: where no name fits, the
contextual lexer takes the keyword ``points`` and then ``per``), the fast lexer emits what it
always emits; the parser then fails, and ``rewardlang.parser.Parser`` parses the file again on
the careful path (the contextual lexer; statement by statement if the whole file fails), which
decides and produces the diagnostics. A character the fast lexer cannot lex raises
``UnexpectedCharacters``.

Why a successful fast parse is the careful parse: in each parser state the contextual lexer
tries the same terminals, in the same order, restricted to those the state accepts. When the
fast lexer's token was accepted by the parser, it was among those, and it was the first
terminal (in that order) to match at its position; so it is also the first of the accepted ones
to match, which is what the contextual lexer picks.

The continuation rule of the post-lexer (``rewardlang.parser.ContinuationPostLexer``: a ``_NL``
with exactly one line break, followed by indentation, is dropped) is applied here, so the Lark
instance that uses this lexer is built without a post-lexer.

Tokens carry ``type``, ``start_pos``, ``line``, ``column`` (1-based), ``end_line``,
``end_column`` and ``end_pos`` exactly as Lark's lexers set them. Besides lexing for Lark (pass
``lexer=FastLexer`` to ``Lark``), ``FastLexer.tokenize`` returns the tokens and the comments of
a text, and ``FastLexer.scan`` yields the tokens one at a time (a token the parser has consumed
is freed); either may be given to ``Lark.parse`` in place of the text. The parser's fast path
uses ``FastParse.parse_text``: ``scan``'s steps and Lark's LALR loop over the same tables and
callbacks in one flat loop, each token parsed as soon as it is lexed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import Any, NamedTuple

from lark import Token
from lark.common import LexerConf
from lark.exceptions import UnexpectedCharacters, UnexpectedToken
from lark.lexer import Lexer, LexerState, PatternRE, PatternStr, TerminalDef
from lark.utils import TextSlice

try:  # the parser of regular expressions (private, stable): re._parser since Python 3.11
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = [
    "CONTINUATION_TERMINAL",
    "FastLexer",
    "FastParse",
    "LexedComment",
    "blank_run_chars",
    "first_chars",
    "may_start_with",
    "newline_may_appear",
]

#: the terminal of line breaks, to which the continuation rule applies
CONTINUATION_TERMINAL = "_NL"

_ERROR_GROUP = "FASTLEX__ERROR"
_END_GROUP = "FASTLEX__END"


class LexedComment(NamedTuple):
    """A comment token met while lexing (comments are ignored by the parser)."""

    line: int
    column: int
    text: str  # as written, up to the end of its line (a ``\\r`` of ``\\r\\n`` included)
    own_line: bool  # nothing but white space before it on its line


def newline_may_appear(regexp: str) -> bool:
    """Lark's own test (``lark.lexer._regexp_has_newline``) of whether a terminal's text may
    hold a line break, and so whether line numbers must be counted inside it."""
    return "\n" in regexp or "\\n" in regexp or "\\s" in regexp or "[^" in regexp or (
        "(?s" in regexp and "." in regexp
    )


def _sort_key(t: TerminalDef) -> tuple[int, int, int, str]:
    # the order of lark.lexer.BasicLexer: priority, widest, longest pattern text, name
    return (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name)


def _matches_whole(regexp: str, text: str, flags: int) -> bool:
    # as lark.lexer._get_match: the first match at the start is the whole text
    m = re.match(regexp, text, flags)
    return m is not None and m.group(0) == text


# ---------------------------------------------------------------------------- first characters
# To skip blanks inside the regular expression (instead of one Python step per run of blanks),
# the lexer must know that no terminal tried before the blanks can begin with a blank. These
# helpers answer from the parsed regular expression, and answer "maybe" whenever unsure.

_CATEGORY_TESTS = {
    _sre.CATEGORY_DIGIT: r"\d", _sre.CATEGORY_NOT_DIGIT: r"\D",
    _sre.CATEGORY_SPACE: r"\s", _sre.CATEGORY_NOT_SPACE: r"\S",
    _sre.CATEGORY_WORD: r"\w", _sre.CATEGORY_NOT_WORD: r"\W",
}


def _in_class(items: list, ch: str) -> bool:
    """Whether ``ch`` is in the character class ``items`` (True when unsure)."""
    code = ord(ch)
    negate = False
    hit = False
    for op, av in items:
        if op is _sre.NEGATE:
            negate = True
        elif op is _sre.LITERAL:
            hit = hit or av == code
        elif op is _sre.RANGE:
            hit = hit or av[0] <= code <= av[1]
        elif op is _sre.CATEGORY and av in _CATEGORY_TESTS:
            hit = hit or re.fullmatch(_CATEGORY_TESTS[av], ch) is not None
        else:
            return True
    return hit != negate


def _starts_with(seq: Any, ch: str) -> bool | None:
    """Whether a match of the parsed ``seq`` may begin with ``ch``: True (maybe), False (never),
    or None when ``seq`` may match the empty string and the answer lies with what follows."""
    for op, av in seq:
        if op is _sre.LITERAL:
            return av == ord(ch)
        if op is _sre.NOT_LITERAL:
            return av != ord(ch)
        if op is _sre.IN:
            return _in_class(av, ch)
        if op is _sre.SUBPATTERN:
            if av[1] & re.IGNORECASE:  # (?i:...): the case of a letter is not worth the bother
                return True
            found = _starts_with(av[-1], ch)
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)):
            low, _high, body = av
            found = _starts_with(body, ch)
            if low == 0 and found is False:
                found = None
        elif op is _sre.BRANCH:
            answers = [_starts_with(alt, ch) for alt in av[1]]
            found = True if True in answers else (None if None in answers else False)
        elif op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
            found = None  # takes no character
        else:
            return True
        if found is not None:
            return found
    return None


def may_start_with(regexp: str, ch: str, flags: int = 0) -> bool:
    """Whether some match of ``regexp`` may begin with the character ``ch`` (True if unsure)."""
    try:
        parsed = _sre_parse.parse(regexp, flags)
    except Exception:  # an unknown construct: assume the worst
        return True
    if parsed.state.flags & re.IGNORECASE:
        return True
    return _starts_with(parsed, ch) is not False


def first_chars(regexp: str, flags: int = 0) -> frozenset[str] | None:
    """The characters every match of ``regexp`` begins with, when they are a known finite set
    (a literal, or a class of literals and ranges, first): else None."""
    try:
        parsed = _sre_parse.parse(regexp, flags)
    except Exception:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    seq = list(parsed)
    while seq and seq[0][0] is _sre.SUBPATTERN and not seq[0][1][1] & re.IGNORECASE:
        seq = list(seq[0][1][-1]) + seq[1:]  # a group first: what it begins with
    if not seq:
        return None
    op, av = seq[0]
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
        low, _high, body = av
        if low < 1:
            return None
        op, av = (list(body) or [(None, None)])[0]
    if op is _sre.LITERAL:
        return frozenset(chr(av))
    if op is _sre.IN and all(o in (_sre.LITERAL, _sre.RANGE) for o, _ in av):
        chars: set[str] = set()
        for o, v in av:
            if o is _sre.LITERAL:
                chars.add(chr(v))
            elif v[1] - v[0] > 1000:
                return None
            else:
                chars.update(chr(c) for c in range(v[0], v[1] + 1))
        return frozenset(chars)
    return None


def blank_run_chars(regexp: str) -> frozenset[str] | None:
    """The characters of ``regexp`` when it is a run of a class of literal characters
    (``[\\t \\f]+``), else None."""
    try:
        parsed = list(_sre_parse.parse(regexp))
    except Exception:
        return None
    if len(parsed) != 1 or parsed[0][0] is not _sre.MAX_REPEAT:
        return None
    low, _high, body = parsed[0][1]
    body = list(body)
    if low < 1 or len(body) != 1:
        return None
    op, av = body[0]
    if op is _sre.LITERAL:
        return frozenset(chr(av))
    if op is _sre.IN and all(o is _sre.LITERAL for o, _ in av):
        return frozenset(chr(v) for _, v in av)
    return None


class FastLexer(Lexer):
    """A Lark custom lexer (Lark's interface 2): ``lex(lexer_state, parser_state)``; the parser
    state is not looked at. See the module's documentation."""

    __future_interface__ = 2

    def __init__(self, lexer_conf: LexerConf) -> None:
        flags = lexer_conf.g_regex_flags
        terminals: list[TerminalDef] = sorted(lexer_conf.terminals, key=_sort_key)
        regex_terms = [t for t in terminals if isinstance(t.pattern, PatternRE)]
        string_terms = [t for t in terminals if isinstance(t.pattern, PatternStr)]

        # literal terminals that a regular-expression terminal matches whole ("rule" by NAME):
        # Lark lexes them as that terminal and then renames the token (its UnlessCallback)
        embedded: set[str] = set()
        renames: dict[str, dict[str, str]] = {}
        for retok in regex_terms:
            regexp = retok.pattern.to_regexp()
            for strtok in string_terms:
                if strtok.priority != retok.priority:
                    continue
                if _matches_whole(regexp, strtok.pattern.value, flags):
                    renames.setdefault(retok.name, {})[strtok.pattern.value] = strtok.name
                    if strtok.pattern.flags <= retok.pattern.flags:
                        embedded.add(strtok.name)
        alternatives = [t for t in terminals if t.name not in embedded]

        self.terminals = terminals
        self.terminals_by_name = {t.name: t for t in terminals}
        self.ignore_types: frozenset[str] = frozenset(lexer_conf.ignore)
        self.newline_types: frozenset[str] = frozenset(
            t.name for t in terminals if newline_may_appear(t.pattern.to_regexp())
        )
        #: the comments: the ignored terminals whose text begins with ``#``
        self.comment_types: frozenset[str] = frozenset(
            t.name for t in terminals
            if t.name in self.ignore_types and _matches_whole(t.pattern.to_regexp(), "#", flags)
        )
        #: regular-expression terminal -> {literal text: terminal of that literal}
        self.renames = renames
        #: every keyword (a literal that NAME-like terminals are renamed to): text -> terminal
        self.keywords: dict[str, str] = {k: v for m in renames.values() for k, v in m.items()}

        # Ignored runs of blanks are skipped inside the regular expression, before each token,
        # when no terminal that Lark tries before them can begin with a blank (else they stay
        # alternatives like any other, and cost one Python step each).
        hoisted: list[TerminalDef] = []
        for i, t in enumerate(alternatives):
            if t.name not in self.ignore_types or t.name in self.comment_types:
                continue
            if t.name in self.newline_types:
                continue
            chars = blank_run_chars(t.pattern.to_regexp())
            if chars is None:
                continue
            earlier = [e for e in alternatives[:i] if e not in hoisted]
            if any(may_start_with(e.pattern.to_regexp(), ch, flags) for e in earlier for ch in chars):
                continue
            hoisted.append(t)
        self.skipped_in_regex: frozenset[str] = frozenset(t.name for t in hoisted)
        alternatives = [t for t in alternatives if t not in hoisted]

        # The identifier terminal (every keyword is lexed as it) is most of the tokens: it is
        # tried first when no terminal tried before it can begin with a character it begins with
        # (then at most one of them matches at any place, and the order changes nothing). Each
        # alternative that fails costs the regular expression a jump: about 4 % of lexing.
        for name in sorted(renames):
            term = self.terminals_by_name[name]
            chars = first_chars(term.pattern.to_regexp(), flags)
            at = alternatives.index(term) if term in alternatives else -1
            if chars is None or at <= 0:
                continue
            if not any(may_start_with(e.pattern.to_regexp(), ch, flags) for e in alternatives[:at] for ch in chars):
                alternatives.insert(0, alternatives.pop(at))
        #: the terminals in the order the regular expression tries them
        self.regex_order: tuple[str, ...] = tuple(t.name for t in alternatives)

        pattern = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in alternatives)
        # anything else: one character that no terminal matches, an error
        pattern += f"|(?P<{_ERROR_GROUP}>[\\s\\S])"
        if hoisted:
            blanks = "|".join(f"(?:{t.pattern.to_regexp()})" for t in hoisted)
            # atomic: a run of blanks is never split; and blanks at the very end of the text
            # match the end (an empty token, skipped), else the search would fail there and
            # start again at each of them: quadratic
            pattern = f"(?>(?:{blanks})*)(?:{pattern}|(?P<{_END_GROUP}>\\Z))"
        self.regex = re.compile(pattern, flags)

    # ------------------------------------------------------------------ Lark's interface

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        text = lexer_state.text
        if not isinstance(text, (str, TextSlice)):  # already lexed: tokenize() or scan()
            return iter(text)
        if isinstance(text, TextSlice):
            tokens, _ = self.tokenize(text.text, text.start, text.end)
        else:
            tokens, _ = self.tokenize(text)
        return iter(tokens)

    # ------------------------------------------------------------------ the lexer

    def tokenize(
        self, text: str, start: int = 0, end: int | None = None
    ) -> tuple[list[Token], list[LexedComment]]:
        """The tokens of ``text[start:end]`` (continuation line breaks dropped, white space and
        comments skipped), and the comments met on the way.

        Raises ``UnexpectedCharacters`` at the first character that no terminal matches.
        """
        comments: list[LexedComment] = []
        return list(self.scan(text, comments, start, end)), comments

    def scan(
        self, text: str, comments: list[LexedComment], start: int = 0, end: int | None = None
    ) -> Iterator[Token]:
        """``tokenize`` one token at a time, the comments appended to ``comments`` as they are
        met: the parser consumes the tokens as they come, and a token it has consumed is freed
        (a 100,000-rule file is 1.4 million tokens; held in a list, they are hundreds of MB).
        """
        if end is None:
            end = len(text)
        if start > 0:
            line = text.count("\n", 0, start) + 1
            line_start = text.rfind("\n", 0, start) + 1
        else:
            line, line_start = 1, 0

        str_new = str.__new__
        renames = self.renames
        ignore = self.ignore_types
        newline_types = self.newline_types
        comment_types = self.comment_types
        continuation = CONTINUATION_TERMINAL
        error = _ERROR_GROUP
        end_of_text = _END_GROUP
        tok: Token | None = None  # the last token, for an error's history

        for m in self.regex.finditer(text, start, end):
            kind: str = m.lastgroup  # type: ignore[assignment]
            pos, stop = m.span(kind)
            value = text[pos:stop]
            if kind in renames:
                kind = renames[kind].get(value, kind)
            elif kind in newline_types:
                breaks = value.count("\n")
                if breaks:
                    column = pos - line_start + 1
                    first_line = line
                    line += breaks
                    line_start = pos + value.rindex("\n") + 1
                    if kind == continuation and breaks == 1 and value[-1] in " \t":
                        continue  # the next line continues this statement
                    if kind not in ignore:  # a line break that ends a statement: by hand, as below
                        tok = str_new(Token, value)
                        tok.type = kind
                        tok.value = value
                        tok.start_pos = pos
                        tok.line = first_line
                        tok.column = column
                        tok.end_line = line
                        tok.end_column = stop - line_start + 1
                        tok.end_pos = stop
                        yield tok
                    continue
                if kind in ignore:
                    if kind in comment_types:
                        comments.append(LexedComment(
                            line, pos - line_start + 1, value, not text[line_start:pos].strip()
                        ))
                    continue
            elif kind in ignore or kind == end_of_text:
                continue
            elif kind == error:
                raise UnexpectedCharacters(
                    text, pos, line, pos - line_start + 1,
                    allowed={t.name for t in self.terminals} - ignore,
                    token_history=[tok] if tok is not None else None,
                    terminals_by_name=self.terminals_by_name,
                )
            # Token(kind, value, pos, line, column, line, end column, stop), by hand: the hot spot
            tok = str_new(Token, value)
            tok.type = kind
            tok.value = value
            tok.start_pos = pos
            tok.line = tok.end_line = line
            tok.column = column = pos - line_start + 1
            tok.end_column = column + stop - pos
            tok.end_pos = stop
            yield tok


# ---------------------------------------------------------------------------- the parser loop


class _Reduce(tuple):  # type: ignore[type-arg]
    """A reduce action of the flattened table: (length of the rule, its callback, its origin)."""

    __slots__ = ()


class _Unit(tuple):  # type: ignore[type-arg]
    """A reduce action of one symbol whose callback returns that symbol's value unchanged:
    (its origin,). A third of all reductions (``verb: "earns" | "gives"``, a ``?`` rule with one
    child); the loop only replaces the state, and calls nothing."""

    __slots__ = ()


class _Extend(tuple):  # type: ignore[type-arg]
    """A reduce action of a left-recursive repetition that Lark inlines into its parent
    (``__start_star_0: __start_star_0 statement _NL``): (length of the rule, its origin). Its
    value is a plain list — the first child's list, the other children appended — where Lark
    builds a ``Tree`` through four calls (a child filter, a partial, the transformer's
    ``__default__``, ``Tree``) only for the parent to take its children out again. One a
    statement and one a modifier; the loop does it in place."""

    __slots__ = ()


class _Pad(tuple):  # type: ignore[type-arg]
    """A reduce action whose Lark child filter only adds ``None`` for optional parts left out
    (``NAME [where]`` without ``where``): (length of the rule, its callback, its origin, the
    places and runs of ``None`` to insert into the children, in order). The loop inserts them
    and calls the callback itself: one call instead of two (about one a rule)."""

    __slots__ = ()


def _returns_only_child(callback: Any) -> bool:
    """Whether a rule's callback, given one child, returns it: Lark's ``ExpandSingleChild`` (a
    ``?`` rule), or a transformer method marked ``returns_only_child``."""
    from lark.parse_tree_builder import ExpandSingleChild

    if isinstance(callback, ExpandSingleChild):
        return True
    return getattr(getattr(callback, "__func__", callback), "returns_only_child", False) is True


def _child_filter(callback: Any) -> tuple[list[tuple[int, bool, int]], int, Any] | None:
    """A Lark LALR child filter's plan — (which children, whether each is expanded, how many
    ``None`` placeholders before it), the placeholders at the end, the callback it feeds — or
    None when ``callback`` is not one."""
    from lark.parse_tree_builder import ChildFilterLALR, ChildFilterLALR_NoPlaceholders

    if type(callback) is ChildFilterLALR:
        return [(i, bool(x), n) for i, x, n in callback.to_include], callback.append_none, callback.node_builder
    if type(callback) is ChildFilterLALR_NoPlaceholders:
        return [(i, bool(x), 0) for i, x in callback.to_include], 0, callback.node_builder
    return None


def _list_filter(to_include: list[tuple[int, bool, int]], append_none: int, builder: Any) -> Any:
    """Lark's ``ChildFilterLALR`` over children whose inlined (``_``) rules are plain lists
    rather than trees; ``builder`` None: the filtered list is the value (an inlined rule's own)."""

    def filtered_children(children: list) -> Any:
        filtered: list = []
        for i, expand, nones in to_include:
            if nones:
                filtered += [None] * nones
            if expand:
                if filtered:
                    filtered += children[i]
                else:  # as Lark: the left-recursive child's list is taken over
                    filtered = children[i]
            else:
                filtered.append(children[i])
        if append_none:
            filtered += [None] * append_none
        return filtered if builder is None else builder(filtered)

    return filtered_children


def _is_default_tree(callback: Any, name: str) -> bool:
    """Whether ``callback`` is Lark's default for a rule the transformer has no method for: a
    ``Tree(name, children)`` (through the transformer's ``__default__``)."""
    return isinstance(callback, partial) and callback.args == (name,) and not callback.keywords


def _compiled_action(rule: Any, callback: Any) -> Any:
    """The flattened table's reduce action for ``rule`` (see ``FastParse``). Rules that Lark
    inlines into their parent (names starting with ``_``) give plain lists instead of trees,
    and the parents' child filters take them as lists; any callback of a shape not known here
    raises, and the caller keeps Lark's own loop."""
    name = rule.origin.name
    size = len(rule.expansion)
    plan = _child_filter(callback)
    if name.startswith("_"):
        if plan is None:
            if not _is_default_tree(callback, name):
                raise TypeError(f"unexpected callback for {name}: {callback!r}")
            return _Reduce((size, None, name))  # the children as they are: the list itself
        to_include, append_none, builder = plan
        if not _is_default_tree(builder, name):
            raise TypeError(f"unexpected callback for {name}: {builder!r}")
        if size >= 2 and not append_none and to_include == [(0, True, 0)] + [(i, False, 0) for i in range(1, size)]:
            return _Extend((size, name))
        return _Reduce((size, _list_filter(to_include, append_none, None), name))
    inlined = [i for i, sym in enumerate(rule.expansion) if not sym.is_term and sym.name.startswith("_")]
    if plan is not None and any(expand for _, expand, _ in plan[0]):
        if sorted(i for i, expand, _ in plan[0] if expand) != inlined:
            raise TypeError(f"unexpected child filter for {name}")
        return _Reduce((size, _list_filter(*plan), name))
    if plan is not None and [i for i, _, _ in plan[0]] == list(range(size)):
        # every child kept, in order, none expanded: only placeholders to insert
        to_include, append_none, builder = plan
        pads: list[tuple[int, list[None]]] = []
        at = 0
        for _, _, nones in to_include:
            if nones:
                pads.append((at, [None] * nones))
                at += nones
            at += 1
        if append_none:
            pads.append((at, [None] * append_none))
        return _Pad((size, builder, name, tuple(pads)))
    if inlined:
        raise TypeError(f"unexpected callback for {name}: {callback!r}")
    if size == 1 and _returns_only_child(callback):
        return _Unit((name,))
    return _Reduce((size, callback, name))


class FastParse:
    """Lark's LALR parser loop, with the tables of a Lark instance, over a text it lexes itself
    (``parse_text``).

    ``lark.parse(tokens)`` calls a method per token (``ParserState.feed_token``) that looks up
    ``Rule`` objects in a dictionary on every reduction; this runs the same shift/reduce steps
    on the same tables with the same callbacks (the inline transformer), from a table flattened
    once, in one loop. It returns what ``lark.parse(tokens)`` returns and raises
    ``UnexpectedToken`` where that would fail (it keeps no interactive parser for recovery:
    the careful path is there for that).

    The rules Lark inlines into their parent (``_`` names: the repetitions) give plain lists, not
    trees, and the parents' child filters are rebuilt to take them (``_compiled_action``): the
    parents' callbacks see the same children. The table's reduce actions: ``_Reduce`` (a
    callback), ``_Unit`` (one child, returned as it is: no call), ``_Pad`` (placeholders of
    optional parts inserted in the loop, then the callback), ``_Extend`` (a left-recursive
    repetition's list grown in the loop).

    Built from Lark's internals (``lark.parser.parser.parser``: the parse table and callbacks);
    should they ever not have the expected shape, construction raises and the caller keeps
    ``lark.parse``.
    """

    def __init__(self, lark: Any) -> None:
        from lark.parsers.lalr_analysis import Shift

        frontend = lark.parser
        inner = frontend.parser.parser  # lark.parsers.lalr_parser._Parser
        table = inner.parse_table
        callbacks = inner.callbacks
        (start,) = frontend.parser_conf.start
        self.start_state = table.start_states[start]
        self.end_state = table.end_states[start]
        #: callbacks of terminals (Lark applies them when a token is shifted); none, usually
        self.token_callbacks = {k: v for k, v in callbacks.items() if isinstance(k, str)}
        # one dict per state; a shift or a goto holds the next state's dict itself (not its
        # number), so the loop follows it without a lookup
        rows: dict[Any, dict[str, Any]] = {state: {} for state in table.states}
        compiled: dict[Any, Any] = {}  # rule -> its action, one for all the rows it is in
        for state, row in table.states.items():
            flat = rows[state]
            for symbol, (action, arg) in row.items():
                if action is Shift:
                    flat[symbol] = rows[arg]
                else:
                    if arg not in compiled:
                        compiled[arg] = _compiled_action(arg, callbacks[arg])
                    flat[symbol] = compiled[arg]
        self.start_row = rows[self.start_state]
        self.end_row = rows[self.end_state]
        self.terminals_by_name = getattr(lark, "_terminals_dict", None)

    def parse_text(self, lexer: FastLexer, text: str, comments: list[LexedComment]) -> Any:
        """``lark.parse(lexer.scan(text, comments))`` in one loop: each token is lexed and
        parsed in the same iteration, without a generator between the two (its resumption, the
        loop over it and reading the token's type back cost about 3 % of a parse). The lexing is
        ``FastLexer.scan``'s, step for step, and the parsing Lark's shift/reduce steps on the
        flattened table: the tests hold it to ``scan`` fed to Lark's own loop and to the careful
        path, spans included. (There is no second loop over a token list: the parser's fast
        path only ever parses text.)"""
        token_callbacks = self.token_callbacks
        end_row = self.end_row
        row = self.start_row
        states = [row]
        values: list[Any] = []
        push_state = states.append
        push_value = values.append

        line, line_start = 1, 0
        str_new = str.__new__
        renames = lexer.renames
        ignore = lexer.ignore_types
        newline_types = lexer.newline_types
        comment_types = lexer.comment_types
        continuation = CONTINUATION_TERMINAL
        error = _ERROR_GROUP
        end_of_text = _END_GROUP
        tok: Token | None = None
        # the identifier terminal and its keywords (one such terminal: NAME), looked up directly
        if len(renames) == 1:
            ((identifier, keywords),) = renames.items()
            keyword_of = keywords.get
        else:  # pragma: no cover - not this grammar: no shortcut
            identifier, keyword_of = None, None
        # the matches, then the end of the input (None): one loop for both (the end state is
        # reached only by reducing on the end, so a reduction that lands there has parsed it all)
        for phase in (lexer.regex.finditer(text), (None,)):
            for m in phase:
                # ---- the next token (FastLexer.scan), or the end of the input
                if m is None:
                    tok = Token.new_borrow_pos("$END", "", tok) if tok else Token("$END", "", 0, 1, 1)
                    kind = "$END"
                else:
                    kind = m.lastgroup  # type: ignore[assignment]
                    pos, stop = m.span(kind)
                    value = text[pos:stop]
                    first_line = line
                    if kind == identifier:
                        kind = keyword_of(value, kind)
                        column = pos - line_start + 1
                        end_column = column + stop - pos
                    elif kind in renames:
                        kind = renames[kind].get(value, kind)
                        column = pos - line_start + 1
                        end_column = column + stop - pos
                    elif kind in newline_types:
                        breaks = value.count("\n")
                        if breaks:
                            column = pos - line_start + 1
                            line += breaks
                            line_start = pos + value.rindex("\n") + 1
                            if kind == continuation and breaks == 1 and value[-1] in " \t":
                                continue  # the next line continues this statement
                            if kind in ignore:
                                continue
                            end_column = stop - line_start + 1
                        elif kind in ignore:
                            if kind in comment_types:
                                comments.append(LexedComment(
                                    line, pos - line_start + 1, value, not text[line_start:pos].strip()
                                ))
                            continue
                        else:
                            column = pos - line_start + 1
                            end_column = column + stop - pos
                    elif kind in ignore or kind == end_of_text:
                        continue
                    elif kind == error:
                        raise UnexpectedCharacters(
                            text, pos, line, pos - line_start + 1,
                            allowed={t.name for t in lexer.terminals} - ignore,
                            token_history=[tok] if tok is not None else None,
                            terminals_by_name=lexer.terminals_by_name,
                        )
                    else:
                        column = pos - line_start + 1
                        end_column = column + stop - pos
                    tok = str_new(Token, value)
                    tok.type = kind
                    tok.value = value
                    tok.start_pos = pos
                    tok.line = first_line
                    tok.column = column
                    tok.end_line = line
                    tok.end_column = end_column
                    tok.end_pos = stop
                # ---- its shift, after the reductions it calls for (Lark's LALR steps)
                while True:
                    try:
                        act = row[kind]
                    except KeyError:
                        raise self._unexpected(tok, row) from None
                    cls = act.__class__
                    if cls is dict:
                        push_state(act)
                        push_value(token_callbacks[kind](tok) if token_callbacks and kind in token_callbacks
                                   else tok)
                        row = act
                        break
                    if cls is _Reduce:
                        size, callback, origin = act
                        if size:
                            children = values[-size:]
                            del values[-size:]
                            del states[-size:]
                        else:
                            children = []
                        push_value(children if callback is None else callback(children))
                        row = states[-1][origin]
                    elif cls is _Unit:
                        del states[-1]
                        row = states[-1][act[0]]
                    elif cls is _Pad:
                        size, callback, origin, pads = act
                        children = values[-size:]
                        del values[-size:]
                        del states[-size:]
                        for at, nones in pads:
                            children[at:at] = nones
                        push_value(callback(children))
                        row = states[-1][origin]
                    else:
                        size, origin = act
                        values[-size] += values[1 - size:]
                        del values[1 - size:]
                        del states[-size:]
                        row = states[-1][origin]
                    if row is end_row:
                        return values[-1]
                    push_state(row)
        raise self._unexpected(tok, row)  # pragma: no cover - no table shifts the end

    def _unexpected(self, token: Token, row: dict[str, Any]) -> Exception:
        expected = {s for s in row if s.isupper()}
        return UnexpectedToken(token, expected, terminals_by_name=self.terminals_by_name)
