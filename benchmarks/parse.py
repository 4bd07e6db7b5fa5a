"""Parse benchmark: how long rewardlang takes to read a large ruleset, and to start up.

Run it from the project root with the project's interpreter::

    .venv/bin/python benchmarks/parse.py [--rules 10000] [--seed 1] [--repeat 3]

It prints (a) parse time of a generated ruleset with the fast path (the one-regex lexer of
``rewardlang.fast_lexer``), with the careful path only (Lark's contextual lexer, the path that
produces diagnostics), and with Lark's bare ``parse`` into a parse tree as a baseline, best of
``--repeat``; (b) parse + check time through ``rewardlang.loads`` when that exists; (c) the time
of ``import rewardlang.parser`` + building the grammar in a fresh interpreter, with a warm and a
cold Lark cache, minus the start-up of a bare interpreter.

``generate_ruleset(n_rules, seed)`` is also imported by tests and other benchmarks.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

# ---------------------------------------------------------------------------- the ruleset

_CATEGORIES = ("books", "games", "toys", "music", "films", "stationery", "comics", "maps")
_CITIES = ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Lund", "Umeå", "Kiruna", "Visby")
_ADJECTIVES = (
    "Big", "Small", "Early", "Late", "Happy", "Quiet", "Summer", "Winter", "Spring", "Autumn",
    "Weekend", "Student", "Family", "Loyal", "Golden", "Silver", "Fresh", "Lucky", "Bonus", "Extra",
)
_NOUNS = (
    "basket", "reader", "points", "bonus", "deal", "stamp", "spender", "saver", "treat", "gift",
    "shopper", "visit", "review", "friend", "welcome", "week", "month", "boost", "club", "card",
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PERIODS = ("day", "week", "month", "year")

# events: name, plural, its fields (money field "amount" makes it count as spend)
_EVENTS = (
    ("purchase", "purchases", "amount money, category text, items number"),
    ("review", "reviews", "stars number"),
    ("referral", "referrals", "friend text"),
    ("signup", "signups", ""),
    ("visit", "visits", "store text, minutes number"),
    ("order", "orders", "amount money, category text, items number, channel text"),
)


def _header(rng: random.Random, n_segments: int) -> tuple[list[str], list[str], list[str]]:
    lines = [
        "# A generated loyalty programme (benchmarks/parse.py)",
        f'program "Generated Club {rng.randint(1, 999)}"',
        "currency SEK",
        'timezone "Europe/Stockholm"',
        f"points expire after {rng.choice((6, 12, 18, 24))} months",
        f"points pending for {rng.choice((7, 14, 30))} days",
        "refunds accepted within 90 days",
        "point value 0.10 SEK",
        "",
        "customer has city text, birthdate date, gender text optional",
    ]
    for name, _plural, fields in _EVENTS:
        lines.append(f"event {name} with {fields}" if fields else f"event {name}")
    lines.append("")
    segments = ["stockholm", "young"]
    lines.append('segment stockholm = customer.city is "Stockholm"')
    lines.append("segment young = customer.age between 18 and 29")
    for i in range(n_segments):
        name = f"segment_{i}"
        segments.append(name)
        form = rng.randrange(3)
        if form == 0:
            lines.append(f'segment {name} = customer.city is "{rng.choice(_CITIES)}"')
        elif form == 1:
            low = rng.randint(16, 60)
            lines.append(f"segment {name} = customer.age between {low} and {low + rng.randint(5, 20)}")
        else:
            lines.append(
                f"segment {name} = count of purchases in last {rng.randint(1, 12)} months"
                f" >= {rng.randint(2, 20)}"
            )
    lines.append("")
    tiers = ["bronze", "silver", "gold", "platinum"]
    for i, tier in enumerate(tiers):
        kept = ", kept for 12 months" if i >= 2 else ""
        lines.append(f"tier {tier:<8} = spend in last 12 months >= {(i + 1) * 2000} SEK{kept}")
    lines.append("")
    lines.append('reward "Free shipping" costs 200 points')
    lines.append('reward "Tote bag" costs 800 points')
    vouchers = []
    for amount in (50, 100, 200, 500):
        name = f"{amount} SEK off"
        vouchers.append(name)
        lines.append(f'voucher "{name}" worth {amount} SEK')
    lines.append('free "book" worth 120 SEK')
    lines.append('free "coffee" worth 35 SEK')
    lines.append("")
    return lines, segments + tiers, vouchers


def generate_ruleset(n_rules: int, seed: int = 1) -> str:
    """A realistic ruleset: a header (settings, events, segments, tiers, vouchers), then
    ``n_rules`` rules drawn from the forms of the design example (LANGUAGE.md §2), with varied
    names and numbers. Seeded: the same arguments give the same text."""
    rng = random.Random(seed)
    lines, groups, vouchers = _header(rng, n_segments=max(2, min(50, n_rules // 200)))
    names: list[str] = []
    money_events = ("purchase", "order")

    def where() -> str:
        form = rng.randrange(5)
        if form == 0:
            return f' where category is "{rng.choice(_CATEGORIES)}"'
        if form == 1:
            return f" where amount >= {rng.randint(1, 20) * 50} SEK and items >= {rng.randint(2, 6)}"
        if form == 2:
            cats = ", ".join(f'"{c}"' for c in rng.sample(_CATEGORIES, rng.randint(2, 3)))
            return f" where category in [{cats}]"
        if form == 3:
            return f" where amount >= {rng.randint(1, 20) * 50} SEK"
        return ""

    for i in range(n_rules):
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {i + 1}"
        head = f'rule "{name}":'
        head = head + " " * max(1, 26 - len(head))
        event = rng.choice(money_events)
        form = rng.randrange(18)
        if form == 0:
            body = f"signup earns {rng.randint(1, 20) * 10} points, once"
        elif form == 1:
            body = f"{event} earns {rng.randint(1, 3)} point{'s' if rng.random() < 0.5 else ''} per 10 SEK"
        elif form == 2:
            body = (f"{event} earns {rng.randint(2, 4)} points per 10 SEK, for {rng.choice(groups)}"
                    + (f', instead of "{rng.choice(names)}"' if names else ""))
        elif form == 3:
            n = rng.randint(3, 10)
            body = f'{n} {event}s where category is "{rng.choice(_CATEGORIES)}" gives 1 free "book"'
        elif form == 4:
            body = (f'{event} where category is "{rng.choice(_CATEGORIES)}" earns {rng.randint(1, 5) * 10}'
                    f" points, for {rng.choice(groups)},\n    at most {rng.randint(1, 4)} per {rng.choice(_PERIODS)}")
        elif form == 5:
            body = f"review where stars >= {rng.randint(1, 5)} earns {rng.randint(1, 10) * 10} points, at most 3 per month"
        elif form == 6:
            body = f"referral earns {rng.randint(5, 20) * 10} points"
        elif form == 7:
            body = f"first {event} earns {rng.randint(5, 30) * 10} points"
        elif form == 8:
            body = f"{event}{where()} earns {rng.randint(1, 10) * 10} points"
        elif form == 9:
            days = " or ".join(rng.sample(_WEEKDAYS, rng.randint(1, 2)))
            body = (f"{event} earns 1 point per 10 SEK, on {days},\n"
                    f"    at most {rng.randint(1, 10) * 100} points per {rng.choice(_PERIODS)}")
        elif form == 10:
            month = rng.randint(1, 12)
            body = (f"{event}{where()} earns 2 points per 10 SEK,\n"
                    f"    from 2026-{month:02d}-01 to 2026-{month:02d}-{rng.randint(10, 28)}, for {rng.choice(groups)}")
        elif form == 11:
            body = f"birthday earns {rng.randint(1, 5) * 100} points"
        elif form == 12:
            body = f'every {rng.randint(1, 10) * 500} SEK spent gives 1 voucher "{rng.choice(vouchers)}"'
        elif form == 13:
            body = f'{rng.randint(2, 20) * 100} points converts to voucher "{rng.choice(vouchers)}"'
        elif form == 14:
            body = f'signup gives message "welcome-{i + 1}"'
        elif form == 15:
            body = f'tier change to {rng.choice(("silver", "gold", "platinum"))} gives message "tier-{i + 1}"'
        elif form == 16:
            body = f'inactive for {rng.randint(2, 12)} months gives message "we-miss-you-{i + 1}"'
        else:
            start = rng.randint(6, 20)
            body = (f"visit where minutes >= {rng.randint(5, 60)} earns {rng.randint(1, 5) * 5} points,"
                    f" between {start:02d}:00 and {start + 2:02d}:30")
        names.append(name)
        lines.append(head + body)
    lines.append('notify "points-expiring" 30 days before points expire')
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- measuring


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _subprocess_time(code: str, env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) if len(times) > 2 else min(times)


def startup_times(repeat: int = 5, *, bytecode: bool = True) -> dict[str, float]:
    """``import rewardlang.parser`` (+ ``default_parser()``) in fresh interpreters, minus a bare
    interpreter's start-up: the import alone, then with a warm Lark cache, and with a cold one
    (a fresh cache directory each time).

    With ``bytecode``, the interpreters may cache compiled modules (in a temporary
    ``PYTHONPYCACHEPREFIX``, as an installed package has them); without it they honour the
    environment (``PYTHONDONTWRITEBYTECODE`` makes every import compile its source)."""
    code = "import rewardlang.parser as p; p.default_parser()"
    with tempfile.TemporaryDirectory(prefix="rewardlang-bench-pyc-") as pyc_dir:
        base_env = dict(os.environ)
        if bytecode:
            base_env.pop("PYTHONDONTWRITEBYTECODE", None)
            base_env["PYTHONPYCACHEPREFIX"] = pyc_dir
            subprocess.run([sys.executable, "-c", code], env=base_env, check=True)  # compile
        bare = _subprocess_time("pass", base_env, repeat)
        import_only = _subprocess_time("import rewardlang.parser", base_env, repeat)
        with tempfile.TemporaryDirectory(prefix="rewardlang-bench-") as warm_dir:
            env = dict(base_env, REWARDLANG_CACHE_DIR=warm_dir)
            subprocess.run([sys.executable, "-c", code], env=env, check=True)  # fill the cache
            warm = _subprocess_time(code, env, repeat)
        colds = []
        for _ in range(max(1, repeat // 2 + 1)):
            with tempfile.TemporaryDirectory(prefix="rewardlang-bench-") as cold_dir:
                env = dict(base_env, REWARDLANG_CACHE_DIR=cold_dir)
                colds.append(_subprocess_time(code, env, 1))
    return {"bare": bare, "import": import_only - bare, "warm": warm - bare, "cold": min(colds) - bare}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-startup", action="store_true", help="skip the subprocess start-up timing")
    args = ap.parse_args(argv)

    import lark

    from rewardlang.parser import Parser, build_lark, find_comments

    text = generate_ruleset(args.rules, args.seed)
    n_lines = text.count("\n")
    parser = Parser()

    fast_result = parser.parse(text, "bench.reward")
    if fast_result.diagnostics:
        print("warning: the generated ruleset has syntax diagnostics:", file=sys.stderr)
        for d in fast_result.diagnostics[:5]:
            print("  ", d, file=sys.stderr)
    n_tokens = sum(1 for _ in parser.lark.lex(text + "\n"))

    fast_available = getattr(parser, "fast_lark", None) is not None
    if fast_available:
        try:  # the fast path alone, as Parser.parse runs it: it must not fail on this text
            parser._fast_parse(parser.fast_lexer.tokenize(text + "\n")[0])
        except Exception as exc:  # noqa: BLE001
            print(f"warning: the fast path fails on the generated ruleset: {exc!r}"[:500], file=sys.stderr)
    careful = (lambda t, f: parser.parse(t, f, fast=False)) if fast_available else None
    bare_lark = build_lark()  # no transformer: Lark builds its parse tree

    rows: list[tuple[str, float]] = []
    if fast_available:
        rows.append(("parse, fast path (Parser.parse)", best_of(args.repeat, lambda: parser.parse(text, "b"))))
    else:
        rows.append(("parse (Parser.parse, no fast path)", best_of(args.repeat, lambda: parser.parse(text, "b"))))
    if careful is not None:
        rows.append(("parse, careful path only", best_of(args.repeat, lambda: careful(text, "b"))))

    def contextual_gc_on() -> None:  # what Parser.parse did before the fast path
        find_comments(text)
        parser.builder.filename, parser.builder.line_offset = "b", 0
        parser.lark.parse(text + "\n")

    rows.append(("contextual lexer, GC on (the old parse)", best_of(args.repeat, contextual_gc_on)))
    rows.append(("Lark bare parse into a tree", best_of(args.repeat, lambda: bare_lark.parse(text + "\n"))))

    print(f"ruleset: {args.rules} rules, {n_lines} lines, {len(text)} characters, {n_tokens} tokens"
          f" (seed {args.seed}); lark {lark.__version__}; Python {sys.version.split()[0]}")
    print(f"best of {args.repeat}:")
    reference = rows[-1][1]
    first = rows[0][1]
    print(f"  {'what':<40} {'seconds':>8} {'vs bare Lark':>13} {'vs first':>9} {'µs/token':>9}")
    for what, seconds in rows:
        print(f"  {what:<40} {seconds:8.3f} {seconds / reference:12.2f}x {seconds / first:8.2f}x"
              f" {seconds / n_tokens * 1e6:9.2f}")

    import rewardlang

    loads = getattr(rewardlang, "loads", None)
    if loads is None:
        print("check: not available yet (rewardlang.loads does not exist)")
    else:
        from rewardlang.diagnostics import RulesetError

        def parse_and_check() -> None:
            loads(text, filename="bench.reward")

        try:
            parse_and_check()
        except RulesetError as exc:
            print(f"check: the generated ruleset does not check: {exc}"[:2000])
        else:
            print(f"  {'parse + check (rewardlang.loads)':<40} {best_of(args.repeat, parse_and_check):8.3f}")

    if not args.no_startup:
        print("start-up in a fresh interpreter, minus a bare interpreter's start-up (median of 5):")
        print(f"  {'':<40} {'bytecode cached':>16} {'no bytecode':>12}")
        with_pyc = startup_times(bytecode=True)
        as_is = startup_times(bytecode=False) if os.environ.get("PYTHONDONTWRITEBYTECODE") else with_pyc
        for key, what in (("import", "import rewardlang.parser"),
                          ("warm", "+ default_parser(), warm Lark cache"),
                          ("cold", "+ default_parser(), cold Lark cache")):
            print(f"  {what:<40} {with_pyc[key] * 1000:13.0f} ms {as_is[key] * 1000:9.0f} ms")
        if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
            print("  (PYTHONDONTWRITEBYTECODE is not set: both columns are the same run)")


if __name__ == "__main__":
    main()
