"""Syntax errors in words a marketer understands, not token names.

Lark's ``match_examples`` matches the parser state of an error against the states that known
mistakes (``EXAMPLES``) put it in; the first example whose state matches gives the message. A
test parses every example and checks that it still lands on its own message, so a grammar change
that moves the states is caught. Anything no example covers gets a sentence built from what the
parser expected, with every terminal named in words.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

import attrs

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from rewardlang import ast
from rewardlang.diagnostics import Diagnostic, error

if TYPE_CHECKING:
    from rewardlang.parser import Parser, StatementChunk

# message, help, and the statements that make that mistake
EXAMPLES: dict[tuple[str, str | None], list[str]] = {
    (
        "a rule needs `earns` or `gives` before its reward",
        'write it like `purchase earns 10 points`',
    ): [
        "purchase 10 points",
        'rule "x": purchase 10 points',
        "first purchase 10 points",
        "5 purchases 1 free",
        'purchase where amount >= 10 SEK 10 points',
        "birthday 100 points",
        "inactive for 3 months message \"x\"",
        "tier change to gold message \"x\"",
        "every 100 SEK spent 1 voucher \"x\"",
    ],
    (
        "after `earns` or `gives` comes the reward: points, a voucher, a free item or a message",
        'for example `earns 50 points`, `gives 1 voucher "100 SEK off"`, `gives 1 free "book"` or '
        '`gives message "welcome"`',
    ): [
        "purchase earns",
        "purchase earns lots",
        'purchase gives "x"',
        "purchase earns points",
    ],
    (
        "a number of points is followed by `point` or `points`",
        "write `50 points`, or `1 point per 10 SEK`",
    ): [
        "purchase earns 50",
        "purchase earns 50 pts",
    ],
    (
        "after `per` comes an amount of money with its currency code",
        "write it like `1 point per 10 SEK`",
    ): [
        "purchase earns 1 point per",
        "purchase earns 1 point per 10",
        "purchase earns 1 point per SEK",
    ],
    (
        "modifiers after the reward are separated by commas",
        "write it like `review earns 50 points, at most 3 per month`",
    ): [
        "review earns 50 points at most 3 per month",
        "review earns 50 points once",
        'review gives 1 voucher "x" once',
        'review gives message "x" once',
        "review earns 1 point per 10 SEK once",
        "review earns 1 point once",
        'purchase gives 1 free "book" once',
    ],
    (
        "this is not a modifier",
        "a modifier is one of: `for SEGMENT`, `from DATE to DATE`, `on WEEKDAY`, `between HH:MM and "
        'HH:MM`, `at most N per PERIOD`, `at most N in total`, `once`, `at most N points per '
        'PERIOD`, `instead of "RULE"`',
    ): [
        "review earns 50 points, twice",
        "review earns 50 points,",
        "review earns 50 points, 3 per month",
        "review earns 50 points, once, twice",
    ],
    (
        "`at most` needs a number and then `per day|week|month|year`, `in total` or `points per …`",
        "write it like `at most 3 per month` or `at most 500 points per month`",
    ): [
        "review earns 50 points, at most",
        "review earns 50 points, at most 3",
        "review earns 50 points, at most 3 a month",
        "review earns 50 points, at most 3 per",
        "review earns 50 points, at most 3 per fortnight",
        "review earns 50 points, at most 3 in",
        "review earns 50 points, at most 500 points",
        "review earns 50 points, at most 500 points per",
        "review earns 50 points, at most 500 points a month",
    ],
    (
        "`from` needs two dates: `from YYYY-MM-DD to YYYY-MM-DD`",
        "write it like `from 2026-12-01 to 2026-12-24`",
    ): [
        "review earns 50 points, from",
        "review earns 50 points, from december",
        "review earns 50 points, from 2026-12-01",
        "review earns 50 points, from 2026-12-01 until 2026-12-24",
        "review earns 50 points, from 2026-12-01 to",
        "review earns 50 points, from 2026-12-01 to christmas",
    ],
    (
        "`on` takes weekday names in lower case: monday … sunday",
        "write it like `on saturday or sunday`",
    ): [
        "review earns 50 points, on",
        "review earns 50 points, on weekends",
        "review earns 50 points, on saturday or",
        "review earns 50 points, on saturday and sunday",
    ],
    (
        "`between` in a modifier takes two times of day: `between HH:MM and HH:MM`",
        "write it like `between 22:00 and 02:00`",
    ): [
        "review earns 50 points, between",
        "review earns 50 points, between 22:00",
        "review earns 50 points, between 22:00 and",
        "review earns 50 points, between 10 and 12",
    ],
    (
        "`for` takes segment or tier names",
        "write it like `for gold`, `for gold or silver` or `for not gold`",
    ): [
        "review earns 50 points, for",
        'review earns 50 points, for "gold"',
        "review earns 50 points, for gold and silver",
        "review earns 50 points, for not",
    ],
    (
        "`instead of` takes rule names in double quotes",
        'write it like `instead of "Base points"` or `instead of "A" and "B"`',
    ): [
        "review earns 50 points, instead",
        "review earns 50 points, instead of",
        "review earns 50 points, instead of base_points",
        'review earns 50 points, instead of "A" or "B"',
    ],
    (
        "a rule's name is written in double quotes and followed by a colon",
        'write it like `rule "Welcome": signup earns 100 points`',
    ): [
        "rule Welcome: signup earns 100 points",
        'rule "Welcome" signup earns 100 points',
        "rule",
        'rule "Welcome"',
    ],
    (
        "after the rule's name comes what triggers it: an event, `first EVENT`, `N EVENTS`, "
        "`every …`, `birthday`, `tier change`, `inactive for …` or `N points converts to`",
        'write it like `rule "Welcome": signup earns 100 points`',
    ): [
        'rule "Welcome":',
        'rule "Welcome": earns 100 points',
        'rule "Welcome": "signup" earns 100 points',
    ],
    (
        "a condition compares a field with a value",
        'write it like `where amount >= 300 SEK` or `where category is "books"`',
    ): [
        "purchase where earns 10 points",
        "purchase where amount earns 10 points",
        "purchase where amount >= earns 10 points",
        "purchase where amount is earns 10 points",
        "purchase where amount >=",
        "purchase where (amount >= 3 earns 10 points",
        "purchase where amount >= 3 and earns 10 points",
        "purchase where amount >= 3 or earns 10 points",
        "purchase where not earns 10 points",
        "purchase where amount == 3 earns 10 points",
    ],
    (
        "`in` takes a list in square brackets",
        'write it like `category in ["books", "games"]`',
    ): [
        'purchase where category in "books" earns 1 point',
        'purchase where category in ["books" "games"] earns 1 point',
        'purchase where category not "books" earns 1 point',
        'purchase where category not in "books" earns 1 point',
    ],
    (
        "after `and` or `or` comes a whole comparison, with its field",
        'write it like `stars >= 4 and stars <= 5`, or `category in ["books", "games"]`',
    ): [
        "review where stars >= 4 and <= 5 earns 10 points",
        'purchase where category is "books" or "games" earns 10 points',
    ],
    (
        "a voucher's name is written in double quotes",
        'write it like `gives 1 voucher "100 SEK off"`',
    ): [
        "purchase gives voucher 100 SEK off",
        "purchase gives 1 voucher",
        "purchase gives 2 vouchers 100",
        "500 points converts to voucher",
    ],
    (
        "a message is written in double quotes",
        'write it like `gives message "welcome"`',
    ): [
        "signup gives message welcome",
        "signup gives message",
    ],
    (
        "`between` in a condition takes two values joined by `and`",
        "write it like `amount between 100 SEK and 500 SEK`",
    ): [
        "purchase where amount between 100 SEK earns 1 point",
        "purchase where amount between 100 SEK to 500 SEK earns 1 point",
    ],
    (
        "a duration is a number and a unit: days, weeks, months or years",
        "write it like `12 months`",
    ): [
        "points expire after 12",
        "points expire after",
        "points expire after twelve months",
        "points pending for 14 hours",
        "refunds accepted within 90",
        "inactive for 6 gives message \"x\"",
        "purchase where spend in last 12 earns 1 point",
        "purchase where count of purchases in last 3 earns 1 point",
        'notify "x" 30 before points expire',
    ],
    (
        "this setting is not written that way",
        "the settings are: `program \"NAME\"`, `currency CODE`, `timezone \"AREA/CITY\"`, `points "
        "expire after DURATION [without activity]`, `points pending for DURATION`, `refunds accepted "
        "within DURATION`, `point value MONEY`, `rounding down|nearest|up`",
    ): [
        "points expire 12 months",
        "points",
        "points expire after 12 months with activity",
        "points expire after 12 months without",
        "points pending 14 days",
        "refunds within 90 days",
        "refunds accepted 90 days",
        "point value",
        "point value 10",
        "point 10 SEK",
        "rounding",
        "rounding half",
        "program Bookshop",
        "program",
        "timezone Europe",
        "timezone",
        "currency",
        'currency "SEK"',
    ],
    (
        "a field is declared as a name and a type: money, number, text, date, bool or list of text",
        "write it like `event purchase with amount money, category text`",
    ): [
        "event purchase with amount",
        "event purchase with amount string",
        "event purchase with",
        "event purchase with amount money category text",
        "customer has city",
        "customer has",
        "customer city text",
        "customer has tags list",
        "customer has tags list of number",
        "event purchase with amount money optional optional",
        "event purchase with amount money, items int",
        "event purchase with amount money, category text, items int",
        "customer has city text, age years",
        "customer has city text, gender text, age years",
    ],
    (
        "an event is declared as `event NAME` or `event NAME with FIELD TYPE, ...`",
        "write it like `event review with stars number`",
    ): [
        "event",
        'event "review"',
        "event review stars number",
    ],
    (
        "a segment or tier is declared as `NAME = CONDITION`",
        "write it like `segment stockholm = customer.city is \"Stockholm\"` or `tier gold = spend "
        "in last 12 months >= 5000 SEK`",
    ): [
        "segment stockholm",
        "segment stockholm customer.city is \"Stockholm\"",
        "segment",
        "tier gold",
        "tier",
        "tier gold spend in last 12 months >= 5000 SEK",
        "tier gold =",
        "segment s =",
    ],
    (
        "`kept for` after a tier's condition needs a duration",
        "write it like `tier gold = spend in last 12 months >= 5000 SEK, kept for 12 months`",
    ): [
        "tier gold = balance > 3, kept",
        "tier gold = balance > 3, kept 12 months",
        "tier gold = balance > 3, for 12 months",
    ],
    (
        "a catalogue entry is `reward \"NAME\" costs N points`, `voucher \"NAME\" worth MONEY` or "
        "`free \"ITEM\" worth MONEY`",
        'write it like `reward "Tote bag" costs 800 points`',
    ): [
        "reward",
        "reward Tote costs 800 points",
        'reward "Tote bag" 800 points',
        'reward "Tote bag" costs',
        'reward "Tote bag" costs 800',
        "voucher",
        'voucher "x"',
        'voucher "x" worth',
        'voucher "x" worth 100',
        "free",
        'free "book"',
        'free "book" worth',
        "free book worth 120 SEK",
    ],
    (
        "`notify` is written `notify \"TEMPLATE\" DURATION before points expire`",
        'write it like `notify "points-expiring" 30 days before points expire`',
    ): [
        "notify",
        "notify points-expiring",
        'notify "x"',
        'notify "x" 30 days',
        'notify "x" 30 days before',
        'notify "x" 30 days before points',
        'notify "x" 30 days before expiry',
    ],
    (
        "a conversion is written `N points converts to REWARD`",
        'write it like `500 points converts to voucher "50 SEK bonus check"`',
    ): [
        "500 points converts",
        '500 points converts voucher "x"',
        "500 points converts to",
        "500 points",
        '500 points convert to voucher "x"',
    ],
    (
        "a counted trigger is `N EVENTS`, `every N EVENTS`, `every N FIELD of EVENTS` or `every MONEY "
        "spent`",
        "write it like `5 purchases gives 1 free` or `every 1000 SEK spent gives 1 voucher \"x\"`",
    ): [
        "every",
        "every purchase gives 1 free",
        "every 5",
        "every 10 items of",
        "5",
        "every 1000 SEK",
        "every 10 items of purchases where",
    ],
    (
        "`tier change` is written `tier change` or `tier change to TIER`",
        'write it like `tier change to gold gives message "welcome-to-gold"`',
    ): [
        "tier change",
        "tier change to",
        'tier change from silver gives message "x"',
    ],
    (
        "`first` is followed by the event's name",
        "write it like `first purchase earns 200 points`",
    ): [
        "first",
        "first 5 purchases earns 1 point",
    ],
    (
        "`inactive for` needs a duration",
        'write it like `inactive for 6 months gives message "we-miss-you"`',
    ): [
        "inactive",
        "inactive 6 months gives message \"x\"",
    ],
}

_NOT_A_RULE = re.compile(
    r"(program|currency|timezone|points|refunds|point|rounding|customer|event|segment|reward|voucher"
    r"|free|notify|rule)\b|tier(?! change)"
)


def example_table() -> list[tuple[tuple[str, str | None], list[str]]]:
    """``EXAMPLES`` with a named-rule twin of every rule example.

    Lark compares parser states by position and stack depth, and ``rule "NAME": BODY`` puts the
    body three levels deeper than a bare sentence, so each rule mistake is given in both forms.
    """
    table = []
    for label, examples in EXAMPLES.items():
        expanded = list(examples)
        expanded += [f'rule "x": {e}' for e in examples if not _NOT_A_RULE.match(e)]
        table.append((label, expanded))
    return table


_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a text in double quotes',
    "NUMBER": "a number",
    "DECIMAL_COMMA": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "TIME": "a time of day (HH:MM)",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "COMMA": "`,`",
    "COLON": "`:`",
    "EQUAL": "`=`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "DOT": "`.`",
}


def _describe_terminal(parser: Parser, name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    for terminal in parser.lark.terminals:
        if terminal.name == name and hasattr(terminal.pattern, "value"):
            if type(terminal.pattern).__name__ == "PatternStr":
                return f"`{terminal.pattern.value}`"
    return name.lower()


def _token_words(token: object) -> str:
    kind = getattr(token, "type", "")
    if kind in ("_NL", "$END"):
        return "the end of the line"
    return f"`{token}`"


def _unexpected(token: object) -> str:
    kind = getattr(token, "type", "")
    if kind in ("_NL", "$END"):
        return "the statement ends too early"
    return f"unexpected `{token}`"


def _example_parse(parser: Parser):
    def parse(text: str) -> object:
        return parser.lark.parse(text + "\n")

    return parse


def match_message(parser: Parser, exc: UnexpectedInput) -> tuple[str, str | None] | None:
    """The message of the first example that fails in the same parser state, memoised."""
    token = getattr(exc, "token", None)
    state = getattr(exc, "state", None)
    depth = len(getattr(state, "state_stack", ()) or ())
    key = (getattr(state, "position", None), depth, getattr(token, "type", None), str(token))
    if key in parser._messages:
        return parser._messages[key]
    if parser._examples is None:
        parser._examples = example_table()
    label = exc.match_examples(
        # use_accepts=False: Lark 1.3's debug line for differing accepts fails to format a
        # ParserState; states here are compared by position and stack depth, which suffices
        _example_parse(parser), parser._examples, token_type_match_fallback=True, use_accepts=False
    )
    parser._messages[key] = label
    return label


_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")

# the settings, by their first word, as the help of "this setting is not written that way"
_SETTING_FORMS = {
    "program": 'write it like `program "Bookshop Club"`: the name in double quotes',
    "currency": "write it like `currency SEK`: the ISO 4217 code, without quotes",
    "timezone": 'write it like `timezone "Europe/Stockholm"`: the zone in double quotes',
    "points": "write `points expire after 12 months`, `points expire after 12 months without activity` "
              "or `points pending for 14 days`",
    "refunds": "write it like `refunds accepted within 90 days`",
    "point": "write it like `point value 0.10 SEK`",
    "rounding": "write `rounding down`, `rounding nearest` or `rounding up`",
}
_SETTING_LABEL = "this setting is not written that way"

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NAME_RE = r"[A-Za-z_]\w*"


def _decimal_comma(chunk: StatementChunk, line: int, column: int, filename: str) -> Diagnostic | None:
    """RL206 when the parser stumbled on a number written with a decimal comma.

    Either the error is on the number itself (``1,5 points``), or an earlier one in the statement
    was read as money with the next word as its currency (``stars >= 4,5 earns`` …).
    """
    for index, text in enumerate(chunk.lines):
        number = chunk.first_line + index
        if number > line:
            break
        masked = re.sub(r'"(?:[^"\\]|\\.)*"?', lambda m: "_" * len(m.group()), text)
        for match in _DECIMAL_COMMA.finditer(masked):
            at_error = number == line and match.start() + 1 <= column <= match.end()
            read_as_money = (number < line or match.end() < column) and \
                re.match(r"[ \t]+[A-Za-z]", masked[match.end():]) is not None
            if at_error or read_as_money:
                fixed = match.group().replace(",", ".")
                span = ast.Span(filename, number, match.start() + 1, number, match.end() + 1)
                return error("RL206", "decimals are written with a point, not a comma", span,
                             f"write `{fixed}`")
    return None


_MODIFIER_STARTS = ("for", "from", "on", "between", "at", "once", "instead")


def _refine(parser: Parser, token: object, before: str, after: str,
            expected: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """A message for a mistake that the parser state alone cannot tell apart, from the words around.

    ``before`` is the statement's text up to the unexpected token, ``after`` the rest of its line
    from the token on (empty when the statement ended too early).
    """
    kind = getattr(token, "type", "")
    word = str(token) if kind not in ("_NL", "$END") else ""
    tail = before.rstrip()
    if not word:
        if tail.endswith(","):
            return ("the statement ends with a comma", "remove the `,` at the end, or write what follows it")
        return None
    if word != word.lower() and word.lower() in parser.keywords:
        return (f"`{word}` is written in lower case: `{word.lower()}`",
                "the words of the language (`earns`, `where`, `for`, the weekdays, …) are lower case")
    if word in ("if", "when") and re.search(r"\w\s*$", tail):
        return ("a condition starts with `where`",
                'write it like `purchase where category is "books" earns 10 points`')
    if word == "for" and re.fullmatch(r"\s*for\s+every\b.*", after) and re.search(r"\bpoints?$", tail):
        amount = re.match(r"\s*for\s+every\s+(\S+\s+[A-Za-z]+)", after)
        per = amount.group(1) if amount else "10 SEK"
        points = re.search(r"(\S+\s+points?)$", tail)
        return ("points per amount are written with `per`, not `for every`",
                f"write `{points.group(1) if points else '1 point'} per {per}`")
    if word in _MODIFIER_STARTS and "COMMA" in expected:
        last = re.search(r"(\S+\s+\S+|\S+)$", tail)
        rest = " ".join(after.split())
        rest = rest if len(rest) <= 40 else rest[:39].rstrip() + "…"
        return ("modifiers after the reward are separated by commas",
                f"put a comma before `{word}`: `{last.group(1) if last else '…'}, {rest}`")
    if word == "spent" and re.search(r"\bper\s+\S+\s+[A-Za-z]+$", tail):
        return ("`per` already means per amount spent: leave out `spent`",
                "write it like `1 point per 10 SEK`")
    if kind == "NAME" and word not in _WEEKDAYS:
        listed = re.search(rf"\bfor\s+(not\s+)?({_NAME_RE}(?:\s+or\s+{_NAME_RE})*)\s*,$", tail)
        if listed:
            names = " or ".join(re.split(r"\s+or\s+", listed.group(2)))
            return ("segments and tiers in `for` are joined with `or`, not with a comma",
                    f"write `for {listed.group(1) or ''}{names} or {word}`")
    if word in _WEEKDAYS and re.search(rf"\bon\s+{_NAME_RE}(?:\s+or\s+{_NAME_RE})*\s*,$", tail):
        days = re.search(rf"\bon\s+({_NAME_RE}(?:\s+or\s+{_NAME_RE})*)\s*,$", tail)
        listed_days = " or ".join(re.split(r"\s+or\s+", days.group(1))) if days else "saturday"
        return ("weekdays in `on` are joined with `or`, not with a comma",
                f"write `on {listed_days} or {word}`")
    if word == "." and not after[1:].strip():
        return ("a statement does not end with a full stop", "remove the `.`")
    ordinal = re.search(r"\d(st|nd|rd|th)$", tail)
    if ordinal:
        return (f"the count is written without `{ordinal.group(1)}`",
                "`5 purchases` already means every 5th purchase: write it like `5 purchases gives 1 free`")
    if kind in ("NUMBER", "DECIMAL_COMMA") and re.search(r"\b[A-Z]{3}$", tail):
        code = tail[-3:]
        return ("money is written with the amount first", f"write `{word} {code}`")
    if word == "[" and re.search(r"\bis\s+(not\s+)?in$", tail):
        negated = re.search(r"\bis\s+not\s+in$", tail) is not None
        return ("a list test is written `in [...]` or `not in [...]`, without `is`",
                f'write it like `category {"not in" if negated else "in"} ["books", "games"]`')
    if word == "=" and tail.endswith("="):
        return ("`==` is written `=` (or `is`)",
                'write it like `category = "books"` or `category is "books"`')
    return None


def _bad_character(char: str, before: str, span: ast.Span, source_line: str, column: int) -> Diagnostic:
    """RL002: a character the language has no use for, with what was probably meant."""
    tail = before.rstrip()
    if char == "'":
        quoted = re.match(r"'([^'\n]*)'?", source_line[column - 1 :])
        inner = quoted.group(1) if quoted else "books"
        if quoted:
            span = attrs.evolve(span, end_column=span.column + len(quoted.group()))
        return error("RL002", "text is written in double quotes, not single ones", span,
                     f'write `"{inner}"` instead of `\'{inner}\'`')
    if char in "\u201c\u201d\u201e\u00ab\u00bb":
        quoted = re.match("[\u201c\u201d\u201e\u00ab\u00bb]([^\u201c\u201d\u201e\u00ab\u00bb\n]*)"
                          "[\u201c\u201d\u201e\u00ab\u00bb]?", source_line[column - 1 :])
        inner = quoted.group(1) if quoted else "books"
        if quoted:
            span = attrs.evolve(span, end_column=span.column + len(quoted.group()))
        return error("RL002", f"`{char}` is a typographic quote; text is written in plain double quotes",
                     span, f'write `"{inner}"` (a word processor may have changed the quotes)')
    if char == "-" and re.search(r"\bbetween\s+\S+$", tail):
        return error("RL002", "a range is written `between A and B`, not with `-`", span,
                     "write it like `between 18 and 29` or `between 22:00 and 02:00`")
    if char == "-" and re.search(r"\bfrom\s+\S+$", tail):
        return error("RL002", "a date window is written `from DATE to DATE`, not with `-`", span,
                     "write it like `from 2026-12-01 to 2026-12-24`")
    if char == "%":
        return error("RL002", "there are no percentages in a ruleset", span,
                     "give points per amount instead: `1 point per 10 SEK` is one point for every 10 SEK")
    if char in "€$£¥":
        return error("RL002", f"`{char}` is not a currency code", span,
                     "write the amount, then the ISO 4217 code: `10 EUR`, `10 USD`, `10 GBP`")
    if char == ";":
        return error("RL002", "unexpected `;`", span,
                     "one statement a line; modifiers after the reward are separated by commas")
    if char == "&":
        return error("RL002", "unexpected `&`", span, "write `and`")
    if char == "|":
        return error("RL002", "unexpected `|`", span, "write `or`")
    if char == "!":
        return error("RL002", "unexpected `!`", span, "write `not`, or `!=` for “is not”")
    return error("RL002", f"unexpected character `{char}`", span,
                 "remove it; names are letters, digits and `_`, texts are in double quotes")


def _misspelt_keyword(parser: Parser, token: object, expected: list[str]) -> str | None:
    """The keyword that a name at an unexpected place is a typo of (``mont`` → ``month``), if any."""
    if getattr(token, "type", "") != "NAME":
        return None
    words = []
    for terminal in parser.lark.terminals:
        if terminal.name in expected and type(terminal.pattern).__name__ == "PatternStr":
            value = terminal.pattern.value
            if re.fullmatch(r"[a-z]+", value):
                words.append(value)
    word = str(token).lower()
    if word in words:
        return word if word != str(token) else None
    close = difflib.get_close_matches(word, sorted(words), n=1, cutoff=0.75)
    return close[0] if close else None


def _joined_line(parser: Parser, chunk: StatementChunk, filename: str, line: int) -> bool:
    """Whether the error is on an indented line that, on its own, would be a statement (RL904)."""
    if line == chunk.first_line or len(chunk.lines) < 2:
        return False
    warning = parser._joined_line_warning(chunk, filename)
    return warning is not None and warning.span.line == line


def describe(parser: Parser, exc: UnexpectedInput, chunk: StatementChunk, filename: str) -> Diagnostic:
    """One diagnostic for a statement that did not parse."""
    from rewardlang.parser import comment_start

    offset = chunk.first_line - 1
    line = (exc.line if exc.line not in (None, -1) else len(chunk.lines)) + offset
    column = exc.column if exc.column not in (None, -1) else 1
    source_line = chunk.lines[line - offset - 1] if 0 < line - offset <= len(chunk.lines) else ""
    index = line - chunk.first_line
    before = "\n".join(chunk.lines[:index] + (source_line[: column - 1],))

    if isinstance(exc, UnexpectedCharacters):
        char = source_line[column - 1 : column] or "?"
        span = ast.Span(filename, line, column, line, column + 1)
        if char == '"':
            end = len(source_line) + 1
            return error(
                "RL003",
                "this text has no closing `\"`",
                ast.Span(filename, line, column, line, max(end, column + 1)),
                'close it on the same line: `"like this"`',
            )
        comma = _decimal_comma(chunk, line, column, filename)
        if comma is not None:
            return comma
        return _bad_character(char, before, span, source_line, column)

    token = getattr(exc, "token", None)
    after = ""
    if isinstance(exc, UnexpectedToken) and token is not None and token.type == "GLUED":
        return _glued(parser, token, line, filename)
    if isinstance(exc, UnexpectedToken) and token is not None and token.type not in ("_NL", "$END"):
        width = max(len(str(token)), 1)
        span = ast.Span(filename, line, column, line, column + width)
        after = source_line[column - 1 :]
        at = comment_start(after)
        after = after if at < 0 else after[:at]
    else:
        # the statement ended too early: point just past its last character
        line = chunk.first_line + len(chunk.lines) - 1
        last = chunk.lines[-1]
        at = comment_start(last)
        code = (last if at < 0 else last[:at]).rstrip()
        column = len(code) + 1
        span = ast.Span(filename, line, column, line, column + 1)
        source_line = last
        before = "\n".join(chunk.lines[:-1] + (code,))

    comma = _decimal_comma(chunk, span.line, span.column, filename)
    if comma is not None:
        return comma

    # a capitalised keyword at the start (`Currency SEK`, `Rule "x": …`) derails the whole statement
    first = re.match(rf"\s*({_NAME_RE})", chunk.lines[0])
    if first and first.group(1) != first.group(1).lower() and first.group(1).lower() in parser.keywords:
        word = first.group(1)
        start = first.start(1) + 1
        return error("RL001", f"`{word}` is written in lower case: `{word.lower()}`",
                     ast.Span(filename, chunk.first_line, start, chunk.first_line, start + len(word)),
                     "the words of the language (`rule`, `currency`, `earns`, `where`, …) are lower case")

    if token is not None and getattr(token, "type", "") not in ("_NL", "$END") and \
            _joined_line(parser, chunk, filename, line) and not before.split("\n")[-1].strip():
        return error("RL001", f"`{token}` cannot continue the statement above", span,
                     "the statement above is complete already: remove the indentation to start a new "
                     "statement here")

    expected = sorted(getattr(exc, "accepts", None) or getattr(exc, "expected", None) or ())
    refined = _refine(parser, token, before, after, tuple(expected)) if token is not None else None
    if refined is not None:
        message, help_text = refined
        ordinal = re.search(r"\d(st|nd|rd|th)\s*$", source_line[: column - 1])
        if ordinal and message.startswith("the count is written without"):
            span = attrs.evolve(span, column=ordinal.start(1) + 1, end_column=ordinal.end(1) + 1)
        return error("RL001", message, span, help_text)

    label = match_message(parser, exc) if isinstance(exc, (UnexpectedToken, UnexpectedEOF)) else None
    typo = _misspelt_keyword(parser, token, expected)
    if typo is not None:
        help_text = label[1] if label is not None else None
        return error("RL001", f"`{token}` is not a word of the language here: did you mean `{typo}`?", span,
                     help_text)
    if label is not None:
        message, help_text = label
        if message == _SETTING_LABEL:
            setting = re.match(rf"\s*({_NAME_RE})", chunk.lines[0])
            if setting and setting.group(1) in _SETTING_FORMS:
                message = f"the `{setting.group(1)}` setting is not written that way"
                help_text = _SETTING_FORMS[setting.group(1)]
        message = f"{message} (found {_token_words(token)})" if token is not None else message
    else:
        words = sorted({_describe_terminal(parser, name) for name in expected})
        message = _unexpected(token) if token is not None else "the statement ends too early"
        help_text = ("expected " + ", ".join(words)) if words else None
    return error("RL001", message, span, help_text)


def _glued(parser: Parser, token: object, line: int, filename: str) -> Diagnostic:
    """A keyword run into the next word: ``pointsper``, ``for6``."""
    word = str(token)
    keyword = max((k for k in parser.keywords if word.startswith(k) and len(k) < len(word)), key=len, default=word)
    rest = word[len(keyword):]
    column = getattr(token, "column", 1)
    span = ast.Span(filename, line, column, line, column + len(word))
    if rest in parser.keywords or rest[:1].isdigit():
        help_text = f"write `{keyword} {rest}`"
    else:
        help_text = f"did you mean `{keyword}`?"
    message = f"`{word}` is not a word of the language: `{keyword}` runs into `{rest}`"
    return error("RL001", message, span, help_text)
