"""Kill ``rewardlang run`` (SIGKILL, a real subprocess) at many moments — while staging, after a
batch of customers was committed (customers applied and advanced to ``--until``, or only
advanced, on a second night), at random — and run the same command again each time: the ledger
file, the rejected file and every customer's state end exactly as one uninterrupted run leaves
them.

``REWARDLANG_BATCH_SIZE=1`` makes a small input commit many times (and stage in batches of 20
lines), so that kills fall between commits as they would on a night's millions of lines.
"""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rewardlang.generate import benchmark_events

ROOT = Path(__file__).resolve().parents[1]
BOOKSHOP = ROOT / "rulesets" / "bookshop.reward"
COMMAND = Path(sys.executable).with_name("rewardlang")
UNTIL = "2027-06-01T00:00:00Z"
NIGHT_2_TIME, NIGHT_2_UNTIL = "2027-06-01T10:00:00Z", "2027-06-02T00:00:00Z"


def command(state: str, ledger: str, rejected: str, night: int = 1) -> list[str]:
    events, until = ("ev.jsonl", UNTIL) if night == 1 else ("ev2.jsonl", NIGHT_2_UNTIL)
    return [str(COMMAND), "run", str(BOOKSHOP), events, "--state", state, "--ledger", ledger,
            "--rejected", rejected, "--until", until]


def peek(state: Path) -> tuple[str | None, str | None, int]:
    """(phase, cursor, lines read so far) of the state's last run, read without taking its lock."""
    if not state.exists():
        return None, None, 0
    try:
        conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=0.1)
        try:
            row = conn.execute("SELECT phase, cursor, counts FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None, None, 0
    return (row[0], row[1], json.loads(row[2])["read"]) if row else (None, None, 0)


def stored(state: Path) -> dict[str, object]:
    conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        return {
            "customers": conn.execute("SELECT customer, state FROM customers ORDER BY customer").fetchall(),
            "runs": [(phase, json.loads(counts)) for phase, counts in
                     conn.execute("SELECT phase, counts FROM runs ORDER BY id")],
        }
    finally:
        conn.close()


def when(state: Path, phase: str, moved: bool = False, staged: bool = False) -> Callable[[str | None], bool]:
    """Kill when the run is in ``phase`` (with lines staged; with its cursor moved past where
    this process found it, i.e. after at least one commit of its own)."""
    def ready(start_cursor: str | None) -> bool:
        p, c, n = peek(state)
        return p == phase and (not moved or (c is not None and c != start_cursor)) and (n > 0 or not staged)
    return ready


def later(ready: Callable[[str | None], bool], delay: float) -> Callable[[str | None], bool]:
    """Kill ``delay`` seconds after ``ready`` first holds: a random moment within a phase."""
    since: list[float] = []

    def go(start_cursor: str | None) -> bool:
        if not since and ready(start_cursor):
            since.append(time.monotonic())
        return bool(since) and time.monotonic() - since[0] >= delay
    return go


def kill_at(args: list[str], state: Path, plans: list[tuple[str, Callable[[str | None], bool] | float]],
            env: dict[str, str]) -> list[tuple[str, str | None, str | None]]:
    """Start ``args`` once per plan and kill it when the plan says (a callable of the cursor the
    run started from, or seconds): (plan, phase, cursor) where each kill left the state."""
    seen: list[tuple[str, str | None, str | None]] = []
    for name, plan in plans:
        _, start_cursor, _ = peek(state)
        process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started = time.monotonic()
        while process.poll() is None:
            if plan(start_cursor) if callable(plan) else time.monotonic() - started >= plan:
                break
            time.sleep(0.002)
        process.kill()
        process.wait(timeout=60)
        stderr = process.stderr.read().decode() if process.stderr else ""
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
        phase, cursor, _ = peek(state)
        seen.append((name, phase, cursor))
    return seen


@pytest.mark.skipif(not COMMAND.exists(), reason="the rewardlang command is not installed in this environment")
def test_killed_anywhere_the_same_command_ends_as_one_uninterrupted_run(tmp_path, monkeypatch):
    """Two nights: the first from an empty state, the second on some of the customers only, so
    that it applies and advances some customers and only advances the others (one pass, in
    customer order); each killed again and again, each ends as the uninterrupted run."""
    monkeypatch.chdir(tmp_path)
    events = benchmark_events(2000, seed=5)
    customers = sorted({e["customer"] for e in events if isinstance(e.get("customer"), str)})
    tonight = set(customers[1::2])
    Path("ev.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    Path("ev2.jsonl").write_text("".join(json.dumps({**e, "id": f"n2-{e['id']}", "time": NIGHT_2_TIME},
                                                    ensure_ascii=False) + "\n"
                                         for e in events[:600] if e.get("customer") in tonight and "id" in e),
                                 encoding="utf-8")
    started = time.monotonic()
    reference = subprocess.run(command("ref.db", "ref.jsonl", "ref-rejected.jsonl"), capture_output=True,
                               timeout=600)
    whole = time.monotonic() - started  # random kills fall within this
    assert reference.returncode == 0, reference.stderr
    second = subprocess.run(command("ref.db", "ref2.jsonl", "ref2-rejected.jsonl", night=2), capture_output=True,
                            timeout=600)
    assert second.returncode == 0, second.stderr
    figures = re.search(r"([\d,]+) customers in the input;.*\n--until: ([\d,]+) customers advanced", second.stderr.decode())
    assert figures and 0 < int(figures.group(1)) < int(figures.group(2)), second.stderr  # some only advanced

    env = {**os.environ, "REWARDLANG_BATCH_SIZE": "1"}
    state = tmp_path / "k.db"
    rng = random.Random(20261124)
    plans: list[tuple[str, Callable[[str | None], bool] | float]] = [
        ("random, early", rng.uniform(0.0, 0.3)),
        ("staging", when(state, "staging", staged=True)),
        ("applying, after a commit", when(state, "applying", moved=True)),
        ("random, while applying", later(when(state, "applying"), rng.uniform(0.0, 0.2) * whole)),
        ("applying, after a commit", when(state, "applying", moved=True)),
        ("random, while applying", later(when(state, "applying"), rng.uniform(0.0, 0.2) * whole)),
        ("applying, after a commit", when(state, "applying", moved=True)),
        ("random", rng.uniform(0.0, 0.6) * whole),
    ]
    seen = kill_at(command("k.db", "k.jsonl", "k-rejected.jsonl"), state, plans, env)
    assert [phase for _, phase, _ in seen[1:3]] == ["staging", "applying"], seen
    assert sum(phase == "applying" and cursor is not None for _, phase, cursor in seen) >= 2, seen

    final = subprocess.run(command("k.db", "k.jsonl", "k-rejected.jsonl"), env=env, capture_output=True, timeout=600)
    assert final.returncode == 0, final.stderr
    assert Path("k.jsonl").read_bytes() == Path("ref.jsonl").read_bytes()
    assert Path("k-rejected.jsonl").read_bytes() == Path("ref-rejected.jsonl").read_bytes()

    night2 = command("k.db", "k2.jsonl", "k2-rejected.jsonl", night=2)
    seen = kill_at(night2, state, [
        ("applying, after a commit", when(state, "applying", moved=True)),
        ("random, while applying", later(when(state, "applying"), rng.uniform(0.0, 0.1) * whole)),
        ("applying, after a commit", when(state, "applying", moved=True)),
    ], env)
    assert sum(phase == "applying" and cursor is not None for _, phase, cursor in seen) >= 2, seen
    final = subprocess.run(night2, env=env, capture_output=True, timeout=600)
    assert final.returncode == 0, final.stderr
    assert Path("k2.jsonl").read_bytes() == Path("ref2.jsonl").read_bytes()
    assert Path("k2-rejected.jsonl").read_bytes() == Path("ref2-rejected.jsonl").read_bytes()
    assert stored(state) == stored(tmp_path / "ref.db")
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".staging"))]
