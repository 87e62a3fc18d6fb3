"""The one table reader of every import: CSV or XLSX bytes to a header and rows.

* **XLSX** (recognised by its signature): the first sheet, with a guard against zip bombs;
  cells keep their types (numbers, dates as ``datetime``, booleans, text exactly as stored,
  leading and trailing spaces included). Text escaped the OOXML way (``_x000D_`` for a
  carriage return, as Excel and :func:`portal.plans.spreadsheets.to_xlsx` write it) is
  unescaped.
* **CSV**: UTF-8 (a byte order mark is fine) or UTF-16 with its byte order mark; the
  delimiter is whichever of comma, semicolon and tab the first line uses most. A cell that
  :func:`portal.plans.spreadsheets.to_csv` protected with a leading apostrophe (one that a
  spreadsheet would run as a formula, or one starting with an apostrophe) is read back
  without it. Cells are text, as written (not stripped).

Blank rows are skipped; the first non-blank row is the header (names stripped and
lower-cased, trailing empty names dropped). An optional column ``example`` marks the rows
of an example file (any non-blank cell): it is taken out of the table and the rows are
listed in :attr:`Table.example_lines`, for the import to refuse them.

Problems of the file as a whole raise :class:`FileProblem` with a translated message.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _

EXAMPLE_COLUMN = "example"
EXAMPLE_MARK = "EXAMPLE"
# An XLSX may unpack to at most this much, in at most this many parts (zip bombs).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ENTRIES = 10_000
# Cells a spreadsheet program would run as a formula (written with a leading apostrophe in
# CSV, and read back without it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass(frozen=True)
class Problem:
    """One problem of an import file: the row (the line in the file; the header is usually
    row 1), the column, and a translated message."""

    row: int | None
    column: str | None
    message: str


class FileProblem(Exception):
    """The file as a whole cannot be read; ``message`` is translated."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.message = message
        self.row = row

    def problem(self) -> Problem:
        return Problem(self.row, None, self.message)


@dataclass
class Table:
    header_line: int
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (line, cells); never blank
    example_lines: list[int] = field(default_factory=list)

    def cells(self, record: list[Any]) -> dict[str, Any]:
        """A row by column name; missing cells are None."""
        padded = list(record) + [None] * (len(self.header) - len(record))
        return dict(zip(self.header, padded, strict=False))

    def too_long(self, record: list[Any]) -> bool:
        """Whether the row has filled cells beyond the header."""
        return any(not is_blank(v) for v in record[len(self.header) :])


# --- cells -----------------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    """A cell as stripped text: numbers without a needless ``.0``, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def raw_text(value: Any) -> str:
    """A cell as text exactly as written (free text keeps its spaces and line breaks)."""
    return value if isinstance(value, str) else text(value)


# --- problems of the header ------------------------------------------------------------------


def header_problems(table: Table, known: Iterable[str], required: Iterable[str]) -> list[Problem]:
    known, line, header = tuple(known), table.header_line, table.header
    problems = [
        Problem(line, column, _("The column “%(column)s” is missing.", column=column))
        for column in required
        if column not in header
    ]
    problems += [
        Problem(
            line,
            column[:100] or "?",
            _(
                "Unknown column “%(column)s”. Known columns: %(known)s.",
                column=column[:100],
                known=", ".join(known),
            ),
        )
        for column in header
        if column not in known
    ]
    if len(set(header)) != len(header):
        problems.append(Problem(line, None, _("A column appears twice in the header.")))
    return problems


def table_problems(table: Table, known: Iterable[str], required: Iterable[str]) -> list[Problem]:
    """The header's problems; else a file without rows; else its example rows."""
    problems = header_problems(table, known, required)
    if problems:
        return problems
    if not table.rows:
        return [Problem(None, None, _("The file has a header but no rows."))]
    return example_problems(table)


def row_too_long(table: Table, line: int, record: list[Any]) -> Problem | None:
    if not table.too_long(record):
        return None
    return Problem(
        line,
        None,
        _(
            "The row has %(found)d cells; the header has %(expected)d.",
            found=len(record),
            expected=len(table.header),
        ),
    )


def example_problems(table: Table) -> list[Problem]:
    """One problem per row of an example file: example data must never pass for real."""
    return [
        Problem(
            line,
            EXAMPLE_COLUMN,
            _(
                "This row is example data (marked %(mark)s): replace it with real data or "
                "delete it.",
                mark=EXAMPLE_MARK,
            ),
        )
        for line in table.example_lines
    ]


# --- reading ---------------------------------------------------------------------------------


def _unescape(value: Any) -> Any:
    if isinstance(value, str) and "_x" in value:
        return OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    return value


def _xlsx_records(raw: bytes, max_col: int, max_unpacked: int) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    not_xlsx = _("The file is not a readable Excel (XLSX) file.")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ENTRIES or sum(e.file_size for e in entries) > max_unpacked:
                raise FileProblem(_("The Excel file is too large when unpacked."))
    except FileProblem:
        raise
    except Exception:  # BadZipFile, and whatever a damaged directory raises
        raise FileProblem(not_xlsx) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a broken or foreign archive
        raise FileProblem(not_xlsx) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise FileProblem(not_xlsx)
        try:
            for row in sheet.iter_rows(values_only=True, max_col=max_col):
                yield [_unescape(v) for v in row]
        except FileProblem:
            raise
        except Exception:
            raise FileProblem(not_xlsx) from None
    finally:
        workbook.close()


def _decode(raw: bytes) -> str:
    neither = _("The file is neither an Excel (XLSX) file nor a UTF-8 text (CSV) file.")
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        decoded = raw.decode(encoding)
    except UnicodeDecodeError:
        raise FileProblem(neither) from None
    if "\x00" in decoded:
        raise FileProblem(neither)
    # Bytes that merely start like UTF-16 decode to "text" too; a real file's header (the
    # column names of every import are ASCII) tells them apart.
    if encoding == "utf-16" and not decoded.lstrip().split("\n", 1)[0].isascii():
        raise FileProblem(neither)
    return decoded


def _unprotect(cell: str) -> str:
    if cell.startswith("'") and cell[1:].startswith((*FORMULA_START, "'")):
        return cell[1:]
    return cell


def _csv_records(raw: bytes) -> Iterator[list[Any]]:
    decoded = _decode(raw)
    first_line = decoded.lstrip().split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(decoded, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            yield [_unprotect(cell) for cell in record]
    except csv.Error as exc:
        raise FileProblem(_("The file is not valid CSV: %(error)s", error=str(exc))) from None


def records(raw: bytes, *, max_col: int = 60, max_unpacked: int = MAX_UNPACKED_BYTES):
    """Every row of the file's first sheet (XLSX, by its signature) or of the CSV."""
    if raw.startswith(b"PK\x03\x04"):
        return _xlsx_records(raw, max_col, max_unpacked)
    return _csv_records(raw)


def has_rows(raw: bytes, at_least: int, *, max_unpacked: int = MAX_UNPACKED_BYTES) -> bool:
    """Whether the file has ``at_least`` lines (CSV) or worksheet rows (XLSX), counted
    without reading a cell: the newlines, or the ``<row`` tags of the unpacked sheets
    (every sheet, so a workbook of several counts high, never low). An unreadable file
    answers False: reading it says what is wrong."""
    if not raw.startswith(b"PK\x03\x04"):
        return raw.count(b"\n") + 1 >= at_least
    found, unpacked = 0, 0
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            for entry in archive.infolist():
                if not entry.filename.startswith("xl/worksheets/"):
                    continue
                with archive.open(entry) as sheet:
                    tail = b""
                    while chunk := sheet.read(256 * 1024):
                        unpacked += len(chunk)
                        joined = tail + chunk
                        # a tag split across two chunks is counted once, in the joined part
                        found += joined.count(b"<row") + joined.count(b":row ")
                        found -= tail.count(b"<row") + tail.count(b":row ")
                        tail = chunk[-5:]
                        if found >= at_least:
                            return True
                        if unpacked > max_unpacked:
                            return False
    except Exception:  # noqa: BLE001 - a damaged archive: the reader says so in words
        return False
    return found >= at_least


def max_file_bytes() -> int:
    default = 20 * 1024 * 1024
    return current_app.config.get("FILE_MAX_BYTES", default) if has_app_context() else default


def read_table(
    raw: bytes,
    *,
    max_rows: int,
    max_bytes: int | None = None,
    max_columns: int = 40,
    max_unpacked: int = MAX_UNPACKED_BYTES,
) -> Table:
    """Read a CSV or XLSX file into a :class:`Table`; :class:`FileProblem` when the file is
    empty, too large, unreadable, or has more than ``max_rows`` rows. (A header without
    rows is :func:`table_problems`' to report.)"""
    limit = max_bytes if max_bytes is not None else max_file_bytes()
    if len(raw) > limit:
        raise FileProblem(
            _(
                "The file is larger than %(n)d MB. Split it or leave out what is not needed.",
                n=max(1, limit // (1024 * 1024)),
            )
        )
    if not raw or not raw.strip():
        raise FileProblem(_("The file is empty."))
    header_line, header, example_at = 0, None, None
    rows: list[tuple[int, list[Any]]] = []
    examples: list[int] = []
    for line, record in enumerate(records(raw, max_col=max_columns, max_unpacked=max_unpacked), 1):
        if all(is_blank(v) for v in record):
            continue
        if header is None:
            header_line, header = line, [text(h).lower() for h in record]
            while header and not header[-1]:
                header.pop()
            if EXAMPLE_COLUMN in header:
                example_at = header.index(EXAMPLE_COLUMN)
                del header[example_at]
            continue
        if example_at is not None:
            record = list(record)
            mark = record.pop(example_at) if example_at < len(record) else None
            if not is_blank(mark):
                examples.append(line)
            if all(is_blank(v) for v in record):
                continue
        record = list(record)
        while record and record[-1] is None:  # a sheet's empty cells beyond the data
            record.pop()
        if len(rows) >= max_rows:
            message = _(
                "The file has more than %(n)d rows. Split it into smaller files.", n=max_rows
            )
            raise FileProblem(message, line)
        rows.append((line, record))
    if header is None:
        raise FileProblem(_("The file is empty."))
    return Table(header_line, header, rows, examples)
