"""``rewardlang test``: ruleset test files, their expectations, output formats and exit codes.

- Every expectation kind has a passing and a failing test file under
  ``tests/fixtures/rulesettests/`` (``KIND.test.yaml`` passes, ``KIND.fails.yaml`` fails; the
  failing files are not named ``*.test.yaml``, so that running the directory runs only the
  passing ones). All of them use the small ``shop.reward`` there.
- Invalid test files are written inline into ``tmp_path``, so that the line numbers the
  messages must name stand next to the assertion.
- The shipped rulesets' test files must pass, with every rule of every ruleset firing: this is
  the CI gate for ``rulesets/``.
"""

from __future__ import annotations

import inspect
import itertools
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from rewardlang import rulesettests
from rewardlang.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rulesettests"
RULESETS = ROOT / "rulesets"
KINDS = ("effects", "balances", "pending", "tiers", "vouchers", "free_items", "rejected", "until")

SHOP = (FIXTURES / "shop.reward").read_text(encoding="utf-8")
SIGNUP = '{id: s1, type: signup, customer: anna, time: "2026-03-02T10:00:00+01:00"}'


def _runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner).parameters:  # click < 8.2
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


def run(*args: str | os.PathLike[str]) -> Result:
    return _runner().invoke(main, ["test", *map(os.fspath, args)], catch_exceptions=False)


def _rel(path: Path) -> str:
    """A path as the command shows it: as it was given (these tests give absolute paths)."""
    return os.fspath(path)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A directory holding shop.reward, for inline test files."""
    (tmp_path / "shop.reward").write_text(SHOP, encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------------------- the shipped rulesets


def test_every_shipped_ruleset_has_a_test_file():
    missing = [p.name for p in sorted(RULESETS.glob("*.reward")) if not p.with_suffix(".test.yaml").exists()]
    assert not missing, f"rulesets without a test file: {missing}"


def test_shipped_rulesets_pass_and_every_rule_fires():
    result = run(RULESETS, "--coverage-fail", "--format", "json")
    document = json.loads(result.stdout)
    failed = [(c["id"], c["failures"]) for c in document["cases"] if c["status"] != "pass"]
    assert not failed
    uncovered = {c["ruleset"]: c["uncovered"] for c in document["coverage"] if c["uncovered"]}
    assert not uncovered, f"rules that no case makes fire: {uncovered}"
    assert {Path(c["ruleset"]).name for c in document["coverage"]} == {p.name for p in RULESETS.glob("*.reward")}
    assert result.exit_code == 0, result.stderr


def test_shipped_rulesets_text_output():
    result = run(RULESETS)
    lines = result.stdout.splitlines()
    cases = [line for line in lines if line.startswith(("PASS ", "FAIL "))]
    assert cases and all(line.startswith("PASS rulesets") or line.startswith(f"PASS {RULESETS}") for line in cases)
    assert lines[-1] == f"PASS: {len(cases)}/{len(cases)}"
    assert result.exit_code == 0


# ---------------------------------------------------------------------------- every expectation kind


@pytest.mark.parametrize("kind", KINDS)
def test_passing_file(kind: str):
    result = run(FIXTURES / f"{kind}.test.yaml")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    total = result.stdout.count("\nPASS ") + result.stdout.startswith("PASS ")
    assert result.stdout.splitlines()[-1] == f"PASS: {total}/{total}"


# For each failing file: per case, text that its failure must show (the readable diff).
FAILS = {
    "effects": {
        "a value differs": ["effects: expected line 1 is not in the ledger (3 lines)",
                            '"pending": 61}', "nearest, ledger line 3:", "pending: expected 61, got 60",
                            "the ledger:"],
        "out of order": ["not in this order (ordered: true)", "is in the ledger only at line 1, not after line 3",
                         "<- expected line 1", "<- expected line 2"],
        "lines nobody expected": ["1 ledger line that no expected line matches (complete: true)",
                                  '"event": "p1", "rule": "Base points"'],
        "one ledger line for two expected lines": ["expected line 2 is not in the ledger",
                                                   "matches only ledger lines that other expected lines matched"],
    },
    "balances": {
        "a balance differs": ["balances: anna: expected 150, got 100"],
        "a customer with no events": ["customers: no event of this case is for ana (the case's customers: anna)",
                                      "ana: did you mean anna?"],
    },
    "pending": {"pending differs": ["pending: anna: expected 0, got 100"]},
    "tiers": {"no tier yet": ["tiers: bo: expected silver, got no tier (null)"]},
    "vouchers": {"one voucher, not two": ["vouchers: anna '50 SEK off': expected 2, got 1",
                                          "anna got, in all: '50 SEK off': 1"]},
    "free_items": {"two purchases are not enough": ["free_items: anna 'coffee': expected 1, got 0",
                                                    "anna got, in all: none"]},
    "rejected": {
        "an expected rejection that did not happen": ["rejected: 1 expected rejection did not happen",
                                                      "expected event s1 to be rejected with any reason",
                                                      "event 1 was applied, not rejected"],
        "a rejection nobody expected": ["rejected: 1 event was rejected unexpectedly",
                                        'event 1 (id r1, test file line 11) was rejected: not_enough_points: "Mug" costs 300 points',
                                        "list it under `rejected:`"],
        "rejected for another reason": ["expected event r1 to be rejected with code unknown_reward",
                                        "event 1 was rejected with code not_enough_points"],
    },
    "until": {"until is a second too early": ["balances: anna: expected 100, got 0"]},
}


def _blocks(stdout: str) -> dict[str, str]:
    """Each case's block of the text output (its PASS/FAIL line and what is indented under it)."""
    blocks: dict[str, str] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith(("PASS ", "FAIL ")):
            current = line.split("::", 1)[1]
            blocks[current] = line + "\n"
        elif line.startswith(" ") and current is not None:
            blocks[current] += line + "\n"
        else:
            current = None
    return blocks


@pytest.mark.parametrize("kind", KINDS)
def test_failing_file(kind: str):
    result = run(FIXTURES / f"{kind}.fails.yaml")
    assert result.exit_code == 1, result.stdout + result.stderr
    blocks = _blocks(result.stdout)
    assert set(blocks) == set(FAILS[kind])
    for name, needles in FAILS[kind].items():
        assert blocks[name].startswith("FAIL "), blocks[name]
        for needle in needles:
            assert needle in blocks[name], f"{needle!r} not in:\n{blocks[name]}"
    n = len(FAILS[kind])
    assert result.stdout.splitlines()[-2:] == [f"PASS: 0/{n}", f"FAIL: {n}/{n}"]


def test_a_directory_runs_only_test_files():
    result = run(FIXTURES)
    assert result.exit_code == 0, result.stdout
    ids = [line.split(" ", 1)[1] for line in result.stdout.splitlines() if line.startswith("PASS ")]
    assert {i.split("::")[0] for i in ids} == {os.path.join(_rel(FIXTURES), f"{k}.test.yaml") for k in KINDS}


def test_pass_and_fail_together_exit_1():
    result = run(FIXTURES / "tiers.test.yaml", FIXTURES / "tiers.fails.yaml")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-2:] == ["PASS: 1/2", "FAIL: 1/2"]


def test_verbose_shows_the_ledger_and_rejections():
    result = run(FIXTURES / "rejected.test.yaml", "-v", "-k", "events file")
    assert '    ledger (3 lines):' in result.stdout
    assert '"event": "p1", "rule": "Base points", "kind": "pending", "pending": 60}' in result.stdout
    assert "    rejected: line 3: not_json:" in result.stdout
    assert result.exit_code == 0


def test_a_bad_event_fails_the_case_even_without_rejected(shop: Path):
    (shop / "a.test.yaml").write_text(
        "ruleset: shop.reward\ncases:\n  - name: typo\n    events:\n"
        '      - {id: p1, type: purchase, customer: anna, time: "2026-03-03T12:00:00+01:00", amont: "10.00", '
        "category: books}\n"
        "    balances: {anna: 0}\n", encoding="utf-8")
    result = run(shop / "a.test.yaml")
    assert result.exit_code == 1
    assert "event 1 (id p1, test file line 5) was rejected: missing_field:" in result.stdout


# ---------------------------------------------------------------------------- junit and json


def test_junit_output_parses_and_counts():
    files = [FIXTURES / "effects.test.yaml", FIXTURES / "effects.fails.yaml", FIXTURES / "rejected.fails.yaml"]
    result = run(*files, "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [_rel(f) for f in files]
    cases = root.findall("testsuite/testcase")
    failures = root.findall("testsuite/testcase/failure")
    assert int(root.get("tests")) == len(cases) == 5 + 4 + 3
    assert int(root.get("failures")) == len(failures) == 4 + 3
    assert root.get("errors") == "0"
    for suite in suites:
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert suite.get("errors") == "0"
        for case in suite.findall("testcase"):
            assert case.get("classname") == suite.get("name") == case.get("file")
            assert int(case.get("line")) > 0
            float(case.get("time"))
    passing = suites[0].findall("testcase")
    assert [c.get("name") for c in passing][0] == "lines in any order, only the keys written"
    assert all(c.find("failure") is None for c in passing)
    differs = next(c for c in cases if c.get("name") == "a value differs")
    failure = differs.find("failure")
    assert failure.get("type") == "effects"
    assert failure.get("message").startswith("effects: expected line 1 is not in the ledger")
    assert "pending: expected 61, got 60" in failure.text


def test_junit_output_of_an_invalid_file(shop: Path):
    (shop / "bad.test.yaml").write_text("ruleset: shop.reward\ncases: 3\n", encoding="utf-8")
    result = run(shop / "bad.test.yaml", "--format", "junit")
    assert result.exit_code == 2
    root = ET.fromstring(result.stdout)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "1")
    (error,) = root.findall("testsuite/testcase/error")
    assert f"{_rel(shop / 'bad.test.yaml')}:2: error: cases must be a list" in error.get("message")


def test_json_output():
    result = run(FIXTURES / "balances.test.yaml", FIXTURES / "balances.fails.yaml", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["summary"] == {"total": 3, "passed": 1, "failed": 2, "errors": 0}
    assert document["errors"] == []
    assert "coverage" not in document
    by_name = {c["name"]: c for c in document["cases"]}
    assert by_name["balances after the release"]["status"] == "pass"
    differs = by_name["a balance differs"]
    assert differs["status"] == "fail"
    assert differs["id"] == f"{_rel(FIXTURES / 'balances.fails.yaml')}::a balance differs"
    assert differs["ruleset"] == _rel(FIXTURES / "shop.reward")
    assert differs["line"] == 3
    assert differs["failures"] == [{"kind": "balances", "message": "balances: anna: expected 150, got 100",
                                    "details": []}]
    assert by_name["a customer with no events"]["failures"][0]["kind"] == "customers"


def test_json_output_of_an_invalid_file(shop: Path):
    (shop / "bad.test.yaml").write_text("ruleset: shop.reward\nkases: []\n", encoding="utf-8")
    result = run(shop / "bad.test.yaml", "--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["summary"]["errors"] == 1 and document["cases"] == []
    (error,) = document["errors"]
    assert error["line"] == 2 and "did you mean `cases`?" in error["message"]


# ---------------------------------------------------------------------------- invalid test files


def _invalid(shop: Path, text: str, name: str = "bad.test.yaml") -> Result:
    path = shop / name
    path.write_text(text, encoding="utf-8")
    result = run(path)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stdout == ""  # no case ran
    assert "no case was run" in result.stderr
    assert "Traceback" not in result.stderr
    return result


def test_yaml_syntax_error_names_file_line_and_column(shop: Path):
    text = ("ruleset: shop.reward\ncases:\n  - name: x\n    events:\n"
            f"      - {SIGNUP[:-1]}\n"  # the closing brace is missing
            "    balances: {anna: 100}\n")
    result = _invalid(shop, text)
    where = _rel(shop / "bad.test.yaml")
    assert f"{where}:6:5: error: not valid YAML: expected ',' or '}}'" in result.stderr
    assert "while parsing a flow mapping from line 5" in result.stderr


def test_tabs_are_a_yaml_error(shop: Path):
    result = _invalid(shop, "ruleset: shop.reward\ncases:\n\t- name: x\n")
    assert f"{_rel(shop / 'bad.test.yaml')}:3:1: error: not valid YAML" in result.stderr


CASE = f"ruleset: shop.reward\ncases:\n  - name: x\n    events: [{SIGNUP}]\n"

SCHEMA_ERRORS = [
    # (the test file, the line the message names, a part of the message)
    ("rulset: shop.reward\ncases: []\n", 1, "unknown key `rulset` in the test file; did you mean `ruleset`?"),
    ("cases: []\n", 1, "the test file names no ruleset; add `ruleset: NAME.reward`"),
    ("ruleset: shop.reward\n", 1, "the test file has no `cases:`"),
    ("ruleset: shop.reward\ncases: []\n", 2, "cases must be a list of cases (each `- name: ...`), not an empty list"),
    ("- ruleset: shop.reward\n", 1, "a test file must be a mapping (key: value lines), not a list"),
    ("", 1, "the file is empty"),
    ("ruleset: shop.reward\nruleset: shop.reward\ncases: []\n", 2, "`ruleset` is given twice in a test file (first on line 1)"),
    ("ruleset: nowhere.reward\ncases: []\n", 1, "ruleset: there is no file"),
    ("ruleset: [shop.reward]\ncases: []\n", 1, "ruleset must be text, not a list"),
    (CASE + "    balance: {anna: 100}\n", 5, "unknown key `balance` in case 'x'; did you mean `balances`?"),
    (CASE + "    balances: {anna: lots}\n", 5, "balances of anna must be a whole number, not the text 'lots'"),
    (CASE + "    balances: {anna: 1.5}\n", 5, "balances of anna must be a whole number, not the number 1.5"),
    (CASE + "    balances: [anna]\n", 5, "balances must be a mapping (key: value lines), not a list"),
    (CASE + "    pending: {anna: -1}\n", 5, "pending of anna must be at least 0"),
    (CASE + "    tiers: {anna: silvr}\n", 5, "tiers of anna: the ruleset has no tier 'silvr'; did you mean `silver`?"),
    (CASE + "    vouchers: {anna: {50 SEK of: 1}}\n", 5,
     "the ruleset gives no voucher '50 SEK of'; did you mean \"50 SEK off\"?"),
    (CASE + "    free_items: {anna: {cofee: 1}}\n", 5, "the ruleset gives no free item 'cofee'; did you mean `coffee`?"),
    (CASE + "    effects:\n      - {rule: Welcom}\n", 6, "effects line 1: the ruleset has no rule 'Welcom'; did you mean \"Welcome\"?"),
    (CASE + "    effects:\n      - {kind: point}\n", 6, "kind 'point' is not a kind of ledger line; did you mean `points`?"),
    (CASE + "    effects:\n      - {kind: voucher, points: 3}\n", 6,
     "effects line 1: `points` is not a key of voucher lines (they have time, customer, event, rule, kind, voucher, quantity)"),
    (CASE + "    effects:\n      - {kind: points, point: 3}\n", 6, "unknown key `point` of a ledger line; did you mean `points`?"),
    (CASE + "    effects:\n      - {points: many}\n", 6, "`points` must be a whole number, not the text 'many'"),
    (CASE + "    effects:\n      - {time: 2026-03-02}\n", 6, "`time` must be a time with an offset from UTC"),
    (CASE + "    effects:\n      - {}\n", 6, "effects line 1 is empty"),
    (CASE + "    effects: {rule: Welcome}\n", 5, "effects must be a list of ledger lines"),
    (CASE + "    ordered: true\n    balances: {anna: 0}\n", 5, "`ordered` is about `effects`, and case 'x' has none"),
    (CASE + "    effects: []\n    complete: yes\n", 6, "complete must be true or false, not the text 'yes'"),
    (CASE + "    until: 2026-04-01\n    balances: {anna: 0}\n", 5, "until must be a time with an offset from UTC"),
    (CASE + "    rejected: [{reason: late}]\n", 5, "rejected item 1 says neither `id` nor `line`; name the event"),
    (CASE + "    rejected: [{id: s1, why: late}]\n", 5, "unknown key `why` in rejected item 1"),
    (CASE, 3, "case 'x' expects nothing; add effects, balances"),
    ("ruleset: shop.reward\ncases:\n  - events: []\n", 3, "a case has no `name:`"),
    ("ruleset: shop.reward\ncases:\n  - name: x\n    balances: {anna: 0}\n", 3, "case 'x' has no `events:`"),
    ("ruleset: shop.reward\ncases:\n  - name: x\n    events: []\n    balances: {anna: 0}\n", 4,
     "events: the list is empty"),
    ("ruleset: shop.reward\ncases:\n  - name: x\n    events: [s1]\n    balances: {anna: 0}\n", 4,
     "event 1 must be a mapping"),
    ("ruleset: shop.reward\ncases:\n  - name: x\n    events: missing.jsonl\n    balances: {anna: 0}\n", 4,
     "events: {dir}/missing.jsonl: no such file: check the path (the path is relative to the test file)"),
    ("ruleset: shop.reward\ncases:\n  - name: x\n    events: [{id: &a [*a]}]\n    balances: {anna: 0}\n", 4,
     "nested more than 64 levels deep"),
    ("ruleset: shop.reward\ncases:\n  - name: x\n    events: [{id: !!binary aGk=}]\n    balances: {anna: 0}\n", 4,
     "the YAML tag tag:yaml.org,2002:binary is not supported"),
    (CASE + "    balances: {anna: 0}\n" + CASE.split("\n", 2)[2] + "    balances: {anna: 0}\n", 6,
     "two cases are named 'x' (the other is on line 3)"),
]


@pytest.mark.parametrize(("text", "line", "message"), SCHEMA_ERRORS, ids=[m[:40] for _, _, m in SCHEMA_ERRORS])
def test_schema_errors_name_file_and_line(shop: Path, text: str, line: int, message: str):
    result = _invalid(shop, text)
    where = _rel(shop / "bad.test.yaml")
    message = message.format(dir=_rel(shop))
    (headline,) = [text for text in result.stderr.splitlines() if text.startswith(f"{where}:")]
    assert headline.startswith(f"{where}:{line}: error: "), headline
    assert message in headline


def test_every_broken_case_is_reported(shop: Path):
    text = (CASE + "    balances: {anna: x}\n"
            "  - name: y\n    events: [{id: 1}]\n    tiers: {anna: gld}\n"
            "  - name: z\n    events: [{id: 1}]\n    pending: {anna: 0}\n")
    result = _invalid(shop, text)
    where = _rel(shop / "bad.test.yaml")
    assert f"{where}:5: error: balances of anna" in result.stderr
    assert f"{where}:8: error: tiers of anna" in result.stderr
    assert "error: 2 problems with the test files" in result.stderr


def test_a_ruleset_with_errors_is_shown_like_check(shop: Path):
    (shop / "broken.reward").write_text('event purchase\nrule "A": purchse earns 10 points\n', encoding="utf-8")
    result = _invalid(shop, f"ruleset: broken.reward\ncases:\n  - name: x\n    events: [{SIGNUP}]\n"
                            "    balances: {anna: 0}\n")
    broken = _rel(shop / "broken.reward")
    assert (f"{_rel(shop / 'bad.test.yaml')}:1: error: ruleset: {broken} has 1 error; fix it "
            f"(rewardlang check {broken})") in result.stderr
    assert f"    {broken}:2:11: error[RL101]: unknown event `purchse`" in result.stderr
    assert "did you mean `purchase`?" in result.stderr


def test_a_test_file_that_is_not_utf8(shop: Path):
    (shop / "bad.test.yaml").write_bytes(b"ruleset: shop.reward\ncases: \xff\n")
    result = run(shop / "bad.test.yaml")
    assert result.exit_code == 2
    assert f"{_rel(shop / 'bad.test.yaml')}:2: error: not valid UTF-8 (byte 0xff)" in result.stderr


def test_paths_that_do_not_exist_or_hold_no_test_file(tmp_path: Path):
    result = run(tmp_path / "nowhere.test.yaml")
    assert result.exit_code == 2
    assert "nowhere.test.yaml: error: no such file or directory; check the path" in result.stderr
    (tmp_path / "empty").mkdir()
    result = run(tmp_path / "empty")
    assert result.exit_code == 2
    assert "empty: error: no *.test.yaml files in this directory" in result.stderr


# ---------------------------------------------------------------------------- -k


def _ids(result: Result) -> list[str]:
    return [line.split("::", 1)[1] for line in result.stdout.splitlines() if line.startswith(("PASS ", "FAIL "))]


def test_k_selects_by_substring_of_file_and_name():
    assert _ids(run(FIXTURES, "-k", "NOTHING happens")) == ["nothing happens"]
    assert _ids(run(FIXTURES, "-k", "effects.test.yaml::lines in")) == [
        "lines in any order, only the keys written", "lines in the order of the ledger"]
    assert _ids(run(FIXTURES, "-k", "tiers::", "-k", "vouchers::")) == [
        "silver at 1000 SEK, none below", "a voucher on reaching silver"]
    result = run(FIXTURES, "-k", "rejected.test")
    assert len(_ids(result)) == 2 and result.stdout.splitlines()[-1] == "PASS: 2/2"


def test_k_that_selects_nothing_is_a_usage_error():
    result = run(FIXTURES, "-k", "no such case")
    assert result.exit_code == 2
    assert "error: -k no such case: no case matches, of 13 cases in 8 test files" in result.stderr


# ---------------------------------------------------------------------------- coverage


def test_coverage_lists_the_rules_that_never_fire():
    result = run(FIXTURES, "--coverage")
    assert result.exit_code == 0
    shop = _rel(FIXTURES / "shop.reward")
    assert f"Coverage of {shop}: 5 of 6 rules fired, 1 of 1 tiers reached" in result.stdout
    assert f'    {shop}:22: "Never"' in result.stdout
    failing = run(FIXTURES, "--coverage-fail")
    assert failing.exit_code == 1
    assert "--coverage-fail: a rule never fires" in failing.stderr


def test_coverage_counts_a_firing_that_writes_no_line():
    # a 5 SEK purchase: "Base points" comes to 0 points, so no line, but it fired
    result = run(FIXTURES / "effects.test.yaml", "-k", "nothing happens", "--coverage", "--format", "json")
    (coverage,) = json.loads(result.stdout)["coverage"]
    uncovered = {u["rule"] for u in coverage["uncovered"]}
    assert "Base points" not in uncovered
    assert uncovered == {"Welcome", "Welcome mail", "Coffee card", "Silver voucher", "Never"}
    assert coverage["tiers_not_reached"] == ["silver"]


def test_coverage_with_junit_goes_to_stderr():
    result = run(FIXTURES / "tiers.test.yaml", "--coverage", "--format", "junit")
    ET.fromstring(result.stdout)
    assert "Coverage of" in result.stderr


# ---------------------------------------------------------------------------- loading details


def test_yaml_scalars_keep_money_exact_and_times_as_text(shop: Path):
    (shop / "a.test.yaml").write_text(
        "ruleset: shop.reward\ncases:\n  - name: x\n    events:\n"
        "      - {id: 7, type: purchase, customer: 0123, time: 2026-03-03T12:00:00+01:00, amount: 249.90,"
        " category: NO, note: yes, at: 10:30, big: 1e3, none: ~}\n"
        "    balances: {\"0123\": 0}\n", encoding="utf-8")
    loaded = rulesettests.load_test_file(os.fspath(shop / "a.test.yaml"))
    assert isinstance(loaded, rulesettests.TestFile)
    (item,) = loaded.cases[0].inputs
    value = dict(item.value)
    assert value == {"id": 7, "type": "purchase", "customer": "0123", "time": "2026-03-03T12:00:00+01:00",
                     "amount": Decimal("249.90"), "category": "NO", "note": "yes", "at": "10:30",
                     "big": "1e3", "none": None}
    assert str(value["amount"]) == "249.90"
    result = run(shop / "a.test.yaml")
    assert result.exit_code == 0, result.stdout


def test_paths_are_relative_to_the_test_file(shop: Path, monkeypatch: pytest.MonkeyPatch):
    (shop / "sub").mkdir()
    (shop / "sub" / "events.jsonl").write_text(
        '{"id": "s1", "type": "signup", "customer": "anna", "time": "2026-03-02T10:00:00+01:00"}\n', encoding="utf-8")
    (shop / "sub" / "a.test.yaml").write_text(
        "ruleset: ../shop.reward\ncases:\n  - name: x\n    events: events.jsonl\n    pending: {anna: 100}\n",
        encoding="utf-8")
    monkeypatch.chdir(shop)
    result = run("sub")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"PASS {os.path.join('sub', 'a.test.yaml')}::x\n")


def test_the_installed_command():
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-m", "rewardlang", "test", os.fspath(FIXTURES / "until.fails.yaml")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1
    assert "FAIL " in done.stdout and "balances: anna: expected 100, got 0" in done.stdout


def test_the_example_of_the_docs_passes(tmp_path: Path):
    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    yaml_block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    events_block = text.split("```json\n", 1)[1].split("```", 1)[0]
    (tmp_path / "bookshop.reward").write_text((RULESETS / "bookshop.reward").read_text(encoding="utf-8"),
                                              encoding="utf-8")
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "first-purchase.jsonl").write_text(events_block, encoding="utf-8")
    (tmp_path / "bookshop.test.yaml").write_text(yaml_block, encoding="utf-8")
    result = run(tmp_path / "bookshop.test.yaml")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "PASS: 2/2"


@given(st.lists(st.lists(st.integers(0, 4), max_size=5, unique=True), max_size=5))
def test_effects_matching_is_maximum(adjacent: list[list[int]]):
    """Each expected line gets a ledger line of its own whenever some assignment allows it."""
    matched = rulesettests._matching(adjacent)
    used = [j for j in matched if j is not None]
    assert len(used) == len(set(used))
    assert all(j is None or j in adjacent[i] for i, j in enumerate(matched))
    best = max((sum(1 for i, j in enumerate(choice) if j is not None)
                for choice in itertools.product(*[[None, *options] for options in adjacent])
                if len([j for j in choice if j is not None]) == len({j for j in choice if j is not None})),
               default=0)
    assert len(used) == best


def test_junit_escapes_what_xml_cannot_carry(shop: Path):
    (shop / "a.test.yaml").write_text(
        f'ruleset: shop.reward\ncases:\n  - name: "a bell \\a and <tags> & co"\n    events: [{SIGNUP}]\n'
        "    pending: {anna: 1}\n", encoding="utf-8")
    result = run(shop / "a.test.yaml", "--format", "junit")
    assert result.exit_code == 1
    (case,) = ET.fromstring(result.stdout).iter("testcase")
    assert case.get("name") == "a bell \\u0007 and <tags> & co"
    assert case.find("failure").get("message") == "pending: anna: expected 1, got 100"
