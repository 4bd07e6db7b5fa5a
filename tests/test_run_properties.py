"""Runs cut in time, with ``rewardlang run`` on one state file (LANGUAGE.md §4): an input cut at
points in time into files, run one after another — each with ``--until`` at its cut, as nightly
runs are — writes, together, exactly the ledger lines of one run of the whole input (per
customer, in order), rejects the same lines for the same reasons, and leaves every customer as
one run does (what ``customers`` shows).

Few, small examples (each is several runs through the command): the engine's own property tests
(tests/test_engine_properties.py) explore the evaluator; this holds the state file to it.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewardlang
from rewardlang.cli import main
from rewardlang.localtime import format_instant
from rewardlang.runner import dump_value
from tests.event_strategies import catalogue, event_streams, instant_of
from tests.test_engine_properties import by_customer, cut_points

ROOT = Path(__file__).resolve().parents[1]
BOOKSHOP = ROOT / "rulesets" / "bookshop.reward"
CATALOGUE = catalogue(rewardlang.load(BOOKSHOP))


def cli(*args: object) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def chunk_of(raw: object, cuts: list[dt.datetime], group_chunk: dict[tuple[str, str], int]) -> int:
    """The run a line goes to: by its time; a line whose time cannot be read goes with the lines
    that share its customer and id (one run must see them together), else to the first run."""
    instant = instant_of(raw)
    if instant is None:
        key = _group_key(raw)
        return group_chunk.get(key, 0) if key is not None else 0
    return sum(1 for c in cuts if c <= instant)


def _group_key(raw: object) -> tuple[str, str] | None:
    if not isinstance(raw, dict):
        return None
    customer, event_id = raw.get("customer"), raw.get("id")
    if not isinstance(customer, (str, int)) or not isinstance(event_id, (str, int)):
        return None
    return (str(customer), str(event_id))


def write(path: Path, raws: list[object]) -> None:
    path.write_text("".join(dump_value(raw) + "\n" for raw in raws), encoding="utf-8")


def run(work: Path, name: str, state: str, until: dt.datetime) -> tuple[list[str], list[tuple[str, str]]]:
    cli("run", BOOKSHOP, work / f"{name}.jsonl", "--state", work / state, "--until", format_instant(until),
        "--ledger", work / f"{name}.ledger", "--rejected", work / f"{name}.rejected")
    ledger = (work / f"{name}.ledger").read_text(encoding="utf-8").splitlines()
    rejected = [json.loads(x) for x in (work / f"{name}.rejected").read_text(encoding="utf-8").splitlines()]
    return ledger, [(r["line"], r["reason"]) for r in rejected]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_nightly_runs_cut_in_time_give_the_lines_of_one_run(data):
    events = data.draw(event_streams(CATALOGUE, max_size=20), label="events")
    cuts = data.draw(cut_points(events, CATALOGUE), label="cuts")
    instants = [t for t in map(instant_of, events) if t is not None]
    last = max([*instants, *cuts], default=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    until = last + dt.timedelta(seconds=data.draw(st.sampled_from([1, 86400, 400 * 86400]), label="after"))
    group_chunk = {key: chunk_of(raw, cuts, {}) for raw in events
                   if (key := _group_key(raw)) is not None and instant_of(raw) is not None}
    chunks: list[list[object]] = [[] for _ in range(len(cuts) + 1)]
    for raw in events:
        chunks[chunk_of(raw, cuts, group_chunk)].append(raw)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        write(work / "whole.jsonl", events)
        whole_ledger, whole_rejected = run(work, "whole", "whole.db", until)
        pieces: list[str] = []
        rejected: list[tuple[str, str]] = []
        for k, chunk in enumerate(chunks):
            write(work / f"night{k}.jsonl", chunk)
            ledger, lines = run(work, f"night{k}", "nights.db", cuts[k] if k < len(cuts) else until)
            pieces += ledger
            rejected += lines
        assert by_customer(pieces) == whole_ledger
        assert sorted(rejected) == sorted(whole_rejected)
        assert cli("customers", "--state", work / "nights.db", "--format", "json") == \
            cli("customers", "--state", work / "whole.db", "--format", "json")
