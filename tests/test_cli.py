"""The ``rewardlang`` command: ``check`` and ``fmt``, their exit codes, formats and messages.

Rulesets are written inline (beancount style) into ``tmp_path``; most tests go through click's
``CliRunner``, and one runs the installed command in a real subprocess.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import rewardlang
from rewardlang import cli
from rewardlang.cli import main

CLEAN = """\
program "Bookshop Club"
currency SEK
event purchase with amount money, category text
rule "Base points": purchase earns 1 point per 10 SEK
"""

# an unknown event (RL101, with a "did you mean") and a money literal in the wrong currency
WITH_ERRORS = """\
currency SEK
event purchase with amount money
rule "Base points": purchse earns 10 points
rule "Big basket": purchase where amount >= 500 EUR earns 50 points
"""

# a segment that no rule uses: a warning (RL901) and nothing else
WARNING_ONLY = """\
customer has city text
event purchase
segment stockholm = customer.city is "Stockholm"
rule "Base points": purchase earns 10 points
"""

SYNTAX_ERROR = """\
event purchase
rule "Base points": purchase earns 10 points,
"""

# valid, but not in the canonical layout
UNFORMATTED = """\
# the shop's rules
event   purchase with amount money,   category text
currency SEK

rule "A":   purchase earns 10 points   # flat
rule "Longer name": purchase earns 1 point per 10 SEK


"""

FORMATTED = """\
# the shop's rules
event purchase with amount money, category text
currency SEK

rule "A":            purchase earns 10 points  # flat
rule "Longer name":  purchase earns 1 point per 10 SEK
"""


def _runner() -> CliRunner:
    # click < 8.2 mixes stderr into stdout unless told not to; 8.2+ always keeps both
    if "mix_stderr" in inspect.signature(CliRunner).parameters:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


def run(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None):
    result = _runner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)
    return result


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each command from tmp_path, so that paths are short and relative."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REWARDLANG_DEBUG", raising=False)


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------- check


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"rewardlang {rewardlang.__version__}"


def test_check_clean_file(tmp_path):
    write(tmp_path, "shop.reward", CLEAN)
    result = run("check", "shop.reward")
    assert result.exit_code == 0, result.output
    assert result.stdout == "All checks passed (1 file).\n"


def test_check_file_with_errors(tmp_path):
    write(tmp_path, "shop.reward", WITH_ERRORS)
    result = run("check", "shop.reward")
    assert result.exit_code == 1
    out = result.stdout
    # the headline, the source line with its gutter, the caret under the name, the hint
    assert "shop.reward:3:21: error[RL101]: unknown event `purchse`" in out
    assert '3 | rule "Base points": purchse earns 10 points' in out
    assert "  |                     ^~~~~~~\n" in out
    assert "did you mean `purchase`?" in out
    assert "shop.reward:4:" in out and "error[RL203]" in out
    # blocks are separated by one blank line; the summary comes last, after a blank line
    blocks = out.rstrip("\n").split("\n\n")
    assert len(blocks) == 3
    assert blocks[-1] == "Found 2 errors in 1 file."
    assert_no_traceback(result)


def test_check_strict_fails_on_warnings(tmp_path):
    write(tmp_path, "shop.reward", WARNING_ONLY)
    lenient = run("check", "shop.reward")
    assert lenient.exit_code == 0
    assert "warning[RL901]" in lenient.stdout
    assert lenient.stdout.endswith("Found 1 warning in 1 file.\n")
    strict = run("check", "--strict", "shop.reward")
    assert strict.exit_code == 1
    assert "warning[RL901]" in strict.stdout
    assert "--strict" in strict.stdout


def test_check_summary_counts_files_and_both_severities(tmp_path):
    write(tmp_path, "a.reward", WITH_ERRORS)
    write(tmp_path, "b.reward", WARNING_ONLY)
    write(tmp_path, "c.reward", CLEAN)
    result = run("check", "a.reward", "b.reward", "c.reward")
    assert result.exit_code == 1
    assert result.stdout.endswith("Found 2 errors and 1 warning in 3 files.\n")


def test_check_json(tmp_path):
    write(tmp_path, "shop.reward", WITH_ERRORS)
    result = run("check", "--format", "json", "shop.reward")
    assert result.exit_code == 1
    data = json.loads(result.stdout)  # stdout is the JSON and nothing else
    assert [d["code"] for d in data] == ["RL101", "RL203"]
    first = data[0]
    assert set(first) == {"code", "severity", "filename", "location", "end_location", "message", "help"}
    assert first["filename"] == "shop.reward"
    assert first["location"] == {"row": 3, "column": 21}
    assert first["end_location"] == {"row": 3, "column": 28}
    assert "Found 2 errors" in result.stderr


def test_check_json_clean_is_an_empty_list(tmp_path):
    write(tmp_path, "shop.reward", CLEAN)
    result = run("check", "--format", "json", "shop.reward")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_check_github(tmp_path):
    write(tmp_path, "shop.reward", WITH_ERRORS)
    write(tmp_path, "warn.reward", WARNING_ONLY)
    result = run("check", "--format", "github", "shop.reward", "warn.reward")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(
        "::error file=shop.reward,line=3,col=21,endLine=3,endColumn=28,title=RL101::unknown event `purchse`"
    )
    assert "%0Ahelp: did you mean `purchase`?" in lines[0]
    assert lines[2].startswith("::warning file=warn.reward,line=3,col=9,")
    assert ",title=RL901::" in lines[2]


def test_check_sarif(tmp_path):
    write(tmp_path, "shop.reward", WITH_ERRORS)
    result = run("check", "--format", "sarif", "shop.reward")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    run_ = log["runs"][0]
    assert run_["tool"]["driver"]["name"] == "rewardlang"
    assert run_["tool"]["driver"]["version"] == rewardlang.__version__
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == ["RL101", "RL203"]
    first = run_["results"][0]
    assert first["ruleId"] == "RL101" and first["level"] == "error"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "shop.reward"
    assert location["region"]["startLine"] == 3
    assert location["region"]["startColumn"] == 21


def test_check_sarif_on_warnings_with_strict(tmp_path):
    write(tmp_path, "shop.reward", WARNING_ONLY)
    result = run("check", "--format", "sarif", "--strict", "shop.reward")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    assert [r["level"] for r in log["runs"][0]["results"]] == ["warning"]
    assert run("check", "--format", "sarif", "shop.reward").exit_code == 0


def test_check_directory(tmp_path):
    write(tmp_path, "rules/b.reward", WITH_ERRORS)
    write(tmp_path, "rules/a.reward", CLEAN)
    write(tmp_path, "rules/sub/c.reward", WARNING_ONLY)
    write(tmp_path, "rules/notes.txt", "not a ruleset")
    write(tmp_path, "rules/.hidden/d.reward", "this is not checked")
    result = run("check", "--format", "json", "rules")
    assert result.exit_code == 1
    files = [d["filename"] for d in json.loads(result.stdout)]
    assert files == [
        os.path.join("rules", "b.reward"),
        os.path.join("rules", "b.reward"),
        os.path.join("rules", "sub", "c.reward"),
    ]
    assert "in 3 files" in result.stderr


def test_check_directory_text_in_sorted_order(tmp_path):
    write(tmp_path, "rules/b.reward", WARNING_ONLY)
    write(tmp_path, "rules/a.reward", WARNING_ONLY)
    result = run("check", "rules")
    assert result.exit_code == 0
    out = result.stdout
    assert out.index("a.reward:3:9") < out.index("b.reward:3:9")
    assert out.endswith("Found 2 warnings in 2 files.\n")


def test_check_same_file_twice_is_checked_once(tmp_path):
    write(tmp_path, "rules/a.reward", CLEAN)
    result = run("check", "rules", "rules/a.reward")
    assert result.stdout == "All checks passed (1 file).\n"


def test_check_missing_file(tmp_path):
    write(tmp_path, "shop.reward", CLEAN)
    result = run("check", "shop.reward", "nope.reward")
    assert result.exit_code == 2
    assert "error: nope.reward: no such file or directory" in result.stderr
    assert_no_traceback(result)


def test_check_directory_without_rulesets(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("check", "empty")
    assert result.exit_code == 2
    assert "empty: no *.reward files" in result.stderr


def test_check_not_utf8(tmp_path):
    (tmp_path / "latin1.reward").write_bytes(b'event purchase\nrule "Caf\xe9": purchase earns 1 point\n')
    result = run("check", "latin1.reward")
    assert result.exit_code == 2
    assert "latin1.reward:2:10: not valid UTF-8 (byte 0xe9)" in result.stderr
    assert "save the file as UTF-8" in result.stderr
    assert_no_traceback(result)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads every file")
def test_check_unreadable_file(tmp_path):
    path = write(tmp_path, "shop.reward", CLEAN)
    path.chmod(0)
    try:
        result = run("check", "shop.reward")
    finally:
        path.chmod(0o644)
    assert result.exit_code == 2
    assert "shop.reward: permission denied" in result.stderr


def test_check_bad_flag_and_no_files():
    bad = run("check", "--frobnicate", "x.reward")
    assert bad.exit_code == 2
    assert "No such option" in bad.stderr
    none = run("check")
    assert none.exit_code == 2
    unknown_format = run("check", "--format", "xml", "x.reward")
    assert unknown_format.exit_code == 2
    assert_no_traceback(unknown_format)


def test_check_stdin():
    result = run("check", "-", input=WITH_ERRORS)
    assert result.exit_code == 1
    assert "<stdin>:3:21: error[RL101]" in result.stdout


def test_check_byte_order_mark_and_crlf(tmp_path):
    (tmp_path / "shop.reward").write_bytes(b"\xef\xbb\xbf" + CLEAN.replace("\n", "\r\n").encode())
    result = run("check", "shop.reward")
    assert result.exit_code == 0, result.output


def test_internal_error_is_exit_2_without_traceback(tmp_path, monkeypatch):
    write(tmp_path, "shop.reward", CLEAN)

    def boom(*args, **kwargs):
        raise RuntimeError("the checker fell over")

    import rewardlang.loading

    monkeypatch.setattr(rewardlang.loading, "check_path", boom)  # the check command imports it when it runs
    result = run("check", "shop.reward")
    assert result.exit_code == 2
    assert "internal error: RuntimeError: the checker fell over" in result.stderr
    assert "REWARDLANG_DEBUG=1" in result.stderr
    assert_no_traceback(result)
    # with REWARDLANG_DEBUG=1 the exception propagates (a traceback, when run for real)
    with pytest.raises(RuntimeError):
        run("check", "shop.reward", env={"REWARDLANG_DEBUG": "1"})


# ---------------------------------------------------------------------------- fmt


def test_fmt_in_place(tmp_path):
    path = write(tmp_path, "shop.reward", UNFORMATTED)
    result = run("fmt", "shop.reward")
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == FORMATTED
    assert "1 file reformatted" in result.stdout
    # fmt of fmt is unchanged, and the file is not even rewritten
    before = path.stat().st_mtime_ns
    again = run("fmt", "shop.reward")
    assert again.exit_code == 0
    assert path.stat().st_mtime_ns == before
    assert "1 file left unchanged" in again.stdout


def test_fmt_check_lists_and_writes_nothing(tmp_path):
    path = write(tmp_path, "shop.reward", UNFORMATTED)
    write(tmp_path, "ok.reward", FORMATTED)
    result = run("fmt", "--check", "shop.reward", "ok.reward")
    assert result.exit_code == 1
    assert "Would reformat: shop.reward" in result.stdout
    assert "ok.reward" not in result.stdout.replace("1 file already formatted", "")
    assert path.read_text(encoding="utf-8") == UNFORMATTED
    assert run("fmt", "--check", "ok.reward").exit_code == 0


def test_fmt_diff(tmp_path):
    path = write(tmp_path, "shop.reward", UNFORMATTED)
    result = run("fmt", "--diff", "shop.reward")
    assert result.exit_code == 1
    diff = result.stdout
    assert diff.startswith("--- shop.reward\n+++ shop.reward\n@@ ")
    assert "-event   purchase with amount money,   category text\n" in diff
    assert "+event purchase with amount money, category text\n" in diff
    assert path.read_text(encoding="utf-8") == UNFORMATTED
    assert "would be reformatted" in result.stderr  # stdout is the diff alone
    clean = write(tmp_path, "ok.reward", FORMATTED)
    nodiff = run("fmt", "--diff", str(clean))
    assert nodiff.exit_code == 0 and nodiff.stdout == ""


def test_fmt_stdin_to_stdout():
    result = run("fmt", "-", input=UNFORMATTED)
    assert result.exit_code == 0, result.output
    assert result.stdout == FORMATTED
    check = run("fmt", "--check", "-", input=UNFORMATTED)
    assert check.exit_code == 1


def test_fmt_refuses_a_file_with_a_syntax_error(tmp_path):
    path = write(tmp_path, "shop.reward", SYNTAX_ERROR)
    good = write(tmp_path, "good.reward", UNFORMATTED)
    result = run("fmt", "shop.reward", "good.reward")
    assert result.exit_code == 1
    assert "shop.reward:2:46: error[RL001]" in result.stderr
    assert "shop.reward: not formatted because it has syntax errors" in result.stderr
    assert path.read_text(encoding="utf-8") == SYNTAX_ERROR
    assert good.read_text(encoding="utf-8") == FORMATTED  # the other file is still formatted
    stdin = run("fmt", "-", input=SYNTAX_ERROR)
    assert stdin.exit_code == 1 and stdin.stdout == ""
    assert_no_traceback(result)


def test_fmt_refuses_output_that_changes_meaning(tmp_path, monkeypatch):
    path = write(tmp_path, "shop.reward", UNFORMATTED)
    import rewardlang.printer

    real = rewardlang.printer.format_file  # fmt imports it when it runs
    monkeypatch.setattr(rewardlang.printer, "format_file", lambda parsed: real(parsed).replace("10 points", "11 points"))
    result = run("fmt", "shop.reward")
    assert result.exit_code == 2
    assert "internal error: shop.reward: formatting would change the meaning" in result.stderr
    assert path.read_text(encoding="utf-8") == UNFORMATTED
    assert_no_traceback(result)


def test_fmt_keeps_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "shop.reward"
    path.write_bytes(b"\xef\xbb\xbf" + UNFORMATTED.replace("\n", "\r\n").encode())
    assert run("fmt", "shop.reward").exit_code == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + FORMATTED.replace("\n", "\r\n").encode()
    assert run("fmt", "--check", "shop.reward").exit_code == 0


def test_fmt_directory_and_missing_file(tmp_path):
    a = write(tmp_path, "rules/a.reward", UNFORMATTED)
    result = run("fmt", "rules", "missing.reward")
    assert result.exit_code == 2
    assert "missing.reward: no such file or directory" in result.stderr
    assert a.read_text(encoding="utf-8") == FORMATTED
    assert_no_traceback(result)


def test_fmt_not_utf8(tmp_path):
    path = tmp_path / "latin1.reward"
    path.write_bytes(b"event   purchase # caf\xe9\n")
    result = run("fmt", "latin1.reward")
    assert result.exit_code == 2
    assert "latin1.reward:1:23: not valid UTF-8" in result.stderr
    assert path.read_bytes() == b"event   purchase # caf\xe9\n"


# ---------------------------------------------------------------------------- the real command


def _command() -> list[str]:
    script = Path(sys.executable).with_name("rewardlang")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rewardlang"]


def test_installed_command_in_a_subprocess(tmp_path):
    write(tmp_path, "shop.reward", WITH_ERRORS)
    write(tmp_path, "clean.reward", CLEAN)
    env = {**os.environ, "REWARDLANG_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("REWARDLANG_DEBUG", None)
    bad = subprocess.run(
        [*_command(), "check", "shop.reward"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 1, bad.stderr
    assert "shop.reward:3:21: error[RL101]: unknown event `purchse`" in bad.stdout
    assert "^~~~~~~" in bad.stdout
    good = subprocess.run(
        [*_command(), "check", "clean.reward"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert good.returncode == 0, good.stdout + good.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "rewardlang", "check", "nope.reward"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: nope.reward: no such file or directory")
    assert "Traceback" not in missing.stderr

