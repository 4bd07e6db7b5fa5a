"""End-to-end benchmark of ``rewardlang run``: events per second and peak memory of the command
on a generated JSON Lines file, beside the I/O floor (the same lines read and written with no
rules at all).

Run it from the project root with the project's interpreter::

    .venv/bin/python benchmarks/endtoend.py [--events 1000000] [--quick] [--batch-size N] [--work DIR]

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
sitting, not absolute figures across days). ``measure`` is the same measurement as a function:
the suite (``benchmarks/run.py``) calls it.
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
from typing import Any

from rewardlang.generate import write_jsonl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RULESET = ROOT / "rulesets" / "bookshop.reward"
COMMAND = Path(sys.executable).with_name("rewardlang")
UNTIL = "2027-09-01T00:00:00Z"  # after the generated span: expiries, win-backs, tier exits
DEFAULT_WORK = Path(tempfile.gettempdir()) / "rewardlang-bench-run"

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
    seconds, _cpu, peak, status, err = measured_cpu(args, **popen)
    return seconds, peak, status, err


def measured_cpu(args: list[str], **popen: object) -> tuple[float, float, int, int, bytes]:
    """(wall seconds, CPU seconds (user + system), peak resident memory in bytes, exit status,
    stderr) of a child process. On a shared machine the CPU seconds are the steadier figure.

    The peak is the child's ``VmHWM`` (``/proc``), polled while it runs: Linux folds the parent's
    resident set at the moment of the ``exec`` into the child's ``ru_maxrss``, so a child of a
    large process (the suite) would report at least that process's size. Where ``/proc`` is
    missing, or the child ends before the first poll, ``ru_maxrss`` is the figure."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, **popen)  # type: ignore[call-overload]
        status_file = f"/proc/{process.pid}/status"
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            try:
                with open(status_file, encoding="ascii", errors="replace") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]) * 1024)
                            break
            except (OSError, ValueError):
                pass
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return seconds, usage.ru_utime + usage.ru_stime, peak or usage.ru_maxrss * 1024, process.returncode, err.read()


def events_file(work: Path, n: int, seed: int, events: list[dict[str, Any]] | None = None) -> Path:
    """The JSON Lines file of ``generate(n, seed)`` under ``work``, written once and kept (``events``:
    those events, already generated in this process, written as ``generate_events.py`` writes them)."""
    path = work / f"events-{n}-{seed}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        if events is not None:
            with open(partial, "w", encoding="utf-8", newline="\n") as out:
                write_jsonl(events, out)
        else:
            print(f"generating {n:,} events into {path} ...", flush=True)
            with open(partial, "wb") as out:
                subprocess.run([sys.executable, str(HERE / "generate_events.py"), "--events", str(n), "--seed", str(seed)],
                               stdout=out, check=True)
        partial.rename(path)
    return path


def measure(n: int, seed: int = 1, work: Path = DEFAULT_WORK, batch_size: int | None = None,
            events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``rewardlang run`` and the I/O floor on ``n`` generated events (``events_file``): a dict of
    figures (seconds: wall-clock seconds of each child process; memory: its peak resident set).
    Raises ``RuntimeError`` if a child fails."""
    work.mkdir(parents=True, exist_ok=True)
    path = events_file(work, n, seed, events)
    size = path.stat().st_size
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        out = Path(scratch)
        command = [str(COMMAND), "run", str(RULESET), str(path), "--state", str(out / "state.db"),
                   "--ledger", str(out / "ledger.jsonl"), "--rejected", str(out / "rejected.jsonl"), "--until", UNTIL]
        if batch_size:
            command += ["--batch-size", str(batch_size)]
        seconds, cpu, peak, status, err = measured_cpu(command)
        text = err.decode("utf-8", errors="replace")
        if status != 0:
            raise RuntimeError(f"rewardlang run failed (exit {status}): {text[-2000:]}")
        state_size = sum(p.stat().st_size for p in out.glob("state.db*"))
        with open(out / "ledger.jsonl", encoding="utf-8") as ledger:
            ledger_lines = sum(1 for _ in ledger)
        floor_seconds, floor_cpu, floor_peak, floor_status, floor_err = measured_cpu(
            [sys.executable, "-c", _FLOOR, str(path), str(out / "floor.jsonl")])
        if floor_status != 0:
            raise RuntimeError(f"the I/O floor failed (exit {floor_status}): {floor_err.decode(errors='replace')[-2000:]}")
    took = re.search(r"took [\d.]+ s: (.*)", text)
    phases = {name: float(sec) for name, sec in re.findall(r"(\w+) ([\d.]+) s", took.group(1))} if took else {}
    return {"events": n, "input": str(path), "input_bytes": size, "seconds": seconds, "cpu_seconds": cpu,
            "peak_bytes": peak, "phases": phases, "state_bytes": state_size, "ledger_lines": ledger_lines,
            "summary": text.splitlines()[:3], "floor_seconds": floor_seconds, "floor_cpu_seconds": floor_cpu,
            "floor_peak_bytes": floor_peak}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 events")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=None, help="customers per commit (default: the command's)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args(argv)
    n = 100_000 if args.quick else args.events
    try:
        m = measure(n, args.seed, args.work, args.batch_size)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    seconds, peak, phases = m["seconds"], m["peak_bytes"], m["phases"]
    size, state_size = m["input_bytes"], m["state_bytes"]
    floor_seconds, floor_peak = m["floor_seconds"], m["floor_peak_bytes"]
    print(f"input: {n:,} events, {size / 1e6:,.0f} MB ({m['input']})")
    print(f"rewardlang run: {seconds:,.1f} s wall ({m['cpu_seconds']:,.1f} s CPU), {n / seconds:,.0f} events/s, "
          f"peak memory {peak / 2**20:,.0f} MiB")
    if phases:
        print("  phases: " + ", ".join(f"{k} {v:,.1f} s" for k, v in phases.items()))
        if phases.get("reading"):
            print(f"  staging: {n / phases['reading']:,.0f} lines/s (read, validate, insert; "
                  f"sorting {phases.get('sorting', 0.0):,.1f} s)")
        if phases.get("applying"):
            print(f"  applying: {n / phases['applying']:,.0f} events/s")
    print(f"  state file {state_size / 1e6:,.0f} MB ({state_size / size:,.1f}x the input); "
          f"ledger {m['ledger_lines']:,} lines")
    for line in m["summary"]:
        print(f"  | {line}")
    print(f"I/O floor (json read + write, no rules): {floor_seconds:,.1f} s wall ({m['floor_cpu_seconds']:,.1f} s CPU), "
          f"{n / floor_seconds:,.0f} events/s, "
          f"peak memory {floor_peak / 2**20:,.0f} MiB")
    print(f"ratio: rewardlang run takes {seconds / floor_seconds:,.1f}x the floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
