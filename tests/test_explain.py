"""``rewardlang explain`` and ``Engine.explain``: each rule's decision on each event, with values.

Golden files: each ``tests/golden/explain/NAME.reward`` is a small hand-checked scenario for one
reason a rule can fire or fail to fire (its first line, ``# explain: ARGS``, is the command's
arguments after the ruleset and the events), ``NAME.jsonl`` its events and ``NAME.txt`` exactly
what ``rewardlang explain`` prints. To regenerate the .txt files after an intended change of
wording, run

    REWARDLANG_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_explain.py

and then check every changed file by hand (``git diff tests/golden/explain``): is each number
what the rules make of the events, is each reason the true one, does it read well?

Explain is built on the kernel's own decisions: a test holds the effects of an explanation equal
to a run's, and each firing's points equal to the ledger line it made.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import rewardlang
from rewardlang import explain as explain_module
from rewardlang.cli import main
from rewardlang.effects import canonical
from rewardlang.engine import Engine
from rewardlang.generate import generate_stream

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "explain"
UPDATE = os.environ.get("REWARDLANG_UPDATE_GOLDEN") == "1"
CASES = sorted(GOLDEN.glob("*.reward"))


def _args(path: Path) -> list[str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# explain: "), f"{path.name}: the first line must be `# explain: ARGS`"
    return shlex.split(first[len("# explain: "):])


def _explain_cli(path: Path, *extra: str) -> tuple[int, str, str]:
    rel = path.relative_to(ROOT).as_posix()
    events = rel[: -len(".reward")] + ".jsonl"
    result = CliRunner().invoke(main, ["explain", rel, events, *_args(path), *extra])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # the golden output names the files as the command was given them


# ---------------------------------------------------------------------------- golden


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path) -> None:
    code, out, err = _explain_cli(path)
    assert code == 0, err
    expected_path = path.with_suffix(".txt")
    if UPDATE:
        if not expected_path.exists() or expected_path.read_text(encoding="utf-8") != out:
            expected_path.write_text(out, encoding="utf-8", newline="\n")
        return
    assert expected_path.exists(), f"no {expected_path.name}: run with REWARDLANG_UPDATE_GOLDEN=1 and check it"
    assert out == expected_path.read_text(encoding="utf-8")


def test_every_golden_file_has_its_parts():
    for path in CASES:
        assert path.with_suffix(".jsonl").exists() and path.with_suffix(".txt").exists(), path.name
    orphans = [p.name for p in GOLDEN.glob("*.txt") if not p.with_suffix(".reward").exists()]
    assert not orphans


def _golden_decisions():
    for path in CASES:
        program = rewardlang.load(path)
        events = [json.loads(line) for line in path.with_suffix(".jsonl").read_text(encoding="utf-8").splitlines()]
        args = _args(path)
        until = args[args.index("--until") + 1] if "--until" in args else None
        yield from Engine(program).explain(events, "c1", until=until).decisions


def test_the_golden_files_cover_every_reason():
    """One hand-checked scenario at least for each reason a rule fires or not, and each kind of
    scheduled item."""
    labels = {(explain_module.label(d), d.outcome) for d in _golden_decisions()}
    seen = {label for label, _ in labels}
    assert {"fired", "no match", "outside", "not yet", "used up", "skipped", "suppressed",
            "released", "expired", "reminder", "birthday", "inactive", "tier"} <= seen
    assert ("no match", "outside") in labels  # a `for` segment, worded as the condition it is
    assert ("no match", "no_match") in labels  # a `where`


def test_the_golden_reasons_have_values():
    texts = {d.text for d in _golden_decisions()}
    assert "249.00 SEK ÷ 10 SEK × 1 = 24.9 → 24 (rounding down): +24 points" in texts
    assert "amount 249.00 SEK is not >= 300 SEK" in texts
    assert 'customer is not in segment stockholm (customer.city is "Malmö", not "Stockholm")' in texts
    assert "at most 3 per month: 3 of 3 this month" in texts
    assert '"Promo" fired instead of it (instead of "Base points")' in texts
    assert "2026-03-01 is not from 2026-12-01 to 2026-12-24" in texts
    assert "2026-03-01 is a sunday, not on saturday" in texts
    assert "10:15 is not between 17:00 and 19:00" in texts


def test_interpreted_engine_gives_the_same_decisions():
    """The reasons are worded from the tree-walking oracle, and the compiled engine decides: on
    every golden scenario both engines record the same decisions."""
    for path in CASES:
        program = rewardlang.load(path)
        events = [json.loads(line) for line in path.with_suffix(".jsonl").read_text(encoding="utf-8").splitlines()]
        compiled = Engine(program).explain(events, "c1").decisions
        interpreted = Engine(program, interpreted=True).explain(events, "c1").decisions
        assert compiled == interpreted, path.name


# ---------------------------------------------------------------------------- the same as a run


def _bookshop_events(customers: int = 40):
    return list(generate_stream(customers, 1, 7, dt.date(2026, 1, 1), problems=True))


def _firings(effects):
    """What rules' firings put in the ledger: points and pending lines with a rule, not
    reversals (refunds) or releases (the award was the pending line); conversions' debits."""
    got: Counter = Counter()
    for e in effects:
        if e.kind in ("points", "pending") and e.rule is not None and e.get("reverses") is None \
                and e.get("releases") is None:
            got.update({(e.event, e.rule): e.get("points") if e.kind == "points" else e.get("pending")})
    return got


def test_explain_effects_equal_the_run_and_firings_equal_their_lines():
    program = rewardlang.load(ROOT / "rulesets" / "bookshop.reward")
    events = _bookshop_events()
    run = Engine(program).run(events)
    customers = sorted({e.customer for e in run.effects})
    assert len(customers) > 20
    for customer in customers:
        explanation = Engine(program).explain(events, customer)
        mine = [e for e in run.effects if e.customer == customer]
        assert [e.to_dict() for e in canonical(list(explanation.effects))] == [e.to_dict() for e in mine]
        fired: Counter = Counter()
        for d in explanation.decisions:
            if d.outcome == "fired" and d.points:
                fired.update({(d.event, d.rule): d.points})
        assert fired == _firings(explanation.effects)


def test_explain_leaves_the_engine_alone_and_starts_from_its_state():
    program = rewardlang.load(ROOT / "rulesets" / "bookshop.reward")
    first = {"id": "e1", "type": "purchase", "customer": "c1", "time": "2026-03-02T10:00:00+01:00",
             "amount": "100.00", "category": "books", "items": 1}
    second = dict(first, id="e2", time="2026-03-03T10:00:00+01:00")
    engine = Engine(program)
    engine.run([first])
    before = engine.state_of("c1")
    explanation = engine.explain([second], "c1")
    assert engine.state_of("c1") == before
    (step,) = [s for s in explanation.steps if s.kind == "event"]
    used = [d for d in step.decisions if d.rule == "First purchase"]
    assert [d.outcome for d in used] == ["used_up"]  # it knows e1 came before
    # e1: "Base points" 10 and "First purchase" 200; e2: "Base points" 10 (no birthdate: not young)
    assert step.after is not None and step.after.pending == 10 + 200 + 10


# ---------------------------------------------------------------------------- the command


def test_one_event_with_the_scheduled_items_before_it():
    result = CliRunner().invoke(main, ["explain", "tests/golden/explain/scheduled.reward",
                                       "tests/golden/explain/scheduled.jsonl", "--customer", "c1", "--event", "e1"])
    code, out = result.exit_code, result.stdout
    assert code == 0
    assert "event e1 (purchase): applied" in out and "event p0" not in out and "released" not in out
    program = rewardlang.load(GOLDEN / "scheduled.reward")
    later = {"id": "e2", "type": "purchase", "customer": "c1", "time": "2026-03-20T10:00:00+01:00", "amount": "5"}
    events = [json.loads(line) for line in (GOLDEN / "scheduled.jsonl").read_text(encoding="utf-8").splitlines()]
    steps = Engine(program).explain(events + [later], "c1", "e2").steps
    assert [(s.kind, s.event) for s in steps] == [("scheduled", None), ("scheduled", None), ("event", "e2")]
    assert [d.outcome for d in steps[0].decisions] == ["release", "fired"]  # and the conversion it allows
    assert [d.outcome for d in steps[1].decisions] == ["birthday", "fired"]


def test_json_format():
    code, out, _ = _explain_cli(GOLDEN / "fired_arithmetic.reward", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["customer"] == "c1" and data["timezone"] == "Europe/Stockholm"
    assert data["ruleset"] == "tests/golden/explain/fired_arithmetic.reward"
    first = data["steps"][0]
    assert first["event"] == "e1" and first["status"] == "applied" and first["fields"] == {"amount": "249.00"}
    assert first["decisions"][0] == {
        "time": "2026-03-02T09:15:00Z", "event": "e1", "rule": "Base points", "outcome": "fired", "detail": "",
        "text": "249.00 SEK ÷ 10 SEK × 1 = 24.9 → 24 (rounding down): +24 points", "points": 24}
    assert first["effects"][0]["kind"] == "points" and first["after"]["balance"] == 54


def test_duplicates_and_rejections_are_shown(tmp_path):
    ruleset = tmp_path / "r.reward"
    ruleset.write_text("event review\nreview earns 5 points\n", encoding="utf-8")
    line = '{"id": "r1", "type": "review", "customer": "c1", "time": "2026-03-02T10:00:00Z"}'
    events = tmp_path / "e.jsonl"
    events.write_text("\n".join([line, line, '{"id": "r2", "type": "review", "customer": "c1"}',
                                 '{"id": "r3", "type": "reviw", "customer": "c1", "time": "2026-03-03T10:00:00Z"}',
                                 "not json"]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(ruleset), str(events), "--customer", "c1"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "event r1 (review): applied" in out
    assert "event r1: duplicate: a repeat of an applied line: not applied again" in out
    assert "event r2: rejected: the event has no `time`" in out
    assert "event r3: rejected: " in out


def test_unknown_customer_or_event_is_exit_1(tmp_path):
    path = GOLDEN / "fired_arithmetic.reward"
    code, out, err = _explain_cli(path, "--customer", "c9")  # the last --customer wins
    assert code == 1 and out == ""
    assert "error: customer 'c9' has no event in tests/golden/explain/fired_arithmetic.jsonl" in err
    code, out, err = _explain_cli(path, "--event", "nope")
    assert code == 1 and "has no event 'nope' in the input; its events are e1, e2" in err


def test_usage_errors_are_exit_2_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.reward"
    bad.write_text('event purchase\nrule "A": purchse earns 1 point\n', encoding="utf-8")
    events = GOLDEN / "outside.jsonl"
    runner = CliRunner()
    for args in (["explain", str(bad), str(events), "--customer", "c1"],
                 ["explain", str(GOLDEN / "outside.reward"), str(tmp_path / "missing.jsonl"), "--customer", "c1"],
                 ["explain", str(GOLDEN / "outside.reward"), str(events), "--customer", "c1", "--until", "soon"],
                 ["explain", str(GOLDEN / "outside.reward"), str(events), "--customer", "c1", "--event", "e1",
                  "--until", "2026-06-01T00:00:00Z"],
                 ["explain", str(GOLDEN / "outside.reward"), str(events)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    result = runner.invoke(main, ["explain", str(bad), str(events), "--customer", "c1"])
    assert "error[RL101]" in result.stderr and "purchse" in result.stderr


def test_csv_input(tmp_path):
    events = tmp_path / "e.csv"
    events.write_text("id;type;customer;time\ne1;purchase;c1;2026-03-01T09:15:00Z\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(GOLDEN / "outside.reward"), str(events), "--customer", "c1",
                                       "--csv-delimiter", ";"])
    assert result.exit_code == 0, result.stderr
    assert '"Any day": +1 point' in result.stdout


def test_the_example_in_the_docs_is_what_explain_prints(tmp_path):
    """docs/explain.md shows events and the report they give: the two are held in step."""
    doc = (ROOT / "docs" / "explain.md").read_text(encoding="utf-8")
    blocks = doc.split("```\n")
    events_block = next(b for b in blocks if b.startswith('{"id": "p1"'))
    shown = next(b for b in blocks if b.startswith("Customer c42 with"))
    (tmp_path / "events.jsonl").write_text(events_block, encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", "rulesets/bookshop.reward", str(tmp_path / "events.jsonl"),
                                       "--customer", "c42"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == shown
