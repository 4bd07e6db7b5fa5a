"""Golden tests: every invalid ruleset in ``tests/golden/`` and exactly what ``check`` says about it.

Each ``tests/golden/NAME.reward`` is a small ruleset with a marketer's mistake (or several), and
``NAME.expected`` beside it is the text ``render_all`` prints for its diagnostics, sorted, with the
file named ``tests/golden/NAME.reward``. The file names start with the code they are about
(``rl101_unknown_event``); ``multi_*`` files have several mistakes at once.

To regenerate the .expected files after an intended change to a message or a span, run

    REWARDLANG_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

and then read every changed .expected file (``git diff tests/golden``) as a marketer would: is
the caret on the mistake, does the message say what is wrong, does the help say what to write?
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rewardlang.diagnostics import CODES, Diagnostic, render_all
from rewardlang.loading import check_text

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
ERRORS_DOC = ROOT / "docs" / "errors.md"
UPDATE = os.environ.get("REWARDLANG_UPDATE_GOLDEN") == "1"

CASES = sorted(GOLDEN.glob("*.reward"))


def render(path: Path) -> tuple[str, tuple[Diagnostic, ...]]:
    """What ``rewardlang check`` prints for a golden file, and its diagnostics."""
    name = f"tests/golden/{path.name}"
    text = path.read_text(encoding="utf-8")
    diagnostics = tuple(sorted(check_text(text, name).diagnostics, key=Diagnostic.sort_key))
    return render_all(diagnostics, {name: text}) + "\n", diagnostics


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path) -> None:
    expected_path = path.with_suffix(".expected")
    actual, diagnostics = render(path)
    assert diagnostics, f"{path.name} is a golden file of mistakes, and check finds none"
    expected = expected_path.read_text(encoding="utf-8") if expected_path.exists() else None
    if UPDATE:
        if actual != expected:
            expected_path.write_text(actual, encoding="utf-8")
        return
    assert expected is not None, f"no {expected_path.name}: run with REWARDLANG_UPDATE_GOLDEN=1"
    assert actual == expected


def test_golden_names_start_with_their_code() -> None:
    """``rl101_….reward`` reports RL101 (``rl204_rl206_…`` both), so that the names can be trusted."""
    for path in CASES:
        named = {f"RL{code}" for code in re.findall(r"(?:^|_)rl(\d{3})(?=_)", path.stem)}
        if not named:
            assert path.stem.startswith("multi_"), f"{path.name}: name it rlNNN_… or multi_…"
            continue
        text = path.with_suffix(".expected").read_text(encoding="utf-8")
        for code in sorted(named):
            assert f"[{code}]" in text, f"{path.name} is named for {code} but does not report it"


def test_every_code_has_a_golden_file() -> None:
    outputs = "\n".join(p.with_suffix(".expected").read_text(encoding="utf-8") for p in CASES)
    missing = [code for code in CODES if f"[{code}]" not in outputs]
    assert not missing, f"no golden file reports {missing}"


def test_every_expected_file_has_its_ruleset() -> None:
    orphans = [p.name for p in GOLDEN.glob("*.expected") if not p.with_suffix(".reward").exists()]
    assert not orphans


def test_every_code_is_documented() -> None:
    text = ERRORS_DOC.read_text(encoding="utf-8")
    headings = re.findall(r"^## (RL\d{3}) — (.+)$", text, flags=re.MULTILINE)
    documented = [code for code, _ in headings]
    assert sorted(documented) == sorted(CODES), (
        f"missing: {sorted(set(CODES) - set(documented))}, unknown: {sorted(set(documented) - set(CODES))}"
    )
    assert len(documented) == len(set(documented)), "a code is documented twice"
    for code, title in headings:
        assert title.strip().lower() == CODES[code].lower(), f"{code}: heading {title!r}, title {CODES[code]!r}"
        assert f'<a id="{code.lower()}"></a>' in text, f"{code}: no anchor `<a id=\"{code.lower()}\"></a>`"


def test_documented_output_is_the_real_output() -> None:
    """Every ```text block of docs/errors.md is output of a golden file, word for word, so the
    page cannot drift from what ``check`` prints (regenerate the page's blocks when a golden
    file changes)."""
    doc = ERRORS_DOC.read_text(encoding="utf-8")
    outputs = "\n".join(p.with_suffix(".expected").read_text(encoding="utf-8") for p in CASES)
    shown = re.findall(r"^```text\n(.*?)^```$", doc, flags=re.MULTILINE | re.DOTALL)
    assert len(shown) >= len(CODES)
    stale = [block for block in shown if block.rstrip("\n") not in outputs]
    assert not stale, "docs/errors.md shows output that no golden file prints:\n" + "\n\n".join(stale)


def test_documented_examples_are_the_golden_files() -> None:
    doc = ERRORS_DOC.read_text(encoding="utf-8")
    for name, body in re.findall(r"^Example \(`tests/golden/(\S+\.reward)`\):\n\n```reward\n(.*?)^```$", doc,
                                 flags=re.MULTILINE | re.DOTALL):
        assert body.rstrip("\n") == (GOLDEN / name).read_text(encoding="utf-8").rstrip("\n"), name
