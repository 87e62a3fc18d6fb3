"""Checking a file of joint actions (:mod:`portal_joint.import_format`) against one programme:
read by the core's table reader (toolkit ``read_table``), every row checked with the rules
of :mod:`portal_joint.services`; nothing is written (that is :mod:`portal_joint.import_writes`).

Rows with the same ``action_id`` (or, without one, the same title) are one joint action;
its columns must then be the same in each of its rows. An ``action_id`` must be a joint
action of this programme; with ``as_new`` the ids only group the rows, and every joint
action is added. Only the columns the file has are changed; nothing is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from portal.toolkit import (
    Cluster,
    FileProblem,
    ImportProblem,
    ProgrammeCluster,
    User,
    _,
    cell_text,
    db,
    is_blank,
    parse_date,
    parse_int,
    people_of,
    raw_text,
    read_table,
    row_too_long,
    table_problems,
)
from portal_joint.import_format import (
    ACTION_COLUMNS,
    COLUMNS,
    MAX_ROWS,
    PART_COLUMNS,
    READ_ONLY,
    REQUIRED,
    TEXT_LIMIT,
    TITLE_LIMIT,
)
from portal_joint.models import JointAction, JointStatus, Participation, PartStatus
from portal_joint.services import HOURS_LIMIT, MONEY_LIMIT, _decimal

Problem = ImportProblem


@dataclass
class PlannedPart:
    line: int
    cluster_id: int
    cluster_name: str
    values: dict[str, Any]
    part: Participation | None = None  # the cluster's part in the action, if it has one


@dataclass
class PlannedAction:
    line: int
    values: dict[str, Any]
    action: JointAction | None = None  # None: a new joint action
    parts: list[PlannedPart] = field(default_factory=list)
    cells: dict[str, Any] = field(default_factory=dict)  # the action's cells of its first row

    @property
    def title(self) -> str:
        return self.values.get("title") or (self.action.title if self.action else "")


@dataclass
class ImportOutcome:
    actions: list[PlannedAction] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    written: bool = False
    preview: list[Any] = field(default_factory=list)  # import_writes.PreviewAction
    rows: int = 0  # the rows the check read: a long file is written by a job


class _Checker:
    """Loads what the rows refer to once: the programme's actions, the region's people and
    clusters."""

    def __init__(self, programme, as_new: bool):
        self.programme, self.as_new = programme, as_new
        self.actions = {
            a.id: a
            for a in db.session.scalars(
                select(JointAction).where(JointAction.programme_id == programme.id)
            )
        }
        # Everyone of the region is recognised (a deactivated lead or owner may stay); only
        # those with an active role who may work on it are made a lead or owner anew.
        region = [user_id for user_id, _name in people_of(programme.tenant_id, everyone=True)]
        active = {user_id for user_id, _name in people_of(programme.tenant_id)}
        self.deactivated = set(region) - active
        self.may_work = {user_id for user_id, _name in people_of(programme.tenant_id, owners=True)}
        self.people: dict[str, int] = {
            email.strip().lower(): user_id
            for user_id, email in db.session.execute(
                select(User.id, User.email).where(User.id.in_(region))
            )
        }
        self.clusters = {
            name.strip().casefold(): (cluster_id, name)
            for cluster_id, name in db.session.execute(select(Cluster.id, Cluster.name))
        }
        self.in_programme = set(
            db.session.scalars(
                select(ProgrammeCluster.cluster_id).where(
                    ProgrammeCluster.programme_id == programme.id
                )
            )
        )
        self.errors: list[Problem] = []
        self.planned: dict[Any, PlannedAction] = {}

    def error(self, line: int, column: str | None, message: str) -> None:
        self.errors.append(Problem(line, column, message))

    # --- cells ---------------------------------------------------------------------------

    def _date(self, line: int, column: str, cell: Any) -> date | None:
        if is_blank(cell):
            return None
        try:
            return parse_date(cell)
        except ValueError:
            message = _("“%(value)s” is not a date. Write it as YYYY-MM-DD.", value=cell_text(cell))
            self.error(line, column, message[:300])
            return None

    def _number(self, line: int, column: str, cell: Any, limit) -> Any:
        errors: dict[str, list[str]] = {}
        value = _decimal(None if is_blank(cell) else cell_text(cell), limit, column, errors)
        for message in errors.get(column, ()):
            self.error(line, column, str(message))
        return value

    def _person(self, line: int, column: str, cell: Any, current: int | None) -> int | None:
        email = cell_text(cell).lower()
        if not email:
            return None
        user_id = self.people.get(email)
        if user_id is None:
            self.error(
                line,
                column,
                _("“%(email)s” is not a person of this region.", email=email[:200]),
            )
        elif user_id in self.deactivated and user_id != current:
            message = _("“%(email)s” is deactivated, so cannot lead or own anything.", email=email)
            self.error(line, column, message)
        elif user_id not in self.may_work and user_id != current:
            message = _(
                "“%(email)s” may not work on joint actions (observers and assessors may not).",
                email=email,
            )
            self.error(line, column, message)
        return user_id

    def _text(self, line: int, column: str, cell: Any, limit: int) -> str:
        value = raw_text(cell).strip() if cell is not None else ""
        if len(value) > limit:
            self.error(line, column, _("At most %(n)d characters.", n=limit))
        return value

    def _status(self, line: int, column: str, cell: Any, kind) -> Any:
        value = cell_text(cell)
        if not value:
            return None
        try:
            return kind(value.lower())
        except ValueError:
            known = ", ".join(s.value for s in kind)
            self.error(
                line,
                column,
                _(
                    "Unknown status “%(value)s”. Use one of: %(known)s.",
                    value=value[:100],
                    known=known,
                ),
            )
            return None

    def _cluster(self, line: int, column: str, cell: Any) -> tuple[int, str] | None:
        name = cell_text(cell)
        found = self.clusters.get(name.casefold())
        if found is None:
            self.error(line, column, _("There is no cluster named “%(name)s”.", name=name[:200]))
        return found

    # --- a row ---------------------------------------------------------------------------

    def _action(self, line: int, cells: dict[str, Any]) -> tuple[Any, JointAction | None]:
        """The key of the row's joint action in the file, and the action it changes."""
        raw_id = cells.get("action_id")
        if is_blank(raw_id):
            return ("title", cell_text(cells.get("title")).casefold()), None
        try:
            action_id = parse_int(raw_id)
        except ValueError:
            self.error(
                line,
                "action_id",
                _("The id “%(value)s” is not a number.", value=cell_text(raw_id)[:100]),
            )
            return None, None
        if self.as_new:
            return ("id", action_id), None
        action = self.actions.get(action_id)
        if action is None:
            self.error(
                line,
                "action_id",
                _(
                    "%(id)d is not a joint action of this programme. Leave the id empty to add "
                    "a new one, or tick “Import every joint action as a new one”.",
                    id=action_id,
                ),
            )
            return None, None
        return ("id", action_id), action

    def _action_values(self, line: int, cells: dict[str, Any], action) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if "title" in cells:
            values["title"] = cell_text(cells["title"])
            if not values["title"]:
                self.error(line, "title", _("A joint action needs a title."))
            elif len(values["title"]) > TITLE_LIMIT:
                self.error(line, "title", _("At most %(n)d characters.", n=TITLE_LIMIT))
        if "status" in cells:
            status = self._status(line, "status", cells["status"], JointStatus)
            if status is not None:
                values["status"] = status
        if "aim" in cells:
            values["aim"] = self._text(line, "aim", cells["aim"], TEXT_LIMIT)
        if "lead_email" in cells:
            current = action.lead_user_id if action else None
            values["lead_user_id"] = self._person(line, "lead_email", cells["lead_email"], current)
        if "lead_cluster" in cells:
            found = None
            if not is_blank(cells["lead_cluster"]):
                found = self._cluster(line, "lead_cluster", cells["lead_cluster"])
            values["lead_cluster_id"] = found[0] if found else None
        for column in ("start_date", "due_date"):
            if column in cells:
                values[column] = self._date(line, column, cells[column])
        for column, limit in (("budget_money", MONEY_LIMIT), ("budget_hours", HOURS_LIMIT)):
            if column in cells:
                values[column] = self._number(line, column, cells[column], limit)
        start = values.get("start_date", action.start_date if action else None)
        due = values.get("due_date", action.due_date if action else None)
        if start and due and due < start:
            self.error(line, "due_date", _("The due date cannot be before the start."))
        return values

    def _part(self, line: int, cells: dict[str, Any], planned: PlannedAction) -> None:
        part_cells = {c: cells[c] for c in PART_COLUMNS if c in cells}
        if is_blank(part_cells.get("cluster")):
            filled = [c for c, v in part_cells.items() if not is_blank(v)]
            if filled:
                self.error(line, "cluster", _("The cluster is missing."))
            return
        found = self._cluster(line, "cluster", part_cells["cluster"])
        if found is None:
            return
        cluster_id, name = found
        action = planned.action
        part = (
            next((p for p in action.parts if p.cluster_id == cluster_id), None) if action else None
        )
        if any(p.cluster_id == cluster_id for p in planned.parts):
            message = _("%(cluster)s appears twice in this joint action.", cluster=name)
            self.error(line, "cluster", message)
            return
        if part is None and cluster_id not in self.in_programme:
            message = _("%(cluster)s does not take part in this programme.", cluster=name)
            self.error(line, "cluster", message)
            return
        values: dict[str, Any] = {}
        for column in ("joined_on", "left_on"):
            if column in part_cells:
                values[column] = self._date(line, column, part_cells[column])
        if values.get("joined_on") is None and part is None:
            values["joined_on"] = date.today()
        elif "joined_on" in values and values["joined_on"] is None:
            del values["joined_on"]  # an empty day keeps the one it has
        joined = values.get("joined_on", part.joined_on if part else None)
        if values.get("left_on") and joined and values["left_on"] < joined:
            self.error(line, "left_on", _("A cluster cannot leave before it joined."))
        if "tasks" in part_cells:
            values["tasks"] = self._text(line, "tasks", part_cells["tasks"], TEXT_LIMIT)
        if "owner_email" in part_cells:
            current = part.owner_id if part else None
            values["owner_id"] = self._person(
                line, "owner_email", part_cells["owner_email"], current
            )
        if "part_status" in part_cells:
            status = self._status(line, "part_status", part_cells["part_status"], PartStatus)
            if status is not None:
                values["status"] = status
        if "part_progress" in part_cells and not is_blank(part_cells["part_progress"]):
            try:
                values["progress"] = parse_int(part_cells["part_progress"])
                if not 0 <= values["progress"] <= 100:
                    raise ValueError
            except ValueError:
                message = _("Between %(low)s and %(high)s.", low="0", high="100")
                self.error(line, "part_progress", message)
        for column, limit in (
            ("hours_spent", HOURS_LIMIT),
            ("money_spent", MONEY_LIMIT),
            ("solo_hours", HOURS_LIMIT),
            ("solo_money", MONEY_LIMIT),
        ):
            if column in part_cells:
                values[column] = self._number(line, column, part_cells[column], limit)
                if values[column] is None and column.endswith("_spent"):
                    values[column] = 0  # spent is never "unknown": empty is 0
        planned.parts.append(PlannedPart(line, cluster_id, name, values, part))

    def row(self, line: int, cells: dict[str, Any]) -> None:
        before = len(self.errors)
        key, action = self._action(line, cells)
        if key is None:
            return
        action_cells = {c: cells[c] for c in ACTION_COLUMNS if c in cells and c not in READ_ONLY}
        action_cells.pop("action_id", None)
        planned = self.planned.get(key)
        if planned is None:
            values = self._action_values(line, cells, action)
            planned = PlannedAction(line, values, action, cells=action_cells)
            self.planned[key] = planned
        else:
            for column, cell in action_cells.items():
                if cell_text(cell) != cell_text(planned.cells.get(column)):
                    message = _(
                        "The joint action's columns must be the same in each of its rows "
                        "(row %(row)d has “%(value)s”).",
                        row=planned.line,
                        value=cell_text(planned.cells.get(column))[:100],
                    )
                    self.error(line, column, message)
        if len(self.errors) == before:
            self._part(line, cells, planned)


def check_file(programme, raw: bytes, *, as_new: bool = False) -> ImportOutcome:
    """Read and check every row against the programme; nothing is written."""
    try:
        table = read_table(raw, max_rows=MAX_ROWS, max_columns=len(COLUMNS) + 20)
    except FileProblem as exc:
        return ImportOutcome(errors=[exc.problem()])
    problems = table_problems(table, COLUMNS, REQUIRED)
    if problems:
        return ImportOutcome(errors=problems)
    checker = _Checker(programme, as_new)
    for line, record in table.rows:
        too_long = row_too_long(table, line, record)
        if too_long:
            checker.errors.append(too_long)
            continue
        checker.row(line, table.cells(record))
    if checker.errors:
        return ImportOutcome(errors=sorted(checker.errors, key=lambda e: e.row or 0))
    return ImportOutcome(actions=list(checker.planned.values()), rows=len(table.rows))
