"""Importing benchmarking rounds from CSV or XLSX: all rows or none.

The file is "long": one row per cluster, round and indicator (see docs/rounds-import.md).
Rows with the same cluster, indicator set, version and date form one round. Every row is
checked first with the rules of :func:`portal.benchmarking.services.save_round`
(:mod:`portal.benchmarking.round_checks`), without writing; only a file without a single
problem is written, in one transaction (bulk inserts, flushed in chunks; on SQLite prepared
in temporary tables first, so other writers wait only for the copy into place), and the
``round_saved`` events are emitted after the commit. A large file's confirm is written by a
job (:mod:`portal.imports.jobs`) with progress.

The file is read by the core's table reader (:mod:`portal.imports.table`); on the web the
import goes through the check-then-confirm steps of :mod:`portal.imports.service`, on the
command line through :func:`import_rounds` (the same importer, both steps at once). The
export in this format is :mod:`portal.benchmarking.round_export`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.benchmarking import round_staging
from portal.benchmarking.models import BenchmarkRound, IndicatorValue
from portal.benchmarking.round_checks import (  # noqa: F401 (the import's vocabulary)
    COLUMNS,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    PlannedRound,
    PlannedValue,
    RowChecker,
)
from portal.benchmarking.services import role_name
from portal.events import emit
from portal.extensions import db
from portal.imports.kinds import register_import_kind
from portal.imports.service import Importer, check_and_write, take_claim, with_progress
from portal.imports.table import FileProblem, Problem, read_table, row_too_long, table_problems

RowError = Problem

# A function given the phase ("checking" rows, "writing" rounds) and its total that returns a
# context manager whose value has ``update(n)`` (``click.progressbar`` fits; so does an import
# job's progress, portal.imports.jobs.JobProgress).
Progress = Callable[[str, int], AbstractContextManager[Any]]
CHUNK = 500  # rounds per flush while writing
PROGRESS_EVERY = 500  # rows between two progress updates while checking


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
    for line, record in with_progress(rows, progress, "checking", PROGRESS_EVERY):
        too_long = row_too_long(table, line, record)
        if too_long:
            checker.errors.append(too_long)
        else:
            checker.row(line, table.cells(record))
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


def write(
    user: User | None, tenant_id: int, outcome: ImportOutcome, progress: Progress | None = None
) -> ImportOutcome:
    """Add the checked rounds in ONE transaction, flushed in chunks of :data:`CHUNK` rounds;
    ``round_saved`` follows the commit. A failure rolls everything back and says how far the
    writing got and why.

    Writing does not go through ``services.save_round``, which commits per round."""
    total = len(outcome.rounds)
    written = _Count()
    try:
        with progress("writing", total) if progress else nullcontext() as bar:
            ids = _write(user, tenant_id, outcome.rounds, written, bar)
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        outcome.errors.append(RowError(None, None, _failed(exc, written.n, total)))
        return outcome
    outcome.written = True
    for round_ in _load(ids):
        emit("round_saved", tenant_id, round=round_, created=True, user=user)
    return outcome


class _Count:
    n = 0


def _failed(exc: SQLAlchemyError, done: int, total: int) -> str:
    if isinstance(exc, IntegrityError):
        reason = _("someone entered one of the rounds at the same time")
    elif isinstance(exc, OperationalError):
        reason = _("the database was busy or could not be reached")
    else:
        reason = _("the database refused the rounds")
    return _(
        "Writing stopped after %(done)d of %(total)d rounds (%(reason)s). Everything was "
        "rolled back: nothing was written. Try again.",
        done=done,
        total=total,
        reason=reason,
    )


def describe(outcome: ImportOutcome) -> str:
    return _(
        "The file is imported. New rounds: %(rounds)d, values: %(values)d.",
        rounds=len(outcome.rounds),
        values=outcome.values,
    )


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
        lambda outcome, _options: write(user, tenant_id, outcome, progress),
        planned,
        describe,
        claims_late=True,
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
    user: User | None, tenant_id: int, rounds: list[PlannedRound], written: _Count, bar
) -> list[int]:
    """Imported rounds are experts' results, confirmed by whoever imports them (assessors,
    or coordinators on the experts' behalf). Bulk inserts: two statements per chunk, never
    one per row; nothing else of the region is locked (only the new rows, and the clusters'
    keys against their deletion)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return round_staging.write_staged(user, tenant_id, rounds, written, bar, CHUNK)
    take_claim()
    ids: list[int] = []
    for start in range(0, len(rounds), CHUNK):
        chunk = rounds[start : start + CHUNK]
        chunk_ids = _insert_rounds(round_staging.round_rows(user, tenant_id, chunk), chunk)
        _insert_values(tenant_id, chunk_ids, chunk)
        ids += chunk_ids
        written.n += len(chunk)
        if bar is not None:
            bar.update(len(chunk))
    return ids


def _insert_rounds(round_rows: list[dict], chunk: list[PlannedRound]) -> list[int]:
    # Without sort_by_parameter_order (SQLite would insert row by row): each new id is
    # matched to its round by the round's unique key instead.
    returned = db.session.execute(
        insert(BenchmarkRound).returning(
            BenchmarkRound.id,
            BenchmarkRound.cluster_id,
            BenchmarkRound.indicator_set,
            BenchmarkRound.set_version,
            BenchmarkRound.held_on,
        ),
        round_rows,
    )
    id_of = {tuple(row[1:]): row[0] for row in returned}
    return [
        id_of[(p.cluster_id, p.indicator_set.id, p.indicator_set.version, p.held_on)] for p in chunk
    ]


def _insert_values(tenant_id: int, ids: list[int], chunk: list[PlannedRound]) -> None:
    value_rows = [
        {
            "tenant_id": tenant_id,
            "round_id": round_id,
            "indicator_id": indicator_id,
            "value": v.value,
            "light": v.light,
            "comment": v.comment,
        }
        for round_id, planned in zip(ids, chunk, strict=True)
        for indicator_id, v in planned.values.items()
    ]
    if value_rows:
        db.session.execute(insert(IndicatorValue), value_rows)


def _load(ids: list[int]) -> list[BenchmarkRound]:
    """The written rounds with their values, for the events: a few queries, not one a round."""
    loaded: list[BenchmarkRound] = []
    for start in range(0, len(ids), CHUNK):
        loaded += db.session.scalars(
            select(BenchmarkRound)
            .where(BenchmarkRound.id.in_(ids[start : start + CHUNK]))
            .options(selectinload(BenchmarkRound.values))
            .order_by(BenchmarkRound.id)
        ).all()
    return loaded


register_import_kind(
    "rounds",
    page=lambda _target: url_for("round_import.upload"),
    back=lambda _target: (_("Import benchmarking rounds"), url_for("round_import.upload")),
    job=lambda user, tenant_id, progress, _target: importer(user, tenant_id, progress),
)
