"""Reports of diagnostics: text, JSON (ruff's shape), GitHub workflow commands and SARIF 2.1.0."""

from __future__ import annotations

import json
import re

import pytest

import rewardlang
from rewardlang import report
from rewardlang.ast import Span
from rewardlang.diagnostics import CODES, Diagnostic, error, render_all, warning

SOURCE = """\
event purchase with amount money
rule "Base points": purchse earns 10 points
segment unused = tier is gold
"""
SOURCES = {"rules/shop.reward": SOURCE}

UNKNOWN_EVENT = error(
    "RL101",
    "unknown event `purchse`",
    Span("rules/shop.reward", 2, 21, 2, 28),
    "did you mean `purchase`?",
)
UNKNOWN_TIER = error("RL103", "unknown tier `gold`", Span("rules/shop.reward", 3, 26, 3, 30))
UNUSED = warning(
    "RL901",
    "the segment `unused` is not used by any rule",
    Span("rules/shop.reward", 3, 9, 3, 15),
    "use it in a rule (`, for unused`) or remove it",
)
DIAGNOSTICS = [UNKNOWN_EVENT, UNUSED, UNKNOWN_TIER]


# ---------------------------------------------------------------------------- text


def test_text_is_the_ruff_style_blocks():
    out = report.to_text(DIAGNOSTICS, SOURCES)
    assert out == render_all(DIAGNOSTICS, SOURCES) + "\n"
    blocks = out.rstrip("\n").split("\n\n")
    assert len(blocks) == 3
    assert blocks[0].splitlines() == [
        "rules/shop.reward:2:21: error[RL101]: unknown event `purchse`",
        "  |",
        '2 | rule "Base points": purchse earns 10 points',
        "  |                     ^~~~~~~",
        "  = help: did you mean `purchase`?",
    ]
    assert report.to_text([], SOURCES) == ""


# ---------------------------------------------------------------------------- json


def test_json_is_a_list_of_to_dict():
    data = json.loads(report.to_json(DIAGNOSTICS, SOURCES))
    assert data == [d.to_dict() for d in DIAGNOSTICS]
    assert set(data[0]) == {"code", "severity", "filename", "location", "end_location", "message", "help"}
    assert data[0]["location"] == {"row": 2, "column": 21}
    assert data[0]["end_location"] == {"row": 2, "column": 28}
    assert data[1]["severity"] == "warning"
    assert data[2]["help"] is None
    assert json.loads(report.to_json([], {})) == []


def test_json_keeps_non_ascii_text():
    d = error("RL101", "unknown event `köp`", Span("å.reward", 1, 1, 1, 4))
    out = report.to_json([d], {})
    assert "köp" in out and "å.reward" in out


# ---------------------------------------------------------------------------- github

GITHUB_LINE = re.compile(
    r"^::(error|warning) file=[^,:]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=RL\d{3}::.+$"
)


def test_github_lines():
    lines = report.to_github(DIAGNOSTICS, SOURCES).splitlines()
    assert len(lines) == 3
    for line in lines:
        assert GITHUB_LINE.match(line), line
    assert lines[0] == (
        "::error file=rules/shop.reward,line=2,col=21,endLine=2,endColumn=28,title=RL101"
        "::unknown event `purchse`%0Ahelp: did you mean `purchase`?"
    )
    assert lines[1].startswith("::warning file=rules/shop.reward,line=3,col=9,endLine=3,endColumn=15,")
    assert lines[2].endswith("title=RL103::unknown tier `gold`")
    assert report.to_github([], {}) == ""


def test_github_escaping():
    d = error(
        "RL201",
        "100% wrong:\r\nsee, here",
        Span("a,b:c%d.reward", 1, 2, 1, 3),
        "a: b, c",
    )
    line = report.github_line(d)
    assert "\n" not in line and "\r" not in line
    props, _, message = line[len("::error ") :].partition("::")
    # properties escape % CR LF : ,
    assert props.startswith("file=a%2Cb%3Ac%25d.reward,line=1,")
    # the message escapes % CR LF only (":" and "," stay)
    assert message == "100%25 wrong:%0D%0Asee, here%0Ahelp: a: b, c"
    assert report.escape_data("%\r\n:,") == "%25%0D%0A:,"
    assert report.escape_property("%\r\n:,") == "%25%0D%0A%3A%2C"


def test_github_without_a_position():
    d = error("RL001", "broken", Span("x.reward", 0, 0, 0, 0))
    assert report.github_line(d) == "::error file=x.reward,title=RL001::broken"


# ---------------------------------------------------------------------------- sarif


def test_sarif_structure():
    log = json.loads(report.to_sarif(DIAGNOSTICS, SOURCES))
    # sarifLog: $schema, version, runs
    assert log["$schema"].startswith("https://") and "sarif" in log["$schema"]
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    # run: tool.driver with name (required), version, rules
    driver = run["tool"]["driver"]
    assert driver["name"] == "rewardlang"
    assert driver["version"] == rewardlang.__version__
    assert run["columnKind"] == "unicodeCodePoints"
    # one rule per code used, sorted, each with id, name and shortDescription from CODES
    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["RL101", "RL103", "RL901"]
    for rule in rules:
        assert rule["shortDescription"]["text"] == CODES[rule["id"]]
        assert re.fullmatch(r"[A-Za-z0-9]+", rule["name"])
        assert rule["help"]["text"].endswith(f"docs/errors.md#{rule['id'].lower()}.")
        assert "helpUri" not in rule or rule["helpUri"].startswith(("https://", "http://"))
    assert rules[0]["name"] == "UnknownEvent"
    assert rules[0]["defaultConfiguration"]["level"] == "error"
    assert rules[2]["defaultConfiguration"]["level"] == "warning"
    # results: ruleId, ruleIndex pointing at the rule, level, message.text, locations
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["RL101", "RL901", "RL103"]
    assert [r["level"] for r in results] == ["error", "warning", "error"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
    assert results[0]["message"]["text"] == "unknown event `purchse`\nhelp: did you mean `purchase`?"
    assert results[2]["message"]["text"] == "unknown tier `gold`"
    physical = results[0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "rules/shop.reward"}
    assert physical["region"] == {
        "startLine": 2,
        "startColumn": 21,
        "endLine": 2,
        "endColumn": 28,
        "snippet": {"text": 'rule "Base points": purchse earns 10 points'},
    }


def test_sarif_with_no_diagnostics():
    log = report.sarif_log([], {})
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_help_uri_from_a_docs_url():
    log = report.sarif_log([UNKNOWN_EVENT], SOURCES, docs="https://example.org/rewardlang/docs/")
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["rules"][0]["helpUri"] == "https://example.org/rewardlang/docs/errors.md#rl101"
    assert driver["informationUri"] == "https://example.org/rewardlang/docs/"


def test_sarif_regions_are_valid_without_source_and_position():
    no_source = report.sarif_log([UNKNOWN_EVENT], {})
    region = no_source["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert "snippet" not in region and region["startLine"] == 2
    nowhere = error("RL001", "broken", Span("x.reward", 0, 0, 0, 0))
    physical = report.sarif_log([nowhere], {})["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert "region" not in physical  # SARIF lines and columns start at 1
    multi = error("RL001", "broken", Span("x.reward", 2, 5, 3, 2))
    region = report.sarif_log([multi], {})["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 2, "startColumn": 5, "endLine": 3, "endColumn": 2}


@pytest.mark.parametrize(
    ("filename", "uri"),
    [
        ("rules/shop.reward", "rules/shop.reward"),
        ("my rules/shop #1.reward", "my%20rules/shop%20%231.reward"),
        ("regler/köp.reward", "regler/k%C3%B6p.reward"),
        ("/srv/rules/shop.reward", "file:///srv/rules/shop.reward"),
    ],
)
def test_sarif_uris_are_uri_references(filename, uri):
    assert report.artifact_uri(filename) == uri


# ---------------------------------------------------------------------------- by name


@pytest.mark.parametrize("name", report.FORMATS)
def test_report_by_name(name):
    assert report.report(name, DIAGNOSTICS, SOURCES) == report.RENDERERS[name](DIAGNOSTICS, SOURCES)


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown report format"):
        report.report("xml", DIAGNOSTICS, SOURCES)


def test_every_code_has_a_sarif_name():
    names = [report.rule_name(code) for code in CODES]
    assert all(re.fullmatch(r"[A-Za-z0-9]+", n) for n in names)
    assert isinstance(DIAGNOSTICS[0], Diagnostic)
