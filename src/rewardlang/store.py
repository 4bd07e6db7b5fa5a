"""The state file of ``rewardlang run``: one SQLite file (stdlib ``sqlite3``, WAL) that holds
every customer's state, the ledger and rejected lines of the last run, and the run book-keeping;
and, during a run, a scratch SQLite file beside it (``STATE.staging``) that the input is sorted
through.

Why it looks like this:

- **Crash safety.** A customer's new state, its ledger lines, its rejected lines, the run's
  counts and the run's cursor (the last customer done) are written in one transaction, so a run
  killed at any moment leaves a state that is exactly "the customers up to the cursor are done";
  running the same command again goes on from there (``rewardlang.runner``).
- **Out-of-core sorting.** Input lines are appended to ``staging`` (in the scratch file) as they
  are read; then one ``INSERT ... SELECT ... ORDER BY customer, idx`` copies them into ``sorted``
  (SQLite's sorter merges sorted runs from temporary files), which the runner scans in order,
  one customer's lines at a time, in a bounded amount of memory however large the input.
- **The ledger order is the primary key** of ``effects`` (customer, time, scheduled before event,
  event id, the order it happened in): writing a run's ledger is a scan, never a sort in memory.
  SQLite compares text byte by byte, which on UTF-8 is code-point order, as §5 asks.
- **One writer.** A run holds an exclusive ``flock`` on a sidecar file ``STATE.lock`` for its
  whole duration; the operating system drops it when the process dies (even by SIGKILL), so a
  killed run never blocks the next one, while a second process gets a clear error at once.
- **Versioned.** ``meta`` carries the schema version, and the description and fingerprint of the
  ruleset the customers were computed with (``rewardlang.rulediff``).

Values are always bound as SQL parameters, never formatted into SQL text.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

SCHEMA_VERSION = 1
APPLICATION_ID = 0x52574C31  # "RWL1": marks the file as a rewardlang state in SQLite's header
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICRO = dt.timedelta(microseconds=1)
_MAX_PARAMS = 500  # customers per IN (...) query: well below SQLite's parameter limit

_STAGING = """CREATE TABLE staging (
    customer TEXT NOT NULL,
    idx INTEGER NOT NULL,
    file TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    text TEXT NOT NULL,
    payload TEXT
)"""

_SORTED = """CREATE TABLE sorted (
    pos INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    idx INTEGER NOT NULL,
    file TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    text TEXT NOT NULL,
    payload TEXT
)"""

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE customers (customer TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        identity TEXT NOT NULL UNIQUE,
        phase TEXT NOT NULL,
        command TEXT NOT NULL,
        ruleset TEXT NOT NULL,
        until TEXT,
        cursor TEXT,
        position INTEGER,
        counts TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        kept INTEGER NOT NULL DEFAULT 1
    )""",
    """CREATE TABLE effects (
        run INTEGER NOT NULL,
        customer TEXT NOT NULL,
        time INTEGER NOT NULL,
        from_event INTEGER NOT NULL,
        event TEXT NOT NULL,
        seq INTEGER NOT NULL,
        line TEXT NOT NULL,
        PRIMARY KEY (run, customer, time, from_event, event, seq)
    ) WITHOUT ROWID""",
    """CREATE TABLE rejected (
        run INTEGER NOT NULL,
        file TEXT NOT NULL,
        line_number INTEGER NOT NULL,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        line TEXT NOT NULL,
        PRIMARY KEY (run, file, line_number)
    ) WITHOUT ROWID""",
)


class StoreError(Exception):
    """The state file cannot be used (locked, not a state file, a newer schema...): exit 2."""


@attrs.frozen
class Run:
    """One ``rewardlang run`` as the state file remembers it."""

    id: int
    identity: str
    phase: str  # carrying | staging | applying | advancing | finishing | done
    command: dict[str, Any]
    ruleset: str
    until: str | None
    cursor: str | None  # the last customer done in the current phase
    position: int | None  # applying: the last sorted line done
    counts: dict[str, Any]
    started: str
    finished: str | None
    kept: bool  # whether its ledger and rejected lines are still stored (the last run's are)


@attrs.frozen(slots=True)
class StagedLine:
    """A line of the input waiting in ``staging``: its customer, its place in the input (``idx``,
    the order lines were read in), where it came from, its text, and its event as JSON (None when
    the text itself is that JSON)."""

    customer: str
    idx: int
    file: str
    line_number: int
    text: str
    payload: str | None


def time_key(instant: dt.datetime) -> int:
    """An instant as whole microseconds since 1970 UTC: sorts as the instants do."""
    return (instant - _EPOCH) // _MICRO


class Store:
    """An open state file. Use ``Store.open``; close it (or use it as a context manager)."""

    def __init__(self, path: str, conn: sqlite3.Connection, lock_fd: int | None):
        self.path = path
        self.conn = conn
        self._lock_fd = lock_fd

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str, *, create: bool = True, write: bool = True) -> Store:
        """Open (or create) a state file. ``write`` takes the exclusive lock of a run; a reader
        (``balance``, ``customers``) takes a shared one, so it never sees a run half done."""
        display = path
        if not create and not os.path.exists(path):
            raise StoreError(f"{display}: no such state file; check the path (a state file is made by "
                             "rewardlang run --state FILE)")
        if os.path.isdir(path):
            raise StoreError(f"{display}: is a directory; name a state file, as in --state loyalty.db")
        lock_fd = _lock(path, exclusive=write)
        try:
            existed = os.path.exists(path) and os.path.getsize(path) > 0
            if not existed and not create:
                raise StoreError(f"{display}: an empty file, not a rewardlang state file")
            try:
                # a URI, for read-only opening; the path quoted (a ? or # in a file name is no query)
                uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode={'rwc' if write else 'ro'}"
                conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreError(f"{display}: cannot open it as a state file ({exc}); check the path and "
                                 "its permissions") from None
            store = cls(path, conn, lock_fd)
            try:
                store._prepare(existed, write)
            except sqlite3.DatabaseError as exc:
                conn.close()
                raise StoreError(f"{display}: not a rewardlang state file ({exc}); name the file that "
                                 "rewardlang run --state wrote, or a new file") from None
            except BaseException:
                conn.close()
                raise
            return store
        except BaseException:
            if lock_fd is not None:
                os.close(lock_fd)
            raise

    def _prepare(self, existed: bool, write: bool) -> None:
        conn = self.conn
        if write:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # a process killed loses nothing; WAL stays consistent
        conn.execute("PRAGMA cache_size=-32768")  # 32 MB of page cache, whatever the input's size
        conn.execute("PRAGMA temp_store=FILE")  # the sort spills to temporary files, not to memory
        if not existed:
            with self.transaction():
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")  # a constant, not a value
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                conn.execute("INSERT INTO meta VALUES ('created', ?)", (_now(),))
            return
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        if app != APPLICATION_ID:
            raise StoreError(f"{self.path}: an SQLite file, but not a rewardlang state file; name the file "
                             "that rewardlang run --state wrote, or a new file")
        version = self.meta("schema_version")
        if version is None or not version.isdigit():
            raise StoreError(f"{self.path}: a rewardlang state file without a schema version; it is damaged")
        if int(version) > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer rewardlang (state schema {version}, this one "
                             f"reads {SCHEMA_VERSION}); upgrade rewardlang")
        if int(version) < SCHEMA_VERSION:  # pragma: no cover - no older schema exists yet
            raise StoreError(f"{self.path}: state schema {version} is older than {SCHEMA_VERSION}; no "
                             "migration exists for it")

    def close(self) -> None:
        self.conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in it is committed together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ------------------------------------------------------------------ meta
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------------ runs
    def run_by_identity(self, identity: str) -> Run | None:
        return self._run("WHERE identity = ?", (identity,))

    def unfinished_run(self) -> Run | None:
        return self._run("WHERE phase != 'done' ORDER BY id LIMIT 1", ())

    def run_by_id(self, run_id: int) -> Run:
        run = self._run("WHERE id = ?", (run_id,))
        assert run is not None
        return run

    def _run(self, where: str, params: tuple[Any, ...]) -> Run | None:
        row = self.conn.execute(
            "SELECT id, identity, phase, command, ruleset, until, cursor, position, counts, started, finished, kept "
            "FROM runs " + where, params).fetchone()
        if row is None:
            return None
        return Run(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6], row[7], json.loads(row[8]),
                   row[9], row[10], bool(row[11]))

    def new_run(self, identity: str, command: dict[str, Any], ruleset: str, until: str | None,
                counts: dict[str, Any], phase: str = "staging") -> int:
        cursor = self.conn.execute(
            "INSERT INTO runs (identity, phase, command, ruleset, until, cursor, counts, started) "
            "VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
            (identity, phase, json.dumps(command, ensure_ascii=False), ruleset, until, json.dumps(counts), _now()))
        return int(cursor.lastrowid)  # type: ignore[arg-type]

    def update_run(self, run_id: int, *, phase: str | None = None, cursor: str | None = None,
                   position: int | None = None, counts: dict[str, Any] | None = None, finished: bool = False) -> None:
        """Move a run on; the cursor and position are always written (None: the phase starts
        from the beginning)."""
        self.conn.execute("UPDATE runs SET cursor = ?, position = ? WHERE id = ?", (cursor, position, run_id))
        if phase is not None:
            self.conn.execute("UPDATE runs SET phase = ? WHERE id = ?", (phase, run_id))
        if counts is not None:
            self.conn.execute("UPDATE runs SET counts = ? WHERE id = ?", (json.dumps(counts), run_id))
        if finished:
            self.conn.execute("UPDATE runs SET finished = ? WHERE id = ?", (_now(), run_id))

    def runs(self) -> list[Run]:
        rows = self.conn.execute("SELECT id FROM runs ORDER BY id").fetchall()
        return [self.run_by_id(r[0]) for r in rows]

    # ------------------------------------------------------------------ staging and sorting
    @property
    def work_path(self) -> str:
        """The run's scratch file beside the state file: the staged input, sorted."""
        return self.path + ".staging"

    def new_work(self) -> None:
        """A fresh scratch file with an empty staging table. It has no journal and is not synced
        while it is filled: staging is all or nothing (a run killed before the sort was done
        stages again, into a new file), so nothing there needs to survive a crash half-written,
        and the input is not written twice (journal, then table) as it would be in the state."""
        self.drop_work()
        self.conn.execute("ATTACH DATABASE ? AS work", (self.work_path,))
        self.conn.execute("PRAGMA work.journal_mode=OFF")
        self.conn.execute("PRAGMA work.synchronous=OFF")
        self.conn.execute("PRAGMA work.cache_size=-16384")  # appended, then scanned in order: a small cache does
        self.conn.execute(_STAGING.replace("TABLE staging", "TABLE work.staging"))

    def open_work(self) -> bool:
        """Attach the scratch file of a run that was sorted; False when it is not there (whole)."""
        if not os.path.exists(self.work_path):
            return False
        self.conn.execute("ATTACH DATABASE ? AS work", (self.work_path,))
        self.conn.execute("PRAGMA work.cache_size=-16384")
        try:
            done = self.conn.execute("SELECT value FROM work.done WHERE key = 'sorted'").fetchone()
        except sqlite3.DatabaseError:
            done = None
        if done is None:
            self.conn.execute("DETACH DATABASE work")
            return False
        return True

    def has_work(self) -> bool:
        return any(row[1] == "work" for row in self.conn.execute("PRAGMA database_list"))

    def drop_work(self) -> None:
        """Detach and delete the scratch file (at the end of a run, or before a new one)."""
        if self.has_work():
            self.conn.execute("DETACH DATABASE work")
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(self.work_path + suffix)
            except FileNotFoundError:
                pass

    def stage(self, rows: Sequence[tuple[str, int, str, int, str, str | None]]) -> None:
        self.conn.executemany("INSERT INTO work.staging VALUES (?, ?, ?, ?, ?, ?)", rows)

    def sort_staging(self) -> None:
        """Copy the staged lines into ``sorted`` in (customer, idx) order, drop ``staging``, and
        make the file durable before the run says it is sorted.

        SQLite's sorter does the ORDER BY as an external merge sort (sorted runs spill to
        temporary files, in ``$SQLITE_TMPDIR`` or ``$TMPDIR``), and the rows land in ``sorted``
        with ascending ``pos`` in that order, so reading them back is a sequential scan by
        ``pos`` — never a random read per line, however much larger than memory the input is."""
        conn = self.conn
        conn.execute(_SORTED.replace("TABLE sorted", "TABLE work.sorted"))
        conn.execute("INSERT INTO work.sorted (customer, idx, file, line_number, text, payload) "
                     "SELECT customer, idx, file, line_number, text, payload FROM work.staging "
                     "ORDER BY customer, idx")
        conn.execute("DROP TABLE work.staging")
        conn.execute("PRAGMA work.synchronous=FULL")  # the commit of the next statement syncs the file
        conn.execute("CREATE TABLE work.done (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO work.done VALUES ('sorted', ?)", (_now(),))

    def sorted_after(self, position: int, limit: int) -> list[tuple[int, StagedLine]]:
        """Up to ``limit`` sorted lines after ``position``, each with its position."""
        rows = self.conn.execute(
            "SELECT pos, customer, idx, file, line_number, text, payload FROM work.sorted WHERE pos > ? "
            "ORDER BY pos LIMIT ?", (position, limit)).fetchall()
        return [(row[0], StagedLine(*row[1:])) for row in rows]

    def sorted_total(self) -> int:
        """How many lines were sorted (positions run from 1 to this)."""
        row = self.conn.execute("SELECT max(pos) FROM work.sorted").fetchone()
        return int(row[0] or 0)

    # ------------------------------------------------------------------ customers
    def states(self, customers: Iterable[str]) -> dict[str, str]:
        """The stored states (JSON text) of those of ``customers`` that have one."""
        names = list(customers)
        out: dict[str, str] = {}
        for start in range(0, len(names), _MAX_PARAMS):
            part = names[start:start + _MAX_PARAMS]
            marks = ", ".join("?" * len(part))  # placeholders only; the values are bound
            for customer, state in self.conn.execute(
                    f"SELECT customer, state FROM customers WHERE customer IN ({marks})", part):
                out[customer] = state
        return out

    def state(self, customer: str) -> str | None:
        row = self.conn.execute("SELECT state FROM customers WHERE customer = ?", (customer,)).fetchone()
        return None if row is None else row[0]

    def save_states(self, rows: Iterable[tuple[str, str]]) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO customers VALUES (?, ?)", rows)

    def customers_after(self, customer: str | None, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` (customer, state) after ``customer``, in customer order."""
        if customer is None:
            query = "SELECT customer, state FROM customers ORDER BY customer LIMIT ?"
            return self.conn.execute(query, (limit,)).fetchall()
        return self.conn.execute("SELECT customer, state FROM customers WHERE customer > ? ORDER BY customer "
                                 "LIMIT ?", (customer, limit)).fetchall()

    def customer_count(self, upto: str | None = None) -> int:
        """How many customers the file holds (``upto``: of them, those up to that one)."""
        if upto is None:
            return int(self.conn.execute("SELECT count(*) FROM customers").fetchone()[0])
        return int(self.conn.execute("SELECT count(*) FROM customers WHERE customer <= ?", (upto,)).fetchone()[0])

    # ------------------------------------------------------------------ effects and rejected lines
    def add_effects(self, rows: Iterable[tuple[int, str, int, int, str, int, str]]) -> None:
        self.conn.executemany("INSERT INTO effects VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def _ledger_pages(self, run_id: int) -> Iterator[list[tuple[str]]]:
        """A run's ledger lines in the ledger's order (the primary key's), 10,000 rows a page."""
        cursor = self.conn.execute(
            "SELECT line FROM effects WHERE run = ? ORDER BY customer, time, from_event, event, seq", (run_id,))
        while True:
            rows = cursor.fetchmany(10_000)
            if not rows:
                return
            yield rows

    def ledger(self, run_id: int) -> Iterator[str]:
        """A run's ledger lines in the ledger's order."""
        for rows in self._ledger_pages(run_id):
            for (line,) in rows:
                yield line

    def ledger_text(self, run_id: int) -> Iterator[str]:
        """``ledger``'s lines as text, each ending with a line break, several thousand to a piece:
        what the ledger file is written from (a write per line cost more than reading them)."""
        for rows in self._ledger_pages(run_id):
            yield "\n".join([line for (line,) in rows]) + "\n"

    def add_rejected(self, rows: Iterable[tuple[int, str, int, str, str, str]]) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO rejected VALUES (?, ?, ?, ?, ?, ?)", rows)

    def forget_ledgers(self, keep: int) -> None:
        """Drop the ledger and rejected lines of every run but ``keep``: the file keeps one run's
        lines (to write them again), not every night's for ever."""
        self.conn.execute("DELETE FROM effects WHERE run != ?", (keep,))
        self.conn.execute("DELETE FROM rejected WHERE run != ?", (keep,))
        self.conn.execute("UPDATE runs SET kept = 0 WHERE id != ? AND kept = 1", (keep,))

    def clear_rejected(self, run_id: int) -> None:
        self.conn.execute("DELETE FROM rejected WHERE run = ?", (run_id,))

    def rejected(self, run_id: int) -> Iterator[tuple[str, int, str, str]]:
        """A run's rejected lines (file, line number, line, reason), sorted by file and line."""
        cursor = self.conn.execute(
            "SELECT file, line_number, line, reason FROM rejected WHERE run = ? ORDER BY file, line_number",
            (run_id,))
        while True:
            rows = cursor.fetchmany(10_000)
            if not rows:
                return
            yield from rows


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _lock(path: str, *, exclusive: bool) -> int | None:
    """Take the state file's lock (``PATH.lock``), or say who holds it."""
    lock_path = path + ".lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if not exclusive and exc.errno in (errno.EACCES, errno.EROFS):
            return None  # a reader on a read-only place: nothing can be writing there either
        raise StoreError(f"{lock_path}: cannot create the state's lock file ({exc.strerror}); check that "
                         "its directory is writable") from None
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError:
        holder = _holder(fd)
        os.close(fd)
        raise StoreError(f"{path}: in use by a running rewardlang run{holder}; wait for it to finish (each "
                         "state file takes one run at a time)") from None
    if exclusive:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return ""
    return f" (process {text})" if text.isdigit() else ""
