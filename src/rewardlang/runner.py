"""``rewardlang run``, without the command line: event files in, a state file moved on, a ledger
and a rejected file out — for inputs of any size, and safe to kill at any moment.

The pipeline (docs/running.md tells it for users):

1. **Identify the run**: the ruleset's fingerprint (``rewardlang.rulediff``), each input's name,
   size and SHA-256 (standard input is first spooled to a temporary file, hashed on the way), the
   ``--until`` and the CSV delimiter. The same command on the same files is the same run.
2. **Stage**: read every line (``rewardlang.inputs``), validate it to learn its customer, and
   append it to the ``staging`` table of a scratch SQLite file beside the state file
   (``STATE.staging``, no journal: it is disposable); lines that name no customer are rejected at
   once. Then SQLite copies the table in (customer, line) order into ``sorted`` — an external
   merge sort, so memory stays bounded whatever the input's size. Staging is committed in
   batches but is all or nothing: a run killed before the sort is done stages again from the
   start.
3. **Apply**: read the staged lines back one customer at a time, validate them again, and hand
   them with the customer's stored state to ``engine.apply_customer`` — the same function
   ``Engine.run`` uses, over the one kernel — then store the new state, the ledger lines and the
   rejected lines. Every ``batch_size`` customers, one transaction commits all of that with the
   run's counts and its cursor (the last customer done).
4. **Advance** (``--until``): every customer in the state file, in the input or not, is moved to
   that time. This happens in the same pass as step 3: the stored customers are walked in
   customer order beside the sorted input (both are in customer order), and each customer —
   with lines or without — is applied, then advanced, then stored, once. (Customers are
   independent, so this is what applying them all and then advancing them all gives; the
   Spark and Dask runs do the same per bucket.) Reading, decoding, encoding and writing every
   state a second time, in a phase of its own, cost about an eighth of a run. A run started by
   an older rewardlang, which advanced in that phase, finishes that way (``ADVANCE_IN_APPLY``).
5. **Finish**: the run is marked done, the scratch file deleted, and the ledger and rejected
   files are written from what the state file holds (a temporary file, then a rename).

Killed anywhere, the same command again finds its unfinished run and goes on from the cursor;
since customers are independent and each customer's state and lines are committed together,
the state and the files end exactly as one uninterrupted run leaves them. The same command
after the run finished applies nothing: it writes the run's ledger and rejected file again (a
state file keeps the lines of its last run only; for an older run it says so and writes none).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time as _time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from json.encoder import encode_basestring
from typing import IO, Any, BinaryIO, Protocol

import attrs

from rewardlang import collector
from rewardlang.carryover import Carryover
from rewardlang.effects import Effect
from rewardlang.engine import Engine, Line, apply_customer, line_of
from rewardlang.inputs import InputError, InputLine, open_events
from rewardlang.localtime import format_instant
from rewardlang.program import Program
from rewardlang.rulediff import Description, RulesetDiff, compare, describe
from rewardlang.state import CustomerState
from rewardlang.store import SCHEMA_VERSION, Run, StagedLine, Store, StoreError, time_key

STDIN = "-"
DEFAULT_BATCH = 1000  # customers per commit
STAGE_BATCH = 20_000  # lines per staging commit (at most; 20 per customer of a batch)
BATCH_LINES = 50_000  # ledger lines per commit, at most (about 15 MB of them in memory)
BATCH_SECONDS = 5.0  # a commit at least this often
FETCH_ROWS = 20_000  # staged lines read back at a time (a customer with more is read whole)
# marks, in a run's stored command, a run that advances each customer as it applies it (step 4);
# a run without it (an older rewardlang's, resumed) has a phase "advancing" of its own
ADVANCE_IN_APPLY = "advance_in_apply"


class RunError(Exception):
    """Why a run cannot be done (exit 2): a one-line message, and ``details`` (more lines) where
    there is more to show, such as what changed in a ruleset."""

    def __init__(self, message: str, details: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.details = tuple(details)


class Progress(Protocol):
    """Where the runner reports how far it is (a progress bar on a terminal, or nothing)."""

    def start(self, phase: str, total: int | None) -> None: ...

    def step(self, n: int) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    def start(self, phase: str, total: int | None) -> None:
        pass

    def step(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass


@attrs.frozen
class RunRequest:
    """What ``rewardlang run`` was asked to do."""

    ruleset: str  # the ruleset's file name, for messages
    program: Program
    inputs: tuple[str, ...]
    state: str | None = None  # None: a temporary state file, removed at the end
    ledger: str | None = None  # None: standard output (``out``)
    rejected: str | None = None  # None: rejected lines are only counted
    until: dt.datetime | None = None
    csv_delimiter: str = ","
    input_format: str | None = None  # jsonl | csv; None: by the name (rewardlang.inputs)
    allow_ruleset_change: bool = False
    batch_size: int = DEFAULT_BATCH


@attrs.define
class Counts:
    """A run's figures; stored with the run and committed with each batch, so a resumed run goes
    on counting from where the last commit left them."""

    read: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_by: dict[str, int] = attrs.field(factory=dict)
    customers: int = 0
    points: int = 0
    vouchers: int = 0
    free_items: int = 0
    messages: int = 0
    advanced: int = 0

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Counts:
        return cls(**data)

    def reject(self, code: str) -> None:
        self.rejected += 1
        self.rejected_by[code] = self.rejected_by.get(code, 0) + 1

    def tally(self, effect: Effect) -> None:
        kind = effect.kind
        if kind == "points":
            points = int(effect.get("points"))
            if points > 0:
                self.points += points
        elif kind == "voucher":
            self.vouchers += int(effect.get("quantity"))
        elif kind == "free_item":
            self.free_items += int(effect.get("quantity"))
        elif kind == "message":
            self.messages += 1


@attrs.frozen
class RunResult:
    counts: Counts
    run_id: int
    resumed: bool = False
    already_done: bool = False
    timings: dict[str, float] = attrs.field(factory=dict)  # seconds per phase, of this process only


class _Timed:
    """A progress reporter that also times each phase (for the summary and the benchmark)."""

    def __init__(self, inner: Progress, timings: dict[str, float]) -> None:
        self.inner = inner
        self.timings = timings
        self.phase = ""
        self.started = 0.0
        self.parts: dict[str, float] = {}

    def start(self, phase: str, total: int | None) -> None:
        self.phase, self.started = phase, _time.perf_counter()
        self.parts = {}
        self.inner.start(phase, total)

    def step(self, n: int) -> None:
        self.inner.step(n)

    def part(self, phase: str, seconds: float) -> None:
        """``seconds`` of the current phase that were another's (advancing, done while applying):
        the summary shows them under that name."""
        self.parts[phase] = self.parts.get(phase, 0.0) + seconds

    def finish(self) -> None:
        took = _time.perf_counter() - self.started
        self.timings[self.phase] = self.timings.get(self.phase, 0.0) + took - sum(self.parts.values())
        for phase, seconds in self.parts.items():
            self.timings[phase] = self.timings.get(phase, 0.0) + seconds
        self.parts = {}
        self.inner.finish()


def run(request: RunRequest, *, out: IO[str] | None = None, stdin: BinaryIO | None = None,
        progress: Progress | None = None, say: Callable[[str], None] | None = None) -> RunResult:
    """Do a run (or finish one, or write a finished one's files again). ``out`` takes the ledger
    when ``request.ledger`` is None; ``say`` takes notes for the user (resuming, ruleset changes)."""
    out = out if out is not None else sys.stdout
    progress = progress or NoProgress()
    say = say or (lambda message: None)
    _check_outputs(request)
    # a private directory only for what needs one: the temporary state, standard input's copy
    needed = request.state is None or STDIN in request.inputs
    workdir = tempfile.mkdtemp(prefix="rewardlang-run-") if needed else None
    try:
        state_path = request.state or os.path.join(workdir or "", "state.db")
        spooled = _spool_stdin(request.inputs, stdin, workdir or "")
        try:
            store = Store.open(state_path)
        except StoreError as exc:
            raise RunError(str(exc)) from None
        try:
            with collector.paused(collect_young=True):  # collected at each commit instead (_young_garbage)
                return _Runner(request, store, spooled, out, progress, say).go()
        except sqlite3.Error as exc:
            raise RunError(f"{state_path}: the state file failed ({exc}); the run can go on: free what is "
                           "needed (disk space?) and run the same command again") from None
        finally:
            store.close()
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def _check_outputs(request: RunRequest) -> None:
    for option, path in (("--ledger", request.ledger), ("--rejected", request.rejected), ("--state", request.state)):
        if path is None:
            continue
        if os.path.isdir(path):
            raise RunError(f"{option} {path}: is a directory; name a file")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise RunError(f"{option} {path}: the directory {parent} does not exist; create it first")


def _spool_stdin(inputs: tuple[str, ...], stdin: BinaryIO | None, workdir: str) -> tuple[str, int, str] | None:
    """Standard input copied to a file (path, size, SHA-256): it can be read twice and identified."""
    if STDIN not in inputs:
        return None
    source = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
    if source is None:
        raise RunError("standard input cannot be read as bytes here; name an events file instead of -")
    path = os.path.join(workdir, "stdin")
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as spool:
        while True:
            chunk = source.read(1 << 20)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            spool.write(chunk)
    return path, size, digest.hexdigest()


def _file_identity(name: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    try:
        with open(name, "rb") as stream:
            while True:
                chunk = stream.read(1 << 20)
                if not chunk:
                    break
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise RunError(f"{name}: cannot be read ({exc.strerror or exc}); check the file") from None
    return size, digest.hexdigest()


class _Runner:
    def __init__(self, request: RunRequest, store: Store, spooled: tuple[str, int, str] | None, out: IO[str],
                 progress: Progress, say: Callable[[str], None]) -> None:
        self.request = request
        self.store = store
        self.spooled = spooled
        self.out = out
        self.timings: dict[str, float] = {}
        self.progress = _Timed(progress, self.timings)
        self.say = say
        self.engine = Engine(request.program)
        self.description = describe(request.program.ruleset)
        self.until_text = None if request.until is None else format_instant(request.until)

    # ------------------------------------------------------------------ the whole run
    def go(self) -> RunResult:
        store = self.store
        self._check_inputs()
        identity, command = self._identity()
        existing = store.run_by_identity(identity)
        if existing is not None and existing.phase == "done":
            if not existing.kept:
                self.say(f"this run was done before (finished {existing.finished}) and later runs followed it; "
                         "nothing was applied again, and nothing is written (a state file keeps the ledger "
                         "of its last run only)")
                return RunResult(Counts.from_dict(existing.counts), existing.id, already_done=True,
                                 timings=self.timings)
            self.say(f"this run was done before (finished {existing.finished}); nothing was applied again, "
                     "its ledger and rejected lines are written again")
            store.drop_work()  # left behind if it was killed just after it was done
            self._write_outputs(existing.id)
            return RunResult(Counts.from_dict(existing.counts), existing.id, already_done=True, timings=self.timings)
        unfinished = store.unfinished_run()
        if unfinished is not None and (existing is None or unfinished.id != existing.id):
            raise RunError(
                f"{store.path}: an earlier run did not finish ({_show_command(unfinished.command)}, started "
                f"{unfinished.started}); run that same command again to finish it, then this one")
        if existing is not None:
            run = existing
            self.say(f"resuming the unfinished run started {run.started} (it was at: {run.phase})")
        else:
            run = self._new_run(identity, command)
        counts = Counts.from_dict(run.counts)
        if run.phase == "carrying":
            self._carry(run)
            run = store.run_by_id(run.id)
        if run.phase == "staging":
            counts = self._stage(run.id)
            run = store.run_by_id(run.id)
        if run.phase == "applying":
            if not store.has_work() and not store.open_work():
                self.say("the run's sorted input (the .staging file) is gone: reading the input again")
                self._stage(run.id, rebuild=True)
            self._apply(run, counts)
            run = store.run_by_id(run.id)
        if run.phase == "advancing":
            self._advance(run, counts)
            run = store.run_by_id(run.id)
        if run.phase == "finishing":
            with store.transaction():
                store.forget_ledgers(keep=run.id)
                store.update_run(run.id, phase="done", counts=counts.to_dict(), finished=True)
        store.drop_work()
        self._write_outputs(run.id)
        return RunResult(counts, run.id, resumed=existing is not None, timings=self.timings)

    def _check_inputs(self) -> None:
        """Every input can be opened and has a readable header, before anything is done."""
        for name in self.request.inputs:
            try:
                lines = self._open(name)
            except InputError as exc:
                raise RunError(str(exc)) from None
            lines.close()  # type: ignore[attr-defined]

    def _open(self, name: str) -> Iterator[InputLine]:
        if name == STDIN:
            assert self.spooled is not None
            stream = open(self.spooled[0], "rb")  # noqa: SIM115 - closed with the iterator
            return _closing(open_events(name, csv_delimiter=self.request.csv_delimiter, fmt=self.request.input_format,
                                        stdin=stream), stream)
        return open_events(name, csv_delimiter=self.request.csv_delimiter, fmt=self.request.input_format)

    def _identity(self) -> tuple[str, dict[str, Any]]:
        """The run's identity: what makes its result (not the batch size, not the output paths)."""
        inputs = []
        for name in self.request.inputs:
            if name == STDIN:
                assert self.spooled is not None
                size, digest = self.spooled[1], self.spooled[2]
            else:
                size, digest = _file_identity(name)
            inputs.append([name, size, digest])
        command = {"ruleset": self.request.ruleset, "inputs": inputs, "until": self.until_text,
                   "csv_delimiter": self.request.csv_delimiter, "format": self.request.input_format}
        key = {"schema": SCHEMA_VERSION, "ruleset": self.description.fingerprint, "inputs": inputs,
               "until": self.until_text, "csv_delimiter": self.request.csv_delimiter,
               "format": self.request.input_format}
        identity = hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        return identity, command

    def _new_run(self, identity: str, command: dict[str, Any]) -> Run:
        store = self.store
        stored = store.meta("ruleset_fingerprint")
        fingerprint = self.description.fingerprint
        phase = "staging"
        if stored is not None and stored != fingerprint:
            previous = Description.from_dict(json.loads(store.meta("ruleset_description") or "{}"))
            self._ruleset_changed(compare(previous, self.description))
            command = {**command, "carry_from": previous.to_dict()}
            phase = "carrying"  # the stored states move to the new ruleset's positions first
        with store.transaction():
            if stored != fingerprint:
                store.set_meta("ruleset_fingerprint", fingerprint)
                store.set_meta("ruleset_description", self.description.to_json())
            if self.request.until is not None:
                command = {**command, ADVANCE_IN_APPLY: True}
            run_id = store.new_run(identity, command, fingerprint, self.until_text, Counts().to_dict(), phase)
        return store.run_by_id(run_id)

    def _carry(self, run: Run) -> None:
        """Carry every stored state over to the changed ruleset (``rewardlang.carryover``), in
        batches committed with a cursor, like the other phases."""
        store = self.store
        carry = Carryover.between(Description.from_dict(run.command["carry_from"]), self.description,
                                  self.request.program)
        self.progress.start("carrying", store.customer_count())
        cursor = run.cursor
        while True:
            rows = store.customers_after(cursor, max(1, self.request.batch_size))
            if not rows:
                break
            cursor = rows[-1][0]
            with store.transaction():
                store.save_states((customer, json.dumps(carry.apply(json.loads(stored)), ensure_ascii=False,
                                                        separators=(",", ":"))) for customer, stored in rows)
                store.update_run(run.id, cursor=cursor)
            self.progress.step(len(rows))
        with store.transaction():
            store.update_run(run.id, phase="staging", cursor=None)
        self.progress.finish()

    def _ruleset_changed(self, diff: RulesetDiff) -> None:
        lines = diff.lines() or ["(the statements are the same but in another order)"]
        if not self.request.allow_ruleset_change:
            raise RunError(f"{self.store.path}: its customers were computed with another version of the ruleset "
                           f"than {self.request.ruleset}; run with the same ruleset, or pass "
                           "--allow-ruleset-change to go on with this one", [f"  {line}" for line in lines])
        self.say(f"the ruleset changed since the state's last run (--allow-ruleset-change): {len(lines)} "
                 f"change{'s' if len(lines) != 1 else ''}")
        for line in lines:
            self.say(f"  {line}")
        if diff.moves_rules:
            self.say("  rules kept from the old ruleset stand at other positions now: their counters, limits "
                     "and `first` are carried over by rule name; a removed rule's are dropped")

    # ------------------------------------------------------------------ 2. staging
    def _stage(self, run_id: int, *, rebuild: bool = False) -> Counts:
        """Read, validate and stage every line, then sort. ``rebuild``: only make the sorted input
        again (for a run that was applying when its scratch file was lost): the same input gives
        the same lines in the same positions, and what was counted and rejected stands."""
        store, validator = self.store, self.engine.validator
        counts = Counts()
        store.new_work()
        if not rebuild:
            with store.transaction():
                store.clear_rejected(run_id)
                store.update_run(run_id, counts=counts.to_dict())
        self.progress.start("reading", None)
        rows: list[tuple[str, int, str, int, str, str | None]] = []
        rejected: list[tuple[int, str, int, str, str, str]] = []
        idx = 0
        stage_batch = min(STAGE_BATCH, 20 * self.request.batch_size)

        def flush() -> None:
            with store.transaction():
                store.stage(rows)
                if not rebuild:
                    store.add_rejected(rejected)
                    store.update_run(run_id, counts=counts.to_dict())
            self.progress.step(len(rows) + len(rejected))
            rows.clear()
            rejected.clear()
            _young_garbage()

        try:
            for name in self.request.inputs:
                for line in self._open(name):
                    idx += 1
                    counts.read += 1
                    value = line.value
                    if value is None:
                        code = line.code or "unreadable"
                        counts.reject(code)
                        rejected.append((run_id, line.file, line.line_number, code, line.problem or "unreadable",
                                         line.text))
                    else:
                        # where the line goes; it is validated in full when it is applied
                        customer = validator.customer_of(value)
                        item = None if customer is not None else validator.validate(value)
                        if item is not None and item.customer is None:
                            counts.reject(item.code)  # type: ignore[union-attr]
                            rejected.append((run_id, line.file, line.line_number, item.code,  # type: ignore[union-attr]
                                             item.reason, line.text))  # type: ignore[union-attr]
                        else:
                            rows.append((customer or item.customer, idx, line.file, line.line_number,  # type: ignore[union-attr]
                                         line.text, None if line.fmt == "jsonl" else dump_value(value)))
                    if len(rows) + len(rejected) >= stage_batch:
                        flush()
        except InputError as exc:
            raise RunError(f"{exc}; run the same command again once the file can be read") from None
        flush()
        self.progress.finish()
        self.progress.start("sorting", None)
        store.sort_staging()
        if not rebuild:
            with store.transaction():
                store.update_run(run_id, phase="applying", cursor=None, counts=counts.to_dict())
        self.progress.finish()
        return counts

    # ------------------------------------------------------------------ 3. applying
    def _apply(self, run: Run, counts: Counts) -> None:
        """The sorted lines, one customer at a time: a fetch of ``FETCH_ROWS`` lines ends within a
        customer, whose lines are kept for the next fetch (a customer is always applied whole).

        With ``--until`` (a run marked ``ADVANCE_IN_APPLY``), the state file's customers are
        walked beside them (``_StoredStates``): each customer is applied if it has lines, then
        advanced, then stored, in customer order; the cursor (the last customer done, with or
        without lines) and the position (the last line done) say where a resumed run goes on."""
        store = self.store
        batch = _Batch(store, run.id, counts)
        position = fetched_to = run.position or 0
        cursor = run.cursor
        until = self.request.until if run.command.get(ADVANCE_IN_APPLY) else None
        walk = None if until is None else _StoredStates(store, cursor, max(1, self.request.batch_size))
        batch_size = self.request.batch_size
        if walk is None:
            self.progress.start("applying", store.sorted_total())
            self.progress.step(position)
        else:  # what is done counts lines and stored customers, so that advancing shows too
            self.progress.start("applying", store.sorted_total() + store.customer_count())
            self.progress.step(position + (0 if cursor is None else store.customer_count(upto=cursor)))
        carried: list[tuple[int, StagedLine]] = []
        while True:
            fetched = store.sorted_after(fetched_to, FETCH_ROWS)
            done = len(fetched) < FETCH_ROWS
            if fetched:
                fetched_to = fetched[-1][0]
            groups = _by_customer(carried + fetched)
            carried = [] if done or not groups else groups.pop()[1]
            states = store.states(customer for customer, _ in groups) if walk is None else {}
            for customer, lines in groups:
                if walk is None:
                    stored = states.get(customer)
                else:
                    for other, text in walk.before(customer):  # stored, with no line in this input
                        self._advance_stored(other, text, until, batch)  # type: ignore[arg-type]
                        cursor = other
                        if batch.due(batch_size):
                            batch.commit(cursor, position)
                        self.progress.step(1)
                    stored = walk.take(customer)
                    if stored is not None:
                        self.progress.step(1)
                self._apply_customer(customer, [line for _, line in lines], stored, batch, until)
                cursor, position = customer, lines[-1][0]
                if batch.due(batch_size):
                    batch.commit(cursor, position)
                self.progress.step(len(lines))
            if done:
                break
        if walk is not None:
            for other, text in walk.before(None):
                self._advance_stored(other, text, until, batch)  # type: ignore[arg-type]
                if batch.due(batch_size):
                    batch.commit(other, position)
                self.progress.step(1)
        separate = self.request.until is not None and until is None  # an older run's phase of its own
        batch.commit(None, None, phase="advancing" if separate else "finishing")
        self.progress.finish()

    def _advance_stored(self, customer: str, stored: str, until: dt.datetime, batch: _Batch) -> None:
        """A stored customer with no line in this input, moved to ``until`` (in the applying pass)."""
        started = _time.perf_counter()
        state = CustomerState.from_dict(json.loads(stored))
        effects = self.engine.kernel.advance(state, until)
        batch.counts.advanced += 1
        batch.add(customer, state, effects)
        self.progress.part("advancing", _time.perf_counter() - started)

    def _apply_customer(self, customer: str, staged: list[StagedLine], stored: str | None, batch: _Batch,
                        until: dt.datetime | None = None) -> None:
        """One customer's lines applied to its state (and, with ``until``, the customer advanced
        there, if it is or will be in the state file)."""
        validator = self.engine.validator
        state = CustomerState(customer) if stored is None else CustomerState.from_dict(json.loads(stored))
        lines: list[Line] = []
        where: dict[int, StagedLine] = {}
        for row in staged:
            value = load_value(row.text if row.payload is None else row.payload)
            lines.append(line_of(row.idx, validator.validate(value), value))
            where[row.idx] = row
        result = apply_customer(self.engine.kernel, state, lines)
        counts = batch.counts
        counts.customers += 1
        for outcome in result.outcomes:
            if outcome.status == "applied":
                counts.applied += 1
            elif outcome.status == "duplicate":
                counts.duplicates += 1
            else:
                row = where[outcome.index]
                code = outcome.code or "rejected"
                counts.reject(code)
                batch.rejected.append((batch.run_id, row.file, row.line_number, code, outcome.reason or code, row.text))
        if until is not None and (stored is not None or result.touched):
            started = _time.perf_counter()
            effects = result.effects + self.engine.kernel.advance(state, until)
            counts.advanced += 1
            self.progress.part("advancing", _time.perf_counter() - started)
            batch.add(customer, state, effects)
        else:
            batch.add(customer, state if result.touched else None, result.effects)

    # ------------------------------------------------------------------ 4. advancing
    def _advance(self, run: Run, counts: Counts) -> None:
        """Every stored customer moved to ``--until``, in a pass of its own: only for a run that
        an older rewardlang started (a new run advances while it applies, ``_apply``)."""
        store, kernel, until = self.store, self.engine.kernel, self.request.until
        assert until is not None
        batch = _Batch(store, run.id, counts)
        self.progress.start("advancing", store.customer_count())
        cursor = run.cursor
        while True:
            rows = store.customers_after(cursor, max(1, self.request.batch_size))
            if not rows:
                break
            for customer, stored in rows:
                state = CustomerState.from_dict(json.loads(stored))
                effects = kernel.advance(state, until)
                counts.advanced += 1
                batch.add(customer, state, effects)
                cursor = customer
            batch.commit(cursor)
            self.progress.step(len(rows))
        batch.commit(None, phase="finishing")
        self.progress.finish()

    # ------------------------------------------------------------------ 5. the files
    def _write_outputs(self, run_id: int) -> None:
        self.progress.start("writing", None)
        self._write_files(run_id)
        self.progress.finish()

    def _write_files(self, run_id: int) -> None:
        store = self.store
        if self.request.ledger is None:
            for text in store.ledger_text(run_id):
                self.out.write(text)
            self.out.flush()
        else:
            _write_file(self.request.ledger, store.ledger_text(run_id))
        if self.request.rejected is not None:
            _write_file(self.request.rejected, (
                json.dumps({"file": file, "line_number": number, "line": text, "reason": reason},
                           ensure_ascii=False) + "\n"
                for file, number, text, reason in store.rejected(run_id)))


class _Batch:
    """What the customers since the last commit made: written together with the run's counts and
    cursor in one transaction, so a commit is all of a customer or nothing of it."""

    def __init__(self, store: Store, run_id: int, counts: Counts) -> None:
        self.store = store
        self.run_id = run_id
        self.counts = counts
        self.states: list[tuple[str, str]] = []
        self.effects: list[tuple[int, str, int, int, str, int, str]] = []
        self.rejected: list[tuple[int, str, int, str, str, str]] = []
        self.customers = 0
        self.since = _time.monotonic()

    def due(self, batch_size: int) -> bool:
        """Time to commit: ``batch_size`` customers, or so many ledger lines that memory would
        grow, or a few seconds' work (what a kill may cost to redo)."""
        return (self.customers >= batch_size or len(self.effects) >= BATCH_LINES
                or _time.monotonic() - self.since >= BATCH_SECONDS)

    def add(self, customer: str, state: CustomerState | None, effects: Iterable[Effect]) -> None:
        self.customers += 1
        if state is not None:
            self.states.append((customer, json.dumps(state.to_dict(), ensure_ascii=False, separators=(",", ":"))))
        run_id, counts = self.run_id, self.counts
        for effect in effects:
            counts.tally(effect)
            self.effects.append((run_id, customer, time_key(effect.time), 0 if effect.event is None else 1,
                                 effect.event or "", effect.seq, effect.to_json()))

    def commit(self, cursor: str | None, position: int | None = None, phase: str | None = None) -> None:
        """Commit the batch with the run's counts and where it got to (``phase``: the next phase
        starts, from its beginning)."""
        store = self.store
        with store.transaction():
            store.save_states(self.states)
            store.add_effects(self.effects)
            store.add_rejected(self.rejected)
            store.update_run(self.run_id, phase=phase, cursor=cursor, position=position, counts=self.counts.to_dict())
        self.states.clear()
        self.effects.clear()
        self.rejected.clear()
        self.customers = 0
        _young_garbage()
        self.since = _time.monotonic()


class _StoredStates:
    """The state file's customers after a cursor, with their states, in customer order, read a
    page at a time: the stored half of the applying pass that also advances (``_Runner._apply``).

    A page is read only when the last one is used up, and only past the last customer read; the
    pass has then written no customer past that one (it goes in order, and any customer it wrote
    since is at most the last one read), so no page holds a customer this run already did.
    Python compares the names by code point, as SQLite's ``ORDER BY`` of their UTF-8 does."""

    def __init__(self, store: Store, after: str | None, page: int) -> None:
        self.store = store
        self.after = after
        self.page = page
        self.rows: list[tuple[str, str]] = []
        self.next = 0
        self.ended = False

    def _ready(self) -> bool:
        """Whether a row is waiting (reading the next page if needed)."""
        if self.next < len(self.rows):
            return True
        if self.ended:
            return False
        self.rows = self.store.customers_after(self.after, self.page)
        self.next = 0
        if len(self.rows) < self.page:
            self.ended = True
        if not self.rows:
            return False
        self.after = self.rows[-1][0]
        return True

    def before(self, customer: str | None) -> Iterator[tuple[str, str]]:
        """The stored customers before ``customer`` (all that are left, for None), taken."""
        while self._ready():
            row = self.rows[self.next]
            if customer is not None and row[0] >= customer:
                return
            self.next += 1
            yield row

    def take(self, customer: str) -> str | None:
        """``customer``'s stored state, taken, if it has one (call ``before`` first)."""
        if self._ready() and self.rows[self.next][0] == customer:
            self.next += 1
            return self.rows[self.next - 1][1]
        return None


def _young_garbage() -> None:
    """Free the garbage cycles made since the last commit.

    A run holds the cyclic collector off (``collector.paused``) and calls this at each commit
    instead: with the collector on, its passes over the objects a run makes — a few hundred
    thousand a second, nearly all freed by reference counting — cost 5-10 % of a run. A commit
    ends a batch, after which nothing of its customers is kept: one collection of the youngest
    generation then frees whatever cycles they left, so memory stays as flat as before."""
    gc.collect(0)


def _by_customer(rows: list[tuple[int, StagedLine]]) -> list[tuple[str, list[tuple[int, StagedLine]]]]:
    """Sorted lines grouped by customer, in order."""
    groups: list[tuple[str, list[tuple[int, StagedLine]]]] = []
    for row in rows:
        customer = row[1].customer
        if groups and groups[-1][0] == customer:
            groups[-1][1].append(row)
        else:
            groups.append((customer, [row]))
    return groups


def _closing(lines: Iterator[InputLine], stream: IO[bytes]) -> Iterator[InputLine]:
    try:
        yield from lines
    finally:
        stream.close()


def _write_file(path: str, lines: Iterable[str]) -> None:
    """Write a whole file or nothing: a temporary file beside it, then a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}."
    for stale in os.listdir(directory):  # left by a run killed while writing this file
        if stale.startswith(prefix) and stale.endswith(".tmp"):
            try:
                os.unlink(os.path.join(directory, stale))
            except OSError:
                pass
    fd, temporary = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as open() would make it (mkstemp makes it private)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            for line in lines:
                stream.write(line)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise RunError(f"{path}: cannot be written ({exc.strerror or exc}); the run itself is done and "
                       "stored: run the same command again to write the file") from None
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _show_command(command: dict[str, Any]) -> str:
    inputs = " ".join(str(i[0]) for i in command.get("inputs", ()))
    until = f" --until {command['until']}" if command.get("until") else ""
    return f"rewardlang run {command.get('ruleset', 'RULESET')} {inputs}{until}"


# ---------------------------------------------------------------------------- staged values

# json.loads with a hook builds a decoder per call; one decoder reads the same values
_LOAD = json.JSONDecoder(parse_float=Decimal).decode


def load_value(text: str) -> Any:
    """An event read back from the staging table, with numbers exact (as ``rewardlang.inputs``
    reads JSON Lines: ``Decimal`` for a number with a fraction or an exponent, ``int`` otherwise)."""
    return _LOAD(text)


def dump_value(value: Any) -> str:
    """An event (a CSV row's dict, or any JSON-like value with ``Decimal`` numbers) as JSON text
    that ``load_value`` reads back to an equal value of the same types — so a line is validated
    the same way when it is read back. (JSON Lines are staged as their own text: it is that JSON.)
    """
    if type(value) is dict and all(type(v) is str for v in value.values()):
        return json.dumps(value, ensure_ascii=False)  # a CSV row: every cell a text
    parts: list[str] = []
    _dump(value, parts.append)
    text = "".join(parts)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (from a \\ud800 escape): keep it as an escape
        parts.clear()
        _dump(value, parts.append, ascii_only=True)
        text = "".join(parts)
    return text


def _dump(value: Any, out: Callable[[str], Any], ascii_only: bool = False) -> None:
    kind = type(value)
    if kind is str:
        out(json.encoder.encode_basestring_ascii(value) if ascii_only else encode_basestring(value))
    elif value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif kind is int:
        out(int.__repr__(value))
    elif kind is Decimal:
        out(_decimal_text(value))
    elif kind is float:
        out(_decimal_text(Decimal(repr(value))) if value == value and abs(value) != float("inf") else "NaN")
    elif isinstance(value, dict):
        out("{")
        for n, (key, item) in enumerate(value.items()):
            if n:
                out(", ")
            _dump(str(key), out, ascii_only)
            out(": ")
            _dump(item, out, ascii_only)
        out("}")
    elif isinstance(value, (list, tuple)):
        out("[")
        for n, item in enumerate(value):
            if n:
                out(", ")
            _dump(item, out, ascii_only)
        out("]")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def _decimal_text(value: Decimal) -> str:
    """A Decimal as a JSON number that reads back (``parse_float=Decimal``) as the same Decimal,
    its exponent too: ``5`` would read back as an int, so it is written ``5E0``."""
    if not value.is_finite():
        return "NaN" if value.is_nan() else ("-Infinity" if value < 0 else "Infinity")
    text = str(value)
    if "." in text or "E" in text:
        return text
    return text + "E0"
