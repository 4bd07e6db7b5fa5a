"""Event files, read line by line: JSON Lines or CSV in, one ``InputLine`` per event line out.

LANGUAGE.md §3 says what an input event is and §5 what a rejected line carries (``file``,
``line_number``, ``line``, ``reason``); this module turns a file (or standard input) into those
lines, each with its event as a dict for ``events.Validator.validate`` or, when the line cannot
be read at all, a ``problem`` worded for the person who wrote the file. ``docs/input.md`` is the
user's description of the formats; the decisions are repeated here for the code's readers.

Why it is built the way it is:

- **Streaming, constant memory.** Files are read one physical line at a time with a bounded
  ``readline``; a line longer than ``max_line_bytes`` (1 MiB by default; an event is a few hundred
  bytes) is never held whole: it is skipped to its end and yields one ``too_long`` problem whose
  ``text`` is its first ``KEEP_BYTES`` bytes. A CSV record with quoted line breaks is bounded the
  same way. So a 10 MB line is one rejected line, and a 50 GB file is read in a few MB.
- **Every non-blank line yields exactly one** ``InputLine`` (a CSV record spanning several lines
  yields one, at the line where it starts; the CSV header yields none). Nothing is dropped
  silently: what cannot be read is a problem line, which the caller writes to the rejected file.
- **Errors are values.** A bad line is an ``InputLine`` with ``value=None`` and a ``problem``;
  ``InputError`` is only for a file that cannot be read at all (missing, a directory, unreadable,
  compressed or UTF-16, a bad CSV header, a bad ``fmt`` or delimiter). ``open_events`` raises it
  before returning for what can be seen up front (the file, the format, the CSV header), and the
  iteration raises it only for a read error in mid-file.

Decisions (where LANGUAGE.md is silent):

- Format: ``fmt`` when given (``"jsonl"`` or ``"csv"``); else by the name's extension, ``.csv``
  (any case) → CSV and anything else → JSON Lines; for ``-`` (standard input) the first non-blank
  byte decides: ``{`` → JSON Lines, anything else → CSV.
- Encoding: UTF-8; a byte order mark at the start of the file is skipped (both formats). A line
  with invalid UTF-8 is a problem naming the byte (1-based, within the line); its ``text`` is
  decoded with replacement characters. A file that starts like gzip, zip (an Excel workbook) or
  UTF-16 is an ``InputError``: every line would be garbage.
- Lines end at ``\\n``; a ``\\r`` before it is part of the ending (CRLF files). A blank line (only
  ASCII white space) is skipped and counted (line numbers are physical line numbers, from 1).
- JSON Lines: one JSON object a line, numbers as exact ``Decimal`` (``parse_float=Decimal``;
  integers as ``int``). Rejected here, with a reason: text that is not JSON (with hints for a
  decimal comma and single quotes), a line that is not an object, ``NaN``/``Infinity``/
  ``-Infinity`` anywhere (they are not JSON), a key given twice in one object (which value was
  meant? the shop's system must say once), a number beyond any range (``1e99999999999999999999``,
  or over 1,000 digits), nesting too deep for the parser, a byte order mark in mid-file. A number
  like ``1e999`` is read (``Decimal('1E+999')``) and left to the Validator, which rejects it as too
  large.
- CSV: RFC 4180 (fields quoted with ``"``, ``""`` for a quote inside, quoted line breaks kept as
  written), one-character delimiter (``,`` by default), a header row naming the keys. Cells are
  text, taken exactly as written (no trimming); an empty cell means the key is absent (so an
  optional field can be left empty; a CSV ``profile`` event cannot unset a field: use JSON's
  ``null``). A row with more or fewer cells than the header, an unclosed quote, or text after a
  closing quote is a problem; a quote inside an unquoted cell (``5" screen``) is kept as text.
  The header must name ``id``, ``type``, ``customer`` and ``time``, each column once, without
  spaces around the names; otherwise ``InputError``.
- Decimal commas: the reader knows no schema, so a CSV cell ``249,00`` (with ``;`` as the
  delimiter) reaches the Validator as the text ``"249,00"``, exactly as a JSON ``"249,00"`` does,
  and the Validator rejects it in a money or number field with one reason for both ("a number
  with a decimal comma"), knowing each event type's fields (a flat set of numeric names would be
  wrong where one name is a number in one event and text in another). What only the reader can
  see it says itself: with ``,`` as the delimiter an unquoted ``249,00`` splits into two cells,
  and the too-many-cells problem says so; in JSON an unquoted ``249,00`` is not JSON, and the
  problem says so.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, BinaryIO

import attrs

__all__ = ["FORMATS", "KEEP_BYTES", "MAX_LINE_BYTES", "REQUIRED_COLUMNS", "InputError", "InputLine",
           "format_of", "open_events"]

FORMATS = ("jsonl", "csv")
MAX_LINE_BYTES = 1 << 20  # one line (or CSV record) of an event file, without its line ending
KEEP_BYTES = 1000  # what ``text`` keeps of a line that is too long
MAX_INT_DIGITS = 1000  # a JSON integer longer than this is refused (Python's int() stops at 4300)
REQUIRED_COLUMNS = ("id", "type", "customer", "time")
STDIN = "-"
_DRAIN = 1 << 16
_EXAMPLE = '{"id": "e17", "type": "purchase", "customer": "c42", "time": "2026-03-01T10:15:00+01:00"}'


@attrs.frozen
class InputLine:
    """One event line of an input file: its event as a dict, or why it cannot be read."""

    file: str  # the name as given ("-" for stdin)
    line_number: int  # 1-based physical line (CSV: where the record starts)
    text: str  # the line without its ending (CSV: the record's raw text); for the rejected file
    value: dict[str, Any] | None  # the event, for events.Validator.validate; None when unreadable
    problem: str | None  # when value is None: what is wrong and what to write instead
    fmt: str  # "jsonl" | "csv"
    code: str | None = None  # when value is None: a stable code for the problem (see _CODES)


# The codes of ``InputLine.code`` (stable, like the Validator's).
_CODES = (
    "bad_utf8",       # the line is not UTF-8
    "too_long",       # the line (or CSV record) is longer than max_line_bytes
    "not_json",       # the line is not JSON text (or has a byte order mark in mid-file)
    "not_an_object",  # the JSON is an array, a string, a number... not an object
    "not_finite",     # NaN, Infinity or -Infinity
    "duplicate_key",  # one key twice in one JSON object
    "bad_number",     # a JSON number beyond any range (or of more than MAX_INT_DIGITS digits)
    "too_deep",       # JSON nested deeper than the parser can go
    "csv_cells",      # a CSV row with more or fewer cells than the header, or only empty ones
    "csv_quote",      # a CSV quote not closed, or followed by more text
)


class InputError(Exception):
    """A file that cannot be read at all; the message names the file and says what to do."""


# ------------------------------------------------------------------------------------ opening

def format_of(name: str, fmt: str | None = None) -> str | None:
    """The format a file is read as: ``fmt``, else by extension; None for stdin (sniffed)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError(f"{_shown(name)}: unknown format {fmt!r}: use jsonl or csv")
        return fmt
    if name == STDIN:
        return None
    return "csv" if os.path.splitext(name)[1].lower() == ".csv" else "jsonl"


def open_events(name: str, *, csv_delimiter: str = ",", fmt: str | None = None,
                stdin: BinaryIO | None = None, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[InputLine]:
    """The event lines of one file (``-``: standard input, ``stdin`` or ``sys.stdin.buffer``).

    Raises ``InputError`` now for a file that cannot be opened, a bad ``fmt`` or delimiter, a
    compressed or UTF-16 file, or a bad CSV header; later, from the iteration, only for a read
    error in mid-file. Bad lines are never exceptions: they are ``InputLine``s with a problem.
    A file this opens is closed when the iteration ends (or the iterator is closed).
    """
    kind = format_of(name, fmt)
    _check_delimiter(csv_delimiter)
    stream, owned = _open(name, stdin)
    try:
        raws = _physical_lines(stream, name, max_line_bytes)
        first = _first_non_blank(raws)
        if kind is None:
            kind = "jsonl" if first and first[0].data.lstrip()[:1] == b"{" else "csv"
        raws = _chain(first, raws)
        if kind == "jsonl":
            lines = _jsonl_lines(raws, name, max_line_bytes)
        else:
            records = _csv_records(raws, csv_delimiter, max_line_bytes)
            header = _header(next(records, None), name, csv_delimiter)
            lines = _csv_lines(records, name, header, csv_delimiter)
    except BaseException:
        if owned:
            stream.close()
        raise
    return _closing(lines, stream if owned else None)


def _check_delimiter(delimiter: str) -> None:
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        hint = " (for a tab, pass a real tab character: $'\\t' in a shell)" if delimiter in ("\\t", "tab") else ""
        raise InputError(f"the CSV delimiter {delimiter!r} is not one character: give one, as in ';'{hint}")
    if delimiter in '"\r\n':
        raise InputError(f"the CSV delimiter cannot be {delimiter!r}: choose another character, as in ';'")


def _shown(name: str) -> str:
    return "standard input" if name == STDIN else name


def _open(name: str, stdin: BinaryIO | None) -> tuple[BinaryIO, bool]:
    """The byte stream to read, and whether this module opened it (and so must close it)."""
    if name == STDIN:
        if stdin is not None:
            return stdin, False
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise InputError("standard input cannot be read as bytes here: name an events file instead of -")
        return stream, False
    try:
        return open(name, "rb"), True  # noqa: SIM115 - closed by _closing or on error
    except FileNotFoundError:
        raise InputError(f"{name}: no such file: check the path") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory: name the events files in it") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied: make the file readable") from None
    except OSError as error:
        raise InputError(f"{name}: cannot be read ({error.strerror or error}): check the file") from None


def _closing(lines: Iterator[InputLine], stream: BinaryIO | None) -> Iterator[InputLine]:
    try:
        yield from lines
    finally:
        if stream is not None:
            stream.close()


# ------------------------------------------------------------------------------------ physical lines

@attrs.frozen(slots=True)
class _Raw:
    """One physical line: its bytes without the ending (a prefix when it is too long)."""

    number: int
    data: bytes
    ending: bytes  # b"\n", b"\r\n", or b"" (the last line, or a line too long)
    size: int  # the line's length in bytes, without its ending
    too_long: bool

    @property
    def blank(self) -> bool:
        return not self.too_long and not self.data.strip()


_SIGNATURES = (
    (b"\x1f\x8b", "is compressed (gzip): decompress it first, or pipe it in: zcat FILE | rewardlang run RULESET -"),
    (b"PK\x03\x04", "is a zip file (an Excel workbook?): export the sheet as CSV UTF-8"),
    (b"\xff\xfe", "is UTF-16 text: save it as UTF-8"),
    (b"\xfe\xff", "is UTF-16 text: save it as UTF-8"),
)


def _physical_lines(stream: BinaryIO, name: str, limit: int) -> Iterator[_Raw]:
    """The file's lines, each read with a bounded ``readline``: memory stays within ``limit``."""
    read = stream.readline
    number = 0
    while True:
        chunk = _read(read, limit + 2, name, number + 1)
        if not chunk:
            return
        number += 1
        full = len(chunk) == limit + 2  # then the line may go on
        if number == 1:
            for signature, what in _SIGNATURES:
                if chunk.startswith(signature):
                    raise InputError(f"{_shown(name)}: {what}")
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
        if chunk.endswith(b"\n"):
            ending = b"\r\n" if chunk.endswith(b"\r\n") else b"\n"
            data = chunk[: -len(ending)]
        elif not full:  # the last line, without a line break
            data, ending = chunk, b""
        else:  # no line break within the limit: skip to the end of the line, keeping a prefix
            size, prefix = len(chunk), chunk[:KEEP_BYTES]
            while True:
                more = _read(read, _DRAIN, name, number)
                end = not more or more.endswith(b"\n")
                if end:
                    more = more.rstrip(b"\r\n")
                size += len(more)
                if len(prefix) < KEEP_BYTES:
                    prefix += more[: KEEP_BYTES - len(prefix)]
                if end:
                    break
            yield _Raw(number, prefix, b"", size, True)
            continue
        if len(data) > limit:
            yield _Raw(number, data[:KEEP_BYTES], b"", len(data), True)
        else:
            yield _Raw(number, data, ending, len(data), False)


def _read(read: Callable[[int], bytes], size: int, name: str, number: int) -> bytes:
    try:
        return read(size)
    except OSError as error:
        raise InputError(f"{_shown(name)}: reading failed at line {number} ({error.strerror or error}): "
                         "check the file or the device") from None
    except ValueError as error:  # a closed stream
        raise InputError(f"{_shown(name)}: cannot be read ({error})") from None


def _first_non_blank(raws: Iterator[_Raw]) -> list[_Raw]:
    """The first non-blank line, if any, read now: to sniff the format, and to raise up front.

    The blank lines before it are dropped (both formats skip them), so memory stays bounded.
    """
    for raw in raws:
        if not raw.blank:
            return [raw]
    return []


def _chain(first: list[_Raw], rest: Iterator[_Raw]) -> Iterator[_Raw]:
    yield from first
    yield from rest


def _decode(data: bytes) -> tuple[str, str | None]:
    """The text of a line, and a problem when it is not UTF-8 (the text then has U+FFFD)."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        return data.decode("utf-8", errors="replace"), (
            f"invalid UTF-8 at byte {error.start + 1} (0x{bad}): save the file as UTF-8 "
            "(it may be in Windows-1252 or Latin-1)")


# ------------------------------------------------------------------------------------ JSON Lines

class _LineProblem(Exception):
    """Why a line cannot be read, on its way out of a JSON hook."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason


class _Constant:
    """``NaN``/``Infinity``/``-Infinity`` as read, found again after parsing to name its key."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _JsonReader:
    """One ``json.JSONDecoder`` with exact numbers and the checks JSON Lines needs."""

    def __init__(self) -> None:
        self.constants = 0
        self.decoder = json.JSONDecoder(parse_float=self._float, parse_int=self._int,
                                        parse_constant=self._constant, object_pairs_hook=self._object)

    def read(self, text: str) -> tuple[dict[str, Any] | None, str | None, str | None]:
        """(the object, None, None) or (None, problem, code)."""
        if text.startswith("\ufeff"):
            return None, ("a byte order mark (U+FEFF) starts this line: were files joined with cat? "
                          "remove it"), "not_json"
        self.constants = 0
        try:
            value = self.decoder.decode(text)
        except json.JSONDecodeError as error:
            return None, _json_problem(text, error), "not_json"
        except _LineProblem as problem:
            return None, problem.reason, problem.code
        except RecursionError:
            return None, "the line is nested too deeply to read: an event is a flat object", "too_deep"
        if type(value) is not dict:
            return None, (f"the line is {_json_kind(value)}, not a JSON object: write one object a line, "
                          f"as in {_EXAMPLE}"), "not_an_object"
        if self.constants:
            return None, _constant_problem(value), "not_finite"
        return value, None, None

    def _float(self, text: str) -> Decimal:
        try:
            return Decimal(text)
        except ArithmeticError:
            raise _LineProblem("bad_number", f"the number {_clip(text)} is out of any range: "
                               "write a plain number, as in 249.00") from None

    @staticmethod
    def _int(text: str) -> int:
        if len(text) > MAX_INT_DIGITS:
            raise _LineProblem("bad_number", f"a number of {len(text)} digits is far too large: numbers "
                               "must be below 1000000000000000 (10^15)")
        return int(text)

    def _constant(self, name: str) -> _Constant:
        self.constants += 1
        return _Constant(name)

    @staticmethod
    def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        value = dict(pairs)
        if len(value) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise _LineProblem("duplicate_key", f"the key {_quote(key)} appears twice in one object: "
                                       "keep one (which value was meant cannot be guessed)")
                seen.add(key)
        return value


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a text"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return "a number"


def _quote(text: str) -> str:
    return json.dumps(_clip(text), ensure_ascii=False)


def _clip(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def _constant_problem(value: dict[str, Any]) -> str:
    """``NaN`` and the infinities, named with the key they are under."""
    for key, item in value.items():
        found = _find_constant(item)
        if found is not None:
            where = f"`{_clip(key)}` is {found.name}" if found is item else f"`{_clip(key)}` holds {found.name}"
            return (f"{where}, which is not a number (JSON has no {found.name}): write a number or leave "
                    "the field out")
    return "NaN or Infinity is not a number (JSON has neither): write a number or leave the field out"


def _find_constant(value: object) -> _Constant | None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Constant):
            return item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


_COMMA_NUMBER = re.compile(r"(?<![\w.\"])(-?[0-9]+),$")
_DIGITS = re.compile(r"[0-9]+")


def _json_problem(text: str, error: json.JSONDecodeError) -> str:
    """A JSON syntax error, with the fix for the mistakes people make in event files."""
    pos = error.pos
    where = f"at column {error.colno}"
    after = text[pos : pos + 1]
    if after.isdigit():
        before = _COMMA_NUMBER.search(text, max(0, pos - 40), pos)
        if before is not None:
            whole, fraction = before.group(1), _DIGITS.match(text, pos).group()  # type: ignore[union-attr]
            return (f"not valid JSON: a decimal comma in the number {whole},{fraction} at column "
                    f"{before.start() + 1}: write a point ({whole}.{fraction})")
    if after == "'":
        return f"not valid JSON: {error.msg} {where}: JSON puts keys and texts in double quotes (\"), not single"
    if after == "}" and error.msg.startswith("Expecting property name"):
        return f"not valid JSON: a comma before the closing brace, {where}: remove the comma"
    if error.msg == "Extra data":
        return f"not valid JSON: more text after the object ends, {where}: write one object a line"
    return f"not valid JSON: {error.msg} {where}"


def _jsonl_lines(raws: Iterable[_Raw], name: str, limit: int) -> Iterator[InputLine]:
    reader = _JsonReader()
    for raw in raws:
        if raw.blank:
            continue
        if raw.too_long:
            text, _ = _decode(raw.data)
            yield InputLine(name, raw.number, text, None, _too_long_problem(raw, limit), "jsonl", "too_long")
            continue
        text, problem = _decode(raw.data)
        if problem is not None:
            yield InputLine(name, raw.number, text, None, problem, "jsonl", "bad_utf8")
            continue
        value, problem, code = reader.read(text)
        yield InputLine(name, raw.number, text, value, problem, "jsonl", code)


def _too_long_problem(raw: _Raw, limit: int) -> str:
    return (f"the line is {raw.size} bytes long, more than the {limit} bytes an event line may have: an event "
            f"is one short line; is a line break missing? (the rejected file keeps its first {KEEP_BYTES} bytes)")


# ------------------------------------------------------------------------------------ CSV

class _Splitter:
    """One CSV record, fed line by line: its cells, whether a quote is open, and what is wrong.

    RFC 4180 as Python's ``csv`` module reads it with ``doublequote`` (a ``"`` at the start of a
    cell opens a quoted cell, ``""`` inside is a quote, a line break inside is kept as written), but
    incremental, bounded and with reasons of its own: a record's end is found line by line, which
    ``csv`` cannot do without reading ahead without limit.
    """

    __slots__ = ("delimiter", "cells", "parts", "quoted", "opened", "problem")

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter
        self.cells: list[str] = []
        self.parts: list[str] = []
        self.quoted = False
        self.opened = (0, 0)  # line and column of the quote that opened the current quoted cell
        self.problem: str | None = None

    def feed(self, line: str, number: int, ending: str) -> bool:
        """Read one physical line (without its ending); True when the record ends with it."""
        delimiter, parts, n = self.delimiter, self.parts, len(line)
        if not self.quoted and '"' not in line:  # a whole record without quotes: the common case
            self.cells.extend(line.split(delimiter))
            return True
        i = 0
        mode = "quoted" if self.quoted else "start"
        while True:
            if mode == "start":
                if i < n and line[i] == '"':
                    self.opened = (number, i + 1)
                    i += 1
                    mode = "quoted"
                    continue
                mode = "rest"
            if mode == "rest":  # an unquoted cell, or what follows a closing quote
                j = line.find(delimiter, i)
                parts.append(line[i:] if j < 0 else line[i:j])
                self.cells.append("".join(parts))
                parts.clear()
                if j < 0:
                    self.quoted = False
                    return True
                i = j + 1
                mode = "start"
                continue
            j = line.find('"', i)
            if j < 0:
                parts.append(line[i:])
                parts.append(ending)
                self.quoted = True
                return False
            parts.append(line[i:j])
            if line.startswith('"', j + 1):
                parts.append('"')
                i = j + 2
                continue
            i = j + 1
            mode = "rest"
            if i < n and line[i] != delimiter and self.problem is None:
                self.problem = (f"a quoted cell is closed at column {j + 1} of line {number} but more text follows "
                                f"({_quote(line[i:i + 20])}): put the whole cell in quotes and double each quote "
                                'inside it, as in "5"" screen"')

    def unclosed(self, first: int) -> str:
        line, column = self.opened
        place = f"at column {column}" + ("" if line == first else f" of line {line}")
        return (f"the quote {place} opens a cell that is never closed: add the closing \", and double each "
                "quote inside the cell (\"\"); the lines after this one are read as rows of their own")


@attrs.frozen(slots=True)
class _Record:
    """One CSV record: where it starts, its raw text, and its cells or why it cannot be read."""

    number: int
    text: str
    cells: tuple[str, ...] | None
    problem: str | None
    code: str | None


def _csv_records(raws: Iterator[_Raw], delimiter: str, limit: int) -> Iterator[_Record]:
    """Records of physical lines. A quote left open is a problem of its first line only, and
    reading resumes at the next line: one stray ``"`` must not swallow the rest of the file.
    """
    pending: deque[_Raw] = deque()  # lines to read again after an unclosed quote

    def next_raw() -> _Raw | None:
        return pending.popleft() if pending else next(raws, None)

    while True:
        raw = next_raw()
        if raw is None:
            return
        if raw.blank:
            continue
        if raw.too_long:
            yield _Record(raw.number, _decode(raw.data)[0], None, _too_long_problem(raw, limit), "too_long")
            continue
        splitter = _Splitter(delimiter)
        lines = [raw]
        size = raw.size
        texts, bad = _record_line(raw, splitter, [], None)
        while splitter.quoted:
            more = next_raw()
            if more is None or more.too_long or size + more.size > limit:
                yield _Record(raw.number, _decode(raw.data)[0], None, splitter.unclosed(raw.number), "csv_quote")
                pending.extendleft(reversed([*lines[1:], *([more] if more is not None else [])]))
                break
            lines.append(more)
            size += more.size + 1
            texts, bad = _record_line(more, splitter, texts, bad)
        else:
            yield _record(raw.number, texts, lines, splitter, bad)


def _record_line(raw: _Raw, splitter: _Splitter, texts: list[str], bad: str | None) -> tuple[list[str], str | None]:
    text, problem = _decode(raw.data)
    if problem is not None and bad is None:
        bad = problem if not texts else problem.replace("at byte", f"on line {raw.number}, at byte", 1)
    texts.append(text)
    splitter.feed(text, raw.number, raw.ending.decode("ascii"))
    return texts, bad


def _record(number: int, texts: list[str], lines: list[_Raw], splitter: _Splitter, bad: str | None) -> _Record:
    text = "".join(t + r.ending.decode("ascii") for t, r in zip(texts[:-1], lines[:-1])) + texts[-1]
    if bad is not None:
        return _Record(number, text, None, bad, "bad_utf8")
    if splitter.problem is not None:
        return _Record(number, text, None, splitter.problem, "csv_quote")
    return _Record(number, text, tuple(splitter.cells), None, None)


def _header(record: _Record | None, name: str, delimiter: str) -> tuple[str, ...]:
    """The column names, checked: a header that cannot name the events is an ``InputError``."""
    if record is None:
        return ()
    where = f"{_shown(name)}:{record.number}: the CSV header"
    if record.text.lstrip().startswith(("{", "[")):
        raise InputError(f"{where} is missing: the file looks like JSON; write one JSON object a line and "
                         "name the file .jsonl (or pass --format jsonl)")
    if record.cells is None:
        raise InputError(f"{where} cannot be read: {record.problem}")
    cells = record.cells
    seen: set[str] = set()
    for index, cell in enumerate(cells, 1):
        if not cell:
            raise InputError(f"{where} has no name in column {index}: name every column (or remove a "
                             f"trailing {delimiter!r})")
        if cell != cell.strip():
            raise InputError(f"{where} has spaces around the column name {_quote(cell)}: cells are read exactly "
                             f"as written, so write {_quote(cell.strip())}, with no space after the delimiter "
                             "(in the rows too)")
        if cell in seen:
            raise InputError(f"{where} names the column {_quote(cell)} twice: name each column once")
        seen.add(cell)
    missing = [column for column in REQUIRED_COLUMNS if column not in cells]
    if missing:
        raise InputError(f"{where} has no column {', '.join(missing)}: every event needs id, type, customer "
                         f"and time{_header_hint(record.text, delimiter)}")
    return cells


def _header_hint(text: str, delimiter: str) -> str:
    for other, shown, option in ((";", "';'", "';'"), (",", "','", "','"), ("\t", "tabs", "$'\\t'"),
                                 ("|", "'|'", "'|'")):
        if other != delimiter and other in text and all(c in text for c in ("id", "type")):
            return f"; the header looks separated by {shown}: pass --csv-delimiter {option}"
    return f" (the header must be the first row, its names separated by {delimiter!r})"


_INT_CELL = re.compile(r"-?[0-9]+")
_DIGITS_CELL = re.compile(r"[0-9]+")


def _cells_problem(cells: tuple[str, ...], header: tuple[str, ...], delimiter: str) -> str:
    have, want = len(cells), len(header)
    if have < want:
        return (f"the row has {_cells(have)} but the header has {want} columns: give every row a cell for each "
                f"column, in the header's order (an empty cell for a value left out: {delimiter}{delimiter})")
    reason = f"the row has {_cells(have)} but the header has {want} columns"
    if delimiter == ",":
        for left, right in zip(cells, cells[1:]):
            if _INT_CELL.fullmatch(left) and _DIGITS_CELL.fullmatch(right):
                return (f"{reason}: is {left},{right} a number with a decimal comma? The comma splits it into "
                        f"two cells: write a point ({left}.{right})")
    return f"{reason}: put a cell that contains {delimiter!r} in double quotes, or remove the extra cells"


def _cells(count: int) -> str:
    return "1 cell" if count == 1 else f"{count} cells"


def _csv_lines(records: Iterator[_Record], name: str, header: tuple[str, ...], delimiter: str) -> Iterator[InputLine]:
    for record in records:
        cells = record.cells
        if cells is None:
            yield InputLine(name, record.number, record.text, None, record.problem, "csv", record.code)
        elif len(cells) != len(header):
            yield InputLine(name, record.number, record.text, None, _cells_problem(cells, header, delimiter),
                            "csv", "csv_cells")
        elif not any(cells):
            yield InputLine(name, record.number, record.text, None, "the row has only empty cells: delete it",
                            "csv", "csv_cells")
        else:
            value = {key: cell for key, cell in zip(header, cells) if cell}
            yield InputLine(name, record.number, record.text, value, None, "csv")

