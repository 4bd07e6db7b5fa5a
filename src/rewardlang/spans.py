"""Where something stands in a source file: its own module, so that diagnostics (and the
command line, which reports them) need not import the whole syntax tree to name a place."""

from __future__ import annotations

import attrs


@attrs.frozen
class Span:
    """Where a node stands in its file: 1-based lines and columns, the end column exclusive."""

    filename: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}"


NO_SPAN = Span("<none>", 0, 0, 0, 0)

_new = object.__new__
_set_filename = Span.filename.__set__  # type: ignore[attr-defined]
_set_line = Span.line.__set__  # type: ignore[attr-defined]
_set_column = Span.column.__set__  # type: ignore[attr-defined]
_set_end_line = Span.end_line.__set__  # type: ignore[attr-defined]
_set_end_column = Span.end_column.__set__  # type: ignore[attr-defined]

#: the setters of a span's slots, in field order, for code that makes spans in a hot loop
#: without the call to ``make_span`` (the parser's tree builder): ``object.__new__(Span)`` and
#: all five set make the same frozen span
SPAN_SETTERS = (_set_filename, _set_line, _set_column, _set_end_line, _set_end_column)


def make_span(filename: str, line: int, column: int, end_line: int, end_column: int) -> Span:
    """``Span(filename, line, column, end_line, end_column)``, a third faster: the slots are set
    through their descriptors, not through attrs' frozen ``__init__`` (a bound
    ``object.__setattr__`` per field). The parser makes about ten spans a rule — a million for
    100,000 rules — in place, with ``SPAN_SETTERS`` (without even this call). Same object, still
    frozen."""
    span = _new(Span)
    _set_filename(span, filename)
    _set_line(span, line)
    _set_column(span, column)
    _set_end_line(span, end_line)
    _set_end_column(span, end_column)
    return span
