"""Reading member organisations from CSV, with an error per bad row and column."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _

from portal.clusters.models import MemberType
from portal.i18n import MEMBER_TYPE_LABELS

MAX_ROWS = 10_000
REQUIRED_COLUMNS = ("name", "member_type")
OPTIONAL_COLUMNS = ("city", "website", "joined_year")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
LIMITS = {"name": 200, "city": 100, "website": 500}
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class RowError:
    row: int | None  # the line in the file (the header is line 1)
    column: str | None
    message: str


def _member_type(value: str) -> MemberType | None:
    wanted = value.strip().lower()
    for member_type in MemberType:
        if wanted in {member_type.value, str(MEMBER_TYPE_LABELS[member_type.value]).lower()}:
            return member_type
    return None


def _decode(raw: bytes) -> str | None:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    return None


def sample_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(["Nordic Ore AS", "company_large", "Mo i Rana", "https://example.com", 2016])
    writer.writerow(["Polar University", "university", "Bodø", "", 2015])
    return out.getvalue()


def parse_members_csv(
    raw: bytes, existing_names: set[str]
) -> tuple[list[dict[str, Any]], list[RowError]]:
    text = _decode(raw)
    if text is None:
        return [], [RowError(None, None, _("The file is not a UTF-8 text (CSV) file."))]
    if not text.strip():
        return [], [RowError(None, None, _("The file is empty."))]
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        return [], [RowError(None, None, _("The file has no header row."))]
    errors: list[RowError] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    for column in missing:
        errors.append(RowError(1, column, _("The column “%(column)s” is missing.", column=column)))
    for column in unknown:
        errors.append(
            RowError(
                1,
                column or "?",
                _(
                    "Unknown column “%(column)s”. Known columns: %(known)s.",
                    column=column,
                    known=", ".join(COLUMNS),
                ),
            )
        )
    if len(set(header)) != len(header):
        errors.append(RowError(1, None, _("A column appears twice in the header.")))
    if errors:
        return [], errors

    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    this_year = date.today().year
    try:
        for line_no, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                errors.append(
                    RowError(
                        line_no,
                        None,
                        _(
                            "The file has more than %(n)d rows. Split it into smaller files.",
                            n=MAX_ROWS,
                        ),
                    )
                )
                break
            if len(record) != len(header):
                errors.append(
                    RowError(
                        line_no,
                        None,
                        _(
                            "The row has %(found)d cells; the header has %(expected)d.",
                            found=len(record),
                            expected=len(header),
                        ),
                    )
                )
                continue
            cells = {k: v.strip() for k, v in zip(header, record, strict=True)}
            row, row_errors = _parse_row(line_no, cells, existing_names, seen, this_year)
            errors.extend(row_errors)
            if not row_errors:
                rows.append(row)
    except csv.Error as exc:
        errors.append(
            RowError(None, None, _("The file is not valid CSV: %(error)s", error=str(exc)))
        )
    if not rows and not errors:
        errors.append(RowError(None, None, _("The file has a header but no rows.")))
    return rows, errors


def _parse_row(line_no, cells, existing_names, seen, this_year):
    errors = []
    name = cells.get("name", "")
    if not name:
        errors.append(RowError(line_no, "name", _("The name is missing.")))
    elif name.lower() in existing_names:
        errors.append(
            RowError(
                line_no, "name", _("The cluster has a member named “%(name)s” already.", name=name)
            )
        )
    elif name.lower() in seen:
        errors.append(
            RowError(line_no, "name", _("“%(name)s” appears twice in the file.", name=name))
        )
    for column, limit in LIMITS.items():
        if len(cells.get(column, "")) > limit:
            errors.append(RowError(line_no, column, _("At most %(n)d characters.", n=limit)))
    member_type = _member_type(cells.get("member_type", ""))
    if member_type is None:
        errors.append(
            RowError(
                line_no,
                "member_type",
                _(
                    "Unknown member type “%(value)s”. Use one of: %(known)s.",
                    value=cells.get("member_type", ""),
                    known=", ".join(t.value for t in MemberType),
                ),
            )
        )
    website = cells.get("website", "")
    if website and not URL_RE.match(website):
        errors.append(
            RowError(line_no, "website", _("The website must start with http:// or https://."))
        )
    joined_year = None
    raw_year = cells.get("joined_year", "")
    if raw_year:
        if not raw_year.isdigit() or not 1800 <= int(raw_year) <= this_year:
            errors.append(
                RowError(
                    line_no,
                    "joined_year",
                    _("The year must be a number between 1800 and %(year)d.", year=this_year),
                )
            )
        else:
            joined_year = int(raw_year)
    if errors:
        return None, errors
    seen.add(name.lower())
    return {
        "name": name,
        "member_type": member_type,
        "city": cells.get("city", ""),
        "website": website,
        "joined_year": joined_year,
    }, []
