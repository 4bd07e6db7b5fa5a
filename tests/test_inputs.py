"""Event files read line by line (``rewardlang.inputs``): JSON Lines and CSV, bad lines as values.

The table of bad lines is the contract with the rejected file: each bad line yields exactly one
``InputLine``, and ends rejected with a reason saying what is wrong — by the reader when the line
cannot be read, else by ``events.Validator`` — while the good lines around it read fine.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardlang
from rewardlang.events import Event, Rejection, Validator
from rewardlang.inputs import InputError, InputLine, format_of, open_events

PROGRAM = rewardlang.loads("""\
currency SEK
customer has city text optional
event purchase with amount money, category text, items number, tags list of text optional,
  gift bool optional
event review with stars number
purchase earns 1 point per 10 SEK
review earns 50 points
""")
VALIDATOR = Validator(PROGRAM)

TIME = "2026-03-01T10:15:00+01:00"
HEADER = "id,type,customer,time,amount,currency,category,items"


def good(n: int) -> bytes:
    return json.dumps({"id": f"g{n}", "type": "purchase", "customer": "c1", "time": TIME, "amount": "249.00",
                       "currency": "SEK", "category": "books", "items": 2}).encode()


def purchase(**changes: object) -> bytes:
    event = {"id": "b1", "type": "purchase", "customer": "c1", "time": TIME, "amount": "249.00",
             "currency": "SEK", "category": "books", "items": 2}
    event.update(changes)
    return json.dumps(event, ensure_ascii=False).encode()


def read(data: bytes, **options: object) -> list[InputLine]:
    return list(open_events("-", stdin=io.BytesIO(data), **options))  # type: ignore[arg-type]


def outcome(line: InputLine) -> Event | str:
    """The event, or the reason the line ends rejected: the reader's problem or the Validator's."""
    if line.value is None:
        assert line.problem
        return line.problem
    result = VALIDATOR.validate(line.value)
    return result.reason if isinstance(result, Rejection) else result


BIG = 10 * 1024 * 1024
LATIN1 = purchase(category="b\u00f6cker").replace("\u00f6".encode(), b"\xf6")

BAD_JSONL = [
    ("bad JSON", b'{"id": "b1", "type": "purchase" "customer": "c1"}', "not valid JSON: Expecting ',' delimiter at column 33"),
    ("invalid UTF-8", LATIN1, "invalid UTF-8 at byte %d (0xf6)" % (LATIN1.index(0xF6) + 1)),
    ("a 10 MB line", purchase(note="x" * BIG), f"the line is {len(purchase(note='x' * BIG))} bytes long"),
    ("NaN", purchase().replace(b'"249.00"', b"NaN"), "`amount` is NaN, which is not a number"),
    ("Infinity deep down", purchase(extra=[1]).replace(b"[1]", b"[-Infinity]"), "`extra` holds -Infinity"),
    ("1e999", purchase().replace(b'"249.00"', b"1e999"), "`amount` is 1E+999, which is too large for the engine"),
    ("a number beyond any range", purchase().replace(b'"249.00"', b"1e999999999999999999999"), "out of any range"),
    ("a time without offset", purchase(time="2026-03-01T10:15:00"), "`time` is \"2026-03-01T10:15:00\", which has no offset"),
    ("an unknown type", purchase(type="purchse"), "not an event of this programme: did you mean \"purchase\"?"),
    ("a wrong field type", purchase(category=5), "`category` is 5, a number, but it is declared text"),
    ("a foreign currency", purchase(currency="EUR"), "but the programme counts in SEK"),
    ("a decimal comma in a JSON text", purchase(amount="249,00"), "a number with a decimal comma: decimals are written with a point: write \"249.00\""),
    ("a decimal comma in a JSON number", purchase().replace(b'"249.00"', b"249,00"), "a decimal comma in the number 249,00"),
    ("an array", b'[{"id": "b1"}]', "the line is an array, not a JSON object"),
    ("a text", b'"purchase"', "the line is a text, not a JSON object"),
    ("a key twice", purchase().replace(b'"items": 2', b'"items": 2, "items": 3'), 'the key "items" appears twice'),
    ("single quotes", b"{'id': 'b1'}", "double quotes"),
    ("a trailing comma", purchase().replace(b"}", b",}"), "a comma before the closing brace"),
    ("two objects", purchase() + b" " + good(0), "more text after the object ends"),
    ("a missing field", purchase(items=None), "`items` is null, but every purchase event must carry it"),
    ("a BOM in mid-file", b"\xef\xbb\xbf" + purchase(), "a byte order mark"),
]


def test_every_bad_jsonl_line_yields_one_line_that_ends_rejected_with_its_reason():
    parts = [good(0)]
    for index, (_, bad, _) in enumerate(BAD_JSONL, 1):
        parts += [bad, good(index)]
    data = b"\n".join(parts) + b"\n"
    lines = read(data)
    assert len(lines) == 1 + 2 * len(BAD_JSONL)
    assert [line.line_number for line in lines] == list(range(1, len(lines) + 1))
    for index, (label, _, expected) in enumerate(BAD_JSONL):
        bad, after = lines[1 + 2 * index], lines[2 + 2 * index]
        reason = outcome(bad)
        assert isinstance(reason, str), label
        assert expected in reason, (label, reason)
        assert isinstance(outcome(after), Event), label
    assert isinstance(outcome(lines[0]), Event)
    assert all(line.fmt == "jsonl" and line.file == "-" for line in lines)


def test_a_huge_line_is_not_kept_whole():
    line = read(purchase(note="x" * BIG) + b"\n" + good(1))[0]
    assert line.code == "too_long" and line.value is None
    assert len(line.text) == 1000 and line.text.startswith('{"id": "b1"')
    assert "(the rejected file keeps its first 1000 bytes)" in line.problem  # type: ignore[operator]


def test_a_huge_line_is_read_when_the_limit_allows_it():
    (line,) = read(purchase(note="x" * BIG), max_line_bytes=2 * BIG)
    assert isinstance(outcome(line), Event) and len(line.value["note"]) == BIG  # type: ignore[index]


def test_a_huge_line_without_any_line_break_at_the_end_of_the_file():
    lines = read(good(1) + b"\n" + b"y" * (3 * 1024 * 1024))
    assert [line.code for line in lines] == [None, "too_long"]
    assert "3145728 bytes long" in lines[1].problem  # type: ignore[operator]


def test_a_bom_before_a_long_last_line():
    (line,) = read(b"\xef\xbb\xbf" + b"x" * 100, fmt="jsonl", max_line_bytes=98)
    assert line.code == "too_long" and line.text == "x" * 100


def test_a_comma_between_numbers_is_not_always_a_decimal_comma():
    (line,) = read(b'{"a": 1, 2}')
    assert line.problem == "not valid JSON: Expecting property name enclosed in double quotes at column 10"


def test_invalid_utf8_text_is_replaced_so_it_can_be_written():
    (line,) = read(b'{"id": "\xff"}')
    assert line.text == '{"id": "\ufffd"}' and line.problem.startswith("invalid UTF-8 at byte 9 (0xff)")  # type: ignore[union-attr]
    line.text.encode("utf-8")


def test_numbers_are_exact_decimals_and_integers_stay_integers():
    (line,) = read(b'{"a": 0.1, "b": 17, "c": 2.490E+2, "d": -0}')
    assert line.value == {"a": Decimal("0.1"), "b": 17, "c": Decimal("249.0"), "d": 0}
    assert type(line.value["a"]) is Decimal and type(line.value["b"]) is int  # type: ignore[index]


def test_an_integer_of_thousands_of_digits_is_a_problem_not_a_crash():
    (line,) = read(b'{"a": ' + b"9" * 5000 + b"}")
    assert line.code == "bad_number" and "5000 digits" in line.problem  # type: ignore[operator]


def test_deep_nesting_is_a_problem_not_a_crash():
    (line,) = read(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert line.value is None and line.problem


# ---------------------------------------------------------------------------- CSV

BAD_CSV = [
    ("a decimal comma with ; as the delimiter", "b1;purchase;c1;{t};249,00;SEK;books;2", ";",
     'a number with a decimal comma: decimals are written with a point: write "249.00"'),
    ("a decimal comma that splits a cell", "b1,purchase,c1,{t},249,00,SEK,books,2", ",",
     "the row has 9 cells but the header has 8 columns: is 249,00 a number with a decimal comma?"),
    ("too many cells", "b1,purchase,c1,{t},249.00,SEK,books,2,extra", ",",
     "the row has 9 cells but the header has 8 columns: put a cell that contains ',' in double quotes"),
    ("too few cells", "b1,purchase,c1,{t}", ",", "the row has 4 cells but the header has 8 columns"),
    ("only empty cells", ",,,,,,,", ",", "the row has only empty cells"),
    ("text after a closing quote", 'b1,"purchase"x,c1,{t},249.00,SEK,books,2', ",", "a quoted cell is closed at column 13"),
    ("an unknown type", "b1,purchse,c1,{t},249.00,SEK,books,2", ",", 'did you mean "purchase"?'),
    ("a time without offset", "b1,purchase,c1,2026-03-01T10:15:00,249.00,SEK,books,2", ",", "which has no offset"),
    ("a number that is not one", "b1,purchase,c1,{t},249.00,SEK,books,two", ",", '`items` is "two", which is not a number'),
    ("a foreign currency", "b1,purchase,c1,{t},249.00,EUR,books,2", ",", "but the programme counts in SEK"),
    ("a missing value", "b1,purchase,c1,{t},,SEK,books,2", ",", "the purchase event has no `amount`"),
    ("invalid UTF-8", "b1,purchase,c1,{t},249.00,SEK,b\udcf6cker,2", ",", "invalid UTF-8 at byte 54 (0xf6)"),
    ("a 10 MB line", "b1,purchase,c1,{t},249.00,SEK," + "x" * BIG + ",2", ",", f"the line is {BIG + 54} bytes long"),
    ("a quote never closed", 'b1,purchase,c1,{t},249.00,SEK,"books,2', ",", "opens a cell that is never closed"),
]


@pytest.mark.parametrize(("label", "row", "delimiter", "expected"), BAD_CSV, ids=[case[0] for case in BAD_CSV])
def test_every_bad_csv_row_yields_one_line_that_ends_rejected_with_its_reason(label, row, delimiter, expected):
    def line(text: str) -> bytes:
        return text.replace("{t}", TIME).encode("utf-8", errors="surrogateescape")

    good_row = f"g1,purchase,c1,{TIME},249.00,SEK,books,2"
    data = b"\n".join(line(text.replace(",", delimiter)) if text is not row else line(text)
                      for text in (HEADER, good_row, row, good_row.replace("g1", "g2"))) + b"\n"
    lines = read(data, csv_delimiter=delimiter)
    assert [item.line_number for item in lines] == [2, 3, 4]
    assert isinstance(outcome(lines[0]), Event) and isinstance(outcome(lines[2]), Event)
    reason = outcome(lines[1])
    assert isinstance(reason, str) and expected in reason, reason
    assert line(row).decode("utf-8", errors="replace").startswith(lines[1].text)


def test_a_decimal_comma_gets_the_same_reason_from_csv_and_from_json():
    (from_csv,) = read(f"{HEADER.replace(',', ';')}\nb1;purchase;c1;{TIME};249,00;SEK;books;2\n".encode(),
                       csv_delimiter=";")
    (from_json,) = read(purchase(amount="249,00"))
    assert outcome(from_csv) == outcome(from_json)
    assert "decimal comma" in outcome(from_csv)  # type: ignore[operator]


CSV_EVENTS = f"""\
id;type;customer;time;amount;currency;category;items;tags;gift;city
e1;purchase;c1;{TIME};249.00;SEK;books;2;"[""gift"", ""sale""]";TRUE;
e2;purchase;c2;2026-03-02T09:00:00Z;49.9;;"games, board";1;;;
e3;review;c1;2026-03-03T12:00:00+01:00;;;;;;;
e4;profile;c1;2026-03-04T12:00:00+01:00;;;;;;;Malmö
17;purchase;c1;2026-03-05T12:00:00+01:00;1000;sek;"two
lines";3;[];false;
"""

JSONL_EVENTS = [
    {"id": "e1", "type": "purchase", "customer": "c1", "time": TIME, "amount": "249.00", "currency": "SEK",
     "category": "books", "items": "2", "tags": '["gift", "sale"]', "gift": "TRUE"},
    {"id": "e2", "type": "purchase", "customer": "c2", "time": "2026-03-02T09:00:00Z", "amount": "49.9",
     "category": "games, board", "items": "1"},
    {"id": "e3", "type": "review", "customer": "c1", "time": "2026-03-03T12:00:00+01:00"},
    {"id": "e4", "type": "profile", "customer": "c1", "time": "2026-03-04T12:00:00+01:00", "city": "Malmö"},
    {"id": "17", "type": "purchase", "customer": "c1", "time": "2026-03-05T12:00:00+01:00", "amount": "1000",
     "currency": "sek", "category": "two\nlines", "items": "3", "tags": "[]", "gift": "false"},
]


def test_csv_and_jsonl_of_the_same_events_give_equal_dicts_and_equal_validator_results():
    from_csv = read(CSV_EVENTS.encode(), csv_delimiter=";")
    from_json = read(b"\n".join(json.dumps(e, ensure_ascii=False).encode() for e in JSONL_EVENTS))
    assert [line.value for line in from_csv] == JSONL_EVENTS == [line.value for line in from_json]
    results_csv = [VALIDATOR.validate(line.value) for line in from_csv]
    results_json = [VALIDATOR.validate(line.value) for line in from_json]
    assert results_csv == results_json
    assert isinstance(results_csv[2], Rejection) and "no `stars`" in results_csv[2].reason
    assert [type(r) for r in results_csv] == [Event, Event, Rejection, Event, Event]
    assert results_csv[0].fields["tags"] == ("gift", "sale") and results_csv[0].fields["gift"] is True  # type: ignore[union-attr]
    assert [line.line_number for line in from_csv] == [2, 3, 4, 5, 6]


def test_csv_and_json_numbers_give_equal_fields():
    """A JSON number and the same number as CSV text type alike (their fingerprints differ: a
    string is not the same JSON value as a number)."""
    (from_csv,) = read(f"{HEADER}\ne1,purchase,c1,{TIME},249.00,SEK,books,2\n".encode())
    (from_json,) = read(b'{"id": "e1", "type": "purchase", "customer": "c1", "time": "%s", "amount": 249.00, '
                        b'"currency": "SEK", "category": "books", "items": 2}' % TIME.encode())
    csv_event, json_event = VALIDATOR.validate(from_csv.value), VALIDATOR.validate(from_json.value)
    assert isinstance(csv_event, Event) and isinstance(json_event, Event)
    assert dict(csv_event.fields) == dict(json_event.fields) == {
        "amount": Decimal("249.00"), "category": "books", "items": Decimal(2)}
    assert (csv_event.id, csv_event.time) == (json_event.id, json_event.time)


def test_a_quoted_cell_with_line_breaks_is_one_record_numbered_where_it_starts():
    data = (f"{HEADER}\r\n\r\n"
            f'e1,purchase,c1,{TIME},1,SEK,"first\r\n\r\nsecond ""quoted""",2\r\n'
            f"e2,purchase,c1,{TIME},1,SEK,books,2\r\n").encode()
    first, second = read(data)
    assert (first.line_number, second.line_number) == (3, 6)
    assert first.value["category"] == 'first\r\n\r\nsecond "quoted"'  # type: ignore[index]
    assert first.text == f'e1,purchase,c1,{TIME},1,SEK,"first\r\n\r\nsecond ""quoted""",2'
    assert second.text == f"e2,purchase,c1,{TIME},1,SEK,books,2"


def test_an_unclosed_quote_rejects_its_line_and_reading_goes_on():
    data = f'{HEADER}\ne1,purchase,c1,{TIME},1,SEK,"books,2\ne2,purchase,c1,{TIME},1,SEK,books,2\n'.encode()
    first, second = read(data)
    assert first.line_number == 2 and first.code == "csv_quote"
    assert "the quote at column 48 opens a cell that is never closed" in first.problem  # type: ignore[operator]
    assert second.line_number == 3 and isinstance(outcome(second), Event)


def test_an_unclosed_quote_is_given_up_at_the_size_limit():
    body = "\n".join("x" * 99 for _ in range(30))
    data = f'{HEADER}\ne1,purchase,c1,{TIME},1,SEK,"books\n{body}\n'.encode()
    lines = read(data, max_line_bytes=1000)
    assert lines[0].code == "csv_quote" and len(lines) == 31
    assert [line.line_number for line in lines] == list(range(2, 33))


def test_empty_cells_are_absent_keys_and_cells_are_not_trimmed():
    (line,) = read(f"id,type,customer,time,amount,note\ne1, purchase,c1,{TIME},,\n".encode())
    assert line.value == {"id": "e1", "type": " purchase", "customer": "c1", "time": TIME}


def test_a_quote_inside_an_unquoted_cell_is_text():
    (line,) = read(f'id,type,customer,time,note\ne1,x,c1,{TIME},5" screen\n'.encode())
    assert line.value["note"] == '5" screen'  # type: ignore[index]


def test_a_tab_delimiter():
    (line,) = read(f"id\ttype\tcustomer\ttime\ne1\tx\tc1\t{TIME}\n".encode(), csv_delimiter="\t")
    assert line.value == {"id": "e1", "type": "x", "customer": "c1", "time": TIME}


def test_a_csv_file_with_a_header_only_or_nothing_has_no_lines():
    assert read(f"{HEADER}\n".encode(), fmt="csv") == []
    assert read(b"", fmt="csv") == []
    assert read(b"\n \n", fmt="csv") == []


@pytest.mark.parametrize(("header", "delimiter", "expected"), [
    ("id,type,customer", ",", "has no column time"),
    ("id;type;customer;time", ",", "looks separated by ';': pass --csv-delimiter ';'"),
    ("id,type,customer,time,", ",", "no name in column 5"),
    ("id, type,customer,time", ",", 'spaces around the column name " type"'),
    ("id,type,customer,time,id", ",", 'names the column "id" twice'),
    ('id,"type,customer,time', ",", "never closed"),
    ("[1, 2]", ",", "the file looks like JSON"),
    ("id,typ\xe9,customer,time", ",", "invalid UTF-8"),
])
def test_a_bad_csv_header_is_an_input_error(header, delimiter, expected):
    with pytest.raises(InputError) as caught:
        open_events("-", stdin=io.BytesIO(header.encode("latin-1") + b"\nrow\n"), fmt="csv", csv_delimiter=delimiter)
    assert str(caught.value).startswith("standard input:1: the CSV header")
    assert expected in str(caught.value)


# ---------------------------------------------------------------------------- files, BOM, stdin

def test_a_bom_and_crlf_line_endings_in_jsonl():
    lines = read(b"\xef\xbb\xbf" + good(1) + b"\r\n\r\n" + good(2) + b"\r\n")
    assert [line.line_number for line in lines] == [1, 3]
    assert all(isinstance(outcome(line), Event) for line in lines)
    assert lines[0].text == good(1).decode()


def test_a_bom_and_crlf_line_endings_in_csv():
    (line,) = read(b"\xef\xbb\xbf" + f"{HEADER}\r\ne1,purchase,c1,{TIME},1,SEK,books,2\r\n".encode())
    assert line.fmt == "csv" and line.value["id"] == "e1" and line.value["items"] == "2"  # type: ignore[index]


@pytest.mark.parametrize(("data", "fmt"), [
    (b"\n  \n" + good(1), "jsonl"),
    (b"\xef\xbb\xbf  " + good(1), "jsonl"),
    (f"{HEADER}\ne1,purchase,c1,{TIME},1,SEK,books,2".encode(), "csv"),
    (f'"id","type","customer","time"\ne1,purchase,c1,{TIME}'.encode(), "csv"),
])
def test_stdin_is_sniffed_by_its_first_non_blank_byte(data, fmt):
    (line,) = read(data)
    assert line.fmt == fmt and line.file == "-" and line.value["id"] in ("g1", "e1")  # type: ignore[index]


def test_stdin_defaults_to_sys_stdin_buffer(monkeypatch):
    class Stdin:
        buffer = io.BytesIO(good(1))

    monkeypatch.setattr("sys.stdin", Stdin())
    (line,) = open_events("-")
    assert line.value["id"] == "g1"  # type: ignore[index]


def test_format_by_extension():
    assert [format_of(name) for name in ("a.csv", "A.CSV", "a.jsonl", "a.json", "a.ndjson", "a.txt", "a", "-")] == [
        "csv", "csv", "jsonl", "jsonl", "jsonl", "jsonl", "jsonl", None]
    assert format_of("a.csv", "jsonl") == "jsonl"


def test_files_are_read_by_their_extension(tmp_path: Path):
    (tmp_path / "e.csv").write_bytes(f"{HEADER}\ne1,purchase,c1,{TIME},1,SEK,books,2\n".encode())
    (tmp_path / "e.ndjson").write_bytes(good(1) + b"\n")
    (csv_line,) = open_events(str(tmp_path / "e.csv"))
    (json_line,) = open_events(str(tmp_path / "e.ndjson"))
    assert (csv_line.fmt, csv_line.file) == ("csv", str(tmp_path / "e.csv"))
    assert (json_line.fmt, json_line.value["id"]) == ("jsonl", "g1")  # type: ignore[index]


@pytest.mark.parametrize(("setup", "expected"), [
    (lambda p: None, "no such file: check the path"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"\x1f\x8b\x08\x00rest"), "is compressed (gzip)"),
    (lambda p: p.write_bytes(b"PK\x03\x04rest"), "is a zip file (an Excel workbook?)"),
    (lambda p: p.write_bytes("\ufeff{}".encode("utf-16")), "is UTF-16 text: save it as UTF-8"),
])
def test_a_file_that_cannot_be_read_is_an_input_error_raised_by_open_events(tmp_path: Path, setup, expected):
    path = tmp_path / "events.jsonl"
    setup(path)
    with pytest.raises(InputError, match=r"events\.jsonl") as caught:
        open_events(str(path))
    assert expected in str(caught.value)


@pytest.mark.parametrize(("options", "expected"), [
    ({"fmt": "json"}, "unknown format 'json': use jsonl or csv"),
    ({"csv_delimiter": ";;"}, "is not one character"),
    ({"csv_delimiter": "\\t"}, "a real tab character"),
    ({"csv_delimiter": ""}, "is not one character"),
    ({"csv_delimiter": '"'}, "cannot be"),
])
def test_bad_options_are_input_errors(options, expected):
    with pytest.raises(InputError) as caught:
        open_events("-", stdin=io.BytesIO(b""), **options)
    assert expected in str(caught.value)


def test_a_read_error_in_mid_file_is_an_input_error():
    class Failing(io.BytesIO):
        def readline(self, size: int | None = -1) -> bytes:  # type: ignore[override]
            if self.tell():
                raise OSError(5, "Input/output error")
            return super().readline(size)

    lines = open_events("-", stdin=Failing(good(1) + b"\n" + good(2)))
    assert next(lines).line_number == 1
    with pytest.raises(InputError, match="reading failed at line 2 .Input/output error."):
        next(lines)


def test_a_file_is_closed_when_reading_ends(tmp_path: Path, monkeypatch):
    path = tmp_path / "e.jsonl"
    path.write_bytes(good(1) + b"\n" + good(2))
    opened = []
    real_open = open

    def spy(*args, **kwargs):
        opened.append(real_open(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr("builtins.open", spy)
    lines = open_events(str(path))
    next(lines)
    lines.close()  # type: ignore[attr-defined]
    assert opened[0].closed
    list(open_events(str(path)))
    assert opened[1].closed


# ---------------------------------------------------------------------------- any bytes

SIGNATURES = (b"\x1f\x8b", b"PK\x03\x04", b"\xff\xfe", b"\xfe\xff")
JUNK = st.lists(st.one_of(st.binary(max_size=40), st.sampled_from(
    [b"\n", b"\r\n", b'"', b",", b";", b"{", b"}", b"NaN", b"1e999", b"\xef\xbb\xbf", b"\xff", b" ", good(1)])),
    max_size=30).map(b"".join)


def physical_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]
    return lines


@settings(deadline=None)
@given(JUNK)
def test_any_bytes_as_jsonl_give_one_line_per_non_blank_line_and_never_raise(data):
    if data.startswith(SIGNATURES):
        with pytest.raises(InputError):
            read(data, fmt="jsonl")
        return
    lines = read(data, fmt="jsonl", max_line_bytes=64)
    expected = [n for n, line in enumerate(physical_lines(data), 1) if line.strip()]
    assert [line.line_number for line in lines] == expected
    for line in lines:
        assert (line.value is None) == (line.problem is not None) == (line.code is not None)
        line.text.encode("utf-8")
        VALIDATOR.validate(line.value)


@settings(deadline=None)
@given(JUNK)
def test_any_bytes_after_a_good_csv_header_are_read_record_by_record_and_never_raise(data):
    lines = read(b"id,type,customer,time\n" + data, fmt="csv", max_line_bytes=64)
    covered: list[int] = []
    for line in lines:
        span = range(line.line_number, line.line_number + line.text.count("\n") + 1)
        assert not covered or span[0] > covered[-1]
        covered.extend(span)
        assert (line.value is None) == (line.problem is not None) == (line.code is not None)
        line.text.encode("utf-8")
        VALIDATOR.validate(line.value)
    non_blank = {n for n, line in enumerate(physical_lines(b"header\n" + data), 1) if line.strip() and n > 1}
    assert non_blank <= set(covered)


@settings(deadline=None)
@given(JUNK)
def test_any_bytes_on_stdin_give_lines_or_an_input_error(data):
    try:
        lines = read(data)
    except InputError as error:
        assert str(error).startswith("standard input")
        return
    assert all(isinstance(line, InputLine) for line in lines)


CELL = st.text(st.sampled_from('ab ,;"\n\t\u00e5\U0001f600'), min_size=1, max_size=8)


@settings(deadline=None)
@given(st.lists(st.tuples(CELL, CELL, CELL, CELL), max_size=6), st.sampled_from([",", ";", "\t"]),
       st.sampled_from(["\r\n", "\n"]))
def test_what_pythons_csv_writer_writes_reads_back_cell_for_cell(rows, delimiter, terminator):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=terminator)
    writer.writerow(["id", "type", "customer", "time"])
    writer.writerows(rows)
    text = out.getvalue()
    if any(not line.strip() for line in text.split(terminator)[1:-1]):
        return  # a row that writes as white space only is a blank line, skipped
    lines = read(text.encode(), fmt="csv", csv_delimiter=delimiter)
    assert [line.value for line in lines] == [dict(zip(("id", "type", "customer", "time"), row)) for row in rows]
    starts = [1 + text[: text.index(terminator)].count("\n")]
    for row in rows[:-1]:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator=terminator).writerow(row)
        starts.append(starts[-1] + buffer.getvalue().count("\n"))
    assert [line.line_number for line in lines] == [s + 1 for s in starts[: len(rows)]]
