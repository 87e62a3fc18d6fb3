"""Importing benchmarking rounds from CSV or XLSX: all rows or none.

The file is "long": one row per cluster, round and indicator (see docs/rounds-import.md).
Rows with the same cluster, indicator set, version and date form one round. Every row is
checked first with the rules of :func:`portal.benchmarking.services.save_round`
(:mod:`portal.benchmarking.round_checks`), without writing; only a file without a single
problem is written, in one transaction, and the ``round_saved`` events are emitted after
the commit.

The file is read by the core's table reader (:mod:`portal.imports.table`); on the web the
import goes through the check-then-confirm steps of :mod:`portal.imports.service`, on the
command line through :func:`import_rounds` (the same importer, both steps at once). The
export in this format is :mod:`portal.benchmarking.round_export`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from portal.accounts.models import User
from portal.benchmarking.models import BenchmarkRound, IndicatorValue, RoundKind
from portal.benchmarking.round_checks import (  # noqa: F401 (the import's vocabulary)
    COLUMNS,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    PlannedRound,
    PlannedValue,
    RowChecker,
)
from portal.benchmarking.services import role_name
from portal.db import utcnow
from portal.events import emit
from portal.extensions import db
from portal.imports.service import Importer, check_and_write
from portal.imports.table import FileProblem, Problem, read_table, row_too_long, table_problems

RowError = Problem

# A function given the number of rows that returns a context manager whose value has
# ``update(n)`` (``click.progressbar`` fits): shows progress while checking.
Progress = Callable[[int], AbstractContextManager[Any]]


@dataclass
class ImportOutcome:
    rounds: list[PlannedRound]
    errors: list[RowError]
    rows: int = 0
    written: bool = False

    @property
    def values(self) -> int:
        return sum(len(r.values) for r in self.rounds)


def check_file(
    user: User | None, tenant_id: int, raw: bytes, progress: Progress | None = None
) -> ImportOutcome:
    """Read and check every row; nothing is written."""
    try:
        table = read_table(raw, max_rows=MAX_ROWS, max_columns=len(COLUMNS) + 20)
    except FileProblem as exc:
        return ImportOutcome([], [exc.problem()])
    problems = table_problems(table, COLUMNS, REQUIRED_COLUMNS)
    if problems:
        return ImportOutcome([], problems, rows=len(table.rows))
    checker = RowChecker(user, tenant_id)
    rows = table.rows
    with progress(len(rows)) if progress else nullcontext() as bar:
        for done, (line, record) in enumerate(rows, start=1):
            too_long = row_too_long(table, line, record)
            if too_long:
                checker.errors.append(too_long)
            else:
                checker.row(line, table.cells(record))
            if bar is not None and (done % 500 == 0 or done == len(rows)):
                bar.update(500 if done % 500 == 0 else done % 500)
    _name_the_experts(user, tenant_id, checker)
    errors = sorted(checker.errors, key=lambda e: e.row or 0)
    rounds = sorted(checker.rounds.values(), key=lambda r: r.line)
    return ImportOutcome(rounds if not errors else [], errors, rows=len(rows))


def _name_the_experts(user: User | None, tenant_id: int, checker: RowChecker) -> None:
    """Every imported round is an expert's result and names the expert, as on the round form:
    an assessor's own rounds name them; a coordinator names the expert on each round. The
    command line (no user) imports what the file says."""
    if user is None:
        return
    own_name = user.name if role_name(user, tenant_id) == "assessor" else None
    for planned in checker.rounds.values():
        if planned.assessor:
            continue
        if own_name:
            planned.assessor = own_name
        else:
            checker.error(planned.line, "assessor", _("Name the expert whose result this is."))


def write(user: User | None, tenant_id: int, outcome: ImportOutcome) -> ImportOutcome:
    """Add the checked rounds in ONE transaction; ``round_saved`` follows the commit.

    Writing does not go through ``services.save_round``, which commits per round."""
    try:
        saved = _write(user, tenant_id, outcome.rounds)
    except SQLAlchemyError:
        db.session.rollback()
        message = _(
            "The import failed and nothing was written (perhaps someone entered one of the "
            "rounds at the same time). Try again."
        )
        outcome.errors.append(RowError(None, None, message))
        return outcome
    outcome.written = True
    for round_ in saved:
        emit("round_saved", tenant_id, round=round_, created=True, user=user)
    return outcome


def planned(outcome: ImportOutcome) -> list[Any]:
    """What the preview shows and the confirm must write again."""
    return [
        [
            r.cluster_id,
            r.held_on.isoformat(),
            r.indicator_set.id,
            r.indicator_set.version,
            r.assessor,
            r.audit,
            r.notes,
            [[i, v.value, v.light, v.comment] for i, v in r.values.items()],
        ]
        for r in outcome.rounds
    ]


def importer(user: User | None, tenant_id: int, progress: Progress | None = None) -> Importer:
    """The rounds import of a region. ``user`` None (the command line) skips the permission
    check; otherwise every row's cluster needs ``round.assess`` (the results are experts')."""
    return Importer(
        "rounds",
        lambda raw, _options: check_file(user, tenant_id, raw, progress),
        lambda outcome, _options: write(user, tenant_id, outcome),
        planned,
    )


def import_rounds(
    user: User | None,
    tenant_id: int,
    raw: bytes,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Check a file and, with no problem and no ``dry_run``, write it: every row or none
    (the command line's both steps at once)."""
    return check_and_write(importer(user, tenant_id, progress), raw, {}, dry_run=dry_run)


def _write(
    user: User | None, tenant_id: int, rounds: Iterable[PlannedRound]
) -> list[BenchmarkRound]:
    """Imported rounds are experts' results, confirmed by whoever imports them (assessors,
    or coordinators on the experts' behalf)."""
    saved = []
    role, now = role_name(user, tenant_id), utcnow()
    for planned in rounds:
        round_ = BenchmarkRound(
            tenant_id=tenant_id,
            cluster_id=planned.cluster_id,
            held_on=planned.held_on,
            indicator_set=planned.indicator_set.id,
            set_version=planned.indicator_set.version,
            assessor=planned.assessor,
            kind=RoundKind.AUDIT if planned.audit else RoundKind.BENCHMARKING,
            notes=planned.notes,
            entered_by_id=user.id if user is not None else None,
            entered_role=role,
            confirmed_at=now,
            confirmed_by_id=user.id if user is not None else None,
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
