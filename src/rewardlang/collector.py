"""The cyclic garbage collector paused around bulk work, and restored after.

Parsing and checking a ruleset, or applying a bucket of events, makes hundreds of thousands of
small objects that live until the work ends and form no garbage cycles. With the collector on,
its generation-2 passes walk all of them again and again: measured, a third of the time of a
100,000-rule `check`, and 5-10 % of a simulation. Reference counting still frees everything
that is not in a cycle while the collector is off.

One context manager, so that every caller restores the collector the same way (off stays off:
an embedding application that runs with it disabled is not switched on).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused(*, collect_young: bool = False, promote: bool = False) -> Iterator[None]:
    """The collector off inside the block, back to how it was after.

    ``collect_young``: one collection of generation 0 at the end — everything made while the
    collector was off — to free the cycles the block left (a caught exception kept in a local
    variable holds its frames), so that repeated blocks keep memory flat.

    ``promote``: what the block made is long-lived (a parsed and checked ruleset), so it is moved
    straight to the oldest generation (``gc.freeze()`` then ``gc.unfreeze()``, which moves every
    tracked object there without examining any) instead of being examined by the first young
    collection after the block: that one pass over 100,000 rules' objects took 0.7 s, a ninth of
    the check. The price: objects the surrounding program made just before are promoted too, and
    a cycle among them is freed at the next full collection rather than the next young one.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collect_young:
            gc.collect(0)
        elif promote and enabled:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()
