"""CI integration, proven in CI's own terms.

- ``check --format sarif`` is valid against the SARIF 2.1.0 JSON schema of OASIS, vendored in
  ``tests/fixtures/sarif-schema-2.1.0.json`` (from oasis-tcs/sarif-spec,
  ``Schemata/sarif-schema-2.1.0.json``: the tests run offline), with ``jsonschema``. The schema's
  ``uri`` and ``uri-reference`` formats are checked here too (jsonschema checks them only with
  optional packages): GitHub's upload rejects a log whose URIs are not URIs.
- ``check --format github`` writes GitHub's documented workflow command
  ``::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=T::MESSAGE`` with GitHub's escaping
  (actions/toolkit ``escapeData``: ``%`` ``\\r`` ``\\n``; ``escapeProperty``: also ``:`` ``,``).
- ``.pre-commit-hooks.yaml`` offers the hooks with the keys pre-commit requires, and each entry
  is a command the CLI has.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from rewardlang import report
from rewardlang.ast import Span
from rewardlang.cli import main
from rewardlang.diagnostics import error

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
GOLDEN = ROOT / "tests" / "golden"

# ---------------------------------------------------------------------------- SARIF

_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri-reference")
def _uri_reference(value: object) -> bool:
    """RFC 3986: only unreserved and reserved characters and percent-escapes."""
    return not isinstance(value, str) or bool(_URI_CHARS.match(value))


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    """An absolute URI: a scheme, and the characters of a URI."""
    if not isinstance(value, str):
        return True
    return bool(_URI_CHARS.match(value)) and bool(re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", value)) \
        and bool(urlsplit(value).scheme)


VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=FORMATS)


def _errors(log: object) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(log)]


def test_the_vendored_schema_is_the_oasis_sarif_2_1_0_schema():
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert SCHEMA["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]
    assert len(SCHEMA["definitions"]) == 52


def test_the_validator_rejects_what_the_schema_forbids():
    """The test would be worth nothing if anything passed."""
    good = report.sarif_log([error("RL101", "unknown event `x`", Span("a.reward", 1, 1, 1, 2))], {})
    assert _errors(good) == []
    bad_level = json.loads(json.dumps(good))
    bad_level["runs"][0]["results"][0]["level"] = "fatal"
    no_message = json.loads(json.dumps(good))
    del no_message["runs"][0]["results"][0]["message"]
    zero_line = json.loads(json.dumps(good))
    zero_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    bad_uri = json.loads(json.dumps(good))
    bad_uri["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "my rules.reward"
    for log in (bad_level, no_message, zero_line, bad_uri):
        assert _errors(log), log


def test_check_sarif_of_every_golden_mistake_is_valid():
    result = CliRunner().invoke(main, ["check", "--format", "sarif", str(GOLDEN.relative_to(ROOT))],
                                catch_exceptions=False)
    assert result.exit_code == 1  # the golden files are mistakes
    log = json.loads(result.stdout)
    assert _errors(log) == []
    run = log["runs"][0]
    assert len(run["results"]) >= len(list(GOLDEN.glob("*.reward")))
    assert {r["ruleId"] for r in run["results"]} == {r["id"] for r in run["tool"]["driver"]["rules"]}


@pytest.mark.parametrize("name", ["rules/shop.reward", "my rules/köp #1.reward", "/srv/rules/shop.reward"])
def test_sarif_is_valid_for_awkward_paths_and_with_a_docs_url(name):
    d = error("RL101", "unknown event `purchse`", Span(name, 2, 21, 2, 28), "did you mean `purchase`?")
    for docs in (None, "https://example.org/rewardlang/docs"):
        log = report.sarif_log([d], {name: "event purchase\nrule \"A\": purchse earns 1 point\n"}, docs=docs)
        assert _errors(log) == []


def test_sarif_of_a_clean_run_is_valid(tmp_path):
    path = tmp_path / "ok.reward"
    path.write_text("event review\nreview earns 50 points\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "sarif", str(path)])
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    assert log["runs"][0]["results"] == [] and _errors(log) == []


# ---------------------------------------------------------------------------- GitHub annotations

ANNOTATION = re.compile(
    r"^::(?P<command>error|warning) file=(?P<file>[^,:\r\n]+),line=(?P<line>\d+),col=(?P<col>\d+),"
    r"endLine=(?P<end_line>\d+),endColumn=(?P<end_column>\d+),title=(?P<title>[^,:\r\n]+)::(?P<message>[^\r\n]+)$"
)


def test_github_annotations_have_the_documented_form(tmp_path, monkeypatch):
    """A file name with every character GitHub escapes in a property, and a message with a line
    break (the help): one line each, escaped as the toolkit does."""
    monkeypatch.chdir(tmp_path)
    name = "100%,a:b.reward"
    Path(name).write_text('event purchase\nrule "Base": purchse earns 10 points\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "github", name])
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line == ("::error file=100%25%2Ca%3Ab.reward,line=2,col=14,endLine=2,endColumn=21,title=RL101"
                    "::unknown event `purchse`%0Ahelp: did you mean `purchase`?")
    assert ANNOTATION.match(line)


def test_github_escaping_of_data_and_properties():
    d = error("RL201", "50% off:\r\nsee, here", Span("a,b:c%d\n.reward", 1, 2, 1, 3))
    line = report.github_line(d)
    props, _, message = line[len("::error "):].partition("::")
    assert props == "file=a%2Cb%3Ac%25d%0A.reward,line=1,col=2,endLine=1,endColumn=3,title=RL201"
    assert message == "50%25 off:%0D%0Asee, here"  # a message keeps ":" and ","
    assert ANNOTATION.match(line)


def test_every_golden_mistake_is_one_well_formed_annotation():
    result = CliRunner().invoke(main, ["check", "--format", "github", str(GOLDEN.relative_to(ROOT))])
    lines = result.stdout.splitlines()
    assert lines and all(ANNOTATION.match(line) for line in lines), [x for x in lines if not ANNOTATION.match(x)]


# ---------------------------------------------------------------------------- pre-commit

HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
REQUIRED = {"id", "name", "entry", "language"}
KNOWN = REQUIRED | {"alias", "files", "exclude", "types", "types_or", "exclude_types", "additional_dependencies",
                    "args", "always_run", "fail_fast", "pass_filenames", "description", "language_version",
                    "log_file", "minimum_pre_commit_version", "require_serial", "stages", "verbose"}


def _hooks() -> list[dict[str, object]]:
    hooks = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    return hooks


def test_pre_commit_hooks_have_the_keys_pre_commit_requires():
    hooks = _hooks()
    assert [h["id"] for h in hooks] == ["rewardlang-check", "rewardlang-fmt", "rewardlang-test"]
    for hook in hooks:
        assert REQUIRED <= set(hook), hook
        assert set(hook) <= KNOWN, set(hook) - KNOWN
        assert hook["language"] == "python"  # installs this repository's package, with its script
        re.compile(str(hook["files"]))
    by_id = {h["id"]: h for h in hooks}
    assert by_id["rewardlang-test"]["pass_filenames"] is False
    files = {h["id"]: re.compile(str(h["files"])) for h in hooks}
    assert files["rewardlang-check"].search("rules/shop.reward") and not files["rewardlang-check"].search("a.py")
    assert files["rewardlang-test"].search("rules/shop.test.yaml") and files["rewardlang-test"].search("x.reward")
    assert not files["rewardlang-test"].search("config.yaml")


def test_each_hook_entry_is_a_command_of_the_cli():
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    for hook in _hooks():
        program, command, *args = str(hook["entry"]).split()
        assert program in scripts, f"{hook['id']}: {program} is not a console script of the package"
        assert command in main.commands, f"{hook['id']}: `rewardlang {command}` does not exist"
        assert all(a.startswith("-") for a in args)


def _run_hook(hook_id: str, filenames: list[str]) -> int:
    hook = next(h for h in _hooks() if h["id"] == hook_id)
    _, *argv = str(hook["entry"]).split()
    argv += [str(a) for a in hook.get("args", [])]  # type: ignore[attr-defined]
    if hook.get("pass_filenames", True):
        argv += filenames
    return CliRunner().invoke(main, argv).exit_code


def test_the_hooks_run_as_pre_commit_runs_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / "rulesets" / "bookshop.reward", "bookshop.reward")
    shutil.copy(ROOT / "rulesets" / "bookshop.test.yaml", "bookshop.test.yaml")
    assert _run_hook("rewardlang-check", ["bookshop.reward"]) == 0
    assert _run_hook("rewardlang-fmt", ["bookshop.reward"]) == 0
    assert _run_hook("rewardlang-test", ["bookshop.reward"]) == 0
    # a file out of layout: fmt rewrites it (pre-commit then fails the hook: the file changed)
    Path("messy.reward").write_text("event review\nreview    earns 50 points\n", encoding="utf-8")
    assert _run_hook("rewardlang-fmt", ["messy.reward"]) == 0
    assert Path("messy.reward").read_text(encoding="utf-8") == "event review\nreview earns 50 points\n"
    Path("broken.reward").write_text("event review\nreview earns 50 pints\n", encoding="utf-8")
    assert _run_hook("rewardlang-check", ["broken.reward"]) == 1


# ---------------------------------------------------------------------------- docs/ci.md

CI_DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")


FENCED = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _yaml_blocks() -> list[object]:
    return [yaml.safe_load(body) for lang, body in FENCED.findall(CI_DOC) if lang == "yaml"]


def _code() -> list[str]:
    """The doc's code: its fenced blocks and its inline code spans."""
    prose = FENCED.sub("", CI_DOC)
    return [body for _, body in FENCED.findall(CI_DOC)] + re.findall(r"`([^`\n]+)`", prose)


def test_the_ci_examples_are_yaml_that_runs_every_gate():
    github, gitlab, pre_commit = _yaml_blocks()
    steps = github["jobs"]["rulesets"]["steps"]  # type: ignore[index]
    runs = " ".join(str(s.get("run", "")) for s in steps)
    for command in ("rewardlang check --format github rules/", "rewardlang check --format sarif rules/",
                    "rewardlang fmt --check rules/", "rewardlang test rules/ --format junit", "rewardlang diff"):
        assert command in runs, command
    assert any(str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif") for s in steps)
    job = gitlab["rulesets"]  # type: ignore[index]
    assert job["artifacts"]["reports"]["junit"] == "rewardlang-tests.xml"
    assert "rewardlang fmt --check rules/" in job["script"]
    ids = [h["id"] for h in pre_commit["repos"][0]["hooks"]]  # type: ignore[index]
    assert ids == [h["id"] for h in _hooks()]


def test_every_command_line_in_the_ci_doc_is_one_the_cli_takes():
    """Each `rewardlang COMMAND --option` written in docs/ci.md names a command and options it has."""
    found = [m for code in _code() for m in re.findall(r"\brewardlang ([a-z]+)((?: +(?:--?[a-z-]+|[^\s|>`'#]+))*)",
                                                        code)]
    assert len(found) > 10
    for command, rest in found:
        assert command in main.commands, command
        options = {opt for param in main.commands[command].params for opt in param.opts}
        for token in rest.split():
            if token.startswith("-") and token != "-":
                assert token in options, f"rewardlang {command} has no option {token}"


def test_the_exit_code_table_names_every_command_it_describes():
    rows = [line for line in CI_DOC.splitlines() if line.startswith("| `")]
    assert len(rows) >= 7
    for row in rows:
        command = row.split("`")[1].split()[0]
        assert command in main.commands, command
