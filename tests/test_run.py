"""``rewardlang run``, ``balance`` and ``customers``: the ledger is ``Engine.run`` + ``advance``'s,
whatever the input's format; bad lines are rejected with their reason and counted; the state file
is locked, versioned and tied to its ruleset; usage errors exit 2 without a traceback.

Most tests go through click's ``CliRunner``; a few run the installed command in a subprocess.
Kill-and-rerun is in tests/test_run_kill.py, the real data in tests/test_run_retail.py, runs cut
in time in tests/test_run_properties.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import inspect
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import rewardlang
from rewardlang import runner
from rewardlang.cli import main
from rewardlang.effects import canonical
from rewardlang.engine import Engine
from rewardlang.generate import benchmark_events
from rewardlang.localtime import format_instant, parse_instant
from rewardlang.store import Store

ROOT = Path(__file__).resolve().parents[1]
BOOKSHOP = ROOT / "rulesets" / "bookshop.reward"
PROGRAM = rewardlang.load(BOOKSHOP)
COMMAND = Path(sys.executable).with_name("rewardlang")
UNTIL = "2027-06-01T00:00:00Z"


def _runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner).parameters:  # click < 8.2
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


def cli(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None):
    return _runner().invoke(main, [str(a) for a in args], input=input, env=env, catch_exceptions=False)


def jsonl(events: list[dict]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)


def expected_ledger(events: list[dict], until: str | None = UNTIL, program=PROGRAM) -> list[str]:
    """What one ``Engine`` makes of the events (read back as the input reader reads them)."""
    engine = Engine(program)
    raws = [json.loads(json.dumps(e), parse_float=Decimal) for e in events]
    report = engine.run(raws)
    effects = list(report.effects) + (list(engine.advance(until)) if until else [])
    return [e.to_json() for e in canonical(effects)]


def summary(stderr: str) -> dict[str, int]:
    match = re.search(r"([\d,]+) lines read: ([\d,]+) applied, ([\d,]+) duplicates, ([\d,]+) rejected", stderr)
    assert match, stderr
    read, applied, duplicates, rejected = (int(g.replace(",", "")) for g in match.groups())
    assert read == applied + duplicates + rejected, stderr
    return {"read": read, "applied": applied, "duplicates": duplicates, "rejected": rejected}


def plain(value: object) -> object:
    """As JSON has it (tuples are lists)."""
    return json.loads(json.dumps(value, ensure_ascii=False))


def states(path: Path) -> dict[str, str]:
    with Store.open(str(path), create=False, write=False) as store:
        return dict(store.customers_after(None, 10**9))


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REWARDLANG_DEBUG", raising=False)
    monkeypatch.delenv("REWARDLANG_BATCH_SIZE", raising=False)


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return benchmark_events(600, seed=7)


# ---------------------------------------------------------------------------- the ledger


def test_the_ledger_is_engine_run_then_advance(events, tmp_path):
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    result = cli("run", BOOKSHOP, "ev.jsonl", "--state", "s.db", "--until", UNTIL)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == expected_ledger(events)
    counts = summary(result.stderr)
    report = Engine(PROGRAM).run([json.loads(json.dumps(e), parse_float=Decimal) for e in events])
    assert counts == report.counts
    assert "Traceback" not in result.stderr
    assert re.search(r"[\d,]+ customers in the input; [\d,]+ points issued", result.stderr)


def test_the_order_of_lines_and_a_batch_of_one_customer_do_not_matter(events, tmp_path):
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    Path("rev.jsonl").write_text(jsonl(events[::-1]), encoding="utf-8")
    one = cli("run", BOOKSHOP, "ev.jsonl", "--until", UNTIL, "--batch-size", "1")
    other = cli("run", BOOKSHOP, "rev.jsonl", "--until", UNTIL)
    assert one.exit_code == other.exit_code == 0
    assert one.stdout == other.stdout
    assert one.stdout.splitlines() == expected_ledger(events)


def _csv(events: list[dict], delimiter: str = ",") -> str:
    columns = sorted({k for e in events for k in e}, key=lambda k: (k not in ("id", "type", "customer", "time"), k))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for e in events:
        writer.writerow(["" if e.get(k) is None else str(e[k]) for k in columns])
    return out.getvalue()


def test_csv_jsonl_and_stdin_give_the_same_ledger(tmp_path):
    # CSV cannot say null (it unsets a profile field in JSON): a stream without input problems
    events = [e for e in benchmark_events(400, seed=3, problems=False) if None not in e.values()]
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    Path("ev.csv").write_text(_csv(events), encoding="utf-8")
    Path("semi.csv").write_text(_csv(events, ";"), encoding="utf-8")
    from_jsonl = cli("run", BOOKSHOP, "ev.jsonl", "--until", UNTIL)
    from_csv = cli("run", BOOKSHOP, "ev.csv", "--until", UNTIL)
    from_semi = cli("run", BOOKSHOP, "semi.csv", "--until", UNTIL, "--csv-delimiter", ";")
    from_stdin = cli("run", BOOKSHOP, "-", "--until", UNTIL, input=jsonl(events).encode())
    from_csv_stdin = cli("run", BOOKSHOP, "-", "--until", UNTIL, input=_csv(events).encode())
    Path("csv.txt").write_text(_csv(events), encoding="utf-8")
    from_named = cli("run", BOOKSHOP, "csv.txt", "--until", UNTIL, "--format", "csv")
    for result in (from_jsonl, from_csv, from_semi, from_stdin, from_csv_stdin, from_named):
        assert result.exit_code == 0, result.stderr
        assert summary(result.stderr)["read"] == len(events)
    assert from_jsonl.stdout.splitlines() == expected_ledger(events)
    assert from_csv.stdout == from_jsonl.stdout
    assert from_semi.stdout == from_jsonl.stdout
    assert from_stdin.stdout == from_jsonl.stdout
    assert from_csv_stdin.stdout == from_jsonl.stdout
    assert from_named.stdout == from_jsonl.stdout


def test_several_files_are_one_input(events, tmp_path):
    half = len(events) // 2
    Path("a.jsonl").write_text(jsonl(events[:half]), encoding="utf-8")
    Path("b.jsonl").write_text(jsonl(events[half:]), encoding="utf-8")
    result = cli("run", BOOKSHOP, "b.jsonl", "a.jsonl", "a.jsonl", "--until", UNTIL)  # a.jsonl once
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == expected_ledger(events)
    assert summary(result.stderr)["read"] == len(events)


def test_the_real_command_in_a_subprocess(events, tmp_path):
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    piped = subprocess.run([str(COMMAND), "run", str(BOOKSHOP), "-", "--until", UNTIL, "--state", "s.db"],
                           input=jsonl(events).encode(), capture_output=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.decode("utf-8").splitlines() == expected_ledger(events)
    to_file = subprocess.run([str(COMMAND), "run", str(BOOKSHOP), "ev.jsonl", "--until", UNTIL, "--ledger",
                              "l.jsonl", "--rejected", "r.jsonl"], capture_output=True, timeout=300)
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == b""
    assert Path("l.jsonl").read_bytes() == piped.stdout
    assert b"Traceback" not in piped.stderr + to_file.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_without_state_a_temporary_state_is_used_and_removed(events, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    result = cli("run", BOOKSHOP, "ev.jsonl", env={"TMPDIR": str(scratch)})
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ev.jsonl", "scratch"]
    assert list(scratch.iterdir()) == []


# ---------------------------------------------------------------------------- bad lines


GOOD = {"id": "g1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00+01:00",
        "amount": "249.00", "currency": "SEK", "category": "books", "items": 2}


def line(**changes: object) -> bytes:
    event = {**GOOD, **changes}
    return (json.dumps({k: v for k, v in event.items() if v is not ...}, ensure_ascii=False) + "\n").encode()


def test_every_bad_line_is_rejected_with_its_reason_and_the_run_goes_on(tmp_path):
    first = line(id="early", time="2026-05-01T10:00:00+02:00")
    Path("first.jsonl").write_bytes(first)
    assert cli("run", BOOKSHOP, "first.jsonl", "--state", "s.db", "--until", "2026-06-01T00:00:00Z").exit_code == 0
    bad = [
        (b'{"id": "j1", "type": "purchase", "customer": "c1"\n', "not valid JSON"),
        (line(id="u1", category="b\xf6cker").replace("b\xf6cker".encode(), b"b\xf6cker"), "invalid UTF-8"),
        (b'{"id": "big", "note": "' + b"x" * (10 * 1024 * 1024) + b'"}\n', "more than the"),
        (b'{"id": "n1", "type": "purchase", "customer": "c1", "time": "2026-06-02T10:00:00Z", "amount": NaN}\n',
         "NaN"),
        (line(id="e1", amount=None).replace(b'"amount": null', b'"amount": 1e999'), "too large"),
        (line(id="t1", time="2026-06-02T10:00:00"), "offset"),
        (line(id="x1", type="purchse"), "did you mean"),
        (line(id="f1", items="many"), "`items`"),
        (line(id="c1", currency="EUR"), "EUR"),
        (line(id="late1", time="2026-05-15T10:00:00+02:00"), "late"),
        (line(id="r1", type="refund", refunds="early", amount="500.00", time="2026-06-03T12:00:00Z"), "remains"),
    ]
    good = [line(id=f"ok{n}", time=f"2026-06-0{n + 2}T10:00:00+02:00") for n in range(3)]
    data = b"".join([good[0], *(b for b, _ in bad[:6]), good[1], *(b for b, _ in bad[6:]), good[2]])
    Path("night.jsonl").write_bytes(data)
    result = cli("run", BOOKSHOP, "night.jsonl", "--state", "s.db", "--rejected", "rej.jsonl", "--ledger", "l.jsonl")
    assert result.exit_code == 0, result.stderr
    counts = summary(result.stderr)
    assert counts == {"read": 14, "applied": 3, "duplicates": 0, "rejected": 11}
    rejected = [json.loads(x) for x in Path("rej.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["line_number"] for r in rejected] == [2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13]
    assert all(r["file"] == "night.jsonl" and list(r) == ["file", "line_number", "line", "reason"] for r in rejected)
    for r, (raw, why) in zip(rejected, bad):
        assert why in r["reason"], (why, r)
        if len(raw) < 10_000:
            assert r["line"] == raw.decode("utf-8", errors="replace").rstrip("\n")
    assert len(rejected[2]["line"]) <= 1000  # the 10 MB line is kept as a prefix
    ledger = [json.loads(x) for x in Path("l.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {x["event"] for x in ledger if x["event"]} == {"ok0", "ok1", "ok2"}
    strict = cli("run", BOOKSHOP, "night.jsonl", "--state", "s.db", "--strict")  # done before: same counts
    assert strict.exit_code == 1
    assert "done before" in strict.stderr


def test_rejected_lines_of_several_files_are_sorted_by_file_and_line(tmp_path):
    Path("b.jsonl").write_bytes(line(id="b1", type="nope") + line(id="b2") + b"{oops\n")
    Path("a.jsonl").write_bytes(b"[1]\n" + line(id="a2", amount="-1.00"))
    result = cli("run", BOOKSHOP, "b.jsonl", "a.jsonl", "--rejected", "rej.jsonl", "--strict")
    assert result.exit_code == 1
    rejected = [json.loads(x) for x in Path("rej.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["file"], r["line_number"]) for r in rejected] == [("a.jsonl", 1), ("a.jsonl", 2), ("b.jsonl", 1),
                                                                 ("b.jsonl", 3)]
    clean = cli("run", BOOKSHOP, "-", "--strict", input=line(id="z1"))
    assert clean.exit_code == 0, clean.stderr


def test_duplicates_are_counted_not_written(tmp_path):
    Path("d.jsonl").write_bytes(line(id="d1") * 3 + line(id="d2") + line(id="d2", amount="1.00"))
    result = cli("run", BOOKSHOP, "d.jsonl", "--rejected", "rej.jsonl")
    assert summary(result.stderr) == {"read": 5, "applied": 1, "duplicates": 2, "rejected": 2}
    rejected = [json.loads(x) for x in Path("rej.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["line_number"] for r in rejected] == [4, 5]
    assert all("conflicting duplicate" in r["reason"] for r in rejected)


# ---------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize("args, message", [
    (["--nope"], "No such option"),
    (["missing.jsonl"], "missing.jsonl: no such file"),
    (["ev.jsonl", "--until", "2026-03-01"], "--until 2026-03-01: not a time with an offset"),
    (["ev.jsonl", "--ledger", "no/such/dir/l.jsonl"], "does not exist"),
    (["ev.jsonl", "--csv-delimiter", ";;"], "not one character"),
    (["bad.csv"], "has no column customer"),
    (["ev.jsonl", "--state", "."], "is a directory"),
    (["ev.jsonl", "--state", "notastate.db"], "not a rewardlang state file"),
])
def test_usage_errors_exit_2_with_one_clear_line(tmp_path, args, message):
    Path("ev.jsonl").write_bytes(line())
    Path("bad.csv").write_text("id,type,time\n1,purchase,2026-03-01T10:00:00Z\n", encoding="utf-8")
    Path("notastate.db").write_text("hello, not SQLite\n" * 100, encoding="utf-8")
    result = cli("run", BOOKSHOP, *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_a_ruleset_with_errors_is_shown_as_check_shows_it(tmp_path):
    Path("bad.reward").write_text('event purchase\nrule "A": purchse earns 10 points\n', encoding="utf-8")
    Path("ev.jsonl").write_bytes(line())
    result = cli("run", "bad.reward", "ev.jsonl")
    assert result.exit_code == 2
    assert "bad.reward:2:" in result.stderr and "error[" in result.stderr
    assert "did you mean" in result.stderr
    assert "the ruleset has 1 error" in result.stderr
    missing = cli("run", "nope.reward", "ev.jsonl")
    assert missing.exit_code == 2 and "nope.reward: no such file" in missing.stderr


# ---------------------------------------------------------------------------- the state file


def test_a_finished_run_run_again_applies_nothing_and_writes_the_same_files(events, tmp_path):
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    args = ["run", BOOKSHOP, "ev.jsonl", "--state", "s.db", "--ledger", "l.jsonl", "--rejected", "r.jsonl",
            "--until", UNTIL]
    first = cli(*args)
    ledger, rejected, before = Path("l.jsonl").read_bytes(), Path("r.jsonl").read_bytes(), states(tmp_path / "s.db")
    Path("l.jsonl").unlink()
    again = cli(*args)
    assert first.exit_code == again.exit_code == 0
    assert "this run was done before" in again.stderr
    assert summary(again.stderr) == summary(first.stderr)
    assert Path("l.jsonl").read_bytes() == ledger and Path("r.jsonl").read_bytes() == rejected
    assert states(tmp_path / "s.db") == before
    with Store.open("s.db", create=False, write=False) as store:
        assert [r.phase for r in store.runs()] == ["done"]


def stop_after_commits(patch: pytest.MonkeyPatch, n: int) -> None:
    """Make the run stop (as on Ctrl-C) when it would commit a batch for the ``n+1``-th time."""
    original = runner._Batch.commit
    done = [0]

    def commit(self, *args, **kwargs):
        if done[0] == n:
            raise KeyboardInterrupt
        done[0] += 1
        return original(self, *args, **kwargs)

    patch.setattr(runner._Batch, "commit", commit)


def test_a_run_stopped_half_way_is_finished_by_the_same_command_and_blocks_others(events, tmp_path, monkeypatch):
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    Path("other.jsonl").write_bytes(line(id="o1"))
    args = ["run", BOOKSHOP, "ev.jsonl", "--state", "s.db", "--ledger", "l.jsonl", "--until", UNTIL, "--batch-size", "3"]

    with monkeypatch.context() as patch:
        stop_after_commits(patch, 4)
        assert cli(*args).exit_code != 0  # click reports the interrupt as "Aborted!"
    assert not Path("l.jsonl").exists()
    blocked = cli("run", BOOKSHOP, "other.jsonl", "--state", "s.db")
    assert blocked.exit_code == 2
    assert "an earlier run did not finish" in blocked.stderr and "ev.jsonl --until 2027-06-01T00:00:00Z" in blocked.stderr
    finished = cli(*args)
    assert finished.exit_code == 0, finished.stderr
    assert "resuming the unfinished run" in finished.stderr and "(it was at: applying)" in finished.stderr
    assert Path("l.jsonl").read_text(encoding="utf-8").splitlines() == expected_ledger(events)
    assert cli("run", BOOKSHOP, "other.jsonl", "--state", "s.db").exit_code == 0


def second_night(events: list[dict]) -> tuple[str, str, list[str]]:
    """Two nights of ``events``: a.jsonl up to a cut, b.jsonl after it with some of the customers
    only (the others are only advanced); the cut, the second night's ``--until``, and the second
    night's ledger as one ``Engine`` makes it."""
    times = sorted(t for e in events[400:] if (t := parse_instant(e.get("time"))) is not None)
    cut, later = format_instant(times[0] - dt.timedelta(seconds=1)), "2027-09-01T00:00:00Z"
    customers = sorted({e["customer"] for e in events if isinstance(e.get("customer"), str)})
    tonight = set(customers[1::3]) | set(customers[-2:])  # some customers, not the first, the last
    first, second = events[:400], [e for e in events[400:] if e.get("customer") in tonight]
    Path("a.jsonl").write_text(jsonl(first), encoding="utf-8")
    Path("b.jsonl").write_text(jsonl(second), encoding="utf-8")
    engine = Engine(PROGRAM)
    engine.run([json.loads(json.dumps(e), parse_float=Decimal) for e in first])
    engine.advance(cut)
    report = engine.run([json.loads(json.dumps(e), parse_float=Decimal) for e in second])
    expected = [e.to_json() for e in canonical(list(report.effects) + list(engine.advance(later)))]
    return cut, later, expected


@pytest.mark.parametrize("stops", [None, 0, 1, 2, 5, 9, 14, 20])
def test_a_second_night_stopped_after_any_commit_ends_as_one_run(events, tmp_path, monkeypatch, stops):
    """The second night applies some customers and only advances the others, in one pass in
    customer order, committing one customer at a time: its ledger is ``Engine``'s, and stopped
    after any commit, the same command finishes it with the ledger, rejected lines and states of
    a run that was not stopped."""
    cut, later, expected = second_night(events)
    for state in ("s.db", "ref.db"):
        assert cli("run", BOOKSHOP, "a.jsonl", "--state", state, "--until", cut).exit_code == 0
    reference = cli("run", BOOKSHOP, "b.jsonl", "--state", "ref.db", "--until", later, "--ledger", "ref.jsonl",
                    "--rejected", "ref-rejected.jsonl")
    assert reference.exit_code == 0, reference.stderr
    assert Path("ref.jsonl").read_text(encoding="utf-8").splitlines() == expected
    assert summary(reference.stderr)["applied"] > 50
    args = ["run", BOOKSHOP, "b.jsonl", "--state", "s.db", "--until", later, "--ledger", "l.jsonl",
            "--rejected", "r.jsonl", "--batch-size", "1"]
    if stops is not None:
        with monkeypatch.context() as patch:
            stop_after_commits(patch, stops)
            assert cli(*args).exit_code != 0
    finished = cli(*args)
    assert finished.exit_code == 0, finished.stderr
    assert Path("l.jsonl").read_bytes() == Path("ref.jsonl").read_bytes()
    assert Path("r.jsonl").read_bytes() == Path("ref-rejected.jsonl").read_bytes()
    assert states(tmp_path / "s.db") == states(tmp_path / "ref.db")
    assert summary(finished.stderr) == summary(reference.stderr)
    advanced = [re.search(r"--until: ([\d,]+) customers advanced", out).group(1)
                for out in (finished.stderr, reference.stderr)]
    assert advanced[0] == advanced[1] == str(len(states(tmp_path / "ref.db")))


class _Recorded:
    """A progress reporter that keeps [phase, total, done] of each phase."""

    def __init__(self) -> None:
        self.phases: list[list] = []

    def start(self, phase, total):
        self.phases.append([phase, total, 0])

    def step(self, n):
        self.phases[-1][2] += n

    def finish(self):
        pass


def test_the_progress_of_a_night_counts_its_lines_and_the_customers_it_only_advances(events, tmp_path):
    """With ``--until`` the applying pass also advances the stored customers: its progress counts
    the input's lines and the stored customers, and ends at its total (resumed too)."""
    cut, later, _ = second_night(events)
    assert cli("run", BOOKSHOP, "a.jsonl", "--state", "s.db", "--until", cut).exit_code == 0
    with Store.open("s.db", create=False, write=False) as store:
        stored = store.customer_count()
    tonight = len(Path("b.jsonl").read_text(encoding="utf-8").splitlines())
    request = runner.RunRequest("bookshop.reward", PROGRAM, ("b.jsonl",), state="s.db", until=parse_instant(later),
                                batch_size=2)
    progress = _Recorded()
    runner.run(request, out=io.StringIO(), progress=progress)
    assert [p for p in progress.phases if p[0] == "applying"] == [["applying", tonight + stored, tonight + stored]]


@pytest.mark.parametrize("stop_in", ["_apply", "_advance"])
def test_a_run_of_an_older_rewardlang_advancing_apart_is_finished_as_it_began(events, tmp_path, monkeypatch,
                                                                              stop_in):
    """An unfinished run begun by a rewardlang that advanced in a phase of its own (its command
    has no ``advance_in_apply``) goes on that way: stopped while applying or advancing, the
    same command finishes it as one run."""
    cut, later, expected = second_night(events)
    for state in ("s.db", "ref.db"):
        assert cli("run", BOOKSHOP, "a.jsonl", "--state", state, "--until", cut).exit_code == 0
    assert cli("run", BOOKSHOP, "b.jsonl", "--state", "ref.db", "--until", later, "--ledger", "ref.jsonl").exit_code == 0
    assert Path("ref.jsonl").read_text(encoding="utf-8").splitlines() == expected
    args = ["run", BOOKSHOP, "b.jsonl", "--state", "s.db", "--until", later, "--ledger", "l.jsonl", "--batch-size", "1"]
    new_run = runner._Runner._new_run
    stopped = getattr(runner._Runner, stop_in)

    def old_run(self, identity, command):
        run = new_run(self, identity, command)
        with self.store.transaction():
            self.store.conn.execute("UPDATE runs SET command = ? WHERE id = ?",
                                    (json.dumps({k: v for k, v in run.command.items() if k != runner.ADVANCE_IN_APPLY}),
                                     run.id))
        return self.store.run_by_id(run.id)

    def stop_half_way(self, run, counts):
        if stop_in == "_advance":
            raise KeyboardInterrupt
        stop_after_commits(patch, 2)
        return stopped(self, run, counts)

    with monkeypatch.context() as patch:
        patch.setattr(runner._Runner, "_new_run", old_run)
        patch.setattr(runner._Runner, stop_in, stop_half_way)
        assert cli(*args).exit_code != 0
    with Store.open("s.db", create=False, write=False) as store:
        run = store.runs()[-1]
        assert runner.ADVANCE_IN_APPLY not in run.command
        assert run.phase == {"_apply": "applying", "_advance": "advancing"}[stop_in]
    finished = cli(*args)
    assert finished.exit_code == 0, finished.stderr
    assert "resuming the unfinished run" in finished.stderr
    assert Path("l.jsonl").read_bytes() == Path("ref.jsonl").read_bytes()
    assert states(tmp_path / "s.db") == states(tmp_path / "ref.db")


def test_a_second_process_gets_a_clear_error(events, tmp_path):
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    with Store.open(str(tmp_path / "s.db")):  # this process holds the state, as a run does
        for command in (["run", str(BOOKSHOP), "ev.jsonl", "--state", "s.db"], ["balance", "--state", "s.db", "c1"],
                        ["customers", "--state", "s.db"]):
            other = subprocess.run([str(COMMAND), *command], capture_output=True, timeout=120)
            assert other.returncode == 2, other.stderr
            message = other.stderr.decode()
            assert f"s.db: in use by a running rewardlang run (process {os.getpid()})" in message
            assert "Traceback" not in message
    assert cli("run", BOOKSHOP, "ev.jsonl", "--state", "s.db").exit_code == 0  # free again


def test_two_real_runs_on_one_state_file(tmp_path):
    many = benchmark_events(3000, seed=11)
    Path("ev.jsonl").write_text(jsonl(many), encoding="utf-8")
    env = {**os.environ, "REWARDLANG_BATCH_SIZE": "1"}
    first = subprocess.Popen([str(COMMAND), "run", str(BOOKSHOP), "ev.jsonl", "--state", "s.db", "--ledger", "l.jsonl"],
                             stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        while not _locked(tmp_path / "s.db.lock"):  # wait until the first run holds the state
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        second = subprocess.run([str(COMMAND), "run", str(BOOKSHOP), "ev.jsonl", "--state", "s.db"],
                                capture_output=True, timeout=120)
        assert second.returncode == 2
        assert f"in use by a running rewardlang run (process {first.pid})" in second.stderr.decode()
    finally:
        first.kill()
        first.wait()


def _locked(path: Path) -> bool:
    if not path.exists():
        return False
    with open(path, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def test_a_changed_ruleset_is_refused_unless_allowed_and_then_says_what_changed(events, tmp_path):
    Path("ev.jsonl").write_text(jsonl(events[:300]), encoding="utf-8")
    Path("more.jsonl").write_text(jsonl(events[300:]), encoding="utf-8")
    assert cli("run", BOOKSHOP, "ev.jsonl", "--state", "s.db").exit_code == 0
    text = BOOKSHOP.read_text(encoding="utf-8")
    changed = (text.replace("points expire after 12 months", "points expire after 24 months")
               .replace('rule "Referral":         referral earns 100 points\n', "")
               .replace("review where stars >= 1 earns 50 points", "review where stars >= 3 earns 60 points")
               + 'rule "Summer":  purchase earns 10 points, from 2026-06-01 to 2026-08-31\n')
    assert changed.count("Referral") == 0 and changed != text
    Path("changed.reward").write_text(changed, encoding="utf-8")
    refused = cli("run", "changed.reward", "more.jsonl", "--state", "s.db")
    assert refused.exit_code == 2
    assert "computed with another version of the ruleset" in refused.stderr
    assert "--allow-ruleset-change" in refused.stderr
    for expected in ('rule "Referral" removed', 'rule "Summer" added', 'rule "Review bonus" changed',
                     "setting points expire changed: was points expire after 12 months, now points expire "
                     "after 24 months"):
        assert expected in refused.stderr
    allowed = cli("run", "changed.reward", "more.jsonl", "--state", "s.db", "--allow-ruleset-change")
    assert allowed.exit_code == 0, allowed.stderr
    assert "note: the ruleset changed" in allowed.stderr and 'rule "Summer" added' in allowed.stderr
    assert "carried over by rule name" in allowed.stderr  # Referral's removal moved the rules after it
    again = cli("run", "changed.reward", "ev.jsonl", "--state", "s.db", "--until", UNTIL)  # the new one now
    assert again.exit_code == 0 and "ruleset changed" not in again.stderr
    layout = "# only a comment and the layout differ\n" + changed.replace("  ", " ")
    Path("layout.reward").write_text(layout, encoding="utf-8")
    assert cli("run", "layout.reward", "more.jsonl", "--state", "s.db", "--until", "2027-07-01T00:00:00Z").exit_code == 0


def test_schema_version_and_foreign_files(tmp_path):
    with Store.open(str(tmp_path / "s.db")) as store, store.transaction():
        store.set_meta("schema_version", "99")
    Path("ev.jsonl").write_bytes(line())
    newer = cli("run", BOOKSHOP, "ev.jsonl", "--state", "s.db")
    assert newer.exit_code == 2 and "written by a newer rewardlang (state schema 99" in newer.stderr
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.commit()
    foreign = cli("customers", "--state", "other.db")
    assert foreign.exit_code == 2 and "not a rewardlang state file" in foreign.stderr


# ---------------------------------------------------------------------------- balance and customers


def test_balance_and_customers_show_what_the_engine_shows(events, tmp_path):
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    assert cli("run", BOOKSHOP, "ev.jsonl", "--state", "s.db", "--until", UNTIL).exit_code == 0
    engine = Engine(PROGRAM)
    engine.run([json.loads(json.dumps(e), parse_float=Decimal) for e in events])
    engine.advance(UNTIL)
    who = sorted(engine.states)
    rich = max(who, key=lambda c: (len(engine.states[c].lots), len(engine.states[c].counters)))
    shown = cli("balance", "--state", "s.db", rich, "--format", "json")
    assert shown.exit_code == 0
    assert json.loads(shown.stdout) == plain(engine.customer(rich).to_dict())
    view = engine.customer(rich)
    table = cli("balance", "--state", "s.db", rich)
    assert table.exit_code == 0
    assert f"customer  {rich}\nbalance   {view.balance}\npending   {view.pending}\n" in table.stdout
    assert f"tier      {view.tier or '-'}\nclock     {view.clock}\n" in table.stdout
    assert "lots:\n  points  available" in table.stdout and view.lots[0].available in table.stdout
    assert "counters:" in table.stdout and next(iter(view.counters)) in table.stdout
    listing = cli("customers", "--state", "s.db", "--format", "json")
    assert listing.exit_code == 0
    assert json.loads(listing.stdout) == [plain(engine.customer(c).to_dict()) for c in who]
    rows = cli("customers", "--state", "s.db").stdout.splitlines()
    assert rows[0].split() == ["customer", "balance", "pending", "tier", "next", "expiry", "clock"]
    assert [r.split()[0] for r in rows[1:]] == who
    first = engine.customer(who[0])
    assert rows[1].split()[1:3] == [str(first.balance), str(first.pending)]


def test_balance_of_an_unknown_customer_and_of_a_missing_state(tmp_path):
    Path("ev.jsonl").write_bytes(line())
    assert cli("run", BOOKSHOP, "ev.jsonl", "--state", "s.db").exit_code == 0
    unknown = cli("balance", "--state", "s.db", "nobody")
    assert unknown.exit_code == 1 and "no customer 'nobody'" in unknown.stderr
    missing = cli("balance", "--state", "nope.db", "c1")
    assert missing.exit_code == 2 and "nope.db: no such state file" in missing.stderr
    assert not Path("nope.db").exists()
    empty = cli("customers", "--state", "s.db", "--format", "json")
    assert [c["customer"] for c in json.loads(empty.stdout)] == ["c1"]


def test_the_runner_counts_add_up(events, tmp_path):
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    out = io.StringIO()
    result = runner.run(runner.RunRequest("bookshop.reward", PROGRAM, ("ev.jsonl",), until=None), out=out)
    c = result.counts
    assert c.read == len(events) == c.applied + c.duplicates + c.rejected
    assert sum(c.rejected_by.values()) == c.rejected
    ledger = [json.loads(x) for x in out.getvalue().splitlines()]
    assert c.points == sum(x["points"] for x in ledger if x["kind"] == "points" and x["points"] > 0)
    assert c.vouchers == sum(x["quantity"] for x in ledger if x["kind"] == "voucher")
    assert c.messages == sum(1 for x in ledger if x["kind"] == "message")
    assert c.customers == len({e["customer"] for e in events if isinstance(e.get("customer"), str)})


def test_staged_values_read_back_as_the_same_values():
    values = [{"a": Decimal("249.00"), "b": Decimal("5"), "c": Decimal("-0"), "d": Decimal("1E+3"), "e": 7,
               "f": [True, None, "x\u00e5\"\\"], "g": {"h": Decimal("0.1")}, "i": "\ud800"},
              {"id": "1", "amount": "249,00"}]
    for value in values:
        back = runner.load_value(runner.dump_value(value))
        assert back == value
        assert [type(v) for v in back.values()] == [type(v) for v in value.values()]
        assert [str(v) for v in back.values() if isinstance(v, Decimal)] == \
               [str(v) for v in value.values() if isinstance(v, Decimal)]


def test_moved_rules_keep_their_counters_when_the_ruleset_changes(events, tmp_path):
    """Per-rule state follows the rule's name: a ruleset with its rules reordered, allowed half-way,
    leaves every customer as that ruleset from the start would (lots compared as sets: the order
    of one event's awards follows the order of the rules)."""
    text = BOOKSHOP.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    moved = [ln for ln in lines if ln.startswith(('rule "Punch card"', 'rule "Referral"', 'rule "Win back"'))]
    rest = [ln for ln in lines if ln not in moved]
    at = rest.index(next(ln for ln in rest if ln.startswith("rule ")))
    reordered = "".join(rest[:at] + moved[::-1] + rest[at:])
    assert sorted(reordered.splitlines()) == sorted(text.splitlines()) and reordered != text
    Path("reordered.reward").write_text(reordered, encoding="utf-8")
    Path("a.jsonl").write_text(jsonl(events[:300]), encoding="utf-8")
    Path("b.jsonl").write_text(jsonl(events[300:]), encoding="utf-8")
    assert cli("run", BOOKSHOP, "a.jsonl", "--state", "changed.db").exit_code == 0
    changed = cli("run", "reordered.reward", "b.jsonl", "--state", "changed.db", "--until", UNTIL,
                  "--allow-ruleset-change", "--batch-size", "7")
    assert changed.exit_code == 0, changed.stderr
    assert "order of rules reordered" in changed.stderr
    assert cli("run", "reordered.reward", "a.jsonl", "--state", "same.db").exit_code == 0
    assert cli("run", "reordered.reward", "b.jsonl", "--state", "same.db", "--until", UNTIL).exit_code == 0

    def views(state: str) -> list[dict]:
        shown = json.loads(cli("customers", "--state", state, "--format", "json").stdout)
        for view in shown:
            view["lots"] = sorted(map(json.dumps, view["lots"]))
        return shown

    assert views("changed.db") == views("same.db")
    assert any(v["counters"].get("Punch card") for v in views("changed.db"))


def test_a_state_file_keeps_the_ledger_of_its_last_run_only(events, tmp_path):
    Path("a.jsonl").write_text(jsonl(events[:300]), encoding="utf-8")
    Path("b.jsonl").write_text(jsonl(events[300:]), encoding="utf-8")
    first = cli("run", BOOKSHOP, "a.jsonl", "--state", "s.db", "--ledger", "a.ledger")
    assert cli("run", BOOKSHOP, "b.jsonl", "--state", "s.db", "--ledger", "b.ledger").exit_code == 0
    b_ledger = Path("b.ledger").read_bytes()
    Path("a.ledger").unlink()
    old = cli("run", BOOKSHOP, "a.jsonl", "--state", "s.db", "--ledger", "a.ledger")
    assert old.exit_code == 0
    assert "later runs followed it" in old.stderr and "nothing is written" in old.stderr
    assert summary(old.stderr) == summary(first.stderr)
    assert not Path("a.ledger").exists()
    Path("b.ledger").unlink()
    assert cli("run", BOOKSHOP, "b.jsonl", "--state", "s.db", "--ledger", "b.ledger").exit_code == 0
    assert Path("b.ledger").read_bytes() == b_ledger
    with Store.open("s.db", create=False, write=False) as store:
        assert [(r.phase, r.kept) for r in store.runs()] == [("done", False), ("done", True)]
        assert store.conn.execute("SELECT DISTINCT run FROM effects").fetchall() == [(2,)]


def test_the_progress_bar_draws_on_one_line(capsys):
    from rewardlang.cli import _TerminalProgress

    bar = _TerminalProgress()
    bar.start("applying", 200)
    bar.step(50)
    bar.finish()
    bar.start("reading", None)
    bar.step(1234)
    bar.finish()
    err = capsys.readouterr().err
    # (click drops the erase-to-end-of-line code when standard error is not a terminal)
    assert "\rapplying   [#######                       ]  25.0%  50/200\n" in err
    assert "\rreading    1,234\n" in err


def test_a_lost_scratch_file_is_made_again_and_the_run_goes_on(events, tmp_path, monkeypatch):
    Path("ev.jsonl").write_text(jsonl(events), encoding="utf-8")
    args = ["run", BOOKSHOP, "ev.jsonl", "--state", "s.db", "--ledger", "l.jsonl", "--rejected", "r.jsonl",
            "--until", UNTIL, "--batch-size", "2"]
    original = runner._Runner._apply_customer
    applied: list[str] = []

    def stop_after_five(self, customer, *args):
        if len(applied) == 5:
            raise KeyboardInterrupt
        applied.append(customer)
        return original(self, customer, *args)

    with monkeypatch.context() as patch:
        patch.setattr(runner._Runner, "_apply_customer", stop_after_five)
        assert cli(*args).exit_code != 0
    with Store.open("s.db", create=False, write=False) as store:
        run = store.runs()[0]
        assert (run.phase, run.cursor) == ("applying", applied[3])  # committed two by two
    Path("s.db.staging").unlink()
    again = cli(*args)
    assert again.exit_code == 0, again.stderr
    assert "reading the input again" in again.stderr
    assert Path("l.jsonl").read_text(encoding="utf-8").splitlines() == expected_ledger(events)
    assert summary(again.stderr) == Engine(PROGRAM).run([json.loads(json.dumps(e), parse_float=Decimal)
                                                         for e in events]).counts
    assert not Path("s.db.staging").exists()
    fresh = cli("run", BOOKSHOP, "ev.jsonl", "--state", "fresh.db", "--rejected", "fresh.jsonl", "--until", UNTIL)
    assert fresh.exit_code == 0
    assert Path("r.jsonl").read_bytes() == Path("fresh.jsonl").read_bytes()
