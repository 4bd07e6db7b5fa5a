"""Workloads of the suite (``benchmarks/run.py``) beyond the bookshop stream itself.

* ``typed_ruleset(n_rules)`` and ``typed_events(n)``: a programme of ``n_rules`` rules over 100
  event types (``t00`` … ``t99``, every one declared whatever ``n_rules`` is), of which the type
  ``t00`` always has exactly ``HOT_RULES`` rules and the others share the rest; and events of
  those types, either all ``t00`` (``hot=True``: the rules matching an event's type stay
  ``HOT_RULES`` while the total grows) or spread evenly over the 100 types (the rules matching
  an event's type grow with the total, about ``n_rules / 100``). Cost per event should follow the
  rules that match the event's type, not the total.
* ``chunked_events_file(n, seed)``: ``n`` bookshop events in a JSON Lines file under
  ``benchmarks/.work/`` (kept between runs), written a chunk at a time so that 10⁷ events never
  sit in memory together: chunk ``k`` is ``generate(chunk, seed + k)`` with its customers renamed
  ``k<k>-<id>``, so chunks share no customer, and ``read_chunks`` gives the file back a chunk at a
  time. Running ``Engine.run`` on each chunk in turn on one engine is the same as one run over
  the whole (each customer's events are in one chunk), with one chunk's dicts in memory at once.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
N_TYPES = 100
HOT_RULES = 5
CHUNK = 1_000_000

sys.path.insert(0, str(HERE))
from generate_events import generate  # noqa: E402

from rewardlang.generate import write_jsonl  # noqa: E402


def _type(i: int) -> str:
    return f"t{i:02d}"


def _rule(rng: random.Random, form: int, event: str) -> str:
    if form == 0:
        return f"{event} earns 1 point per 10 SEK"
    if form == 1:
        return f"{event} where amount >= {rng.randint(1, 10) * 50} SEK earns {rng.randint(1, 10) * 10} points"
    if form == 2:
        return f"{event} where items >= {rng.randint(2, 5)} earns {rng.randint(1, 5) * 10} points, at most 2 per month"
    if form == 3:
        return (f"{event} where amount >= {rng.randint(1, 10) * 100} SEK and items >= {rng.randint(2, 4)}"
                f" earns {rng.randint(1, 5) * 10} points")
    return f"{event} earns {rng.randint(1, 5)} points"


def typed_ruleset(n_rules: int, n_types: int = N_TYPES, hot_rules: int = HOT_RULES, seed: int = 1) -> str:
    """``n_rules`` rules over ``n_types`` event types: ``hot_rules`` on ``t00`` (one of each form),
    the rest round-robin over ``t01`` … (``n_rules >= hot_rules``)."""
    if n_rules < hot_rules:
        raise ValueError(f"at least {hot_rules} rules")
    rng = random.Random(seed)
    lines = [f'program "{n_rules} rules over {n_types} event types"', "currency SEK", 'timezone "Europe/Stockholm"', ""]
    lines += [f"event {_type(i)} with amount money, items number" for i in range(n_types)]
    lines.append("")
    for k in range(hot_rules):
        lines.append(f'rule "hot {k + 1}": {_rule(rng, k % 5, _type(0))}')
    for k in range(n_rules - hot_rules):
        event = _type(1 + k % (n_types - 1))
        lines.append(f'rule "r{k + 1}": {_rule(rng, rng.randrange(5), event)}')
    return "\n".join(lines) + "\n"


def typed_events(n: int, *, hot: bool, n_types: int = N_TYPES, customers: int = 1000, seed: int = 1) -> list[dict[str, Any]]:
    """``n`` valid events, a minute apart from 2026-01-01, of ``t00`` only (``hot``) or of a type
    drawn evenly from the ``n_types``; amounts 10.00–999.90 SEK as text, 1–6 items."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    out = []
    for i in range(n):
        when = start + dt.timedelta(minutes=i)
        out.append({"id": f"e{i + 1}", "customer": f"c{rng.randrange(customers) + 1}",
                    "time": when.isoformat().replace("+00:00", "Z"),
                    "type": _type(0 if hot else rng.randrange(n_types)),
                    "amount": _money(rng),
                    "items": rng.randint(1, 6)})
    return out


def _money(rng: random.Random) -> str:
    ore = rng.randint(1000, 99990) // 10 * 10
    return f"{ore // 100}.{ore % 100:02d}"


def _renamed(events: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    for event in events:
        if type(event) is dict and type(event.get("customer")) is str:
            event["customer"] = prefix + event["customer"]
    return events


def chunked_events_file(n: int, seed: int = 1, chunk: int | None = None, customers_per_chunk: int | None = None,
                        work: Path = WORK) -> Path:
    """``n`` events as JSON Lines under ``work``, ``chunk`` (default ``CHUNK``) at a time, each
    chunk ``customers_per_chunk`` customers (default: the generator's, a 25th of the events); see
    the module's text. The file is written once (to a partial name, then renamed) and kept."""
    chunk = chunk or CHUNK
    work.mkdir(parents=True, exist_ok=True)
    tag = f"-c{customers_per_chunk}" if customers_per_chunk else ""
    path = work / f"events-chunked-{n}-{seed}-{chunk}{tag}.jsonl"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8", newline="\n") as out:
        done = 0
        k = 0
        while done < n:
            size = min(chunk, n - done)
            customers = None if customers_per_chunk is None else max(1, customers_per_chunk * size // chunk)
            write_jsonl(_renamed(generate(size, seed + k, customers), f"k{k}-"), out)
            done += size
            k += 1
    partial.rename(path)
    return path


def read_chunks(path: Path, chunk: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """The events of a ``chunked_events_file`` a chunk at a time (lists of ``chunk`` dicts, the
    chunk it was written with)."""
    chunk = chunk or CHUNK
    batch: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            batch.append(json.loads(line))
            if len(batch) == chunk:
                yield batch
                batch = []
    if batch:
        yield batch
