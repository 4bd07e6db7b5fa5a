"""The checker: finds every mistake in a parsed ruleset, with its position and a hint.

It never stops at the first problem: each check appends diagnostics and carries on, so that one
``rewardlang check`` shows everything to fix. It resolves names as it goes (plural event names,
segments and tiers, rule names) and, when nothing is an error, builds the ``Program``.

Codes and their meaning are listed in ``rewardlang.diagnostics.CODES`` and docs/errors.md.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from rewardlang import ast, localtime, printer
from rewardlang.diagnostics import Diagnostic, error, has_errors, warning
from rewardlang.program import BUILTIN_EVENTS, DEFAULT_REFUND_WINDOW, INPUT_KEYS, Field, Program, event_forms

_INPUT_KEY_HELP = {
    "id": "every event has its own `id`",
    "type": "`type` names the event itself",
    "customer": "every event names its `customer`",
    "time": "every event has its `time`; rules test it with `on WEEKDAY`, `between HH:MM and HH:MM` "
            "or `from DATE to DATE`",
    "currency": "an event's `currency` is checked against the programme's `currency` setting",
}

# ISO 4217 currency codes (active ones, 2024), so that `SKE` or `EUO` do not pass as currencies.
# Left out: the code ISO reserves for "no currency" (three X's), which no programme can pay in.
ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB
EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR
MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB
RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD
TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG
XDR XOF XPD XPF XPT XSU XTS XUA YER ZAR ZMW ZWG ZWL
""".split())

_SETTING_WORDS: dict[type, str] = {
    ast.ProgramName: "program",
    ast.CurrencySetting: "currency",
    ast.TimezoneSetting: "timezone",
    ast.ExpirySetting: "points expire after",
    ast.PendingSetting: "points pending for",
    ast.RefundWindowSetting: "refunds accepted within",
    ast.PointValueSetting: "point value",
    ast.RoundingSetting: "rounding",
}

_SNAKE = re.compile(r"[a-z][a-z0-9_]*")
_CURRENCY = re.compile(r"[A-Z]{3}")
ORDERED_TYPES = ("number", "money", "date")


@attrs.frozen
class CheckResult:
    """The checker's answer: the diagnostics, and the programme when there is no error."""

    program: Program | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.program is not None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word`` (a typo, or the same word in other case), if any is close."""
    known = sorted(set(candidates))
    for candidate in known:
        if candidate != word and candidate.lower() == word.lower():
            return candidate
    matches = difflib.get_close_matches(word, known, n=1, cutoff=0.7)
    return matches[0] if matches else None


def _hint(word: str, candidates: Iterable[str], what: str, plural: str | None = None, quote: str = "`",
          none: str | None = None) -> str:
    """``did you mean …?`` when a candidate is close, else the list of what there is."""
    close = did_you_mean(word, candidates)
    if close is not None:
        return f"did you mean {quote}{close}{quote}?"
    known = sorted(set(candidates))
    if not known:
        return none or f"no {what} is declared yet"
    shown = ", ".join(f"{quote}{k}{quote}" for k in known[:8])
    return f"the {plural or what + 's'} are: {shown}" + (", …" if len(known) > 8 else "")


def _is_whole(value: Decimal) -> bool:
    return value == value.to_integral_value()


class _Scope:
    """What a condition may read: the fields of one event (or none), and whether ``tier`` is ok."""

    def __init__(self, event: str | None, fields: Mapping[str, Field], where: str, allow_tier: bool = True):
        self.event = event
        self.fields = fields
        self.where = where
        self.allow_tier = allow_tier


class Checker:
    def __init__(self, ruleset: ast.Ruleset, keywords: frozenset[str],
                 broken_declarations: frozenset[tuple[str, str]] = frozenset()):
        self.ruleset = ruleset
        self.keywords = keywords
        self.broken = broken_declarations
        self.diagnostics: list[Diagnostic] = []
        # settings
        self.settings: dict[type, ast.Statement] = {}
        self.currency: str | None = None
        self.reported_no_currency = False
        # declarations
        self.customer_fields: dict[str, Field] = {}
        self.customer_field_decls: dict[str, ast.FieldDecl] = {}
        self.events: dict[str, tuple[Field, ...]] = {}
        self.event_decls: dict[str, ast.EventDecl] = {}
        self.event_words: dict[str, str] = {}
        self.segments: dict[str, ast.SegmentDecl] = {}
        self.tiers: dict[str, ast.TierDecl] = {}
        self.rewards: dict[str, ast.RewardDecl] = {}
        self.vouchers: dict[str, ast.VoucherDecl] = {}
        self.free_items: dict[str, ast.FreeItemDecl] = {}
        self.rules: list[ast.Rule] = []
        self.rule_names: list[str] = []
        self.rule_index: dict[str, int] = {}  # name -> first rule with it (lists are too slow)
        self.notifications: list[ast.Notify] = []
        self.used_segments: set[str] = set()
        self.fields_memo: dict[str, dict[str, Field]] = {}  # _fields_of, once the declarations are read

    # ------------------------------------------------------------------ helpers
    def err(self, code: str, message: str, span: ast.Span, help: str | None = None) -> None:
        self.diagnostics.append(error(code, message, span, help))

    def warn(self, code: str, message: str, span: ast.Span, help: str | None = None) -> None:
        self.diagnostics.append(warning(code, message, span, help))

    def _broken(self, kind: str, name: str) -> bool:
        return (kind, name) in self.broken

    # ------------------------------------------------------------------ entry point
    def run(self) -> CheckResult:
        statements = self.ruleset.statements
        Rule = ast.Rule
        # a rule is neither a setting nor a declaration: the first two passes look at the rest
        # only (a big file is nearly all rules, and the passes are in the order they must be)
        rules = [stmt for stmt in statements if isinstance(stmt, Rule)]
        others = [stmt for stmt in statements if not isinstance(stmt, Rule)] if len(rules) < len(
            statements) else []
        for stmt in others:  # settings first: currency is needed to judge money anywhere
            self._setting(stmt)
        for stmt in others:
            self._declare(stmt)
        self._resolve_events()
        for stmt in rules:
            self._collect_rule(stmt)
        for stmt in statements:
            if isinstance(stmt, Rule):
                self._rule(stmt)
            elif isinstance(stmt, ast.SegmentDecl):
                self._condition(stmt.condition, _Scope(None, {}, f"segment `{stmt.name.text}`"))
            elif isinstance(stmt, ast.TierDecl):
                self._condition(
                    stmt.condition, _Scope(None, {}, f"tier `{stmt.name.text}`", allow_tier=False)
                )
                if stmt.kept_for is not None:
                    self._duration(stmt.kept_for)
            elif isinstance(stmt, ast.Notify):
                self._notify(stmt)
        self._instead_of()
        self._unused_segments()
        diagnostics = tuple(sorted(self.diagnostics, key=Diagnostic.sort_key))
        if has_errors(diagnostics):
            return CheckResult(None, diagnostics)
        return CheckResult(self._program(), diagnostics)

    # ------------------------------------------------------------------ settings
    def _setting(self, stmt: ast.Statement) -> None:
        setting_types = (
            ast.ProgramName, ast.CurrencySetting, ast.TimezoneSetting, ast.ExpirySetting,
            ast.PendingSetting, ast.RefundWindowSetting, ast.PointValueSetting, ast.RoundingSetting,
        )
        if not isinstance(stmt, setting_types):
            return
        kind = type(stmt)
        if kind in self.settings:
            first = self.settings[kind]
            same = first == stmt  # spans take no part in equality
            self.err(
                "RL111",
                f"`{_SETTING_WORDS[kind]}` is set twice (first on line {first.span.line})",
                stmt.span,
                "the two lines say the same: remove this one" if same
                else "each setting is given once: keep the line you mean and remove the other",
            )
            return
        self.settings[kind] = stmt
        if isinstance(stmt, ast.CurrencySetting):
            code = stmt.code.text
            if self._currency_code(stmt.code):
                self.currency = code
        elif isinstance(stmt, ast.TimezoneSetting):
            self._timezone(stmt.zone)
        elif isinstance(stmt, ast.ExpirySetting):
            self._duration(stmt.after)
        elif isinstance(stmt, (ast.PendingSetting, ast.RefundWindowSetting)):
            self._duration(stmt.duration)

    def _currency_code(self, code: ast.Name) -> bool:
        """RL204 unless ``code`` is an ISO 4217 code (``kr``, ``sek``, ``SKR`` are not)."""
        text = code.text
        if text in ISO_4217:
            return True
        if _CURRENCY.fullmatch(text):
            close = did_you_mean(text, ISO_4217)
            help = f"did you mean `{close}`?" if close else "write a three-letter ISO 4217 code, e.g. `SEK`"
            self.err("RL204", f"`{text}` is not an ISO 4217 currency code", code.span, help)
            return False
        if text.upper() in ISO_4217:
            help = f"currency codes are written in capitals: write `{text.upper()}`"
        elif text.lower() in ("kr", "skr", "kronor", "kronur", "krona", "krone", "kroner"):
            if self.currency is not None:
                help = f"write the programme's currency code, `{self.currency}`"
            else:
                help = "write the ISO 4217 code: `SEK`, `NOK`, `DKK` or `ISK`"
        else:
            help = "write the three-letter ISO 4217 code, e.g. `SEK`, `EUR` or `GBP`"
        self.err("RL204", f"`{text}` is not a currency code", code.span, help)
        return False

    def _code_to_write(self, code: ast.Name) -> str:
        """The currency code a help text should show in place of ``code``."""
        if code.text in ISO_4217:
            return code.text
        if self.currency is not None:
            return self.currency
        return code.text.upper() if code.text.upper() in ISO_4217 else "SEK"

    def _timezone(self, zone: ast.Text) -> None:
        name = zone.value
        # the zones of the pinned tzdata package, which the evaluator uses (never the system's)
        names = localtime.zone_names()
        if name not in names:
            close = did_you_mean(name, names)
            help = f'did you mean `"{close}"`?' if close else 'write an IANA zone like `"Europe/Stockholm"`'
            self.err("RL305", f'unknown timezone "{name}"', zone.span, help)

    def _duration(self, node: ast.Duration) -> None:
        count = node.count
        if count > 0 and _is_whole(count):
            return
        if count <= 0:
            help = f"write e.g. `1 {node.unit}`"
        else:
            smaller = {"year": ("month", 12), "month": ("day", 30), "week": ("day", 7)}.get(node.unit)
            whole = [f"`{int(count)} {node.unit}{'s' if int(count) != 1 else ''}`"] if count >= 1 else []
            if smaller is not None and _is_whole(count * smaller[1]):
                whole.append(f"`{printer.number((count * smaller[1]).normalize())} {smaller[0]}s`")
            help = "durations are whole numbers: write " + " or ".join(whole) if whole else \
                f"durations are whole numbers: write e.g. `1 {node.unit}`"
        self.err("RL306", f"a duration must be a whole number of {node.unit}s above zero, not "
                 f"{printer.number(count)}", node.span, help)

    def _money(self, node: ast.Money, *, positive: bool = False, what: str = "amount") -> None:
        if node.decimal_comma:
            fixed = printer.number(node.amount)
            self.err("RL206", "decimals are written with a point, not a comma", node.span,
                     f"write `{fixed} {self._code_to_write(node.currency)}`")
        code = node.currency.text
        if not self._currency_code(node.currency):
            pass
        elif self.currency is None:
            self._no_currency(node.span, f"add a line `currency {code}` at the top of the file")
        elif code != self.currency:
            self.err("RL203", f"`{code}` is not the programme's currency: every amount is in {self.currency}",
                     node.currency.span,
                     f"write the amount in {self.currency}, e.g. "
                     f"`{printer.number(node.amount)} {self.currency}`")
        if positive and node.amount <= 0:
            self.err("RL302", f"the {what} must be more than zero, not {printer.number(node.amount)}",
                     node.span, f"write e.g. `10 {self._code_to_write(node.currency)}`")
        elif node.amount < 0:
            self.err("RL302", f"the {what} cannot be negative", node.span,
                     f"write it without the minus: `{printer.number(-node.amount)} "
                     f"{self._code_to_write(node.currency)}`")

    def _no_currency(self, span: ast.Span, help: str) -> None:
        """RL205, once per file, and not when a `currency` line exists but is itself wrong."""
        if self.reported_no_currency or ast.CurrencySetting in self.settings:
            return
        self.reported_no_currency = True
        self.err("RL205", "money is used, but the programme has no `currency` setting", span, help)

    def _count(self, node: ast.Number, what: str, example: str) -> None:
        """RL301 unless ``node`` is a whole number above zero; ``example`` is a fix to show."""
        if node.value <= 0 or not _is_whole(node.value):
            self.err("RL301", f"{what} must be a whole number above zero, not {printer.number(node.value)}",
                     node.span, f"write e.g. `{example}`")

    # ------------------------------------------------------------------ declarations
    def _name(self, name: ast.Name, kind: str, suggestion: str) -> None:
        """A declared name: not a keyword, in snake_case."""
        text = name.text
        if text in self.keywords:
            self.err("RL107", f"`{text}` is a keyword and cannot name a {kind}", name.span,
                     f"rename the {kind}, e.g. `{suggestion}`")
        elif not _SNAKE.fullmatch(text):
            fixed = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower().strip("_") or "name"
            if not fixed[0].isalpha():
                fixed = "n_" + fixed
            self.err("RL109", f"`{text}` is not in snake_case", name.span,
                     f"names of {kind}s are lower case, with `_` between words: write `{fixed}`")

    def _field(self, decl: ast.FieldDecl, owner: str, seen: dict[str, ast.FieldDecl]) -> Field | None:
        text = decl.name.text
        if text in INPUT_KEYS:
            self.err("RL108", f"`{text}` is a key of every input line, not a field to declare",
                     decl.name.span, f"{_INPUT_KEY_HELP[text]}; remove it, or give the field another "
                     f"name, e.g. `{owner}_{text}`")
            return None
        suggestion = "birthdate" if (owner, text) == ("customer", "birthday") else f"{owner}_{text}"
        self._name(decl.name, "field", suggestion)
        if text in seen:
            self.err("RL106", f"the field `{text}` is declared twice", decl.name.span,
                     f"first declared on line {seen[text].span.line}")
            return None
        seen[text] = decl
        return Field(text, decl.type, decl.optional)

    def _declare(self, stmt: ast.Statement) -> None:
        if isinstance(stmt, ast.CustomerDecl):
            for decl in stmt.fields:
                field = self._field(decl, "customer", self.customer_field_decls)
                if field is not None:
                    if field.name == "age":
                        self.err("RL106", "`age` is derived from the birthdate and cannot be declared",
                                 decl.name.span, "declare `birthdate date` and use `customer.age`")
                    self.customer_fields[field.name] = field
        elif isinstance(stmt, ast.EventDecl):
            name = stmt.name.text
            self._name(stmt.name, "event", f"{name}_event")
            if name in BUILTIN_EVENTS:
                fields = ", ".join(f"`{f.name}`" for f in BUILTIN_EVENTS[name]) or "the customer fields"
                self.err("RL106", f"`{name}` is a built-in event and cannot be declared", stmt.name.span,
                         f"remove this line: rules can use `{name}` as it is, with its fields {fields}")
                return
            if name in self.events:
                self.err("RL106", f"the event `{name}` is declared twice", stmt.name.span,
                         f"first declared on line {self.event_decls[name].span.line}; "
                         "declare every field of an event on one line")
                return
            self.event_decls[name] = stmt
            seen: dict[str, ast.FieldDecl] = {}
            fields = [self._field(f, name, seen) for f in stmt.fields]
            self.events[name] = tuple(f for f in fields if f is not None)
        elif isinstance(stmt, (ast.SegmentDecl, ast.TierDecl)):
            kind = "segment" if isinstance(stmt, ast.SegmentDecl) else "tier"
            name = stmt.name.text
            self._name(stmt.name, kind, f"{name}_{kind}")
            if name in self.segments or name in self.tiers:
                other = "segment" if name in self.segments else "tier"
                first = (self.segments.get(name) or self.tiers[name]).span.line
                self.err("RL106", f"`{name}` is already a {other} (line {first})", stmt.name.span,
                         "segments and tiers share one set of names: give this one another name")
                return
            if isinstance(stmt, ast.SegmentDecl):
                self.segments[name] = stmt
            else:
                self.tiers[name] = stmt
        elif isinstance(stmt, ast.RewardDecl):
            self._catalogue(stmt.name, self.rewards, stmt, "reward")
            self._count(stmt.cost, "a reward's cost in points", "costs 800 points")
        elif isinstance(stmt, ast.VoucherDecl):
            self._catalogue(stmt.name, self.vouchers, stmt, "voucher")
            self._money(stmt.worth, what=f'worth of "{stmt.name.value}"')
        elif isinstance(stmt, ast.FreeItemDecl):
            self._catalogue(stmt.name, self.free_items, stmt, "free item")
            self._money(stmt.worth, what=f'worth of "{stmt.name.value}"')
        elif isinstance(stmt, ast.PointValueSetting):
            self._money(stmt.value, what="point value")

    def _catalogue(self, name: ast.Text, table: dict, stmt: object, kind: str) -> None:
        if name.value in table:
            self.err("RL106", f'the {kind} "{name.value}" is declared twice', name.span,
                     f"first declared on line {table[name.value].span.line}")
            return
        table[name.value] = stmt

    def _resolve_events(self) -> None:
        for name in list(BUILTIN_EVENTS) + list(self.events):
            for form in event_forms(name):
                self.event_words.setdefault(form, name)
        for name in list(BUILTIN_EVENTS) + list(self.events):
            self.event_words[name] = name  # a singular always wins over another event's plural

    def _event(self, word: ast.Name, plural: bool = False) -> str | None:
        """The event a word names (``purchases`` → ``purchase``), or None after RL101.

        ``plural`` is set where a plural is expected (``5 purchases``, ``count of purchases``),
        so that the suggested declaration is of the singular.
        """
        name = self.event_words.get(word.text)
        if name is not None:
            return name
        if self._broken("event", word.text) or (plural and self._broken("event", _singular(word.text))):
            return None
        close = did_you_mean(word.text, self.event_words)
        if word.text != word.text.lower() and word.text.lower() in self.keywords:
            help = f"the words of the language are lower case: write `{word.text.lower()}`"
        elif close is not None:
            help = f"did you mean `{close}`?"
        else:
            new = _singular(word.text) if plural else word.text
            declared = sorted(self.events)
            if declared:
                help = (f"declare it with `event {new} …`, or use one of the declared events: "
                        + ", ".join(f"`{e}`" for e in declared[:8]) + (", …" if len(declared) > 8 else ""))
            else:
                help = f"declare it: `event {new}`, with its fields after `with`"
        self.err("RL101", f"unknown event `{word.text}`", word.span, help)
        return None

    def _fields_of(self, event: str | None) -> dict[str, Field]:
        """The fields of an event by name (not to be changed: one dict an event, made on first
        use — rules ask once or twice each, and the declarations are all read by then)."""
        if event is None:
            return {}
        memo = self.fields_memo.get(event)
        if memo is not None:
            return memo
        if event == "profile":
            memo = dict(self.customer_fields)
        else:
            memo = {f.name: f for f in self.events.get(event, BUILTIN_EVENTS.get(event, ()))}
        self.fields_memo[event] = memo
        return memo

    # ------------------------------------------------------------------ rules
    def _collect_rule(self, rule: ast.Rule) -> None:
        name = rule.name.value if rule.name is not None else printer.rule_name(rule)
        if name in self.rule_index:
            span = rule.name.span if rule.name is not None else rule.span
            first = self.rules[self.rule_index[name]].span.line
            self.err("RL106", f'the rule name "{name}" is used twice (first on line {first})', span,
                     "give each rule its own name")
        self.rule_index.setdefault(name, len(self.rules))
        self.rules.append(rule)
        self.rule_names.append(name)

    def _rule(self, rule: ast.Rule) -> None:
        event = self._trigger(rule.trigger)
        self._effect(rule.effect, rule.trigger, event)
        if rule.modifiers:  # most rules have none: nothing more to look at
            for mod in rule.modifiers:
                self._modifier(mod, rule)
            self._weekday_window(rule)

    def _trigger(self, trigger: ast.Trigger) -> str | None:
        if trigger.__class__ is ast.EventTrigger:  # most rules: the branch below, for it alone
            event = self._event(trigger.event)
            if trigger.where is not None and event is not None:
                self._condition(trigger.where, _Scope(event, self._fields_of(event), "rule"))
            return event
        if isinstance(trigger, (ast.EventTrigger, ast.FirstTrigger, ast.CountTrigger, ast.FieldSumTrigger)):
            counted = isinstance(trigger, (ast.CountTrigger, ast.FieldSumTrigger))
            event = self._event(trigger.event, plural=counted)
            if isinstance(trigger, ast.CountTrigger):
                self._count(trigger.count, "the number of events", f"5 {trigger.event.text}")
            if isinstance(trigger, ast.FieldSumTrigger):
                self._count(trigger.step, "the step",
                            f"every 10 {trigger.field.text} of {trigger.event.text}")
                if event is not None:
                    field = self._fields_of(event).get(trigger.field.text)
                    if field is None:
                        self._unknown_field(trigger.field, event)
                    elif field.type != "number":
                        help = "use `every MONEY spent` for money" if field.type == "money" else None
                        self.err("RL201", f"`{trigger.field.text}` is {field.type}; `every N FIELD of "
                                 "EVENTS` sums a number field", trigger.field.span, help)
            if trigger.where is not None and (event is not None or self._broken("event", trigger.event.text)):
                if event is not None:
                    self._condition(trigger.where, _Scope(event, self._fields_of(event), "rule"))
            return event
        if isinstance(trigger, ast.SpendTrigger):
            self._money(trigger.step, positive=True, what="amount in `every … spent`")
            self._needs_spend(trigger.span)
        elif isinstance(trigger, ast.BirthdayTrigger):
            birthdate = self.customer_fields.get("birthdate")
            if (birthdate is None or birthdate.type != "date") and not self._broken("customer", "*"):
                self.err("RL307", "`birthday` needs a customer field `birthdate` of type date", trigger.span,
                         self._birthdate_help())
        elif isinstance(trigger, ast.TierChangeTrigger):
            if trigger.to is not None:
                self._tier_name(trigger.to)
        elif isinstance(trigger, ast.InactiveTrigger):
            self._duration(trigger.duration)
        elif isinstance(trigger, ast.ConvertTrigger):
            self._count(trigger.points, "the points converted", "500 points converts to")
        return None

    def _needs_spend(self, span: ast.Span) -> None:
        if not any(f.name == "amount" and f.type == "money" for fs in self.events.values() for f in fs):
            if not any(kind == "event" for kind, _ in self.broken):
                self.err("RL207", "spend is counted from events with an `amount money` field, and none "
                         "is declared", span, "declare e.g. `event purchase with amount money`")

    def _effect(self, effect: ast.Effect, trigger: ast.Trigger, event: str | None) -> None:
        if isinstance(effect, ast.PointsEffect):
            value = effect.points.value
            if value <= 0 or not _is_whole(value):  # what _count reports: only then an example
                low = int(value)
                if value > 1 and not _is_whole(value):
                    example = f"{low} {printer.points_word(low != 1)}` or `{low + 1} points"
                else:
                    example = "1 point" if 0 < value < 1 else "50 points"
                self._count(effect.points, "the number of points", example)
        elif isinstance(effect, ast.RateEffect):
            if effect.points.value <= 0:
                self.err("RL301", f"the points per amount must be more than zero, not "
                         f"{printer.number(effect.points.value)}", effect.points.span,
                         f"write e.g. `1 point per 10 {self.currency or 'SEK'}`")
            self._money(effect.per, positive=True, what="amount after `per`")
            field_name = effect.field.text if effect.field is not None else "amount"
            span = effect.field.span if effect.field is not None else effect.span
            if event is None:
                if isinstance(trigger, (ast.EventTrigger, ast.FirstTrigger, ast.CountTrigger,
                                        ast.FieldSumTrigger)):
                    return  # the event itself was unknown: already reported
                self.err("RL207", "`per` needs an event with an amount, and this trigger has none",
                         effect.span, "give a fixed number of points, e.g. `earns 100 points`")
                return
            fields = self._fields_of(event)
            field = fields.get(field_name)
            if field is None or field.type != "money":
                if field is None:
                    problem = f"`{event}` has no field `{field_name}`"
                else:
                    problem = f"`{field_name}` of `{event}` is {_article(field.type)}"
                money = sorted(f.name for f in fields.values() if f.type == "money")
                per = printer.money(effect.per)
                if money:
                    help = f"name a money field of `{event}`: `per {per} of {money[0]}`"
                elif field is None:
                    help = (f"declare `{field_name} money` on `{event}`, or give a fixed number of points, "
                            "e.g. `earns 50 points`")
                else:
                    help = "give a fixed number of points, e.g. `earns 50 points`"
                self.err("RL207", f"`per` computes points from money, and {problem}", span, help)
        elif isinstance(effect, ast.FreeItemEffect):
            if effect.quantity is not None:
                self._count(effect.quantity, "the number of free items", "1 free")
            if effect.item is not None:
                if not effect.quoted and effect.item in self.keywords:
                    self.err("RL107", f"`{effect.item}` is a keyword and cannot name an item", effect.span,
                             f'quote the item: `free "{effect.item}"`, or add a comma before a modifier')
                elif effect.item not in self.free_items and not self._broken("free", effect.item):
                    self._unknown_catalogue(effect.item, self.free_items, "free item", effect.span,
                                            f'free "{effect.item}" worth 100 {self.currency or "SEK"}')
        elif isinstance(effect, ast.VoucherEffect):
            if effect.quantity is not None:
                self._count(effect.quantity, "the number of vouchers", f'1 voucher "{effect.voucher.value}"')
            name = effect.voucher.value
            if name not in self.vouchers and not self._broken("voucher", name):
                self._unknown_catalogue(name, self.vouchers, "voucher", effect.voucher.span,
                                        f'voucher "{name}" worth 100 {self.currency or "SEK"}')

    def _unknown_catalogue(self, name: str, table: Mapping[str, object], kind: str, span: ast.Span,
                           declaration: str) -> None:
        close = did_you_mean(name, table)
        help = f'did you mean "{close}"?' if close else f"declare it: `{declaration}`"
        self.err("RL105", f'unknown {kind} "{name}"', span, help)

    def _tier_name(self, name: ast.Name) -> None:
        text = name.text
        if text in self.tiers or self._broken("tier", text):
            return
        if text in self.segments:
            self.err("RL103", f"`{text}` is a segment, not a tier", name.span,
                     f"only tiers go here; a segment is tested with `, for {text}` on a rule")
            return
        self.err("RL103", f"unknown tier `{text}`", name.span,
                 _hint(text, self.tiers, "tier", none="no tier is declared: declare it, e.g. "
                       f"`tier {text} = spend in last 12 months >= 5000 {self.currency or 'SEK'}`"))

    def _modifier(self, mod: ast.Modifier, rule: ast.Rule) -> None:
        if isinstance(mod, ast.ForModifier):
            for name in mod.names:
                if name.text in self.segments:
                    self.used_segments.add(name.text)
                elif name.text not in self.tiers and not self._broken("segment", name.text) and \
                        not self._broken("tier", name.text):
                    self.err("RL103", f"unknown segment or tier `{name.text}`", name.span,
                             _hint(name.text, list(self.segments) + list(self.tiers), "segment or tier",
                                   "segments and tiers",
                                   none=f"declare it first, e.g. `segment {name.text} = customer.city is "
                                   '"Stockholm"`'))
        elif isinstance(mod, ast.DateWindow):
            start, end = mod.start.date, mod.end.date
            for lit, value in ((mod.start, start), (mod.end, end)):
                if value is None:
                    self.err("RL304", f"{printer.date(lit)} is not a date", lit.span, _date_help(lit))
            if start is not None and end is not None and start > end:
                self.err("RL303", f"the window starts ({start}) after it ends ({end})", mod.span,
                         f"write `from {end} to {start}`")
        elif isinstance(mod, ast.TimeWindow):
            for lit in (mod.start, mod.end):
                if lit.time is None:
                    self.err("RL304", f"{printer.time_of_day(lit)} is not a time of day", lit.span,
                             "hours are 00–23 and minutes 00–59")
        elif isinstance(mod, ast.LimitModifier):
            self._count(mod.count, "the limit",
                        f"at most 3 per {mod.period}" if mod.period else "at most 1 in total")
        elif isinstance(mod, ast.CapModifier):
            self._count(mod.points, "the cap", f"at most 500 points per {mod.period}")
        elif isinstance(mod, ast.InsteadOf):
            if isinstance(rule.trigger, ast.ConvertTrigger):
                self.warn("RL905", "`instead of` has no effect on a conversion rule", mod.span,
                          "remove it: conversions run after all other rules")
            own = printer.rule_name(rule)
            for target in mod.rules:
                if target.value == own:
                    self.err("RL309", f'the rule "{own}" names itself in `instead of`', target.span,
                             f'remove "{own}" from `instead of`, or name the rule it replaces')
                elif target.value not in self.rule_index and not self._broken("rule", target.value):
                    self.err("RL104", f'unknown rule "{target.value}"', target.span,
                             _hint(target.value, self.rule_names, "rule", quote='"'))

    def _weekday_window(self, rule: ast.Rule) -> None:
        """RL902: the rule's date windows and weekdays leave no day on which it could fire."""
        windows = [m for m in rule.modifiers if isinstance(m, ast.DateWindow)]
        weekdays = [m for m in rule.modifiers if isinstance(m, ast.WeekdayModifier)]
        if not windows and not weekdays:
            return  # nothing to compare (most rules)
        allowed = set(range(7))
        for mod in weekdays:
            allowed &= {ast.WEEKDAYS.index(d) for d in mod.days}
        if weekdays and not allowed:
            days = [d for m in weekdays for d in m.days]
            joined = " or ".join(sorted(set(days), key=ast.WEEKDAYS.index))
            self.warn("RL902", "the rule can never fire: its `on` modifiers have no weekday in common",
                      weekdays[-1].span, f"put the weekdays in one `on`: `on {joined}`")
            return
        dated = [w for w in windows if w.start.date is not None and w.end.date is not None
                 and w.start.date <= w.end.date]
        if not dated:
            return
        start = max(w.start.date for w in dated)  # type: ignore[type-var]
        end = min(w.end.date for w in dated)  # type: ignore[type-var]
        if start > end:
            self.warn("RL902", "the rule can never fire: its date windows have no day in common",
                      dated[-1].span, "keep one `from … to …`, covering the days you mean")
            return
        days = (end - start).days + 1
        if not any((start + dt.timedelta(days=i)).weekday() in allowed for i in range(min(days, 7))):
            names = " or ".join(ast.WEEKDAYS[d] for d in sorted(allowed))
            self.warn("RL902", f"the rule can never fire: no day from {start} to {end} is a {names}",
                      dated[-1].span, "widen the date window, or change the weekdays")

    # ------------------------------------------------------------------ instead of
    def _instead_of(self) -> None:
        targets: dict[str, list[str]] = {}
        spans: dict[str, ast.Span] = {}
        for rule, name in zip(self.rules, self.rule_names):
            if not rule.modifiers or isinstance(rule.trigger, ast.ConvertTrigger):
                continue  # RL905: its `instead of` does nothing, so it neither suppresses nor cycles
            for mod in rule.modifiers:
                if isinstance(mod, ast.InsteadOf):
                    targets.setdefault(name, []).extend(
                        t.value for t in mod.rules if t.value in self.rule_index and t.value != name
                    )
                    spans.setdefault(name, mod.span)
        # cycles (A instead of B instead of ... A)
        reported: set[frozenset[str]] = set()
        for start in targets:
            path = [start]
            self._find_cycle(start, targets, path, spans, reported)
        # RL903: suppressed whenever it could fire
        suppressed_by: dict[str, list[ast.Rule]] = {}
        if not targets:
            return
        for rule, name in zip(self.rules, self.rule_names):
            if name in targets:
                for target in targets[name]:
                    suppressed_by.setdefault(target, []).append(rule)
        for rule, name in zip(self.rules, self.rule_names):
            for winner in suppressed_by.get(name, ()):
                if self._always_fires_with(winner, rule, suppressed_by):
                    other = printer.rule_name(winner)
                    self.warn("RL903", f'the rule "{name}" never applies: "{other}" fires on every '
                              f"`{self.event_words.get(winner.trigger.event.text)}` "  # type: ignore
                              "and is instead of it", rule.name.span if rule.name is not None else rule.span,
                              f'remove this rule, or narrow "{other}" with a `where` or a modifier')
                    break

    def _find_cycle(self, node: str, targets: dict[str, list[str]], path: list[str],
                    spans: dict[str, ast.Span], reported: set[frozenset[str]]) -> None:
        for nxt in targets.get(node, []):
            if nxt == path[0]:
                cycle = frozenset(path)
                if cycle not in reported:
                    reported.add(cycle)
                    chain = " → ".join(f'"{n}"' for n in path + [nxt])
                    self.err("RL110", f"`instead of` goes round in a circle: {chain}", spans[path[0]],
                             "remove `instead of` from one of these rules")
            elif nxt not in path and len(path) < 64:
                path.append(nxt)
                self._find_cycle(nxt, targets, path, spans, reported)
                path.pop()

    def _always_fires_with(self, winner: ast.Rule, loser: ast.Rule,
                           suppressed_by: Mapping[str, list]) -> bool:
        """Whether ``winner`` fires on every event on which ``loser`` could fire."""
        w, l = winner.trigger, loser.trigger
        if not isinstance(w, ast.EventTrigger) or w.where is not None:
            return False
        if printer.rule_name(winner) in suppressed_by:
            return False  # the winner is itself suppressed sometimes
        if any(not isinstance(m, ast.InsteadOf) for m in winner.modifiers):
            return False
        if not isinstance(l, (ast.EventTrigger, ast.FirstTrigger, ast.CountTrigger, ast.FieldSumTrigger)):
            return False
        event = self.event_words.get(w.event.text)
        return event is not None and event == self.event_words.get(l.event.text)

    # ------------------------------------------------------------------ notify
    def _notify(self, stmt: ast.Notify) -> None:
        self._duration(stmt.before)
        if ast.ExpirySetting not in self.settings:
            self.err("RL308", "`notify … before points expire` needs points that expire", stmt.span,
                     "add e.g. `points expire after 12 months`")

    def _unused_segments(self) -> None:
        for name, decl in self.segments.items():
            if name not in self.used_segments:
                self.warn("RL901", f"the segment `{name}` is not used by any rule", decl.name.span,
                          f"use it in a rule (`, for {name}`) or remove it")

    # ------------------------------------------------------------------ conditions
    def _birthdate_help(self) -> str:
        field = self.customer_field_decls.get("birthdate")
        if field is None and "birthday" in self.customer_field_decls:
            return "the field is called `birthdate`: rename `birthday` in the `customer has` line"
        if field is not None:
            return (f"`birthdate` is declared as {field.type} on line {field.span.line}: declare it as "
                    "`birthdate date`")
        if self.customer_field_decls:
            return "add `birthdate date` to the `customer has` line"
        return "add a line `customer has birthdate date`"

    def _unknown_field(self, name: ast.Name, event: str | None, customer: bool = False) -> None:
        if customer:
            if self._broken("customer", "*"):
                return
            candidates = list(self.customer_fields)
            if "birthdate" in self.customer_fields:
                candidates.append("age")
            if name.text == "age":
                self.err("RL102", "`customer.age` needs a customer field `birthdate` of type date, to work "
                         "the age out from", name.span, self._birthdate_help())
                return
            self.err("RL102", f"unknown customer field `{name.text}`", name.span,
                     _hint(name.text, candidates, "customer field")
                     if candidates else f"declare it: `customer has {name.text} text`")
            return
        if event is None:
            if name.text in self.customer_fields:
                help = f"segments and tiers see the customer, not an event: write `customer.{name.text}`"
            else:
                help = ("segments and tiers see the customer: `customer.FIELD`, `tier`, `balance`, "
                        "`spend in …`, `count of …`")
            self.err("RL102", f"`{name.text}` is not something a segment or tier can see", name.span, help)
            return
        fields = self._fields_of(event)
        close = did_you_mean(name.text, fields)
        if close is not None:
            help = f"did you mean `{close}`?"
        elif name.text in self.customer_fields:
            help = f"it is a customer field: write `customer.{name.text}`"
        elif fields:
            help = _hint(name.text, fields, f"field of `{event}`", f"fields of `{event}`")
        else:
            help = f"`{event}` has no fields; declare it with `event {event} with {name.text} …`"
        self.err("RL102", f"`{event}` has no field `{name.text}`", name.span, help)

    def _operand(self, node: ast.Operand, scope: _Scope) -> str | None:
        """The type of an operand, or None when it is unknown (already reported)."""
        if isinstance(node, ast.FieldRef):
            if scope.event is None:
                self._unknown_field(node.name, None)
                return None
            field = scope.fields.get(node.name.text)
            if field is None:
                self._unknown_field(node.name, scope.event)
                return None
            return field.type
        if isinstance(node, ast.CustomerFieldRef):
            text = node.name.text
            if text == "age" and "age" not in self.customer_fields:
                birthdate = self.customer_fields.get("birthdate")
                if birthdate is not None and birthdate.type == "date":
                    return "number"
                self._unknown_field(node.name, None, customer=True)
                return None
            field = self.customer_fields.get(text)
            if field is None:
                self._unknown_field(node.name, None, customer=True)
                return None
            return field.type
        if isinstance(node, ast.TierRef):
            if not scope.allow_tier:
                self.err("RL202", "a tier's condition cannot depend on the tier itself", node.span,
                         "base tiers on spend, counts, balance or customer fields")
                return None
            return "tier"
        if isinstance(node, ast.BalanceRef):
            return "number"
        if isinstance(node, ast.SpendAggregate):
            if node.window is not None:
                self._duration(node.window)
            self._needs_spend(node.span)
            if self.currency is None:
                self._no_currency(node.span, "add a line like `currency SEK`")
            return "money"
        if isinstance(node, ast.CountAggregate):
            if node.window is not None:
                self._duration(node.window)
            self._event(node.event, plural=True)
            return "number"
        return None

    def _example(self, kind: str) -> str:
        """A value of a type, as a marketer would write it."""
        return {
            "money": f"`100 {self.currency or 'SEK'}`", "number": "`3`", "text": '`"books"`',
            "date": "`2026-12-24`", "bool": "`true` or `false`", "tier": "a tier's name, e.g. `gold`",
            "list of text": '`contains "x"`',
        }.get(kind, "a value")

    def _value(self, node: ast.Value, expected: str | None) -> str | None:
        """The type of a value, or None when it is wrong (and reported)."""
        if isinstance(node, ast.Number):
            return "number"
        if isinstance(node, ast.Money):
            self._money(node)
            return "money"
        if isinstance(node, ast.Text):
            return "text"
        if isinstance(node, ast.DateLit):
            if node.date is None:
                self.err("RL304", f"{printer.date(node)} is not a date", node.span, _date_help(node))
            return "date"
        if isinstance(node, ast.Bool):
            return "bool"
        if isinstance(node, ast.Word):
            return self._word(node, expected)
        return None

    def _word(self, node: ast.Word, expected: str | None) -> str | None:
        """A bare word: a tier's name where a tier is compared, RL208 anywhere else."""
        word = node.name
        if expected == "tier":
            self._tier_name(ast.Name(word, span=node.span))
            return "tier"
        if expected is None and word in self.tiers:
            return "tier"
        if expected == "bool":
            self.err("RL208", f"`{word}` is not a value: a true/false field is compared with `true` or "
                     "`false`", node.span, "write `true` or `false`")
        elif expected in ("number", "money", "date"):
            self.err("RL208", f"`{word}` is a bare word where {_article(expected)} is expected", node.span,
                     f"write {_article(expected)} like {self._example(expected)}")
        else:
            self.err("RL208", f"`{word}` is a bare word; text values are written in double quotes",
                     node.span, f'write `"{word}"`' + (" (a bare word is only a tier's name, in `tier is "
                                                         f"{word}`)" if word in self.tiers else ""))
        return None

    def _compatible(self, left: str, right: str, value: ast.Value, operand: ast.Operand) -> None:
        """RL201 when a value of type ``right`` cannot be compared with ``operand`` of type ``left``."""
        if left == right:
            return
        what = printer.operand(operand)
        written = printer.value(value)
        if left == "money" and right == "number":
            hint = f"write the amount with its currency: `{written} {self.currency or 'SEK'}`"
        elif left == "number" and right == "money" and isinstance(value, ast.Money):
            hint = f"`{what}` counts, it is not money: write `{printer.number(value.amount)}`"
        elif right == "text" and isinstance(value, ast.Text) and left in ("number", "date", "bool"):
            bare = value.value.strip()
            hint = (f"write it without quotes: `{bare}`" if bare else
                    f"write {_article(left)} like {self._example(left)}")
        elif left == "tier":
            hint = "compare `tier` with a tier's name, e.g. `tier is gold`"
        else:
            hint = f"compare it with {_article(left)}, like {self._example(left)}"
        self.err("RL201", f"`{what}` is {_article(left)} and cannot be compared with {_article(right)}",
                 value.span, hint)

    def _tier_order_help(self, node: ast.Compare) -> str:
        """``tier >= silver`` → ``tier in [silver, gold]``: the tiers in declared order."""
        order = list(self.tiers)
        word = node.right.name if isinstance(node.right, ast.Word) else None
        if word in order:
            at = order.index(word)  # type: ignore[arg-type]
            chosen = {">=": order[at:], ">": order[at + 1:], "<=": order[: at + 1], "<": order[:at]}[node.op]
            if chosen:
                return ("list the tiers you mean (they are in the order declared): "
                        f"`tier in [{', '.join(chosen)}]`")
        return "tiers are tested with `is`, `is not` or `in [...]`"

    def _reward_names(self, left: ast.Operand, values: Iterable[ast.Value], scope: _Scope) -> None:
        """RL105 for ``redeem where reward is "NAME"`` when the catalogue has no such reward."""
        if scope.event != "redeem" or not isinstance(left, ast.FieldRef) or left.name.text != "reward":
            return
        for value in values:
            if isinstance(value, ast.Text) and value.value not in self.rewards:
                self._unknown_catalogue(value.value, self.rewards, "reward", value.span,
                                        f'reward "{value.value}" costs 800 points')

    def _not_a_list(self, node: ast.Compare | ast.InList, what: str) -> None:
        sample = node.right if isinstance(node, ast.Compare) else (node.values[0] if node.values else None)
        text = printer.value(sample) if isinstance(sample, ast.Text) else '"x"'
        self.err("RL202", f"`{what}` is a list of texts: it is tested with `contains`, not compared",
                 node.span, f"write `{what} contains {text}`")

    def _condition(self, node: ast.Condition, scope: _Scope) -> None:
        if isinstance(node, (ast.And, ast.Or)):
            for item in node.items:
                self._condition(item, scope)
        elif isinstance(node, (ast.Not, ast.Group)):
            self._condition(node.item, scope)
        elif isinstance(node, ast.Compare):
            left = self._operand(node.left, scope)
            right = self._value(node.right, left)
            if left is None or right is None:
                return
            what = printer.operand(node.left)
            if left == "list of text":
                self._not_a_list(node, what)
                return
            if node.op in ("<", "<=", ">", ">=") and left not in ORDERED_TYPES:
                if left == "tier":
                    self.err("RL202", f"`{node.op}` compares numbers, money or dates, not tiers", node.span,
                             self._tier_order_help(node))
                else:
                    self.err("RL202", f"`{node.op}` compares numbers, money or dates, and `{what}` is "
                             f"{_article(left)}", node.span,
                             f"use `is` or `is not`: `{what} is {printer.value(node.right)}`")
                return
            self._compatible(left, right, node.right, node.left)
            self._reward_names(node.left, (node.right,), scope)
        elif isinstance(node, ast.InList):
            left = self._operand(node.left, scope)
            if left == "list of text":
                self._not_a_list(node, printer.operand(node.left))
                return
            for item in node.values:
                right = self._value(item, left)
                if left is not None and right is not None:
                    self._compatible(left, right, item, node.left)
            self._reward_names(node.left, node.values, scope)
        elif isinstance(node, ast.Contains):
            left = self._operand(node.left, scope)
            if left is not None and left != "list of text":
                what = printer.operand(node.left)
                help = (f"`contains` does not look inside a text; to test the whole text write "
                        f"`{what} is {printer.text(node.value.value)}`" if left == "text" else
                        f"compare it with {_article(left)}, like `{what} is` {self._example(left)}")
                self.err("RL202", f"`contains` tests a list of texts, and `{what}` is {_article(left)}",
                         node.span, help)
        elif isinstance(node, ast.Between):
            left = self._operand(node.left, scope)
            low = self._value(node.low, left)
            high = self._value(node.high, left)
            if left is None:
                return
            if left not in ORDERED_TYPES:
                what = printer.operand(node.left)
                self.err("RL202",
                         f"`between` needs numbers, money or dates, and `{what}` is {_article(left)}",
                         node.span, f"list the values instead: `{what} in [...]`")
                return
            for value, kind in ((node.low, low), (node.high, high)):
                if kind is not None:
                    self._compatible(left, kind, value, node.left)

    # ------------------------------------------------------------------ the programme
    def _program(self) -> Program:
        settings = self.settings

        def get(kind: type) -> object:
            return settings.get(kind)

        name = get(ast.ProgramName)
        zone = get(ast.TimezoneSetting)
        pending = get(ast.PendingSetting)
        refunds = get(ast.RefundWindowSetting)
        value = get(ast.PointValueSetting)
        rounding = get(ast.RoundingSetting)
        return Program(
            ruleset=self.ruleset,
            name=name.name.value if name is not None else None,  # type: ignore[attr-defined]
            currency=self.currency,
            timezone=zone.zone.value if zone is not None else "UTC",  # type: ignore[attr-defined]
            expiry=get(ast.ExpirySetting),  # type: ignore[arg-type]
            pending=pending.duration if pending is not None else None,  # type: ignore[attr-defined]
            refund_window=refunds.duration if refunds is not None else DEFAULT_REFUND_WINDOW,  # type: ignore[attr-defined]
            point_value=value.value if value is not None else None,  # type: ignore[attr-defined]
            rounding=rounding.mode if rounding is not None else "down",  # type: ignore[attr-defined]
            customer_fields=dict(self.customer_fields),
            events=dict(self.events),
            event_words=dict(self.event_words),
            segments=dict(self.segments),
            tiers=tuple(self.tiers.values()),
            rewards=dict(self.rewards),
            vouchers=dict(self.vouchers),
            free_items=dict(self.free_items),
            rules=tuple(self.rules),
            rule_names=tuple(self.rule_names),
            notifications=tuple(s for s in self.ruleset.statements if isinstance(s, ast.Notify)),
        )


def _date_help(node: ast.DateLit) -> str:
    if not 1 <= node.month <= 12:
        return "dates are written YYYY-MM-DD, and months go from 01 to 12"
    days = calendar.monthrange(node.year, node.month)[1]
    month = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")[node.month - 1]
    return f"{month} {node.year} has {days} days"


def _singular(word: str) -> str:
    """A guess at the event name behind a plural (``deliveries`` → ``delivery``)."""
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if re.search(r"(s|x|z|ch|sh)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _article(kind: str) -> str:
    return {"money": "money", "number": "a number", "text": "text", "date": "a date", "bool": "true/false",
            "tier": "a tier", "list of text": "a list of texts"}.get(kind, kind)


def check(ruleset: ast.Ruleset, keywords: frozenset[str],
          broken_declarations: frozenset[tuple[str, str]] = frozenset()) -> CheckResult:
    """Check a parsed ruleset: every diagnostic, and the ``Program`` when none is an error."""
    return Checker(ruleset, keywords, broken_declarations).run()
