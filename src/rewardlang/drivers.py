"""The drivers' half of a distributed run, shared by ``rewardlang.spark`` and ``rewardlang.dask_engine``.

What the command line's driver does around the engine — find the input files, refuse output
paths that would overwrite an input or each other, write JSON Lines whole or not at all, print
the one-line summary, turn a user's mistake into one line and an exit code — is the same whatever
engine runs the kernel, and the two runs must behave alike (docs/scale.md). So it is written
once, here; each engine adds only what is its own (Spark's Parquet and URLs, Dask's scheduler).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rewardlang.buckets import RunInputError


def expand(paths: Sequence[str]) -> list[str]:
    """Files, and the files under directories (recursively, sorted, without hidden and ``_``
    files such as Spark's ``_SUCCESS``), in the order given; a file named twice (or a file and
    its directory) is read once, as ``run`` reads it. A URL (``s3a://…``, ``hdfs://…``) is kept as
    it is, for the engine to accept or refuse."""
    out: list[str] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        key = name if is_url(name) else os.path.normcase(os.path.realpath(name))
        if key not in seen:
            seen.add(key)
            out.append(name)

    for path in paths:
        if path == "-":
            raise RunInputError("- (standard input): a distributed run reads files and directories, not standard "
                                "input; write the events to a file and name it")
        if is_url(path):
            add(path)
        elif os.path.isdir(path):
            found = []
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
                found.extend(os.path.join(root, n) for n in names if not n.startswith((".", "_")))
            for name in sorted(found):
                add(name)
        elif not os.path.exists(path):
            raise RunInputError(f"{path}: no such file or directory: check the path")
        else:
            add(path)
    return out


def is_url(path: str) -> bool:
    """``scheme://…`` (not a Windows drive): a path only an engine's own file systems can read."""
    head, sep, _ = path.partition("://")
    return bool(sep) and len(head) > 1 and head.replace("+", "").replace("-", "").replace(".", "").isalnum()


def is_jsonl(path: str) -> bool:
    """A name that means one JSON Lines file (where an engine could also write a directory)."""
    return path.lower().endswith((".jsonl", ".json", ".ndjson"))


def is_sqlite(path: str) -> bool:
    """Whether ``path`` is a SQLite file: the embedded engine's state, which no distributed run reads."""
    with open(path, "rb") as stream:
        return stream.read(16) == b"SQLite format 3\x00"


def check_outputs(outputs: Sequence[tuple[str, str, bool]], reads: Sequence[tuple[str, str]]) -> None:
    """Raise ``RunInputError`` for an output path (``(option, path, is_directory)``, local paths
    only) that is named twice, is an input or the state read (``reads``: ``(what, path)``), lies
    inside one or holds one, has no parent directory, or is a directory where a file is written."""
    named: dict[str, str] = {}
    for option, path, directory in outputs:
        key = os.path.normcase(os.path.realpath(path))
        if key in named:
            raise RunInputError(f"{option} {path}: also given as {named[key]}; name another path")
        named[key] = option
        for what, given in reads:
            if given == "-" or is_url(given):
                continue
            other = os.path.normcase(os.path.realpath(given))
            if key == other or key.startswith(other + os.sep) or other.startswith(key + os.sep):
                thing = "the state read" if what == "--state" else "an input"
                raise RunInputError(f"{option} {path}: is (or holds, or is inside) {thing}, {given}; write it "
                                    "somewhere else")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise RunInputError(f"{option} {path}: the directory {parent} does not exist; create it first")
        if not directory and os.path.isdir(path):
            raise RunInputError(f"{option} {path}: is a directory; name a file (a .jsonl name is JSON Lines)")


def write_lines(path: str | None, lines: Iterable[str], out: Any) -> None:
    """Lines to ``out`` (path None), or to a file written whole or not at all (temporary, rename)."""
    if path is None:
        for line in lines:
            out.write(line + "\n")
        out.flush()
        return
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8", newline="\n") as stream:
        for line in lines:
            stream.write(line + "\n")
    os.replace(temporary, path)


def summary(counts: dict[str, Any]) -> str:
    """The run's figures in one line, for standard error."""
    by = ", ".join(f"{code} {n}" for code, n in counts["rejected_by"].items())
    return (f"read {counts['read']} lines: {counts['applied']} applied, {counts['duplicates']} duplicates, "
            f"{counts['rejected']} rejected{f' ({by})' if by else ''}; {counts['customers']} customers")


def command(run: Callable[[Any], dict[str, Any]], *, to_stdout: bool, strict: bool,
            say: Callable[[str], None] | None, expected: tuple[type[Exception], ...] = (),
            failed: Callable[[Exception], str | None] = lambda exc: None) -> int:
    """The command line's side of a distributed run: ``run(out)`` (``out``: standard output as
    UTF-8 with ``\\n`` endings when the ledger goes there, else None) returns the counts; the
    summary or a one-line error goes to standard error (``say``), and the exit code comes back
    (0; 1 with ``strict`` when a line was rejected; 2 when the run cannot be done).

    ``expected``: the engine's exceptions whose message is the whole story (a missing extra);
    ``failed``: the engine's one line for a failed job (None: not the engine's, so a bug, raised).
    """
    say = say or (lambda message: print(message, file=sys.stderr))
    out = None
    if to_stdout:
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n", write_through=False) \
            if hasattr(sys.stdout, "buffer") else sys.stdout
    try:
        counts = run(out)
    except (RunInputError, ValueError, *expected) as exc:
        say(f"error: {exc}")
        return 2
    except OSError as exc:  # writing the ledger, the rejected lines or a JSON Lines state
        where = f"{exc.filename}: " if exc.filename else ""
        say(f"error: {where}{exc.strerror or exc}; check the path, its permissions and the free space")
        return 2
    except Exception as exc:
        message = failed(exc)
        if message is None:
            raise
        say(f"error: {message}")
        return 2
    finally:
        if isinstance(out, io.TextIOWrapper):
            out.flush()
            out.detach()
    say(summary(counts))
    return 1 if strict and counts["rejected"] else 0
