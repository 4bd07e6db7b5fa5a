"""A spend window's running sum (``History.spend_between`` / ``spend_window``, what the compiled
conditions read) against the plain scan (``History.spend_since``, what the interpreter reads):
the same value at every evaluation, whatever the calendar's month ends and clock changes do to
the window's start, with refunds and forgetting in between."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rewardlang import localtime
from rewardlang.state import History
from rewardlang.zonecalendar import at_least, at_most

START = dt.datetime(2027, 1, 20, tzinfo=localtime.UTC)
ZONES = ("Europe/Stockholm", "Pacific/Apia", "Australia/Lord_Howe")
WINDOWS = ((1, "month"), (12, "month"), (30, "day"), (1, "year"))

steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40 * 24 * 60),  # minutes since the step before
        st.sampled_from(["event", "event", "spend", "refund", "prune"]),
        st.integers(min_value=-3, max_value=5000),
    ),
    min_size=1, max_size=60,
)


@given(steps, st.sampled_from(ZONES), st.sampled_from(WINDOWS))
def test_the_running_sum_is_the_scan(steps: list[tuple[int, str, int]], zone: str, window: tuple[int, str]) -> None:
    tz = localtime.zone(zone)
    count, unit = window
    least, most = at_least(count, unit), at_most(count, unit)
    key = ("spend", count, unit)
    history = History()
    time = START
    for minutes, what, amount in steps:
        time += dt.timedelta(minutes=minutes)
        if what == "event":
            history.entries.append([time, f"e{len(history.entries)}", "purchase", Decimal(amount) / 100, True])
        elif what == "refund" and history.entries:
            entry = history.entries[amount % len(history.entries)]
            if entry[3] is not None:
                entry[3] -= Decimal(1)
                history.changed()
        elif what == "prune":
            history.prune(time - most - most)
        start = localtime.add(time, -count, unit, tz)
        found = history.spend_between(key, time - most, time - least)
        if found is None:
            found = history.spend_window(key, start)
        assert found == history.spend_since(start), (time, start)
