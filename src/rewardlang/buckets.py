"""The workers' half of a distributed run, whatever the engine: Spark and Dask both call it.

Issue 8 asks for one engine-agnostic kernel that relies on no engine's order. A distributed
run does three things: it *stages* each input line by the customer it names (``Staged``), the
engine brings a customer's lines together (Spark's ``groupBy``/``cogroup``, Dask's ``shuffle``),
and a group of whole customers goes through the kernel (``apply_bucket``). Only the middle step
belongs to an engine, so the first and the last live here, once: ``rewardlang.spark`` and
``rewardlang.dask_engine`` are drivers that move these columns around.

Nothing here imports pyspark or dask; pandas only where a frame goes in or comes out (both
engines hand a worker a pandas frame). Money stays exact: a line travels as its JSON text (a CSV
row as the JSON of its cells) and is read on the worker with ``runner.load_value``, so numbers
become ``Decimal``, as in the embedded run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import pickle
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from rewardlang.effects import canonical
from rewardlang.engine import apply_customer, line_of
from rewardlang.events import Validator
from rewardlang.inputs import InputLine, open_events
from rewardlang.kernel import Kernel
from rewardlang.localtime import format_instant, parse_instant
from rewardlang.runner import dump_value, load_value
from rewardlang.state import CustomerState

if TYPE_CHECKING:  # pandas comes with either engine's extra, never with the core
    import pandas as pd

# Staged lines: the customer (None when the line is rejected before it has one), where it stands
# in the input (``file_no``: the input's place in the run; ``line_number`` 0 and ``file`` None
# mean "not known", a row of a frame), its text (for the rejected file) and, for a CSV row, the
# JSON of its cells (``payload``; a JSON line's payload is its text); ``problem`` and ``code``
# when it was rejected before it had a customer.
STAGED = ("customer", "file_no", "file", "line_number", "text", "payload", "problem", "code")

# What the kernel gives back, one frame for all of it: ``record`` is ``effect`` (``text``: the
# ledger line, ``n``: its place in the customer's ledger), ``state`` (``text``: the state's JSON),
# ``rejected`` (``text``: the line, with ``reason`` and ``code``) or ``counts`` (``text``: the
# group's figures as JSON).
OUT = ("record", "customer", "n", "text", "file_no", "file", "line_number", "reason", "code")


class RunInputError(Exception):
    """An input of a distributed run cannot be used (a missing file, a bad frame, a bad output
    path); the message is one line that says what to do."""


def until_text(until: dt.datetime | str | None) -> str | None:
    """``until`` as the text a worker parses back (a datetime does not travel to every engine
    as it is), or None; a time without an offset is a ``ValueError``."""
    if until is None:
        return None
    instant = parse_instant(until) if isinstance(until, str) else until
    if instant is None or instant.tzinfo is None:
        raise ValueError(f"until is not a time with an offset: {until!r}")
    return format_instant(instant)


# ================================================================================ per worker

_WORKERS: dict[tuple[str, int], tuple[Kernel, Validator]] = {}


def worker(blob: bytes) -> tuple[Kernel, Validator]:
    """The kernel and validator of a pickled programme, built once per worker process and thread
    (Spark's Python workers are processes; Dask's default scheduler runs tasks on threads, and a
    kernel, like an ``Engine``, is one thread's)."""
    key = (hashlib.sha256(blob).hexdigest(), threading.get_ident())
    found = _WORKERS.get(key)
    if found is None:
        from rewardlang.compiler import compile_program

        program = pickle.loads(blob)  # noqa: S301 - our own bytes, made by the driver
        found = _WORKERS[key] = (Kernel(compile_program(program)), Validator(program))
    return found


# ================================================================================ staging

class Staged:
    """Staged lines as columns (``STAGED``), taken out a batch at a time by the engine's driver
    code (as an Arrow batch for Spark, a pandas frame for Dask)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in STAGED}

    def __len__(self) -> int:
        return len(self.columns["text"])

    def take(self) -> dict[str, list[Any]]:
        """The columns staged so far; the stage starts empty again."""
        taken = self.columns
        self.columns = {name: [] for name in STAGED}
        return taken

    def add(self, validator: Validator, file_no: int, file: str | None, number: int, line: InputLine) -> None:
        c = self.columns
        customer = problem = code = payload = None
        if line.value is None:
            problem, code = line.problem or "unreadable", line.code or "unreadable"
        else:
            # where the line goes (validated in full on the worker that applies it)
            customer = validator.customer_of(line.value)
            if customer is None:
                item = validator.validate(line.value)
                customer = item.customer
            if customer is None:
                problem, code = item.reason, item.code  # type: ignore[union-attr]
            elif line.fmt != "jsonl":
                payload = dump_value(line.value)
        c["customer"].append(customer)
        c["file_no"].append(file_no)
        c["file"].append(file)
        c["line_number"].append(number)
        c["text"].append(line.text)
        c["payload"].append(payload)
        c["problem"].append(problem)
        c["code"].append(code)

    def read(self, validator: Validator, file_no: int, path: str, *, csv_delimiter: str, fmt: str | None,
             every: int) -> Iterator[dict[str, list[Any]]]:
        """Stage the lines of one JSON Lines or CSV file, read by ``rewardlang.inputs`` as the
        embedded run reads it (its line numbers, reasons and codes), yielding the columns each
        time ``every`` lines are staged; what is left stays staged (for the next file, or the
        caller's last ``take``)."""
        for line in open_events(path, csv_delimiter=csv_delimiter, fmt=fmt):
            self.add(validator, file_no, line.file, line.line_number, line)
            if len(self) >= every:
                yield self.take()

    def add_texts(self, validator: Validator, texts: list[str | None], files: list[str | None],
                  numbers: list[int]) -> None:
        """Rows of JSON text (a frame's ``event`` column), read as JSON Lines lines are: the rows
        are one in-memory JSON Lines stream (after one blank line, so that no row is taken for the
        start of a file and loses a byte order mark), and row k is its physical line k + 2."""
        chunk = io.BytesIO()
        chunk.write(b"\n")
        broken: dict[int, str] = {}
        for k, text in enumerate(texts):
            if text is None or "\n" in text or "\r" in text:
                broken[k] = "" if text is None else text
                chunk.write(b"\n")
            else:
                chunk.write(text.encode("utf-8", "surrogatepass") + b"\n")
        chunk.seek(0)
        for line in open_events("-", fmt="jsonl", stdin=chunk):
            k = line.line_number - 2
            self.add(validator, 0, files[k], numbers[k], line)
        for k, text in broken.items():
            why = ("the event is null: give the JSON text of one event" if texts[k] is None else
                   "the event's text holds a line break: give each event as one line of JSON")
            self.add(validator, 0, files[k], numbers[k],
                     InputLine(files[k] or "", numbers[k], text, None, why, "jsonl", "not_json"))


# ================================================================================ the kernel

def apply_bucket(blob: bytes, until: str | None, lines: pd.DataFrame, stored: dict[str, str]) -> pd.DataFrame:
    """Whole customers through the kernel: each customer's lines (``lines``: the ``STAGED``
    columns, any order, any number of buckets), sorted by their place in the input (no engine's
    order is an order), with its stored state (``stored``: customer to state JSON), through
    ``engine.apply_customer``; then ``until`` (``until_text``) for every customer with a state.
    Returns the ``OUT`` frame: effects in §5's order per customer, numbered; every state;
    rejected lines; one ``counts`` row."""
    import pandas as pd

    kernel, validator = worker(blob)
    instant = parse_instant(until) if until is not None else None
    per: dict[str, list[tuple[Any, ...]]] = {}
    columns = ("customer", "file_no", "line_number", "text", "payload", "file")
    for row in () if lines.empty else zip(*(lines[name] for name in columns)):
        per.setdefault(row[0], []).append(row[1:])
    out: dict[str, list[Any]] = {name: [] for name in OUT}
    figures: Counter[str] = Counter()
    rejected_by: Counter[str] = Counter()

    def emit(record: str, customer: str | None, n: int, text: str, file_no: int = 0, file: str | None = None,
             line_number: int = 0, reason: str | None = None, code: str | None = None) -> None:
        for name, value in zip(OUT, (record, customer, n, text, file_no, file, line_number, reason, code)):
            out[name].append(value)

    for customer in sorted(per.keys() | stored.keys()):
        saved = stored.get(customer)
        rows = per.get(customer)
        if rows is None and instant is None:
            emit("state", customer, 0, saved)  # type: ignore[arg-type]  # untouched: kept as it was
            continue
        state = CustomerState(customer) if saved is None else CustomerState.from_dict(json.loads(saved))
        touched = saved is not None
        effects = []
        if rows:
            figures["customers"] += 1
            rows.sort(key=lambda r: (int(r[0]), int(r[1]), r[2]))
            found = []
            for index, (_, _, text, payload, _) in enumerate(rows):
                value = load_value(payload if isinstance(payload, str) else text)
                found.append(line_of(index, validator.validate(value), value))
            result = apply_customer(kernel, state, found)
            touched = touched or result.touched
            effects.extend(result.effects)
            for outcome in result.outcomes:
                if outcome.status == "applied":
                    figures["applied"] += 1
                elif outcome.status == "duplicate":
                    figures["duplicates"] += 1
                else:
                    figures["rejected"] += 1
                    code = outcome.code or "rejected"
                    rejected_by[code] += 1
                    file_no, number, text, _, file = rows[outcome.index]
                    emit("rejected", customer, 0, text, int(file_no), file, int(number), outcome.reason or code, code)
        if instant is not None and touched:
            effects.extend(kernel.advance(state, instant))
        for n, effect in enumerate(canonical(effects)):
            emit("effect", customer, n, effect.to_json())
        if touched:
            emit("state", customer, 0, json.dumps(state.to_dict(), ensure_ascii=False, separators=(",", ":")))
    emit("counts", None, 0, json.dumps({**figures, "rejected_by": dict(rejected_by)}))
    return pd.DataFrame(out)


# ================================================================================ the run's figures

def total_counts(groups: Iterable[str], early: Iterable[tuple[str, int]]) -> dict[str, Any]:
    """The run's figures as the embedded run counts them, from the kernel's ``counts`` rows
    (``groups``: their JSON) and the lines rejected before they had a customer (``early``: code
    and how many): read, applied, duplicates, rejected (with ``rejected_by`` code) and customers
    (those that had lines)."""
    total: Counter[str] = Counter()
    by_code: Counter[str] = Counter()
    for text in groups:
        figures = json.loads(text)
        by_code.update(figures.pop("rejected_by"))
        total.update(figures)
    for code, n in early:
        by_code[code] += n
        total["rejected"] += n
    applied, duplicates, rejected = total["applied"], total["duplicates"], total["rejected"]
    return {"read": applied + duplicates + rejected, "applied": applied, "duplicates": duplicates,
            "rejected": rejected, "rejected_by": dict(sorted(by_code.items())), "customers": total["customers"]}


def rejected_line(file: str | None, number: int | None, line: str, reason: str) -> str:
    """One line of the rejected file, as the embedded run writes it (LANGUAGE.md §5)."""
    return json.dumps({"file": file, "line_number": number, "line": line, "reason": reason}, ensure_ascii=False)
