"""End-to-end benchmark of ``rewardlang run``: events per second and peak memory of the command
on a generated JSON Lines file, beside the I/O floor (the same lines read and written with no
rules at all).

Run it from the project root with the project's interpreter::

    .venv/bin/python benchmarks/run.py [--events 1000000] [--quick] [--batch-size N] [--work DIR]

It writes ``--events`` bookshop events (default 1,000,000; ``--quick`` 100,000) with
``benchmarks/generate_events.py`` into ``--work`` (default: a directory under the system's
temporary directory, kept between runs so that the file is generated once), then runs, each in a
child process whose peak resident memory is read with ``os.wait4`` (``ru_maxrss``):

* ``rewardlang run rulesets/bookshop.reward EVENTS --state S --ledger L --rejected R --until T``
  on a fresh state file: wall time, events per second, peak memory, the time of each phase
  (reading = staging, sorting = the index, applying, advancing to ``--until``, writing the
  files), the size of the state file;
* the floor: a child that reads the same lines, parses each with ``json.loads`` (exact decimals)
  and writes it back with ``json.dumps`` — what any run must at least do.

It prints figures and asserts nothing: the machine may be shared (compare ratios measured in one
sitting, not absolute figures across days).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RULESET = ROOT / "rulesets" / "bookshop.reward"
COMMAND = Path(sys.executable).with_name("rewardlang")
UNTIL = "2027-09-01T00:00:00Z"  # after the generated span: expiries, win-backs, tier exits

_FLOOR = """
import json, sys
from decimal import Decimal
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as dst:
    for line in src:
        if line.strip():
            dst.write(json.dumps(json.loads(line, parse_float=Decimal), ensure_ascii=False, default=str) + "\\n")
"""


def measured(args: list[str], **popen: object) -> tuple[float, int, int, bytes]:
    """(seconds, peak resident memory in bytes, exit status, stderr) of a child process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, **popen)  # type: ignore[call-overload]
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return seconds, usage.ru_maxrss * 1024, process.returncode, err.read()


def events_file(work: Path, n: int, seed: int) -> Path:
    path = work / f"events-{n}-{seed}.jsonl"
    if not path.exists():
        print(f"generating {n:,} events into {path} ...", flush=True)
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as out:
            subprocess.run([sys.executable, str(HERE / "generate_events.py"), "--events", str(n), "--seed", str(seed)],
                           stdout=out, check=True)
        partial.rename(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 events")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=None, help="customers per commit (default: the command's)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "rewardlang-bench-run")
    args = parser.parse_args(argv)
    n = 100_000 if args.quick else args.events
    args.work.mkdir(parents=True, exist_ok=True)
    events = events_file(args.work, n, args.seed)
    size = events.stat().st_size

    with tempfile.TemporaryDirectory(dir=args.work) as scratch:
        out = Path(scratch)
        command = [str(COMMAND), "run", str(RULESET), str(events), "--state", str(out / "state.db"),
                   "--ledger", str(out / "ledger.jsonl"), "--rejected", str(out / "rejected.jsonl"), "--until", UNTIL]
        if args.batch_size:
            command += ["--batch-size", str(args.batch_size)]
        seconds, peak, status, err = measured(command)
        text = err.decode("utf-8", errors="replace")
        if status != 0:
            print(text, file=sys.stderr)
            print(f"rewardlang run failed (exit {status})", file=sys.stderr)
            return 1
        state_size = sum(p.stat().st_size for p in out.glob("state.db*"))
        ledger_lines = sum(1 for _ in open(out / "ledger.jsonl", encoding="utf-8"))
        floor_seconds, floor_peak, floor_status, floor_err = measured(
            [sys.executable, "-c", _FLOOR, str(events), str(out / "floor.jsonl")])
        if floor_status != 0:
            print(floor_err.decode(errors="replace"), file=sys.stderr)
            return 1

    took = re.search(r"took [\d.]+ s: (.*)", text)
    print(f"input: {n:,} events, {size / 1e6:,.0f} MB ({events})")
    print(f"rewardlang run: {seconds:,.1f} s wall, {n / seconds:,.0f} events/s, peak memory {peak / 2**20:,.0f} MiB")
    if took:
        phases = dict((name, float(sec)) for name, sec in re.findall(r"(\w+) ([\d.]+) s", took.group(1)))
        print("  phases: " + ", ".join(f"{k} {v:,.1f} s" for k, v in phases.items()))
        if phases.get("reading"):
            print(f"  staging: {n / phases['reading']:,.0f} lines/s (read, validate, insert; "
                  f"sorting {phases.get('sorting', 0.0):,.1f} s)")
        if phases.get("applying"):
            print(f"  applying: {n / phases['applying']:,.0f} events/s")
    print(f"  state file {state_size / 1e6:,.0f} MB ({state_size / size:,.1f}x the input); ledger {ledger_lines:,} lines")
    for line in text.splitlines()[:3]:
        print(f"  | {line}")
    print(f"I/O floor (json read + write, no rules): {floor_seconds:,.1f} s, {n / floor_seconds:,.0f} events/s, "
          f"peak memory {floor_peak / 2**20:,.0f} MiB")
    print(f"ratio: rewardlang run takes {seconds / floor_seconds:,.1f}x the floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
