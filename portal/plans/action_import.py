"""Importing actions into a plan from CSV or XLSX: all rows or none.

:func:`check_file` reads (with the core's table reader, :mod:`portal.imports.table`) and
checks every row without writing; the writing and the check-then-confirm importer are in
:mod:`portal.plans.action_writes`: only a file without a single problem is written, in one
transaction. The columns are those of the export (:data:`portal.plans.spreadsheets.COLUMNS`),
so an export re-imports without loss.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Membership, User
from portal.clusters.models import Cluster
from portal.errors import ServiceError
from portal.extensions import db
from portal.i18n import ACTION_STATUS_LABELS, PRIORITY_LABELS
from portal.imports.cells import code_lookup as _code_lookup
from portal.imports.cells import parse_date as _parse_date
from portal.imports.cells import parse_float as _parse_float
from portal.imports.cells import parse_int as _parse_int
from portal.imports.service import with_progress
from portal.imports.table import (
    FileProblem,
    Problem,
    raw_text,
    read_table,
    row_too_long,
    table_problems,
)
from portal.imports.table import is_blank as _is_blank
from portal.imports.table import text as _text
from portal.improvement.links import check_keys, parse_texts
from portal.permissions import ACTION_OWNER_ROLES
from portal.plans.models import Action, ActionStatus, Plan, Priority
from portal.plans.services import EFFORT_FIELDS, clean_effort
from portal.plans.spreadsheets import (
    COLUMNS,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    TITLE_LIMIT,
    plan_actions,
)
from portal.workshops.models import Workshop

RowError = Problem
PROGRESS_EVERY = 200  # rows between two progress updates (a job saves at most twice a second)
__all__ = ["_parse_float", "check_file", "import_actions", "importer"]


# --- checking the rows --------------------------------------------------------------------


@dataclass
class ParsedRow:
    line: int
    action_id: int | None
    values: dict[str, Any]
    cluster_ids: list[int] | None  # None: the file has no clusters column
    title: str = ""
    indicator_keys: list | None = None  # None: the file has no indicators column


@dataclass
class PreviewRow:
    line: int
    kind: str  # "new", "update" or "unchanged"
    title: str
    changed: list[str] = field(default_factory=list)
    # (column, before, after) of what the row writes (before is None for a new action)
    details: list[tuple[str, Any, Any]] = field(default_factory=list)


@dataclass
class ImportOutcome:
    rows: list[PreviewRow]
    errors: list[RowError]
    written: bool = False
    parsed: list[ParsedRow] = field(default_factory=list, repr=False)
    checker: Any = field(default=None, repr=False)

    def count(self, kind: str) -> int:
        return sum(1 for row in self.rows if row.kind == kind)

    @property
    def created(self) -> int:
        return self.count("new")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


class _Checker:
    """Checks the rows of one file against one plan; loads what it needs once."""

    def __init__(self, plan: Plan, header: list[str], as_new: bool):
        self.plan = plan
        self.header = header
        self.as_new = as_new
        self.actions = {a.id: a for a in plan_actions(plan)}
        self.people = {}
        self.may_own = set()  # who may be made an owner: those who may edit the action
        self.deactivated = set()  # recognised (an owner may stay), never made an owner anew
        for user_id, email, role, active in db.session.execute(
            select(User.id, User.email, Membership.role, Membership.active & User.active)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.tenant_id == plan.tenant_id)
        ):
            self.people[email.lower()] = user_id
            if not active:
                self.deactivated.add(user_id)
            elif role in ACTION_OWNER_ROLES:
                self.may_own.add(user_id)
        self.clusters = {
            name.strip().lower(): cluster_id
            for cluster_id, name in db.session.execute(select(Cluster.id, Cluster.name))
        }
        self.statuses = _code_lookup(ACTION_STATUS_LABELS)
        self.priorities = _code_lookup(PRIORITY_LABELS)
        self.seen_ids: dict[int, int] = {}
        self.workshop_refs: list[tuple[int, int]] = []  # (line, workshop id)
        self.errors: list[RowError] = []

    def error(self, line: int, column: str | None, message: str) -> None:
        self.errors.append(RowError(line, column, message))

    def row(self, line: int, cells: dict[str, Any]) -> ParsedRow | None:
        before = len(self.errors)
        values: dict[str, Any] = {}
        action = self._action(line, cells)
        if "title" in cells:
            title = _text(cells["title"])
            if not title:
                self.error(line, "title", _("The title is missing."))
            elif len(title) > TITLE_LIMIT:
                self.error(line, "title", _("At most %(n)d characters.", n=TITLE_LIMIT))
            values["title"] = title
        if "description" in cells:
            # Kept as written (not stripped), so that a round trip changes nothing.
            values["description"] = raw_text(cells["description"])
        if "owner_email" in cells:
            email = _text(cells["owner_email"]).lower()
            if not email:
                values["owner_id"] = None
            elif email in self.people:
                values["owner_id"] = self.people[email]
                kept = action is not None and action.owner_id == values["owner_id"]
                if values["owner_id"] in self.deactivated and not kept:
                    self.error(
                        line,
                        "owner_email",
                        _("“%(email)s” is deactivated, so cannot own an action.", email=email),
                    )
                elif values["owner_id"] not in self.may_own and not kept:
                    self.error(
                        line,
                        "owner_email",
                        _(
                            "“%(email)s” may not edit actions (observers and assessors may "
                            "not), so cannot own one.",
                            email=email,
                        ),
                    )
            else:
                self.error(
                    line,
                    "owner_email",
                    _("“%(email)s” is not a person of this region.", email=email),
                )
        cluster_ids = self._clusters(line, cells)
        indicator_keys = self._indicators(line, cells, action)
        for column in ("start_date", "due_date"):
            if column in cells:
                if _is_blank(cells[column]):
                    values[column] = None
                else:
                    try:
                        values[column] = _parse_date(cells[column])
                    except ValueError:
                        self.error(
                            line,
                            column,
                            _(
                                "“%(value)s” is not a date. Write it as YYYY-MM-DD.",
                                value=_text(cells[column]),
                            ),
                        )
        self._codes(line, cells, values)
        self._numbers(line, cells, values)
        if len(self.errors) == before:
            start = values.get("start_date", action.start_date if action else None)
            due = values.get("due_date", action.due_date if action else None)
            if start and due and due < start:
                self.error(line, "due_date", _("The due date comes before the start."))
        if values.get("status") == ActionStatus.DONE:
            values["progress"] = 100
        if len(self.errors) != before:
            return None
        return ParsedRow(
            line,
            action.id if action else None,
            values,
            cluster_ids,
            values.get("title", ""),
            indicator_keys,
        )

    def _action(self, line: int, cells: dict[str, Any]) -> Action | None:
        if self.as_new or _is_blank(cells.get("id")):
            return None
        try:
            action_id = _parse_int(cells["id"])
        except ValueError:
            self.error(
                line, "id", _("The id “%(value)s” is not a number.", value=_text(cells["id"]))
            )
            return None
        if action_id in self.seen_ids:
            self.error(
                line,
                "id",
                _(
                    "The id %(id)d appears twice in the file (also in row %(row)d).",
                    id=action_id,
                    row=self.seen_ids[action_id],
                ),
            )
            return None
        self.seen_ids[action_id] = line
        action = self.actions.get(action_id)
        if action is None:
            self.error(
                line,
                "id",
                _(
                    "%(id)d is not an action of this plan. Leave the id empty to add a new action, "
                    "or tick “Import every row as a new action”.",
                    id=action_id,
                ),
            )
        return action

    def _clusters(self, line: int, cells: dict[str, Any]) -> list[int] | None:
        if "clusters" not in cells:
            return None
        ids = []
        for name in re.split(r"[;\n]", _text(cells["clusters"])):
            name = name.strip()
            if not name:
                continue
            cluster_id = self.clusters.get(name.lower())
            if cluster_id is None:
                self.error(line, "clusters", _("There is no cluster named “%(name)s”.", name=name))
            elif cluster_id not in ids:
                ids.append(cluster_id)
        return ids

    def _indicators(self, line: int, cells: dict[str, Any], action: Action | None) -> list | None:
        """The indicators the row names, checked as the action form's are (the services'
        functions): a wrong one is a problem of its row."""
        if "indicators" not in cells:
            return None
        keep = [link.key for link in action.indicators] if action is not None else []
        try:
            keys = parse_texts(re.split(r"[;\n]", _text(cells["indicators"])))
            return check_keys(self.plan.tenant_id, keys, keep=keep)
        except ServiceError as exc:
            self.error(line, "indicators", exc.message)
            return None

    def _codes(self, line: int, cells: dict[str, Any], values: dict[str, Any]) -> None:
        for column, lookup, kind, labels in (
            ("status", self.statuses, ActionStatus, ACTION_STATUS_LABELS),
            ("priority", self.priorities, Priority, PRIORITY_LABELS),
        ):
            if column not in cells or _is_blank(cells[column]):
                continue  # empty: the default for a new action, unchanged for an update
            value = _text(cells[column])
            code = lookup.get(value.lower())
            if code is None:
                self.error(
                    line,
                    column,
                    _(
                        "Unknown value “%(value)s”. Use one of: %(known)s.",
                        value=value,
                        known=", ".join(labels),
                    ),
                )
            else:
                values[column] = kind(code)

    def _numbers(self, line: int, cells: dict[str, Any], values: dict[str, Any]) -> None:
        if "progress" in cells and not _is_blank(cells["progress"]):
            raw = cells["progress"]
            try:
                number = _parse_int(_text(raw).rstrip("%").strip() if isinstance(raw, str) else raw)
                if not 0 <= number <= 100:
                    raise ValueError(number)
                values["progress"] = number
            except ValueError:
                self.error(line, "progress", _("Progress is a whole number from 0 to 100."))
        if "weight" in cells and not _is_blank(cells["weight"]):
            try:
                weight = _parse_float(cells["weight"])
                if not 0 < weight <= 1000:
                    raise ValueError(weight)
                values["weight"] = weight
            except ValueError:
                self.error(line, "weight", _("The weight is a number above 0 (1 is normal)."))
        for column in EFFORT_FIELDS:
            if column in cells:
                try:
                    raw = None if _is_blank(cells[column]) else _text(cells[column])
                    values[column] = clean_effort(column, raw)
                except ServiceError as exc:
                    self.error(line, column, exc.message)
        if "workshop_id" in cells:
            if _is_blank(cells["workshop_id"]):
                values["workshop_id"] = None
            else:
                try:
                    values["workshop_id"] = _parse_int(cells["workshop_id"])
                    self.workshop_refs.append((line, values["workshop_id"]))
                except ValueError:
                    self.error(
                        line,
                        "workshop_id",
                        _(
                            "The workshop id “%(value)s” is not a number.",
                            value=_text(cells["workshop_id"]),
                        ),
                    )

    def check_workshops(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        """Workshop ids must be workshops of this region: one query for the whole file."""
        wanted = {workshop_id for _line, workshop_id in self.workshop_refs}
        if not wanted:
            return rows
        known = set(db.session.scalars(select(Workshop.id).where(Workshop.id.in_(wanted))))
        bad_lines = set()
        for line, workshop_id in self.workshop_refs:
            if workshop_id not in known:
                bad_lines.add(line)
                self.error(
                    line,
                    "workshop_id",
                    _("There is no workshop with the id %(id)d in this region.", id=workshop_id),
                )
        return [row for row in rows if row.line not in bad_lines]


def check_file(
    plan: Plan, raw: bytes, *, as_new: bool = False, progress=None
) -> tuple[list[ParsedRow], list[RowError], _Checker | None]:
    """Read and check every row; nothing is written. ``progress``: as the rounds import's
    (:data:`portal.benchmarking.round_import.Progress`), phase "checking"."""
    try:
        table = read_table(raw, max_rows=MAX_ROWS, max_columns=len(COLUMNS) + 20)
    except FileProblem as exc:
        return [], [exc.problem()], None
    problems = table_problems(table, COLUMNS, REQUIRED_COLUMNS)
    if problems:
        return [], problems, None
    checker = _Checker(plan, table.header, as_new)
    rows: list[ParsedRow] = []
    for line, record in with_progress(table.rows, progress, "checking", PROGRESS_EVERY):
        too_long = row_too_long(table, line, record)
        if too_long:
            checker.errors.append(too_long)
            continue
        parsed = checker.row(line, table.cells(record))
        if parsed is not None:
            rows.append(parsed)
    rows = checker.check_workshops(rows)
    return rows, checker.errors, checker


def import_actions(user, plan, raw, *, dry_run=False, as_new=False):
    """Check a file and, with no problem and no ``dry_run``, write it: every row or none
    (see :func:`portal.plans.action_writes.import_actions`)."""
    from portal.plans.action_writes import import_actions as _import

    return _import(user, plan, raw, dry_run=dry_run, as_new=as_new)


def importer(user, plan, as_new: bool = False):
    """The check-then-confirm importer of the plan's actions."""
    from portal.plans.action_writes import importer as _importer

    return _importer(user, plan, as_new)
