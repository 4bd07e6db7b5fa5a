"""Benchmark of the Spark engine against the embedded run, on one machine (issue 8, docs/scale.md).

Run it from the project root with the project's interpreter (the spark extra installed)::

    SPARK_LOCAL_IP=127.0.0.1 .venv/bin/python benchmarks/spark.py [--events 1000000] [--parts 8]
        [--master local[2]] [--buckets 2048] [--work DIR] [--ledger-format jsonl|parquet]

It writes ``--events`` bookshop events (``rewardlang.generate.benchmark_events``, with its
duplicates and invalid lines) into ``--parts`` JSON Lines files under ``--work`` (kept between
runs: generated once), then times, in one sitting:

* embedded: ``Engine(program).run(events)`` in this process, on the lines read with
  ``rewardlang.inputs`` (reading included), and the ledger serialised (``Effect.to_json``);
* ``rewardlang run`` (the embedded command, SQLite state, out of core) in a child process;
* Spark: ``rewardlang.spark.run_spark`` on ``--master`` — session start, reading, the kernel
  stage and the ledger written as one JSON Lines file in ledger order (or, with ``--ledger-format
  parquet``, as a Parquet directory written by the executors, what a cluster run should write) —
  with the session's start-up timed apart; and checks that the two ledgers are the same bytes (a
  Parquet ledger read back in ``customer, n`` order).

It prints figures and asserts only the byte equality: the machine may be shared, so compare
ratios measured in one sitting, not absolute figures across days.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RULESET = ROOT / "rulesets" / "bookshop.reward"
sys.path.insert(0, str(ROOT / "src"))


def generate(work: Path, events: int, parts: int) -> list[str]:
    from rewardlang.generate import benchmark_events
    from rewardlang.runner import dump_value

    names = [work / f"events-{events}-{k:03d}-of-{parts}.jsonl" for k in range(parts)]
    if all(n.exists() for n in names):
        return [str(n) for n in names]
    started = time.perf_counter()
    stream = benchmark_events(events, seed=1)
    outs = [open(n, "w", encoding="utf-8", newline="\n") for n in names]
    for i, event in enumerate(stream):  # round robin: every file holds every period
        outs[i % parts].write(dump_value(event) + "\n")
    for out in outs:
        out.close()
    print(f"generated {events} events into {parts} files in {time.perf_counter() - started:.1f} s")
    return [str(n) for n in names]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--buckets", type=int, default=2048)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "rewardlang-spark-bench"))
    parser.add_argument("--skip-command", action="store_true", help="do not time `rewardlang run`")
    parser.add_argument("--ledger-format", choices=("jsonl", "parquet"), default="jsonl",
                        help="how the Spark run writes its ledger")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    files = generate(work, args.events, args.parts)

    import rewardlang
    from rewardlang import spark as rs
    from rewardlang.engine import Engine
    from rewardlang.inputs import open_events

    program = rewardlang.load(RULESET)
    n = args.events

    started = time.perf_counter()
    values = [line.value for name in files for line in open_events(name)]
    report = Engine(program).run(values)
    embedded_ledger = work / "embedded.jsonl"
    with open(embedded_ledger, "w", encoding="utf-8", newline="\n") as out:
        for effect in report.effects:
            out.write(effect.to_json() + "\n")
    embedded = time.perf_counter() - started
    del values, report
    print(f"embedded Engine.run:  {embedded:7.1f} s  {n / embedded:9.0f} events/s")

    if not args.skip_command:
        command_ledger = work / "command.jsonl"
        state = work / "state.db"
        for stale in work.glob("state.db*"):
            stale.unlink()
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("rewardlang")), "run", str(RULESET), *files,
                        "--state", str(state), "--ledger", str(command_ledger)],
                       check=True, stderr=subprocess.DEVNULL)
        command = time.perf_counter() - started
        print(f"rewardlang run:       {command:7.1f} s  {n / command:9.0f} events/s  "
              f"(same bytes: {sha(command_ledger) == sha(embedded_ledger)})")

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    started = time.perf_counter()
    spark = rs.session(args.master, "rewardlang-bench", {"spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    start_up = time.perf_counter() - started
    spark_ledger = work / ("spark.jsonl" if args.ledger_format == "jsonl" else "spark-ledger.parquet")
    request = rs.SparkRunRequest(ruleset=str(RULESET), inputs=tuple(files), master=args.master,
                                 ledger=str(spark_ledger), buckets=args.buckets)
    started = time.perf_counter()
    counts = rs.run_spark(request, program, spark=spark)
    elapsed = time.perf_counter() - started
    spark.stop()
    if args.ledger_format == "parquet":  # not timed: the lines in ledger order, as the JSON Lines file holds them
        import pyarrow.parquet as pq

        table = pq.read_table(spark_ledger).sort_by([("customer", "ascending"), ("n", "ascending")])
        spark_ledger = work / "spark-from-parquet.jsonl"
        with open(spark_ledger, "w", encoding="utf-8", newline="\n") as out:
            for line in table.column("line").to_pylist():
                out.write(line + "\n")
    same = sha(spark_ledger) == sha(embedded_ledger)
    print(f"spark {args.master} ({args.buckets} buckets, {args.parts} files, {args.ledger_format} ledger): "
          f"{elapsed:7.1f} s  "
          f"{n / elapsed:9.0f} events/s  + {start_up:.1f} s session start-up  (same bytes: {same})")
    print(rs.summary(counts))
    if not same:
        sys.exit("the Spark ledger differs from the embedded one")


if __name__ == "__main__":
    main()
