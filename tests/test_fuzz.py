"""No input crashes the front end: arbitrary text and mutated real rulesets.

Whatever the text, ``check_text`` returns diagnostics (never raises) and ``loads`` raises nothing
but ``RulesetError``. When a mutated ruleset still checks clean, ``fmt`` keeps its meaning.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import rewardlang
from rewardlang import printer
from rewardlang.diagnostics import RulesetError, render_all
from tests.strategies import KEYWORDS

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT.parent / "shared" / "design" / "LANGUAGE.md"


def _seed_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "rulesets").glob("*.reward"))]
    if DESIGN.exists():
        block = re.search(r"```\n(# Bookshop.*?)```", DESIGN.read_text(encoding="utf-8"), re.S)
        if block:
            texts.append(block.group(1))
    return texts


SEEDS = _seed_texts()
PIECES = sorted(KEYWORDS) + [
    '"', "'", ",", ":", "=", "(", ")", "[", "]", ".", "#", "\n", "\n  ", " ", "\t", "0", "-1",
    "49,90", "2026-02-30", "25:00", "SEK", "kr", "\\", "\u00e9", "\u2028", "\x85", "\f", "\r",
    "\ufeff", "1e999", "99999999999999999999999999",
]


def _never_crashes(text: str) -> None:
    checked = rewardlang.check_text(text, "fuzz.reward")
    render_all(checked.diagnostics, {"fuzz.reward": checked.parsed.source})
    for d in checked.diagnostics:
        assert d.span.line >= 0 and d.code in rewardlang.diagnostics.CODES
    try:
        rewardlang.loads(text, "fuzz.reward")
    except RulesetError as exc:
        assert exc.diagnostics
    if checked.ok and checked.parsed.ok:
        formatted = printer.format_file(checked.parsed)
        again = rewardlang.check_text(formatted, "fuzz.reward")
        assert again.parsed.ruleset == checked.parsed.ruleset


@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text):
    _never_crashes(text)


@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=40).map("".join))
def test_token_soup_never_crashes(text):
    _never_crashes(text)


@st.composite
def mutated_rulesets(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        kind = draw(st.sampled_from(["delete", "insert", "replace", "swap", "indent", "dedent", "dup"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind in ("delete", "insert", "replace"):
            start = draw(st.integers(0, len(text)))
            end = min(len(text), start + draw(st.integers(0, 12)))
            piece = "" if kind == "delete" else draw(st.sampled_from(PIECES) | st.text(max_size=4))
            text = text[:start] + piece + (text[end:] if kind != "insert" else text[start:])
            continue
        if kind == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "indent":
            lines[i] = "  " + lines[i]
        elif kind == "dedent":
            lines[i] = lines[i].lstrip()
        elif kind == "dup":
            lines.insert(i, lines[i])
        text = "\n".join(lines)
    return text


@given(mutated_rulesets())
def test_mutated_rulesets_never_crash(text):
    _never_crashes(text)


def test_every_seed_is_clean():
    for text in SEEDS:
        checked = rewardlang.check_text(text, "seed.reward")
        assert checked.ok, [d.headline() for d in checked.diagnostics]
