"""Diagnostics → reports: ``text`` for people, ``json``, ``github`` and ``sarif`` for machines and CI.

Every renderer takes the diagnostics (in the order to print them) and a mapping filename → source
text (the text format shows the source line; the others may ignore it), and returns a string that
ends with a newline unless it is empty.

- ``text``: the ruff-style blocks of ``diagnostics.render``, separated by a blank line.
- ``json``: ruff's JSON shape, a list of ``Diagnostic.to_dict()``.
- ``github``: one GitHub Actions workflow command a diagnostic
  (``::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=RL101::message``), which GitHub
  shows as an annotation on the file in a pull request.
- ``sarif``: a SARIF 2.1.0 log, for GitHub code scanning and other SARIF viewers.

Columns are 1-based and count Unicode code points (the SARIF run says so in ``columnKind``);
end columns are exclusive, as in SARIF.
"""

from __future__ import annotations

import json as _json
import os
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import PurePath

from rewardlang.diagnostics import CODES, Diagnostic, render

FORMATS = ("text", "json", "github", "sarif")

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "rewardlang"


# ---------------------------------------------------------------------------- text and json


def to_text(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    """The ruff-style blocks (headline, source line, caret, help), a blank line between them."""
    blocks = [render(d, sources.get(d.span.filename)) for d in diagnostics]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def to_json(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None) -> str:
    """ruff's JSON shape: a list of ``Diagnostic.to_dict()``, indented by two spaces."""
    return _json.dumps([d.to_dict() for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------- github


def escape_data(value: str) -> str:
    """Escape a workflow command's message (GitHub's ``escapeData``: ``%``, CR, LF)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value (``escapeProperty``: also ``:`` and ``,``)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _message_with_help(diagnostic: Diagnostic) -> str:
    if diagnostic.help:
        return f"{diagnostic.message}\nhelp: {diagnostic.help}"
    return diagnostic.message


def github_line(diagnostic: Diagnostic) -> str:
    """``::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=RL101::message``."""
    span = diagnostic.span
    props = [f"file={escape_property(span.filename)}"]
    if span.line >= 1:
        props.append(f"line={span.line}")
        if span.column >= 1:
            props.append(f"col={span.column}")
        if span.end_line >= span.line:
            props.append(f"endLine={span.end_line}")
            if span.end_column >= 1:
                props.append(f"endColumn={span.end_column}")
    props.append(f"title={escape_property(diagnostic.code)}")
    command = "error" if diagnostic.severity == "error" else "warning"
    return f"::{command} {','.join(props)}::{escape_data(_message_with_help(diagnostic))}"


def to_github(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None) -> str:
    lines = [github_line(d) for d in diagnostics]
    return "\n".join(lines) + "\n" if lines else ""


# ---------------------------------------------------------------------------- sarif


def artifact_uri(filename: str) -> str:
    """A file's SARIF ``uri``: the path as given, as a relative URI reference (percent-encoded,
    ``/`` separators); an absolute path becomes a ``file://`` URI."""
    path = PurePath(filename)
    if path.is_absolute():
        return path.as_uri()
    posix = filename.replace(os.sep, "/") if os.sep != "/" else filename
    return urllib.parse.quote(posix, safe="/")


def rule_name(code: str) -> str:
    """A rule's SARIF ``name``, an identifier made of its title: ``unknown event`` → ``UnknownEvent``."""
    words = re.findall(r"[A-Za-z0-9]+", CODES[code])
    return "".join(w[:1].upper() + w[1:] for w in words)


def docs_url() -> str | None:
    """The absolute URL of the project's ``docs/`` folder, from the installed package's metadata
    (a ``Documentation`` project URL), or None when the project declares none."""
    from importlib.metadata import metadata

    try:
        urls = metadata("rewardlang").get_all("Project-URL") or []
    except Exception:  # no metadata (a bare source tree): no URL
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation" and url.strip().startswith(("https://", "http://")):
            return url.strip().rstrip("/")
    return None


def help_uri(code: str, base: str | None) -> str | None:
    """``BASE/errors.md#rl101``: SARIF (and GitHub's upload) want an absolute URI here, so there
    is none without a base URL."""
    if base is None:
        return None
    return f"{base.rstrip('/')}/errors.md#{code.lower()}"


def _level(diagnostic: Diagnostic) -> str:
    return "error" if diagnostic.severity == "error" else "warning"


def _default_level(code: str) -> str:
    return "warning" if code.startswith("RL9") else "error"


def _region(diagnostic: Diagnostic, source: str | None) -> dict[str, object] | None:
    span = diagnostic.span
    if span.line < 1:
        return None
    region: dict[str, object] = {"startLine": span.line}
    if span.column >= 1:
        region["startColumn"] = span.column
    if span.end_line >= span.line:
        region["endLine"] = span.end_line
        if span.end_column >= 1 and (span.end_line > span.line or span.end_column >= span.column):
            region["endColumn"] = span.end_column
    if source is not None:
        lines = source.splitlines()
        if span.line <= len(lines):
            region["snippet"] = {"text": lines[span.line - 1]}
    return region


def sarif_log(
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, str] | None = None,
    *,
    version: str | None = None,
    docs: str | None = None,
) -> dict[str, object]:
    """The SARIF 2.1.0 log as a dict: one run, one rule per code used, one result a diagnostic.

    ``docs`` is the absolute URL of the docs folder for ``helpUri`` (default: ``docs_url()``).
    """
    if version is None:
        from rewardlang import __version__ as version
    if docs is None:
        docs = docs_url()
    sources = sources or {}
    items: Sequence[Diagnostic] = list(diagnostics)
    codes = sorted({d.code for d in items})
    index = {code: i for i, code in enumerate(codes)}
    rules = []
    for code in codes:
        rule: dict[str, object] = {
            "id": code,
            "name": rule_name(code),
            "shortDescription": {"text": CODES[code]},
            "defaultConfiguration": {"level": _default_level(code)},
        }
        uri = help_uri(code, docs)
        if uri is not None:
            rule["helpUri"] = uri
        rule["help"] = {"text": f"{code} ({CODES[code]}) is explained in docs/errors.md#{code.lower()}."}
        rules.append(rule)
    results = []
    for d in items:
        result: dict[str, object] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _level(d),
            "message": {"text": _message_with_help(d)},
        }
        physical: dict[str, object] = {"artifactLocation": {"uri": artifact_uri(d.span.filename)}}
        region = _region(d, sources.get(d.span.filename))
        if region is not None:
            physical["region"] = region
        result["locations"] = [{"physicalLocation": physical}]
        results.append(result)
    driver: dict[str, object] = {"name": TOOL_NAME, "version": version, "rules": rules}
    if docs is not None:
        driver["informationUri"] = docs
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}],
    }


def to_sarif(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None) -> str:
    return _json.dumps(sarif_log(diagnostics, sources), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------- by name

RENDERERS: dict[str, Callable[[Iterable[Diagnostic], Mapping[str, str]], str]] = {
    "text": to_text,
    "json": to_json,
    "github": to_github,
    "sarif": to_sarif,
}


def report(format: str, diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    """Render ``diagnostics`` in one of ``FORMATS``."""
    try:
        renderer = RENDERERS[format]
    except KeyError:
        raise ValueError(f"unknown report format {format!r}; use one of {', '.join(FORMATS)}") from None
    return renderer(diagnostics, sources)


__all__ = [
    "FORMATS",
    "artifact_uri",
    "escape_data",
    "escape_property",
    "github_line",
    "report",
    "sarif_log",
    "to_github",
    "to_json",
    "to_sarif",
    "to_text",
]
