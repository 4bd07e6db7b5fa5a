"""The ``rewardlang`` command: ``check`` and ``fmt`` (LANGUAGE.md §6).

Exit codes, for every command:

- 0: all is well;
- 1: the files have problems (``check``: an error, or a warning with ``--strict``; ``fmt``: a file
  has a syntax error, or with ``--check``/``--diff`` a file would be reformatted; ``run``: with
  ``--strict``, a line was rejected; ``balance``: no such customer);
- 2: the command could not do its job: a usage error (an unknown flag, a missing or unreadable
  file, a file that is not UTF-8, a directory with no ``.reward`` file) or an internal error.

User errors are one line on stderr (where, what, what to do) and never a traceback; an internal
error says ``internal error: …`` and shows the traceback only with ``REWARDLANG_DEBUG=1``.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from rewardlang import __version__
from rewardlang.diagnostics import Diagnostic
from rewardlang.report import FORMATS, report, to_text

if TYPE_CHECKING:  # imported inside the commands that use them (start-up time)
    import datetime as dt

    from rewardlang.loading import Checked
    from rewardlang.parser import ParsedFile, Parser

    from rewardlang.engine import CustomerView
    from rewardlang.program import Program
    from rewardlang.runner import Counts
    from rewardlang.store import Store

STDIN = "-"
STDIN_NAME = "<stdin>"
SUFFIX = ".reward"


class UserError(Exception):
    """A problem with the command line or a file that stops one file (exit 2), not a bug."""


class InternalError(Exception):
    """A bug in rewardlang found by a self-check (exit 2); the user's files are left alone."""


def _debug() -> bool:
    return os.environ.get("REWARDLANG_DEBUG", "") not in ("", "0")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _error(message: str) -> None:
    click.echo(f"error: {message}", err=True)


# ---------------------------------------------------------------------------- files


def expand_paths(paths: Sequence[str], *, allow_stdin: bool = True) -> tuple[list[str], list[str]]:
    """The files to work on, and the problems with the arguments.

    A directory stands for every ``*.reward`` file below it (hidden directories skipped), in
    sorted order; a file stands for itself whatever its name; ``-`` is standard input. A file
    named twice is used once.
    """
    files: list[str] = []
    problems: list[str] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        key = name if name == STDIN else os.path.normcase(os.path.abspath(name))
        if key not in seen:
            seen.add(key)
            files.append(name)

    for arg in paths:
        if arg == STDIN and allow_stdin:
            add(STDIN)
            continue
        path = Path(arg)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob(f"*{SUFFIX}")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
            if not found:
                problems.append(
                    f"{arg}: no *{SUFFIX} files in this directory; "
                    f"name the ruleset files, or a directory that holds some"
                )
            for p in found:
                add(os.fspath(p))
        elif path.exists():
            add(arg)
        elif path.is_symlink():
            problems.append(f"{arg}: a broken symbolic link; point it at a ruleset file")
        else:
            problems.append(f"{arg}: no such file or directory; check the path")
    return files, problems


def _decode_problem(name: str, data: bytes, exc: UnicodeDecodeError) -> str:
    """Where a file stops being UTF-8: ``name:LINE:COL: not valid UTF-8 (byte 0xff)``."""
    start = exc.start
    try:  # locate the first bad byte in the whole file (a read in chunks reports chunk offsets)
        data.decode("utf-8-sig")
    except UnicodeDecodeError as whole:
        start = whole.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        bad = data[start : start + 1]
    else:
        bad = exc.object[exc.start : exc.start + 1]
    line = data.count(b"\n", 0, start) + 1
    line_start = data.rfind(b"\n", 0, start) + 1
    column = len(data[line_start:start].decode("utf-8", errors="replace")) + 1
    return (
        f"{name}:{line}:{column}: not valid UTF-8 (byte 0x{bad.hex() or '??'}); "
        f"rulesets are UTF-8 text: save the file as UTF-8"
    )


def _os_problem(name: str, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{name}: no such file or directory; check the path"
    if isinstance(exc, PermissionError):
        return f"{name}: permission denied; make the file readable"
    if isinstance(exc, IsADirectoryError):
        return f"{name}: is a directory; name a ruleset file"
    return f"{name}: cannot read it ({exc.strerror or exc}); check the file"


def read_bytes(name: str) -> bytes:
    if name == STDIN:
        stream = getattr(sys.stdin, "buffer", None)
        return stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise UserError(_os_problem(name, exc)) from None


def decode(name: str, data: bytes) -> str:
    """UTF-8 (a byte order mark skipped), line breaks made ``\\n`` as ``read_source`` does."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(_decode_problem(name, data, exc)) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------------------- the group


class _Group(click.Group):
    """Turns an unexpected exception into ``internal error: …`` and exit 2 (no traceback)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # `rewardlang check … | head`: stop quietly
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            ctx.exit(1)
        except Exception as exc:
            if _debug():
                raise
            _internal_error(exc)
            ctx.exit(2)
        return None  # pragma: no cover


def _internal_error(exc: BaseException) -> None:
    detail = str(exc) if isinstance(exc, InternalError) else f"{type(exc).__name__}: {exc}"
    click.echo(f"internal error: {detail}", err=True)
    click.echo(
        "This is a bug in rewardlang, not in your files; please report it with the command you "
        "ran. Run again with REWARDLANG_DEBUG=1 to see the traceback.",
        err=True,
    )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="rewardlang", message="%(prog)s %(version)s")
def main() -> None:
    """rewardlang: check and format loyalty-programme rulesets (.reward files)."""


# ---------------------------------------------------------------------------- check


@attrs.define
class _Counts:
    files: int = 0
    errors: int = 0
    warnings: int = 0
    unreadable: int = 0


def _new_parser() -> Parser:
    """The parser, imported when a command needs one (``--version`` and ``--help`` don't)."""
    from rewardlang.parser import Parser

    return Parser()


def _check_file(name: str, parser: Parser) -> Checked:
    from rewardlang.loading import check_path, check_text

    if name == STDIN:
        return check_text(decode(STDIN_NAME, read_bytes(STDIN)), STDIN_NAME, parser=parser)
    try:
        return check_path(name, parser=parser)
    except UnicodeDecodeError as exc:
        raise UserError(_decode_problem(name, Path(name).read_bytes(), exc)) from None
    except OSError as exc:
        raise UserError(_os_problem(name, exc)) from None


def _summary(counts: _Counts, strict: bool) -> str:
    if counts.errors == 0 and counts.warnings == 0:
        return f"All checks passed ({_plural(counts.files, 'file')})."
    found = []
    if counts.errors:
        found.append(_plural(counts.errors, "error"))
    if counts.warnings:
        found.append(_plural(counts.warnings, "warning"))
    line = f"Found {' and '.join(found)} in {_plural(counts.files, 'file')}."
    if strict and counts.warnings and not counts.errors:
        line += " (--strict: warnings fail the check)"
    return line


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for people; json, github (workflow annotations) or sarif for machines and CI.",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
def check(files: tuple[str, ...], output_format: str, strict: bool) -> None:
    """Parse and check rulesets: FILES are .reward files, directories (every *.reward below
    them) or - (standard input).

    Exit 0 when clean, 1 on any error (or any warning with --strict), 2 on a usage error.
    """
    names, problems = expand_paths(files)
    for problem in problems:
        _error(problem)
    parser: Parser | None = None
    counts = _Counts(unreadable=len(problems))
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    first_block = True
    for name in names:
        if parser is None:
            parser = _new_parser()
        try:
            checked = _check_file(name, parser)
        except UserError as exc:
            _error(str(exc))
            counts.unreadable += 1
            continue
        counts.files += 1
        filename = checked.parsed.ruleset.filename
        sources[filename] = checked.parsed.source
        for d in checked.diagnostics:
            if d.severity == "error":
                counts.errors += 1
            else:
                counts.warnings += 1
        if output_format == "text" and checked.diagnostics:
            # stream the text format file by file, so that a long run shows progress
            if not first_block:
                click.echo()
            click.echo(to_text(checked.diagnostics, sources), nl=False)
            first_block = False
        diagnostics.extend(checked.diagnostics)

    if output_format == "text":
        if counts.files:
            if diagnostics:
                click.echo()
            click.echo(_summary(counts, strict))
    else:
        click.echo(report(output_format, diagnostics, sources), nl=False)
        if counts.files:
            click.echo(_summary(counts, strict), err=True)
    if counts.unreadable:
        click.echo(f"{_plural(counts.unreadable, 'path')} could not be checked (see above).", err=True)
        sys.exit(2)
    if counts.errors or (strict and counts.warnings):
        sys.exit(1)


# ---------------------------------------------------------------------------- fmt


@attrs.frozen
class Formatted:
    """One file through ``fmt``: its bytes before and after, and its text before and after."""

    name: str
    before: bytes
    after: bytes
    old_text: str
    new_text: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _verify(parsed: ParsedFile, formatted: str, parser: Parser, name: str) -> None:
    """Formatting changes only white space: the output must parse to the same tree and keep
    every comment, or nothing is written."""
    again = parser.parse(formatted, parsed.ruleset.filename)
    if not again.ok:
        raise InternalError(
            f"{name}: the formatted text does not parse ({again.diagnostics[0].headline()}); "
            "the file was left unchanged"
        )
    if again.ruleset != parsed.ruleset:
        raise InternalError(
            f"{name}: formatting would change the meaning of the ruleset; the file was left unchanged"
        )
    if sorted(c.text for c in again.comments) != sorted(c.text for c in parsed.comments):
        raise InternalError(f"{name}: formatting would lose a comment; the file was left unchanged")


@attrs.frozen
class Unparsable:
    """A file that ``fmt`` leaves alone: it has syntax errors."""

    name: str
    source: str
    diagnostics: tuple[Diagnostic, ...]


def format_bytes(name: str, data: bytes, parser: Parser) -> Formatted | Unparsable:
    """The canonical layout of a file's bytes, or its syntax diagnostics when it does not parse.

    The output keeps the file's byte order mark and line-break style (``\\r\\n`` if its first line
    break is one) and ends with one line break (an empty file stays empty).
    """
    display = STDIN_NAME if name == STDIN else name
    text = decode(display, data)
    parsed = parser.parse(text, display)
    if not parsed.ok:
        return Unparsable(display, parsed.source, parsed.diagnostics)
    from rewardlang.printer import format_file

    formatted = format_file(parsed)
    _verify(parsed, formatted, parser, display)
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    first_break = data.find(b"\n")
    crlf = first_break > 0 and data[first_break - 1 : first_break] == b"\r"
    out = formatted.replace("\n", "\r\n") if crlf else formatted
    return Formatted(display, data, bom + out.encode("utf-8"), parsed.source, formatted)


def _diff(result: Formatted) -> str:
    lines = difflib.unified_diff(
        result.old_text.splitlines(keepends=True),
        result.new_text.splitlines(keepends=True),
        fromfile=result.name,
        tofile=result.name,
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if a file would change.")
@click.option("--diff", is_flag=True, help="Write nothing; print what would change as a unified diff.")
def fmt(files: tuple[str, ...], check_only: bool, diff: bool) -> None:
    """Rewrite rulesets in their canonical layout (only white space changes).

    FILES are .reward files, directories (every *.reward below them) or - (read standard input,
    write the formatted text to standard output). A file with a syntax error is left alone.

    Exit 0 when done, 1 on a syntax error or (with --check/--diff) when a file would change,
    2 on a usage error.
    """
    names, problems = expand_paths(files)
    for problem in problems:
        _error(problem)
    failed = len(problems)  # exit 2
    broken = 0  # files with syntax errors: exit 1
    changed: list[str] = []
    unchanged = 0
    stdout_is_data = diff or STDIN in names
    parser: Parser | None = None
    for name in names:
        if parser is None:
            parser = _new_parser()
        try:
            result = format_bytes(name, read_bytes(name), parser)
        except UserError as exc:
            _error(str(exc))
            failed += 1
            continue
        except InternalError as exc:
            if _debug():
                raise
            _internal_error(exc)
            failed += 1
            continue
        if isinstance(result, Unparsable):
            click.echo(to_text(result.diagnostics, {result.name: result.source}), err=True)
            _error(f"{result.name}: not formatted because it has syntax errors; fix them first")
            broken += 1
            continue
        if result.changed:
            changed.append(result.name)
        else:
            unchanged += 1
        if diff:
            if result.changed:
                text = _diff(result)
                note = f"{result.name}: only line breaks or the byte order mark would change\n"
                click.echo(text or note, nl=False)
        elif check_only:
            if result.changed:
                click.echo(f"Would reformat: {result.name}")
        elif name == STDIN:
            click.echo(result.new_text, nl=False)
        elif result.changed:
            try:
                Path(name).write_bytes(result.after)
            except OSError as exc:
                if isinstance(exc, PermissionError):
                    reason = "permission denied; make the file writable"
                else:
                    reason = f"{exc.strerror or exc}; check the file"
                _error(f"{name}: cannot write the formatted text: {reason}")
                changed.pop()
                failed += 1

    dry = diff or check_only
    parts = []
    if changed:
        verb = "would be reformatted" if dry else "reformatted"
        parts.append(f"{_plural(len(changed), 'file')} {verb}")
    if unchanged:
        parts.append(f"{_plural(unchanged, 'file')} {'already formatted' if dry else 'left unchanged'}")
    if broken:
        parts.append(f"{_plural(broken, 'file')} not formatted (syntax errors)")
    if parts and not (names == [STDIN] and not dry):
        click.echo(", ".join(parts) + ".", err=stdout_is_data)
    if failed:
        sys.exit(2)
    if broken or (dry and changed):
        sys.exit(1)


# ---------------------------------------------------------------------------- run, balance, customers
#
# The evaluator and the state file are imported inside the commands: `check` and `fmt` should not
# pay for them at start-up. docs/running.md is the users' description.


def _load_ruleset(name: str) -> Program:
    """A ruleset's checked programme; its errors shown as `check` shows them, then exit 2."""
    try:
        checked = _check_file(name, _new_parser())
    except UserError as exc:
        _error(str(exc))
        sys.exit(2)
    if checked.program is None:
        errors = tuple(d for d in checked.diagnostics if d.severity == "error")
        filename = checked.parsed.ruleset.filename
        click.echo(to_text(errors, {filename: checked.parsed.source}), err=True, nl=False)
        _error(f"{filename}: the ruleset has {_plural(len(errors), 'error')}; fix them (rewardlang check "
               f"{filename}) and run again")
        sys.exit(2)
    return checked.program


def _until(text: str | None) -> dt.datetime | None:
    from rewardlang.localtime import parse_instant

    if text is None:
        return None
    instant = parse_instant(text)
    if instant is None or not 1900 <= instant.year <= 2999:
        _error(f"--until {text}: not a time with an offset from UTC; write it as 2026-03-01T00:00:00+01:00 "
               "or 2026-02-28T23:00:00Z")
        sys.exit(2)
    return instant


class _TerminalProgress:
    """A one-line progress bar on standard error, redrawn at most five times a second."""

    def __init__(self) -> None:
        self.phase = ""
        self.total: int | None = None
        self.done = 0
        self.shown = 0.0

    def start(self, phase: str, total: int | None) -> None:
        self.phase, self.total, self.done, self.shown = phase, total, 0, 0.0
        self._draw()

    def step(self, n: int) -> None:
        import time

        self.done += n
        now = time.monotonic()
        if now - self.shown >= 0.2:
            self.shown = now
            self._draw()

    def finish(self) -> None:
        self._draw()
        click.echo(err=True)

    def _draw(self) -> None:
        if self.total:
            share = min(1.0, self.done / self.total)
            bar = "#" * int(share * 30)
            text = f"{self.phase:<10} [{bar:<30}] {share:6.1%}  {self.done:,}/{self.total:,}"
        elif self.done:
            text = f"{self.phase:<10} {self.done:,}"
        else:
            text = f"{self.phase:<10} ..."
        click.echo(f"\r{text}\x1b[K", err=True, nl=False)


_ENGINE_NAMES = {"spark": "Spark", "dask": "Dask"}


def _engine_options(engine: str, events: tuple[str, ...], *, input_format: str | None, allow_ruleset_change: bool,
                    master: str | None, scheduler: str | None, new_state: str | None, buckets: int | None) -> None:
    """The options of one engine given to another: a usage error that says what to write."""
    problem = None
    parquet = [name for name in events if name.lower().endswith((".parquet", ".parq"))]
    wrong = [(option, engines) for option, value, engines in (
        ("--master", master, ("spark",)), ("--scheduler", scheduler, ("dask",)),
        ("--new-state", new_state, ("spark", "dask")), ("--buckets", buckets, ("spark", "dask")))
        if value is not None and engine not in engines]
    if engine != "embedded":
        name = _ENGINE_NAMES[engine]
        batch_given = click.get_current_context().get_parameter_source("batch_size")
        if allow_ruleset_change:
            problem = (f"--allow-ruleset-change is for the embedded engine's state file; a {name} state does not "
                       f"record its ruleset, so a {name} run goes on with the ruleset given: leave it out")
        elif batch_given is click.core.ParameterSource.COMMANDLINE:
            problem = f"--batch-size is for the embedded engine; with --engine {engine} use --buckets N"
        elif "-" in events:
            problem = (f"- (standard input): --engine {engine} reads files and directories, not standard input; "
                       "write the events to a file and name it")
    if problem is None and wrong:
        option, engines = wrong[0]
        if engine == "embedded":
            also = f", or --engine {engines[1]}, which takes it too;" if len(engines) > 1 else ","
            problem = (f"{option} is for the {_ENGINE_NAMES[engines[0]]} engine: add --engine {engines[0]}{also} "
                       f"or leave {option} out"
                       + (" (the embedded engine updates --state in place)" if option == "--new-state" else ""))
        else:
            instead = {"--master": "--scheduler", "--scheduler": "--master"}[option]
            problem = (f"{option} is for the {_ENGINE_NAMES[engines[0]]} engine; with --engine {engine} use "
                       f"{instead}, or leave {option} out")
    if problem is None and engine != "spark" and (input_format == "parquet" or parquet):
        what = "--format parquet" if input_format == "parquet" else parquet[0]
        problem = (f"{what}: Parquet is read by the Spark engine only: add --engine spark "
                   "(pip install 'rewardlang[spark]'), or give JSON Lines or CSV")
    if problem is not None:
        _error(problem)
        sys.exit(2)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _run_summary(c: Counts, already_done: bool) -> list[str]:
    head = "(done before) " if already_done else ""
    lines = [f"{head}{c.read:,} lines read: {c.applied:,} applied, {c.duplicates:,} duplicates, "
             f"{c.rejected:,} rejected"]
    if c.rejected_by:
        by = sorted(c.rejected_by.items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append("rejected: " + ", ".join(f"{code} {n:,}" for code, n in by))
    lines.append(f"{_count(c.customers, 'customer')} in the input; {c.points:,} points issued, "
                 f"{_count(c.vouchers, 'voucher')}, {_count(c.free_items, 'free item')}, "
                 f"{_count(c.messages, 'message')}")
    if c.advanced:
        lines.append(f"--until: {_count(c.advanced, 'customer')} advanced")
    return lines


@main.command()
@click.argument("ruleset", metavar="RULESET")
@click.argument("events", nargs=-1, required=True, metavar="EVENTS...")
@click.option("--engine", type=click.Choice(["embedded", "spark", "dask"]), default="embedded", show_default=True,
              help="embedded: this machine, a SQLite state file. spark: Apache Spark, the same ledger byte for "
                   "byte (pip install 'rewardlang[spark]', Java 17; docs/scale.md). dask: Dask, the same ledger "
                   "byte for byte (pip install 'rewardlang[dask]'; docs/scale.md).")
@click.option("--state", metavar="FILE",
              help="The SQLite state file to read and update (made if missing). Without it, a temporary "
                   "state is used and removed at the end. With --engine spark or dask: the state a previous run "
                   "of that engine wrote (--new-state), only read.")
@click.option("--ledger", metavar="FILE",
              help="Write the ledger to FILE (whole or not at all) instead of stdout. With --engine spark, a name "
                   "not ending in .jsonl/.json/.ndjson is a Parquet directory.")
@click.option("--rejected", metavar="FILE", help="Write every line that was not applied, with its reason, to FILE.")
@click.option("--until", "until_text", metavar="TIME",
              help="After the input, fire what is due by TIME for every customer of the state and move "
                   "every clock there (ISO 8601 with an offset).")
@click.option("--strict", is_flag=True, help="Exit 1 when any line was rejected.")
@click.option("--csv-delimiter", default=",", show_default=True, metavar="CHAR", help="The delimiter of CSV inputs.")
@click.option("--format", "input_format", type=click.Choice(["jsonl", "csv", "parquet"]), default=None,
              help="Read every input as this format (default: by the file name; - by its first character). "
                   "parquet: --engine spark only.")
@click.option("--allow-ruleset-change", is_flag=True,
              help="Go on with a ruleset that differs from the one the state was computed with (says what changed).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, hidden=True, envvar="REWARDLANG_BATCH_SIZE",
              help="Customers per commit (for tests).")
@click.option("--master", metavar="URL", default=None,
              help="--engine spark: the Spark master.  [default: local[*]; under spark-submit, its session]")
@click.option("--new-state", metavar="PATH",
              help="--engine spark or dask: write the customers' state after the run (spark: a .jsonl file, "
                   "else a Parquet directory; dask: a JSON Lines file), for the next run's --state.")
@click.option("--buckets", type=click.IntRange(min=1), default=None, metavar="N",
              help="--engine spark or dask: groups the customers are hashed into (docs/scale.md).  "
                   "[default: 2048]")
@click.option("--scheduler", metavar="threads|processes|synchronous|ADDRESS", default=None,
              help="--engine dask: the Dask scheduler, or a distributed scheduler's address (tcp://host:8786).  "
                   "[default: processes]")
def run(ruleset: str, events: tuple[str, ...], engine: str, state: str | None, ledger: str | None,
        rejected: str | None, until_text: str | None, strict: bool, csv_delimiter: str, input_format: str | None,
        allow_ruleset_change: bool, batch_size: int | None, master: str | None, new_state: str | None,
        buckets: int | None, scheduler: str | None) -> None:
    """Apply EVENTS (JSON Lines or CSV files, any order, any size; - for standard input) to the
    customers of a state file, and write the ledger (to stdout unless --ledger).

    Killed at any moment, the same command again finishes the run; run again after it finished,
    it applies nothing and writes the same ledger again. See docs/running.md.

    With --engine spark, on Apache Spark: EVENTS are JSON Lines, CSV or Parquet files or
    directories, and the state is read from --state and written to --new-state. With --engine
    dask, on Dask: JSON Lines or CSV files or directories, the state as with Spark, in JSON
    Lines. See docs/scale.md.

    Exit 0 when done, 1 with --strict when a line was rejected, 2 on a usage error.
    """
    import io

    from rewardlang import runner

    _engine_options(engine, events, input_format=input_format, allow_ruleset_change=allow_ruleset_change,
                    master=master, scheduler=scheduler, new_state=new_state, buckets=buckets)
    program = _load_ruleset(ruleset)
    instant = _until(until_text)
    if engine != "embedded":
        _run_distributed(engine, ruleset, program, events, master=master, scheduler=scheduler, ledger=ledger,
                         rejected=rejected, state=state, new_state=new_state, until=instant, buckets=buckets,
                         strict=strict, csv_delimiter=csv_delimiter, input_format=input_format)
        return  # not reached: _run_distributed exits with the run's code
    names: list[str] = []
    seen: set[str] = set()
    for name in events:  # a file named twice is read once
        key = name if name == STDIN else os.path.normcase(os.path.abspath(name))
        if key not in seen:
            seen.add(key)
            names.append(name)
    request = runner.RunRequest(
        ruleset=ruleset, program=program, inputs=tuple(names), state=state, ledger=ledger,
        rejected=rejected, until=instant, csv_delimiter=csv_delimiter, input_format=input_format,
        allow_ruleset_change=allow_ruleset_change, batch_size=batch_size or runner.DEFAULT_BATCH)
    progress = _TerminalProgress() if sys.stderr.isatty() else None
    out: io.TextIOWrapper | None = None
    buffer = getattr(sys.stdout, "buffer", None)
    if ledger is None and buffer is not None:
        out = io.TextIOWrapper(buffer, encoding="utf-8", newline="\n")
    try:
        result = runner.run(request, out=out, progress=progress,
                            say=lambda message: click.echo(f"note: {message}", err=True))
    except runner.RunError as exc:
        _error(str(exc))
        for line in exc.details:
            click.echo(line, err=True)
        sys.exit(2)
    finally:
        if isinstance(out, io.TextIOWrapper):
            try:
                out.flush()
            finally:
                out.detach()
    for line in _run_summary(result.counts, result.already_done):
        click.echo(line, err=True)
    if result.timings:
        phases = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in result.timings.items())
        click.echo(f"took {sum(result.timings.values()):.1f} s: {phases}", err=True)
    if strict and result.counts.rejected:
        sys.exit(1)


def _open_state(path: str) -> tuple[Store, tuple[str, ...]]:
    """A state file opened for reading, and the names of its ruleset's rules (for counters)."""
    import json

    from rewardlang.store import Store, StoreError

    try:
        store = Store.open(path, create=False, write=False)
    except StoreError as exc:
        _error(str(exc))
        sys.exit(2)
    description = store.meta("ruleset_description")
    names = tuple(name for name, _ in json.loads(description)["rules"]) if description else ()
    return store, names


def _view(stored: str, names: tuple[str, ...]) -> CustomerView:
    import json

    from rewardlang.engine import view_of
    from rewardlang.state import CustomerState

    return view_of(CustomerState.from_dict(json.loads(stored)), names)


_VIEW_FORMATS = ("table", "json")


@main.command()
@click.option("--state", required=True, metavar="FILE", help="The state file that rewardlang run wrote.")
@click.argument("customer")
@click.option("--format", "output_format", type=click.Choice(_VIEW_FORMATS), default="table", show_default=True)
def balance(state: str, customer: str, output_format: str) -> None:
    """One customer of a state file: balance, pending points, tier, lots with their expiry, counters.

    Exit 0, 1 when the state holds no such customer, 2 on a usage error.
    """
    import json

    store, names = _open_state(state)
    try:
        stored = store.state(customer)
    finally:
        store.close()
    if stored is None:
        _error(f"{state}: no customer {customer!r}; customer ids are matched exactly (list them with "
               f"rewardlang customers --state {state})")
        sys.exit(1)
    v = _view(stored, names)
    if output_format == "json":
        click.echo(json.dumps(v.to_dict(), ensure_ascii=False, indent=2))
        return
    rows = [("customer", v.customer), ("balance", str(v.balance)), ("pending", str(v.pending)),
            ("tier", v.tier or "-"), ("clock", v.clock or "-")]
    for key, value in rows:
        click.echo(f"{key:<9} {value}")
    if v.lots:
        click.echo("lots:")
        table = [("points", "available", "expires")] + [
            (str(lot.points), lot.available, lot.expires or "never") for lot in v.lots]
        widths = [max(len(row[i]) for row in table) for i in range(3)]
        for row in table:
            click.echo("  " + "  ".join(cell.rjust(widths[0]) if i == 0 else cell.ljust(widths[i])
                                        for i, cell in enumerate(row)).rstrip())
    if v.counters:
        click.echo("counters:")
        width = max(len(name) for name in v.counters)
        for name, value in v.counters.items():
            click.echo(f"  {name:<{width}}  {value}")


@main.command()
@click.option("--state", required=True, metavar="FILE", help="The state file that rewardlang run wrote.")
@click.option("--format", "output_format", type=click.Choice(_VIEW_FORMATS), default="table", show_default=True)
def customers(state: str, output_format: str) -> None:
    """Every customer of a state file, in customer order: balance, pending, tier, the next points
    to expire, clock (json: what `balance` shows, for each).

    Exit 0, 2 on a usage error.
    """
    import json

    store, names = _open_state(state)
    try:
        cursor: str | None = None
        first = True
        widths: list[int] | None = None
        header = ("customer", "balance", "pending", "tier", "next expiry", "clock")
        if output_format == "json":
            click.echo("[", nl=False)
        while True:
            rows = store.customers_after(cursor, 1000)
            if not rows:
                break
            cursor = rows[-1][0]
            views = [_view(stored, names) for _, stored in rows]
            if output_format == "json":
                for view in views:
                    click.echo(("\n" if first else ",\n") + json.dumps(view.to_dict(), ensure_ascii=False),
                               nl=False)
                    first = False
                continue
            table = [_customer_row(view) for view in views]
            if widths is None:  # the first page sets the columns: the table streams, whatever its size
                widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
                click.echo(_table_line(header, widths))
            for row in table:
                click.echo(_table_line(row, widths))
        if output_format == "json":
            click.echo("\n]" if not first else "]")
        elif widths is None:
            click.echo(f"{state}: no customers yet", err=True)
    finally:
        store.close()


def _customer_row(v: CustomerView) -> tuple[str, ...]:
    expiring = [lot for lot in v.lots if lot.expires is not None and lot.points > 0]
    soonest = min(expiring, key=lambda lot: lot.expires, default=None)
    due = "-" if soonest is None else f"{soonest.points} on {soonest.expires}"
    return (v.customer, str(v.balance), str(v.pending), v.tier or "-", due, v.clock or "-")


def _table_line(row: tuple[str, ...], widths: list[int]) -> str:
    cells = [cell.rjust(widths[i]) if i in (1, 2) else cell.ljust(widths[i]) for i, cell in enumerate(row)]
    return "  ".join(cells).rstrip()


# ---------------------------------------------------------------------------- generate
#
# The generator is imported inside the command: `check` and `fmt` should not pay for it at start-up.

_GENERATE_MAX_CUSTOMERS = 10_000_000  # the stream is sorted in memory: about 1 KB an event


def _generate_whole(option: str, text: str, low: int | None = None, high: int | None = None) -> int:
    """An integer flag's value, or a one-line usage error (exit 2) that says what to write."""
    try:
        value = int(text.strip())
    except ValueError:
        raise UserError(f"{option}: {text!r} is not a whole number; write one, as in {option} 3") from None
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            raise UserError(f"{option}: {value} is too small; it must be at least {low}")
        raise UserError(f"{option}: {value} is out of range; it must be from {low} to {high:,}")
    return value


def _generate_start(text: str) -> dt.date:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--start: {text!r} is not a date; write it as YYYY-MM-DD, as in --start 2026-01-01") from None


@main.command()
@click.option("--customers", default="8000", metavar="N", help="Customers buying each year.  [default: 8000]")
@click.option("--years", default="1", metavar="N", help="Years of events, from --start.  [default: 1]")
@click.option("--seed", default="1", metavar="N", help="The same seed gives the same bytes.  [default: 1]")
@click.option("--format", "output_format", default="jsonl", metavar="jsonl|csv",
              help="JSON Lines, or CSV with a header row.  [default: jsonl]")
@click.option("--output", "-o", default="-", metavar="FILE", help="Write to FILE instead of standard output.")
@click.option("--start", default="2026-01-01", metavar="DATE",
              help="First day (Europe/Stockholm), YYYY-MM-DD.  [default: 2026-01-01]")
@click.option("--problems", is_flag=True, help="Mix in resends and invalid lines, as a real feed has (~1 %).")
def generate(customers: str, years: str, seed: str, output_format: str, output: str, start: str,
             problems: bool) -> None:
    """Write a seeded, realistic event stream of a bookshop, for trying a programme before there
    is data (events of rulesets/bookshop.reward; docs/generate.md has the statistics).

    Exit 0 when written, 2 on a usage error (a bad flag, a file that cannot be written).
    """
    import io

    from rewardlang import generate as gen

    try:
        n_customers = _generate_whole("--customers", customers, 1, _GENERATE_MAX_CUSTOMERS)
        n_years = _generate_whole("--years", years, 1, gen.MAX_YEARS)
        n_seed = _generate_whole("--seed", seed)
        first_day = _generate_start(start)
        fmt_name = output_format.strip().lower()
        if fmt_name not in ("jsonl", "csv"):
            raise UserError(f"--format: {output_format!r} is not a format; write --format jsonl or --format csv")
        try:
            gen.check_arguments(n_customers, n_years, first_day)
        except ValueError as exc:
            raise UserError(f"--start: {exc}; choose another --start or fewer --years") from None
    except UserError as exc:
        _error(str(exc))
        sys.exit(2)
    events = gen.generate_stream(n_customers, n_years, n_seed, first_day, problems)
    write = gen.write_csv if fmt_name == "csv" else gen.write_jsonl
    if output == STDIN:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # a text-only stream (an embedding's): it takes str as it is
            count = write(events, sys.stdout)
        else:  # UTF-8 and the generator's own line ends, whatever the locale and the platform
            out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
            try:
                count = write(events, out)
            finally:
                out.flush()
                out.detach()  # leave standard output open for click
    else:
        try:
            with open(output, "w", encoding="utf-8", newline="") as file:
                count = write(events, file)
        except OSError as exc:
            if isinstance(exc, PermissionError):
                reason = "permission denied; choose a writable place"
            elif isinstance(exc, (FileNotFoundError, NotADirectoryError)):
                reason = "its directory does not exist; create it or choose another path"
            elif isinstance(exc, IsADirectoryError):
                reason = "is a directory; name a file"
            else:
                reason = f"{exc.strerror or exc}; check the path"
            _error(f"{output}: cannot write the events: {reason}")
            sys.exit(2)
    click.echo(f"Generated {count:,} event{'s' * (count != 1)}: {n_customers:,} customer{'s' * (n_customers != 1)} "
               f"a year, {_plural(n_years, 'year')} from {first_day}, seed {n_seed}.", err=True)


# ---------------------------------------------------------------------------- test
#
# Ruleset tests (docs/testing.md): rewardlang.rulesettests loads the *.test.yaml files and runs
# their cases through the engine, rewardlang.testreport prints the results. Both are imported
# inside the command: `check` and `fmt` should not pay for them at start-up.

_TEST_FORMATS = ("text", "json", "junit")


@main.command("test")
@click.argument("paths", nargs=-1, metavar="[PATHS]...")
@click.option("-k", "patterns", multiple=True, metavar="TEXT",
              help="Run only the cases whose FILE::CASE NAME contains TEXT (case-insensitive); "
                   "repeat -k to run the cases that match any of them.")
@click.option("--format", "output_format", type=click.Choice(_TEST_FORMATS), default="text", show_default=True,
              help="text for people; json, or junit (JUnit XML) for CI.")
@click.option("--coverage", "show_coverage", is_flag=True,
              help="Also list the rules that no case made fire (and the tiers no case reached), per ruleset.")
@click.option("--coverage-fail", is_flag=True, help="Like --coverage, and exit 1 when a rule never fires.")
@click.option("-v", "--verbose", is_flag=True, help="Show each case's ledger and rejections (text format).")
def ruleset_tests(paths: tuple[str, ...], patterns: tuple[str, ...], output_format: str, show_coverage: bool,
                  coverage_fail: bool, verbose: bool) -> None:
    """Run ruleset test files: PATHS are *.test.yaml files or directories (every *.test.yaml
    below them; default: the current directory). docs/testing.md describes the format.

    Exit 0 when every case passes, 1 when one fails (or, with --coverage-fail, a rule never
    fires), 2 when a test file is itself invalid (file:line says where) or on a usage error.
    """
    from rewardlang import rulesettests, testreport

    files, problems = rulesettests.discover(paths or (".",))
    rulesets = rulesettests.RulesetCache()
    loaded: list[rulesettests.TestFile] = []
    for name in files:
        found = rulesettests.load_test_file(name, rulesets)
        if isinstance(found, list):
            problems.extend(found)
        else:
            loaded.append(found)
    if problems:
        for problem in problems:
            click.echo(testreport.problem_text(problem), err=True, nl=False)
        _error(f"{_plural(len(problems), 'problem')} with the test files (see above); no case was run: "
               "fix them and run again")
        if output_format == "json":
            click.echo(testreport.to_json([], problems), nl=False)
        elif output_format == "junit":
            click.echo(testreport.to_junit([], problems), nl=False)
        sys.exit(2)
    selected = rulesettests.select(loaded, patterns)
    if not selected:
        cases = sum(len(f.cases) for f in loaded)
        _error(f"-k {' -k '.join(patterns)}: no case matches, of {_plural(cases, 'case')} in "
               f"{_plural(len(loaded), 'test file')}; -k matches a part of FILE::CASE NAME")
        sys.exit(2)
    trace = show_coverage or coverage_fail
    results = []
    for test_file, case in selected:
        result = rulesettests.run_case(test_file, case, trace=trace)
        results.append(result)
        if output_format == "text":
            click.echo(testreport.case_text(result, verbose=verbose), nl=False)
    coverage = rulesettests.coverage(selected, results) if trace else None
    if output_format == "text":
        click.echo(testreport.summary_text(results), nl=False)
        if coverage is not None:
            click.echo(testreport.coverage_text(coverage), nl=False)
    elif output_format == "json":
        click.echo(testreport.to_json(results, (), coverage), nl=False)
    else:
        click.echo(testreport.to_junit(results), nl=False)
        if coverage is not None:
            click.echo(testreport.coverage_text(coverage), err=True, nl=False)
    if any(not r.passed for r in results):
        sys.exit(1)
    if coverage_fail and coverage is not None and any(c.uncovered for c in coverage):
        click.echo("--coverage-fail: a rule never fires (see the coverage above)", err=True)
        sys.exit(1)


# ---------------------------------------------------------------------------- explain, diff
#
# docs/explain.md and the README describe them. The evaluator (rewardlang.explain) and the rules
# diff (rewardlang.rulediff) are imported inside the commands: `check` and `fmt` should not pay
# for them at start-up.

_EXPLAIN_FORMATS = ("text", "json")
_SUGGEST_AMONG = 100_000  # customers remembered for a "did you mean" (a bounded set, whatever the input)


def _echo_utf8(text: str) -> None:
    """Write a report as UTF-8 whatever the locale (it has ÷, ×, → and customers' names)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        click.echo(text, nl=False)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


@main.command("explain")
@click.argument("ruleset", metavar="RULESET")
@click.argument("events", nargs=-1, required=True, metavar="EVENTS...")
@click.option("--customer", required=True, metavar="ID", help="The customer whose events to explain.")
@click.option("--event", "event_id", metavar="ID",
              help="Only this event of the customer (and the scheduled items that fell due before it).")
@click.option("--until", "until_text", metavar="TIME",
              help="After the events, fire what is due by TIME (ISO 8601 with an offset), as run --until does.")
@click.option("--format", "output_format", type=click.Choice(_EXPLAIN_FORMATS), default="text", show_default=True,
              help="text for people, json for machines.")
@click.option("--csv-delimiter", default=",", show_default=True, metavar="CHAR", help="The delimiter of CSV inputs.")
def explain_command(ruleset: str, events: tuple[str, ...], customer: str, event_id: str | None,
                    until_text: str | None, output_format: str, csv_delimiter: str) -> None:
    """Explain one customer's events: for each event, every rule that listens to it and why it
    fired (with the arithmetic), did not match (which condition, with the values seen), was
    outside its dates, skipped by a limit or suppressed by `instead of`; the scheduled items
    (releases, expiries, reminders, birthdays, inactivity, tiers) as they fire; and the balance,
    tier and counters after each event. EVENTS are JSON Lines or CSV files (- for standard input).

    Exit 0 when explained, 1 when the customer (or --event) has no line in EVENTS, 2 on a usage
    error (a ruleset with errors, an unreadable file, a bad flag).
    """
    from rewardlang.engine import Engine
    from rewardlang.inputs import InputError, open_events

    if event_id is not None and until_text is not None:
        _error("--event shows one event; --until fires what is due after the last one: use one of them")
        sys.exit(2)
    program = _load_ruleset(ruleset)
    instant = _until(until_text)
    engine = Engine(program)
    mine: list[dict[str, object]] = []
    others: set[str] = set()
    seen_files: set[str] = set()
    try:
        for name in events:
            key = name if name == STDIN else os.path.normcase(os.path.abspath(name))
            if key in seen_files:  # a file named twice is read once
                continue
            seen_files.add(key)
            for line in open_events(name, csv_delimiter=csv_delimiter):
                if line.value is None:
                    continue  # a line that cannot be read is nobody's: `run` reports it
                owner = engine.validator.validate(line.value).customer
                if owner == customer:
                    mine.append(line.value)
                elif owner is not None and len(others) < _SUGGEST_AMONG:
                    others.add(owner)
    except InputError as exc:
        _error(str(exc))
        sys.exit(2)
    if not mine:
        close = difflib.get_close_matches(customer, sorted(others), n=1)
        hint = f"; did you mean {close[0]}?" if close else "; customer ids are matched exactly"
        _error(f"customer {customer!r} has no event in {', '.join(events)}{hint}")
        sys.exit(1)
    explanation = engine.explain(mine, customer, event_id, until=instant)
    if not explanation.found:
        ids = [str(raw.get("id")) for raw in mine if raw.get("id") is not None]
        shown = ", ".join(ids[:10]) + (", …" if len(ids) > 10 else "")
        _error(f"customer {customer!r} has no event {event_id!r} in the input; its events are {shown}")
        sys.exit(1)
    _echo_utf8(explanation.to_json() if output_format == "json" else explanation.text())


def _diff_program(name: str, parser: Parser) -> Program | None:
    """A ruleset for `diff`: its programme, or None with its errors shown on standard error as
    `check` shows them."""
    try:
        checked = _check_file(name, parser)
    except UserError as exc:
        _error(str(exc))
        return None
    if checked.program is None:
        errors = tuple(d for d in checked.diagnostics if d.severity == "error")
        filename = checked.parsed.ruleset.filename
        click.echo(to_text(errors, {filename: checked.parsed.source}), err=True)
        _error(f"{filename}: the ruleset has {_plural(len(errors), 'error')}; fix them (rewardlang check "
               f"{filename}) and diff again")
        return None
    return checked.program


@main.command("diff")
@click.argument("old", metavar="OLD.reward")
@click.argument("new", metavar="NEW.reward")
@click.option("--format", "output_format", type=click.Choice(_EXPLAIN_FORMATS), default="text", show_default=True,
              help="text for people (and pull-request comments), json for machines.")
def rules_diff(old: str, new: str, output_format: str) -> None:
    """What changed in the programme from OLD to NEW: rules added, removed and changed (matched
    by name), settings and declarations, and the order of rules and tiers. It compares meaning,
    not text: layout, comments, the order of declarations and words that mean the same (gives
    for earns, point for points) are no change; a renamed rule is one removed and one added.

    Exit 0 when nothing changed, 1 when something did (as diff does), 2 on a usage error or a
    ruleset that does not check.
    """
    import json

    from rewardlang import rulediff

    if old == STDIN and new == STDIN:
        _error("only one of OLD and NEW can be - (standard input)")
        sys.exit(2)
    parser = _new_parser()
    programs = [_diff_program(name, parser) for name in (old, new)]
    old_program, new_program = programs
    if old_program is None or new_program is None:
        sys.exit(2)
    diff = rulediff.compare_programs(old_program, new_program)
    old_name, new_name = old_program.filename, new_program.filename
    if output_format == "json":
        _echo_utf8(json.dumps(rulediff.to_dict(diff, old_name, new_name), ensure_ascii=False, indent=2) + "\n")
    else:
        _echo_utf8(rulediff.render_text(diff, old_name, new_name))
    sys.exit(1 if diff else 0)


# ---------------------------------------------------------------------------- simulate
# rewardlang.simulate (and matplotlib, for --report) are imported inside the command, so that the
# other commands do not pay for them at start-up. docs/simulate.md is the users' description.


def _simulate_write(text: str) -> None:
    """Standard output as UTF-8 whatever the locale (rule names and customers may be any text)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        click.echo(text, nl=False)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def _simulate_report_file(path: str, text: str) -> str | None:
    """Write the report whole or not at all (a temporary file beside it, then a rename); the
    problem in one line, or None."""
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        return f"--report {path}: cannot be written ({exc.strerror or exc}); check the directory"
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return f"--report {path}: cannot be written ({exc.strerror or exc}); check the path"
    return None


@main.command("simulate")
@click.argument("ruleset", metavar="RULESET")
@click.argument("events", nargs=-1, required=True, metavar="EVENTS...")
@click.option("--compare", "compare_path", metavar="OTHER.reward",
              help="A second programme run on the same events: both side by side, with the differences and "
                   "the customers whose points issued differ most.")
@click.option("--until", "until_text", metavar="TIME",
              help="Report at TIME (ISO 8601 with an offset, at or after the latest event): what falls due by "
                   "then (expiries, pending releases, tier changes) is counted. Default: the latest time in "
                   "the input.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True, help="text for people, json or csv for machines and spreadsheets.")
@click.option("--report", "report_path", metavar="FILE",
              help="Also write a self-contained HTML report (tables and charts) to FILE; needs the report "
                   "extra: pip install 'rewardlang[report]'.")
@click.option("--input-format", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Read every input as this format (default: by the file name; - by its first character).")
@click.option("--csv-delimiter", default=",", show_default=True, metavar="CHAR", help="The delimiter of CSV inputs.")
@click.option("--processes", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes to apply customers in (default: the CPUs available; small inputs use one). The "
                   "figures do not depend on it.")
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True, metavar="N",
              help="With --compare: how many of the customers whose points issued differ most to list.")
@click.option("--strict", is_flag=True, help="Exit 1 when any line was rejected.")
def simulate_command(ruleset: str, events: tuple[str, ...], compare_path: str | None, until_text: str | None,
                     output_format: str, report_path: str | None, input_format: str | None, csv_delimiter: str,
                     processes: int | None, top: int, strict: bool) -> None:
    """Simulate a programme over EVENTS (JSON Lines or CSV files, any order; - for standard
    input) and report what it costs and whom it reaches: per rule, the programme (points issued,
    redeemed, expired, outstanding; liability and reward cost in money), tiers, segments, month
    by month, and the loyalty effect (the top 20 % of buyers by spend against the rest). With
    --compare, two programmes on the same events side by side. Read-only: no state file is
    written. See docs/simulate.md.

    Exit 0 when done, 1 with --strict when a line was rejected, 2 on a usage error (a ruleset
    with errors, an unreadable file, a bad flag).
    """
    from rewardlang import simtables
    from rewardlang.simulate import Problem, SimulateRequest, simulate

    program = _load_ruleset(ruleset)
    other = _load_ruleset(compare_path) if compare_path is not None else None
    instant = _until(until_text)
    if report_path is not None:
        from rewardlang import simreport

        try:
            simreport._matplotlib()
        except simreport.ReportUnavailable as exc:
            _error(str(exc))
            sys.exit(2)
        if os.path.isdir(report_path):
            _error(f"--report {report_path}: is a directory; name a file, as in --report report.html")
            sys.exit(2)
        parent = os.path.dirname(os.path.abspath(report_path))
        if not os.path.isdir(parent):
            _error(f"--report {report_path}: the directory {parent} does not exist; create it first")
            sys.exit(2)
    names: list[str] = []
    seen: set[str] = set()
    for name in events:  # a file named twice is read once
        key = name if name == STDIN else os.path.normcase(os.path.abspath(name))
        if key not in seen:
            seen.add(key)
            names.append(name)
    request = SimulateRequest(program=program, ruleset=ruleset, inputs=tuple(names), compare=other,
                              compare_ruleset=compare_path, until=instant, csv_delimiter=csv_delimiter,
                              input_format=input_format, processes=processes, top=top)
    result = simulate(request)
    if isinstance(result, Problem):
        _error(result.message)
        sys.exit(2)
    if report_path is not None:
        page = simreport.report_html(result, simtables.head_lines(result))
        problem = _simulate_report_file(report_path, page)
        if problem is not None:
            _error(problem)
            sys.exit(2)
    render = {"text": simtables.to_text, "json": simtables.to_json, "csv": simtables.to_csv}[output_format]
    _simulate_write(render(result))
    rejected = max(p["input"]["rejected"] for p in result.programmes)
    phases = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in result.timings.items()
                       if phase in ("staging", "applying"))
    click.echo(f"simulated {result.read:,} lines of {result.customers:,} customers in {result.seconds:.1f} s "
               f"({result.processes} process{'es' if result.processes != 1 else ''}: {phases})"
               + (f"; report written to {report_path}" if report_path is not None else ""), err=True)
    if strict and rejected:
        sys.exit(1)


# ---------------------------------------------------------------------------- spark-run, run --engine spark|dask
# The same rules on Apache Spark or Dask, byte-identical to `run` (docs/scale.md, issue 8). The
# work is in rewardlang.spark and rewardlang.dask_engine (`command`, over the code they share);
# pyspark and dask are imported only there.


@main.command("spark-run")
@click.argument("ruleset", metavar="RULESET")
@click.argument("events", nargs=-1, required=True, metavar="EVENTS...")
@click.option("--master", default="local[*]", show_default=True, metavar="URL",
              help="The Spark master (ignored under spark-submit, whose session is used).")
@click.option("--ledger", metavar="PATH",
              help="The ledger: a .jsonl file (byte-identical to `run`), else a Parquet directory; default stdout.")
@click.option("--rejected", metavar="FILE", help="Write every line that was not applied, with its reason (JSON Lines).")
@click.option("--state", metavar="PATH", help="The state a previous spark-run wrote (--new-state), to go on from.")
@click.option("--new-state", metavar="PATH", help="Write the customers' state: a .jsonl file, else a Parquet directory.")
@click.option("--until", "until_text", metavar="TIME",
              help="After the input, fire what is due by TIME for every customer and move every clock there.")
@click.option("--buckets", type=click.IntRange(min=1), default=None, metavar="N",
              help="Groups the customers are hashed into (docs/scale.md).  [default: 2048]")
@click.option("--strict", is_flag=True, help="Exit 1 when any line was rejected.")
@click.option("--csv-delimiter", default=",", show_default=True, metavar="CHAR", help="The delimiter of CSV inputs.")
@click.option("--format", "input_format", type=click.Choice(["jsonl", "csv", "parquet"]), default=None,
              help="Read every input as this format (default: by the file name).")
def spark_run(ruleset: str, events: tuple[str, ...], master: str, ledger: str | None, rejected: str | None,
              state: str | None, new_state: str | None, until_text: str | None, buckets: int | None, strict: bool,
              csv_delimiter: str, input_format: str | None) -> None:
    """Apply EVENTS (JSON Lines, CSV or Parquet files or directories) on Apache Spark: the same
    ledger as `run`, byte for byte. The same as `rewardlang run --engine spark`. Needs
    `pip install 'rewardlang[spark]'` and Java 17."""
    program = _load_ruleset(ruleset)
    _run_distributed("spark", ruleset, program, events, master=master, scheduler=None, ledger=ledger,
                     rejected=rejected, state=state, new_state=new_state, until=_until(until_text), buckets=buckets,
                     strict=strict, csv_delimiter=csv_delimiter, input_format=input_format)


def _run_distributed(engine: str, ruleset: str, program: Program, events: tuple[str, ...], *, master: str | None,
                     scheduler: str | None, ledger: str | None, rejected: str | None, state: str | None,
                     new_state: str | None, until: dt.datetime | None, buckets: int | None, strict: bool,
                     csv_delimiter: str, input_format: str | None) -> None:
    """`run --engine spark|dask` and `spark-run`: the engine's `command` (rewardlang.spark or
    rewardlang.dask_engine, imported only here), then exit with its code."""
    if state is not None and new_state is None:
        click.echo("note: --state without --new-state: this run's state is not written; add --new-state PATH "
                   "for the next run to go on from it", err=True)
    common = {"ruleset": ruleset, "inputs": tuple(events), "ledger": ledger, "rejected": rejected, "state": state,
              "new_state": new_state, "until": until, "csv_delimiter": csv_delimiter, "input_format": input_format}
    if engine == "spark":
        from rewardlang import spark as chosen

        request: Any = chosen.SparkRunRequest(master=master or "local[*]",
                                              buckets=buckets or chosen.DEFAULT_BUCKETS, **common)
    else:
        from rewardlang import dask_engine as chosen  # type: ignore[no-redef]

        request = chosen.DaskRunRequest(scheduler=scheduler or chosen.DEFAULT_SCHEDULER,
                                        buckets=buckets or chosen.DEFAULT_BUCKETS, **common)
    sys.exit(chosen.command(request, program, strict=strict, say=lambda m: click.echo(m, err=True)))


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="rewardlang")
