"""The Dask engine (``rewardlang.dask_engine``) against the embedded run: byte for byte (issue 8).

As tests/test_spark.py does for Spark: the ledger, counts and rejected lines of
``dask_engine.apply`` are compared with ``Engine(program).run`` (then ``advance``) on the same
input, for every ruleset, bucket counts from 1 to 2048, kernel partitions from 1 to 7, inputs
split over files in a shuffled order, frames and bags of JSON text in other partitionings, CSV,
and two nights with the state carried through a file into other buckets. The command, ``run
--engine dask``, is compared with ``run`` file for file (on a local cluster's address too), and
its usage errors are checked.

Most runs use the synchronous and threads schedulers (the inputs are small, and a process pool
costs seconds to start); one runs on processes. Skipped when dask is not installed
(``pip install -e '.[dev,dask]'``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dask.dataframe", reason="dask is not installed: pip install -e '.[dev,dask]'")

import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402

import rewardlang  # noqa: E402
from rewardlang import dask_engine as rd  # noqa: E402
from rewardlang.generate import benchmark_events, generate_stream  # noqa: E402
from tests.engine_parity import (  # noqa: E402
    CUT, ROOT, RULESETS, UNTIL, cli, csv_stream, embedded, input_folder, nights, noisy_stream,
    ruleset_stream, same_counts, split, states, summary_of, two_nights, write_jsonl,
)

BOOKSHOP = str(ROOT / "rulesets" / "bookshop.reward")


def dask_run(program: Any, events: Any, *, buckets: int, partitions: int | None = None, until: str | None = None,
             state: Any = None, scheduler: str = "synchronous") -> tuple[list[str], list[str], dict[str, Any],
                                                                         rd.DaskRun]:
    if isinstance(events, list):
        events = rd.read_events(program, events)
    result = rd.apply(program, events, state, buckets=buckets, partitions=partitions, until=until,
                      scheduler=scheduler)
    return list(result.ledger_lines()), list(result.rejected_lines()), result.counts(), result


# ---------------------------------------------------------------------------- every ruleset

@pytest.mark.parametrize("ruleset", RULESETS)
def test_every_ruleset_matches_the_embedded_run(tmp_path: Path, ruleset: str) -> None:
    program, path, (want, want_rejected, want_counts) = ruleset_stream(ruleset, tmp_path)
    for buckets, partitions, files, scheduler in ((7, None, [str(path)], "synchronous"),
                                                  (2048, 3, split(path, 3, shuffle=1), "threads")):
        got, rejected, counts, _ = dask_run(program, files, buckets=buckets, partitions=partitions,
                                            scheduler=scheduler)
        assert got == want, f"{ruleset}: {buckets} buckets, {len(files)} file(s)"
        same_counts(counts, want_counts)
        assert rejected == embedded(program, files)[1]  # the same lines, named by the files they are in
    if ruleset == "bookshop":
        assert want_rejected, "the bookshop's cases reject lines"


# ---------------------------------------------------------------------------- bookshop, many layouts

@pytest.fixture(scope="module")
def bookshop() -> Any:
    return rewardlang.load(BOOKSHOP)


@pytest.fixture(scope="module")
def noisy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return noisy_stream(tmp_path_factory.mktemp("noisy"))


@pytest.mark.parametrize(("buckets", "partitions", "parts", "shuffle"),
                         [(1, None, 1, None), (16, 4, 3, 5), (2048, 7, 5, 9), (5, 1, 2, 2)])
def test_bookshop_ledger_counts_and_rejections_whatever_the_layout(bookshop: Any, noisy: Path, buckets: int,
                                                                   partitions: int | None, parts: int,
                                                                   shuffle: int | None) -> None:
    want, want_rejected, want_counts = embedded(bookshop, [str(noisy)])
    files = [str(noisy)] if parts == 1 and shuffle is None else split(noisy, parts, shuffle=shuffle)
    got, rejected, counts, _ = dask_run(bookshop, files, buckets=buckets, partitions=partitions)
    assert got == want
    same_counts(counts, want_counts)
    assert counts["duplicates"] > 0 and counts["rejected"] > 0  # the stream exercises them
    assert rejected == (want_rejected if files == [str(noisy)] else embedded(bookshop, files)[1])


def test_a_frame_and_a_bag_of_json_text_in_any_partitioning(bookshop: Any, noisy: Path) -> None:
    want, want_rejected, want_counts = embedded(bookshop, [str(noisy)])
    lines = noisy.read_text(encoding="utf-8").splitlines()
    frame = dd.from_pandas(pd.DataFrame({"event": lines, "file": str(noisy),
                                         "line_number": range(1, len(lines) + 1)}), npartitions=7)
    got, rejected, counts, _ = dask_run(bookshop, frame, buckets=5, scheduler="threads")
    assert got == want
    assert rejected == want_rejected  # the file and line numbers given with the text
    same_counts(counts, want_counts)
    bag = db.from_sequence(list(reversed(lines)), npartitions=4)  # no file, no line number, another order
    got, rejected, counts, result = dask_run(bookshop, bag, buckets=9)
    assert got == want
    same_counts(counts, want_counts)
    assert {line["line_number"] for line in map(_json, rejected)} == {None}
    ledger, state, rejected_frame = result
    assert list(ledger.columns) == ["customer", "n", "line"] and list(state.columns) == ["customer", "state"]
    assert len(rejected_frame) == counts["rejected"]
    text = db.read_text(str(noisy), blocksize=100_000)  # lines with their endings, in several blocks
    assert text.npartitions > 1
    assert dask_run(bookshop, text, buckets=3)[0] == want


def _json(text: str) -> Any:
    import json

    return json.loads(text)


def test_a_frame_without_event_text_is_refused(bookshop: Any) -> None:
    frame = dd.from_pandas(pd.DataFrame({"id": ["e1"], "amount": [249.0]}), npartitions=1)
    with pytest.raises(rd.DaskInputError, match="no `event` column"):
        rd.apply(bookshop, frame)


def test_csv_input(bookshop: Any, tmp_path: Path) -> None:
    path = csv_stream(tmp_path / "events.csv")
    want, want_rejected, want_counts = embedded(bookshop, [str(path)])
    got, rejected, counts, _ = dask_run(bookshop, [str(path)], buckets=11, partitions=3)
    assert got == want
    assert rejected == want_rejected
    same_counts(counts, want_counts)


def test_buckets_are_stable_and_spread() -> None:
    assert rd.bucket_of("c42", 2048) == rd.bucket_of("c42", 2048)
    assert rd.bucket_of("c42", 1) == 0
    assert rd.bucket_of("\ud800", 7) in range(7)  # a lone surrogate, as a JSON escape can make
    spread = [rd.bucket_of(f"c{k}", 16) for k in range(1600)]
    assert min(spread.count(b) for b in range(16)) > 60  # ~100 each


# ---------------------------------------------------------------------------- two nights

def test_two_nights_with_state_carried_equal_the_embedded_two_night_run(bookshop: Any, tmp_path: Path) -> None:
    first, second, engine, (want1, counts1), (want2, counts2) = two_nights(bookshop, tmp_path)
    got1, _, got_counts1, night1 = dask_run(bookshop, [str(first)], buckets=16, until=CUT)
    assert got1 == want1
    same_counts(got_counts1, counts1)
    state_path = tmp_path / "state.jsonl"  # through a file, as the command carries it
    state_path.write_text("".join(line + "\n" for line in night1.state_lines()), encoding="utf-8")
    state = rd.read_state(str(state_path))
    got2, _, got_counts2, night2 = dask_run(bookshop, split(second, 2, shuffle=3), buckets=5, partitions=2,
                                            state=state, scheduler="threads")
    assert got2 == want2  # other buckets the second night: the state follows its customers
    same_counts(got_counts2, counts2)
    assert list(night2.state_lines()) == states(engine)


# ---------------------------------------------------------------------------- `rewardlang run --engine dask`

BROKEN = """not json at all
{"id": "b1", "type": "purchase", "time": "2026-03-01T10:00:00Z"}
[1, 2, 3]

{"id": "b2", "customer": {"name": "c1"}, "type": "purchase", "time": "2026-03-01T10:00:00Z"}
{"id": "b3", "customer": "c1", "type": "purchase", "time": "2026-03-01T10:00:00Z", "amount": NaN}
{"id": "b4", "customer": "c\\ud800", "type": "adjust", "time": "2026-03-01T10:00:00Z", "points": 5}
"""


def test_run_engine_dask_is_byte_identical_to_run(noisy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"  # a directory of files, with lines that never have a customer
    files = input_folder(noisy, folder)
    (folder / "z-broken.jsonl").write_text(BROKEN, encoding="utf-8")
    embedded_run = cli("run", BOOKSHOP, *files, str(folder / "z-broken.jsonl"), "--ledger",
                       str(tmp_path / "embedded.jsonl"), "--rejected", str(tmp_path / "embedded-rejected.jsonl"),
                       "--until", UNTIL)
    assert embedded_run.exit_code == 0, embedded_run.output
    want = (tmp_path / "embedded.jsonl").read_bytes()

    on_dask = cli("run", "--engine", "dask", "--scheduler", "processes", "--buckets", "8", BOOKSHOP, str(folder),
                  "--rejected", str(tmp_path / "dask-rejected.jsonl"), "--until", UNTIL,
                  "--new-state", str(tmp_path / "state.jsonl"), "--strict")
    assert on_dask.exit_code == 1, on_dask.stderr  # --strict: the stream has rejected lines
    assert on_dask.stdout_bytes == want  # the ledger on standard output, as `run` writes it
    assert (tmp_path / "dask-rejected.jsonl").read_bytes() == (tmp_path / "embedded-rejected.jsonl").read_bytes()
    assert summary_of(embedded_run.stderr) in on_dask.stderr
    assert len((tmp_path / "state.jsonl").read_text(encoding="utf-8").splitlines()) > 0


def test_two_nights_through_the_command_equal_run_with_its_state_file(tmp_path: Path) -> None:
    first, second = nights(list(generate_stream(customers=60, seed=5, problems=True)), tmp_path)
    db_path = str(tmp_path / "loyalty.db")
    for night, until in ((first, CUT), (second, UNTIL)):
        done = cli("run", BOOKSHOP, str(night), "--state", db_path, "--until", until,
                   "--ledger", str(tmp_path / f"{night.stem}-embedded.jsonl"))
        assert done.exit_code == 0, done.output
    night1 = cli("run", "--engine", "dask", "--scheduler", "synchronous", "--buckets", "4", BOOKSHOP, str(first),
                 "--until", CUT, "--ledger", str(tmp_path / "ledger1.jsonl"),
                 "--new-state", str(tmp_path / "state1.jsonl"))
    assert night1.exit_code == 0, night1.stderr
    assert (tmp_path / "ledger1.jsonl").read_bytes() == (tmp_path / "night1-embedded.jsonl").read_bytes()
    night2 = cli("run", "--engine", "dask", "--scheduler", "threads", BOOKSHOP, str(second), "--until", UNTIL,
                 "--state", str(tmp_path / "state1.jsonl"), "--new-state", str(tmp_path / "state2.jsonl"),
                 "--ledger", str(tmp_path / "ledger2.jsonl"))
    assert night2.exit_code == 0, night2.stderr
    assert (tmp_path / "ledger2.jsonl").read_bytes() == (tmp_path / "night2-embedded.jsonl").read_bytes()
    assert "note:" not in night2.stderr


def test_a_distributed_schedulers_address(noisy: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    embedded_run = cli("run", BOOKSHOP, str(noisy), "--ledger", str(tmp_path / "embedded.jsonl"))
    assert embedded_run.exit_code == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) \
            as cluster:
        done = cli("run", "--engine", "dask", "--scheduler", cluster.scheduler_address, "--buckets", "32", BOOKSHOP,
                   str(noisy), "--ledger", str(tmp_path / "dask.jsonl"))
    assert done.exit_code == 0, done.stderr
    assert (tmp_path / "dask.jsonl").read_bytes() == (tmp_path / "embedded.jsonl").read_bytes()


@pytest.mark.parametrize(("args", "message"), [
    (["--scheduler", "threads"], "--scheduler is for the Dask engine: add --engine dask, or leave --scheduler out"),
    (["--engine", "spark", "--scheduler", "threads"], "--scheduler is for the Dask engine; with --engine spark use "
                                                      "--master"),
    (["--engine", "dask", "--master", "local[2]"], "--master is for the Spark engine; with --engine dask use "
                                                   "--scheduler"),
    (["--engine", "dask", "--allow-ruleset-change"], "a Dask state does not record its ruleset"),
    (["--engine", "dask", "--batch-size", "10"], "with --engine dask use --buckets N"),
    (["--engine", "dask", "-"], "--engine dask reads files and directories, not standard input"),
    (["--engine", "dask", "--format", "parquet"], "Parquet is read by the Spark engine only"),
    (["--engine", "dask", "missing.jsonl"], "missing.jsonl: no such file or directory"),
    (["--engine", "dask", "s3://shop/events/"], "the Dask engine reads local or shared paths, not URLs"),
    (["--engine", "dask", "--ledger", "in"], "--ledger in: is (or holds, or is inside) an input"),
    (["--engine", "dask", "--ledger", "out.jsonl", "--rejected", "out.jsonl"], "also given as --ledger"),
    (["--engine", "dask", "--new-state", "nowhere/state.jsonl"], "the directory"),
    (["--engine", "dask", "--state", "loyalty.db"], "is the SQLite state file of the embedded engine"),
    (["--engine", "dask", "--state", "other"], "is a directory, and a Dask state is one JSON Lines file"),
    (["--engine", "dask", "--state", "gone.jsonl"], "gone.jsonl: no such state"),
    (["--engine", "dask", "--state", "bad.jsonl"], "--state bad.jsonl: holds a line that is not a customer's state"),
    (["--engine", "dask", "--scheduler", "thread"], "--scheduler thread: name threads, processes or synchronous"),
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"], "no Dask scheduler could be reached there"),
])
def test_engine_options_are_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
                                         message: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(rd, "CONNECT_TIMEOUT", "1s")
    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "events.jsonl", benchmark_events(40, seed=2, problems=False))
    (tmp_path / "other").mkdir()
    (tmp_path / "loyalty.db").write_bytes(b"SQLite format 3\x00" + bytes(100))
    (tmp_path / "bad.jsonl").write_text('{"customer": "c1", "clock": null}\n{"no customer": 1}\n', encoding="utf-8")
    inputs = [] if any(a == "-" or a.endswith(("missing.jsonl", "/events/")) for a in args) else ["in"]
    done = cli("run", BOOKSHOP, *inputs, *args)
    assert done.exit_code == 2, done.output
    assert message in done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: ") and "Traceback" not in done.stderr


def test_run_engine_dask_without_dask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)  # as if it were not installed
    path = write_jsonl(tmp_path / "events.jsonl", benchmark_events(20, seed=2, problems=False))
    done = cli("run", "--engine", "dask", BOOKSHOP, str(path))
    assert done.exit_code == 2
    assert done.stderr == ("error: running on Dask needs dask[dataframe] and pandas (dask is missing): "
                           "pip install 'rewardlang[dask]'\n")
