"""Importing benchmarking rounds from CSV or XLSX: all rows or none.

The file is "long": one row per cluster, round and indicator (see docs/rounds-import.md).
Rows with the same cluster, indicator set, version and date form one round. Every row is
checked first with the rules of :func:`portal.benchmarking.services.save_round`, without
writing; only a file without a single problem is written, in one transaction, and the
``round_saved`` events are emitted after the commit.

Reading the file (XLSX with its zip-bomb guard, or CSV) is the action importer's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.accounts.models import User
from portal.benchmarking import services
from portal.benchmarking.indicators import LIGHTS, IndicatorSet
from portal.benchmarking.models import BenchmarkRound, IndicatorValue
from portal.clusters.importer import RowError
from portal.clusters.models import Cluster
from portal.events import emit
from portal.extensions import db
from portal.permissions import may
from portal.plans.action_import import FileProblem, _is_blank, _parse_float, _text, read_records
from portal.plans.spreadsheets import to_csv

COLUMNS = (
    "cluster",
    "date",
    "indicator_set",
    "version",
    "indicator",
    "value",
    "comment",
    "assessor",
    "audit",
)
REQUIRED_COLUMNS = COLUMNS[:6]
MAX_ROWS = 50_000
COMMENT_LIMIT = 2000
ASSESSOR_LIMIT = 200
# The optional "audit" column: yes or no, in a few spellings (Excel booleans too).
AUDIT_WORDS = {
    "1": True,
    "yes": True,
    "true": True,
    "x": True,
    "0": False,
    "no": False,
    "false": False,
}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# A function given the number of rows that returns a context manager whose value has
# ``update(n)`` (``click.progressbar`` fits): shows progress while checking.
Progress = Callable[[int], AbstractContextManager[Any]]


@dataclass
class PlannedValue:
    line: int
    value: float
    light: str
    comment: str


@dataclass
class PlannedRound:
    """A round the file would create."""

    line: int  # its first row
    cluster_id: int
    cluster_name: str
    held_on: date
    indicator_set: IndicatorSet
    assessor: str = ""
    assessor_line: int | None = None
    audit: bool = False
    audit_line: int | None = None
    values: dict[str, PlannedValue] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        result = {"green": 0, "yellow": 0, "red": 0}
        for planned in self.values.values():
            result[planned.light] += 1
        return result


@dataclass
class ImportOutcome:
    rounds: list[PlannedRound]
    errors: list[RowError]
    rows: int = 0
    written: bool = False

    @property
    def values(self) -> int:
        return sum(len(r.values) for r in self.rounds)


class _Checker:
    """Checks the rows of one file for one tenant; loads clusters, sets and rounds once."""

    def __init__(self, user: User | None, tenant_id: int):
        self.user = user
        self.tenant_id = tenant_id
        self.clusters = {
            c.name.strip(): c
            for c in db.session.scalars(select(Cluster).where(Cluster.tenant_id == tenant_id))
        }
        self.sets = {s.key: s for s in services.available_sets(tenant_id)}
        self.set_ids = {set_id for set_id, _version in self.sets}
        self.existing = {
            tuple(row)
            for row in db.session.execute(
                select(
                    BenchmarkRound.cluster_id,
                    BenchmarkRound.indicator_set,
                    BenchmarkRound.set_version,
                    BenchmarkRound.held_on,
                ).where(BenchmarkRound.tenant_id == tenant_id)
            )
        }
        self.allowed: dict[int, bool] = {}
        self.rounds: dict[tuple[int, str, str, date], PlannedRound] = {}
        self.errors: list[RowError] = []
        self.today = date.today()

    def error(self, line: int | None, column: str | None, message: str) -> None:
        self.errors.append(RowError(line, column, message))

    def _may(self, cluster: Cluster) -> bool:
        if self.user is None:
            return True
        if cluster.id not in self.allowed:
            self.allowed[cluster.id] = may(self.user, "round.manage", cluster)
        return self.allowed[cluster.id]

    def _cluster(self, line: int, cells: dict[str, Any]) -> Cluster | None:
        name = _text(cells["cluster"])
        if not name:
            self.error(line, "cluster", _("The cluster is missing."))
            return None
        cluster = self.clusters.get(name)
        if cluster is None:
            self.error(
                line,
                "cluster",
                _("There is no cluster named “%(name)s” in this region.", name=name),
            )
            return None
        if not self._may(cluster):
            self.error(line, "cluster", _("You may not enter rounds for this cluster."))
            return None
        return cluster

    def _date(self, line: int, cells: dict[str, Any]) -> date | None:
        raw = cells["date"]
        if isinstance(raw, datetime):
            held_on = raw.date()
        elif isinstance(raw, date):
            held_on = raw
        else:
            text = _text(raw)
            held_on = None
            if ISO_DATE.fullmatch(text):
                with suppress(ValueError):
                    held_on = date.fromisoformat(text)
            if held_on is None:
                self.error(
                    line,
                    "date",
                    _("“%(value)s” is not a date. Write it as YYYY-MM-DD.", value=text),
                )
                return None
        if held_on > self.today:
            self.error(line, "date", _("A round cannot be in the future."))
            return None
        return held_on

    def _set(self, line: int, cells: dict[str, Any]) -> IndicatorSet | None:
        set_id, version = _text(cells["indicator_set"]), _text(cells["version"])
        indicator_set = self.sets.get((set_id, version))
        if indicator_set is not None:
            return indicator_set
        if not set_id:
            self.error(line, "indicator_set", _("The indicator set is missing."))
        elif set_id in self.set_ids:
            known = sorted(v for s, v in self.sets if s == set_id)
            self.error(
                line,
                "version",
                _(
                    "The indicator set %(set)s has no version “%(version)s”. Known: %(known)s.",
                    set=set_id,
                    version=version,
                    known=", ".join(known),
                ),
            )
        elif services.find_set(set_id, version) is not None:
            self.error(
                line,
                "indicator_set",
                _(
                    "The indicator set %(set)s is not switched on for this region.",
                    set=set_id,
                ),
            )
        else:
            self.error(
                line,
                "indicator_set",
                _(
                    "Unknown indicator set “%(set)s”. Known: %(known)s.",
                    set=set_id,
                    known=", ".join(sorted(self.set_ids)) or "–",
                ),
            )
        return None

    def _value(self, line: int, cells: dict[str, Any]) -> float | None:
        raw = cells["value"]
        if _is_blank(raw):
            self.error(line, "value", _("The value is missing."))
            return None
        try:
            value = _parse_float(raw)
        except (ValueError, TypeError):
            value = None
        if value is None or not math.isfinite(value):
            self.error(line, "value", _("“%(value)s” is not a number.", value=_text(raw)[:100]))
            return None
        return value

    def _audit(self, line: int, cells: dict[str, Any]) -> bool | None:
        raw = cells.get("audit")
        if isinstance(raw, bool):
            return raw
        text = _text(raw).lower()
        if not text:
            return None
        if text not in AUDIT_WORDS:
            self.error(
                line,
                "audit",
                _("“%(value)s”: write yes or no (or leave it empty).", value=text[:50]),
            )
            return None
        return AUDIT_WORDS[text]

    def row(self, line: int, cells: dict[str, Any]) -> None:
        cluster = self._cluster(line, cells)
        held_on = self._date(line, cells)
        indicator_set = self._set(line, cells)
        value = self._value(line, cells)
        comment = _text(cells.get("comment"))
        if len(comment) > COMMENT_LIMIT:
            self.error(line, "comment", _("At most %(n)d characters.", n=COMMENT_LIMIT))
        assessor = _text(cells.get("assessor"))
        if len(assessor) > ASSESSOR_LIMIT:
            self.error(line, "assessor", _("At most %(n)d characters.", n=ASSESSOR_LIMIT))
        audit = self._audit(line, cells)
        indicator = None
        indicator_id = _text(cells["indicator"])
        if indicator_set is not None:
            indicator = indicator_set.indicator(indicator_id)
            if indicator is None:
                self.error(
                    line,
                    "indicator",
                    _(
                        "The indicator set %(set)s %(version)s has no indicator “%(id)s”.",
                        set=indicator_set.id,
                        version=indicator_set.version,
                        id=indicator_id,
                    ),
                )
        if indicator is not None and value is not None and not indicator.in_range(value):
            self.error(
                line,
                "value",
                _(
                    "Between %(low)s and %(high)s.",
                    low=f"{indicator.minimum:g}",
                    high=f"{indicator.maximum:g}",
                ),
            )
            value = None
        if cluster is None or held_on is None or indicator_set is None:
            return
        key = (cluster.id, indicator_set.id, indicator_set.version, held_on)
        planned = self.rounds.get(key)
        if planned is None:
            planned = self.rounds[key] = PlannedRound(
                line, cluster.id, cluster.name, held_on, indicator_set
            )
            if key in self.existing:
                self.error(
                    line,
                    "date",
                    _(
                        "%(cluster)s has a round with %(set)s %(version)s on %(date)s already.",
                        cluster=cluster.name,
                        set=indicator_set.id,
                        version=indicator_set.version,
                        date=held_on.isoformat(),
                    ),
                )
        if assessor:
            if planned.assessor_line is None:
                planned.assessor, planned.assessor_line = assessor, line
            elif assessor != planned.assessor:
                self.error(
                    line,
                    "assessor",
                    _(
                        "The assessor differs from row %(row)d of the same round.",
                        row=planned.assessor_line,
                    ),
                )
        if audit is not None:
            if planned.audit_line is None:
                planned.audit, planned.audit_line = audit, line
            elif audit != planned.audit:
                self.error(
                    line,
                    "audit",
                    _(
                        "The audit mark differs from row %(row)d of the same round.",
                        row=planned.audit_line,
                    ),
                )
        if indicator is None:
            return
        if indicator.id in planned.values:
            self.error(
                line,
                "indicator",
                _(
                    "The indicator %(id)s appears twice in this round (also in row %(row)d).",
                    id=indicator.id,
                    row=planned.values[indicator.id].line,
                ),
            )
            return
        if value is not None:
            planned.values[indicator.id] = PlannedValue(
                line, value, indicator.light(value), comment
            )


def _header(record: list[Any]) -> list[str]:
    header = [_text(h).lower() for h in record]
    while header and not header[-1]:
        header.pop()
    return header


def _header_errors(line: int, header: list[str]) -> list[RowError]:
    errors = [
        RowError(line, column, _("The column “%(column)s” is missing.", column=column))
        for column in REQUIRED_COLUMNS
        if column not in header
    ]
    errors += [
        RowError(
            line,
            column or "?",
            _(
                "Unknown column “%(column)s”. Known columns: %(known)s.",
                column=column[:100],
                known=", ".join(COLUMNS),
            ),
        )
        for column in header
        if column not in COLUMNS
    ]
    if len(set(header)) != len(header):
        errors.append(RowError(line, None, _("A column appears twice in the header.")))
    return errors


def _records(raw: bytes) -> tuple[int, list[str], list[tuple[int, list[Any]]]] | RowError:
    """The header's line, the header, and the non-blank rows (one more than allowed at most)."""
    header_line, header = 0, None
    rows: list[tuple[int, list[Any]]] = []
    try:
        for line, record in enumerate(read_records(raw), start=1):
            if all(_is_blank(v) for v in record):
                continue
            if header is None:
                header_line, header = line, _header(record)
                continue
            rows.append((line, record))
            if len(rows) > MAX_ROWS:
                break
    except FileProblem as exc:
        return RowError(None, None, exc.message)
    if header is None:
        return RowError(None, None, _("The file is empty."))
    return header_line, header, rows


def check_file(
    user: User | None, tenant_id: int, raw: bytes, progress: Progress | None = None
) -> ImportOutcome:
    """Read and check every row; nothing is written."""
    if not raw or not raw.strip():
        return ImportOutcome([], [RowError(None, None, _("The file is empty."))])
    read = _records(raw)
    if isinstance(read, RowError):
        return ImportOutcome([], [read])
    header_line, header, rows = read
    errors = _header_errors(header_line, header)
    if errors:
        return ImportOutcome([], errors)
    if not rows:
        return ImportOutcome([], [RowError(None, None, _("The file has a header but no rows."))])
    if len(rows) > MAX_ROWS:
        message = _("The file has more than %(n)d rows. Split it into smaller files.", n=MAX_ROWS)
        return ImportOutcome([], [RowError(rows[-1][0], None, message)], rows=len(rows))
    checker = _Checker(user, tenant_id)
    with progress(len(rows)) if progress else nullcontext() as bar:
        for done, (line, record) in enumerate(rows, start=1):
            _check_row(checker, header, line, record)
            if bar is not None and (done % 500 == 0 or done == len(rows)):
                bar.update(500 if done % 500 == 0 else done % 500)
    errors = sorted(checker.errors, key=lambda e: e.row or 0)
    rounds = sorted(checker.rounds.values(), key=lambda r: r.line)
    return ImportOutcome(rounds if not errors else [], errors, rows=len(rows))


def _check_row(checker: _Checker, header: list[str], line: int, record: list[Any]) -> None:
    if any(not _is_blank(v) for v in record[len(header) :]):
        checker.error(
            line,
            None,
            _(
                "The row has %(found)d cells; the header has %(expected)d.",
                found=len(record),
                expected=len(header),
            ),
        )
        return
    cells = dict(zip(header, list(record) + [None] * (len(header) - len(record)), strict=False))
    checker.row(line, cells)


def import_rounds(
    user: User | None,
    tenant_id: int,
    raw: bytes,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Create the rounds of a CSV or XLSX file: every row or none.

    ``user`` None (the command line) skips the permission check; otherwise every row's
    cluster needs ``round.manage``. Writing does not go through ``services.save_round``,
    which commits per round: all rounds are added in ONE transaction, and the
    ``round_saved`` events follow the commit.
    """
    outcome = check_file(user, tenant_id, raw, progress)
    if outcome.errors or dry_run:
        return outcome
    try:
        saved = _write(tenant_id, outcome.rounds)
    except SQLAlchemyError:
        db.session.rollback()
        message = _(
            "The import failed and nothing was written (perhaps someone entered one of the "
            "rounds at the same time). Try again."
        )
        return ImportOutcome(outcome.rounds, [RowError(None, None, message)], outcome.rows)
    outcome.written = True
    for round_ in saved:
        emit("round_saved", tenant_id, round=round_, created=True, user=user)
    return outcome


def _write(tenant_id: int, rounds: Iterable[PlannedRound]) -> list[BenchmarkRound]:
    saved = []
    for planned in rounds:
        round_ = BenchmarkRound(
            tenant_id=tenant_id,
            cluster_id=planned.cluster_id,
            held_on=planned.held_on,
            indicator_set=planned.indicator_set.id,
            set_version=planned.indicator_set.version,
            assessor=planned.assessor,
            audit=planned.audit,
            notes="",
        )
        round_.values = [
            IndicatorValue(
                tenant_id=tenant_id,
                indicator_id=indicator_id,
                value=v.value,
                light=v.light,
                comment=v.comment,
            )
            for indicator_id, v in planned.values.items()
        ]
        db.session.add(round_)
        saved.append(round_)
    db.session.commit()
    return saved


def example_csv(tenant_id: int, cluster_name: str | None) -> bytes | None:
    """A small file to start from: one round of the first available set, three values."""
    sets = services.available_sets(tenant_id)
    if not sets:
        return None
    indicator_set = sets[0]
    rows = []
    for indicator, target in zip(indicator_set.indicators[:3], LIGHTS, strict=False):
        value = {
            "green": indicator.green_at,
            "yellow": indicator.yellow_at,
            "red": indicator.minimum if indicator.higher_is_better else indicator.maximum,
        }[target]
        rows.append(
            [
                cluster_name or "Example cluster",
                date.today().isoformat(),
                indicator_set.id,
                indicator_set.version,
                indicator.id,
                f"{value:g}",
                "",
                "",
                "no",
            ]
        )
    return to_csv(COLUMNS, rows)
