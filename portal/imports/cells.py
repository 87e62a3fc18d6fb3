"""Reading typed values out of table cells (text, numbers, dates, codes), the same way in
every import. Each raises ``ValueError`` on a value it cannot read."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale

from portal.config import SUPPORTED_LOCALES
from portal.imports.table import text

MAX_INT = 2**31 - 1  # ids are 32-bit integers in PostgreSQL
# A plain decimal number, ASCII digits only (no "1_0", no "1e5", no other scripts' digits).
DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)


def code_lookup(labels: dict[str, Any]) -> dict[str, str]:
    """Codes, and the labels in every language (case-insensitive), to codes."""
    lookup = {code: code for code in labels}
    for code, label in labels.items():
        lookup.setdefault(str(label).strip().lower(), code)
    for locale in SUPPORTED_LOCALES:
        with force_locale(locale):
            for code, label in labels.items():
                lookup.setdefault(str(label).strip().lower(), code)
    return lookup


def parse_date(value: Any) -> date:
    """A date cell, or ISO (``2025-06-30``), ``30.06.2025`` or ``30/06/2025``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    written = text(value)
    for parse in (date.fromisoformat, lambda t: datetime.fromisoformat(t).date()):
        try:
            return parse(written)
        except ValueError:
            pass
    for pattern in ("%d.%m.%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(written, pattern).date()
        except ValueError:
            pass
    raise ValueError(written)


def parse_int(value: Any) -> int:
    """A whole number (``5``, ``5.0``, ``"5"``) small enough for a database column."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        value = int(value)
    if not isinstance(value, int):
        written = text(value)
        if not re.fullmatch(r"[+-]?\d{1,12}(\.0*)?", written):
            raise ValueError(written)
        value = int(written.split(".")[0])
    if abs(value) > MAX_INT:
        raise ValueError(value)
    return value


def parse_float(value: Any) -> float:
    """A number cell, or a plain decimal with a point or a comma."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return float(value)
    written = text(value).replace(",", ".")
    if not DECIMAL.fullmatch(written):
        raise ValueError(written)
    return float(written)
