"""``rewardlang simulate``, without the command line: a programme (and, to compare, a second one)
run over a history of events, read-only, and measured (``rewardlang.simfigures`` says what).

Nothing is written but a temporary directory, removed at the end: no state file, no ledger. The
pipeline, and why it looks like this:

1. **Stage** the input (in parallel over chunks of the files): every line is read with
   ``rewardlang.inputs`` (the reader ``run`` uses) and appended to one of ``B`` bucket files, chosen
   by a hash of its customer, so that all of a customer's lines land in one bucket. ``B`` grows
   with the input's size (about ``BUCKET_BYTES`` of input a bucket), so a bucket fits in memory
   whatever the input's size. JSON Lines files are cut into chunks at line ends and read by
   several processes at once; a CSV file (a record may span lines) or standard input (spooled to
   a file first) is one chunk. Lines that cannot be read are counted here. A line is staged as
   ``index<TAB>json`` (a JSON Lines line as its own text, a CSV row as the JSON of its cells),
   appended to the bucket files every ``FLUSH_LINES`` lines; it is read back with one JSON
   decoder made once (``json.loads`` makes one a call). Measured against keeping the reader's
   values as ``marshal`` or ``pickle`` frames instead, the text is as cheap to read back and far
   cheaper to write.
2. **Apply** (in parallel over buckets): a bucket's lines are validated, grouped by customer, and
   each customer's lines go through ``engine.apply_customer`` — the one function ``run`` and
   ``Engine.run`` use, over the one kernel — and the customer is then advanced to the end (the
   ``--until`` time, or else the latest time in the input, so that what falls due by then —
   expiries, pending releases, tier changes — is counted). What the customer's events and effects
   make is added to sums (``simfigures.Tally``); nothing else is kept of it. With ``--compare``
   each customer's lines are applied under both programmes, in the same process, and validated
   once when the two programmes validate alike (``validation_key``: the same events, customer
   fields, rewards and currency — the usual comparison, of two versions of the rules).
   Both steps run with the cyclic garbage collector paused (``collector.paused``): a task makes
   hundreds of thousands of objects that live until it ends; one collection of generation 0 at
   its end frees the cycles it left (a caught exception holding the frames and the bucket's
   lines), so memory stays that of one task.
3. **Merge**: the sums of the buckets are added up and the per-customer figures sorted. Integers
   and exact decimals add up the same in any order, and the buckets depend on the input only, so
   the figures do not depend on the number of processes (tests hold 1 and 2 equal).

Customers are independent (LANGUAGE.md §4), which is what makes step 2 parallel. Processes are
started with ``spawn`` (no inherited threads or locks), and small inputs stay in this process:
starting a worker costs more than it saves.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import io
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time as _time
import zlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import IO, Any, BinaryIO, TypeVar

import attrs

from rewardlang import collector
from rewardlang.engine import Line, line_of
from rewardlang.inputs import InputError, InputLine, format_of, open_events
from rewardlang.localtime import format_instant, parse_instant
from rewardlang.program import Program
from rewardlang.runner import dump_value
from rewardlang.simfigures import Accountant, CustomerFigures, Tally, differing, figures, instant_text

STDIN = "-"
CHUNK_BYTES = 8 << 20  # a JSON Lines chunk that one process stages
BUCKET_BYTES = 24 << 20  # input per bucket: what one process holds in memory at a time
MIN_BUCKETS = 8
MAX_BUCKETS = 4096
FLUSH_LINES = 32768  # lines a staging process holds before it appends them to the bucket files
SMALL_INPUT = 4 << 20  # inputs smaller than this are simulated in this process
MAX_MONTHS = 1200  # a span longer than a century is a typo in a time, not a history
_T = TypeVar("_T")
_R = TypeVar("_R")


@attrs.frozen
class SimulateRequest:
    """What ``rewardlang simulate`` was asked to do."""

    program: Program
    ruleset: str  # the ruleset's file name, as given
    inputs: tuple[str, ...]
    compare: Program | None = None
    compare_ruleset: str | None = None
    until: dt.datetime | None = None
    csv_delimiter: str = ","
    input_format: str | None = None  # jsonl | csv; None: by the file name (- by its first byte)
    processes: int | None = None  # None: as many as this process may use (one for a small input)
    top: int = 10  # customers listed whose points issued differ most (with --compare)


@attrs.frozen
class Problem:
    """Why a simulation could not be done: one line for the user (exit 2)."""

    message: str


@attrs.frozen
class Simulation:
    """A finished simulation: the figures of each programme (a plain, JSON-ready dict each, see
    ``simfigures.figures``), the comparison's customers, and how it was run."""

    programmes: tuple[dict[str, Any], ...]
    differing: tuple[dict[str, Any], ...]
    inputs: tuple[str, ...]
    read: int
    first: dt.datetime | None  # the earliest time in the input
    end: dt.datetime | None  # where every customer was advanced to
    until: bool  # whether ``end`` is the --until time (else the latest time in the input)
    processes: int
    seconds: float
    customers: int  # customers named by the input (with or without an applied event)
    timings: dict[str, float] = attrs.field(factory=dict)  # seconds per phase

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "inputs": list(self.inputs),
            "read": self.read,
            "first": instant_text(self.first),
            "end": instant_text(self.end),
            "end_is": "until" if self.until else "latest",
            "programmes": list(self.programmes),
        }
        if len(self.programmes) > 1:
            data["customers_differing"] = list(self.differing)
        return data


# ---------------------------------------------------------------------------- the tasks


@attrs.frozen
class _Chunk:
    """A part of one input for one process to stage: a byte range of a JSON Lines file, or a
    whole CSV file. ``number`` orders the chunks as the input is ordered."""

    number: int
    path: str  # the file to read (the spooled copy for standard input)
    shown: str  # the name as given, for messages
    fmt: str
    start: int
    end: int
    csv_delimiter: str
    buckets: int
    workdir: str
    flush: int = FLUSH_LINES  # lines held before they are appended to the bucket files


@attrs.frozen
class _Staged:
    lines: int
    unreadable: dict[str, int]
    first: dt.datetime | None
    latest: dt.datetime | None
    files: tuple[tuple[int, str], ...]  # (bucket, path)
    problem: str | None = None


@attrs.frozen
class _Bucket:
    number: int
    files: tuple[str, ...]
    end: dt.datetime | None


@attrs.frozen
class _Applied:
    tallies: tuple[Tally, ...]
    records: tuple[dict[str, CustomerFigures], ...]
    customers: int


_accountants: tuple[Accountant, ...] = ()
_shares: tuple[int, ...] = ()  # per programme: the first programme that validates lines as it does


def _start_worker(programs: tuple[Program, ...]) -> None:
    """A process's accountants, built once: the programmes arrive pickled, the plans are compiled
    here (a plan holds closures, which do not pickle)."""
    global _accountants, _shares
    _accountants = tuple(Accountant(program) for program in programs)
    keys = [validation_key(program) for program in programs]
    _shares = tuple(keys.index(key) for key in keys)


def validation_key(program: Program) -> tuple[Any, ...]:
    """What ``events.Validator`` reads of a programme: two programmes with the same key validate
    every line alike (the same events, rejections and codes), so with ``--compare`` a line is
    validated once when the two differ only in their rules, tiers, segments or settings
    (``tests/test_simulate.py`` holds the two ways equal)."""
    return (program.currency, tuple(program.events.items()), tuple(program.customer_fields.items()),
            tuple(sorted(program.rewards)))


def _stage(chunk: _Chunk) -> _Staged:
    """Read a chunk and append each line to its customer's bucket, as
    ``index<TAB>json`` records (``rewardlang.simulate`` says why)."""
    with collector.paused(collect_young=True):
        return _stage_chunk(chunk)


def _stage_chunk(chunk: _Chunk) -> _Staged:
    unreadable: dict[str, int] = {}
    out: dict[int, list[bytes]] = {}
    written: set[int] = set()
    first: dt.datetime | None = None
    latest: dt.datetime | None = None
    count = 0
    held = 0
    base = chunk.number << 32
    buckets = chunk.buckets
    try:
        lines = _chunk_lines(chunk)
        for line in lines:
            count += 1
            value = line.value
            if value is None:
                code = line.code or "unreadable"
                unreadable[code] = unreadable.get(code, 0) + 1
                continue
            when = value.get("time")
            if type(when) is str:
                instant = parse_instant(when)
                if instant is not None and 1900 <= instant.year <= 2999:
                    if latest is None or instant > latest:
                        latest = instant
                    if first is None or instant < first:
                        first = instant
            text = line.text if line.fmt == "jsonl" else dump_value(value)
            record = b"%d\t" % (base + line.line_number) + text.encode("utf-8", "surrogatepass") + b"\n"
            # the customer as the validator will read it (a text, or an integer's decimal text); a
            # line without one is rejected wherever it goes
            customer = value.get("customer")
            if type(customer) is str:
                key = customer
            elif type(customer) is int:
                key = "%d" % customer
            else:
                key = ""
            bucket = zlib.crc32(key.encode("utf-8", "surrogatepass")) % buckets
            found = out.get(bucket)
            if found is None:
                out[bucket] = [record]
            else:
                found.append(record)
            held += 1
            if held >= chunk.flush:
                _flush(chunk, out, written)
                held = 0
    except InputError as exc:  # a read error in mid-file (a JSON Lines chunk is read as "standard input")
        message = str(exc)
        if chunk.fmt == "jsonl" and chunk.shown != STDIN:
            message = message.replace("standard input", chunk.shown)
        return _Staged(count, unreadable, None, None, (), problem=message)
    _flush(chunk, out, written)
    files = tuple((bucket, _bucket_path(chunk, bucket)) for bucket in sorted(written))
    return _Staged(count, unreadable, first, latest, files)


def _bucket_path(chunk: _Chunk, bucket: int) -> str:
    return os.path.join(chunk.workdir, f"chunk{chunk.number:06d}-bucket{bucket:05d}")


def _flush(chunk: _Chunk, out: dict[int, list[bytes]], written: set[int]) -> None:
    """Append the records held for each bucket to its file, and forget them."""
    for bucket, records in out.items():
        with open(_bucket_path(chunk, bucket), "ab") as stream:
            stream.writelines(records)
        written.add(bucket)
    out.clear()


# Staged lines read back: the same value ``rewardlang.runner.load_value`` gives (``Decimal`` for a
# number with a fraction or an exponent), from one decoder rather than a new one a line.
_DECODER = json.JSONDecoder(parse_float=Decimal)


def _records(path: str) -> Iterator[tuple[int, Any]]:
    """The lines of one staged file: (index, value)."""
    decode = _DECODER.decode
    with open(path, "rb") as stream:
        data = stream.read()
    for record in data.split(b"\n"):
        if record:
            tab = record.index(b"\t")
            yield int(record[:tab]), decode(record[tab + 1:].decode("utf-8", "surrogatepass"))


def _chunk_lines(chunk: _Chunk) -> Iterator[InputLine]:
    if chunk.fmt == "csv":
        return open_events(chunk.path, csv_delimiter=chunk.csv_delimiter, fmt="csv")
    with open(chunk.path, "rb") as stream:
        stream.seek(chunk.start)
        data = stream.read(chunk.end - chunk.start)
    # a chunk after the first starts with a blank line: its first real line is then not taken
    # for the file's first (where a byte order mark is skipped)
    return open_events(STDIN, fmt="jsonl", stdin=io.BytesIO(data if chunk.start == 0 else b"\n" + data))


def _apply(bucket: _Bucket) -> _Applied:
    """Validate, group by customer, apply under each programme, and tally (with the cyclic garbage
    collector paused: see ``collector.paused``)."""
    with collector.paused(collect_young=True):
        return _apply_bucket(bucket)


def _apply_bucket(bucket: _Bucket) -> _Applied:
    values: list[tuple[int, Any]] = []
    for path in bucket.files:
        values.extend(_records(path))
    tallies = []
    records = []
    customers: set[str] = set()
    validated: dict[int, tuple[dict[str, list[Line]], list[str]]] = {}
    for n, accountant in enumerate(_accountants):
        tally = Tally()
        mine: dict[str, CustomerFigures] = {}
        share = _shares[n]
        if share not in validated:  # the first of the programmes that validate alike
            groups: dict[str, list[Line]] = {}
            rejected: list[str] = []
            validate = _accountants[share].validator.validate
            for index, value in values:
                item = validate(value)
                customer = item.customer
                if customer is None:
                    rejected.append(item.code)  # type: ignore[union-attr]
                else:
                    found = groups.get(customer)
                    line = line_of(index, item, value)
                    if found is None:
                        groups[customer] = [line]
                    else:
                        found.append(line)
            validated[share] = (groups, rejected)
        groups, rejected = validated[share]
        for code in rejected:
            tally.reject(code)
        for customer in sorted(groups):
            found_figures = accountant.customer(tally, customer, groups[customer], bucket.end)
            if found_figures is not None:
                mine[customer] = found_figures
        customers.update(groups)
        tallies.append(tally)
        records.append(mine)
    return _Applied(tuple(tallies), tuple(records), len(customers))




# ---------------------------------------------------------------------------- the whole run


def simulate(request: SimulateRequest, *, stdin: BinaryIO | None = None) -> Simulation | Problem:
    """Run the simulation; a ``Problem`` is a one-line reason for the user (a file that cannot be
    read, an ``--until`` before the input's end, two currencies to compare). ``stdin`` is read
    for ``-`` (default: the process's standard input)."""
    started = _time.perf_counter()
    if request.compare is not None and request.compare.currency != request.program.currency:
        return Problem(f"--compare {request.compare_ruleset}: its currency ({request.compare.currency or 'none'}) "
                       f"is not that of {request.ruleset} ({request.program.currency or 'none'}); compare "
                       "programmes in one currency")
    workdir = tempfile.mkdtemp(prefix="rewardlang-simulate-")
    try:
        return _Simulator(request, workdir, stdin, started).go()
    except _Stop as stop:
        return Problem(str(stop))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class _Stop(Exception):
    """A ``Problem`` on its way out of the pipeline."""


def available_processes() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Simulator:
    def __init__(self, request: SimulateRequest, workdir: str, stdin: BinaryIO | None, started: float) -> None:
        self.request = request
        self.workdir = workdir
        self.stdin = stdin
        self.started = started
        self.programs = (request.program,) + ((request.compare,) if request.compare is not None else ())

    def go(self) -> Simulation:
        request = self.request
        sources = self._sources()
        total = sum(size for _, _, _, size in sources)
        buckets = min(MAX_BUCKETS, max(MIN_BUCKETS, -(-total // BUCKET_BYTES)))
        chunks = self._chunks(sources, buckets)
        processes = request.processes or (1 if total < SMALL_INPUT else available_processes())
        processes = max(1, min(processes, max(len(chunks), buckets)))
        timings: dict[str, float] = {}
        clock = _time.perf_counter()
        with _Pool(processes, self.programs) as pool:
            timings["starting"] = _time.perf_counter() - clock
            clock = _time.perf_counter()
            staged = pool.map(_stage, chunks)
            timings["staging"] = _time.perf_counter() - clock
            clock = _time.perf_counter()
            for part in staged:
                if part.problem is not None:
                    raise _Stop(part.problem)
            read = sum(part.lines for part in staged)
            unreadable: dict[str, int] = {}
            for part in staged:
                for code, n in part.unreadable.items():
                    unreadable[code] = unreadable.get(code, 0) + n
            latest = max((p.latest for p in staged if p.latest is not None), default=None)
            first = min((p.first for p in staged if p.first is not None), default=None)
            end = self._end(first, latest)
            files: dict[int, list[str]] = {}
            for part in staged:  # in chunk order, so that a bucket's lines are in input order
                for bucket, path in part.files:
                    files.setdefault(bucket, []).append(path)
            jobs = [_Bucket(b, tuple(files[b]), end) for b in sorted(files)]
            applied = pool.map(_apply, jobs)
            timings["applying"] = _time.perf_counter() - clock
            clock = _time.perf_counter()
        tallies = [Tally() for _ in self.programs]
        records: list[dict[str, CustomerFigures]] = [{} for _ in self.programs]
        customers = 0
        for part in applied:
            customers += part.customers
            for n, tally in enumerate(part.tallies):
                tallies[n].merge(tally)
                records[n].update(part.records[n])
        names = (request.ruleset, request.compare_ruleset or "")
        programmes = tuple(figures(program, names[n], tallies[n], records[n], read, unreadable)
                           for n, program in enumerate(self.programs))
        diff = differing(records[0], records[1], request.top) if len(self.programs) > 1 else []
        timings["summing"] = _time.perf_counter() - clock
        return Simulation(programmes, tuple(diff), request.inputs, read, first, end,
                          request.until is not None, processes, _time.perf_counter() - self.started, customers,
                          timings)

    def _end(self, first: dt.datetime | None, latest: dt.datetime | None) -> dt.datetime | None:
        until = self.request.until
        if until is not None and latest is not None and until < latest:
            raise _Stop(f"--until {format_instant(until)} is before the latest time in the input "
                        f"({format_instant(latest)}); simulate applies the whole input and reports at the "
                        "end: give a time at or after it, or leave --until out")
        end = until if until is not None else latest
        if first is not None and end is not None:
            months = (end.year - first.year) * 12 + end.month - first.month
            if months > MAX_MONTHS:
                raise _Stop(f"the input's times run from {format_instant(first)} to {format_instant(end)}, "
                            f"{months:,} months: is one of them a typo? Fix it, or simulate a part of the "
                            "input")
        return end

    # -- the inputs
    def _sources(self) -> list[tuple[str, str, str, int]]:
        """(path to read, name as given, format, size) of each input, each checked readable."""
        request = self.request
        sources = []
        for name in request.inputs:
            try:
                if name == STDIN:
                    path = self._spool()
                    fmt = request.input_format or _sniff(path)
                    with open(path, "rb") as stream:  # raises for a bad CSV header, a compressed input
                        open_events(STDIN, csv_delimiter=request.csv_delimiter, fmt=fmt,
                                    stdin=stream).close()  # type: ignore[attr-defined]
                else:
                    path = name
                    fmt = format_of(name, request.input_format) or "jsonl"
                    # raises for a file that cannot be read at all, or a bad CSV header
                    open_events(name, csv_delimiter=request.csv_delimiter, fmt=fmt).close()  # type: ignore[attr-defined]
            except InputError as exc:
                raise _Stop(str(exc)) from None
            sources.append((path, name, fmt, os.path.getsize(path)))
        return sources

    def _spool(self) -> str:
        source: IO[bytes] | None = self.stdin if self.stdin is not None else getattr(sys.stdin, "buffer", None)
        if source is None:
            raise _Stop("standard input cannot be read as bytes here; name an events file instead of -")
        path = os.path.join(self.workdir, "stdin")
        with open(path, "wb") as spool:
            shutil.copyfileobj(source, spool, 1 << 20)
        return path

    def _chunks(self, sources: list[tuple[str, str, str, int]], buckets: int) -> list[_Chunk]:
        chunks: list[_Chunk] = []
        for path, shown, fmt, size in sources:
            cuts = [0, size] if fmt == "csv" else _cuts(path, size, CHUNK_BYTES)
            for start, end in zip(cuts, cuts[1:]):
                chunks.append(_Chunk(len(chunks), path, shown, fmt, start, end, self.request.csv_delimiter,
                                     buckets, self.workdir, FLUSH_LINES))
        return chunks


def _sniff(path: str) -> str:
    """Standard input's format, as ``rewardlang.inputs`` sniffs it: ``{`` first → JSON Lines."""
    with open(path, "rb") as stream:
        head = stream.read(1 << 16).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "jsonl" if head[:1] == b"{" else "csv"


def _cuts(path: str, size: int, chunk: int) -> list[int]:
    """Offsets that cut a file into chunks of about ``chunk`` bytes, each just after a line end."""
    cuts = [0]
    with open(path, "rb") as stream:
        position = chunk
        while position < size:
            stream.seek(position)
            while True:
                block = stream.read(1 << 16)
                if not block:
                    position = size
                    break
                found = block.find(b"\n")
                if found >= 0:
                    position += found + 1
                    break
                position += len(block)
            if position >= size:
                break
            cuts.append(position)
            position += chunk
    cuts.append(size)
    return cuts


class _Pool:
    """Worker processes, or this process when one is enough: the same task functions either way."""

    def __init__(self, processes: int, programs: tuple[Program, ...]) -> None:
        self.processes = processes
        self.programs = programs
        self.executor: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> _Pool:
        if self.processes > 1:
            self.executor = concurrent.futures.ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                initargs=(self.programs,))
        else:
            _start_worker(self.programs)
        return self

    def map(self, function: Callable[[_T], _R], jobs: list[_T]) -> list[_R]:
        if self.executor is None:
            return [function(job) for job in jobs]
        return list(self.executor.map(function, jobs))

    def __exit__(self, *exc: object) -> None:
        global _accountants, _shares
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
        _accountants = ()
        _shares = ()
