"""The core's one table reader (CSV and XLSX) and the faithful writers it pairs with."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest

from portal.imports.table import FileProblem, read_table, table_problems
from portal.plans.spreadsheets import to_csv, to_xlsx

TRICKY = [
    "  leading and trailing  ",
    "Bodø – Tromsø ÆØÅ 日本",
    "007",
    "=1+1",
    "-3",
    "'quoted",
    "''=both",
    "line\r\nbreak\rand\nmore",
    "tab\there",
    "_x0041_ literal",
    "bell\x07",
    "+47 123",
    "@home",
]


def _read(raw: bytes, **kw):
    return read_table(raw, max_rows=kw.pop("max_rows", 100), **kw)


@pytest.mark.parametrize("writer", ["csv", "xlsx"])
def test_text_survives_a_round_trip_exactly(app, writer):
    header = ["a", "b"]
    rows = [[value, len(value)] for value in TRICKY] + [["dated", date(2024, 2, 29)]]
    with app.app_context():
        data = to_csv(header, rows) if writer == "csv" else to_xlsx([("S", header, rows)])
        table = _read(data)
    assert table.header == header
    texts = [record[0] for _line, record in table.rows]
    assert texts == [*TRICKY, "dated"]
    last = table.rows[-1][1][1]
    assert last in ("2024-02-29", datetime(2024, 2, 29))


@pytest.mark.parametrize(
    "raw",
    [
        b"name;member_type\nA;other\n",
        b"name\tmember_type\nA\tother\n",
        "name,member_type\r\nA,other\r\n".encode("utf-8-sig"),
        "name,member_type\nA,other\n".encode("utf-16"),
    ],
)
def test_csv_delimiters_and_encodings(app, raw):
    with app.app_context():
        table = _read(raw)
    assert table.header == ["name", "member_type"]
    assert table.rows == [(2, ["A", "other"])]


def test_header_is_the_first_non_blank_row_and_blank_rows_are_skipped(app):
    raw = b"\n,,\n Name , MEMBER_TYPE ,,\n\nA,other\n,\n"
    with app.app_context():
        table = _read(raw)
    assert table.header_line == 3 and table.header == ["name", "member_type"]
    assert table.rows == [(5, ["A", "other"])]


@pytest.mark.parametrize(
    "raw,message",
    [
        (b"", "empty"),
        (b"  \n \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "neither"),
        (b"\xff\xfeA\x00\x00\xd8", "neither"),
        (b"PK\x03\x04broken", "not a readable Excel"),
        (b"a\n" + b"x\n" * 11, "more than 10 rows"),
        (b'a,b\n"unclosed\n', None),
    ],
)
def test_files_that_cannot_be_read(app, raw, message):
    with app.app_context():
        try:
            _read(raw, max_rows=10)
        except FileProblem as exc:
            assert message and message in exc.message
        else:
            assert message is None


def test_size_limits(app):
    with app.app_context():
        with pytest.raises(FileProblem, match="larger than 1 MB"):
            _read(b"a\n" + b"x" * (1024 * 1024), max_bytes=1024 * 1024)
        big = io.BytesIO()
        with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "0" * 200_000)
        with pytest.raises(FileProblem, match="too large when unpacked"):
            _read(big.getvalue(), max_unpacked=100_000)


def test_rows_marked_as_examples_are_found_and_the_column_taken_out(app):
    raw = b"name,example,member_type\nA,EXAMPLE,other\nB,,other\n"
    with app.app_context():
        table = _read(raw)
        problems = table_problems(table, ["name", "member_type"], ["name"])
    assert table.header == ["name", "member_type"]
    assert table.rows == [(2, ["A", "other"]), (3, ["B", "other"])]
    assert table.example_lines == [2]
    assert [(p.row, p.column) for p in problems] == [(2, "example")]


def test_header_problems(app):
    with app.app_context():
        table = _read(b"name,name,colour\nA,B,red\n")
        problems = table_problems(table, ["name", "member_type"], ["member_type"])
        no_rows = table_problems(_read(b"name\n\n"), ["name"], ["name"])
    messages = " ".join(p.message for p in problems)
    assert "missing" in messages and "Unknown column" in messages and "twice" in messages
    assert [p.message for p in no_rows] == ["The file has a header but no rows."]


# --- counting rows without reading them (which uploads a job checks) --------------------------


def _xlsx(rows: int, *, write_only: bool, sheets: int = 1) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=write_only)
    if not write_only:
        workbook.remove(workbook.active)
    for _n in range(sheets):
        sheet = workbook.create_sheet()
        sheet.append(["name", "member_type", "city"])
        for n in range(rows):
            sheet.append([f"Member {n}", "company_sme", "Bodø"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("write_only", [True, False])
def test_the_rows_of_an_xlsx_are_counted_exactly_past_the_reads_chunks(write_only):
    from portal.imports.table import has_rows

    raw = _xlsx(9000, write_only=write_only)  # unpacked, well over one 256 KB chunk
    assert len(read_table(raw, max_rows=10_000).rows) == 9000
    assert has_rows(raw, 9001)  # the header is a row too
    assert not has_rows(raw, 9002)


def test_a_workbook_of_several_sheets_counts_high_never_low():
    from portal.imports.table import has_rows

    raw = _xlsx(100, write_only=True, sheets=2)
    assert has_rows(raw, 101) and has_rows(raw, 202) and not has_rows(raw, 203)


def test_the_lines_of_a_csv_are_counted_and_a_damaged_file_counts_none():
    from portal.imports.table import has_rows

    raw = b"name\n" + b"".join(b"Member %d\n" % n for n in range(50))
    assert has_rows(raw, 51) and not has_rows(raw, 53)
    damaged = _xlsx(100, write_only=True)[:2000]
    assert not has_rows(damaged, 1)
    assert not has_rows(zipfile.ZipFile.__name__.encode(), 2)
