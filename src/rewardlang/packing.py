"""A customer's state packed as a few hundred bytes, for ``Engine(program, compact=True)``.

Why: a ``CustomerState`` as live Python objects (datetimes, Decimals, lists, dicts, slotted
records) costs about 17 KB of memory for a bookshop customer after two years of events, and its
JSON (``state_of``) about 4.8 KB. An engine that holds many customers in memory can keep those it
is not working on packed instead, and unpack one when an event, ``advance`` or a view touches it.

The packed form is a tuple of primitives serialised with ``marshal`` and compressed with raw
``zlib`` (deflate without its header and checksum) against a preset dictionary: first one made
from the programme (its rule names, event types, fingerprints' skeletons), then, once the
``Packer`` has packed four states of some size, one that adds those states (a state's first byte
says which; 894 -> 729 bytes on average for a bookshop customer). Instants are whole seconds
after another instant (a pair with the microseconds when there are some), decimals their text
(which keeps the exponent: ``20.00`` stays ``20.00``), an award's rule its position in the
programme, every dict a flat tuple in its order, and an applied event's fingerprint leaves out
the parts its record repeats (``_template``). It is not a storage format: nothing here
is stable across versions or programmes, and ``state.to_dict``/``from_dict`` stay the stored
form. ``unpack(pack(state))`` gives a state whose ``to_dict()`` equals the original's, and on
which the kernel does exactly what it would have done on the original (the values derived by the
kernel — ``wakes`` and the history's running sums — start afresh, as after ``from_dict``; the
instants come back in UTC and the schedule sorted, also as after ``from_dict``).

``marshal.loads`` is only safe on trusted bytes: a ``Packer`` only ever reads bytes that it (in
this process) wrote, and never bytes from a file, a socket or a user.
"""

from __future__ import annotations

import datetime as dt
import json
import marshal
import zlib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from rewardlang.isotext import instant_text
from rewardlang.localtime import UTC
from rewardlang.state import Applied, Award, CustomerState, Lot

FORMAT = 1  # the first item of every packed tuple: a packed state of another layout is refused
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_UTC = UTC
_at = dt.datetime.fromtimestamp  # exact for an int (years 1900-9999 at least), given a zone
_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]
_MARSHAL_VERSION = 4
_LEVEL = 6
_WBITS = -15  # raw deflate: no zlib header, no Adler-32 (the bytes never leave this process)
_LEARN = 4  # states learnt from (with 4 bookshop states: 894 -> 729 bytes a state; 8: 721)
_SAMPLE = 1024  # the least marshalled size of a state learnt from
_NUMBERS = [bytes((n,)) for n in range(256)]
_KINDS = ("release", "expire", "expire_all", "remind", "birthday", "inactive", "tier", "exit")


class Packer:
    """Packs and unpacks customers' states for one programme (its rule names and deflate
    dictionary); the bytes of one ``Packer`` are only for that ``Packer``.

    ``words`` go into the deflate dictionary (``dictionary_words`` makes them from a programme).
    """

    def __init__(self, rule_names: Sequence[str], words: Iterable[str] = (), *, tz: dt.tzinfo | None = None,
                 level: int = _LEVEL, learn: int = _LEARN):
        self.tz = tz  # the programme's zone: fingerprints' times written in it are left out
        self.rule_names = tuple(rule_names)
        self.rule_index = {name: i for i, name in reversed(list(enumerate(self.rule_names)))}
        self.level = level
        # the deflate dictionaries, by the number in a packed state's first byte: the programme's
        # words, then those and the first ``learn`` states of some size that were packed (what
        # the programme's states look like; a state is packed with the last one)
        self.dictionaries = [_dictionary(self.rule_names, words)]
        self._learn = learn
        self._samples: list[bytes] | None = [] if learn else None

    # ------------------------------------------------------------------ pack
    def pack(self, state: CustomerState) -> bytes:
        """``state`` as bytes (``unpack`` gives it back). ``state`` itself is left as it was.

        Every instant is written as whole seconds after another one (an int; with its
        microseconds, a pair): the clock's second for the clock and the single instants; the
        one before in its list for lots, history, applied events and the schedule (sorted:
        a sorted list is a heap); a lot's expiry after its availability, an award's release
        after its event. The differences repeat (an expiry is a year after, a release two weeks),
        which deflate turns into a few bits.
        """
        clock = state.clock
        if clock is None:
            base = 0
        else:
            d = clock - _EPOCH
            base = d.days * 86400 + d.seconds
        rule_index = self.rule_index
        customer = state.customer

        lots: list[Any] = []
        previous = base
        for lot in state.lots:
            d = lot.available - _EPOCH
            available = d.days * 86400 + d.seconds
            a = available - previous
            if d.microseconds:
                a = (a, d.microseconds)
            expires = lot.expires
            if expires is not None:
                d = expires - _EPOCH
                e = d.days * 86400 + d.seconds - available
                expires = (e, d.microseconds) if d.microseconds else e
            lots += (lot.id, lot.points, a, expires, lot.source)
            previous = available
        history = state.history
        entries: list[Any] = []
        previous = base
        for time, event_id, kind, amount, counted in history.entries:
            d = time - _EPOCH
            seconds = d.days * 86400 + d.seconds
            delta = seconds - previous
            entries += ((delta, d.microseconds) if d.microseconds else delta, event_id, kind,
                        None if amount is None else str(amount), counted)
            previous = seconds
        applied: list[Any] = []
        previous = base
        fixed = _fixed_part(customer)
        tz = self.tz
        for event_id, record in state.applied.items():
            d = record.time - _EPOCH
            seconds = d.days * 86400 + d.seconds
            delta = seconds - previous
            awards: list[Any] = []
            for a in record.awards:
                release = a.release
                if release is not None:
                    r = release - _EPOCH
                    release = r.days * 86400 + r.seconds - seconds
                    if r.microseconds:
                        release = (release, r.microseconds)
                awards += (rule_index.get(a.rule, a.rule), None if a.rate is None else str(a.rate),
                           None if a.per is None else str(a.per), a.standing, a.lot, a.pending, release)
            counted: list[Any] = []
            for index, value in record.counted:
                counted += (index, None if value is None else str(value))
            amount = None if record.amount is None else str(record.amount)
            applied += (event_id, _template(record.fingerprint, fixed, event_id, record.type, amount, record.time, tz),
                        (delta, d.microseconds) if d.microseconds else delta, record.type, amount,
                        str(record.refunded), tuple(awards), tuple(counted))
            previous = seconds
        dues: list[Any] = []
        rest: list[Any] = []
        previous = base
        for due, order, tie, kind, payload in sorted(state.schedule):
            d = due - _EPOCH
            seconds = d.days * 86400 + d.seconds
            delta = seconds - previous
            dues.append((delta, d.microseconds) if d.microseconds else delta)
            rest += (order, tie, kind, payload)
            previous = seconds
        counters: list[Any] = []
        for index, (value, high) in state.counters.items():
            counters += (index, None if value is None else str(value), high)
        tier_kept: list[Any] = []
        for key, value in state.tier_kept.items():
            tier_kept += (key, _since(value, base))
        data = (
            FORMAT, customer, base, _since(clock, base), _since(state.last_time, base), state.last_id,
            state.balance, tuple(lots), state.next_id, _flat_profile(state.profile), state.tier,
            _flat(state.tier_held), tuple(tier_kept), tuple(counters), tuple(state.firsts),
            _nested(state.limit_counts), _nested(state.cap_points), tuple(entries), str(history.spend_total),
            _flat(history.counts), tuple(applied), _since(state.last_activity, base),
            _since(state.birthday_due, base), state.birthday_year, tuple(state.inactive_done),
            tuple(state.reminders_sent), tuple(dues), tuple(rest), state.seq,
        )
        raw = marshal.dumps(data, _MARSHAL_VERSION)
        if self._samples is not None and len(raw) >= _SAMPLE:
            self._learn_from(raw)
        number = len(self.dictionaries) - 1
        out = zlib.compressobj(self.level, zlib.DEFLATED, _WBITS, zdict=self.dictionaries[number])
        return _NUMBERS[number] + out.compress(raw) + out.flush()

    def _learn_from(self, raw: bytes) -> None:
        samples = self._samples
        assert samples is not None
        samples.append(raw)
        if len(samples) >= self._learn:
            self.dictionaries.append((self.dictionaries[0] + b"".join(samples))[-32768:])
            self._samples = None

    # ------------------------------------------------------------------ unpack
    def unpack(self, packed: bytes) -> CustomerState:
        """The state ``packed`` holds; ``packed`` must come from this ``Packer`` (see the module's
        docstring: ``marshal`` is not safe on bytes from anywhere else)."""
        inflate = zlib.decompressobj(_WBITS, zdict=self.dictionaries[packed[0]])
        data = marshal.loads(inflate.decompress(memoryview(packed)[1:]) + inflate.flush())
        (fmt, customer, base, clock, last_time, last_id, balance, lots, next_id, profile, tier, tier_held,
         tier_kept, counters, firsts, limit_counts, cap_points, entries, spend_total, counts, applied,
         last_activity, birthday_due, birthday_year, inactive_done, reminders_sent, dues, rest, seq) = data
        if fmt != FORMAT:
            raise ValueError(f"not a packed state of format {FORMAT}: {fmt!r}")
        rule_names = self.rule_names
        fixed = _fixed_part(customer)

        s = CustomerState(customer)
        s.clock = _after(clock, base)
        s.last_time = _after(last_time, base)
        s.last_id = last_id
        s.balance = balance
        out_lots = []
        previous = base
        it = iter(lots)
        for i, p, a, e, src in zip(it, it, it, it, it):
            previous, available = _next_instant(previous, a)
            out_lots.append(Lot(i, p, available, _after(e, previous), src))
        s.lots = out_lots
        s.next_id = next_id
        s.profile = _unflat_profile(profile)
        s.tier = tier
        it = iter(tier_held)
        s.tier_held = dict(zip(it, it))
        it = iter(tier_kept)
        s.tier_kept = {k: _after(v, base) for k, v in zip(it, it)}  # type: ignore[misc]
        it = iter(counters)
        s.counters = {i: [None if v is None else Decimal(v), h] for i, v, h in zip(it, it, it)}
        s.firsts = set(firsts)
        s.limit_counts = _unnested(limit_counts)
        s.cap_points = _unnested(cap_points)
        h = s.history
        out_entries = []
        previous = base
        it = iter(entries)
        for time, i, k, a, c in zip(it, it, it, it, it):
            previous, instant = _next_instant(previous, time)
            out_entries.append([instant, i, k, None if a is None else Decimal(a), c])
        h.entries = out_entries
        h.spend_total = Decimal(spend_total)
        it = iter(counts)
        h.counts = dict(zip(it, it))
        records = {}
        previous = base
        it = iter(applied)
        for event_id, fp, time, kind, amount, refunded, awards, counted in zip(it, it, it, it, it, it, it, it):
            previous, instant = _next_instant(previous, time)
            ia = iter(awards)
            ic = iter(counted)
            records[event_id] = Applied(
                _untemplate(fp, fixed, event_id, kind, amount, instant, self.tz), instant, kind,
                None if amount is None else Decimal(amount), Decimal(refunded),
                [Award(rule_names[r] if type(r) is int else r, None if rate is None else Decimal(rate),
                       None if per is None else Decimal(per), standing, lot, pending, _after(release, previous))
                 for r, rate, per, standing, lot, pending, release in zip(ia, ia, ia, ia, ia, ia, ia)],
                [[i, None if v is None else Decimal(v)] for i, v in zip(ic, ic)])
        s.applied = records
        s.last_activity = _after(last_activity, base)
        s.birthday_due = _after(birthday_due, base)
        s.birthday_year = birthday_year
        s.inactive_done = set(inactive_done)
        s.reminders_sent = set(reminders_sent)
        schedule = []
        previous = base
        it = iter(rest)
        for due, order, tie, kind, payload in zip(dues, it, it, it, it):
            previous, instant = _next_instant(previous, due)
            schedule.append((instant, order, tie, kind, payload))
        s.schedule = schedule  # in order: a heap
        s.seq = seq
        return s


def _next_instant(previous: int, delta: Any) -> tuple[int, dt.datetime]:
    """The instant ``delta`` after ``previous`` (seconds since the epoch) in a list packed as
    gaps (``_since``), and its whole seconds, the next one's base."""
    return previous + (delta if type(delta) is int else delta[0]), _after(delta, previous)  # type: ignore[return-value]


def _since(instant: dt.datetime | None, base: int) -> Any:
    """``instant`` as seconds after ``base`` (seconds from the epoch), with its microseconds if any."""
    if instant is None:
        return None
    d = instant - _EPOCH
    seconds = d.days * 86400 + d.seconds - base
    return (seconds, d.microseconds) if d.microseconds else seconds


def _after(value: Any, base: int) -> dt.datetime | None:
    """The instant that ``_since`` wrote as ``value``: a UTC ``datetime``, as ``from_dict`` gives."""
    if value is None:
        return None
    if type(value) is int:
        return _at(base + value, _UTC)
    return _at(base + value[0], _UTC).replace(microsecond=value[1])


# A fingerprint (the canonical JSON text of an event) repeats what the applied event's record
# holds: its customer, id, type, amount and time (as the input wrote it: in the programme's zone,
# or in UTC). Those parts are written as control characters, which JSON text never holds raw; a
# fingerprint that holds one anyway is kept as it is, as bytes. Each mark is put for its own text
# and put back for it, so the text comes back exactly whatever the parts are.
_MARKS = ("\x01", "\x02", "\x03", "\x04", "\x05", "\x06")


def _fixed_part(customer: str) -> str:
    return '"customer":' + _encode_string(customer)


def _template(fingerprint: str, fixed: str, event_id: str, kind: str, amount: str | None,
              time: dt.datetime, tz: dt.tzinfo | None) -> str | bytes:
    for mark in _MARKS:
        if mark in fingerprint:
            return fingerprint.encode("utf-8", "surrogatepass")
    text = fingerprint.replace(fixed, "\x01").replace('"id":' + _encode_string(event_id), "\x02")
    text = text.replace('"type":' + _encode_string(kind), "\x03")
    if amount is not None:
        text = text.replace('"amount":"' + amount + '"', "\x04")
    if tz is not None:
        local = '"time":"' + time.astimezone(tz).isoformat() + '"'
        if local in text:
            return text.replace(local, "\x05")
    return text.replace('"time":"' + instant_text(time) + '"', "\x06")


def _untemplate(text: str | bytes, fixed: str, event_id: str, kind: str, amount: str | None,
                time: dt.datetime, tz: dt.tzinfo | None) -> str:
    if type(text) is bytes:
        return text.decode("utf-8", "surrogatepass")
    text = text.replace("\x01", fixed).replace("\x02", '"id":' + _encode_string(event_id))  # type: ignore[union-attr]
    text = text.replace("\x03", '"type":' + _encode_string(kind))
    if amount is not None:
        text = text.replace("\x04", '"amount":"' + amount + '"')
    if "\x05" in text:
        text = text.replace("\x05", '"time":"' + time.astimezone(tz).isoformat() + '"')
    elif "\x06" in text:
        text = text.replace("\x06", '"time":"' + instant_text(time) + '"')
    return text


def _flat(mapping: dict[Any, Any]) -> tuple[Any, ...]:
    out: list[Any] = []
    for item in mapping.items():
        out += item
    return tuple(out)


def _nested(mapping: dict[int, dict[str, int]]) -> tuple[Any, ...]:
    out: list[Any] = []
    for key, inner in mapping.items():
        out += (key, _flat(inner))
    return tuple(out)


def _unnested(flat: tuple[Any, ...]) -> dict[int, dict[str, int]]:
    it = iter(flat)
    out = {}
    for key, inner in zip(it, it):
        ii = iter(inner)
        out[key] = dict(zip(ii, ii))
    return out


# profile values: those marshal has no type of their own for, tagged (a tuple is always tagged)
_DECIMAL, _DATE, _TUPLE = range(3)


def _flat_profile(profile: dict[str, Any]) -> tuple[Any, ...]:
    out: list[Any] = []
    for key, value in profile.items():
        kind = type(value)
        if kind is Decimal:
            value = (_DECIMAL, str(value))
        elif kind is dt.date:
            value = (_DATE, value.toordinal())
        elif isinstance(value, tuple):
            value = (_TUPLE, value)
        elif isinstance(value, (Decimal, dt.date, list, dict, set)):
            raise TypeError(f"cannot pack a profile value of type {kind.__name__}")
        out += (key, value)
    return tuple(out)


def _unflat_profile(flat: tuple[Any, ...]) -> dict[str, Any]:
    it = iter(flat)
    out = {}
    for key, value in zip(it, it):
        if type(value) is tuple:
            tag, inner = value
            value = Decimal(inner) if tag == _DECIMAL else dt.date.fromordinal(inner) if tag == _DATE else inner
        out[key] = value
    return out


def dictionary_words(program: Any) -> list[str]:
    """What a programme's packed states repeat, for the deflate dictionary: its events' types,
    the skeleton of each one's fingerprint (its keys in canonical order, the parts written as
    marks left as marks), its customer fields, tiers, rewards and currency."""
    from rewardlang.program import BUILTIN_EVENTS

    words: list[str] = []
    currency = program.currency
    events = dict(BUILTIN_EVENTS)
    events.update(program.events)
    for kind, fields in events.items():
        keys = {"customer": _MARKS[0], "id": _MARKS[1], "type": _MARKS[2], "time": _MARKS[4]}
        for field in fields:
            name = field.name
            if name == "amount":
                keys[name] = _MARKS[3]
            elif field.type in ("text", "date", "money"):
                keys[name] = _encode_string(name) + ':"'
            else:
                keys[name] = _encode_string(name) + ":"
            if field.type == "money" and currency:
                keys["currency"] = '"currency":' + _encode_string(currency)
        words.append("{" + ",".join(keys[k] for k in sorted(keys)) + "}")
        words.append(kind)
    words += program.customer_fields
    words += [tier.name.text for tier in program.tiers]
    words += program.rewards
    words += ["total", currency or ""]
    return words


def _dictionary(rule_names: Sequence[str], words: Iterable[str]) -> bytes:
    """The preset dictionary of the deflate streams: what most packed states of the programme
    repeat (rule names, event types and fields, the schedule's kinds), so that a few hundred
    bytes compress as well as a long stream would. deflate looks back at most 32 KB and prefers
    the dictionary's end, so the commonest words go last."""
    parts = [*rule_names, *_KINDS, *words]
    return "".join(parts).encode("utf-8", "surrogatepass")[-32768:]
