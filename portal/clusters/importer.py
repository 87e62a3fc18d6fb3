"""Member organisations of a cluster: import from CSV or XLSX (an error per bad row and
column, all rows or none), and export in the same format (so an export re-imports).

The file is read by the core's table reader (:mod:`portal.imports.table`); the import goes
through the check-then-confirm steps of :mod:`portal.imports.service`.
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.clusters.models import Cluster, MemberOrganisation, MemberType
from portal.extensions import db
from portal.i18n import MEMBER_TYPE_LABELS
from portal.imports.kinds import register_import_kind, target_id, target_object
from portal.imports.service import Importer, with_progress
from portal.imports.table import (
    EXAMPLE_COLUMN,
    FileProblem,
    Problem,
    read_table,
    row_too_long,
    table_problems,
    text,
)
from portal.permissions import require
from portal.plans.spreadsheets import to_csv, to_xlsx

RowError = Problem  # the name the other imports used to use

MAX_ROWS = 10_000
REQUIRED_COLUMNS = ("name", "member_type")
OPTIONAL_COLUMNS = ("city", "website", "joined_year")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
LIMITS = {"name": 200, "city": 100, "website": 500}
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
CHUNK = 500  # rows per progress step and per flush while writing


@dataclass
class ImportOutcome:
    rows: list[dict[str, Any]]
    errors: list[Problem] = field(default_factory=list)
    written: bool = False


def _member_type(value: str) -> MemberType | None:
    wanted = value.strip().lower()
    for member_type in MemberType:
        if wanted in {member_type.value, str(MEMBER_TYPE_LABELS[member_type.value]).lower()}:
            return member_type
    return None


def _existing_names(cluster: Cluster) -> set[str]:
    return {
        name.lower()
        for name in db.session.scalars(
            select(MemberOrganisation.name).where(MemberOrganisation.cluster_id == cluster.id)
        )
    }


def check(cluster: Cluster, raw: bytes, progress=None) -> ImportOutcome:
    """Read and check every row; nothing is written. ``progress`` as the rounds import's
    (a job's, :class:`portal.imports.jobs.JobProgress`)."""
    try:
        table = read_table(raw, max_rows=MAX_ROWS)
    except FileProblem as exc:
        return ImportOutcome([], [exc.problem()])
    problems = table_problems(table, COLUMNS, REQUIRED_COLUMNS)
    if problems:
        return ImportOutcome([], problems)
    existing = _existing_names(cluster)
    rows: list[dict[str, Any]] = []
    errors: list[Problem] = []
    seen: set[str] = set()
    this_year = date.today().year
    for line, record in with_progress(table.rows, progress, "checking", CHUNK):
        too_long = row_too_long(table, line, record)
        if too_long:
            errors.append(too_long)
            continue
        cells = {k: text(v) for k, v in table.cells(record).items()}
        row, row_errors = _parse_row(line, cells, existing, seen, this_year)
        errors.extend(row_errors)
        if not row_errors:
            rows.append(row)
    return ImportOutcome([] if errors else rows, errors)


def _parse_row(line_no, cells, existing_names, seen, this_year):
    errors = []
    name = cells.get("name", "")
    if not name:
        errors.append(Problem(line_no, "name", _("The name is missing.")))
    elif name.lower() in existing_names:
        errors.append(
            Problem(
                line_no, "name", _("The cluster has a member named “%(name)s” already.", name=name)
            )
        )
    elif name.lower() in seen:
        errors.append(
            Problem(line_no, "name", _("“%(name)s” appears twice in the file.", name=name))
        )
    for column, limit in LIMITS.items():
        if len(cells.get(column, "")) > limit:
            errors.append(Problem(line_no, column, _("At most %(n)d characters.", n=limit)))
    member_type = _member_type(cells.get("member_type", ""))
    if member_type is None:
        errors.append(
            Problem(
                line_no,
                "member_type",
                _(
                    "Unknown member type “%(value)s”. Use one of: %(known)s.",
                    value=cells.get("member_type", "")[:100],
                    known=", ".join(t.value for t in MemberType),
                ),
            )
        )
    website = cells.get("website", "")
    if website and not URL_RE.match(website):
        errors.append(
            Problem(line_no, "website", _("The website must start with http:// or https://."))
        )
    joined_year = None
    raw_year = cells.get("joined_year", "")
    if raw_year:
        if (
            not raw_year.isascii()
            or not raw_year.isdigit()
            or not 1800 <= int(raw_year) <= this_year
        ):
            errors.append(
                Problem(
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
        "line": line_no,
        "name": name,
        "member_type": member_type,
        "city": cells.get("city", ""),
        "website": website,
        "joined_year": joined_year,
    }, []


def write(
    user: User | None, cluster: Cluster, outcome: ImportOutcome, progress=None
) -> ImportOutcome:
    """Add the checked rows in one transaction, flushed every :data:`CHUNK` rows; tell
    plugins after the commit."""
    from portal.clusters.services import _commit_unique, _emit
    from portal.errors import ServiceError

    taken = _("This cluster has a member with this name already.")
    members = []
    try:
        with progress("writing", len(outcome.rows)) if progress else nullcontext() as bar:
            for done, row in enumerate(outcome.rows, start=1):
                members.append(
                    MemberOrganisation(
                        tenant_id=cluster.tenant_id,
                        cluster_id=cluster.id,
                        **{k: v for k, v in row.items() if k != "line"},
                    )
                )
                db.session.add(members[-1])
                if done % CHUNK == 0:
                    db.session.flush()
                    if bar is not None:
                        bar.update(CHUNK)
            if bar is not None:
                bar.update(len(outcome.rows) % CHUNK)
            _commit_unique(taken)
    except IntegrityError:  # a member of the same name added meanwhile, met by a flush
        db.session.rollback()
        outcome.errors.append(Problem(None, "name", taken))
        return outcome
    except ServiceError as exc:
        outcome.errors.append(Problem(None, "name", exc.message))
        return outcome
    outcome.written = True
    for member in members:
        _emit("member_added", cluster.tenant_id, member=member, user=user)
    return outcome


def planned(outcome: ImportOutcome) -> list[list[Any]]:
    return [
        [r["name"], r["member_type"].value, r["city"], r["website"], r["joined_year"]]
        for r in outcome.rows
    ]


def describe(outcome: ImportOutcome) -> str:
    return _("%(n)d members are imported.", n=len(outcome.rows))


def importer(user: User | None, cluster: Cluster, progress=None) -> Importer:
    """The members import of one cluster (``member.import`` is checked on every step);
    ``progress`` as the rounds import's (a job)."""

    def _check(raw: bytes, _options: dict) -> ImportOutcome:
        if user is not None:
            require(user, "member.import", cluster)
        return check(cluster, raw, progress)

    return Importer(
        "members",
        _check,
        lambda outcome, _options: write(user, cluster, outcome, progress),
        planned,
        describe,
    )


def _cluster_of(target: str) -> Cluster:
    return target_object(Cluster, target, "cluster")


# A large file (portal.imports.jobs.job_rows) is written by a job with a progress page.
register_import_kind(
    "members",
    page=lambda target: url_for("clusters.member_import", cluster_id=target_id(target, "cluster")),
    back=lambda target: (
        _("Back to the cluster"),
        url_for("clusters.detail", cluster_id=_cluster_of(target).id),
    ),
    job=lambda user, _tenant_id, progress, target: importer(
        user, _cluster_of(target), progress=progress
    ),
)


# --- export and the example file -------------------------------------------------------------


def member_rows(cluster: Cluster) -> list[list[Any]]:
    members = db.session.scalars(
        select(MemberOrganisation)
        .where(MemberOrganisation.cluster_id == cluster.id)
        .order_by(func.lower(MemberOrganisation.name), MemberOrganisation.id)
    )
    return [
        [m.name, m.member_type.value, m.city or "", m.website or "", m.joined_year] for m in members
    ]


def members_csv(cluster: Cluster) -> bytes:
    return to_csv(COLUMNS, member_rows(cluster))


def members_xlsx(cluster: Cluster) -> bytes:
    return to_xlsx([("Members", list(COLUMNS), member_rows(cluster))])


def sample_csv() -> bytes:
    """The example file: every row is marked as an example (it cannot pass for real data)."""
    mark = "EXAMPLE"
    rows = [
        ["EXAMPLE Nordic Ore AS", "company_large", "Mo i Rana", "https://example.com", 2016, mark],
        ["EXAMPLE Polar University", "university", "Bodø", "", 2015, mark],
    ]
    return to_csv((*COLUMNS, EXAMPLE_COLUMN), rows)
