"""The output of ``rewardlang test``: ``text`` for people, ``json`` and ``junit`` for machines.

- ``text``: one line a case (``PASS file::name`` / ``FAIL file::name``), the failures' diffs
  indented under a failed case, then ``PASS: 11/12`` and ``FAIL: 1/12`` after a rule, as
  ``opa test`` prints them.
- ``json``: one document: ``summary``, ``cases`` (with their failures), ``errors`` (invalid test
  files) and, with ``--coverage``, ``coverage``.
- ``junit``: JUnit XML, the format every CI system reads: a ``testsuite`` per test file, a
  ``testcase`` per case (``classname`` the file, ``name`` the case) with a ``failure`` per failed
  case; an invalid test file is a ``testsuite`` with one ``testcase`` that holds an ``error``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from rewardlang.rulesettests import CaseResult, Coverage, Problem

FORMATS = ("text", "json", "junit")
RULE = "-" * 80


# ---------------------------------------------------------------------------- text


def case_text(result: CaseResult, *, verbose: bool = False) -> str:
    """A case's line, and under it (indented) what failed; with ``verbose``, its ledger too."""
    lines = [f"{'PASS' if result.passed else 'FAIL'} {result.id}"]
    for failure in result.failures:
        lines.append(f"    {failure.message}")
        lines.extend(f"      {detail}" for detail in failure.details)
    if verbose:
        lines.append(f"    ledger ({len(result.ledger)} line{'s' * (len(result.ledger) != 1)}):")
        lines.extend(f"      {json.dumps(dict(line), ensure_ascii=False)}" for line in result.ledger)
        for r in result.rejections:
            lines.append(f"    rejected: {result.place} {r.number}" + (f" (id {r.id})" if r.id else "") + f": {r.code}: {r.reason}")
    return "\n".join(lines) + "\n"


def summary_text(results: Sequence[CaseResult]) -> str:
    total = len(results)
    failed = sum(1 for r in results if not r.passed)
    lines = [RULE, f"PASS: {total - failed}/{total}"]
    if failed:
        lines.append(f"FAIL: {failed}/{total}")
    return "\n".join(lines) + "\n"


def coverage_text(coverage: Sequence[Coverage]) -> str:
    lines = []
    for c in coverage:
        fired = len(c.rules) - len(c.uncovered)
        head = f"Coverage of {c.ruleset}: {fired} of {len(c.rules)} rules fired"
        if c.tiers:
            head += f", {len(c.tiers) - len(c.tiers_not_reached)} of {len(c.tiers)} tiers reached"
        lines.append(head)
        if c.uncovered:
            lines.append("  rules that no case made fire:")
            lines.extend(f"    {c.ruleset}:{line}: {json.dumps(name, ensure_ascii=False)}" for name, line in c.uncovered)
        if c.tiers_not_reached:
            lines.append("  tiers that no case reached: " + ", ".join(c.tiers_not_reached))
    return "\n".join(lines) + "\n" if lines else ""


def problem_text(problem: Problem) -> str:
    lines = [problem.headline()]
    lines.extend(f"    {detail}" if detail else "" for detail in problem.details)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- json


def to_json(results: Sequence[CaseResult], problems: Sequence[Problem] = (),
            coverage: Sequence[Coverage] | None = None) -> str:
    failed = sum(1 for r in results if not r.passed)
    document: dict[str, Any] = {
        "summary": {"total": len(results), "passed": len(results) - failed, "failed": failed,
                    "errors": len(problems)},
        "cases": [{"id": r.id, "file": r.file, "name": r.name, "line": r.line, "ruleset": r.ruleset,
                   "status": "pass" if r.passed else "fail", "seconds": round(r.seconds, 6),
                   "failures": [f.to_dict() for f in r.failures]} for r in results],
        "errors": [p.to_dict() for p in problems],
    }
    if coverage is not None:
        document["coverage"] = [c.to_dict() for c in coverage]
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------------------- junit

# characters XML 1.0 cannot carry, even escaped
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _seconds(value: float) -> str:
    return f"{value:.6f}"


def to_junit(results: Sequence[CaseResult], problems: Sequence[Problem] = ()) -> str:
    """JUnit XML: ``testsuites`` > ``testsuite`` (a test file) > ``testcase`` (a case)."""
    root = ET.Element("testsuites", name="rewardlang test")
    by_file: dict[str, list[CaseResult]] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    total_failures = 0
    total_time = 0.0
    for file, cases in by_file.items():
        failures = sum(1 for r in cases if not r.passed)
        seconds = sum(r.seconds for r in cases)
        total_failures += failures
        total_time += seconds
        suite = ET.SubElement(root, "testsuite", name=_xml(file), tests=str(len(cases)), failures=str(failures),
                              errors="0", skipped="0", time=_seconds(seconds))
        for r in cases:
            case = ET.SubElement(suite, "testcase", classname=_xml(file), name=_xml(r.name), file=_xml(file),
                                 line=str(r.line), time=_seconds(r.seconds))
            if r.failures:
                message = "; ".join(f.message for f in r.failures)
                body = "\n\n".join("\n".join([f.message, *(f"  {d}" for d in f.details)]) for f in r.failures)
                failure = ET.SubElement(case, "failure", message=_xml(message), type=r.failures[0].kind)
                failure.text = _xml(body)
    problem_files: dict[str, list[Problem]] = {}
    for p in problems:
        problem_files.setdefault(p.file, []).append(p)
    for file, found in problem_files.items():
        suite = ET.SubElement(root, "testsuite", name=_xml(file), tests="1", failures="0", errors="1",
                              skipped="0", time=_seconds(0))
        case = ET.SubElement(suite, "testcase", classname=_xml(file), name="(the test file)", file=_xml(file),
                             time=_seconds(0))
        error = ET.SubElement(case, "error", message=_xml(found[0].headline()), type="invalid test file")
        error.text = _xml("\n".join(problem_text(p).rstrip("\n") for p in found))
    root.set("tests", str(len(results) + len(problem_files)))
    root.set("failures", str(total_failures))
    root.set("errors", str(len(problem_files)))
    root.set("time", _seconds(total_time))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
