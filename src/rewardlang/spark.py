"""The same rules on Apache Spark: one kernel, byte-identical to the embedded run (docs/scale.md).

Why it is built this way (issue 8):

- **One kernel.** Every customer's lines go through ``engine.apply_customer`` — the function
  ``Engine.run`` and the ``run`` command's runner call — over ``kernel.Kernel``, so there is no
  second implementation of LANGUAGE.md §4 to drift. Spark only moves lines to the process that
  holds their customer.
- **No reliance on Spark's order.** No engine keeps row order within a key, so each customer's
  lines are sorted here (by file, line number, text: the input's own order, for the index that
  decides which of several identical lines is "the" applied one), and ``apply_customer`` orders
  them by ``(time, id)`` with an input-independent tie-break. Effects are sorted canonically per
  customer and numbered (``n``); the ledger is ``ORDER BY customer, n``, and Spark compares
  strings as UTF-8 bytes, which is code-point order, the order §5 asks for.
- **Bucketed grouped map.** Customers are hashed into ``buckets`` groups
  (``pmod(xxhash64(customer), buckets)``) and each group is one ``applyInPandas`` call: measured
  5-18× faster than one call per customer. Prior state is joined by ``cogroup`` on the bucket.
- **Money stays exact.** Lines travel as their JSON text (a CSV row as the JSON of its cells),
  are read on the executors with the reader the embedded run uses (``rewardlang.inputs``), and
  numbers become ``Decimal``. A wide DataFrame is turned into JSON text with ``to_json``; float
  and double columns are refused (a double cannot hold 0.10 exactly).
- **Lazy pyspark.** ``import rewardlang`` never imports pyspark; a missing pyspark or Java is a
  ``SparkUnavailable`` with the command that fixes it.
- **Shared with Dask.** What runs on the executors — staging lines by customer, the kernel over a
  bucket — is ``rewardlang.buckets``, and the driver's files, path checks and summary are
  ``rewardlang.drivers``: ``rewardlang.dask_engine`` calls the same code, so the two engines
  cannot drift apart. What is here is Spark's: sessions, the frames, the shuffle, Parquet.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from rewardlang.buckets import (STAGED, RunInputError, Staged, apply_bucket, rejected_line, total_counts,
                                until_text, worker)
from rewardlang.drivers import check_outputs, expand, is_jsonl, is_sqlite, is_url, write_lines
from rewardlang.drivers import summary  # noqa: F401 - rs.summary(counts), for the API's users
from rewardlang.drivers import command as run_command
from rewardlang.inputs import InputError, open_events
from rewardlang.program import Program

if TYPE_CHECKING:  # pyspark is an optional extra: imported only where it is used
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_BUCKETS = 2048
INSTALL = "pip install 'rewardlang[spark]'"

# buckets.STAGED and buckets.OUT as Spark types: lines as the executors stage them, and what the
# kernel stage gives back, one frame for all of it (a grouped map returns one frame).
STAGED_SCHEMA = ("customer string, file_no int, file string, line_number long, text string, payload string, "
                 "problem string, code string")
OUT_SCHEMA = ("record string, customer string, n long, text string, file_no int, file string, line_number long, "
              "reason string, code string")
STATE_SCHEMA = "customer string, state string"

ARROW_BATCH = 10_000  # staged lines per Arrow batch
LEDGER_PARTITION_LINES = 200_000  # ledger lines a partition when the driver writes them in order


class SparkUnavailable(Exception):
    """PySpark or Java is missing; the message says how to get them."""


class SparkInputError(RunInputError):
    """An input of a Spark run cannot be used (a missing file, a bad DataFrame); one line. The
    checks shared with the Dask engine (``rewardlang.drivers``) raise the base class."""


# ================================================================================ sessions

def require_pyspark() -> None:
    """Raise ``SparkUnavailable`` unless pyspark (with pandas and pyarrow) can be imported."""
    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailable(f"running on Spark needs PySpark, pandas and pyarrow ({exc.name} is missing): "
                               f"{INSTALL}") from None


def java_problem() -> str | None:
    """Why Spark cannot start here (no Java), or None."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return None
    if shutil.which("java"):
        return None
    return ("Spark needs Java 17 and none was found (no JAVA_HOME, no java on PATH): install it, e.g. "
            "apt-get install -y openjdk-17-jre-headless")


def local_driver_memory() -> str:
    """A local master's heap, which holds the executors too: half the machine's memory, between
    1 and 16 GB (a ceiling, not taken up front: 4 GB ran out on 10M events on 2 cores)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: Spark's own default
        return "1g"
    return f"{max(1, min(16, total // 2 // 2**30))}g"


def session(master: str | None = "local[*]", app: str = "rewardlang",
            conf: dict[str, str] | None = None) -> SparkSession:
    """A SparkSession set up for rewardlang: UTC session time zone (so ``to_json`` of timestamps
    does not depend on the machine), Arrow on, and, on a local master, the workers running this
    very Python (the one rewardlang is installed in). ``master`` None: the master (and the name)
    that ``spark-submit`` or ``spark-defaults.conf`` gives."""
    require_pyspark()
    problem = java_problem()
    if problem is not None:
        raise SparkUnavailable(problem)
    if master is not None and master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    if master is not None:
        builder = builder.master(master).appName(app)
    builder = (builder.config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    if (master is not None and master.startswith("local") and "spark.driver.memory" not in (conf or {})
            and "--driver-memory" not in os.environ.get("PYSPARK_SUBMIT_ARGS", "")):
        # Spark's default of 1 GB is too small for a local run of a million events (the executors
        # live in the driver's JVM); set before the JVM starts, so it takes effect
        builder = builder.config("spark.driver.memory", local_driver_memory())
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def under_spark_submit() -> bool:
    """Whether this Python was started by ``spark-submit`` (or the ``pyspark`` shell), which then
    owns the master: its JVM is already up and tells this process where to find it."""
    return bool(os.environ.get("PYSPARK_GATEWAY_PORT"))


# ================================================================================ the result

@attrs.frozen
class SparkRun:
    """What ``apply`` made, as lazy DataFrames over one persisted frame (unpersist with
    ``release()`` when done):

    - ``ledger``: ``customer``, ``n`` (the line's place in the customer's ledger), ``line`` (the
      ledger line, exactly as the embedded run writes it); ``ledger_lines()`` in ledger order.
    - ``state``: ``customer``, ``state`` (``CustomerState.to_dict`` as JSON) for every customer
      that has one: the input for the next run's ``state``.
    - ``rejected``: ``file``, ``line_number``, ``line``, ``reason``, ``code``.
    """

    ledger: DataFrame
    state: DataFrame
    rejected: DataFrame
    out: DataFrame

    def __iter__(self) -> Iterator[DataFrame]:  # ledger, state, rejected = apply(...)
        return iter((self.ledger, self.state, self.rejected))

    def ledger_lines(self) -> Iterator[str]:
        """The ledger in §5's order, one partition at a time (never the whole ledger in the driver).

        Ranges of customers, each sorted: range partitioning puts partition i's customers before
        partition i+1's, and ``toLocalIterator`` yields partitions in order. ``toLocalIterator``
        brings a whole partition into the driver's JVM (two, fetching ahead), so partitions are
        kept to about ``LEDGER_PARTITION_LINES`` lines: with one per core, a 1M-event ledger
        (2.9M lines) ran out of a local driver's default 1 GB heap."""
        parallelism = self.ledger.sparkSession.sparkContext.defaultParallelism
        lines = self.ledger.count()  # over the persisted frame: cheap
        partitions = max(1, parallelism, -(-lines // LEDGER_PARTITION_LINES))
        ordered = (self.ledger.repartitionByRange(partitions, "customer")
                   .sortWithinPartitions("customer", "n").select("line"))
        for row in ordered.toLocalIterator(prefetchPartitions=True):
            yield row[0]

    def rejected_lines(self) -> Iterator[str]:
        """The rejected file's lines, sorted by file and line number as the embedded run sorts them."""
        ordered = self.rejected.coalesce(1).sortWithinPartitions("file", "line_number", "file_no", "line")
        for file, number, line, reason in ordered.select("file", "line_number", "line", "reason").toLocalIterator():
            yield rejected_line(file, number, line, reason)

    def counts(self) -> dict[str, Any]:
        """The run's figures, as the embedded run counts them: read, applied, duplicates, rejected
        (with ``rejected_by`` code) and customers (those that had lines)."""
        groups = (text for (text,) in self.out.where("record = 'counts'").select("text").collect())
        early = self.out.where("record = 'rejected' AND customer IS NULL").groupBy("code").count().collect()
        return total_counts(groups, ((code, n) for code, n in early))

    def release(self) -> None:
        self.out.unpersist()


# ================================================================================ the API

def _partitions(spark: SparkSession, buckets: int) -> int:
    """Tasks of the kernel stage: Spark's shuffle partitions, never more than the buckets (a task
    with no bucket is waste) and at least the cores (so that every core has work)."""
    shuffle = int(spark.conf.get("spark.sql.shuffle.partitions", "200") or 200)
    cores = spark.sparkContext.defaultParallelism
    return max(1, min(buckets, max(shuffle, cores)))


def apply(spark: SparkSession, program: Program, events: DataFrame, state: DataFrame | None = None, *,
          buckets: int = DEFAULT_BUCKETS, until: dt.datetime | str | None = None) -> SparkRun:
    """Apply ``program`` to ``events`` on Spark: the same ledger, state and rejections, byte for
    byte, as ``rewardlang run`` (or ``Engine.run`` then ``Engine.advance(until)``) on one machine.

    ``events`` is one of:

    - a DataFrame with a string column ``event``: the JSON text of one event a row (a JSON Lines
      line), and optionally ``file`` (string) and ``line_number`` (integer) for the rejected
      output and to decide which of several identical lines counts as the applied one;
    - a "wide" DataFrame whose columns are the events' keys (``id``, ``type``, ``customer``,
      ``time``, fields...): each row becomes ``to_json`` of its non-null columns (a null is an
      absent key, as an empty CSV cell is). Money as string or decimal columns; float and double
      columns are refused;
    - the output of ``read_events`` (already staged).

    ``state`` is a previous run's ``SparkRun.state`` (``customer``, ``state``); ``until`` fires what
    is due by then for every customer with a state, in the input or not (``--until``).
    ``buckets``: how many groups customers are hashed into (docs/scale.md: choosing it).
    """
    require_pyspark()
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1:
        raise ValueError(f"buckets must be a whole number of at least 1, not {buckets!r}")
    until_at = until_text(until)
    blob = pickle.dumps(program)
    staged = events if _is_staged(events) else stage_frame(events, program)
    bucket = F.pmod(F.xxhash64("customer"), F.lit(buckets))
    # an explicit exchange by bucket: groupBy alone is satisfied by an input in one partition
    # (one input file is one reading task), and then every bucket ran in that one task, on one core
    lines = (staged.where(F.col("customer").isNotNull())
             .select("customer", "file_no", "file", "line_number", "text", "payload")
             .withColumn("bucket", bucket)
             .repartition(_partitions(spark, buckets), "bucket"))
    if state is None:
        applied = lines.groupBy("bucket").applyInPandas(_lines_only(blob, until_at), OUT_SCHEMA)
    else:
        prior = state.select("customer", "state").withColumn("bucket", bucket)
        applied = (lines.groupBy("bucket").cogroup(prior.groupBy("bucket"))
                   .applyInPandas(_with_state(blob, until_at), OUT_SCHEMA))
    early = staged.where(F.col("customer").isNull()).select(
        F.lit("rejected").alias("record"), F.lit(None).cast("string").alias("customer"),
        F.lit(0).cast("long").alias("n"), "text", "file_no", "file", "line_number",
        F.col("problem").alias("reason"), "code")
    out = applied.unionByName(early).persist(StorageLevel.MEMORY_AND_DISK)
    number = F.when(F.col("line_number") > 0, F.col("line_number")).otherwise(F.lit(None).cast("long"))
    return SparkRun(
        ledger=out.where("record = 'effect'").select("customer", "n", F.col("text").alias("line")),
        state=out.where("record = 'state'").select("customer", F.col("text").alias("state")),
        rejected=out.where("record = 'rejected'").select("file", number.alias("line_number"),
                                                         F.col("text").alias("line"), "reason", "code", "file_no"),
        out=out,
    )


def _is_staged(frame: DataFrame) -> bool:
    return tuple(frame.columns) == STAGED


# ================================================================================ reading

def stage_frame(events: DataFrame, program: Program) -> DataFrame:
    """A DataFrame of events (an ``event`` text column, or wide) as staged lines."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    fields = {f.name: f.dataType for f in events.schema.fields}
    if "event" in fields:
        if not isinstance(fields["event"], T.StringType):
            raise SparkInputError("the events' `event` column must hold JSON text (a string column)")
        file = F.col("file").cast("string") if "file" in fields else F.lit(None).cast("string")
        number = F.col("line_number").cast("long") if "line_number" in fields else F.lit(0).cast("long")
        rows = events.select(F.col("event").alias("text"), file.alias("file"),
                             F.coalesce(number, F.lit(0).cast("long")).alias("line_number"))
    else:
        missing = [key for key in ("id", "type", "customer", "time") if key not in fields]
        if missing:
            raise SparkInputError(f"the events have no `event` column and no column{'s' if len(missing) > 1 else ''} "
                                  f"{', '.join(missing)}: give the JSON text of each event as `event`, or one "
                                  "column per key")
        inexact = [name for name, kind in fields.items() if isinstance(kind, (T.FloatType, T.DoubleType))]
        if inexact:
            raise SparkInputError(f"column{'s' if len(inexact) > 1 else ''} {', '.join(inexact)} "
                                  "hold floating-point numbers, which cannot carry money exactly: cast to a "
                                  "decimal or a string")
        rows = events.select(F.to_json(F.struct(*[F.col(f"`{n}`") for n in events.columns])).alias("text"),
                             F.input_file_name().alias("file"), F.lit(0).cast("long").alias("line_number"))
        rows = rows.withColumn("file", F.when(F.col("file") == "", None).otherwise(F.col("file")))
    return rows.mapInArrow(_stage_texts(pickle.dumps(program)), STAGED_SCHEMA)


def read_events(spark: SparkSession, program: Program, paths: Sequence[str], *, csv_delimiter: str = ",",
                input_format: str | None = None) -> DataFrame:
    """Event files (JSON Lines, CSV, Parquet; directories are read whole, in name order) as staged
    lines. JSON Lines and CSV are read on the executors by ``rewardlang.inputs`` (one task a
    file, so every executor must see the paths: local mode, a shared file system or a mounted
    bucket), with the line numbers and reasons of the embedded run; Parquet by Spark."""
    files = expand(paths)
    if not files:
        raise SparkInputError("no event files found in " + ", ".join(paths))
    texts = [(n, name) for n, name in enumerate(files) if _format(name, input_format) != "parquet"]
    parquet = [name for name in files if _format(name, input_format) == "parquet"]
    _readable(files, input_format)
    for _, name in texts:  # what can be seen up front is reported now, not as a task's traceback
        try:
            open_events(name, csv_delimiter=csv_delimiter, fmt=input_format).close()
        except InputError as exc:
            raise SparkInputError(str(exc)) from None
    frames: list[DataFrame] = []
    if texts:
        listing = spark.createDataFrame(texts, "file_no int, path string").repartition(len(texts), "file_no")
        frames.append(listing.mapInArrow(_read_files(pickle.dumps(program), csv_delimiter, input_format),
                                         STAGED_SCHEMA))
    if parquet:
        frames.append(stage_frame(spark.read.parquet(*parquet), program))
    staged = frames[0]
    for frame in frames[1:]:
        staged = staged.unionByName(frame)
    return staged


def _readable(files: Sequence[str], input_format: str | None) -> None:
    for name in files:
        if is_url(name) and _format(name, input_format) != "parquet":
            raise SparkInputError(f"{name}: JSON Lines and CSV are read by rewardlang's own reader, from a local or "
                                  "shared file system; for a URL, give Parquet (--format parquet), or read the "
                                  "lines with Spark and call rewardlang.spark.apply (docs/scale.md)")


def _format(name: str, given: str | None) -> str:
    if given is not None:
        return given
    return "parquet" if name.lower().endswith((".parquet", ".parq")) else "text"


# ---------------------------------------------------------------------------- on the executors

def _arrow(columns: dict[str, list[Any]]) -> pa.RecordBatch:
    """Staged columns (``buckets.Staged.take``) as an Arrow batch of ``STAGED_SCHEMA``."""
    import pyarrow as pa

    schema = pa.schema([("customer", pa.string()), ("file_no", pa.int32()), ("file", pa.string()),
                        ("line_number", pa.int64()), ("text", pa.string()), ("payload", pa.string()),
                        ("problem", pa.string()), ("code", pa.string())])  # STAGED_SCHEMA
    return pa.RecordBatch.from_pydict(columns, schema=schema)


def _read_files(blob: bytes, delimiter: str, fmt: str | None) -> Callable[[Iterator[pa.RecordBatch]],
                                                                       Iterator[pa.RecordBatch]]:
    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        validator = worker(blob)[1]
        staged = Staged()
        for batch in batches:
            for file_no, path in zip(batch.column("file_no").to_pylist(), batch.column("path").to_pylist()):
                for columns in staged.read(validator, file_no, path, csv_delimiter=delimiter,
                                           fmt=None if fmt == "text" else fmt, every=ARROW_BATCH):
                    yield _arrow(columns)
        if len(staged):
            yield _arrow(staged.take())
    return read


def _stage_texts(blob: bytes) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """Rows of JSON text read as JSON Lines lines are (``buckets.Staged.add_texts``), a batch of
    rows at a time."""
    def stage(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        validator = worker(blob)[1]
        staged = Staged()
        for batch in batches:
            staged.add_texts(validator, batch.column("text").to_pylist(), batch.column("file").to_pylist(),
                             batch.column("line_number").to_pylist())
            if len(staged) >= ARROW_BATCH:
                yield _arrow(staged.take())
        if len(staged):
            yield _arrow(staged.take())
    return stage


# ---------------------------------------------------------------------------- the kernel stage

def _lines_only(blob: bytes, until: str | None) -> Callable[[Any, pd.DataFrame], pd.DataFrame]:
    def run(key: Any, lines: pd.DataFrame) -> pd.DataFrame:
        return apply_bucket(blob, until, lines, {})
    return run


def _with_state(blob: bytes, until: str | None) -> Callable[[Any, pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    def run(key: Any, lines: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
        saved = {} if states.empty else dict(zip(states["customer"], states["state"]))
        return apply_bucket(blob, until, lines, saved)
    return run


# ================================================================================ the command

@attrs.frozen
class SparkRunRequest:
    """What ``rewardlang spark-run`` (and ``run --engine spark``) was asked to do."""

    ruleset: str
    inputs: tuple[str, ...]
    master: str = "local[*]"
    ledger: str | None = None  # None: standard output; *.jsonl/*.json: one file; else a Parquet directory
    rejected: str | None = None  # a JSON Lines file
    state: str | None = None  # a previous run's state (Parquet directory or JSON Lines), if any
    new_state: str | None = None  # where this run's state goes (Parquet directory or JSON Lines)
    until: dt.datetime | None = None
    buckets: int = DEFAULT_BUCKETS
    csv_delimiter: str = ","
    input_format: str | None = None  # jsonl | csv | parquet; None: by each file's name


def run_spark(request: SparkRunRequest, program: Program, *, out: Any = None,
              spark: SparkSession | None = None) -> dict[str, Any]:
    """A whole run on Spark: read, apply, write. Returns the counts. Raises ``SparkUnavailable``
    or ``SparkInputError`` (one line each) for what the user must fix."""
    require_pyspark()
    from pyspark.sql import SparkSession

    check_paths(request)  # a missing input, a bad output is said before a JVM is started for nothing
    spark = spark or SparkSession.getActiveSession()  # spark-submit's, or an embedding job's: not ours to stop
    own = spark is None
    if spark is None:  # under spark-submit, its --master and --conf; else the request's master
        if under_spark_submit():
            spark = session(None, conf={"spark.ui.showConsoleProgress": "false"})
        else:
            spark = _quiet_session(request.master)
        spark.sparkContext.setLogLevel("ERROR")
    try:
        events = read_events(spark, program, request.inputs, csv_delimiter=request.csv_delimiter,
                             input_format=request.input_format)
        prior = read_state(spark, request.state) if request.state else None
        result = apply(spark, program, events, prior, buckets=request.buckets, until=request.until)
        try:
            if request.ledger is None or is_jsonl(request.ledger):
                write_lines(request.ledger, result.ledger_lines(), out or sys.stdout)
            else:
                result.ledger.orderBy("customer", "n").write.mode("overwrite").parquet(request.ledger)
            if request.rejected is not None:
                write_lines(request.rejected, result.rejected_lines(), None)
            if request.new_state is not None:
                write_state(result.state, request.new_state)
            return result.counts()
        finally:
            result.release()
    finally:
        if own:
            spark.stop()


# Files a Spark job leaves in an output directory; a directory holding anything else is not
# overwritten (``--ledger DIR`` naming a folder of events or of other work must not empty it).
_SPARK_OUTPUT = ("part-", "_SUCCESS", "_committed", "_started", ".part-", "._SUCCESS")


def check_paths(request: SparkRunRequest) -> None:
    """Raise ``SparkInputError`` for what can be seen wrong in a request's paths before a session
    starts: a missing input or state, the SQLite state of the embedded engine given as --state,
    an output that is a directory of other data, a missing parent directory, an output that is
    also an input."""
    _readable(expand(request.inputs), request.input_format)
    if request.state is not None:
        _check_state(request.state)
    outputs = [("--ledger", request.ledger, request.ledger is not None and not is_jsonl(request.ledger)),
               ("--rejected", request.rejected, False),
               ("--new-state", request.new_state, request.new_state is not None and not is_jsonl(request.new_state))]
    for option, path, parquet in outputs:
        if path is not None and is_url(path) and not parquet:
            raise SparkInputError(f"{option} {path}: a JSON Lines output is written by the driver, to a local or "
                                  "shared file system, not to a URL"
                                  + ("" if option == "--rejected" else "; for a URL, write Parquet (a name not "
                                     "ending in .jsonl)"))
    local = [(option, path, parquet) for option, path, parquet in outputs if path is not None and not is_url(path)]
    read = [(name, name) for name in request.inputs] + ([("--state", request.state)] if request.state else [])
    check_outputs(local, read)
    for option, path, parquet in local:
        if parquet and os.path.isfile(path):
            raise SparkInputError(f"{option} {path}: is a file, and this name means a Parquet directory; name a "
                                  "new directory, or a .jsonl file for JSON Lines")
        if parquet and os.path.isdir(path):
            others = sorted(n for n in os.listdir(path) if not n.startswith(_SPARK_OUTPUT) and not n.endswith(".crc"))
            if others:
                raise SparkInputError(f"{option} {path}: a directory that holds other files ({others[0]}...), "
                                      "which writing a Parquet output here would delete; name a new directory")


def _check_state(path: str) -> None:
    if is_url(path):
        return
    if not os.path.exists(path):
        raise SparkInputError(f"{path}: no such state: check the path, or leave --state out for a first run")
    if os.path.isfile(path) and not is_jsonl(path):
        if is_sqlite(path):
            raise SparkInputError(f"--state {path}: is the SQLite state file of the embedded engine, which the "
                                  "Spark engine does not read; give the state a Spark run wrote (--new-state: a "
                                  "Parquet directory or a .jsonl file)")
        raise SparkInputError(f"--state {path}: is a file, and a Spark state is a Parquet directory or a .jsonl "
                              "file; give the --new-state of a previous Spark run")


# The JVM's log for a command-line run: errors only, on standard error (Spark's default prints
# its log level, a native-library warning and more before a word of ours). The gateway's logger
# at the root's level keeps PySpark's driver from announcing "Setting default log level".
_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
"""


def _quiet_session(master: str) -> SparkSession:
    """``session(master)`` for the command: a JVM that logs errors only — unless the user chose a
    log configuration (``SPARK_CONF_DIR``, ``SPARK_SUBMIT_OPTS``, ``LOG4J_CONFIGURATION_FILE``)
    or ``REWARDLANG_DEBUG`` is set. Given through the environment of the JVM that PySpark starts
    (log4j2 reads ``LOG4J_CONFIGURATION_FILE``), so that no ``spark.driver.extraJavaOptions`` of
    the user's is replaced."""
    import tempfile

    conf = {"spark.ui.showConsoleProgress": "false"}
    chosen = ("SPARK_CONF_DIR", "SPARK_SUBMIT_OPTS", "LOG4J_CONFIGURATION_FILE", "REWARDLANG_DEBUG")
    if any(os.environ.get(name) for name in chosen):
        return session(master, "rewardlang run", conf)
    fd, path = tempfile.mkstemp(prefix="rewardlang-log4j2-", suffix=".properties")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(_LOG4J2)
        os.environ["LOG4J_CONFIGURATION_FILE"] = path
        return session(master, "rewardlang run", conf)
    finally:  # read once, when the JVM started
        os.environ.pop("LOG4J_CONFIGURATION_FILE", None)
        os.unlink(path)


def read_state(spark: SparkSession, path: str) -> DataFrame:
    """A state written by ``write_state``: a Parquet directory (``customer``, ``state``) or a JSON
    Lines file of state objects (each names its customer)."""
    from pyspark.sql import functions as F

    _check_state(path)
    if is_jsonl(path):
        text = spark.read.text(path)
        return text.select(F.get_json_object("value", "$.customer").alias("customer"), F.col("value").alias("state"))
    frame = spark.read.parquet(path)
    if not {"customer", "state"} <= set(frame.columns):
        raise SparkInputError(f"--state {path}: not the state of a Spark run (its columns are "
                              f"{', '.join(frame.columns)}; a state has customer, state): give the --new-state "
                              "of a previous run")
    return frame.select("customer", "state")


def write_state(state: DataFrame, path: str) -> None:
    """Parquet (a directory) unless the name ends in .jsonl/.json: then one JSON Lines file, a
    customer a line in customer order."""
    if is_jsonl(path):
        write_lines(path, (row[0] for row in state.orderBy("customer").select("state").toLocalIterator()), None)
    else:
        state.write.mode("overwrite").parquet(path)


def command(request: SparkRunRequest, program: Program, *, strict: bool = False,
            say: Callable[[str], None] | None = None) -> int:
    """The command line's side of a Spark run (``rewardlang spark-run``, ``run --engine spark``):
    the ledger to stdout unless a file is named, the summary or a one-line error on stderr, and
    the exit code (0; 1 with ``strict`` when a line was rejected; 2 when the run cannot be done)."""
    return run_command(lambda out: run_spark(request, program, out=out), to_stdout=request.ledger is None,
                       strict=strict, say=say, expected=(SparkUnavailable,), failed=_job_failed)


def _job_failed(exc: Exception) -> str | None:
    """A failed Spark job as one line (the JVM's stack only with REWARDLANG_DEBUG); None: not Spark's."""
    if not type(exc).__module__.startswith(("py4j", "pyspark")) or os.environ.get("REWARDLANG_DEBUG"):
        return None
    first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    return f"the Spark job failed: {first} (REWARDLANG_DEBUG=1 shows the whole error)"
