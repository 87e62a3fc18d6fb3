"""Reference portfolios from CSV or XLSX files, and the region's own published aggregates.

Two file formats (see docs/reference-portfolios.md):

* ``clusters``: one row per anonymous cluster and indicator (columns ``cluster``,
  ``indicator``, ``value``). The lights come from the indicator set version's thresholds;
  the rows are aggregated per indicator on import (:func:`portal_compare.stats.summarise`)
  and only the aggregates are stored, never the rows.
* ``aggregates``: one row per indicator (``indicator``, ``count``, ``q1``, ``median``,
  ``q3``, optional ``min``, ``max``, ``red``, ``yellow``, ``green``). Shares are numbers
  from 0 to 1, or percentages written with a percent sign ("25%").

The indicator set version is chosen with the file (optional columns ``indicator_set`` and
``version`` must then name that same version). Every row is checked first; only a file
without a single problem is written, in one transaction: all or nothing. Problems name
their row and column and are translated; a broken, foreign or oversized file is a
problem like any other, never an exception.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.toolkit import ServiceError, _, _l, db, latest_rounds
from portal_compare.models import ReferenceIndicator, ReferencePortfolio
from portal_compare.stats import LIGHTS, summarise

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
    "indicator_set",
    "version",
)
AGGREGATE_REQUIRED = ("indicator", "count", "q1", "median", "q3")
SHARE_COLUMNS = ("red", "yellow", "green")

MAX_ROWS = 50_000
MAX_FILE_BYTES = 10 * 1024 * 1024  # as uploaded
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # an XLSX file, unpacked (zip bombs)
MAX_COUNT = 1_000_000  # clusters behind one aggregate
NAME_LIMIT = 200
LABEL_LIMIT = 100
SHARE_TOLERANCE = 0.02  # shares given to two decimals add up to 0.98 .. 1.02
# A plain decimal number, ASCII digits only; a decimal comma is fine.
DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
WHOLE = re.compile(r"[+-]?\d{1,12}(\.0*)?", re.ASCII)
PERCENT = re.compile(r"(?P<number>.*?)\s*%", re.DOTALL)


@dataclass(frozen=True)
class Problem:
    """One problem of a file: the row (the header is row 1 of a file without blank lines
    before it), the column, and a translated message. Fits ``_import_errors.html``."""

    row: int | None
    column: str | None
    message: str


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


@dataclass
class Outcome:
    kind: str
    errors: list[Problem] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)
    cluster_count: int = 0
    rows: int = 0
    written: bool = False
    portfolio_id: int | None = None


class FileProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- reading ---------------------------------------------------------------------------------


def _xlsx_records(raw: bytes, max_col: int) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    not_xlsx = _("The file is not a readable Excel (XLSX) file.")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            entries = archive.infolist()
            if len(entries) > 10_000 or sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
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
                yield list(row)
        except Exception:
            raise FileProblem(not_xlsx) from None
    finally:
        workbook.close()


def _csv_records(raw: bytes) -> Iterator[list[Any]]:
    neither = _("The file is neither an Excel (XLSX) file nor a UTF-8 text (CSV) file.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(neither) from None
    if "\x00" in text:
        raise FileProblem(neither)
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:
        raise FileProblem(_("The file is not valid CSV: %(error)s", error=str(exc))) from None


def _records(raw: bytes, max_col: int) -> Iterator[list[Any]]:
    if raw.startswith(b"PK\x03\x04"):
        return _xlsx_records(raw, max_col)
    return _csv_records(raw)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as text: numbers without a needless ``.0``, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read(raw: bytes, known: tuple[str, ...]):
    """(header line, header, rows) or a Problem; at most MAX_ROWS + 1 rows are read."""
    header_line, header = 0, None
    rows: list[tuple[int, list[Any]]] = []
    try:
        for line, record in enumerate(_records(raw, len(known) + 20), start=1):
            if all(_blank(v) for v in record):
                continue
            if header is None:
                header = [_text(h).lower() for h in record]
                while header and not header[-1]:
                    header.pop()
                header_line = line
                continue
            rows.append((line, record))
            if len(rows) > MAX_ROWS:
                break
    except FileProblem as exc:
        return Problem(None, None, exc.message)
    if header is None:
        return Problem(None, None, _("The file is empty."))
    return header_line, header, rows


def _header_problems(line: int, header: list[str], known, required) -> list[Problem]:
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


# --- numbers ---------------------------------------------------------------------------------


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    try:
        if isinstance(value, int | float):
            result = float(value)
        else:
            text = _text(value).replace(",", ".")
            if not DECIMAL.fullmatch(text):
                raise ValueError(text)
            result = float(text)
    except OverflowError:
        raise ValueError(value) from None
    if not math.isfinite(result):
        raise ValueError(value)
    return result


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError(value)
        return int(value)
    if isinstance(value, int):
        return value
    text = _text(value)
    if not WHOLE.fullmatch(text):
        raise ValueError(text)
    return int(text.split(".")[0])


def _share(value: Any) -> float:
    """A share 0..1, or a percentage with a percent sign ("25%", "25,5 %")."""
    if isinstance(value, str) and (match := PERCENT.fullmatch(value.strip())):
        share = _number(match.group("number")) / 100
    else:
        share = _number(value)
    if not 0 <= share <= 1:
        raise ValueError(value)
    return share


def _shown(value: Any) -> str:
    return _text(value)[:100]


# --- checking --------------------------------------------------------------------------------


class _Checker:
    """Checks the rows of one file against one indicator set version."""

    def __init__(self, indicator_set):
        self.indicator_set = indicator_set
        self.errors: list[Problem] = []

    def error(self, line: int | None, column: str | None, message: str) -> None:
        self.errors.append(Problem(line, column, message))

    def same_set(self, line: int, cells: dict[str, Any]) -> None:
        """The optional columns indicator_set and version must name the chosen version."""
        s = self.indicator_set
        for column, wanted in (("indicator_set", s.id), ("version", s.version)):
            if column in cells and not _blank(cells[column]):
                found = _text(cells[column])
                if found != wanted:
                    self.error(
                        line,
                        column,
                        _(
                            "“%(found)s” does not match the chosen indicator set %(set)s "
                            "%(version)s.",
                            found=found[:100],
                            set=s.id,
                            version=s.version,
                        ),
                    )

    def indicator(self, line: int, cells: dict[str, Any]):
        indicator_id = _text(cells.get("indicator"))
        if not indicator_id:
            self.error(line, "indicator", _("The indicator is missing."))
            return None
        indicator = self.indicator_set.indicator(indicator_id)
        if indicator is None:
            self.error(
                line,
                "indicator",
                _(
                    "The indicator set %(set)s %(version)s has no indicator “%(id)s”.",
                    set=self.indicator_set.id,
                    version=self.indicator_set.version,
                    id=indicator_id[:100],
                ),
            )
        return indicator

    def value(self, line: int, column: str, raw: Any, indicator, required=True) -> float | None:
        """A number on the indicator's scale (``indicator`` None: any number)."""
        if _blank(raw):
            if required:
                self.error(line, column, _("The value is missing."))
            return None
        try:
            value = _number(raw)
        except (ValueError, TypeError):
            self.error(line, column, _("“%(value)s” is not a number.", value=_shown(raw)))
            return None
        if indicator is not None and not indicator.in_range(value):
            self.error(
                line,
                column,
                _(
                    "Between %(low)s and %(high)s.",
                    low=f"{indicator.minimum:g}",
                    high=f"{indicator.maximum:g}",
                ),
            )
            return None
        return value


def _cells(header: list[str], record: list[Any]) -> dict[str, Any]:
    return dict(zip(header, list(record) + [None] * (len(header) - len(record)), strict=False))


def _row_too_long(checker: _Checker, header, line, record) -> bool:
    if any(not _blank(v) for v in record[len(header) :]):
        checker.error(
            line,
            None,
            _(
                "The row has %(found)d cells; the header has %(expected)d.",
                found=len(record),
                expected=len(header),
            ),
        )
        return True
    return False


def _check_clusters(checker: _Checker, header, rows) -> tuple[list[Aggregate], int]:
    values: dict[str, dict[str, tuple[int, float]]] = {}  # indicator -> cluster -> (line, value)
    first_line: dict[str, int] = {}
    clusters: set[str] = set()
    for line, record in rows:
        if _row_too_long(checker, header, line, record):
            continue
        cells = _cells(header, record)
        checker.same_set(line, cells)
        label = _text(cells.get("cluster"))
        if not label:
            checker.error(line, "cluster", _("The cluster label is missing."))
        elif len(label) > LABEL_LIMIT:
            checker.error(line, "cluster", _("At most %(n)d characters.", n=LABEL_LIMIT))
            label = ""
        indicator = checker.indicator(line, cells)
        value = checker.value(line, "value", cells.get("value"), indicator)
        if not label or indicator is None:
            continue
        clusters.add(label)
        seen = values.setdefault(indicator.id, {})
        if label in seen:
            checker.error(
                line,
                "indicator",
                _(
                    "The cluster %(cluster)s has the indicator %(id)s twice (also in row %(row)d).",
                    cluster=label,
                    id=indicator.id,
                    row=seen[label][0],
                ),
            )
            continue
        if value is not None:
            seen[label] = (line, value)
            first_line.setdefault(indicator.id, line)
    aggregates = []
    for indicator in checker.indicator_set.indicators:
        found = values.get(indicator.id)
        if not found:
            continue
        numbers = [v for _line, v in found.values()]
        summary = summarise(numbers, [indicator.light(v) for v in numbers])
        if summary is None:  # pragma: no cover - found is never empty here
            continue
        aggregates.append(
            Aggregate(
                indicator.id,
                first_line[indicator.id],
                summary.count,
                summary.minimum,
                summary.q1,
                summary.median,
                summary.q3,
                summary.maximum,
                **{light: summary.lights[light] / summary.count for light in LIGHTS},
            )
        )
    return aggregates, len(clusters)


ORDER = ("min", "q1", "median", "q3", "max")


def _check_aggregate_row(checker: _Checker, line: int, cells: dict[str, Any]) -> Aggregate | None:
    indicator = checker.indicator(line, cells)
    raw_count = cells.get("count")
    count = None
    if _blank(raw_count):
        checker.error(line, "count", _("The count is missing."))
    else:
        try:
            count = _whole(raw_count)
        except (ValueError, TypeError):
            count = None
        if count is None or not 1 <= count <= MAX_COUNT:
            checker.error(
                line,
                "count",
                _(
                    "“%(value)s” is not a whole number of clusters (at least 1).",
                    value=_shown(raw_count),
                ),
            )
            count = None
    numbers: dict[str, float | None] = {}
    for column in ORDER:
        required = column in AGGREGATE_REQUIRED
        numbers[column] = checker.value(line, column, cells.get(column), indicator, required)
    present = [(c, numbers[c]) for c in ORDER if numbers[c] is not None]
    in_order = True
    for (low_name, low), (high_name, high) in zip(present, present[1:], strict=False):
        if low > high:
            in_order = False
            checker.error(
                line,
                high_name,
                _(
                    "%(low_name)s (%(low)s) is above %(high_name)s (%(high)s). The values "
                    "must be in order: min ≤ q1 ≤ median ≤ q3 ≤ max.",
                    low_name=low_name,
                    low=f"{low:g}",
                    high_name=high_name,
                    high=f"{high:g}",
                ),
            )
    shares: dict[str, float | None] = {}
    shares_ok = True
    for column in SHARE_COLUMNS:
        raw = cells.get(column)
        if _blank(raw):
            shares[column] = None
            continue
        try:
            shares[column] = _share(raw)
        except (ValueError, TypeError):
            shares_ok = False
            shares[column] = None
            checker.error(
                line,
                column,
                _(
                    "“%(value)s” is not a share: write a number from 0 to 1, or a percentage "
                    "with a percent sign such as 25%%.",
                    value=_shown(raw),
                ),
            )
    given = [c for c in SHARE_COLUMNS if not _blank(cells.get(c))]
    if given and len(given) < len(SHARE_COLUMNS):
        shares_ok = False
        missing = next(c for c in SHARE_COLUMNS if c not in given)
        checker.error(line, missing, _("Give all three light shares (red, yellow, green) or none."))
    elif given and shares_ok:
        total = sum(shares[c] or 0.0 for c in SHARE_COLUMNS)
        if abs(total - 1) > SHARE_TOLERANCE:
            shares_ok = False
            checker.error(
                line,
                "red, yellow, green",
                _(
                    "The light shares add up to %(total)s; they must add up to 1 (100%%).",
                    total=f"{total:.3g}",
                ),
            )
    if indicator is None or count is None or not in_order or not shares_ok:
        return None
    if any(numbers[c] is None for c in AGGREGATE_REQUIRED[2:]):
        return None
    return Aggregate(
        indicator.id,
        line,
        count,
        numbers["min"],
        numbers["q1"],
        numbers["median"],
        numbers["q3"],
        numbers["max"],
        **{light: shares[light] for light in LIGHTS},
    )


def _check_aggregates(checker: _Checker, header, rows) -> tuple[list[Aggregate], int]:
    found: dict[str, Aggregate] = {}
    seen: dict[str, int] = {}
    for line, record in rows:
        if _row_too_long(checker, header, line, record):
            continue
        cells = _cells(header, record)
        checker.same_set(line, cells)
        indicator_id = _text(cells.get("indicator"))
        if indicator_id and indicator_id in seen:
            checker.error(
                line,
                "indicator",
                _(
                    "The indicator %(id)s appears twice (also in row %(row)d).",
                    id=indicator_id[:100],
                    row=seen[indicator_id],
                ),
            )
            continue
        if indicator_id:
            seen[indicator_id] = line
        aggregate = _check_aggregate_row(checker, line, cells)
        if aggregate is not None:
            found[aggregate.indicator_id] = aggregate
    order = {i.id: n for n, i in enumerate(checker.indicator_set.indicators)}
    aggregates = sorted(found.values(), key=lambda a: order[a.indicator_id])
    return aggregates, max((a.count for a in aggregates), default=0)


def check_file(raw: bytes, kind: str, indicator_set) -> Outcome:
    """Read and check a file of the given kind; nothing is written."""
    outcome = Outcome(kind)
    if kind not in KINDS:
        outcome.errors.append(Problem(None, None, _("Choose what the file holds.")))
        return outcome
    if len(raw) > MAX_FILE_BYTES:
        outcome.errors.append(
            Problem(
                None,
                None,
                _(
                    "The file is larger than %(n)d MB. Split it or leave out what is not needed.",
                    n=MAX_FILE_BYTES // (1024 * 1024),
                ),
            )
        )
        return outcome
    if not raw or not raw.strip():
        outcome.errors.append(Problem(None, None, _("The file is empty.")))
        return outcome
    known, required = (
        (CLUSTER_COLUMNS, CLUSTER_REQUIRED)
        if kind == "clusters"
        else (AGGREGATE_COLUMNS, AGGREGATE_REQUIRED)
    )
    read = _read(raw, known)
    if isinstance(read, Problem):
        outcome.errors.append(read)
        return outcome
    header_line, header, rows = read
    outcome.rows = len(rows)
    problems = _header_problems(header_line, header, known, required)
    if problems:
        outcome.errors = problems
        return outcome
    if not rows:
        outcome.errors.append(Problem(None, None, _("The file has a header but no rows.")))
        return outcome
    if len(rows) > MAX_ROWS:
        outcome.errors.append(
            Problem(
                rows[-1][0],
                None,
                _("The file has more than %(n)d rows. Split it into smaller files.", n=MAX_ROWS),
            )
        )
        return outcome
    checker = _Checker(indicator_set)
    check = _check_clusters if kind == "clusters" else _check_aggregates
    aggregates, cluster_count = check(checker, header, rows)
    if checker.errors:
        outcome.errors = sorted(checker.errors, key=lambda e: e.row or 0)
        return outcome
    outcome.aggregates, outcome.cluster_count = aggregates, cluster_count
    return outcome


# --- names -----------------------------------------------------------------------------------


def _own_names(tenant_id: int, indicator_set) -> dict[str, ReferencePortfolio]:
    stmt = select(ReferencePortfolio).where(
        ReferencePortfolio.tenant_id == tenant_id,
        ReferencePortfolio.indicator_set == indicator_set.id,
        ReferencePortfolio.set_version == indicator_set.version,
    )
    return {p.name.strip().casefold(): p for p in db.session.scalars(stmt)}


def name_problem(tenant_id: int, name: str, indicator_set) -> str | None:
    """Why the name cannot be used (translated), or None: required, at most 200
    characters, unique in the region for the set version (ignoring case)."""
    name = (name or "").strip()
    if not name:
        return _("Give the portfolio a name.")
    if len(name) > NAME_LIMIT:
        return _("At most %(n)d characters.", n=NAME_LIMIT)
    if name.casefold() in _own_names(tenant_id, indicator_set):
        return _(
            "This region has a reference portfolio named “%(name)s” for %(set)s %(version)s "
            "already.",
            name=name,
            set=indicator_set.id,
            version=indicator_set.version,
        )
    return None


# --- writing ---------------------------------------------------------------------------------


def _portfolio(tenant_id, indicator_set, name, source, count, aggregates, user, published):
    portfolio = ReferencePortfolio(
        tenant_id=tenant_id,
        name=name,
        indicator_set=indicator_set.id,
        set_version=indicator_set.version,
        source=source,
        cluster_count=count,
        published=published,
        created_by_id=getattr(user, "id", None),
    )
    portfolio.indicators = [
        ReferenceIndicator(
            tenant_id=tenant_id,
            indicator_id=a.indicator_id,
            count=a.count,
            minimum=a.minimum,
            q1=a.q1,
            median=a.median,
            q3=a.q3,
            maximum=a.maximum,
            red_share=a.red,
            yellow_share=a.yellow,
            green_share=a.green,
        )
        for a in aggregates
    ]
    return portfolio


def import_reference(
    user,
    tenant_id: int,
    raw: bytes,
    *,
    kind: str,
    indicator_set,
    name: str,
    dry_run: bool = False,
) -> Outcome:
    """Check a file and, when it has no problem and ``dry_run`` is off, store it as a
    reference portfolio named ``name``: every indicator or none. Permissions are the
    caller's (the page requires ``compare.manage``; the demo acts as the system)."""
    outcome = check_file(raw, kind, indicator_set)
    problem = name_problem(tenant_id, name, indicator_set)
    if problem:
        outcome.errors.insert(0, Problem(None, "name", problem))
        outcome.aggregates = []
    if outcome.errors or dry_run:
        return outcome
    portfolio = _portfolio(
        tenant_id,
        indicator_set,
        name.strip(),
        kind,
        outcome.cluster_count,
        outcome.aggregates,
        user,
        published=False,
    )
    try:
        db.session.add(portfolio)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        outcome.errors.append(
            Problem(
                None,
                None,
                _(
                    "The import failed and nothing was written (perhaps someone imported a "
                    "portfolio with the same name at the same time). Try again."
                ),
            )
        )
        return outcome
    outcome.written, outcome.portfolio_id = True, portfolio.id
    return outcome


def publish_aggregates(user, tenant, indicator_set, min_group: int) -> ReferencePortfolio:
    """Publish the forum's anonymised aggregates of a set version as a reference portfolio
    other regions may pick: the newest round of each cluster, aggregated per indicator.

    Refused (``ServiceError``) when fewer than ``min_group`` clusters have a round of the
    version. Indicators with fewer values than ``min_group`` are left out, and so are the
    minimum and maximum (each is one cluster's value). Publishing again replaces the
    region's earlier published portfolio of the same set version."""
    rounds = latest_rounds(indicator_set.id, indicator_set.version)
    if len(rounds) < min_group:
        raise ServiceError(
            _(
                "Only %(n)d clusters of this forum have a round of %(set)s %(version)s; at "
                "least %(k)d are needed to publish their aggregates.",
                n=len(rounds),
                set=indicator_set.id,
                version=indicator_set.version,
                k=min_group,
            )
        )
    aggregates = []
    for indicator in indicator_set.indicators:
        present = [r.values[indicator.id] for r in rounds if indicator.id in r.values]
        summary = summarise([v for v, _light in present], [light for _v, light in present])
        if summary is None or summary.count < min_group:
            continue
        aggregates.append(
            Aggregate(
                indicator.id,
                None,
                summary.count,
                None,
                summary.q1,
                summary.median,
                summary.q3,
                None,
                **{light: summary.lights[light] / summary.count for light in LIGHTS},
            )
        )
    year = max(r.held_on for r in rounds).year
    name = f"{tenant.name} {year} ({len(rounds)})"[:NAME_LIMIT]
    existing = _own_names(tenant.id, indicator_set)
    clash = existing.get(name.casefold())
    if clash is not None and clash.source != "published":
        raise ServiceError(
            _(
                "This region has a reference portfolio named “%(name)s” already. Rename or "
                "delete it first.",
                name=name,
            )
        )
    for old in existing.values():
        if old.source == "published":
            delete_portfolio(old, commit=False)
    portfolio = _portfolio(
        tenant.id,
        indicator_set,
        name,
        "published",
        len(rounds),
        aggregates,
        user,
        published=True,
    )
    db.session.add(portfolio)
    db.session.commit()
    return portfolio


def delete_portfolio(portfolio: ReferencePortfolio, *, commit: bool = True) -> None:
    """Delete one of the region's own portfolios; its aggregates go with it (the database
    cascades the delete)."""
    db.session.delete(portfolio)
    if commit:
        db.session.commit()


# --- example files ---------------------------------------------------------------------------


def _csv(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def example_csv(kind: str, indicator_set) -> bytes:
    """A small file to start from: three indicators of the set."""
    indicators = indicator_set.indicators[:3]
    if kind == "clusters":
        rows = []
        for n in range(1, 6):
            for i, indicator in enumerate(indicators):
                span = indicator.maximum - indicator.minimum
                value = indicator.minimum + span * ((n + i) % 5) / 4
                rows.append([f"XX-{n:02d}", indicator.id, f"{value:g}"])
        return _csv(CLUSTER_REQUIRED, rows)
    rows = []
    for indicator in indicators:
        low, span = indicator.minimum, indicator.maximum - indicator.minimum
        rows.append(
            [
                indicator.id,
                "12",
                f"{low:g}",
                f"{low + span * 0.4:g}",
                f"{low + span * 0.6:g}",
                f"{low + span * 0.8:g}",
                f"{indicator.maximum:g}",
                "0.25",
                "0.5",
                "0.25",
            ]
        )
    return _csv(AGGREGATE_COLUMNS[:10], rows)
