"""Input events: one raw event (a JSON object) in, a typed ``Event`` or a ``Rejection`` out.

LANGUAGE.md §3 says what an input event is; this module reads one. ``validate(raw, program)``
never raises, whatever ``raw`` is (any Python object, not only a dict): a bad event comes back as
a ``Rejection`` with a stable ``code`` and a one-sentence ``reason`` that says where the problem
is, what it is and what to write instead. A rejected event still advances its customer's clock
(§4), so a ``Rejection`` carries the ``id``, ``customer`` and ``time`` whenever they could be read.

The checks are compiled once per programme: ``Validator(program)`` precomputes a converter per
declared field, and ``validate(raw, program)`` keeps the validators of the last few programmes
(by identity), so that either form costs a few microseconds per event.

Rejection codes (stable; the reader of an input file adds the file and line):

``not_an_object``    the event is not a JSON object (a ``dict`` or other mapping).
``not_json``         the object holds something that is not a JSON value, anywhere, also under
                     an ignored key: a key that is not a string, a value that is not
                     str/int/Decimal/float/bool/None/list/tuple/dict, a string with an unpaired
                     surrogate (it could not be written as UTF-8), or nesting deeper than
                     ``MAX_DEPTH`` (which also catches an object that contains itself).
``missing_key``      ``id``, ``type``, ``customer`` or ``time`` is absent or null.
``bad_id``           ``id`` is not a non-blank string or an integer.
``bad_customer``     ``customer`` is not a non-blank string or an integer.
``bad_type``         ``type`` is not a non-empty string.
``unknown_type``     ``type`` names no declared and no built-in event (with a did-you-mean).
``bad_time``         ``time`` is not an ISO 8601 date and time, or falls outside 1900–2999.
``missing_offset``   ``time`` is a date and time without an offset from UTC.
``bad_currency``     ``currency`` is present, not null, and not a non-empty string.
``foreign_currency`` ``currency`` is not the programme's currency.
``missing_field``    a declared, not optional field is absent or null.
``bad_field``        a field's value is not of its declared type (a number where text is
                     declared, text that is not a number, a date that is not in the calendar,
                     a list holding a non-string, a number in exponent notation in a string...).
``decimal_comma``    a number written with a decimal comma (``"49,90"``) or a thousands separator.
``not_finite``       NaN or an infinity where a number is declared.
``too_large``        a number whose magnitude is 10^15 or more.
``too_precise``      a number with more than 12 decimal places (trailing zeros aside).
``negative_money``   a money field below zero.
``not_whole``        ``adjust``'s ``points`` is not a whole number.
``unknown_reward``   ``redeem``'s ``reward`` is not in the programme's catalogue (did-you-mean).
``unreadable``       a last resort: reading the object raised (a mapping whose methods fail,
                     say); the reason names the exception. Never expected from JSON input.

Decisions (where §3 is silent):

- Required keys: ``id``, ``type``, ``customer``, ``time``; a null counts as absent. All four are
  checked before anything else, and ``customer`` and ``time`` are read even when another of them
  is bad, so that a ``Rejection`` carries whatever was valid. When several things are wrong, the
  reason names the first in this order: the object itself, ``id``, ``type``, ``customer``,
  ``time``, ``currency``, the fields in declaration order, then the JSON-ness of the rest.
- ``id`` and ``customer`` (and ``refund``'s ``refunds``, which is an id): a string, kept exactly
  as given (not NFC-normalised, not stripped: they are the shop's keys), or an integer (not a
  bool) taken as its decimal text (``17`` → ``"17"``), up to 38 digits. Floats and Decimals are
  rejected (``17.0`` is not an id). An empty or all-white-space string is rejected.
- ``time``: ``localtime.parse_instant`` (ISO 8601 with ``T``, and an offset or ``Z``), as an
  aware UTC datetime. Without an offset: ``missing_offset``, the reason says to add one. A space
  for the ``T``, or a date without a time, gets a reason that says so. Times outside the years
  1900–2999 (UTC) are rejected as ``bad_time``: they are data errors (a default date), and the
  bound keeps the engine's calendar arithmetic (expiry, windows, ``kept for``) far from the edges
  of ``datetime``.
- ``type``: a declared event or a built-in one (``profile``, ``refund``, ``redeem``, ``adjust``);
  case matters (``Purchase`` is unknown, and the reason suggests ``purchase``).
- Fields the type does not declare are ignored (but are part of the fingerprint). A declared field
  that is absent or null rejects the event, unless declared ``optional``: then it is absent from
  ``fields``. In a ``profile`` event every customer field is optional, and a null is kept as
  ``None`` in ``fields`` (it unsets the profile field); ``age`` is derived, so a ``profile`` key
  ``age`` is ignored like any undeclared key.
- ``money`` and ``number``: an exact ``Decimal``, never a float computation. From a string: plain
  decimal notation only, ``-?[0-9]+(.[0-9]+)?`` (``"249.00"``, ``"-3"``); ``"1e3"``, ``"+5"``,
  ``".5"``, ``" 5"`` are ``bad_field`` with the plain spelling suggested; ``"49,90"`` is
  ``decimal_comma``; ``"NaN"``/``"Infinity"`` are ``not_finite``. From a JSON number: an ``int``
  (not a ``bool``), a ``Decimal`` (``json.loads(..., parse_float=Decimal)``; exponent notation
  is fine there, it is a JSON number), or a Python ``float`` from an embedding caller, converted
  through ``repr`` (``0.1`` → ``Decimal("0.1")``, the shortest text that reads back as that
  float). Limits: magnitude below 10^15 and at most 12 decimal places (trailing zeros do not
  count), else ``too_large``/``too_precise``. The Decimal keeps its spelling's exponent
  (``"249.00"`` → ``Decimal("249.00")``) unless it has more than 12 places (then it is
  quantized to 12); a zero is always ``Decimal("0")`` (no ``-0``). Money below zero is
  ``negative_money``; a number may be negative.
- ``adjust``'s ``points``: a number as above that is whole (``350``, ``"-20"``, ``350.0``), as a
  signed ``int``; ``12.5`` is ``not_whole``.
- ``text``: a string only (a JSON number is ``bad_field``: quote it), NFC-normalised.
- ``date``: a ``"YYYY-MM-DD"`` string that is a date in the calendar, as ``datetime.date``.
- ``bool``: JSON ``true``/``false``, or the strings ``"true"``/``"false"`` in any case (CSV gives
  strings; spreadsheets write ``TRUE``). Numbers (``0``, ``1``) are ``bad_field``.
- ``list of text``: a JSON array (list or tuple) of strings, each NFC-normalised, as a tuple; or
  a string holding the text of such an array (``"[\\"gift\\", \\"sale\\"]"``, from CSV). Any
  other string (``"gift"``) is ``bad_field``, with the array spelling suggested.
- An empty string is not a value of any type but text: the CSV reader should drop empty cells
  (treat them as absent), not pass ``""`` for a number.
- ``currency``: absent or null is fine; otherwise a non-empty string, equal to the programme's
  currency compared case-insensitively (``"sek"`` is SEK), else ``foreign_currency`` naming both
  codes. A programme without a currency accepts any currency string.
- ``redeem``'s ``reward`` must name a catalogue reward (compared after NFC), else
  ``unknown_reward`` with a did-you-mean; ``refund``'s ``refunds`` is read as an id (above).
- The input must be JSON values throughout (see ``not_json``); a ``dict`` subclass or another
  ``Mapping`` is accepted at the top level, a ``tuple`` counts as a JSON array.
- ``fingerprint``: the canonical text of the whole object — every key, ignored ones too — as
  compact JSON with the keys sorted (by code point) at every level and strings exactly as given
  (not NFC-normalised: the same content means the same JSON values). Numbers are canonicalised
  by value: ``249``, ``249.0``, ``2.49E+2`` and ``Decimal("249.00")`` are one number, written as
  the exactly normalised Decimal (``249``; ``2490`` is ``2.49E+3``; ``-0`` is ``0``); NaN and
  the infinities, which may only appear under ignored keys, are ``NaN``, ``Infinity`` and
  ``-Infinity``. A string is never the same content as a number: ``"249.00"`` and ``249`` differ,
  and so do ``"id": 17`` and ``"id": "17"`` (one event id, two contents). ``true`` is not ``1``.
- ``validate`` never raises: the checks are written not to, and a last-resort guard turns any
  exception into ``unreadable`` (``Validator.check`` is the unguarded form, for tests).
- ``Event.fields`` is a read-only mapping (``types.MappingProxyType``) in declaration order.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from types import MappingProxyType

import attrs

from rewardlang.localtime import parse_instant
from rewardlang.program import BUILTIN_EVENTS, Field, Program

__all__ = ["CODES", "MAX_DEPTH", "Event", "Rejection", "Validator", "fingerprint", "validate", "validator_for"]

CODES = (
    "not_an_object", "not_json", "missing_key", "bad_id", "bad_customer", "bad_type",
    "unknown_type", "bad_time", "missing_offset", "bad_currency", "foreign_currency",
    "missing_field", "bad_field", "decimal_comma", "not_finite", "too_large", "too_precise",
    "negative_money", "not_whole", "unknown_reward", "unreadable",
)

MAX_DEPTH = 64  # nesting of arrays and objects in one event (the event object is level 1)
MAX_DIGITS = 15  # magnitude below 10**15
MAX_PLACES = 12  # decimal places
MIN_YEAR, MAX_YEAR = 1900, 2999
_INF, _NINF = float("inf"), float("-inf")


@attrs.frozen(slots=True)
class Event:
    id: str
    type: str
    customer: str
    time: dt.datetime
    fields: Mapping[str, object]
    fingerprint: str


@attrs.frozen(slots=True)
class Rejection:
    reason: str
    code: str
    id: str | None
    customer: str | None
    time: dt.datetime | None


class _Bad(Exception):
    """A rejection on its way out of a converter."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason


# ------------------------------------------------------------------------------------ showing

def _show(value: object) -> str:
    """A value as a reason quotes it: JSON-like, short, and always writable as UTF-8."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        text = str.__str__(value)
        if len(text) > 40:
            text = text[:37] + "..."
        shown = json.dumps(text, ensure_ascii=False)
        if not _utf8_ok(shown):
            shown = json.dumps(text)
        return shown
    if isinstance(value, int):
        if value.bit_length() > 100:
            return "a whole number of about %d digits" % int(value.bit_length() * 0.30103 + 1)
        return "%d" % value
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (_INF, _NINF):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return "NaN"
        if value.is_infinite():
            return "-Infinity" if value.is_signed() else "Infinity"
        text = str(value)
        return text if len(text) <= 40 else f"a number of {len(value.as_tuple().digits)} digits"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return "a Python " + type(value).__name__


def _kind(value: object) -> str:
    """What a JSON value is, for a reason: 'a number', 'text', 'an array'..."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "a yes/no value"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return "a Python " + type(value).__name__


def _what(value: object) -> str:
    """A value and its kind (``5, a number``), or only the kind where the value is not shown."""
    shown = _show(value)
    kind = _kind(value)
    if value is None or shown == kind or shown.startswith(("a ", "an ")):
        return shown
    return f"{shown}, {kind}"


def _utf8_ok(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _nfc(text: str) -> str:
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", text)


def _close(word: str, names: list[str]) -> str | None:
    if len(word) > 64:
        return None
    found = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if not found:
        found = difflib.get_close_matches(word.lower(), names, n=1, cutoff=0.6)
    return found[0] if found else None


# ------------------------------------------------------------------------------------ numbers

_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_COMMA = re.compile(r"-?[0-9][0-9,. ']*", re.ASCII)
_CTX = Context(prec=60)  # room for 15 + 12 digits: quantize never signals
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])  # normalize, exactly
_PLACES = Decimal(1).scaleb(-MAX_PLACES)
_LIMIT = 10**MAX_DIGITS
_ZERO = Decimal(0)


def _in_range(d: Decimal, where: str, shown: str) -> Decimal:
    """A finite Decimal checked against the engine's limits (and made tidy)."""
    if not d:
        return _ZERO
    if d.adjusted() >= MAX_DIGITS:
        raise _Bad("too_large", f"{where} is {shown}, which is too large for the engine: numbers must "
                   "be below 1000000000000000 (10^15) in magnitude")
    if d.as_tuple().exponent >= -MAX_PLACES:  # type: ignore[operator]
        return d
    quantized = d.quantize(_PLACES, context=_CTX)
    if quantized != d:
        raise _Bad("too_precise", f"{where} is {shown}, which has more than {MAX_PLACES} decimal "
                   f"places: round it to at most {MAX_PLACES}")
    return quantized


def _plain_spelling(d: Decimal) -> str:
    return format(d.normalize(_EXACT) if d.as_tuple().exponent > 0 else d, "f")  # type: ignore[operator]


def _number_from_text(text: str, where: str) -> Decimal:
    if _PLAIN.fullmatch(text):
        value = Decimal(text)
        if len(text) <= 14:  # at most 14 integer digits and at most 12 places: in range
            return value if value else _ZERO
        return _in_range(value, where, _show(text))
    shown = _show(text)
    stripped = text.strip()
    try:
        value = Decimal(stripped) if len(stripped) <= 100 else None
    except ArithmeticError:  # InvalidOperation: not a number, or an exponent out of range
        value = None
    if value is not None and not value.is_finite():
        raise _Bad("not_finite", f"{where} is {shown}, which is not a finite number: "
                   "write a number such as \"249.00\"")
    if value is not None:
        value = _in_range(value, where, shown)
        raise _Bad("bad_field", f"{where} is {shown}: write numbers in plain decimal notation, "
                   f"as in \"{_plain_spelling(value)}\"")
    if "," in stripped and _COMMA.fullmatch(stripped):
        if stripped.count(",") == 1 and "." not in stripped and _PLAIN.fullmatch(stripped.replace(",", ".")):
            raise _Bad("decimal_comma", f"{where} is {shown}, a number with a decimal comma: decimals are "
                       f"written with a point: write \"{stripped.replace(',', '.')}\"")
        raise _Bad("decimal_comma", f"{where} is {shown}, a number with a comma in it (a decimal comma or a "
                   "thousands separator): write it with a decimal point and without thousands separators, "
                   "as in \"1234.50\"")
    raise _Bad("bad_field", f"{where} is {shown}, which is not a number: write digits with an optional "
               "minus sign and decimal point, as in \"249.00\"")


def _number(value: object, where: str) -> Decimal:
    """A money or number value as an exact Decimal within the engine's limits."""
    kind = type(value)
    if kind is str:
        return _number_from_text(value, where)  # type: ignore[arg-type]
    if kind is int:
        if -_LIMIT < value < _LIMIT:  # type: ignore[operator]
            return Decimal(value)  # type: ignore[arg-type]
        raise _Bad("too_large", f"{where} is {_show(value)}, which is too large for the engine: numbers "
                   "must be below 1000000000000000 (10^15) in magnitude")
    if kind is Decimal:
        return _decimal(value, where)  # type: ignore[arg-type]
    if value is True or value is False:
        raise _Bad("bad_field", f"{where} is {_show(value)}, a yes/no value, not a number: write a number "
                   "such as 249.00")
    if isinstance(value, str):
        return _number_from_text(str.__str__(value), where)
    if isinstance(value, int):
        return _number(int(value), where)
    if isinstance(value, Decimal):
        return _decimal(Decimal(value), where)  # a subclass, as an exact Decimal
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Bad("not_finite", f"{where} is {_show(value)}, which is not a finite number: "
                       "write a number such as 249.00")
        return _in_range(Decimal(float.__repr__(value)), where, _show(value))
    raise _Bad("bad_field", f"{where} is {_what(value)}, not a number: write a number "
               "such as 249.00 or \"249.00\"")


def _decimal(value: Decimal, where: str) -> Decimal:
    if not value.is_finite():
        raise _Bad("not_finite", f"{where} is {_show(value)}, which is not a finite number: "
                   "write a number such as 249.00")
    return _in_range(value, where, _show(value))


# ------------------------------------------------------------------------------------ converters

Converter = Callable[[object], object]


def _money_converter(where: str) -> Converter:
    def money(value: object) -> object:
        number = _number(value, where)
        if number < 0:
            raise _Bad("negative_money", f"{where} is {_show(value)}, below zero: money in an event "
                       "cannot be negative (send a refund event to take money back)")
        return number
    return money


def _number_converter(where: str) -> Converter:
    def number(value: object) -> object:
        return _number(value, where)
    return number


def _whole_converter(where: str) -> Converter:
    def whole(value: object) -> object:
        number = _number(value, where)
        integral = number.to_integral_value(context=_CTX)
        if integral != number:
            raise _Bad("not_whole", f"{where} is {_show(value)}, which is not a whole number: points "
                       f"are whole, write {integral} or another whole number")
        return int(integral)
    return whole


def _text_converter(where: str) -> Converter:
    def text(value: object) -> object:
        if type(value) is str:
            if value.isascii():  # type: ignore[attr-defined]
                return value
        elif isinstance(value, str):
            value = str.__str__(value)
        else:
            if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                raise _Bad("bad_field", f"{where} is {_show(value)}, a number, but it is declared text: "
                           f"quote it, as in \"{_show(value)}\"")
            raise _Bad("bad_field", f"{where} is {_what(value)}, but it is declared text: "
                       "write a quoted text, as in \"books\"")
        if not _utf8_ok(value):  # type: ignore[arg-type]
            raise _Bad("bad_field", f"{where} holds an unpaired surrogate (a broken \\u escape), which is "
                       "not text: fix the escape")
        return unicodedata.normalize("NFC", value)  # type: ignore[arg-type]
    return text


def _id_value(value: object, where: str, code: str, example: str) -> str:
    """An id-like key (``id``, ``customer``, ``refunds``): a non-blank string, or an integer."""
    if type(value) is str:
        text = value
    elif isinstance(value, bool):
        raise _Bad(code, f"{where} is {_show(value)}, a yes/no value: write a text or a whole number, "
                   f"as in {example}")
    elif isinstance(value, int):
        if value.bit_length() > 126:  # beyond 38 digits
            raise _Bad(code, f"{where} is a whole number too long to be an id: write it as a text, "
                       f"as in {example}")
        return "%d" % value
    elif isinstance(value, str):
        text = str.__str__(value)
    elif isinstance(value, (float, Decimal)):
        raise _Bad(code, f"{where} is {_show(value)}, a decimal number: write a text or a whole number, "
                   f"as in {example}")
    else:
        raise _Bad(code, f"{where} is {_what(value)}: write a text or a whole number, "
                   f"as in {example}")
    if not text or text.isspace():
        raise _Bad(code, f"{where} is {_show(text)}, which is blank: write a text or a whole number, "
                   f"as in {example}")
    if not _utf8_ok(text):
        raise _Bad(code, f"{where} holds an unpaired surrogate (a broken \\u escape): fix the escape")
    return text


def _ref_converter(where: str) -> Converter:
    def ref(value: object) -> object:
        return _id_value(value, where, "bad_field", '"e17"')
    return ref


_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)


def _date_converter(where: str) -> Converter:
    def date(value: object) -> object:
        if isinstance(value, str):
            match = _DATE.fullmatch(value)
            if match is not None:
                try:
                    return dt.date(int(match[1]), int(match[2]), int(match[3]))
                except ValueError:
                    raise _Bad("bad_field", f"{where} is {_show(value)}, which is not a date in the calendar: "
                               "write a real date, YYYY-MM-DD") from None
            raise _Bad("bad_field", f"{where} is {_show(value)}, which is not a date: write it as "
                       "YYYY-MM-DD, as in \"1990-05-17\"")
        raise _Bad("bad_field", f"{where} is {_what(value)}, not a date: write it as a "
                   "text, YYYY-MM-DD, as in \"1990-05-17\"")
    return date


def _bool_converter(where: str) -> Converter:
    def boolean(value: object) -> object:
        if value is True or value is False:
            return value
        if isinstance(value, str):
            lowered = value.lower()
            if lowered == "true":
                return True
            if lowered == "false":
                return False
        raise _Bad("bad_field", f"{where} is {_show(value)}, but it is declared bool: write true or false")
    return boolean


def _list_converter(where: str) -> Converter:
    element = _text_converter(f"an element of {where}")

    def text_list(value: object) -> object:
        if isinstance(value, str) and not isinstance(value, bool):
            text = str.__str__(value)
            stripped = text.strip()
            if not stripped.startswith("[") or len(text) > 100_000:
                raise _Bad("bad_field", f"{where} is {_show(value)}, but it is declared list of text: "
                           f"write an array of texts, as in [{_show(value)}]")
            try:
                value = json.loads(stripped)
            except (ValueError, RecursionError):
                raise _Bad("bad_field", f"{where} is {_show(text)}, which is not a JSON array: write an "
                           "array of texts, as in [\"gift\", \"sale\"]") from None
        if isinstance(value, (list, tuple)):
            for item in value:
                if not isinstance(item, str):
                    raise _Bad("bad_field", f"{where} holds {_what(item)}: a list of text "
                               "holds only quoted texts, as in [\"gift\", \"sale\"]")
            return tuple([element(item) for item in value])
        raise _Bad("bad_field", f"{where} is {_what(value)}, but it is declared list of text: "
                   "write an array of texts, as in [\"gift\", \"sale\"]")
    return text_list


_CONVERTERS: dict[str, Callable[[str], Converter]] = {
    "money": _money_converter,
    "number": _number_converter,
    "text": _text_converter,
    "date": _date_converter,
    "bool": _bool_converter,
    "list of text": _list_converter,
}


# ------------------------------------------------------------------------------------ fingerprint

_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]
_INT_INLINE = 10**18  # below this, an int not ending in 0 is its own canonical text


def _number_text(value: Decimal) -> str:
    if not value.is_finite():
        if value.is_nan():
            return "NaN"
        return "-Infinity" if value.is_signed() else "Infinity"
    if not value:
        return "0"
    return str(value.normalize(_EXACT))


def _where(key: object) -> str:
    return "the event" if key is None else f"the key {_show(key)}"


def _canon(value: object, out: list[str], depth: int, key: object) -> None:
    """Append the canonical JSON text of ``value`` to ``out``; ``_Bad("not_json")`` if it is none.

    ``key`` is the top-level key that ``value`` is under (None for the event itself), for a reason.
    """
    kind = type(value)
    if kind is str:
        if not value.isascii() and not _utf8_ok(value):  # type: ignore[attr-defined]
            raise _Bad("not_json", f"{_where(key)} holds a text with an unpaired surrogate (a broken \\u "
                       "escape), which cannot be written as UTF-8: fix the escape")
        out.append(_encode_string(value))
    elif kind is int:
        if value % 10 or not value:  # type: ignore[operator]
            if -_INT_INLINE < value < _INT_INLINE:  # type: ignore[operator]
                out.append("%d" % value)
                return
        out.append(_number_text(Decimal(value)))  # type: ignore[arg-type]
    elif kind is Decimal:
        out.append(_number_text(value))  # type: ignore[arg-type]
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is float:
        if value != value:
            out.append("NaN")
        elif value in (_INF, _NINF):
            out.append("Infinity" if value > 0 else "-Infinity")  # type: ignore[operator]
        else:
            out.append(_number_text(Decimal(float.__repr__(value))))  # type: ignore[arg-type]
    elif depth >= MAX_DEPTH:
        raise _Bad("not_json", f"{_where(key)} is nested more than {MAX_DEPTH} levels deep (or contains itself): "
                   "flatten it")
    elif kind is list or kind is tuple:
        out.append("[")
        first = True
        for item in value:  # type: ignore[attr-defined]
            if not first:
                out.append(",")
            first = False
            _canon(item, out, depth + 1, key)
        out.append("]")
    elif kind is dict:
        _canon_object(value, out, depth, key)  # type: ignore[arg-type]
    elif isinstance(value, str):
        _canon(str.__str__(value), out, depth, key)
    elif isinstance(value, int):
        _canon(int(value), out, depth, key)
    elif isinstance(value, Decimal):
        out.append(_number_text(value))
    elif isinstance(value, float):
        _canon(float(value), out, depth, key)
    elif isinstance(value, (list, tuple)):
        _canon(list(value), out, depth, key)
    elif isinstance(value, Mapping):
        _canon_object(dict(value), out, depth, key)
    else:
        raise _Bad("not_json", f"{_where(key)} holds {_show(value)}, which is not a JSON value: pass only "
                   "text, numbers, true/false, null, arrays and objects")


def _canon_object(value: dict[object, object], out: list[str], depth: int, key: object) -> None:
    try:
        items = sorted(value.items())  # keys are unique, so values are never compared
    except TypeError:  # keys of several types
        items = _exact_items(value, key)
    top = depth == 0
    depth += 1
    parts = []
    for name, item in items:
        if type(name) is not str or not name.isascii():
            if type(name) is not str:  # a key that is not a str (or a str subclass): start again
                return _canon_object(dict(_exact_items(value, key)), out, depth - 1, key)
            if not _utf8_ok(name):
                raise _Bad("not_json", f"{_where(key)} has a key with an unpaired surrogate (a broken "
                           "\\u escape), which cannot be written as UTF-8: fix the escape")
        kind = type(item)
        if kind is str and item.isascii():  # the common cases, inline
            parts.append(f"{_encode_string(name)}:{_encode_string(item)}")
        elif kind is int and item % 10 and -_INT_INLINE < item < _INT_INLINE:  # type: ignore[operator]
            parts.append(f"{_encode_string(name)}:{item}")
        else:
            inner = [_encode_string(name), ":"]
            _canon(item, inner, depth, name if top else key)
            parts.append("".join(inner))
    out.append("{" + ",".join(parts) + "}")
    return None


def _exact_items(value: dict[object, object], key: object) -> list[tuple[str, object]]:
    """The items of an object whose keys are all texts, as exact ``str``, sorted; else not_json."""
    exact: dict[str, object] = {}
    for name, item in value.items():
        if not isinstance(name, str):
            raise _Bad("not_json", f"{_where(key)} has the key {_show(name)}, which is not a text: "
                       "the keys of a JSON object are texts")
        exact[str.__str__(name)] = item
    return sorted(exact.items())


def fingerprint(raw: object) -> str | None:
    """The canonical text of any JSON object (as ``Event.fingerprint``), or None when ``raw`` is not
    one; never raises. For the evaluator's "several lines with one id" check on rejected lines too.
    """
    try:
        if not isinstance(raw, Mapping):
            return None
        out: list[str] = []
        _canon_object(raw if type(raw) is dict else dict(raw), out, 0, None)
        return "".join(out)
    except Exception:  # noqa: BLE001 - _Bad (not JSON), or a mapping whose methods fail
        return None


# ------------------------------------------------------------------------------------ time

_EXAMPLE_TIME = '"2026-03-01T10:15:00+01:00"'


def _time(value: object) -> dt.datetime:
    instant = None
    try:
        instant = parse_instant(value)
    except (OverflowError, ValueError):  # an offset that moves it out of datetime's range
        raise _Bad("bad_time", f"`time` is {_show(value)}, which is out of range: times must fall "
                   f"in the years {MIN_YEAR}-{MAX_YEAR}") from None
    if instant is not None:
        if MIN_YEAR <= instant.year <= MAX_YEAR:
            return instant
        raise _Bad("bad_time", f"`time` is {_show(value)}, in the year {instant.year}: times must fall in "
                   f"the years {MIN_YEAR}-{MAX_YEAR} (UTC); is it a default date?")
    if not isinstance(value, str):
        raise _Bad("bad_time", f"`time` is {_what(value)}: write an ISO 8601 date and time "
                   f"with its offset from UTC, as in {_EXAMPLE_TIME}")
    shown = _show(value)
    naive = None
    if len(value) <= 64:
        try:
            naive = dt.datetime.fromisoformat(value)
        except ValueError:
            naive = None
    if naive is not None:
        if "T" not in value.upper():
            if len(value.strip()) <= 10:
                raise _Bad("bad_time", f"`time` is {shown}, a date without a time of day: write the date "
                           f"and time with its offset from UTC, as in {_EXAMPLE_TIME}")
            raise _Bad("bad_time", f"`time` is {shown}: write a \"T\" between the date and the time, as in "
                       f"{_EXAMPLE_TIME}")
        if naive.tzinfo is None:
            raise _Bad("missing_offset", f"`time` is {shown}, which has no offset from UTC: add one, as in "
                       f"{_EXAMPLE_TIME}, or Z for UTC")
        # well formed, with an offset, yet no instant: it falls outside datetime's range in UTC
        raise _Bad("bad_time", f"`time` is {shown}, which is out of range: times must fall "
                   f"in the years {MIN_YEAR}-{MAX_YEAR}")
    raise _Bad("bad_time", f"`time` is {shown}, which is not an ISO 8601 date and time: write one with its "
               f"offset from UTC, as in {_EXAMPLE_TIME}")


# ------------------------------------------------------------------------------------ validator

_REQUIRED_EXAMPLES = {
    "id": '"id": "e17"',
    "type": '"type": "purchase"',
    "customer": '"customer": "c42"',
    "time": f'"time": {_EXAMPLE_TIME}',
}


class _Type:
    """The compiled checks of one event type."""

    __slots__ = ("name", "fields", "profile")

    def __init__(self, name: str, fields: tuple[tuple[str, bool, Converter, str], ...], profile: bool) -> None:
        self.name = name
        self.fields = fields
        self.profile = profile


class Validator:
    """The event checks of one programme, compiled once; ``validate(raw)`` per event."""

    __slots__ = ("program", "types", "type_names", "currency", "rewards", "reward_names")

    def __init__(self, program: Program) -> None:
        self.program = program
        self.currency = program.currency.upper() if program.currency else None
        self.rewards = {_nfc(name) for name in program.rewards}
        self.reward_names = sorted(program.rewards)
        self.types: dict[str, _Type] = {}
        for name, fields in program.events.items():
            self.types[name] = _Type(name, self._compile(name, fields), profile=False)
        for name, fields in BUILTIN_EVENTS.items():
            if name == "profile":
                customer = tuple(Field(f.name, f.type, True) for f in program.customer_fields.values())
                self.types[name] = _Type(name, self._compile(name, customer, profile=True), profile=True)
            else:
                self.types[name] = _Type(name, self._compile(name, fields), profile=False)
        self.type_names = list(self.types)

    def _compile(self, event: str, fields: tuple[Field, ...], profile: bool = False
                 ) -> tuple[tuple[str, bool, Converter, str], ...]:
        compiled = []
        for field in fields:
            where = f"the customer field `{field.name}`" if profile else f"`{field.name}`"
            if (event, field.name) == ("adjust", "points"):
                convert = _whole_converter(where)
            elif (event, field.name) == ("refund", "refunds"):
                convert = _ref_converter(where)
            elif (event, field.name) == ("redeem", "reward"):
                convert = self._reward_converter(where)
            else:
                convert = _CONVERTERS[field.type](where)
            compiled.append((field.name, field.optional, convert, field.type))
        return tuple(compiled)

    def _reward_converter(self, where: str) -> Converter:
        text = _text_converter(where)

        def reward(value: object) -> object:
            name = text(value)
            if name in self.rewards:
                return name
            close = _close(name, self.reward_names)  # type: ignore[arg-type]
            if close is not None:
                hint = f"did you mean \"{close}\"?"
            elif self.reward_names:
                hint = "the catalogue has " + ", ".join(f'"{n}"' for n in self.reward_names[:8])
            else:
                hint = "the programme declares no rewards"
            raise _Bad("unknown_reward", f"{where} is {_show(value)}, which is not a reward of the "
                       f"catalogue: {hint}")
        return reward

    # -- per event

    def validate(self, raw: object) -> Event | Rejection:
        """The typed event, or a rejection with its reason; never raises."""
        try:
            return self.check(raw)
        except Exception as error:  # noqa: BLE001 - the promise is "never an exception"
            return Rejection(f"the event could not be read ({type(error).__name__}): pass a JSON object",
                             "unreadable", None, None, None)

    def customer_of(self, raw: object) -> str | None:
        """``validate(raw).customer`` without validating the rest, where that is cheap (a dict).

        Runs read every line twice: once to stage it by customer, once to apply it. Only the
        second needs the whole event; the first needs where the line goes, and a line whose
        ``customer`` is an id belongs to that customer whatever else is wrong with it (the
        rejection, made when it is applied, names the customer). None: no customer (call
        ``validate`` for the reason)."""
        if type(raw) is not dict:
            return self.validate(raw).customer
        value = raw.get("customer")
        if value is None:
            return None
        try:
            return _id_value(value, "`customer`", "bad_customer", '"c42"')
        except _Bad:
            return None

    def check(self, raw: object) -> Event | Rejection:
        """``validate`` without the last-resort guard (for tests: it should never need it)."""
        if type(raw) is not dict:
            if not isinstance(raw, Mapping):
                return Rejection(f"the event is {_what(raw)}, not a JSON object: write one "
                                 "object a line, as in {\"id\": \"e17\", \"type\": \"purchase\", ...}",
                                 "not_an_object", None, None, None)
            raw = dict(raw)
        get = raw.get  # type: ignore[attr-defined]
        problem: _Bad | None = None

        event_id = customer = None
        instant = None
        value = get("id")
        if value is None:
            problem = self._missing("id")
        else:
            try:
                event_id = _id_value(value, "`id`", "bad_id", '"e17"')
            except _Bad as bad:
                # without its traceback: kept in a local, the traceback's frame would hold this
                # frame and make a cycle that only the cyclic collector frees (every bad line)
                problem = bad.with_traceback(None)
        type_name = get("type")
        event_type = self.types.get(type_name) if type(type_name) is str else None  # type: ignore[arg-type]
        if event_type is None and problem is None:
            problem = self._type_problem(type_name)
        value = get("customer")
        if value is None:
            problem = problem or self._missing("customer")
        else:
            try:
                customer = _id_value(value, "`customer`", "bad_customer", '"c42"')
            except _Bad as bad:
                problem = problem or bad.with_traceback(None)
        value = get("time")
        if value is None:
            problem = problem or self._missing("time")
        else:
            try:
                instant = _time(value)
            except _Bad as bad:
                problem = problem or bad.with_traceback(None)
        if problem is not None:
            return Rejection(problem.reason, problem.code, event_id, customer, instant)
        assert event_type is not None and event_id is not None and customer is not None
        assert instant is not None

        try:
            currency = get("currency")
            if currency is not None:
                self._check_currency(currency)
            fields: dict[str, object] = {}
            for name, optional, convert, kind in event_type.fields:
                value = get(name)
                if value is None:
                    if event_type.profile:
                        if name in raw:
                            fields[name] = None
                    elif not optional:
                        raise self._missing_field(event_type.name, name, kind, name in raw)
                else:
                    fields[name] = convert(value)
            out: list[str] = []
            _canon_object(raw, out, 0, None)  # type: ignore[arg-type]
        except _Bad as bad:
            return Rejection(bad.reason, bad.code, event_id, customer, instant)
        return Event(event_id, event_type.name, customer, instant, MappingProxyType(fields), "".join(out))

    # -- reasons

    @staticmethod
    def _missing(key: str) -> _Bad:
        return _Bad("missing_key", f"the event has no `{key}`: every event needs `id`, `type`, `customer` "
                    f"and `time`; add it, as in {_REQUIRED_EXAMPLES[key]}")

    def _type_problem(self, value: object) -> _Bad:
        if value is None:
            return self._missing("type")
        if not isinstance(value, str) or not value:
            what = "empty" if value == "" else _what(value)
            return _Bad("bad_type", f"`type` is {what}: write the name of an event type, as in "
                        "\"type\": \"purchase\"")
        close = _close(str.__str__(value), self.type_names)
        declared = ", ".join(self.program.events) or "none"
        if close is not None:
            hint = f"did you mean \"{close}\"?"
        else:
            hint = f"declare it with `event {value}` in the ruleset, or use a declared one" \
                if len(value) <= 40 and re.fullmatch(r"[a-z][a-z0-9_]*", value) else "use a declared one"
        return _Bad("unknown_type", f"`type` is {_show(value)}, which is not an event of this programme: "
                    f"{hint} (declared: {declared}; built in: profile, refund, redeem, adjust)")

    def _check_currency(self, value: object) -> None:
        if not isinstance(value, str) or not value:
            what = "empty" if value == "" else _what(value)
            raise _Bad("bad_currency", f"`currency` is {what}: write the programme's "
                       f"currency code, as in \"currency\": \"{self.currency or 'SEK'}\", or leave it out")
        if self.currency is not None and value.upper() != self.currency:
            raise _Bad("foreign_currency", f"`currency` is {_show(value)}, but the programme counts in "
                       f"{self.currency}: convert the amounts to {self.currency} and write \"currency\": "
                       f"\"{self.currency}\", or leave it out")

    @staticmethod
    def _missing_field(event: str, name: str, kind: str, null: bool) -> _Bad:
        what = f"`{name}` is null" if null else f"the {event} event has no `{name}`"
        if event in BUILTIN_EVENTS:
            example = {"refunds": '"refunds": "e17"', "reward": '"reward": "Tote bag"',
                       "points": '"points": 100'}.get(name, f'"{name}": ...')
            return _Bad("missing_field", f"{what}, but every {event} event needs it: add it, as in {example}")
        return _Bad("missing_field", f"{what}, but every {event} event must carry it (it is not declared "
                    f"optional): add a value, or declare it `{name} {kind} optional` in the ruleset")


# ------------------------------------------------------------------------------------ module level

_CACHE_SIZE = 8
_cache: dict[int, tuple[Program, Validator]] = {}
_last: tuple[Program | None, Validator | None] = (None, None)


def validator_for(program: Program) -> Validator:
    """The compiled validator of a programme, cached by identity (the last few programmes)."""
    global _last
    last_program, last_validator = _last
    if last_program is program and last_validator is not None:
        return last_validator
    entry = _cache.get(id(program))
    if entry is None or entry[0] is not program:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        entry = (program, Validator(program))
        _cache[id(program)] = entry
    _last = entry
    return entry[1]


def validate(raw: object, program: Program | Validator) -> Event | Rejection:
    """One input event, typed, or rejected with a reason (LANGUAGE.md §3); never raises.

    ``program`` may be a ``Validator`` (compiled once by the caller) or a ``Program`` (compiled on
    first use and cached by identity).
    """
    if type(program) is Validator:
        return program.validate(raw)
    try:
        checker = validator_for(program)  # type: ignore[arg-type]
    except Exception as error:  # noqa: BLE001
        return Rejection(f"the programme could not be compiled for events ({type(error).__name__})",
                         "unreadable", None, None, None)
    return checker.validate(raw)
