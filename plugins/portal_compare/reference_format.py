"""The two file formats of reference portfolios (see docs/reference-portfolios.md), what a
checked file becomes, and the numbers in its cells.

* ``clusters``: one row per anonymous cluster and indicator (columns ``cluster``,
  ``indicator``, ``value``). The lights come from the indicator set version's thresholds;
  the rows are aggregated per indicator on import (:func:`portal_compare.stats.summarise`)
  and only the aggregates are stored, never the rows.
* ``aggregates``: one row per indicator (``indicator``, ``count``, ``q1``, ``median``,
  ``q3``, optional ``min``, ``max``, ``red``, ``yellow``, ``green`` and ``clusters``). Shares
  are numbers from 0 to 1, or percentages written with a percent sign ("25%"). This is also
  the export's format (:mod:`portal_compare.reference_export`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from portal.toolkit import ImportProblem, _l, cell_text, parse_float, parse_int

Problem = ImportProblem

KINDS = ("clusters", "aggregates")
KIND_LABELS = {
    "clusters": _l("One row per cluster and indicator (values)"),
    "aggregates": _l("One row per indicator (count, quartiles, light shares)"),
}
CLUSTER_COLUMNS = ("cluster", "indicator", "value", "indicator_set", "version")
CLUSTER_REQUIRED = ("cluster", "indicator", "value")
AGGREGATE_COLUMNS = (
    "indicator",
    "count",
    "min",
    "q1",
    "median",
    "q3",
    "max",
    "red",
    "yellow",
    "green",
    "clusters",
    "indicator_set",
    "version",
)
AGGREGATE_REQUIRED = ("indicator", "count", "q1", "median", "q3")
SHARE_COLUMNS = ("red", "yellow", "green")
ORDER = ("min", "q1", "median", "q3", "max")

MAX_ROWS = 50_000
MAX_FILE_BYTES = 10 * 1024 * 1024  # as uploaded
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # an XLSX file, unpacked (zip bombs)
MAX_COUNT = 1_000_000  # clusters behind one aggregate
NAME_LIMIT = 200
LABEL_LIMIT = 100
SHARE_TOLERANCE = 0.02  # shares given to two decimals add up to 0.98 .. 1.02
PERCENT = re.compile(r"(?P<number>.*?)\s*%", re.DOTALL)


@dataclass
class Aggregate:
    """One indicator's aggregate as it will be stored."""

    indicator_id: str
    line: int | None  # the first row it came from
    count: int
    minimum: float | None
    q1: float
    median: float
    q3: float
    maximum: float | None
    red: float | None = None
    yellow: float | None = None
    green: float | None = None

    def share(self, light: str) -> float | None:
        return getattr(self, light)

    def stored(self) -> list[Any]:
        """What is written (and what the preview's digest covers)."""
        return [
            self.indicator_id,
            self.count,
            self.minimum,
            self.q1,
            self.median,
            self.q3,
            self.maximum,
            self.red,
            self.yellow,
            self.green,
        ]


@dataclass
class Outcome:
    kind: str
    errors: list[Problem] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)
    cluster_count: int = 0
    rows: int = 0
    written: bool = False
    portfolio_id: int | None = None
    name: str = ""
    indicator_set: Any = None


# --- numbers ---------------------------------------------------------------------------------


def number(value: Any) -> float:
    """A finite decimal number (a decimal comma is fine); ``ValueError`` otherwise."""
    try:
        result = parse_float(value)
    except OverflowError:
        raise ValueError(value) from None
    if not math.isfinite(result):
        raise ValueError(value)
    return result


def whole(value: Any) -> int:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(value)
    return parse_int(value)


def share(value: Any) -> float:
    """A share 0..1, or a percentage with a percent sign ("25%", "25,5 %")."""
    if isinstance(value, str) and (match := PERCENT.fullmatch(value.strip())):
        result = number(match.group("number")) / 100
    else:
        result = number(value)
    if not 0 <= result <= 1:
        raise ValueError(value)
    return result


def shown(value: Any) -> str:
    """A cell as a message quotes it."""
    return cell_text(value)[:100]
