"""Checking a file of a reference portfolio (:mod:`portal_compare.reference_format`): read by
the core's table reader (toolkit ``read_table``), every row checked against one indicator
set version; nothing is written. Problems name their row and column and are translated; a
broken, foreign or oversized file, or an example file, is a problem like any other, never
an exception."""

from __future__ import annotations

from typing import Any

from portal.toolkit import (
    FileProblem,
    _,
    cell_text,
    is_blank,
    read_table,
    row_too_long,
    table_problems,
)
from portal_compare import reference_format
from portal_compare.reference_format import (
    AGGREGATE_COLUMNS,
    AGGREGATE_REQUIRED,
    CLUSTER_COLUMNS,
    CLUSTER_REQUIRED,
    KINDS,
    LABEL_LIMIT,
    MAX_COUNT,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    ORDER,
    SHARE_COLUMNS,
    SHARE_TOLERANCE,
    Aggregate,
    Outcome,
    Problem,
    number,
    share,
    shown,
    whole,
)
from portal_compare.stats import LIGHTS, summarise


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
            if column in cells and not is_blank(cells[column]):
                found = cell_text(cells[column])
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
        indicator_id = cell_text(cells.get("indicator"))
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
        if is_blank(raw):
            if required:
                self.error(line, column, _("The value is missing."))
            return None
        try:
            value = number(raw)
        except (ValueError, TypeError):
            self.error(line, column, _("“%(value)s” is not a number.", value=shown(raw)))
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


def _rows(checker: _Checker, table):
    """(line, cells by column) of the rows that are not longer than the header."""
    for line, record in table.rows:
        too_long = row_too_long(table, line, record)
        if too_long:
            checker.errors.append(too_long)
            continue
        yield line, table.cells(record)


def _check_clusters(checker: _Checker, table) -> tuple[list[Aggregate], int]:
    values: dict[str, dict[str, tuple[int, float]]] = {}  # indicator -> cluster -> (line, value)
    first_line: dict[str, int] = {}
    clusters: set[str] = set()
    for line, cells in _rows(checker, table):
        checker.same_set(line, cells)
        label = cell_text(cells.get("cluster"))
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


def _check_aggregate_row(checker: _Checker, line: int, cells: dict[str, Any]) -> Aggregate | None:
    indicator = checker.indicator(line, cells)
    raw_count = cells.get("count")
    count = None
    if is_blank(raw_count):
        checker.error(line, "count", _("The count is missing."))
    else:
        try:
            count = whole(raw_count)
        except (ValueError, TypeError):
            count = None
        if count is None or not 1 <= count <= MAX_COUNT:
            checker.error(
                line,
                "count",
                _(
                    "“%(value)s” is not a whole number of clusters (at least 1).",
                    value=shown(raw_count),
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
        if is_blank(raw):
            shares[column] = None
            continue
        try:
            shares[column] = share(raw)
        except (ValueError, TypeError):
            shares_ok = False
            shares[column] = None
            checker.error(
                line,
                column,
                _(
                    "“%(value)s” is not a share: write a number from 0 to 1, or a percentage "
                    "with a percent sign such as 25%%.",
                    value=shown(raw),
                ),
            )
    given = [c for c in SHARE_COLUMNS if not is_blank(cells.get(c))]
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


def _cluster_count(checker: _Checker, line: int, cells: dict[str, Any], seen: dict) -> None:
    """The optional column ``clusters``: the portfolio's number of clusters, the same in every
    row where it is given (``seen``: the number and its first row)."""
    raw = cells.get("clusters")
    if is_blank(raw):
        return
    try:
        count = whole(raw)
    except (ValueError, TypeError):
        count = 0
    if not 1 <= count <= MAX_COUNT:
        checker.error(
            line,
            "clusters",
            _("“%(value)s” is not a whole number of clusters (at least 1).", value=shown(raw)),
        )
    elif "count" in seen and seen["count"] != count:
        checker.error(
            line,
            "clusters",
            _(
                "The number of clusters must be the same in every row (%(n)d in row %(row)d).",
                n=seen["count"],
                row=seen["line"],
            ),
        )
    else:
        seen.setdefault("count", count)
        seen.setdefault("line", line)


def _check_aggregates(checker: _Checker, table) -> tuple[list[Aggregate], int]:
    found: dict[str, Aggregate] = {}
    seen: dict[str, int] = {}
    clusters: dict[str, int] = {}
    for line, cells in _rows(checker, table):
        checker.same_set(line, cells)
        _cluster_count(checker, line, cells, clusters)
        indicator_id = cell_text(cells.get("indicator"))
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
    largest = max(aggregates, key=lambda a: a.count, default=None)
    if "count" not in clusters:
        return aggregates, largest.count if largest else 0
    if largest is not None and largest.count > clusters["count"]:
        checker.error(
            largest.line,
            "clusters",
            _(
                "The portfolio's number of clusters (%(clusters)d) is below the count of "
                "%(id)s (%(count)d).",
                clusters=clusters["count"],
                id=largest.indicator_id,
                count=largest.count,
            ),
        )
    return aggregates, clusters["count"]


def check_file(raw: bytes, kind: str, indicator_set) -> Outcome:
    """Read and check a file of the given kind; nothing is written."""
    outcome = Outcome(kind, indicator_set=indicator_set)
    if kind not in KINDS:
        outcome.errors.append(Problem(None, None, _("Choose what the file holds.")))
        return outcome
    known, required = (
        (CLUSTER_COLUMNS, CLUSTER_REQUIRED)
        if kind == "clusters"
        else (AGGREGATE_COLUMNS, AGGREGATE_REQUIRED)
    )
    try:
        table = read_table(
            raw,
            max_rows=MAX_ROWS,
            max_bytes=reference_format.MAX_FILE_BYTES,
            max_columns=len(known) + 20,
            max_unpacked=MAX_UNPACKED_BYTES,
        )
    except FileProblem as exc:
        outcome.errors.append(exc.problem())
        return outcome
    outcome.rows = len(table.rows)
    problems = table_problems(table, known, required)
    if problems:
        outcome.errors = problems
        return outcome
    checker = _Checker(indicator_set)
    check = _check_clusters if kind == "clusters" else _check_aggregates
    aggregates, cluster_count = check(checker, table)
    if checker.errors:
        outcome.errors = sorted(checker.errors, key=lambda e: e.row or 0)
        return outcome
    outcome.aggregates, outcome.cluster_count = aggregates, cluster_count
    return outcome
