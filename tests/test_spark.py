"""The Spark engine (``rewardlang.spark``) against the embedded run: byte for byte (issue 8).

Every test compares the ledger of ``rewardlang.spark.apply`` on ``local[2]`` with
``Engine(program).run(events)`` (then ``advance``) on the same input, serialised the same way
(``Effect.to_json``, canonical order), together with the counts and the rejected lines. The
inputs vary what Spark could get wrong: bucket counts (1, a few, the default 2048), the number of
input files, the order of the lines, Spark's partitioning of the rows, CSV against JSON Lines,
and state carried from one night to the next (in other buckets). The command, ``rewardlang run
--engine spark`` (and ``spark-run``), is compared with ``rewardlang run`` file for file, with
Parquet in and out, and its usage errors are checked (those need no Spark session).

Skipped, with the reason, when pyspark (``pip install -e '.[dev,spark]'``) or Java 17 is missing.
One SparkSession for the module; the streams are small (hundreds to a few thousand events), so
the file runs in well under three minutes on two cores.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install -e '.[dev,spark]'")
pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install -e '.[dev,spark]'")
pytest.importorskip("pandas", reason="pandas is not installed: pip install -e '.[dev,spark]'")

from rewardlang import spark as rs  # noqa: E402

if rs.java_problem() is not None:
    pytest.skip(f"no Java for Spark: {rs.java_problem()}", allow_module_level=True)

import rewardlang  # noqa: E402
from rewardlang.generate import benchmark_events, generate_stream  # noqa: E402
from rewardlang.localtime import parse_instant  # noqa: E402
from tests.engine_parity import (  # noqa: E402
    CUT, ROOT, RULESETS, UNTIL, cli, csv_stream, embedded, input_folder, noisy_stream, ruleset_stream,
    same_counts, split, states, summary_of, two_nights, write_jsonl,
)


@pytest.fixture(scope="module")
def spark() -> Any:
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = rs.session("local[2]", "rewardlang-tests", {
        "spark.sql.shuffle.partitions": "4",  # a few hundred events: more partitions only cost time
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": "1g",
    })
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# ---------------------------------------------------------------------------- inputs

def spark_run(spark: Any, program: Any, paths: Sequence[str], *, buckets: int, until: str | None = None,
              state: Any = None) -> tuple[list[str], list[str], dict[str, Any], rs.SparkRun]:
    result = rs.apply(spark, program, rs.read_events(spark, program, paths), state, buckets=buckets, until=until)
    return list(result.ledger_lines()), list(result.rejected_lines()), result.counts(), result


# ---------------------------------------------------------------------------- every ruleset

@pytest.mark.parametrize("ruleset", RULESETS)
def test_every_ruleset_matches_the_embedded_run(spark: Any, tmp_path: Path, ruleset: str) -> None:
    program, path, (want, want_rejected, want_counts) = ruleset_stream(ruleset, tmp_path)
    for buckets, files in ((7, [str(path)]), (2048, split(path, 3, shuffle=1))):
        got, rejected, counts, result = spark_run(spark, program, files, buckets=buckets)
        result.release()
        assert got == want, f"{ruleset}: {buckets} buckets, {len(files)} file(s)"
        same_counts(counts, want_counts)
        if len(files) == 1:
            assert rejected == want_rejected


# ---------------------------------------------------------------------------- bookshop, many layouts

@pytest.fixture(scope="module")
def bookshop() -> Any:
    return rewardlang.load(ROOT / "rulesets" / "bookshop.reward")


@pytest.fixture(scope="module")
def noisy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return noisy_stream(tmp_path_factory.mktemp("noisy"))


@pytest.mark.parametrize(("buckets", "parts", "shuffle"), [(1, 1, None), (16, 3, 5), (2048, 5, 9)])
def test_bookshop_ledger_counts_and_rejections_whatever_the_layout(spark: Any, bookshop: Any, noisy: Path,
                                                                   buckets: int, parts: int,
                                                                   shuffle: int | None) -> None:
    want, want_rejected, want_counts = embedded(bookshop, [str(noisy)])
    files = [str(noisy)] if parts == 1 and shuffle is None else split(noisy, parts, shuffle=shuffle)
    got, rejected, counts, result = spark_run(spark, bookshop, files, buckets=buckets)
    result.release()
    assert got == want
    same_counts(counts, want_counts)
    assert counts["duplicates"] > 0 and counts["rejected"] > 0  # the stream exercises them
    if files == [str(noisy)]:
        assert rejected == want_rejected
    else:  # the same lines, named by the files they are in now
        assert rejected == embedded(bookshop, files)[1]


def test_a_dataframe_of_json_text_in_any_partitioning(spark: Any, bookshop: Any, noisy: Path) -> None:
    want, _, want_counts = embedded(bookshop, [str(noisy)])
    frame = spark.read.text(str(noisy)).withColumnRenamed("value", "event").repartition(7)
    result = rs.apply(spark, bookshop, frame, buckets=5)
    assert list(result.ledger_lines()) == want
    same_counts(result.counts(), want_counts)
    result.release()


def test_a_wide_dataframe_with_money_as_text(spark: Any, bookshop: Any, tmp_path: Path) -> None:
    """One column per key (as Parquet gives them): a null is an absent key, as in CSV."""
    events = [{k: (None if v is None else str(v)) for k, v in e.items()}
              for e in benchmark_events(600, seed=4, problems=False)]
    keys = sorted({k for e in events for k in e})
    frame = spark.createDataFrame([tuple(e.get(k) for k in keys) for e in events],
                                  ", ".join(f"`{k}` string" for k in keys))
    path = write_jsonl(tmp_path / "wide.jsonl", ({k: v for k, v in e.items() if v is not None} for e in events))
    want, _, _ = embedded(bookshop, [str(path)])
    result = rs.apply(spark, bookshop, frame, buckets=3)
    assert list(result.ledger_lines()) == want
    result.release()


def test_a_double_column_is_refused(spark: Any, bookshop: Any) -> None:
    frame = spark.createDataFrame([("e1", "purchase", "c1", "2026-03-01T10:00:00Z", 249.0)],
                                  "id string, type string, customer string, time string, amount double")
    with pytest.raises(rs.SparkInputError, match="cannot carry money exactly"):
        rs.apply(spark, bookshop, frame)


def test_csv_input(spark: Any, bookshop: Any, tmp_path: Path) -> None:
    path = csv_stream(tmp_path / "events.csv")
    want, want_rejected, want_counts = embedded(bookshop, [str(path)])
    got, rejected, counts, result = spark_run(spark, bookshop, [str(path)], buckets=11)
    result.release()
    assert got == want
    assert rejected == want_rejected
    same_counts(counts, want_counts)


# ---------------------------------------------------------------------------- two nights

def test_two_nights_with_state_carried_equal_the_embedded_two_night_run(spark: Any, bookshop: Any,
                                                                        tmp_path: Path) -> None:
    first, second, engine, (want1, counts1), (want2, counts2) = two_nights(bookshop, tmp_path)
    got1, _, got_counts1, night1 = spark_run(spark, bookshop, [str(first)], buckets=16, until=CUT)
    assert got1 == want1
    same_counts(got_counts1, counts1)
    state_path = str(tmp_path / "state.jsonl")  # through a file, as the command carries it
    rs.write_state(night1.state, state_path)
    night1.release()
    state = rs.read_state(spark, state_path)
    got2, _, got_counts2, night2 = spark_run(spark, bookshop, split(second, 2, shuffle=3), buckets=5, state=state)
    assert got2 == want2  # other buckets the second night: the state follows its customers
    same_counts(got_counts2, counts2)
    assert sorted(row[0] for row in night2.state.select("state").collect()) == states(engine)
    night2.release()


# ---------------------------------------------------------------------------- the command's entry point

def test_run_spark_writes_ledger_rejected_and_state(spark: Any, bookshop: Any, noisy: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # small ledger partitions, as a large run has (the driver writes them in order, one at a time)
    monkeypatch.setattr(rs, "LEDGER_PARTITION_LINES", 500)
    want, want_rejected, want_counts = embedded(bookshop, [str(noisy)])
    folder = tmp_path / "in"
    folder.mkdir()
    for name in split(noisy, 2):
        os.replace(name, folder / Path(name).name)
    request = rs.SparkRunRequest(ruleset="bookshop.reward", inputs=(str(folder),), master="local[2]",
                                 ledger=str(tmp_path / "ledger.jsonl"), rejected=str(tmp_path / "rejected.jsonl"),
                                 new_state=str(tmp_path / "state.parquet"), buckets=64)
    counts = rs.run_spark(request, bookshop, spark=spark)
    same_counts(counts, want_counts)
    assert (tmp_path / "ledger.jsonl").read_text(encoding="utf-8") == "".join(line + "\n" for line in want)
    assert len((tmp_path / "rejected.jsonl").read_text(encoding="utf-8").splitlines()) == len(want_rejected)
    assert rs.read_state(spark, str(tmp_path / "state.parquet")).count() == counts["customers"]


def test_missing_pyspark_is_a_sentence_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(rs.SparkUnavailable, match=r"pip install 'rewardlang\[spark\]'"):
        rs.require_pyspark()


# ---------------------------------------------------------------------------- `rewardlang run --engine spark`
# Through click's CliRunner, in this process: the command finds the module's session active and
# uses it (as under spark-submit), so no second JVM is started. Few buckets: the inputs are small.

def parquet_ledger(spark: Any, path: Path) -> str:
    """A Parquet ledger (``customer``, ``n``, ``line``) as the JSON Lines ledger it stands for."""
    rows = spark.read.parquet(str(path)).orderBy("customer", "n").select("line").collect()
    return "".join(row[0] + "\n" for row in rows)


def test_run_engine_spark_is_byte_identical_to_run(spark: Any, noisy: Path, tmp_path: Path) -> None:
    ruleset = str(ROOT / "rulesets" / "bookshop.reward")
    folder = tmp_path / "in"  # a directory of files, as --engine spark reads them
    files = input_folder(noisy, folder)
    embedded_run = cli("run", ruleset, *files, "--ledger", str(tmp_path / "embedded.jsonl"),
                       "--rejected", str(tmp_path / "embedded-rejected.jsonl"), "--until", UNTIL)
    assert embedded_run.exit_code == 0, embedded_run.output
    want = (tmp_path / "embedded.jsonl").read_bytes()
    assert want

    on_spark = cli("run", "--engine", "spark", "--master", "local[2]", "--buckets", "8", ruleset, str(folder),
                   "--rejected", str(tmp_path / "spark-rejected.jsonl"), "--until", UNTIL,
                   "--new-state", str(tmp_path / "state.jsonl"), "--strict")
    assert on_spark.exit_code == 1, on_spark.stderr  # --strict: the stream has rejected lines
    assert on_spark.stdout_bytes == want  # the ledger on standard output, as `run` writes it
    assert (tmp_path / "spark-rejected.jsonl").read_bytes() == (tmp_path / "embedded-rejected.jsonl").read_bytes()
    assert re.search(r"read \d+ lines: \d+ applied, \d+ duplicates, \d+ rejected", on_spark.stderr)
    assert len((tmp_path / "state.jsonl").read_text(encoding="utf-8").splitlines()) > 0

    alias = cli("spark-run", ruleset, *files, "--buckets", "3", "--until", UNTIL,
                "--ledger", str(tmp_path / "alias.jsonl"))
    assert alias.exit_code == 0, alias.stderr
    assert (tmp_path / "alias.jsonl").read_bytes() == want


def write_parquet(events: Sequence[dict[str, Any]], folder: Path, parts: int) -> None:
    """Events as a "wide" Parquet dataset, as a data team lands them: one column per key, money
    as decimal(12, 2), counts as integers, the rest text; a missing key is a null."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from decimal import Decimal

    keys = sorted({k for e in events for k in e})
    kinds = {k: {type(e[k]) for e in events if k in e} for k in keys}
    columns = {}
    for key in keys:
        values = [e.get(key) for e in events]
        if key == "amount":
            columns[key] = pa.array([None if v is None else Decimal(str(v)) for v in values], pa.decimal128(12, 2))
        elif kinds[key] == {int}:
            columns[key] = pa.array(values, pa.int64())
        else:
            columns[key] = pa.array([None if v is None else str(v) for v in values], pa.string())
    table = pa.table(columns)
    folder.mkdir()
    size = -(-len(events) // parts)
    for k in range(parts):
        pq.write_table(table.slice(k * size, size), folder / f"part-{k}.parquet")


def test_parquet_in_parquet_out_and_the_state_carried(spark: Any, tmp_path: Path) -> None:
    """Night 1 from a Parquet dataset to a Parquet ledger and state; night 2 from that state:
    the ledgers are the embedded two-night run's (SQLite state), byte for byte."""
    ruleset = str(ROOT / "rulesets" / "bookshop.reward")
    events = list(generate_stream(customers=60, seed=5, problems=False))
    cut = parse_instant(CUT)
    first = [e for e in events if parse_instant(e["time"]) <= cut]
    second = write_jsonl(tmp_path / "night2.jsonl", (e for e in events if parse_instant(e["time"]) > cut))
    write_jsonl(tmp_path / "night1.jsonl", first)
    write_parquet(first, tmp_path / "night1", parts=3)
    db = str(tmp_path / "loyalty.db")
    for night, until in (("night1", CUT), ("night2", UNTIL)):
        done = cli("run", ruleset, str(tmp_path / f"{night}.jsonl"), "--state", db, "--until", until,
                   "--ledger", str(tmp_path / f"{night}-embedded.jsonl"))
        assert done.exit_code == 0, done.output

    night1 = cli("run", "--engine", "spark", "--buckets", "4", ruleset, str(tmp_path / "night1"),
                 "--format", "parquet", "--until", CUT, "--ledger", str(tmp_path / "ledger1"),
                 "--new-state", str(tmp_path / "state1"))
    assert night1.exit_code == 0, night1.stderr
    assert parquet_ledger(spark, tmp_path / "ledger1") == (tmp_path / "night1-embedded.jsonl").read_text("utf-8")
    night2 = cli("run", "--engine", "spark", "--buckets", "5", ruleset, str(second), "--until", UNTIL,
                 "--state", str(tmp_path / "state1"), "--new-state", str(tmp_path / "state2"),
                 "--ledger", str(tmp_path / "ledger2.parquet"))
    assert night2.exit_code == 0, night2.stderr
    assert parquet_ledger(spark, tmp_path / "ledger2.parquet") == \
        (tmp_path / "night2-embedded.jsonl").read_text("utf-8")
    assert spark.read.parquet(str(tmp_path / "state2")).columns == ["customer", "state"]


def test_parquet_of_json_text(spark: Any, noisy: Path, tmp_path: Path) -> None:
    """A Parquet file with an `event` column of JSON text (bad lines included) reads as JSON Lines."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ruleset = str(ROOT / "rulesets" / "bookshop.reward")
    lines = noisy.read_text(encoding="utf-8").splitlines()
    pq.write_table(pa.table({"event": lines}), tmp_path / "events.parquet")
    embedded_run = cli("run", ruleset, str(noisy), "--ledger", str(tmp_path / "embedded.jsonl"))
    on_spark = cli("run", "--engine", "spark", "--buckets", "6", ruleset, str(tmp_path / "events.parquet"),
                   "--ledger", str(tmp_path / "spark.jsonl"))
    assert embedded_run.exit_code == 0 and on_spark.exit_code == 0, on_spark.stderr
    assert (tmp_path / "spark.jsonl").read_bytes() == (tmp_path / "embedded.jsonl").read_bytes()
    assert summary_of(embedded_run.stderr) in on_spark.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--master", "local[2]"], "--master is for the Spark engine: add --engine spark"),
    (["--buckets", "8"], "--buckets is for the Spark engine: add --engine spark"),
    (["--new-state", "state.parquet"], "--new-state is for the Spark engine: add --engine spark"),
    (["--format", "parquet"], "--format parquet: Parquet is read by the Spark engine only: add --engine spark"),
    (["--engine", "spark", "--allow-ruleset-change"], "--allow-ruleset-change is for the embedded engine"),
    (["--engine", "spark", "--batch-size", "10"], "with --engine spark use --buckets N"),
    (["--engine", "spark", "-"], "reads files and directories, not standard input"),
    (["--engine", "spark", "missing.jsonl"], "missing.jsonl: no such file or directory"),
    (["--engine", "spark", "--ledger", "in"], "--ledger in: is (or holds, or is inside) an input"),
    (["--engine", "spark", "--ledger", "other"], "a directory that holds other files (notes.txt...)"),
    (["--engine", "spark", "--new-state", "nowhere/state"], "the directory"),
    (["--engine", "spark", "--state", "loyalty.db"], "is the SQLite state file of the embedded engine"),
    (["--engine", "spark", "--state", "state", "--new-state", "state"], "is (or holds, or is inside) the state read"),
    (["--engine", "spark", "--ledger", "s3a://shop/ledger.jsonl"], "not to a URL; for a URL, write Parquet"),
    (["--engine", "spark", "s3a://shop/events/"], "for a URL, give Parquet (--format parquet)"),
])
def test_engine_options_are_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
                                         message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "events.jsonl", benchmark_events(40, seed=2, problems=False))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("keep me\n", encoding="utf-8")
    (tmp_path / "loyalty.db").write_bytes(b"SQLite format 3\x00" + bytes(100))
    (tmp_path / "state").mkdir()
    inputs = [] if any(a == "-" or a.endswith(("missing.jsonl", "/events/")) for a in args) else ["in"]
    done = cli("run", str(ROOT / "rulesets" / "bookshop.reward"), *inputs, *args)
    assert done.exit_code == 2, done.output
    assert message in done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: ") and "Traceback" not in done.stderr
    assert (tmp_path / "other" / "notes.txt").exists()


def test_a_parquet_file_without_the_spark_engine(tmp_path: Path) -> None:
    (tmp_path / "events.parquet").write_bytes(b"PAR1")
    done = cli("run", str(ROOT / "rulesets" / "bookshop.reward"), str(tmp_path / "events.parquet"))
    assert done.exit_code == 2
    assert "Parquet is read by the Spark engine only: add --engine spark" in done.stderr


def test_run_engine_spark_without_pyspark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    path = write_jsonl(tmp_path / "events.jsonl", benchmark_events(20, seed=2, problems=False))
    done = cli("run", "--engine", "spark", str(ROOT / "rulesets" / "bookshop.reward"), str(path))
    assert done.exit_code == 2
    assert done.stderr == ("error: running on Spark needs PySpark, pandas and pyarrow (pyspark is missing): "
                           "pip install 'rewardlang[spark]'\n")


def test_a_local_driver_heap_is_half_the_memory_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    gib = 2**30
    for total, want in ((24 * gib, "12g"), (gib, "1g"), (256 * gib, "16g")):
        monkeypatch.setattr(os, "sysconf", lambda name, total=total: {"SC_PAGE_SIZE": 4096,
                                                                      "SC_PHYS_PAGES": total // 4096}[name])
        assert rs.local_driver_memory() == want
