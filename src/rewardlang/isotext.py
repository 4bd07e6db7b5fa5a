"""Instants as text, fast: for the two places that write and read them by the hundred thousand,
the ledger's lines (``rewardlang.effects``) and the customers' stored states (``rewardlang.state``).

``rewardlang.localtime.format_instant`` and ``parse_instant`` are the definition; these give the
same text and the same values. They only take a shorter road in the common case: an aware
``datetime.isoformat`` spends most of its time writing the offset (``+00:00``) that the ledger
then cuts off, while ``%``-formatting the six fields of a UTC instant of a whole second (year
1000 or later, which ``%04d`` writes as ``isoformat`` does) costs half as much; and a stored
instant (always ``…Z``) is read by ``fromisoformat`` alone, which already gives UTC. Anything
else — a fraction of a second, another zone, an early year, text that is not ours — goes to
``localtime``.
"""

from __future__ import annotations

import datetime as dt

from rewardlang.localtime import UTC, format_instant, parse_instant

_FIELDS = "%04d-%02d-%02dT%02d:%02d:%02dZ"
_fromisoformat = dt.datetime.fromisoformat


def instant_text(instant: dt.datetime) -> str:
    """``format_instant(instant)``: ``2026-03-01T09:15:00Z``."""
    if instant.tzinfo is UTC and not instant.microsecond:
        year = instant.year
        if year >= 1000:
            return _FIELDS % (year, instant.month, instant.day, instant.hour, instant.minute, instant.second)
    return format_instant(instant)


def text_instant(text: str) -> dt.datetime | None:
    """``parse_instant(text)``, for text that ``instant_text`` wrote (any other text is read by
    ``parse_instant`` itself)."""
    if type(text) is str and text[-1:] == "Z" and 20 <= len(text) <= 64 and text[10] == "T":
        try:
            value = _fromisoformat(text)
        except ValueError:
            return parse_instant(text)
        if value.tzinfo is UTC:
            return value
    return parse_instant(text)
