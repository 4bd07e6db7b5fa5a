"""What the tests of the distributed engines (tests/test_spark.py, tests/test_dask.py) share: the
inputs they make and the embedded run they compare with, byte for byte.

Both engines must give the embedded run's ledger, counts and rejected lines whatever the layout
of their input (LANGUAGE.md §4), so both suites build the same inputs — every ruleset's test
cases as one stream, the lines split over files in a shuffled order — and hold them against
the same reference, ``Engine(program).run`` serialised as ``rewardlang run`` writes it.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import rewardlang
from rewardlang.effects import canonical
from rewardlang.engine import Engine, RunReport
from rewardlang.generate import benchmark_events, generate_stream, write_csv
from rewardlang.inputs import open_events
from rewardlang.localtime import parse_instant
from rewardlang.rulesettests import load_test_file
from rewardlang.runner import dump_value

ROOT = Path(__file__).resolve().parent.parent
RULESETS = sorted(p.stem for p in (ROOT / "rulesets").glob("*.reward"))
CUT = "2026-07-01T00:00:00+02:00"  # between two nights
UNTIL = "2027-06-01T00:00:00Z"  # after every generated event


def write_jsonl(path: Path, events: Iterable[Any]) -> Path:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for event in events:
            out.write(dump_value(event) + "\n")
    return path


def split(path: Path, parts: int, *, shuffle: int | None = None) -> list[str]:
    """The lines of ``path`` over ``parts`` files (round robin), in a shuffled order if asked."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if shuffle is not None:
        random.Random(shuffle).shuffle(lines)
    names = []
    for k in range(parts):
        name = path.with_name(f"{path.stem}-{parts}-{shuffle}-{k}.jsonl")
        name.write_text("".join(lines[k::parts]), encoding="utf-8")
        names.append(str(name))
    return names


def noisy_stream(folder: Path) -> Path:
    """Two years of a bookshop with duplicates, conflicting resends and invalid lines."""
    return write_jsonl(folder / "events.jsonl", benchmark_events(2500, seed=11))


def csv_stream(path: Path) -> Path:
    """A generated bookshop stream as CSV, invalid lines included."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        write_csv(generate_stream(customers=80, seed=3, problems=True), out)
    return path


def input_folder(path: Path, folder: Path) -> list[str]:
    """The lines of ``path`` over two files in ``folder`` (made): a directory to read whole. The
    files, sorted."""
    folder.mkdir()
    for name in split(path, 2):
        os.replace(name, folder / Path(name).name)
    return sorted(str(p) for p in folder.iterdir())


def nights(events: Sequence[Any], folder: Path) -> tuple[Path, Path]:
    """The events up to ``CUT`` and after it, as two JSON Lines files (two nightly runs)."""
    cut = parse_instant(CUT)
    first = write_jsonl(folder / "night1.jsonl", (e for e in events if parse_instant(e["time"]) <= cut))
    second = write_jsonl(folder / "night2.jsonl", (e for e in events if parse_instant(e["time"]) > cut))
    return first, second


def case_events(ruleset: str, copies: int) -> list[Any]:
    """The events of a ruleset's test cases, ``copies`` times over: each (copy, case) with its own
    customers, so that the cases stay independent in one stream that fits the ruleset."""
    loaded = load_test_file(str(ROOT / "rulesets" / f"{ruleset}.test.yaml"))
    assert not isinstance(loaded, list), loaded
    events = []
    for copy in range(copies):
        for n, case in enumerate(loaded.cases):
            for item in case.inputs:
                if item.value is None:
                    continue
                event = dict(item.value)
                if isinstance(event.get("customer"), (str, int)):
                    event["customer"] = f"k{copy}-{n}-{event['customer']}"
                events.append(event)
    return events


def ruleset_stream(ruleset: str, folder: Path) -> tuple[Any, Path, tuple[list[str], list[str], dict[str, int]]]:
    """A ruleset, its test cases six times over as one JSON Lines file, and the embedded run of it."""
    program = rewardlang.load(ROOT / "rulesets" / f"{ruleset}.reward")
    path = write_jsonl(folder / "events.jsonl", case_events(ruleset, copies=6))
    want = embedded(program, [str(path)])
    assert want[0], "the stream must make a ledger"
    return program, path, want


def embedded(program: Any, paths: Sequence[str], until: str | None = None,
             engine: Engine | None = None) -> tuple[list[str], list[str], dict[str, int]]:
    """The embedded run of the files: ledger lines, rejected lines (sorted by file and line), counts."""
    read = [line for name in paths for line in open_events(name)]
    assert all(line.value is not None for line in read)
    engine = engine or Engine(program)
    report: RunReport = engine.run([line.value for line in read])
    effects = list(report.effects)
    if until is not None:  # one run's ledger, as `rewardlang run --until` writes it: §5's order over both
        effects = canonical(effects + list(engine.advance(until)))
    ledger = [effect.to_json() for effect in effects]
    rejected = sorted((read[o.index].file, read[o.index].line_number, read[o.index].text, o.reason)
                      for o in report.rejected)
    lines = [json.dumps({"file": f, "line_number": n, "line": t, "reason": r}, ensure_ascii=False)
             for f, n, t, r in rejected]
    return ledger, lines, report.counts


def two_nights(program: Any, folder: Path) -> tuple[Path, Path, Engine, tuple[Any, ...], tuple[Any, ...]]:
    """A generated stream cut at ``CUT`` into two nights' files, and the embedded two-night run of
    them: the files, the engine after both nights, and each night's ledger and counts."""
    first, second = nights(list(generate_stream(customers=120, seed=7, problems=True)), folder)
    engine = Engine(program)
    want1, _, counts1 = embedded(program, [str(first)], until=CUT, engine=engine)
    want2, _, counts2 = embedded(program, [str(second)], engine=engine)
    assert want1 and want2
    return first, second, engine, (want1, counts1), (want2, counts2)


def states(engine: Engine) -> list[str]:
    """Every customer's state in an engine, as the distributed engines write it, sorted."""
    return sorted(json.dumps(engine.state_of(c), ensure_ascii=False, separators=(",", ":")) for c in engine.states)


def same_counts(got: dict[str, Any], want: dict[str, int]) -> None:
    assert {k: got[k] for k in ("read", "applied", "duplicates", "rejected")} == want


def cli(*args: str) -> Any:
    """``rewardlang ARGS`` through click's CliRunner, in this process."""
    from click.testing import CliRunner

    from rewardlang.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def summary_of(run_stderr: str) -> str:
    """What a distributed run's one summary line says of the lines, given ``run``'s summary."""
    read = re.search(r"([\d,]+) lines read: ([\d,]+) applied, ([\d,]+) duplicates, ([\d,]+) rejected", run_stderr)
    assert read is not None, run_stderr
    figures = [n.replace(",", "") for n in read.groups()]
    return "read {} lines: {} applied, {} duplicates, {} rejected".format(*figures)
