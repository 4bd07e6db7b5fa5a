"""Diagnostics as values, shared by every stage (parser, checker, and later the runtime).

Like beancount's errors, a problem is never thrown mid-way: each stage returns the diagnostics it
found beside its result, and the caller decides what to do. ``RulesetError`` is the one
exception the public API raises, and it carries every diagnostic.

Each diagnostic has a stable code; ``CODES`` lists them all with a one-line title, and
docs/errors.md explains each with an example and its fix (a test holds the two in step).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import attrs

from rewardlang.spans import Span

Severity = Literal["error", "warning"]

CODES: dict[str, str] = {
    # syntax
    "RL001": "syntax error",
    "RL002": "unexpected character",
    "RL003": "text without its closing quote",
    # names
    "RL101": "unknown event",
    "RL102": "unknown field",
    "RL103": "unknown segment or tier",
    "RL104": "unknown rule",
    "RL105": "unknown voucher, free item or reward",
    "RL106": "name declared twice",
    "RL107": "keyword used as a name",
    "RL108": "input key declared as a field",
    "RL109": "name not in snake_case",
    "RL110": "`instead of` cycle",
    "RL111": "setting given twice",
    # types
    "RL201": "type mismatch",
    "RL202": "operator not allowed on this type",
    "RL203": "money in another currency",
    "RL204": "not a currency code",
    "RL205": "money without a `currency` setting",
    "RL206": "decimal comma",
    "RL207": "`per` needs a money field",
    "RL208": "bare word where a value is expected",
    # values
    "RL301": "count must be a positive whole number",
    "RL302": "amount must be more than zero",
    "RL303": "`from` after `to`",
    "RL304": "impossible date or time",
    "RL305": "unknown timezone",
    "RL306": "duration must be a positive whole number",
    "RL307": "`birthday` needs a birthdate",
    "RL308": "`notify` needs expiring points",
    "RL309": "rule names itself in `instead of`",
    # warnings
    "RL901": "segment never used",
    "RL902": "date window with no day in it",
    "RL903": "rule fully suppressed by `instead of`",
    "RL904": "indented line joined to the statement above",
    "RL905": "`instead of` has no effect on a conversion",
}


@attrs.frozen
class Diagnostic:
    """One problem: where, what, and what to write instead."""

    code: str
    severity: Severity
    message: str
    span: Span
    help: str | None = None

    @property
    def title(self) -> str:
        return CODES[self.code]

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.filename, self.span.line, self.span.column, self.code)

    def headline(self) -> str:
        """``file:line:col: error[RL101]: message`` — the first line of the text format."""
        return f"{self.span}: {self.severity}[{self.code}]: {self.message}"

    def to_dict(self) -> dict[str, object]:
        """ruff's JSON shape: code, filename, location, end_location, message, help."""
        return {
            "code": self.code,
            "severity": self.severity,
            "filename": self.span.filename,
            "location": {"row": self.span.line, "column": self.span.column},
            "end_location": {"row": self.span.end_line, "column": self.span.end_column},
            "message": self.message,
            "help": self.help,
        }


def error(code: str, message: str, span: Span, help: str | None = None) -> Diagnostic:
    assert code in CODES, code
    return Diagnostic(code, "error", message, span, help)


def warning(code: str, message: str, span: Span, help: str | None = None) -> Diagnostic:
    assert code in CODES, code
    return Diagnostic(code, "warning", message, span, help)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


class RulesetError(Exception):
    """Raised by ``rewardlang.load``/``loads`` when a ruleset has errors; carries them all."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        self.sources: dict[str, str] = dict(sources or {})
        super().__init__(render_all(self.diagnostics, self.sources))


def render(diagnostic: Diagnostic, source: str | None) -> str:
    """The ruff-style text block: headline, the source line, a ``^~~~`` underline, ``help:``."""
    lines = [diagnostic.headline()]
    span = diagnostic.span
    source_lines = source.split("\n") if source is not None else []
    if 1 <= span.line <= len(source_lines):
        text = source_lines[span.line - 1].rstrip("\r").expandtabs(1)
        gutter = str(span.line)
        pad = " " * len(gutter)
        start = max(span.column - 1, 0)
        if span.end_line == span.line:
            width = max(span.end_column - span.column, 1)
        else:
            width = max(len(text.rstrip()) - start, 1)
        lines.append(f"{pad} |")
        lines.append(f"{gutter} | {text}")
        lines.append(f"{pad} | {' ' * start}^{'~' * (width - 1)}")
    if diagnostic.help:
        lines.append(f"  = help: {diagnostic.help}")
    return "\n".join(lines)


def render_all(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    return "\n\n".join(render(d, sources.get(d.span.filename)) for d in diagnostics)
