"""The benchmark suite (``benchmarks/run.py``) and its parts, at their smallest, so that they do
not rot: the whole suite in ``--smoke`` mode (seconds) and the shape of the ``results.json`` it
writes; the chunked paths (10⁷ events, 10⁶ customers) on a tiny chunk; the peers (``bench``
extra; each skipped if not installed) against the same subset written by hand; the workloads.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))

import peers  # noqa: E402
import workloads  # noqa: E402
from generate_events import generate  # noqa: E402

import rewardlang  # noqa: E402
from rewardlang.engine import Engine  # noqa: E402

SECTIONS = ("engine", "apply", "endtoend", "events", "rules", "customers", "check", "startup")


def _suite():
    spec = importlib.util.spec_from_file_location("rewardlang_bench_suite", BENCH / "run.py")
    module = sys.modules.get(spec.name)
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while it executes
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    work = tmp_path_factory.mktemp("bench")
    out = work / "results.json"
    done = subprocess.run([sys.executable, str(BENCH / "run.py"), "--smoke", "--json", str(out), "--work", str(work)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), done.stdout


def test_smoke_suite_writes_every_section(smoke: tuple[dict, str]) -> None:
    results, printed = smoke
    assert results["mode"] == "smoke"
    assert results["errors"] == {}
    assert set(results["sections"]) == set(SECTIONS)
    for key in ("date", "python", "machine", "source", "peers", "timing", "sizes", "wall_seconds"):
        assert key in results
    assert results["machine"]["cpus"] >= 1
    assert results["python"]["version"] == sys.version.split()[0]
    for name in SECTIONS:
        section = results["sections"][name]
        assert section["rows"], name
        assert section["section_seconds"] >= 0
    assert "## Goals (issue 7)" in printed
    for title in ("Engine.run and its peers", "Engine.apply latency", "rewardlang run end to end", "Scaling with events",
                  "Scaling with rules", "Scaling with customers", "check: parse + check", "Start-up"):
        assert title in printed


def test_smoke_figures_and_ratios(smoke: tuple[dict, str]) -> None:
    s = smoke[0]["sections"]
    engine = s["engine"]
    assert engine["ledgers_equal"] is True
    rows = {r["what"]: r for r in engine["rows"]}
    e, h = rows["Engine.run"], rows["hand-written function (the ceiling)"]
    assert e["events_per_s"] > 0 and e["vs_hand"] == pytest.approx(e["seconds"] / h["seconds"])
    assert h["vs_hand"] == pytest.approx(1.0) and e["engine_faster"] == pytest.approx(1.0)
    listed = {r["peer"]: r for r in engine["rows"] if r.get("peer")}
    assert set(listed) == {cls.package for cls in peers.PEERS}  # a missing peer is listed, not dropped
    for cls in peers.PEERS:
        row = listed[cls.package]
        try:
            importlib.import_module(cls.module)
        except ImportError:  # not installed, or does not import here: said in the table, with the error
            assert row["status"].startswith(("not installed (", "does not load (")) and row["seconds"] is None
        else:
            assert row["status"] == "ok" and row["same_as_subset"] is True and row["engine_faster"] > 0
    assert {r["level"] for r in engine["coverage"].values()} <= {"full", "part", "none"}

    apply = s["apply"]["rows"][0]
    assert 0 < apply["p50_us"] <= apply["p90_us"] <= apply["p99_us"] <= apply["max_us"]
    run, floor = s["endtoend"]["rows"]
    assert run["vs_floor_cpu"] == pytest.approx(run["cpu_s"] / floor["cpu_s"]) and run["peak_mib"] > 0
    assert [r["events"] for r in s["events"]["rows"]] == [1_000, 3_000]
    assert [r["rules"] for r in s["rules"]["rows"]] == [10, 100, 1_000]
    assert all(r["matching_hot"] == workloads.HOT_RULES for r in s["rules"]["rows"])
    assert all(r["engine_bytes"] > 0 for r in s["customers"]["rows"])
    assert [r["rules"] for r in s["check"]["rows"]] == [10, 100, 1_000]
    assert [r["what"] for r in s["startup"]["rows"]][2:] == ["rewardlang --version",
                                                             "rewardlang check rulesets/bookshop.reward"]


def test_smoke_goals(smoke: tuple[dict, str]) -> None:
    goals = smoke[0]["goals"]
    assert len(goals) == 9
    for g in goals:
        assert set(g) >= {"goal", "target", "figure", "met", "measured_in"}
        assert g["met"] in (True, False, None)
        assert (g["figure"] is None) == (g["met"] is None)
    check = next(g for g in goals if g["goal"] == "check of 100,000 rules")
    assert check["met"] is None  # smoke mode stops at 1,000 rules: said, not guessed


def test_markdown_tables_for_the_docs(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCH / "run.py"), "--smoke", "--markdown", "--only", "check",
                           "--json", str(tmp_path / "r.json"), "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "**check: parse + check of generated rulesets (rewardlang.check_text, in this process, grammar built)**" in lines
    header = lines.index("| rules | lines | CPU s | µs/rule | rules/s | × µs/rule of the first |")
    assert lines[header + 1] == "|---|---|---|---|---|---|"
    assert lines[header + 2].startswith("| 10 | 50 | ")
    assert "**Goals (issue 7)**" in lines and any(line.startswith("_") and line.endswith(" s_") for line in lines)


def test_chunked_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sections' paths for streams above one chunk (10⁷ events, 10⁶ customers), on a tiny chunk."""
    suite = _suite()
    monkeypatch.setattr(workloads, "CHUNK", 500)
    sizes = suite.Sizes(contenders=300, repeat=1, endtoend=300, events=(400, 1_200), rules=(10,), rule_events=50,
                        customers=(8, 30), traced_hand=(30,), check=(10,), startup_repeat=1)
    ctx = suite.Context("test", sizes, 1, tmp_path)
    events = suite.section_events(ctx)["rows"]
    assert [r["events"] for r in events] == [400, 1_200]
    assert events[1]["how"].startswith("Engine.run per chunk of 500")
    customers = suite.section_customers(ctx)["rows"]
    assert customers[1]["how"].startswith("Engine.run per chunk") and customers[1]["hand_bytes"] > 0
    assert customers[1]["customers"] == 30


def test_chunked_file_is_one_stream_of_disjoint_customers(tmp_path: Path) -> None:
    path = workloads.chunked_events_file(2_500, 3, chunk=1_000, work=tmp_path)
    chunks = list(workloads.read_chunks(path, 1_000))
    assert [len(c) for c in chunks] == [1_000, 1_000, 500]
    owners = [{e["customer"] for e in c if isinstance(e, dict) and isinstance(e.get("customer"), str)} for c in chunks]
    assert not (owners[0] & owners[1]) and not (owners[1] & owners[2])
    assert workloads.chunked_events_file(2_500, 3, chunk=1_000, work=tmp_path) == path  # kept, not rewritten
    # chunk k is generate(size, seed + k) with its customers renamed
    first = generate(1_000, 3)
    assert [e.get("id") for e in chunks[0]] == [e.get("id") for e in first]
    program = rewardlang.load(ROOT / "rulesets" / "bookshop.reward")
    one, per_chunk = Engine(program), Engine(program)
    whole = one.run([e for c in chunks for e in c]).effects
    pieces = [x for c in chunks for x in per_chunk.run(c).effects]
    assert sorted(x.to_json() for x in whole) == sorted(x.to_json() for x in pieces)


def test_typed_rulesets_hold_the_hot_type_at_five_rules() -> None:
    for n in (10, 100, 1_000):
        text = workloads.typed_ruleset(n)
        checked = rewardlang.check_text(text, f"typed-{n}.reward")
        assert checked.program is not None, checked.diagnostics[:3]
        rules = [line for line in text.splitlines() if line.startswith("rule ")]
        assert len(rules) == n
        assert sum(": t00 " in line for line in rules) == workloads.HOT_RULES
        assert sum(line.startswith("event t") for line in text.splitlines()) == workloads.N_TYPES
    hot = workloads.typed_events(50, hot=True)
    assert {e["type"] for e in hot} == {"t00"}
    report = Engine(rewardlang.loads(workloads.typed_ruleset(10), "t.reward")).run(workloads.typed_events(200, hot=False))
    assert report.counts["applied"] == 200


def test_coverage_names_every_rule_of_the_bookshop() -> None:
    program = rewardlang.load(ROOT / "rulesets" / "bookshop.reward")
    assert tuple(peers.COVERAGE) == peers.RULES == tuple(program.rule_names)
    assert peers.coverage_text() == "expresses 6 of 17 rules in full, 7 in part, 4 not"
    # what a peer expresses (in full or in part) is what the shop has an action for
    expressed = {name for name, (level, _) in peers.COVERAGE.items() if level != "none"}
    assert expressed == set(peers.RuleEnginePeer.EXPRESSIONS) | {"Bonus check"}
    assert expressed == {name for name, _ in peers.BusinessRulesPeer.RULES} | {"Bonus check"}


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return generate(3_000, 2)


@pytest.fixture(scope="module")
def reference(events: list[dict]) -> dict:
    summary = peers.Shop(peers.SubsetByHand()).run(events).summary()
    assert summary["firings"]["Base points"] > 0 and summary["firings"]["Bonus check"] > 0
    return summary


@pytest.mark.parametrize("cls", peers.PEERS, ids=lambda c: c.package)
def test_peer_decides_as_the_subset_by_hand(cls: type[peers.Peer], events: list[dict], reference: dict) -> None:
    pytest.importorskip(cls.module)
    peer, error = peers.load(cls)
    assert peer is not None, error
    assert peers.Shop(peer).run(events).summary() == reference


def test_a_missing_peer_says_why() -> None:
    class Missing(peers.Peer):
        name = package = "no-such-rules-library"
        module = "no_such_rules_library"

    peer, error = peers.load(Missing)
    assert peer is None and "ModuleNotFoundError" in error
    assert peers.version(Missing) is None


def test_peers_are_the_bench_extra_never_a_runtime_dependency() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    bench = " ".join(project["optional-dependencies"]["bench"])
    runtime = " ".join(project["dependencies"])
    for cls in peers.PEERS:
        assert cls.package in bench
        assert cls.package not in runtime
