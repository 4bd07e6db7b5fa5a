"""Seeded bookshop event streams for the benchmarks and the hand-written oracle's tests.

The generators live in the package (``rewardlang.generate``, also behind ``rewardlang
generate``); this module keeps the names the benchmark and the tests import, and a command line:

    .venv/bin/python benchmarks/generate_events.py [--events 10000] [--seed 1] [--customers N]

``generate(n_events, seed, customers=...)`` is ``rewardlang.generate.benchmark_events``: exactly
``n_events`` events with input problems, the same bytes for the same arguments as before it moved.
``generate_edge_cases`` is ``rewardlang.generate.edge_case_events``.
"""

from __future__ import annotations

import argparse
import sys

from rewardlang.generate import DAYS, START, write_jsonl
from rewardlang.generate import benchmark_events as generate
from rewardlang.generate import edge_case_events as generate_edge_cases

__all__ = ["DAYS", "START", "generate", "generate_edge_cases", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--customers", type=int, default=None)
    args = parser.parse_args(argv)
    write_jsonl(generate(args.events, args.seed, args.customers), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
