"""The package as users get it: the wheel's contents, an installed copy that is read-only, a
grammar cache that cannot be written, and the README's commands in step with CI.

The wheel is built once per module (``pip wheel --no-build-isolation``: hatchling comes from the
dev extras, so no network is needed) and takes a few seconds; every subprocess has a timeout.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 180

README_TEST_COMMAND = (
    "python3.11 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest"
)
README_MAIN_COMMAND = (
    "python3.11 -m venv .venv && .venv/bin/pip install . && "
    ".venv/bin/rewardlang run rulesets/bookshop.reward examples/bookshop/events.jsonl --state bookshop.db "
    "--ledger ledger.jsonl"
)

RULESET = """\
program "Kaffekoppen"
currency SEK
event coffee with amount money
rule "Base points": coffee earns 1 point per 10 SEK
5 coffees gives 1 free
"""


def _make_writable(path: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(path):
        os.chmod(dirpath, os.stat(dirpath).st_mode | stat.S_IWUSR)
        for name in filenames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                os.chmod(full, os.stat(full).st_mode | stat.S_IWUSR)


def _make_read_only(path: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(path):
        for name in filenames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                os.chmod(full, os.stat(full).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        os.chmod(dirpath, os.stat(dirpath).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _tree(path: Path) -> dict[str, int]:
    return {os.fspath(p.relative_to(path)): p.stat().st_size for p in sorted(path.rglob("*"))}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    (built,) = out.glob("rewardlang-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The wheel installed into a plain directory, then made read-only (restored afterwards)."""
    target = tmp_path_factory.mktemp("site") / "target"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    _make_read_only(target)
    try:
        yield target
    finally:
        _make_writable(target)


def test_wheel_contents(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "rewardlang/grammar/rewardlang.lark" in names
    assert "rewardlang/py.typed" in names
    for module in ("__init__", "__main__", "cli", "report", "parser", "checker", "printer", "loading"):
        assert f"rewardlang/{module}.py" in names
    assert not any(n.startswith(("tests/", "src/")) for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "rewardlang = rewardlang.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def _run_installed(target: Path, code: str, cache_dir: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with the installed copy first on ``sys.path`` (not the editable source)."""
    prelude = f"import sys; sys.path.insert(0, {os.fspath(target)!r})\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REWARDLANG_", "XDG_"))}
    env.update(REWARDLANG_CACHE_DIR=os.fspath(cache_dir), HOME=os.fspath(home))
    return subprocess.run(
        [sys.executable, "-B", "-c", prelude + textwrap.dedent(code), *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


LOAD = """
import json, sys
import rewardlang
from rewardlang.parser import grammar_text
program = rewardlang.loads(sys.argv[1], "kaffe.reward")
try:
    rewardlang.loads('event coffee\\nrule "A": cofee earns 1 point\\n', "bad.reward")
except rewardlang.RulesetError as exc:
    codes = [d.code for d in exc.diagnostics]
print(json.dumps({"file": rewardlang.__file__, "name": program.name, "rules": list(program.rule_names),
                  "codes": codes, "grammar": len(grammar_text())}))
"""


def _load(installed: Path, cache_dir: Path, home: Path) -> dict[str, object]:
    result = _run_installed(installed, LOAD, cache_dir, home, RULESET)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_installed_copy_parses_and_checks_with_a_fresh_cache(installed: Path, tmp_path: Path):
    before = _tree(installed)
    cache = tmp_path / "cache"
    data = _load(installed, cache, tmp_path)
    assert Path(data["file"]).resolve().is_relative_to(installed.resolve())  # not the editable source
    assert data["name"] == "Kaffekoppen"
    assert data["rules"] == ["Base points", "5 coffees gives 1 free"]
    assert data["codes"] == ["RL101"]
    assert data["grammar"] > 0
    assert list(cache.glob("grammar-*")), "the grammar cache was not written"
    # a second run reads the cache
    assert _load(installed, cache, tmp_path)["rules"] == data["rules"]
    assert _tree(installed) == before  # nothing was written into the package


def test_installed_copy_works_when_the_cache_cannot_be_written(installed: Path, tmp_path: Path):
    before = _tree(installed)
    read_only = tmp_path / "read-only-cache"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        data = _load(installed, read_only, tmp_path)
        assert data["rules"] == ["Base points", "5 coffees gives 1 free"]
        if os.geteuid() != 0:  # root may write into a read-only directory
            assert list(read_only.iterdir()) == []
    finally:
        read_only.chmod(0o755)
    # a cache directory that cannot even be created (its parent is a file): also for root
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    data = _load(installed, blocker / "cache", tmp_path)
    assert data["rules"] == ["Base points", "5 coffees gives 1 free"]
    assert _tree(installed) == before


def test_installed_command_runs_the_bookshop(installed: Path, tmp_path: Path):
    """The README's main job, with the installed copy: ``rewardlang run rulesets/bookshop.reward
    examples/bookshop/events.jsonl --state bookshop.db --ledger ledger.jsonl``; run twice, the
    second finds the run done and writes the same ledger."""
    code = """
    import rewardlang.cli
    assert rewardlang.cli.__file__.startswith(sys.path[0]), rewardlang.cli.__file__
    rewardlang.cli.main(sys.argv[1:], prog_name="rewardlang")
    """
    args = ("run", os.fspath(ROOT / "rulesets" / "bookshop.reward"),
            os.fspath(ROOT / "examples" / "bookshop" / "events.jsonl"),
            "--state", "bookshop.db", "--ledger", "ledger.jsonl")
    first = _run_installed(installed, code, tmp_path / "cache", tmp_path, *args)
    assert first.returncode == 0, first.stdout + first.stderr
    ledger = (tmp_path / "ledger.jsonl").read_bytes()
    lines = ledger.decode().splitlines()
    assert len(lines) > 1000 and all(json.loads(line)["customer"] for line in lines)
    assert (tmp_path / "bookshop.db").exists()
    assert "read" in first.stderr and "Traceback" not in first.stderr
    second = _run_installed(installed, code, tmp_path / "cache", tmp_path, *args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert (tmp_path / "ledger.jsonl").read_bytes() == ledger


# ---------------------------------------------------------------------------- README and CI


def _quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S)
    assert block is not None, "the Quickstart has no code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_quickstart_has_exactly_the_two_commands():
    commands = _quickstart_commands()
    assert commands == [README_MAIN_COMMAND, README_TEST_COMMAND]
    assert (ROOT / "rulesets" / "bookshop.reward").is_file()


def test_ci_runs_the_readme_test_command_verbatim():
    script = ROOT / ".ci" / "run"
    text = script.read_text(encoding="utf-8")
    assert os.access(script, os.X_OK), ".ci/run is not executable"
    assert text.startswith("#!/usr/bin/env bash\n") or text.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in text
    assert _quickstart_commands()[1] in text.splitlines()


def test_dev_extras_hold_what_the_tests_need():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dev = " ".join(project["optional-dependencies"]["dev"])
    for requirement in ("pytest", "hypothesis", "hatchling"):
        assert requirement in dev
    assert project["scripts"]["rewardlang"] == "rewardlang.cli:main"
