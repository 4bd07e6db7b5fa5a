"""The benchmark suite: rewardlang's speed, measured side by side with its peers (issue 7).

Run it from the project root with the project's interpreter (the peers are the ``bench`` extra:
``.venv/bin/pip install -e '.[bench]'``; a peer that is not installed is reported, not dropped)::

    .venv/bin/python benchmarks/run.py [--quick | --smoke] [--only SECTION,...] [--json PATH] [--work DIR]

One process prints a table per section and writes ``benchmarks/results.json`` (``--json``): the
machine, the date, the Python, every figure, the ratios, and the issue's goals with whether each
is met. The sizes are ``MODES``: the default (full) mode takes hours on a 2-core machine;
``--quick`` a few minutes; ``--smoke`` seconds (the tests run it, so that the suite does not rot).

Sections (``--only`` takes their names):

* ``engine`` — ``Engine.run`` on ``rulesets/bookshop.reward`` over generated bookshop events
  (``rewardlang.generate.benchmark_events``: 25 events a customer over two years, with input
  problems); the hand-written function (``bookshop_by_hand.py``, the ceiling), asserted to give
  the same ledger line for line first (``engine.check_same``); input validation alone; and the
  peers (``peers.py``: ``rule-engine``, ``business-rules``, ``durable_rules``) over the same event
  dicts, each asserted to give the same tallies as the same subset written by hand.
* ``apply`` — ``Engine.apply`` one event at a time on a warm engine (the first half of the
  stream applied, each event of the second half timed): p50, p90, p99, max; the default engine
  and ``Engine(program, compact=True)`` (which unpacks and packs the customer's state per event).
* ``endtoend`` — ``rewardlang run`` (JSON Lines → ledger, SQLite state) in a child process, and
  the I/O floor (the same lines parsed and written with no rules): ``endtoend.measure``.
* ``events`` — ``Engine.run`` over 10⁴ … 10⁷ events: time per event should be flat (above
  ``workloads.CHUNK`` events the stream is read from a file a chunk of customers at a time).
* ``rules`` — 10 … 1,000 rules over 100 event types (``workloads.typed_ruleset``): cost per
  event with the rules matching the event's type held at 5, and with events spread over all
  types.
* ``customers`` — 10² … 10⁶ customers of 25 events each: memory per customer an engine keeps
  (``tracemalloc``), the default engine's and the compact one's (``Engine(program, compact=True)``:
  states packed between calls), beside the hand-written function's.
* ``check`` — parse + check (``rewardlang.check_text``, what ``rewardlang check`` does per file)
  of 10 … 100,000 generated rules (``parse.generate_ruleset``).
* ``startup`` — ``rewardlang --version`` and ``rewardlang check`` of a small file, as commands.

In-process figures are CPU seconds of this process (``time.process_time``): the machine may be
shared, and time spent waiting for a core is not the code's. Child processes are timed both by
the wall clock and by their CPU seconds (user + system); the goals use the CPU seconds. Ratios
are measured in one sitting on the same events: compare them more than the absolute figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import endtoend  # noqa: E402
import engine as engine_bench  # noqa: E402
import parse as parse_bench  # noqa: E402
import peers  # noqa: E402
import workloads  # noqa: E402
from bookshop_by_hand import BookshopByHand  # noqa: E402
from generate_events import generate  # noqa: E402

import rewardlang  # noqa: E402
from rewardlang.engine import Engine  # noqa: E402
from rewardlang.events import Validator  # noqa: E402
from rewardlang.loading import check_text  # noqa: E402
from rewardlang.localtime import local_midnight  # noqa: E402

RULESET = ROOT / "rulesets" / "bookshop.reward"
RESULTS = HERE / "results.json"
COMMAND = Path(sys.executable).with_name("rewardlang")
EVENTS_PER_CUSTOMER = 25  # the generator's default


@dataclass(frozen=True)
class Sizes:
    contenders: int  # bookshop events for Engine.run, the hand-written function and the peers
    repeat: int  # best of
    endtoend: int
    events: tuple[int, ...]
    rules: tuple[int, ...]
    rule_events: int
    customers: tuple[int, ...]
    traced_hand: tuple[int, ...]  # the customer counts at which the hand-written function's memory is measured too
    check: tuple[int, ...]
    startup_repeat: int


MODES = {
    "smoke": Sizes(contenders=1_500, repeat=1, endtoend=1_500, events=(1_000, 3_000), rules=(10, 100, 1_000),
                   rule_events=200, customers=(20, 100), traced_hand=(100,), check=(10, 100, 1_000),
                   startup_repeat=1),
    "quick": Sizes(contenders=20_000, repeat=3, endtoend=20_000, events=(10_000, 100_000), rules=(10, 100, 1_000),
                   rule_events=3_000, customers=(100, 1_000, 10_000), traced_hand=(1_000,),
                   check=(10, 100, 1_000, 10_000, 100_000), startup_repeat=5),
    "full": Sizes(contenders=200_000, repeat=3, endtoend=1_000_000, events=(10_000, 100_000, 1_000_000, 10_000_000),
                  rules=(10, 100, 1_000), rule_events=30_000, customers=(100, 1_000, 10_000, 100_000, 1_000_000),
                  traced_hand=(1_000, 10_000), check=(10, 100, 1_000, 10_000, 100_000), startup_repeat=11),
}

GOALS = {  # issue 7, "on one core of this 2-core machine"
    "engine_rate": 1_000_000,  # Engine.run events/s
    "engine_vs_hand": 1.5,  # at most this many times the hand-written function's time
    "engine_vs_peers": 10.0,  # at least this many times faster than every peer library
    "run_rate": 250_000,  # rewardlang run events/s
    "run_vs_floor": 2.0,
    "apply_p99_us": 50.0,
    "memory_per_customer": 1024,  # bytes
    "rules_1000_vs_10": 2.0,
    "check_100000_s": 5.0,
}


# ---------------------------------------------------------------------------- measuring

timed = engine_bench.timed
best_of = engine_bench.best_of


def percentile(ordered: list[int], p: float) -> int:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def traced(make: Callable[[], Any], chunks: Iterable[list[dict[str, Any]]]) -> tuple[float, Any]:
    """Bytes per customer that ``make()`` keeps after running every chunk (``tracemalloc``: what is
    still allocated once the runs' results and the chunks are dropped), and the runner."""
    local_midnight.cache_clear()  # a process-wide cache: each runner's figure counts its own filling
    gc.collect()
    tracemalloc.start()
    try:
        runner = make()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for chunk in chunks:
            # fresh dicts, made while tracing: the strings the runner keeps (ids) count as its own
            chunk = json.loads(json.dumps(chunk))
            result = runner.run(chunk)
            del result, chunk
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    customers = runner.states if hasattr(runner, "states") else runner.customers
    return (after - before) / max(1, len(customers)), runner


class Context:
    def __init__(self, mode: str, sizes: Sizes, seed: int, work: Path) -> None:
        self.mode = mode
        self.sizes = sizes
        self.seed = seed
        self.work = work
        self.program = rewardlang.load(RULESET)
        self._bookshop: dict[int, list[dict[str, Any]]] = {}

    def bookshop(self, n: int) -> list[dict[str, Any]]:
        """``generate(n, seed)``, generated once in this run (the same dicts for every contender)."""
        events = self._bookshop.get(n)
        if events is None:
            events = self._bookshop[n] = generate(n, self.seed)
        return events

    def forget(self, n: int) -> None:
        self._bookshop.pop(n, None)


# ---------------------------------------------------------------------------- tables

@dataclass
class Column:
    key: str
    header: str
    fmt: str = ""  # a format spec, or "" for str()
    left: bool = False


def cell(value: Any, fmt: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, str) or not fmt:
        return str(value)
    return format(value, fmt)


@dataclass
class Output:
    """How tables are printed: aligned text for a terminal, or Markdown (``--markdown``) to
    paste into docs/performance.md as it stands."""

    markdown: bool = False


OUTPUT = Output()


def print_table(title: str, columns: list[Column], rows: list[dict[str, Any]], notes: Iterable[str] = ()) -> None:
    cells = [[c.header for c in columns]] + [[cell(r.get(c.key), c.fmt) for c in columns] for r in rows]
    if OUTPUT.markdown:
        print(f"\n**{title}**\n")
        for k, line in enumerate(cells):
            print("| " + " | ".join(v.replace("|", "\\|") for v in line) + " |")
            if k == 0:
                print("|" + "---|" * len(columns))
        if notes:
            print()
        for note in notes:
            print(f"- {note}")
        sys.stdout.flush()
        return
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    print(f"\n## {title}")
    for k, line in enumerate(cells):
        text = "  ".join(v.ljust(w) if c.left else v.rjust(w) for v, w, c in zip(line, widths, columns))
        print("  " + text.rstrip())
        if k == 0:
            print("  " + "  ".join("-" * w for w in widths))
    for note in notes:
        print(f"  · {note}")
    sys.stdout.flush()


# ---------------------------------------------------------------------------- sections

def section_engine(ctx: Context) -> dict[str, Any]:
    """Engine.run, the hand-written ceiling, validation alone and the peers on the same dicts."""
    program = ctx.program
    events = ctx.bookshop(ctx.sizes.contenders)
    n = len(events)
    repeat = ctx.sizes.repeat
    try:
        engine_first, hand_first, n_lines, counts = engine_bench.check_same(program, events)
    except SystemExit as exc:  # the ledgers differ: no figure of this section means anything
        raise AssertionError(str(exc)) from None
    engine_s = best_of(repeat, lambda: Engine(program).run(events), engine_first)
    compact_first, compact_digest = ledger_digest(Engine(program, compact=True), events)
    if compact_digest != ledger_digest(Engine(program), events)[1]:
        raise AssertionError("Engine(program, compact=True) gives another ledger than Engine(program)")
    compact_s = best_of(repeat, lambda: Engine(program, compact=True).run(events), compact_first)
    hand_s = best_of(repeat, lambda: BookshopByHand(program).run(events), hand_first)
    validate = Validator(program).validate
    validate_s = best_of(repeat, lambda: [validate(e) for e in events])

    def row(what: str, seconds: float | None, covers: str, includes: str, **more: Any) -> dict[str, Any]:
        r: dict[str, Any] = {"what": what, "seconds": seconds, "covers": covers, "includes": includes}
        if seconds:
            r.update(events_per_s=n / seconds, us_per_event=seconds / n * 1e6, vs_hand=seconds / hand_s,
                     engine_faster=seconds / engine_s)
        r.update(more)
        return r

    rows = [
        row("Engine.run", engine_s, "17 of 17 rules",
            "validation, per-customer order, every rule and setting, the effects (no advance)"),
        row("Engine.run, compact", compact_s, "17 of 17 rules",
            "the same in Engine(program, compact=True): each customer's state unpacked before its events and "
            "packed after; ledger (run + advance) asserted equal to Engine.run's"),
        row("hand-written function (the ceiling)", hand_s, "17 of 17 rules",
            "the same, as plain Python for this one ruleset; ledger asserted equal (run + advance)"),
        row("input validation alone (Validator)", validate_s, "–", "Validator.validate of each event: a floor of both"),
    ]
    # the peers: the shop alone, the subset by hand (the reference), then each library
    subset_s = best_of(repeat, lambda: peers.Shop(peers.SubsetByHand()).run(events))
    reference = peers.Shop(peers.SubsetByHand()).run(events).summary()
    shop_s = best_of(repeat, lambda: peers.Shop(peers.NoRules()).run(events))
    c = peers.coverage_counts()
    covers = f"{c['full']} in full + {c['part']} in part, of {len(peers.RULES)}"
    rows.append(row("peers' subset, hand-written", subset_s, covers, peers.SubsetByHand.how + ", in the shop"))
    rows.append(row("peers' shop alone (no rules)", shop_s, "–", peers.NoRules.how))
    peer_rows = []
    for cls in peers.PEERS:
        peer, error = peers.load(cls)
        version = peers.version(cls)
        label = f"{cls.name} {version}" if version else cls.name
        if peer is None:
            status = ("not installed" if version is None else "does not load") + f" ({error})"
            peer_rows.append(row(label, None, covers, cls.how, peer=cls.package, status=status))
            continue
        shop = peers.Shop(peer)
        first, _ = timed(lambda: shop.run(events))
        summary = shop.summary()
        if summary != reference:
            raise AssertionError(f"{cls.name} decides differently from the subset written by hand: "
                                 f"{summary} != {reference}")
        seconds = best_of(repeat, lambda: peers.Shop(peer).run(events), first)
        peer_rows.append(row(label, seconds, covers, cls.how + ", in the shop", peer=cls.package, status="ok",
                             same_as_subset=True))
    rows += peer_rows
    return {"events": n, "customers": len({e["customer"] for e in events
                                             if isinstance(e, dict) and isinstance(e.get("customer"), str)}),
            "repeat": repeat, "ledger_lines": n_lines, "counts": counts, "ledgers_equal": True, "rows": rows,
            "peers_subset": reference, "coverage": {k: {"level": v[0], "note": v[1]} for k, v in peers.COVERAGE.items()},
            "peers_not_expressed": list(peers.NOT_EXPRESSED)}


def ledger_digest(engine: Engine, events: list[dict[str, Any]]) -> tuple[float, tuple[str, int]]:
    """The CPU seconds of ``engine.run(events)``, and a digest of its ledger and ``advance``'s."""
    seconds, report = timed(lambda: engine.run(events))
    effects = [*report.effects, *engine.advance(engine_bench.UNTIL)]
    del report
    return seconds, engine_bench._digest(e.to_dict() for e in effects)


def print_engine(r: dict[str, Any]) -> None:
    cols = [Column("what", "contender", left=True), Column("events_per_s", "events/s", ",.0f"),
            Column("us_per_event", "µs/event", ",.1f"), Column("vs_hand", "time ÷ hand-written", ".2f"),
            Column("engine_faster", "time ÷ Engine.run", ".2f"), Column("covers", "rules", left=True)]
    rows = []
    absent = []
    for row in r["rows"]:
        shown = dict(row)
        if row.get("status", "ok") != "ok":
            shown["events_per_s"] = row["status"].split(" (")[0]
            absent.append(f"{row['what']}: {row['status']}")
        rows.append(shown)
    print_table(f"Engine.run and its peers: bookshop, {r['events']:,} events of {r['customers']:,} customers "
                f"(CPU, best of {r['repeat']})", cols, rows, absent + [
                    f"ledgers equal: Engine.run + advance and the hand-written function, {r['ledger_lines']:,} lines",
                    "time ÷ hand-written: this row's time over the hand-written function's; time ÷ Engine.run: over "
                    "Engine.run's (above 1: Engine.run is that many times faster; below 1: it is slower)",
                    "peers run only the subset they can express (" + peers.coverage_text() + "), inside the same "
                    "plain-Python shop (reading events, members, actions); their tallies are asserted equal to "
                    "the subset written by hand",
                    "what each figure includes:",
                ] + [f"  {row['what']}: {row['includes']}" for row in r["rows"]])


def section_apply(ctx: Context) -> dict[str, Any]:
    """Engine.apply one event at a time, on a warm engine: the default one, then a compact one."""
    events = ctx.bookshop(ctx.sizes.contenders)
    half = len(events) // 2
    cpu_clock = time.process_time_ns
    overhead = []
    for _ in range(1000):
        c0 = cpu_clock()
        overhead.append(cpu_clock() - c0)
    rows = []
    statuses: dict[str, int] = {}
    for label, compact in (("Engine.apply", False), ("Engine.apply, compact", True)):
        cpu, wall, statuses = _apply_latencies(Engine(ctx.program, compact=compact), events, half)
        for name, values in ((f"{label}, CPU", cpu), (f"{label}, wall clock", wall)):
            ordered = sorted(values)
            rows.append({"what": name, "p50_us": percentile(ordered, 50) / 1e3,
                         "p90_us": percentile(ordered, 90) / 1e3, "p99_us": percentile(ordered, 99) / 1e3,
                         "max_us": ordered[-1] / 1e3, "mean_us": statistics.fmean(values) / 1e3})
        gc.collect()
    for r in rows:
        r["p99_vs_p50"] = r["p99_us"] / r["p50_us"] if r["p50_us"] else None
    return {"warm_events": half, "timed_events": len(events) - half, "statuses": statuses, "rows": rows,
            "clock_overhead_us": statistics.median(overhead) / 1e3}


def _apply_latencies(engine: Engine, events: list[dict[str, Any]], half: int) -> tuple[list[int], list[int], dict[str, int]]:
    apply = engine.apply
    for event in events[:half]:
        apply(event)
    cpu_clock, wall_clock = time.process_time_ns, time.perf_counter_ns
    cpu: list[int] = []
    wall: list[int] = []
    statuses: dict[str, int] = {}
    for event in events[half:]:
        w0 = wall_clock()
        c0 = cpu_clock()
        outcome = apply(event)
        c1 = cpu_clock()
        w1 = wall_clock()
        cpu.append(c1 - c0)
        wall.append(w1 - w0)
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    return cpu, wall, statuses


def print_apply(r: dict[str, Any]) -> None:
    cols = [Column("what", "", left=True), Column("p50_us", "p50 µs", ",.1f"), Column("p90_us", "p90 µs", ",.1f"),
            Column("p99_us", "p99 µs", ",.1f"), Column("max_us", "max µs", ",.0f"), Column("mean_us", "mean µs", ",.1f"),
            Column("p99_vs_p50", "p99/p50", ".1f")]
    print_table(f"Engine.apply latency: {r['timed_events']:,} events one at a time after {r['warm_events']:,} "
                "(bookshop, in stream order)", cols, r["rows"], [
                    f"outcomes: {r['statuses']}; a clock read costs {r['clock_overhead_us']:.2f} µs (not subtracted)",
                    "CPU: this process's CPU time around each call; wall clock: includes waiting for a core "
                    "on a shared machine"])


def section_endtoend(ctx: Context) -> dict[str, Any]:
    """rewardlang run and the I/O floor, as child processes."""
    n = ctx.sizes.endtoend
    written = (ctx.work / f"events-{n}-{ctx.seed}.jsonl").exists()
    events = None if written or n > 200_000 else ctx.bookshop(n)  # else generated in a child process
    m = endtoend.measure(n, ctx.seed, ctx.work, events=events)
    rows = []
    for what, wall, cpu, peak in (("rewardlang run (SQLite state, ledger written)", m["seconds"], m["cpu_seconds"],
                                   m["peak_bytes"]),
                                  ("I/O floor (json.loads + json.dumps per line)", m["floor_seconds"],
                                   m["floor_cpu_seconds"], m["floor_peak_bytes"])):
        rows.append({"what": what, "wall_s": wall, "cpu_s": cpu, "events_per_s_cpu": n / cpu if cpu else None,
                     "events_per_s_wall": n / wall, "peak_mib": peak / 2**20,
                     "vs_floor_cpu": cpu / m["floor_cpu_seconds"] if m["floor_cpu_seconds"] else None,
                     "vs_floor_wall": wall / m["floor_seconds"]})
    return {"events": n, "rows": rows, "measure": m}


def print_endtoend(r: dict[str, Any]) -> None:
    m = r["measure"]
    cols = [Column("what", "", left=True), Column("events_per_s_cpu", "events/s (CPU)", ",.0f"),
            Column("events_per_s_wall", "events/s (wall)", ",.0f"), Column("cpu_s", "CPU s", ",.2f"),
            Column("wall_s", "wall s", ",.2f"), Column("peak_mib", "peak MiB", ",.0f"),
            Column("vs_floor_cpu", "× floor (CPU)", ".1f"), Column("vs_floor_wall", "× floor (wall)", ".1f")]
    phases = ", ".join(f"{k} {v:,.1f} s" for k, v in m["phases"].items())
    print_table(f"rewardlang run end to end: {r['events']:,} bookshop events, {m['input_bytes'] / 1e6:,.1f} MB of "
                "JSON Lines, fresh state, --until after the span", cols, r["rows"],
                [f"phases (the command's own account, wall): {phases}" if phases else "phases: not reported",
                 f"state file {m['state_bytes'] / 1e6:,.1f} MB, ledger {m['ledger_lines']:,} lines"])


def section_events(ctx: Context) -> dict[str, Any]:
    """Engine.run over growing streams: time per event should be flat."""
    rows = []
    for n in ctx.sizes.events:
        engine = Engine(ctx.program)
        gc.collect()
        if n <= workloads.CHUNK:
            events = ctx.bookshop(n)
            seconds, report = timed(lambda: engine.run(events))
            del report
            if n != ctx.sizes.contenders:
                ctx.forget(n)
            del events
            how = "one Engine.run"
        else:
            path = workloads.chunked_events_file(n, ctx.seed, chunk=workloads.CHUNK, work=ctx.work)
            seconds = 0.0
            for chunk in workloads.read_chunks(path, workloads.CHUNK):
                took, report = timed(lambda: engine.run(chunk))
                seconds += took
                del report, chunk
            how = f"Engine.run per chunk of {workloads.CHUNK:,} events (disjoint customers), one engine"
        rows.append({"events": n, "customers": len(engine.states), "cpu_s": seconds, "events_per_s": n / seconds,
                     "us_per_event": seconds / n * 1e6, "how": how})
        engine = None  # the states go before the next size
        gc.collect()
    for r in rows:
        r["vs_smallest"] = r["us_per_event"] / rows[0]["us_per_event"]
    return {"rows": rows}


def print_events(r: dict[str, Any]) -> None:
    cols = [Column("events", "events", ","), Column("customers", "customers", ","), Column("cpu_s", "CPU s", ",.2f"),
            Column("events_per_s", "events/s", ",.0f"), Column("us_per_event", "µs/event", ",.1f"),
            Column("vs_smallest", "× µs/event of the first", ".2f"), Column("how", "how", left=True)]
    print_table("Scaling with events: Engine.run on the bookshop (25 events a customer); µs/event should stay flat",
                cols, r["rows"])


def section_rules(ctx: Context) -> dict[str, Any]:
    """10 … 1,000 rules over 100 event types: cost per event follows the matching rules?"""
    k = ctx.sizes.rule_events
    streams = {"hot": workloads.typed_events(k, hot=True, seed=ctx.seed),
               "mix": workloads.typed_events(k, hot=False, seed=ctx.seed)}
    rows = []
    for n in ctx.sizes.rules:
        text = workloads.typed_ruleset(n, seed=ctx.seed)
        check_s, checked = timed(lambda: check_text(text, f"typed-{n}.reward"))
        if checked.program is None:
            raise RuntimeError(f"the generated {n}-rule ruleset does not check: {checked.diagnostics[:3]}")
        row: dict[str, Any] = {"rules": n, "check_s": check_s,
                               "matching_hot": workloads.HOT_RULES, "matching_mix": n / workloads.N_TYPES}
        for name, events in streams.items():
            engine = Engine(checked.program)
            gc.collect()
            seconds, report = timed(lambda: engine.run(events))
            row[f"{name}_us"] = seconds / len(events) * 1e6
            row[f"{name}_effects"] = len(report.effects)
            del report
            engine = None
        rows.append(row)
    for r in rows:
        r["hot_vs_first"] = r["hot_us"] / rows[0]["hot_us"]
        r["mix_vs_first"] = r["mix_us"] / rows[0]["mix_us"]
    return {"events": k, "types": workloads.N_TYPES, "rows": rows}


def print_rules(r: dict[str, Any]) -> None:
    first = r["rows"][0]["rules"]
    cols = [Column("rules", "rules", ","), Column("matching_hot", "matching (one type)", ","),
            Column("hot_us", "µs/event", ",.1f"), Column("hot_vs_first", f"× {first} rules", ".2f"),
            Column("matching_mix", "matching (all types)", ",.1f"), Column("mix_us", "µs/event", ",.1f"),
            Column("mix_vs_first", f"× {first} rules", ".2f"), Column("check_s", "check s", ",.2f")]
    print_table(f"Scaling with rules: {r['events']:,} events over {r['types']} declared event types (Engine.run, CPU)",
                cols, r["rows"], [
                    f"one type: every event is t00, which always has {workloads.HOT_RULES} rules, however many the "
                    "others have (cost should stay flat)",
                    "all types: events spread evenly over the 100 types, matching about rules/100 on average "
                    "(cost should follow the matching rules)"])


def section_customers(ctx: Context) -> dict[str, Any]:
    """Memory per customer that an engine keeps, 10^2 … 10^6 customers of 25 events each."""
    rows = []
    for c in ctx.sizes.customers:
        n = c * EVENTS_PER_CUSTOMER
        if n <= workloads.CHUNK:
            def chunks() -> Iterable[list[dict[str, Any]]]:
                return [generate(n, ctx.seed, c)]
            how = "one Engine.run"
        else:
            path = workloads.chunked_events_file(n, ctx.seed, chunk=workloads.CHUNK,
                                                 customers_per_chunk=workloads.CHUNK // EVENTS_PER_CUSTOMER, work=ctx.work)

            def chunks() -> Iterable[list[dict[str, Any]]]:
                return workloads.read_chunks(path, workloads.CHUNK)
            how = f"Engine.run per chunk of {workloads.CHUNK:,} events, one engine"
        per_customer, engine = traced(lambda: Engine(ctx.program), chunks())
        sample = list(engine.states)[:2000]
        sizes = sorted(len(json.dumps(engine.state_of(s), ensure_ascii=False)) for s in sample)
        row = {"customers": len(engine.states), "events": n, "engine_bytes": per_customer,
               "json_median_bytes": sizes[len(sizes) // 2] if sizes else None, "how": how}
        engine = None  # the states go before the next size
        gc.collect()
        compact_bytes, engine = traced(lambda: Engine(ctx.program, compact=True), chunks())
        row["compact_bytes"] = compact_bytes
        row["compact_packed_bytes"] = engine.states.packed_size() / max(1, len(engine.states))
        row["compact_vs_default"] = compact_bytes / per_customer if per_customer else None
        engine = None
        if c in ctx.sizes.traced_hand:
            hand_bytes, hand = traced(lambda: BookshopByHand(ctx.program), chunks())
            row["hand_bytes"] = hand_bytes
            row["vs_hand"] = per_customer / hand_bytes if hand_bytes else None
            del hand
        rows.append(row)
        gc.collect()
    for before, row in zip(rows, rows[1:]):  # what one more customer costs: the fixed part aside
        more = row["customers"] - before["customers"]
        if more > 0:
            row["compact_marginal_bytes"] = (row["compact_bytes"] * row["customers"]
                                             - before["compact_bytes"] * before["customers"]) / more
    return {"events_per_customer": EVENTS_PER_CUSTOMER, "rows": rows}


def print_customers(r: dict[str, Any]) -> None:
    cols = [Column("customers", "customers", ","), Column("events", "events", ","),
            Column("engine_bytes", "engine B/customer", ",.0f"), Column("compact_bytes", "compact B/customer", ",.0f"),
            Column("compact_marginal_bytes", "compact B/one more", ",.0f"),
            Column("compact_packed_bytes", "packed B (mean)", ",.0f"),
            Column("hand_bytes", "hand-written B/customer", ",.0f"),
            Column("vs_hand", "engine × hand-written", ".2f"), Column("json_median_bytes", "state_of JSON B (median)", ",")]
    print_table(f"Scaling with customers: memory kept per customer after {r['events_per_customer']} events each over "
                "about two years (tracemalloc)", cols, r["rows"],
                ["what the engine (its states and its calendar) or the hand-written function still holds once "
                 "the run's result is dropped, over the customers",
                 "compact: Engine(program, compact=True), states packed between calls (rewardlang.packing); "
                 "B/one more: the growth from the row before over the customers added (the calendar and the "
                 "process's caches of midnights, which do not grow with customers, aside); packed B: the packed "
                 "bytes alone (without the bytes object's 33 B, the dict entry and the customer id)"])


def section_check(ctx: Context) -> dict[str, Any]:
    """Parse + check of 10 … 100,000 generated rules."""
    check_text(parse_bench.generate_ruleset(10, ctx.seed), "warm.reward")  # the grammar, built once per process
    rows = []
    for n in ctx.sizes.check:
        text = parse_bench.generate_ruleset(n, ctx.seed)
        repeat = ctx.sizes.repeat if n < 100_000 else 1
        first, checked = timed(lambda: check_text(text, "bench.reward"))
        errors = [d for d in checked.diagnostics if d.severity == "error"]
        if errors:
            raise RuntimeError(f"the generated {n}-rule ruleset has errors: {errors[:3]}")
        del checked
        seconds = best_of(max(repeat, 3 if n <= 1_000 else 1), lambda: check_text(text, "bench.reward"), first)
        rows.append({"rules": n, "lines": text.count("\n"), "bytes": len(text.encode()), "cpu_s": seconds,
                     "us_per_rule": seconds / n * 1e6, "rules_per_s": n / seconds})
    for r in rows:
        r["per_rule_vs_first"] = r["us_per_rule"] / rows[0]["us_per_rule"]
    return {"rows": rows}


def print_check(r: dict[str, Any]) -> None:
    cols = [Column("rules", "rules", ","), Column("lines", "lines", ","), Column("cpu_s", "CPU s", ",.3f"),
            Column("us_per_rule", "µs/rule", ",.1f"), Column("rules_per_s", "rules/s", ",.0f"),
            Column("per_rule_vs_first", "× µs/rule of the first", ".2f")]
    print_table("check: parse + check of generated rulesets (rewardlang.check_text, in this process, grammar built)",
                cols, r["rows"])


def section_startup(ctx: Context) -> dict[str, Any]:
    """Commands' start-up, median wall time of fresh processes (and their CPU seconds)."""
    small = RULESET
    commands = [
        ("python -c pass (a bare interpreter)", [sys.executable, "-c", "pass"]),
        ("python -c 'import rewardlang'", [sys.executable, "-c", "import rewardlang"]),
        ("rewardlang --version", [str(COMMAND), "--version"]),
        (f"rewardlang check {small.relative_to(ROOT)}", [str(COMMAND), "check", str(small)]),
    ]
    rows = []
    for what, argv in commands:
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # caches warm
        walls, cpus = [], []
        for _ in range(ctx.sizes.startup_repeat):
            wall, cpu, _peak, status, err = endtoend.measured_cpu(argv)
            if status != 0:
                raise RuntimeError(f"{what} failed (exit {status}): {err.decode(errors='replace')[-500:]}")
            walls.append(wall)
            cpus.append(cpu)
        rows.append({"what": what, "wall_ms": statistics.median(walls) * 1e3, "cpu_ms": statistics.median(cpus) * 1e3})
    for r in rows:
        r["vs_bare"] = r["wall_ms"] / rows[0]["wall_ms"]
    return {"repeat": ctx.sizes.startup_repeat, "rows": rows}


def print_startup(r: dict[str, Any]) -> None:
    cols = [Column("what", "command", left=True), Column("wall_ms", "wall ms", ",.0f"), Column("cpu_ms", "CPU ms", ",.0f"),
            Column("vs_bare", "× bare interpreter", ".1f")]
    print_table(f"Start-up: fresh processes, median of {r['repeat']} (bytecode and the grammar cache warm)", cols,
                r["rows"])


SECTIONS: dict[str, tuple[Callable[[Context], dict[str, Any]], Callable[[dict[str, Any]], None]]] = {
    "engine": (section_engine, print_engine),
    "apply": (section_apply, print_apply),
    "endtoend": (section_endtoend, print_endtoend),
    "events": (section_events, print_events),
    "rules": (section_rules, print_rules),
    "customers": (section_customers, print_customers),
    "check": (section_check, print_check),
    "startup": (section_startup, print_startup),
}


# ---------------------------------------------------------------------------- goals

def goals(sections: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's goals, each with its figure and whether it is met (None: not measured)."""
    out: list[dict[str, Any]] = []

    def goal(name: str, target: str, figure: float | None, shown: str, met: bool | None, where: str) -> None:
        out.append({"goal": name, "target": target, "figure": figure, "shown": shown if figure is not None else "not measured",
                    "met": met if figure is not None else None, "measured_in": where})

    engine = sections.get("engine", {})
    rows = {r["what"]: r for r in engine.get("rows", [])}
    e = rows.get("Engine.run")
    h = rows.get("hand-written function (the ceiling)")
    rate = e["events_per_s"] if e else None
    goal("Engine.run events/s (bookshop)", f"≥ {GOALS['engine_rate']:,}", rate, f"{rate:,.0f}" if rate else "",
         rate is not None and rate >= GOALS["engine_rate"], "engine")
    ratio = e["seconds"] / h["seconds"] if e and h else None
    goal("Engine.run vs the hand-written function", f"≤ {GOALS['engine_vs_hand']}×", ratio,
         f"{ratio:.2f}×" if ratio else "", ratio is not None and ratio <= GOALS["engine_vs_hand"], "engine")
    measured_peers = [r for r in engine.get("rows", []) if r.get("peer") and r.get("status") == "ok"]
    missing = [r["peer"] for r in engine.get("rows", []) if r.get("peer") and r.get("status") != "ok"]
    slowest_gap = min((r["engine_faster"] for r in measured_peers), default=None)
    shown = (", ".join(f"{r['peer']} {r['engine_faster']:.2f}×" for r in measured_peers)
             + (f"; not measured: {', '.join(missing)}" if missing else ""))
    goal("Engine.run faster than every peer library", f"≥ {GOALS['engine_vs_peers']:.0f}×", slowest_gap, shown,
         slowest_gap is not None and slowest_gap >= GOALS["engine_vs_peers"] and not missing, "engine")

    run = sections.get("endtoend", {}).get("rows")
    rrate = run[0]["events_per_s_cpu"] if run else None
    goal("rewardlang run events/s (CPU)", f"≥ {GOALS['run_rate']:,}", rrate, f"{rrate:,.0f}" if rrate else "",
         rrate is not None and rrate >= GOALS["run_rate"], "endtoend")
    floor = run[0]["vs_floor_cpu"] if run else None
    goal("rewardlang run vs the I/O floor (CPU)", f"≤ {GOALS['run_vs_floor']}×", floor, f"{floor:.1f}×" if floor else "",
         floor is not None and floor <= GOALS["run_vs_floor"], "endtoend")

    apply = sections.get("apply", {}).get("rows")
    p99 = apply[0]["p99_us"] if apply else None
    goal("Engine.apply p99 (CPU)", f"< {GOALS['apply_p99_us']:.0f} µs", p99, f"{p99:,.1f} µs" if p99 else "",
         p99 is not None and p99 < GOALS["apply_p99_us"], "apply")

    customers = sections.get("customers", {}).get("rows")
    last = customers[-1] if customers else None
    mem = shown = None
    if last is not None:  # the compact engine's figure where measured (the mode meant for many customers)
        compact = last.get("compact_bytes")
        mem = compact if compact is not None else last["engine_bytes"]
        mode = "Engine(program, compact=True)" if compact is not None else "Engine(program)"
        shown = f"{mem:,.0f} B at {last['customers']:,} customers, {mode}"
        if compact is not None:
            shown += f" (default engine {last['engine_bytes']:,.0f} B"
            if last.get("compact_marginal_bytes") is not None:
                shown += f"; compact, one more customer {last['compact_marginal_bytes']:,.0f} B"
            shown += ")"
    goal("memory per customer (bookshop state)", f"< {GOALS['memory_per_customer']:,} B", mem, shown or "",
         mem is not None and mem < GOALS["memory_per_customer"], "customers")

    rules = sections.get("rules", {}).get("rows")
    by_n = {r["rules"]: r for r in rules or []}
    rr = by_n[1000]["hot_us"] / by_n[10]["hot_us"] if 10 in by_n and 1000 in by_n else None
    goal("1,000 rules vs 10 rules, per event (matching rules held at 5)", f"< {GOALS['rules_1000_vs_10']}×", rr,
         f"{rr:.2f}×" if rr else "", rr is not None and rr < GOALS["rules_1000_vs_10"], "rules")

    checks = {r["rules"]: r for r in sections.get("check", {}).get("rows", [])}
    c = checks[100_000]["cpu_s"] if 100_000 in checks else None
    goal("check of 100,000 rules", f"< {GOALS['check_100000_s']:.0f} s", c, f"{c:.2f} s" if c else "",
         c is not None and c < GOALS["check_100000_s"], "check")
    return out


def print_goals(rows: list[dict[str, Any]]) -> None:
    shown = [dict(r, met_text={True: "met", False: "NOT MET", None: "not measured"}[r["met"]]) for r in rows]
    print_table("Goals (issue 7)", [Column("goal", "goal", left=True), Column("target", "target", left=True),
                                    Column("shown", "figure", left=True), Column("met_text", "", left=True)], shown)


# ---------------------------------------------------------------------------- the machine

def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "machine": platform.machine(), "cpus": os.cpu_count()}
    try:
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if models:
            info["processor"] = models[0]
    except OSError:
        info["processor"] = platform.processor() or None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["memory_bytes"] = int(line.split()[1]) * 1024
    except OSError:
        pass
    if hasattr(os, "getloadavg"):
        info["load_average"] = list(os.getloadavg())
    return info


def source() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"rewardlang": rewardlang.__version__, "commit": git("rev-parse", "HEAD"),
            "modified": bool(status) if status is not None else None}


# ---------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a few minutes: events up to 10^5, and so on")
    size.add_argument("--smoke", action="store_true", help="seconds: the smallest sizes (what the tests run)")
    ap.add_argument("--only", default="", help=f"comma-separated sections, of: {', '.join(SECTIONS)}")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown (for docs/performance.md)")
    ap.add_argument("--json", type=Path, default=RESULTS, help="where to write the results (default: %(default)s)")
    ap.add_argument("--work", type=Path, default=workloads.WORK,
                    help="generated event files, kept between runs (default: %(default)s)")
    args = ap.parse_args(argv)
    OUTPUT.markdown = args.markdown
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    sizes = MODES[mode]
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown sections {unknown}; the sections are {', '.join(SECTIONS)}")

    started = time.perf_counter()
    started_cpu = time.process_time()
    info = machine()
    results: dict[str, Any] = {
        "suite": "rewardlang benchmarks/run.py", "mode": mode, "sizes": asdict(sizes), "seed": args.seed,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": {"version": sys.version.split()[0], "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "machine": info, "source": source(),
        "peers": {cls.package: peers.version(cls) for cls in peers.PEERS},
        "timing": "in-process: CPU seconds of this process (time.process_time); child processes: wall and CPU "
                  "seconds (user + system); goals use CPU seconds",
        "sections": {}, "errors": {},
    }
    load = info.get("load_average")
    print(f"rewardlang {rewardlang.__version__} benchmarks, {mode} mode; Python {results['python']['version']} on "
          f"{info.get('processor', info['machine'])}, {info['cpus']} CPUs"
          + (f", load average {load[0]:.2f}" if load else "") + f"; {results['date']}")
    ctx = Context(mode, sizes, args.seed, args.work)
    for name in chosen:
        measure, show = SECTIONS[name]
        t0 = time.perf_counter()
        try:
            section = measure(ctx)
        except Exception as exc:  # noqa: BLE001 — one section's failure is reported, the others still run
            results["errors"][name] = f"{type(exc).__name__}: {exc}"
            print(f"\n## {name}: FAILED — {type(exc).__name__}: {exc}"[:3000], file=sys.stderr)
            traceback.print_exc(limit=4)
            continue
        section["section_seconds"] = time.perf_counter() - t0
        results["sections"][name] = section
        show(section)
        print(f"\n_{section['section_seconds']:.0f} s_" if OUTPUT.markdown else f"  ({section['section_seconds']:.0f} s)")
    results["goals"] = goals(results["sections"])
    print_goals(results["goals"])
    if load:
        results["machine"]["load_average_end"] = list(os.getloadavg())
    results["wall_seconds"] = time.perf_counter() - started
    results["cpu_seconds"] = time.process_time() - started_cpu
    args.json.parent.mkdir(parents=True, exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as out:
        json.dump(results, out, indent=1, ensure_ascii=False, default=str)
        out.write("\n")
    print(f"\n{len(results['sections'])} sections in {results['wall_seconds']:.0f} s "
          f"({results['cpu_seconds']:.0f} s CPU in this process); results in {args.json}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
