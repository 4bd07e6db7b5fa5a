"""The same rules on Dask, for teams without Spark: one kernel, byte-identical to the embedded run.

Named ``dask_engine``, not ``dask``: a module ``rewardlang/dask.py`` would shadow the library for
code run from inside the package. docs/scale.md ("Dask") says how to use it. Why it is built so
(issue 8's optional part):

- **The same code as Spark's workers.** Lines are staged by ``buckets.Staged`` (the customer
  read by ``Validator.customer_of``, file and line numbers kept) and each group of whole
  customers goes through ``buckets.apply_bucket`` — ``engine.apply_customer`` over the one
  kernel, what ``Engine.run`` and ``rewardlang run`` call. Dask only brings a customer's lines
  and stored state to one partition: ``shuffle`` on the bucket, then ``map_partitions``.
- **A stable bucket.** ``bucket = int(blake2b(customer as UTF-8, 8 bytes), big-endian) mod
  buckets``: the same on every machine, process and run (Python's ``hash`` of a string is salted
  per process, so it could not be used). Lines and prior state rows are one frame, shuffled
  together, so a customer's state meets its lines whatever bucket count wrote it.
- **No reliance on Dask's order.** Within a partition, ``apply_bucket`` sorts each customer's
  lines by their place in the input and applies them in ``(time, id)`` order; effects are
  numbered per customer in §5's order, and the ledger is sorted by ``(customer, n)`` (Python's
  string order: code points, the order §5 asks for).
- **Exact values.** Lines travel as their JSON text and are read with ``runner.load_value``
  (``Decimal``). The frames keep Python strings (object columns, not Dask's default Arrow
  strings), so nothing is converted on the way.
- **Lazy dask.** ``import rewardlang`` never imports dask; a missing dask is a
  ``DaskUnavailable`` that says ``pip install 'rewardlang[dask]'``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from rewardlang.buckets import (STAGED, RunInputError, Staged, apply_bucket, rejected_line, total_counts,
                                until_text, worker)
from rewardlang.drivers import check_outputs, expand, is_sqlite, is_url, write_lines
from rewardlang.drivers import command as run_command
from rewardlang.inputs import InputError, open_events
from rewardlang.program import Program

if TYPE_CHECKING:  # dask is an optional extra: imported only where it is used
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

DEFAULT_BUCKETS = 2048
INSTALL = "pip install 'rewardlang[dask]'"
SCHEDULERS = ("threads", "processes", "synchronous")  # the local ones; anything else is an address
DEFAULT_SCHEDULER = "processes"
PARTITION_BYTES = 16 * 2**20  # input bytes a kernel partition, roughly (~80,000 bookshop events)
STAGE_ROWS = 50_000  # staged lines per pandas frame while a file is read
LEDGER_PARTITION_LINES = 200_000  # ledger lines a partition when the ledger is brought back in order
CONNECT_TIMEOUT = "10s"  # to reach a distributed scheduler at --scheduler ADDRESS

# the frames' columns and types: staged lines (buckets.STAGED), the kernel stage's input (staged
# lines with their bucket, and prior state rows), its output (buckets.OUT)
_STAGED_TYPES = {"customer": "object", "file_no": "int64", "file": "object", "line_number": "int64",
                 "text": "object", "payload": "object", "problem": "object", "code": "object"}
_GROUPED_TYPES = {**_STAGED_TYPES, "state": "object", "bucket": "int64"}
_OUT_TYPES = {"record": "object", "customer": "object", "n": "int64", "text": "object", "file_no": "int64",
              "file": "object", "line_number": "int64", "reason": "object", "code": "object"}


class DaskUnavailable(Exception):
    """dask (or, for a scheduler's address, dask.distributed) is missing; the message says how to get it."""


class DaskInputError(RunInputError):
    """An input of a Dask run cannot be used (a missing file, a bad frame, a scheduler not
    reached); one line. The checks shared with the Spark engine raise the base class."""


def require_dask() -> None:
    """Raise ``DaskUnavailable`` unless dask's DataFrame (with pandas) can be imported."""
    try:
        import dask.dataframe  # noqa: F401
        import pandas  # noqa: F401
    except ImportError as exc:
        raise DaskUnavailable(f"running on Dask needs dask[dataframe] and pandas "
                              f"({exc.name or 'dask.dataframe'} is missing): {INSTALL}") from None


@contextlib.contextmanager
def _settings(scheduler: Any = None) -> Iterator[None]:
    """Dask's settings for a run. Text columns stay Python strings: Dask's default turns them
    into Arrow strings, which cannot hold every Python string (a lone surrogate in an id) and
    turn None into NA. Tasks go to the local ``processes`` scheduler's workers one at a time:
    by default it sends up to six ready tasks to one worker together, and then the kernel
    stage's tasks ran one after another in one process (measured: 100,000 events on two cores
    took as long as on one). ``scheduler`` (if given) is also the one Dask uses for what it
    computes by itself while it builds a graph (``sort_values`` samples its input): a persisted
    result on a cluster can only be read there."""
    import dask

    settings: dict[str, Any] = {"dataframe.convert-string": False, "chunksize": 1}
    if scheduler is not None:
        settings["scheduler"] = scheduler
    with dask.config.set(settings):
        yield


def bucket_of(customer: str, buckets: int) -> int:
    """A customer's bucket: its UTF-8 bytes (lone surrogates passed through) hashed by BLAKE2b
    to 8 bytes, read big-endian, modulo ``buckets``. Stable across machines, processes and
    Python versions; documented so that another tool can place customers the same way."""
    digest = hashlib.blake2b(customer.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % buckets


# ================================================================================ the result

@attrs.frozen
class DaskRun:
    """What ``apply`` made: the kernel's output, persisted (``parts``: one ``buckets.OUT`` frame
    a partition, held by the scheduler until this is dropped), lazy frames over it, and the
    ``scheduler`` that computes the rest.

    - ``ledger``: ``customer``, ``n`` (the line's place in the customer's ledger), ``line`` (the
      ledger line, exactly as the embedded run writes it); ``ledger_lines()`` in ledger order.
    - ``state``: ``customer``, ``state`` (``CustomerState.to_dict`` as JSON) for every customer
      that has one: the next run's ``state``; ``state_lines()`` in customer order.
    - ``rejected``: ``file``, ``line_number`` (None for a row of a frame), ``line``, ``reason``,
      ``code``, ``file_no``; ``rejected_lines()`` as the rejected file.

    The frames are built from the persisted partitions as ``dask.delayed`` values, not as
    operations on a persisted DataFrame: Dask fingerprints a persisted local frame by hashing
    all of its data for every operation on it (a second a few operations at 100,000 events).
    """

    parts: tuple[Any, ...]
    scheduler: Any = None  # a name, a distributed Client, or None: dask's default

    def __iter__(self) -> Iterator[dd.DataFrame]:  # ledger, state, rejected = apply(...)
        return iter((self.ledger, self.state, self.rejected))

    def _frame(self, record: str, names: dict[str, str]) -> dd.DataFrame:
        import dask
        import dask.dataframe as dd

        with _settings():
            return dd.from_delayed([dask.delayed(_records)(part, record, names) for part in self.parts],
                                   meta=_meta({names[k]: _OUT_TYPES[k] for k in names}), verify_meta=False)

    @property
    def ledger(self) -> dd.DataFrame:
        return self._frame("effect", {"customer": "customer", "n": "n", "text": "line"})

    @property
    def state(self) -> dd.DataFrame:
        return self._frame("state", {"customer": "customer", "text": "state"})

    @property
    def rejected(self) -> dd.DataFrame:
        names = {"file": "file", "line_number": "line_number", "text": "line", "reason": "reason", "code": "code",
                 "file_no": "file_no"}
        meta = _meta({**{names[k]: _OUT_TYPES[k] for k in names}, "line_number": "object"})
        return self._frame("rejected", names).map_partitions(_no_line_number, meta=meta)

    def ledger_lines(self) -> Iterator[str]:
        """The ledger in §5's order, one range of customers at a time (about
        ``LEDGER_PARTITION_LINES`` lines): ``sort_values`` range-partitions by customer and
        sorts each range, which comes to the driver in turn."""
        return self._in_order(self.ledger, ["customer", "n"], "line")

    def state_lines(self) -> Iterator[str]:
        """Every customer's state as JSON, in customer order: the JSON Lines state file."""
        return self._in_order(self.state, ["customer"], "state")

    def _in_order(self, frame: dd.DataFrame, by: list[str], column: str) -> Iterator[str]:
        size = int(frame.shape[0].compute(scheduler=self._local()))
        if not size:
            return
        with _settings(self._local()):
            ordered = frame.sort_values(by, npartitions=max(1, -(-size // LEDGER_PARTITION_LINES)),
                                        shuffle_method="tasks").persist(scheduler=self._local())
        for part in ordered.to_delayed():
            yield from part.compute(scheduler=self._local())[column].tolist()

    def rejected_lines(self) -> Iterator[str]:
        """The rejected file's lines, sorted by file and line number as the embedded run sorts them."""
        import dask

        parts = dask.compute(*[dask.delayed(_rejected_rows)(part) for part in self.parts], scheduler=self._local())
        rows = sorted((row for part in parts for row in part),
                      key=lambda r: (r[0] is not None, r[0] or "", r[1], r[2], r[3]))
        for file, number, _, line, reason in rows:
            yield rejected_line(file, number or None, line, reason)

    def counts(self) -> dict[str, Any]:
        """The run's figures, as the embedded run counts them: read, applied, duplicates, rejected
        (with ``rejected_by`` code) and customers (those that had lines)."""
        import dask

        parts = dask.compute(*[dask.delayed(_figures)(part) for part in self.parts], scheduler=self._local())
        return total_counts((text for groups, _ in parts for text in groups),
                            (item for _, early in parts for item in early))

    def _local(self) -> Any:
        """The scheduler for the work after the kernel: the local ``processes`` scheduler keeps
        its results in this process, and sorting them there on threads spares pickling the
        whole ledger to the workers and back."""
        return "threads" if self.scheduler == "processes" else self.scheduler


def _records(part: pd.DataFrame, record: str, names: dict[str, str]) -> pd.DataFrame:
    """The rows of one kind of an ``OUT`` frame, their columns renamed for the user."""
    return part.loc[part["record"] == record, list(names)].rename(columns=names)


def _rejected_rows(part: pd.DataFrame) -> list[tuple[Any, ...]]:
    rows = part[part["record"] == "rejected"]
    return list(zip(rows["file"], rows["line_number"].tolist(), rows["file_no"].tolist(), rows["text"],
                    rows["reason"]))


def _figures(part: pd.DataFrame) -> tuple[list[str], list[tuple[str, int]]]:
    """A partition's ``counts`` rows, and how many of its lines were rejected before they had a
    customer, by code."""
    groups = part.loc[part["record"] == "counts", "text"].tolist()
    early = part.loc[(part["record"] == "rejected") & part["customer"].isna(), "code"].value_counts()
    return groups, [(code, int(n)) for code, n in early.items()]


# ================================================================================ the API

def apply(program: Program, events: dd.DataFrame | db.Bag, state: dd.DataFrame | None = None, *,
          buckets: int = DEFAULT_BUCKETS, until: dt.datetime | str | None = None, partitions: int | None = None,
          scheduler: Any = None) -> DaskRun:
    """Apply ``program`` to ``events`` on Dask: the same ledger, state and rejections, byte for
    byte, as ``rewardlang run`` (or ``Engine.run`` then ``Engine.advance(until)``) on one machine.

    ``events`` is one of:

    - a dask DataFrame with a text column ``event``: the JSON text of one event a row (a JSON
      Lines line), optionally with ``file`` and ``line_number`` for the rejected output and to
      decide which of several identical lines counts as the applied one;
    - a dask Bag of such texts: JSON Lines lines, e.g. ``dask.bag.read_text``'s (a line ending
      at the end of a text is dropped);
    - the output of ``read_events`` (already staged).

    ``state``: a previous run's ``DaskRun.state`` (``customer``, ``state``), or ``read_state``.
    ``until`` fires what is due by then for every customer with a state (``--until``).
    ``buckets``: the groups customers are hashed into (``bucket_of``); ``partitions``: the
    kernel stage's tasks, each holding whole buckets (default: the input's partitions, at
    least the machine's cores, at most ``buckets``). ``scheduler``: ``threads``, ``processes``,
    ``synchronous``, a ``distributed.Client``, or None for dask's default.

    The kernel runs now (its output is persisted); the frames returned are lazy views of it.
    """
    require_dask()
    import dask
    import dask.dataframe as dd

    if isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1:
        raise ValueError(f"buckets must be a whole number of at least 1, not {buckets!r}")
    if partitions is not None and (isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1):
        raise ValueError(f"partitions must be a whole number of at least 1, not {partitions!r}")
    until_at = until_text(until)
    blob = pickle.dumps(program)
    with _settings(scheduler):
        staged = events if _is_staged(events) else stage_frame(events, program)
        grouped = staged.map_partitions(_lines_of, buckets, meta=_meta(_GROUPED_TYPES))  # one task with reading
        if state is not None:
            grouped = dd.concat([grouped, state.map_partitions(_states_of, buckets, meta=_meta(_GROUPED_TYPES))])
        tasks = min(buckets, partitions or max(staged.npartitions, os.cpu_count() or 1))
        applied = (grouped.shuffle(on="bucket", npartitions=tasks, ignore_index=True, shuffle_method="tasks")
                   .map_partitions(_kernel, blob, until_at, meta=_meta(_OUT_TYPES)))
        parts = dask.persist(*applied.to_delayed(), scheduler=scheduler)
    return DaskRun(parts=tuple(parts), scheduler=scheduler)


def _meta(types: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in types.items()})


def _frame(columns: dict[str, list[Any]], types: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns, columns=list(types)).astype(types)


def _is_staged(events: Any) -> bool:
    return tuple(getattr(events, "columns", ())) == STAGED


def _lines_of(part: pd.DataFrame, buckets: int) -> pd.DataFrame:
    """Staged lines with their customer's bucket. A line rejected before it had a customer goes
    to bucket 0 and is written out there (``_kernel``): it travels with the others, so that
    reading and bucketing stay one task, and the staged lines are never handed between workers."""
    return part.assign(state=None, bucket=[bucket_of(customer, buckets) if isinstance(customer, str) else 0
                                           for customer in part["customer"].tolist()]).astype(_GROUPED_TYPES)


def _states_of(part: pd.DataFrame, buckets: int) -> pd.DataFrame:
    """Prior state rows, in the frame of the lines, with their customer's bucket."""
    customers = part["customer"].tolist()
    return _frame({"customer": customers, "file_no": [0] * len(customers), "file": None, "line_number": 0,
                   "text": None, "payload": None, "problem": None, "code": None, "state": part["state"].tolist(),
                   "bucket": [bucket_of(customer, buckets) for customer in customers]}, _GROUPED_TYPES)


def _kernel(part: pd.DataFrame, blob: bytes, until: str | None) -> pd.DataFrame:
    """One partition of whole buckets (the shuffle put each bucket in one partition) through
    ``buckets.apply_bucket``, which takes each customer's lines and stored state together; and
    the partition's lines that never had a customer, as rejected records."""
    import pandas as pd

    stored = part["state"].notna()
    early = part["customer"].isna()
    saved = dict(zip(part["customer"][stored], part["state"][stored]))
    applied = apply_bucket(blob, until, part[~stored & ~early], saved)
    rows = part[early]
    rejected = pd.DataFrame({"record": "rejected", "customer": None, "n": 0, "text": rows["text"],
                             "file_no": rows["file_no"], "file": rows["file"], "line_number": rows["line_number"],
                             "reason": rows["problem"], "code": rows["code"]})
    return pd.concat([applied, rejected], ignore_index=True).astype(_OUT_TYPES)


def _no_line_number(part: pd.DataFrame) -> pd.DataFrame:
    """A row of a frame has no line number (0 while staged): None, as in Spark's rejected output."""
    return part.assign(line_number=[int(n) if n > 0 else None for n in part["line_number"].tolist()])


# ================================================================================ reading

def stage_frame(events: dd.DataFrame | db.Bag, program: Program) -> dd.DataFrame:
    """A frame (an ``event`` text column, optionally ``file`` and ``line_number``) or a bag of
    JSON texts as staged lines, read as JSON Lines lines are (``buckets.Staged.add_texts``)."""
    require_dask()
    import dask.bag as db

    with _settings():
        if isinstance(events, db.Bag):
            events = events.map_partitions(_texts_frame).to_dataframe(meta=_meta({"event": "object"}))
        columns = list(getattr(events, "columns", ()))
        if "event" not in columns:
            raise DaskInputError("the events have no `event` column: give the JSON text of each event as `event` "
                                 "(a frame of one column per key is read by the Spark engine only)")
        return events.map_partitions(_stage_rows, pickle.dumps(program), "file" in columns,
                                     "line_number" in columns, meta=_meta(_STAGED_TYPES))


def _texts_frame(texts: Sequence[Any]) -> list[dict[str, Any]]:
    """A bag's lines as rows of ``event``, each without its line ending (``dask.bag.read_text``
    keeps it; a line break left in a text would reject it)."""
    return [{"event": text.removesuffix("\n").removesuffix("\r") if isinstance(text, str) else text}
            for text in texts]


def _stage_rows(part: pd.DataFrame, blob: bytes, has_file: bool, has_number: bool) -> pd.DataFrame:
    validator = worker(blob)[1]
    staged = Staged()
    texts = [text if isinstance(text, str) else None for text in part["event"].tolist()]
    files = [f if isinstance(f, str) else None for f in part["file"].tolist()] if has_file else [None] * len(texts)
    numbers = ([int(n) if n == n and n is not None else 0 for n in part["line_number"].tolist()] if has_number
               else [0] * len(texts))
    staged.add_texts(validator, texts, files, numbers)
    return _frame(staged.take(), _STAGED_TYPES)


def read_events(program: Program, paths: Sequence[str], *, csv_delimiter: str = ",",
                input_format: str | None = None) -> dd.DataFrame:
    """Event files (JSON Lines or CSV; directories are read whole, in name order) as staged
    lines, one partition a file, read on the workers by ``rewardlang.inputs`` with the line
    numbers and reasons of the embedded run (so every worker must see the paths)."""
    require_dask()
    import dask.dataframe as dd

    files = _readable(expand(paths), input_format)
    if not files:
        raise DaskInputError("no event files found in " + ", ".join(paths))
    for name in files:  # what can be seen up front is reported now, not as a task's traceback
        try:
            open_events(name, csv_delimiter=csv_delimiter, fmt=input_format).close()
        except InputError as exc:
            raise DaskInputError(str(exc)) from None
    with _settings():
        return dd.from_map(_read_file, list(enumerate(files)), args=[pickle.dumps(program), csv_delimiter,
                                                                     input_format],
                           meta=_meta(_STAGED_TYPES), label="rewardlang-read")


def _read_file(item: tuple[int, str], blob: bytes, delimiter: str, fmt: str | None) -> pd.DataFrame:
    import pandas as pd

    file_no, path = item
    validator = worker(blob)[1]
    staged = Staged()
    frames = [_frame(columns, _STAGED_TYPES) for columns in staged.read(validator, file_no, path,
                                                                          csv_delimiter=delimiter, fmt=fmt,
                                                                          every=STAGE_ROWS)]
    frames.append(_frame(staged.take(), _STAGED_TYPES))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _readable(files: Sequence[str], input_format: str | None) -> list[str]:
    for name in files:
        if is_url(name):
            raise DaskInputError(f"{name}: the Dask engine reads local or shared paths, not URLs; read the lines "
                                 "with dask (dask.bag.read_text) and call rewardlang.dask_engine.apply "
                                 "(docs/scale.md)")
        if input_format == "parquet" or name.lower().endswith((".parquet", ".parq")):
            raise DaskInputError(f"{name}: Parquet is read by the Spark engine only; give JSON Lines or CSV to "
                                 "the Dask engine")
    return list(files)


def read_state(path: str) -> dd.DataFrame:
    """A state written by a previous run's ``--new-state`` (``state_lines``): a JSON Lines file of
    ``CustomerState`` objects, one a line, each naming its customer (a Spark run's ``.jsonl``
    state is the same file). Split by blocks of lines, so a large state is read in parallel."""
    require_dask()
    import dask.bag as db

    _check_state(path)
    with _settings():
        lines = db.read_text(path, blocksize=PARTITION_BYTES, encoding="utf-8", linedelimiter="\n")
        return lines.map_partitions(_state_rows, path).to_dataframe(meta=_meta({"customer": "object",
                                                                                 "state": "object"}))


def _state_rows(lines: Sequence[str], path: str) -> list[dict[str, str]]:
    import json

    rows = []
    for line in lines:
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            customer = json.loads(text)["customer"]
        except (ValueError, KeyError, TypeError):
            customer = None
        if not isinstance(customer, str):
            raise DaskInputError(f"--state {path}: holds a line that is not a customer's state ({text[:40]}...); "
                                 "give the --new-state of a previous run")
        rows.append({"customer": customer, "state": text})
    return rows


def _check_state(path: str) -> None:
    if is_url(path):
        raise DaskInputError(f"--state {path}: the Dask engine reads local or shared paths, not URLs")
    if not os.path.exists(path):
        raise DaskInputError(f"{path}: no such state: check the path, or leave --state out for a first run")
    if os.path.isdir(path):
        raise DaskInputError(f"--state {path}: is a directory, and a Dask state is one JSON Lines file; give the "
                             "--new-state of a previous Dask run (or a Spark run's .jsonl state)")
    if is_sqlite(path):
        raise DaskInputError(f"--state {path}: is the SQLite state file of the embedded engine, which the Dask "
                             "engine does not read; give the state a Dask run wrote (--new-state)")


# ================================================================================ the command

@attrs.frozen
class DaskRunRequest:
    """What ``rewardlang run --engine dask`` was asked to do."""

    ruleset: str
    inputs: tuple[str, ...]
    scheduler: str = DEFAULT_SCHEDULER  # threads | processes | synchronous | a scheduler's address
    ledger: str | None = None  # None: standard output; else one JSON Lines file, whatever its name
    rejected: str | None = None  # a JSON Lines file
    state: str | None = None  # a previous run's state (JSON Lines), if any
    new_state: str | None = None  # where this run's state goes (JSON Lines)
    until: dt.datetime | None = None
    buckets: int = DEFAULT_BUCKETS
    csv_delimiter: str = ","
    input_format: str | None = None  # jsonl | csv; None: by each file's name


def check_paths(request: DaskRunRequest) -> None:
    """Raise ``RunInputError`` for what can be seen wrong in a request's paths before the run: a
    missing input or state, Parquet or a URL, an output that is an input or another output."""
    _readable(expand(request.inputs), request.input_format)
    if request.state is not None:
        _check_state(request.state)
    outputs = [(option, path, False) for option, path in (("--ledger", request.ledger), ("--rejected", request.rejected),
                                                          ("--new-state", request.new_state)) if path is not None]
    for option, path, _ in outputs:
        if is_url(path):
            raise DaskInputError(f"{option} {path}: the Dask engine writes local or shared paths, not URLs")
    read = [(name, name) for name in request.inputs] + ([("--state", request.state)] if request.state else [])
    check_outputs(outputs, read)


def run_dask(request: DaskRunRequest, program: Program, *, out: Any = None) -> dict[str, Any]:
    """A whole run on Dask: read, apply, write. Returns the counts. Raises ``DaskUnavailable``
    or ``RunInputError`` (one line each) for what the user must fix."""
    require_dask()
    check_paths(request)
    with _scheduler(request.scheduler) as scheduler:
        files = expand(request.inputs)
        events = read_events(program, files, csv_delimiter=request.csv_delimiter, input_format=request.input_format)
        prior = read_state(request.state) if request.state else None
        size = sum(os.path.getsize(name) for name in files)
        tasks = max(events.npartitions, _cores(scheduler), -(-size // PARTITION_BYTES))
        result = apply(program, events, prior, buckets=request.buckets, until=request.until, partitions=tasks,
                       scheduler=scheduler)
        write_lines(request.ledger, result.ledger_lines(), out or sys.stdout)
        if request.rejected is not None:
            write_lines(request.rejected, result.rejected_lines(), None)
        if request.new_state is not None:
            write_lines(request.new_state, result.state_lines(), None)
        return result.counts()


@contextlib.contextmanager
def _scheduler(name: str) -> Iterator[Any]:
    """A local scheduler's name as it is; an address: a ``distributed.Client`` to it, closed after."""
    if name in SCHEDULERS:
        yield name
        return
    if ":" not in name:  # not host:port nor scheme://...: a mistyped name, not an address
        raise DaskInputError(f"--scheduler {name}: name threads, processes or synchronous, or the address of a "
                             "distributed scheduler (tcp://host:8786)")
    try:
        from dask.distributed import Client
    except ImportError:
        raise DaskUnavailable(f"--scheduler {name}: a scheduler's address needs dask.distributed: {INSTALL}") from None
    try:
        client = Client(name, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise DaskInputError(f"--scheduler {name}: no Dask scheduler could be reached there ({exc}); start one "
                             "(dask scheduler), or name threads, processes or synchronous") from None
    try:
        yield client
    finally:
        client.close()


def _cores(scheduler: Any) -> int:
    if hasattr(scheduler, "nthreads"):  # a distributed.Client: its workers' threads
        return max(1, sum(scheduler.nthreads().values()))
    return os.cpu_count() or 1


def command(request: DaskRunRequest, program: Program, *, strict: bool = False,
            say: Callable[[str], None] | None = None) -> int:
    """The command line's side of a Dask run (``run --engine dask``): the ledger to stdout unless
    a file is named, the summary or a one-line error on stderr, and the exit code (0; 1 with
    ``strict`` when a line was rejected; 2 when the run cannot be done)."""
    return run_command(lambda out: run_dask(request, program, out=out), to_stdout=request.ledger is None,
                       strict=strict, say=say, expected=(DaskUnavailable,), failed=_job_failed)


def _job_failed(exc: Exception) -> str | None:
    """A failed task as one line: a file that could not be read in mid-run, a distributed worker
    lost; None (raised, with its traceback) for anything else, which would be a bug."""
    if os.environ.get("REWARDLANG_DEBUG"):
        return None
    if isinstance(exc, InputError):
        return str(exc)
    if type(exc).__module__.startswith(("distributed", "dask")):
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        return f"the Dask job failed: {first} (REWARDLANG_DEBUG=1 shows the whole error)"
    return None
