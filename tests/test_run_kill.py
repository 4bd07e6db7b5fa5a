"""Kill ``rewardlang run`` (SIGKILL, a real subprocess) at many moments — while staging, after a
batch of customers was committed, while advancing to ``--until``, at random — and run the same
command again each time: the ledger file, the rejected file and every customer's state end
exactly as one uninterrupted run leaves them.

``REWARDLANG_BATCH_SIZE=1`` makes a small input commit many times (and stage in batches of 20
lines), so that kills fall between commits as they would on a night's millions of lines.
"""

from __future__ import annotations

import json
import os
import random
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


def command(state: str, ledger: str, rejected: str) -> list[str]:
    return [str(COMMAND), "run", str(BOOKSHOP), "ev.jsonl", "--state", state, "--ledger", ledger,
            "--rejected", rejected, "--until", UNTIL]


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


@pytest.mark.skipif(not COMMAND.exists(), reason="the rewardlang command is not installed in this environment")
def test_killed_anywhere_the_same_command_ends_as_one_uninterrupted_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    events = benchmark_events(2000, seed=5)
    Path("ev.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    started = time.monotonic()
    reference = subprocess.run(command("ref.db", "ref.jsonl", "ref-rejected.jsonl"), capture_output=True,
                               timeout=600)
    whole = time.monotonic() - started  # random kills fall within this
    assert reference.returncode == 0, reference.stderr

    env = {**os.environ, "REWARDLANG_BATCH_SIZE": "1"}
    state = tmp_path / "k.db"
    rng = random.Random(20261124)

    def when(phase: str, moved: bool = False, staged: bool = False) -> Callable[[str | None], bool]:
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

    plans: list[tuple[str, Callable[[str | None], bool] | float]] = [
        ("random, early", rng.uniform(0.0, 0.3)),
        ("staging", when("staging", staged=True)),
        ("applying, after a commit", when("applying", moved=True)),
        ("random, while applying", later(when("applying"), rng.uniform(0.0, 0.2) * whole)),
        ("applying, after a commit", when("applying", moved=True)),
        ("random, while applying", later(when("applying"), rng.uniform(0.0, 0.2) * whole)),
        ("advancing, after a commit", when("advancing", moved=True)),
        ("random", rng.uniform(0.0, 0.6) * whole),
    ]
    seen: list[tuple[str, str | None, str | None]] = []
    for name, plan in plans:
        _, start_cursor, _ = peek(state)
        process = subprocess.Popen(command("k.db", "k.jsonl", "k-rejected.jsonl"), env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
    assert [phase for _, phase, _ in seen[1:3]] == ["staging", "applying"], seen
    assert any(phase == "applying" and cursor is not None for _, phase, cursor in seen), seen
    assert any(phase == "advancing" and cursor is not None for _, phase, cursor in seen), seen

    final = subprocess.run(command("k.db", "k.jsonl", "k-rejected.jsonl"), env=env, capture_output=True, timeout=600)
    assert final.returncode == 0, final.stderr
    assert Path("k.jsonl").read_bytes() == Path("ref.jsonl").read_bytes()
    assert Path("k-rejected.jsonl").read_bytes() == Path("ref-rejected.jsonl").read_bytes()
    assert stored(state) == stored(tmp_path / "ref.db")
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".staging"))]
