"""Ruleset tests: ``*.test.yaml`` files that say what a ruleset must do with some events.

A test file names its ruleset and holds cases; each case gives events (inline, or an events
file) and what is expected of the ledger and of the customers afterwards. ``rewardlang test``
(``rewardlang.cli``) loads them here, runs each case through ``rewardlang.engine.Engine`` — the
one evaluator; nothing here computes points — and compares. ``rewardlang.testreport`` prints the
results. docs/testing.md is the users' description of the format; the decisions are repeated here
for the code's readers.

Why it is built the way it is:

- **Line numbers for every problem.** A test file that cannot be used is a usage error (exit 2)
  and the message must say where: the YAML is *composed* (a node tree that keeps each node's
  position), not loaded, and checked node by node, so a wrong key, a wrong type or a missing
  ruleset names its ``file:line``.
- **Scalars as a marketer means them, money never through float.** PyYAML's default (YAML 1.1)
  resolvers turn ``2026-03-01T10:00:00+01:00`` into a datetime, ``249.00`` into a float,
  ``NO`` and ``on`` into booleans and ``10:30`` into 630. The loader here keeps a small
  YAML-1.2-core-like set: ``true``/``false``, ``null``/``~``/empty, integers without leading zeros,
  decimals (read from their text into ``Decimal``, exactly like JSON Lines numbers); everything
  else is text, times included.
- **Errors are values.** ``load_test_file`` returns the loaded file or its problems (one per
  case at most, so that one run shows every broken case); ``run_case`` returns a result whose
  failures say what was expected and what came out.
- **No silent passes.** An event that the engine rejects fails its case unless the case lists it
  under ``rejected``; an expectation about a customer that no event of the case names fails; a
  case that expects nothing is invalid. A typo in a test cannot make it pass.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs
import yaml

from rewardlang.effects import KINDS, Effect, canonical
from rewardlang.engine import Engine
from rewardlang.inputs import InputError, open_events
from rewardlang.loading import check_path
from rewardlang.localtime import parse_instant
from rewardlang.parser import Parser
from rewardlang.program import Program

__all__ = [
    "SUFFIXES",
    "Case",
    "CaseResult",
    "Coverage",
    "Failure",
    "Problem",
    "RulesetCache",
    "TestFile",
    "coverage",
    "discover",
    "load_test_file",
    "run_case",
    "select",
]

SUFFIXES = (".test.yaml", ".test.yml")
MAX_DEPTH = 64  # nesting of YAML collections in a test file
MAX_NODES = 1_000_000  # values in one test file, aliases expanded (a "billion laughs" stops here)
SHOWN_LINES = 40  # ledger lines a failure shows at most (all of them with --verbose)

# The keys of a ledger line (LANGUAGE.md §5): the five every line has, then those of each kind.
COMMON_KEYS = ("time", "customer", "event", "rule", "kind")
KIND_KEYS: Mapping[str, tuple[str, ...]] = {
    "points": ("points", "balance", "reverses", "releases", "reason"),
    "pending": ("pending", "reverses"),
    "free_item": ("item", "quantity"),
    "voucher": ("voucher", "quantity"),
    "message": ("message", "expiring", "expires"),
    "tier": ("from", "to"),
    "expire": ("points", "balance"),
    "redeem": ("reward", "points", "balance"),
}
LINE_KEYS = COMMON_KEYS + tuple(sorted({k for keys in KIND_KEYS.values() for k in keys}))
_INSTANT_KEYS = frozenset({"time", "expires"})
_ID_KEYS = frozenset({"customer", "event", "reverses", "releases"})
_WHOLE_KEYS = frozenset({"points", "balance", "pending", "quantity", "expiring"})
_NOT_NULL = frozenset({"time", "customer", "kind"})

FILE_KEYS = ("ruleset", "cases", "description")
EVENT_KEYS = ("name", "description", "events", "until")
EXPECT_KEYS = ("effects", "ordered", "complete", "balances", "pending", "tiers", "vouchers", "free_items",
               "rejected")
CASE_KEYS = EVENT_KEYS + EXPECT_KEYS
REJECTED_KEYS = ("id", "line", "reason", "code")


# ---------------------------------------------------------------------------- values


@attrs.frozen
class Problem:
    """Why a test file (or a path given on the command line) cannot be used: exit 2."""

    file: str
    line: int | None
    message: str
    column: int | None = None
    details: tuple[str, ...] = ()  # more lines to show under the message (a ruleset's errors)

    def headline(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: error: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message,
                "details": list(self.details)}


@attrs.frozen
class ExpectedLine:
    """One partial ledger line: the keys it names must be on a line of the ledger, equal."""

    line: int  # where it stands in the test file
    written: Mapping[str, Any]  # as written (for messages)
    values: tuple[tuple[str, Any], ...]  # normalised: ids as text, times as instants, text NFC

    def shown(self) -> str:
        return _json(dict(self.written))


@attrs.frozen
class ExpectedRejection:
    """An input event that must be rejected: which one (``id`` or ``line``), and why."""

    line: int
    id: str | None
    input_line: int | None
    reason: str | None
    code: str | None

    def which(self, place: str) -> str:
        """``event r1``, ``event r1 (line 4)``, ``event 4``: ``place`` is ``line`` for an events file."""
        if self.id is None:
            return f"{place} {self.input_line}"
        return f"event {self.id}" + (f" ({place} {self.input_line})" if self.input_line is not None else "")

    def why(self) -> str:
        parts = []
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.reason is not None:
            parts.append(f"a reason containing {self.reason!r}")
        return " and ".join(parts) or "any reason"


@attrs.frozen
class InputItem:
    """One input event of a case: its place (position in the inline list, or line of the events
    file), and its value — or, for an events-file line that cannot be read, why not."""

    number: int
    value: Mapping[str, Any] | None
    problem: str | None = None
    code: str | None = None
    yaml_line: int | None = None  # inline events: where it stands in the test file


@attrs.frozen
class Case:
    """A case as loaded: its events, ``until``, and each expectation it states (None: not stated)."""

    name: str
    line: int
    inputs: tuple[InputItem, ...]
    events_file: str | None  # None for inline events
    until: str | None
    effects: tuple[ExpectedLine, ...] | None = None
    ordered: bool = False
    complete: bool = False
    balances: Mapping[str, int] | None = None
    pending: Mapping[str, int] | None = None
    tiers: Mapping[str, str | None] | None = None
    vouchers: Mapping[str, Mapping[str, int]] | None = None
    free_items: Mapping[str, Mapping[str, int]] | None = None
    rejected: tuple[ExpectedRejection, ...] | None = None


@attrs.frozen
class TestFile:
    """A loaded test file: its ruleset's checked programme and its cases."""

    __test__ = False  # not a pytest test class, whatever imports it

    path: str
    ruleset: str
    program: Program
    cases: tuple[Case, ...]

    def case_id(self, case: Case) -> str:
        return f"{self.path}::{case.name}"


@attrs.frozen
class Failure:
    """One expectation of a case that did not hold: a one-line message and a readable diff."""

    kind: str  # effects | balances | pending | tiers | vouchers | free_items | rejected | customers
    message: str
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "details": list(self.details)}


@attrs.frozen
class GotRejection:
    """An input event that was rejected (or an events-file line that could not be read)."""

    number: int
    id: str | None
    customer: str | None
    reason: str
    code: str | None


@attrs.frozen
class CaseResult:
    """A case run: its failures (none: it passed), and what came out, for the reports."""

    file: str
    name: str
    line: int
    ruleset: str
    failures: tuple[Failure, ...]
    seconds: float
    ledger: tuple[Mapping[str, Any], ...]
    rejections: tuple[GotRejection, ...]
    fired: frozenset[str]  # the rules that fired (for --coverage)
    tiers_reached: frozenset[str]
    place: str = "event"  # what a rejection's number counts: "event" (inline) or "line" (events file)

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"

    @property
    def passed(self) -> bool:
        return not self.failures


@attrs.frozen
class Coverage:
    """What the selected cases made a ruleset do: rules that never fired, tiers never reached."""

    ruleset: str
    rules: tuple[tuple[str, int], ...]  # every rule: name, line in the ruleset
    fired: frozenset[str]
    tiers: tuple[str, ...]
    reached: frozenset[str]

    @property
    def uncovered(self) -> tuple[tuple[str, int], ...]:
        return tuple((name, line) for name, line in self.rules if name not in self.fired)

    @property
    def tiers_not_reached(self) -> tuple[str, ...]:
        return tuple(t for t in self.tiers if t not in self.reached)

    def to_dict(self) -> dict[str, Any]:
        return {"ruleset": self.ruleset, "rules": len(self.rules), "fired": len(self.rules) - len(self.uncovered),
                "uncovered": [{"rule": n, "line": line} for n, line in self.uncovered],
                "tiers": len(self.tiers), "tiers_not_reached": list(self.tiers_not_reached)}


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> object:
    return str(value)  # a Decimal as written


# ---------------------------------------------------------------------------- discovery


def discover(paths: Sequence[str]) -> tuple[list[str], list[Problem]]:
    """The test files to run, and the problems with the paths.

    A directory stands for every ``*.test.yaml`` (or ``*.test.yml``) file below it, hidden
    directories skipped, in sorted order; a file stands for itself whatever its name. A file
    named twice is run once.
    """
    files: list[str] = []
    problems: list[Problem] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        key = os.path.normcase(os.path.abspath(name))
        if key not in seen:
            seen.add(key)
            files.append(name)

    for arg in paths:
        path = Path(arg)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*.test.y*ml")
                if p.name.endswith(SUFFIXES) and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
            if not found:
                problems.append(Problem(arg, None, "no *.test.yaml files in this directory; name the test "
                                        "files, or a directory that holds some"))
            for p in found:
                add(os.fspath(p))
        elif path.is_file():
            add(arg)
        elif path.is_symlink():
            problems.append(Problem(arg, None, "a broken symbolic link; point it at a test file"))
        elif path.exists():
            problems.append(Problem(arg, None, "not a regular file; name a *.test.yaml file"))
        else:
            problems.append(Problem(arg, None, "no such file or directory; check the path"))
    return files, problems


def select(files: Iterable[TestFile], patterns: Sequence[str]) -> list[tuple[TestFile, Case]]:
    """The cases whose ``file::case name`` contains one of ``patterns`` (case-insensitively; the
    file may be written without its ``.test.yaml``, so ``bookshop::welcome`` works); every case
    when there is no pattern."""
    wanted = [p.casefold() for p in patterns]

    def names(f: TestFile, c: Case) -> tuple[str, ...]:
        short = next((f.path[: -len(s)] for s in SUFFIXES if f.path.endswith(s)), f.path)
        return (f.case_id(c).casefold(), f"{short}::{c.name}".casefold())

    return [(f, c) for f in files for c in f.cases
            if not wanted or any(p in n for p in wanted for n in names(f, c))]


# ---------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` with YAML-1.2-core-like plain scalars and nothing else implicit (no
    timestamps, no sexagesimal numbers, no ``yes``/``no``/``on``/``off``, no merge keys)."""


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                              list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
                              list("-+0123456789."))
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                              ["~", "n", "N", ""])

_TAG = "tag:yaml.org,2002:"


class _Invalid(Exception):
    """A problem at a node; turned into a ``Problem`` value at the edge of this module."""

    def __init__(self, node: yaml.Node | None, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.line = None if node is None else node.start_mark.line + 1
        self.message = message
        self.details = details


def _compose(text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _yaml_problem(file: str, text: str, exc: yaml.YAMLError) -> Problem:
    """A YAML syntax error as ``file:line:column``: where the parser noticed it, and what it was
    parsing (with that line) when the two differ."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        return Problem(file, line, f"a character YAML does not allow (U+{char:04X}); remove it")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return Problem(file, None, f"not valid YAML ({exc}); fix the syntax")
    problem = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context:
        problem += f" ({context}" + (f" from line {context_mark.line + 1}" if context_mark is not None
                                     and context_mark.line != mark.line else "") + ")"
    return Problem(file, mark.line + 1, f"not valid YAML: {problem}; fix the syntax (docs/testing.md has examples)",
                   mark.column + 1)


def _kind_of(node: yaml.Node) -> str:
    """What a node is, in words, for messages: ``a list``, ``the text 'x'``, ``the number 3``."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    try:
        value = _scalar(node)
    except _Invalid:
        return f"a value tagged {node.tag}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {node.value}"
    if isinstance(value, (int, Decimal)):
        return f"the number {node.value}"
    return f"the text {value!r}"


def _scalar(node: yaml.Node) -> object:
    """A scalar node's value: None, bool, int, Decimal (a decimal, exactly as written) or str."""
    if not isinstance(node, yaml.ScalarNode):
        raise _Invalid(node, "expected a single value here, not " + _kind_of(node))
    tag, value = node.tag, node.value
    if tag == _TAG + "str":
        return value
    if tag == _TAG + "null" and value in ("", "~", "null", "Null", "NULL"):
        return None
    if tag == _TAG + "bool" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if tag == _TAG + "int":
        try:
            return int(value)
        except ValueError:
            pass
    if tag == _TAG + "float":
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal("NaN")
        if number.is_finite():
            return number
    if tag.startswith(_TAG) and tag[len(_TAG):] in ("str", "null", "bool", "int", "float"):
        raise _Invalid(node, f"{value!r} is not a {tag[len(_TAG):]}; write the value without the tag")
    raise _Invalid(node, f"the YAML tag {tag} is not supported; write plain values (quote text)")


def _plain(node: yaml.Node, budget: list[int], depth: int = 0) -> object:
    """A node as plain data (for inline events), aliases expanded within limits."""
    budget[0] += 1
    if budget[0] > MAX_NODES:
        raise _Invalid(node, f"more than {MAX_NODES:,} values (aliases expanded); make the test file smaller")
    if depth > MAX_DEPTH:
        raise _Invalid(node, f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _TAG + "seq":
            raise _Invalid(node, f"the YAML tag {node.tag} is not supported; write a plain list")
        return [_plain(item, budget, depth + 1) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, object] = {}
        for key, key_node, value_node in _pairs(node, "a value here"):
            out[key] = _plain(value_node, budget, depth + 1)
        return out
    return _scalar(node)


def _pairs(node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """A mapping's entries with text keys, each key once."""
    if not isinstance(node, yaml.MappingNode) or node.tag != _TAG + "map":
        raise _Invalid(node, f"{what} must be a mapping (key: value lines), not {_kind_of(node)}")
    seen: dict[str, int] = {}
    out = []
    for key_node, value_node in node.value:
        key = _scalar(key_node)
        if isinstance(key, bool) or key is None or not isinstance(key, (str, int)):
            raise _Invalid(key_node, f"the key {key_node.value!r} in {what} is not a name; quote it")
        key = str(key)
        if key in seen:
            raise _Invalid(key_node, f"`{key}` is given twice in {what} (first on line {seen[key]}); "
                           "keep one")
        seen[key] = key_node.start_mark.line + 1
        out.append((key, key_node, value_node))
    return out


def _suggest(word: str, names: Iterable[str]) -> str:
    """``; did you mean `x`?`` when a name is close, else the list of the names (if short)."""
    names = list(names)
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6) if len(word) <= 80 else []
    if not close:
        close = difflib.get_close_matches(word.casefold(), [n.casefold() for n in names], n=1, cutoff=0.6)
        close = [n for n in names if n.casefold() == close[0]][:1] if close else []
    if close:
        return f"; did you mean {_quote(close[0])}?"
    if not names:
        return ""
    if len(names) <= 12:
        return "; it is one of " + ", ".join(_quote(n) for n in names)
    return ""


def _quote(name: str) -> str:
    return f"`{name}`" if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else f'"{name}"'


def _keys(pairs: list[tuple[str, yaml.Node, yaml.Node]], allowed: Sequence[str], where: str) -> dict[str, yaml.Node]:
    out: dict[str, yaml.Node] = {}
    for key, key_node, value_node in pairs:
        if key == "<<":
            raise _Invalid(key_node, f"merge keys (<<) are not supported in {where}; write the keys, or use an "
                           "alias (*name) for a whole value")
        if key not in allowed:
            raise _Invalid(key_node, f"unknown key `{key}` in {where}{_suggest(key, allowed)}")
        out[key] = value_node
    return out


def _single(node: yaml.Node, what: str, must: str) -> object:
    """A scalar's value, or an error that says what ``what`` must be."""
    if not isinstance(node, yaml.ScalarNode):
        raise _Invalid(node, f"{what} must be {must}, not {_kind_of(node)}")
    return _scalar(node)


def _text(node: yaml.Node, what: str) -> str:
    value = _single(node, what, "text")
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(node, f"{what} must be text, not {_kind_of(node)}")
    return value


def _flag(node: yaml.Node, what: str) -> bool:
    value = _single(node, what, "true or false")
    if not isinstance(value, bool):
        raise _Invalid(node, f"{what} must be true or false, not {_kind_of(node)}")
    return value


def _whole(node: yaml.Node, what: str, minimum: int | None = None) -> int:
    value = _single(node, what, "a whole number")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(node, f"{what} must be a whole number, not {_kind_of(node)}")
    if minimum is not None and value < minimum:
        raise _Invalid(node, f"{what} must be at least {minimum}, not {value}")
    return value


# ---------------------------------------------------------------------------- loading


@attrs.frozen
class _Names:
    """What a ruleset can put in a ledger, to check the names a test file uses."""

    rules: tuple[str, ...]
    tiers: tuple[str, ...]
    vouchers: tuple[str, ...]
    items: tuple[str, ...]
    rewards: tuple[str, ...]
    messages: tuple[str, ...]

    @classmethod
    def of(cls, program: Program) -> _Names:
        plan = Engine(program).plan
        vouchers = dict.fromkeys(list(program.vouchers) + [r.effect.name for r in plan.rules
                                                           if r.effect.kind == "voucher"])
        items = dict.fromkeys(list(program.free_items) + [r.effect.item or "" for r in plan.rules
                                                          if r.effect.kind == "free_item"])
        messages = dict.fromkeys([r.effect.name for r in plan.rules if r.effect.kind == "message"]
                                 + [template for template, _ in plan.notifications])
        return cls(tuple(program.rule_names), tuple(t.name for t in plan.tiers), tuple(vouchers), tuple(items),
                   tuple(program.rewards), tuple(messages))


class RulesetCache:
    """Rulesets checked once per run, whichever test files name them."""

    def __init__(self) -> None:
        self.parser: Parser | None = None
        self._checked: dict[str, tuple[Program, _Names] | _Invalid] = {}

    def get(self, path: str, node: yaml.Node) -> tuple[Program, _Names]:
        key = os.path.normcase(os.path.realpath(path))
        if key not in self._checked:
            self._checked[key] = self._load(path, node)
        found = self._checked[key]
        if isinstance(found, _Invalid):
            raise _Invalid(node, found.message, found.details)
        return found

    def _load(self, path: str, node: yaml.Node) -> tuple[Program, _Names] | _Invalid:
        from rewardlang.report import to_text

        if os.path.isdir(path):
            return _Invalid(node, f"ruleset: {path} is a directory; name the .reward file")
        if not os.path.exists(path):
            return _Invalid(node, f"ruleset: there is no file {path} (the path is relative to the test file); "
                            "check the path")
        if self.parser is None:
            self.parser = Parser()
        try:
            checked = check_path(path, parser=self.parser)
        except UnicodeDecodeError:
            return _Invalid(node, f"ruleset: {path} is not UTF-8 text; save it as UTF-8")
        except OSError as exc:
            return _Invalid(node, f"ruleset: {path} cannot be read ({exc.strerror or exc}); check the file")
        if checked.program is None:
            errors = tuple(d for d in checked.diagnostics if d.severity == "error")
            shown = to_text(errors, {checked.parsed.ruleset.filename: checked.parsed.source}).rstrip("\n")
            noun = "error" if len(errors) == 1 else "errors"
            them = "it" if len(errors) == 1 else "them"
            return _Invalid(node, f"ruleset: {path} has {len(errors)} {noun}; fix {them} (rewardlang check {path}) "
                            "and run the tests again", tuple(shown.splitlines()))
        return checked.program, _Names.of(checked.program)


def _read_text(path: str) -> str | Problem:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        if isinstance(exc, PermissionError):
            return Problem(path, None, "permission denied; make the file readable")
        return Problem(path, None, f"cannot be read ({exc.strerror or exc}); check the file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Problem(path, line, f"not valid UTF-8 (byte 0x{data[exc.start:exc.start + 1].hex()}); "
                       "test files are UTF-8 text: save the file as UTF-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_test_file(path: str, rulesets: RulesetCache | None = None) -> TestFile | list[Problem]:
    """A test file, checked against its ruleset; or every problem found (one per case at most)."""
    rulesets = rulesets or RulesetCache()
    text = _read_text(path)
    if isinstance(text, Problem):
        return [text]
    try:
        root = _compose(text)
    except yaml.YAMLError as exc:
        return [_yaml_problem(path, text, exc)]
    if root is None:
        return [Problem(path, 1, "the file is empty; a test file has `ruleset:` and `cases:` "
                        "(docs/testing.md has an example)")]
    problems: list[Problem] = []

    def problem(exc: _Invalid) -> Problem:
        return Problem(path, exc.line, exc.message, details=exc.details)

    try:
        keys = _keys(_pairs(root, "a test file"), FILE_KEYS, "the test file")
        if "ruleset" not in keys:
            raise _Invalid(root, "the test file names no ruleset; add `ruleset: NAME.reward` (relative to "
                           "the test file)")
        if "cases" not in keys:
            raise _Invalid(root, "the test file has no `cases:`; add a list of cases")
        if "description" in keys:
            _text(keys["description"], "description")
        ruleset_node = keys["ruleset"]
        ruleset = os.path.normpath(os.path.join(os.path.dirname(path), _text(ruleset_node, "ruleset")))
        program, names = rulesets.get(ruleset, ruleset_node)
        cases_node = keys["cases"]
        if not isinstance(cases_node, yaml.SequenceNode) or not cases_node.value:
            raise _Invalid(cases_node, "cases must be a list of cases (each `- name: ...`), not "
                           + ("an empty list" if isinstance(cases_node, yaml.SequenceNode) else _kind_of(cases_node)))
    except _Invalid as exc:
        return [problem(exc)]
    cases: list[Case] = []
    names_seen: dict[str, int] = {}
    budget = [0]
    for node in cases_node.value:
        try:
            case = _case(node, path, names, budget)
        except _Invalid as exc:
            problems.append(problem(exc))
            if budget[0] > MAX_NODES:
                break
            continue
        if case.name in names_seen:
            problems.append(Problem(path, case.line, f"two cases are named {case.name!r} (the other is on line "
                                    f"{names_seen[case.name]}); give each case its own name"))
            continue
        names_seen[case.name] = case.line
        cases.append(case)
    if problems:
        return problems
    return TestFile(path, ruleset, program, tuple(cases))


def _case(node: yaml.Node, path: str, names: _Names, budget: list[int]) -> Case:
    pairs = _pairs(node, "a case")
    given = dict((k, v) for k, _, v in pairs)
    label = "a case"
    if "name" in given:
        label = f"case {_text(given['name'], 'name')!r}"
    keys = _keys(pairs, CASE_KEYS, label)
    if "name" not in keys:
        raise _Invalid(node, "a case has no `name:`; give it one (it names the case in the output and for -k)")
    name = " ".join(_text(keys["name"], "name").split())
    if "events" not in keys:
        raise _Invalid(node, f"case {name!r} has no `events:`; give a list of events, or the name of an events file")
    if not any(k in keys for k in EXPECT_KEYS if k not in ("ordered", "complete")):
        raise _Invalid(node, f"case {name!r} expects nothing; add effects, balances, pending, tiers, vouchers, "
                       "free_items or rejected")
    for option in ("ordered", "complete"):
        if option in keys and "effects" not in keys:
            raise _Invalid(keys[option], f"`{option}` is about `effects`, and case {name!r} has none")
    inputs, events_file = _events(keys["events"], path, budget)
    until = None
    if "until" in keys:
        until = _single(keys["until"], "until", "a time with an offset from UTC")
        if not isinstance(until, str) or parse_instant(until) is None:
            raise _Invalid(keys["until"], f"until must be a time with an offset from UTC, as in "
                           f"\"2026-03-01T00:00:00+01:00\", not {_kind_of(keys['until'])}")
    return Case(
        name=name,
        line=node.start_mark.line + 1,
        inputs=inputs,
        events_file=events_file,
        until=until,
        effects=_effects(keys["effects"], names) if "effects" in keys else None,
        ordered=_flag(keys["ordered"], "ordered") if "ordered" in keys else False,
        complete=_flag(keys["complete"], "complete") if "complete" in keys else False,
        balances=_per_customer(keys["balances"], "balances", _signed) if "balances" in keys else None,
        pending=_per_customer(keys["pending"], "pending", _count) if "pending" in keys else None,
        tiers=_per_customer(keys["tiers"], "tiers", _tier(names)) if "tiers" in keys else None,
        vouchers=(_per_customer(keys["vouchers"], "vouchers", _counts("voucher", names.vouchers))
                  if "vouchers" in keys else None),
        free_items=(_per_customer(keys["free_items"], "free_items", _counts("free item", names.items))
                    if "free_items" in keys else None),
        rejected=_rejected(keys["rejected"]) if "rejected" in keys else None,
    )


def _events(node: yaml.Node, path: str, budget: list[int]) -> tuple[tuple[InputItem, ...], str | None]:
    if isinstance(node, yaml.ScalarNode):
        name = _text(node, "events")
        events_path = os.path.normpath(os.path.join(os.path.dirname(path), name))
        try:
            lines = list(open_events(events_path))
        except InputError as exc:
            raise _Invalid(node, f"events: {exc} (the path is relative to the test file)") from None
        except OSError as exc:
            raise _Invalid(node, f"events: {events_path} cannot be read ({exc.strerror or exc}); check the file") \
                from None
        if not lines:
            raise _Invalid(node, f"events: {events_path} holds no events; add some")
        return tuple(InputItem(line.line_number, line.value, line.problem, line.code) for line in lines), events_path
    if not isinstance(node, yaml.SequenceNode):
        raise _Invalid(node, f"events must be a list of events or the name of an events file, not {_kind_of(node)}")
    if not node.value:
        raise _Invalid(node, "events: the list is empty; give at least one event")
    items = []
    for number, item in enumerate(node.value, start=1):
        if not isinstance(item, yaml.MappingNode):
            raise _Invalid(item, f"event {number} must be a mapping ({{id: e1, type: purchase, customer: c1, "
                           f"time: ...}}), not {_kind_of(item)}")
        value = _plain(item, budget)
        items.append(InputItem(number, value, yaml_line=item.start_mark.line + 1))  # type: ignore[arg-type]
    return tuple(items), None


def _effects(node: yaml.Node, names: _Names) -> tuple[ExpectedLine, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise _Invalid(node, "effects must be a list of ledger lines (each `- {kind: points, points: 100}`), "
                       f"not {_kind_of(node)}")
    return tuple(_expected_line(item, number, names) for number, item in enumerate(node.value, start=1))


def _expected_line(node: yaml.Node, number: int, names: _Names) -> ExpectedLine:
    where = f"effects line {number}"
    pairs = _pairs(node, where)
    if not pairs:
        raise _Invalid(node, f"{where} is empty; name at least one key of the ledger line")
    given = {k: v for k, _, v in pairs}
    kind = None
    if "kind" in given:
        kind = _scalar(given["kind"])
        if kind not in KINDS:
            raise _Invalid(given["kind"], f"{where}: kind {kind!r} is not a kind of ledger line"
                           f"{_suggest(str(kind), KINDS)}")
    allowed = COMMON_KEYS + KIND_KEYS[kind] if kind is not None else LINE_KEYS
    written: dict[str, Any] = {}
    values: list[tuple[str, Any]] = []
    for key, key_node, value_node in pairs:
        if key not in allowed:
            if kind is not None and key in LINE_KEYS:
                raise _Invalid(key_node, f"{where}: `{key}` is not a key of {kind} lines (they have "
                               f"{', '.join(COMMON_KEYS + KIND_KEYS[kind])})")
            raise _Invalid(key_node, f"{where}: unknown key `{key}` of a ledger line{_suggest(key, LINE_KEYS)}")
        value = _scalar(value_node)
        written[key] = value
        values.append((key, _expected_value(key, value, value_node, where, names)))
    return ExpectedLine(node.start_mark.line + 1, written, tuple(values))


def _expected_value(key: str, value: object, node: yaml.Node, where: str, names: _Names) -> object:
    if value is None:
        if key in _NOT_NULL:
            raise _Invalid(node, f"{where}: `{key}` cannot be null")
        return None
    if key in _INSTANT_KEYS:
        instant = parse_instant(value)
        if instant is None:
            raise _Invalid(node, f"{where}: `{key}` must be a time with an offset from UTC, as in "
                           f"2026-03-01T09:15:00Z, not {_kind_of(node)}")
        return instant
    if key in _WHOLE_KEYS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(node, f"{where}: `{key}` must be a whole number, not {_kind_of(node)}")
        return value
    if key in _ID_KEYS:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise _Invalid(node, f"{where}: `{key}` must be an id, not {_kind_of(node)}")
        return unicodedata.normalize("NFC", str(value))
    if not isinstance(value, str):
        raise _Invalid(node, f"{where}: `{key}` must be text, not {_kind_of(node)}")
    value = unicodedata.normalize("NFC", value)
    known = {"rule": ("rule", names.rules), "from": ("tier", names.tiers), "to": ("tier", names.tiers),
             "voucher": ("voucher", names.vouchers), "item": ("free item", names.items),
             "reward": ("reward", names.rewards), "message": ("message", names.messages)}.get(key)
    if known is not None and value not in known[1]:
        noun, choices = known
        raise _Invalid(node, f"{where}: the ruleset has no {noun} {value!r}{_suggest(value, choices)}")
    return value


def _signed(node: yaml.Node, what: str) -> int:
    return _whole(node, what)


def _count(node: yaml.Node, what: str) -> int:
    return _whole(node, what, 0)


def _tier(names: _Names) -> Any:
    def tier(node: yaml.Node, what: str) -> str | None:
        value = _scalar(node)
        if value is None:
            return None
        if not isinstance(value, str):
            raise _Invalid(node, f"{what} must be a tier's name or null (no tier), not {_kind_of(node)}")
        if value not in names.tiers:
            raise _Invalid(node, f"{what}: the ruleset has no tier {value!r}{_suggest(value, names.tiers)}"
                           + ("" if names.tiers else " (it declares no tiers)"))
        return value
    return tier


def _counts(noun: str, known: Sequence[str]) -> Any:
    def counts(node: yaml.Node, what: str) -> Mapping[str, int]:
        out: dict[str, int] = {}
        for key, key_node, value_node in _pairs(node, what):
            name = unicodedata.normalize("NFC", key)
            if name not in known:
                raise _Invalid(key_node, f"{what}: the ruleset gives no {noun} {name!r}{_suggest(name, known)}")
            out[name] = _whole(value_node, f"{what} {name!r}", 0)
        return out
    return counts


def _per_customer(node: yaml.Node, what: str, convert: Any) -> Mapping[str, Any]:
    pairs = _pairs(node, what)
    if not pairs:
        raise _Invalid(node, f"{what} is empty; name at least one customer")
    return {unicodedata.normalize("NFC", key): convert(value, f"{what} of {key}") for key, _, value in pairs}


def _rejected(node: yaml.Node) -> tuple[ExpectedRejection, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise _Invalid(node, "rejected must be a list (each `- {id: e3, reason: \"...\"}`), not " + _kind_of(node))
    out = []
    for number, item in enumerate(node.value, start=1):
        where = f"rejected item {number}"
        keys = _keys(_pairs(item, where), REJECTED_KEYS, where)
        if "id" not in keys and "line" not in keys:
            raise _Invalid(item, f"{where} says neither `id` nor `line`; name the event")
        event_id = None
        if "id" in keys:
            raw = _scalar(keys["id"])
            if isinstance(raw, bool) or not isinstance(raw, (str, int)):
                raise _Invalid(keys["id"], f"{where}: `id` must be an event id, not {_kind_of(keys['id'])}")
            event_id = str(raw)
        line = _whole(keys["line"], f"{where}: `line`", 1) if "line" in keys else None
        reason = _text(keys["reason"], f"{where}: `reason`") if "reason" in keys else None
        code = _text(keys["code"], f"{where}: `code`") if "code" in keys else None
        out.append(ExpectedRejection(item.start_mark.line + 1, event_id, line, reason, code))
    return tuple(out)


# ---------------------------------------------------------------------------- running


def run_case(test_file: TestFile, case: Case, *, trace: bool = False) -> CaseResult:
    """One case through a fresh ``Engine``: its events as one batch, then ``until``; compared.

    ``trace`` records which rules fired (``Engine.run(explain=True)``), for ``--coverage``: a
    firing that writes no line (a points award that comes to 0) still counts.
    """
    started = time.perf_counter()
    engine = Engine(test_file.program)
    readable = [item for item in case.inputs if item.value is not None]
    report = engine.run([dict(item.value) for item in readable], explain=trace)  # type: ignore[arg-type]
    effects: list[Effect] = list(report.effects)
    if case.until is not None:
        effects = canonical(effects + list(engine.advance(case.until)))
    ledger = tuple(effect.to_dict() for effect in effects)

    rejections = [GotRejection(item.number, None, None, item.problem or "unreadable", item.code)
                  for item in case.inputs if item.value is None]
    outcome_of: dict[int, tuple[str, str | None, str | None, str | None]] = {}  # number → status, id, reason, code
    customers: set[str] = set(engine.states)
    for outcome in report.outcomes:
        item = readable[outcome.index]
        event_id = outcome.event if outcome.event is not None else _raw_id(item.value)
        outcome_of[item.number] = (outcome.status, event_id, outcome.reason, outcome.code)
        if outcome.customer is not None:
            customers.add(outcome.customer)
        if outcome.status == "rejected":
            rejections.append(GotRejection(item.number, event_id, outcome.customer, outcome.reason or "",
                                           outcome.code))
    for item in case.inputs:
        if item.value is None:
            outcome_of[item.number] = ("rejected", None, item.problem, item.code)
    rejections.sort(key=lambda r: r.number)

    failures: list[Failure] = []
    if case.effects is not None:
        failures.extend(_compare_effects(case, ledger))
    failures.extend(_compare_customers(case, engine, ledger, customers))
    failures.extend(_compare_rejections(case, rejections, outcome_of))

    fired = {line["rule"] for line in ledger if line["rule"] is not None}
    fired.update(d.rule for d in report.decisions if d.outcome == "fired")
    reached = {line["to"] for line in ledger if line["kind"] == "tier" and line["to"] is not None}
    return CaseResult(test_file.path, case.name, case.line, test_file.ruleset, tuple(failures),
                      time.perf_counter() - started, ledger, tuple(rejections), frozenset(fired), frozenset(reached),
                      "line" if case.events_file is not None else "event")


def _raw_id(value: Mapping[str, Any] | None) -> str | None:
    raw = None if value is None else value.get("id")
    return None if raw is None or isinstance(raw, (dict, list, bool)) else str(raw)


# ---------------------------------------------------------------------------- effects


def _same(key: str, expected: object, got: object) -> bool:
    if expected is None:
        return got is None
    if key in _INSTANT_KEYS:
        return isinstance(got, str) and parse_instant(got) == expected
    if isinstance(expected, int):
        return isinstance(got, int) and not isinstance(got, bool) and got == expected
    return got == expected


def _matches(expected: ExpectedLine, line: Mapping[str, Any]) -> bool:
    return all(_same(key, value, line.get(key)) for key, value in expected.values)


def _matching(adjacent: list[list[int]]) -> list[int | None]:
    """A maximum matching of expected lines to distinct ledger lines (augmenting paths)."""
    owner: dict[int, int] = {}  # ledger index → expected index
    for start in range(len(adjacent)):
        # iterative depth-first search for an augmenting path from ``start``
        parent: dict[int, tuple[int, int | None]] = {}  # ledger index → (expected index, previous ledger index)
        stack: list[tuple[int, int | None, Iterator[int]]] = [(start, None, iter(adjacent[start]))]
        found: int | None = None
        while stack and found is None:
            expected, via, options = stack[-1]
            for j in options:
                if j in parent:
                    continue
                parent[j] = (expected, via)
                if j not in owner:
                    found = j
                    break
                stack.append((owner[j], j, iter(adjacent[owner[j]])))
                break
            else:
                stack.pop()
        while found is not None:  # flip the path
            expected, via = parent[found]
            owner[found] = expected
            found = via
    result: list[int | None] = [None] * len(adjacent)
    for j, i in owner.items():
        result[i] = j
    return result


def _compare_effects(case: Case, ledger: Sequence[Mapping[str, Any]]) -> list[Failure]:
    expected = case.effects or ()
    adjacent = [[j for j, line in enumerate(ledger) if _matches(e, line)] for e in expected]
    matched = _matching(adjacent)
    failures: list[Failure] = []
    missing = [i for i, j in enumerate(matched) if j is None]
    if missing:
        details: list[str] = []
        for i in missing:
            details.extend(_missing_line(i, expected[i], ledger, bool(adjacent[i])))
        details.extend(_ledger_lines(ledger, matched))
        what = (f"expected line {missing[0] + 1} is" if len(missing) == 1
                else f"{len(missing)} of {len(expected)} expected lines are")
        failures.append(Failure("effects", f"effects: {what} not in the ledger ({_lines(len(ledger))})",
                                tuple(details)))
        return failures
    if case.ordered:
        position = -1
        order: list[int | None] = []
        for i, e in enumerate(expected):
            nxt = next((j for j in adjacent[i] if j > position), None)
            if nxt is None:
                before = ", ".join(str(j + 1) for j in adjacent[i])
                details = [f"expected line {i + 1} (test file line {e.line}): {e.shown()}",
                           f"  is in the ledger only at line {before}, not after line {position + 1}, where "
                           f"expected line {i} matched"]
                details.extend(_ledger_lines(ledger, matched))
                failures.append(Failure("effects", "effects: the expected lines are in the ledger, but not in "
                                        "this order (ordered: true)", tuple(details)))
                return failures
            order.append(nxt)
            position = nxt
        matched = order
    if case.complete:
        used = {j for j in matched if j is not None}
        extra = [j for j in range(len(ledger)) if j not in used]
        if extra:
            details = [f"  {j + 1:>3}  {_json(dict(ledger[j]))}" for j in extra[:SHOWN_LINES]]
            if len(extra) > SHOWN_LINES:
                details.append(f"  ... and {len(extra) - SHOWN_LINES} more")
            noun = "line" if len(extra) == 1 else "lines"
            failures.append(Failure("effects", f"effects: {len(extra)} ledger {noun} that no expected line "
                                    "matches (complete: true)", ("unexpected:", *details)))
    return failures


def _lines(n: int) -> str:
    return "1 line" if n == 1 else f"{n} lines"


def _missing_line(i: int, expected: ExpectedLine, ledger: Sequence[Mapping[str, Any]], taken: bool) -> list[str]:
    out = [f"expected line {i + 1} (test file line {expected.line}): {expected.shown()}"]
    if taken:
        out.append("  it matches only ledger lines that other expected lines matched (each expected line "
                   "needs a ledger line of its own)")
        return out
    scored = []
    for j, line in enumerate(ledger):
        same = [key for key, value in expected.values if _same(key, value, line.get(key))]
        if len(same) == 0:
            continue
        weight = (len(same), "rule" in same, "kind" in same)
        scored.append((weight, j))
    scored.sort(key=lambda t: (tuple(-int(x) for x in t[0]), t[1]))
    if not scored:
        out.append("  no ledger line has any of these values")
        return out
    best = scored[0][0]
    for _, j in [s for s in scored if s[0] == best][:2]:
        line = ledger[j]
        out.append(f"  nearest, ledger line {j + 1}: {_json(dict(line))}")
        for key, value in expected.values:
            if not _same(key, value, line.get(key)):
                got = _json(line[key]) if key in line else "(no such key)"
                out.append(f"      {key}: expected {_json(expected.written[key])}, got {got}")
    return out


def _ledger_lines(ledger: Sequence[Mapping[str, Any]], matched: Sequence[int | None]) -> list[str]:
    if not ledger:
        return ["the ledger is empty"]
    marks = {j: i for i, j in enumerate(matched) if j is not None}
    out = ["the ledger:"]
    for j, line in enumerate(ledger[:SHOWN_LINES]):
        mark = f"  <- expected line {marks[j] + 1}" if j in marks else ""
        out.append(f"  {j + 1:>3}  {_json(dict(line))}{mark}")
    if len(ledger) > SHOWN_LINES:
        out.append(f"  ... and {len(ledger) - SHOWN_LINES} more (run with --verbose to see them all)")
    return out


# ---------------------------------------------------------------------------- customers


def _compare_customers(case: Case, engine: Engine, ledger: Sequence[Mapping[str, Any]],
                       customers: set[str]) -> list[Failure]:
    failures: list[Failure] = []
    named: set[str] = set()
    for table in (case.balances, case.pending, case.tiers, case.vouchers, case.free_items):
        named.update(table or ())
    unknown = sorted(named - customers)
    if unknown:
        have = ", ".join(sorted(customers)) or "none"
        hints = []
        for c in unknown:
            close = difflib.get_close_matches(c, sorted(customers), n=1, cutoff=0.6)
            if close:
                hints.append(f"{c}: did you mean {close[0]}?")
        failures.append(Failure("customers", f"customers: no event of this case is for {', '.join(unknown)} (the case's "
                                f"customers: {have}); check the customer ids", tuple(hints)))

    def view(customer: str) -> Any:
        return engine.customer(customer) if customer in engine.states else None

    scalar_checks = (("balances", case.balances, lambda v: v.balance if v else 0, str),
                     ("pending", case.pending, lambda v: v.pending if v else 0, str),
                     ("tiers", case.tiers, lambda v: v.tier if v else None, _tier_shown))
    for kind, table, get, show in scalar_checks:
        if table is None:
            continue
        details = []
        for customer, want in table.items():
            if customer in unknown:
                continue
            got = get(view(customer))
            if got != want:
                details.append(f"{customer}: expected {show(want)}, got {show(got)}")
        if len(details) == 1:
            failures.append(Failure(kind, f"{kind}: {details[0]}"))
        elif details:
            failures.append(Failure(kind, f"{kind}: {_customers(len(details))} differ", tuple(details)))
    for kind, table, field, key in (("vouchers", case.vouchers, "voucher", "voucher"),
                                    ("free_items", case.free_items, "free_item", "item")):
        if table is None:
            continue
        given: dict[str, Counter[str]] = {}
        for line in ledger:
            if line["kind"] == field:
                given.setdefault(line["customer"], Counter())[line[key]] += int(line["quantity"])
        details = []
        wrong = []
        for customer, wanted in table.items():
            if customer in unknown:
                continue
            got = given.get(customer, Counter())
            these = [f"{customer} {name!r}: expected {count}, got {got[name]}"
                     for name, count in wanted.items() if got[name] != count]
            if these:
                wrong.extend(these)
                every = ", ".join(f"{n!r}: {c}" for n, c in sorted(got.items())) or "none"
                details.extend([*these, f"  {customer} got, in all: {every}"])
        if len(wrong) == 1:
            failures.append(Failure(kind, f"{kind}: {wrong[0]}", tuple(d.strip() for d in details[1:])))
        elif wrong:
            failures.append(Failure(kind, f"{kind}: {len(wrong)} counts differ", tuple(details)))
    return failures


def _tier_shown(tier: str | None) -> str:
    return "no tier (null)" if tier is None else tier


def _customers(n: int) -> str:
    return "1 customer" if n == 1 else f"{n} customers"


# ---------------------------------------------------------------------------- rejections


def _compare_rejections(case: Case, rejections: Sequence[GotRejection],
                        outcome_of: Mapping[int, tuple[str, str | None, str | None, str | None]]) -> list[Failure]:
    expected = case.rejected or ()
    unused = list(rejections)
    details: list[str] = []
    missing = 0
    place = "line" if case.events_file is not None else "event"
    for want in expected:
        found = next((r for r in unused if _rejection_matches(want, r)), None)
        if found is not None:
            unused.remove(found)
            continue
        missing += 1
        details.append(f"expected {want.which(place)} to be rejected with {want.why()} (test file line {want.line})")
        numbers = [n for n, (_, event_id, _, _) in outcome_of.items()
                   if (want.id is None or event_id == want.id) and (want.input_line is None or n == want.input_line)]
        if not numbers:
            what = f"id {want.id}" if want.id is not None else f"{place} {want.input_line}"
            details.append(f"  no input event has {what}")
        for n in sorted(numbers):
            status, _, reason, code = outcome_of[n]
            if status == "rejected":
                details.append(f"  {place} {n} was rejected with code {code}: {reason}")
            else:
                details.append(f"  {place} {n} was {status}, not rejected")
    yaml_lines = {item.number: item.yaml_line for item in case.inputs if item.yaml_line is not None}
    for r in unused:
        about = ([f"id {r.id}"] if r.id is not None else []) + (
            [f"test file line {yaml_lines[r.number]}"] if r.number in yaml_lines else [])
        details.append(f"{place} {r.number}" + (f" ({', '.join(about)})" if about else "")
                       + f" was rejected: {r.code}: {r.reason}")
    if unused:
        details.append("  (list it under `rejected:` if the case expects it)")
    if not details:
        return []
    parts = []
    if missing:
        parts.append(f"{missing} expected rejection{'s' * (missing != 1)} did not happen")
    if unused:
        parts.append(f"{len(unused)} event{'s were' if len(unused) != 1 else ' was'} rejected unexpectedly")
    return [Failure("rejected", "rejected: " + "; ".join(parts), tuple(details))]


def _rejection_matches(want: ExpectedRejection, got: GotRejection) -> bool:
    if want.id is not None and got.id != want.id:
        return False
    if want.input_line is not None and got.number != want.input_line:
        return False
    if want.code is not None and got.code != want.code:
        return False
    return want.reason is None or want.reason.casefold() in got.reason.casefold()


# ---------------------------------------------------------------------------- coverage


def coverage(selected: Iterable[tuple[TestFile, Case]], results: Iterable[CaseResult]) -> tuple[Coverage, ...]:
    """Per ruleset of the selected cases (in the order the test files name them): its rules and
    tiers, and which of them the results made fire or reached."""
    programs: dict[str, Program] = {}
    for f, _ in selected:
        programs.setdefault(f.ruleset, f.program)
    fired: dict[str, set[str]] = {name: set() for name in programs}
    reached: dict[str, set[str]] = {name: set() for name in programs}
    for result in results:
        if result.ruleset in programs:
            fired[result.ruleset].update(result.fired)
            reached[result.ruleset].update(result.tiers_reached)
    out = []
    for name, program in programs.items():
        rules = tuple((rule_name, rule.span.line) for rule_name, rule in zip(program.rule_names, program.rules))
        tiers = tuple(t.name for t in Engine(program).plan.tiers)
        out.append(Coverage(name, rules, frozenset(fired[name]), tiers, frozenset(reached[name])))
    return tuple(out)
