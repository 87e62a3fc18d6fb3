"""Importing actions into a plan from CSV or XLSX: all rows or none.

:func:`import_actions` reads and checks every row first (without writing); only a file
without a single problem is written, in one transaction (see :func:`_write`). The columns
are those of the export (:data:`portal.plans.spreadsheets.COLUMNS`), so an export
re-imports without loss.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.accounts.models import Membership, User
from portal.clusters.importer import RowError
from portal.clusters.models import Cluster
from portal.config import SUPPORTED_LOCALES
from portal.events import apply_changes, emit
from portal.extensions import db
from portal.i18n import ACTION_STATUS_LABELS, PRIORITY_LABELS
from portal.permissions import require
from portal.plans.models import Action, ActionCluster, ActionStatus, Plan, Priority
from portal.plans.spreadsheets import (
    COLUMNS,
    FORMULA_START,
    MAX_INT,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    REQUIRED_COLUMNS,
    TITLE_LIMIT,
    plan_actions,
)
from portal.workshops.models import Workshop

# --- reading a file -----------------------------------------------------------------------


class FileProblem(Exception):
    """The file as a whole cannot be read; ``message`` is translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _xlsx_records(raw: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    not_xlsx = _("The file is not a readable Excel (XLSX) file.")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise FileProblem(_("The Excel file is too large when unpacked."))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileProblem(not_xlsx) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a broken or foreign archive
        raise FileProblem(not_xlsx) from None
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            raise FileProblem(not_xlsx)
        try:
            for row in ws.iter_rows(values_only=True, max_col=len(COLUMNS) + 20):
                yield list(row)
        except FileProblem:
            raise
        except Exception:
            raise FileProblem(not_xlsx) from None
    finally:
        wb.close()


def _csv_records(raw: bytes) -> Iterator[list[Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(
            _("The file is neither an Excel (XLSX) file nor a UTF-8 text (CSV) file.")
        ) from None
    if "\x00" in text:
        raise FileProblem(
            _("The file is neither an Excel (XLSX) file nor a UTF-8 text (CSV) file.")
        )
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:
        raise FileProblem(_("The file is not valid CSV: %(error)s", error=str(exc))) from None


def read_records(raw: bytes) -> Iterator[list[Any]]:
    """The rows of the file's first sheet (XLSX, by its signature) or of the CSV."""
    if raw.startswith(b"PK\x03\x04"):
        return _xlsx_records(raw)
    return _csv_records(raw)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as text: numbers without a needless ``.0``, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


# --- checking the rows --------------------------------------------------------------------


@dataclass
class ParsedRow:
    line: int
    action_id: int | None
    values: dict[str, Any]
    cluster_ids: list[int] | None  # None: the file has no clusters column
    title: str = ""


@dataclass
class PreviewRow:
    line: int
    kind: str  # "new", "update" or "unchanged"
    title: str
    changed: list[str] = field(default_factory=list)


@dataclass
class ImportOutcome:
    rows: list[PreviewRow]
    errors: list[RowError]
    written: bool = False

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


def _code_lookup(labels: dict[str, Any]) -> dict[str, str]:
    """Codes, and the labels in every language (case-insensitive), to codes."""
    lookup = {code: code for code in labels}
    for code, label in labels.items():
        lookup.setdefault(str(label).strip().lower(), code)
    for locale in SUPPORTED_LOCALES:
        with force_locale(locale):
            for code, label in labels.items():
                lookup.setdefault(str(label).strip().lower(), code)
    return lookup


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for parse in (date.fromisoformat, lambda t: datetime.fromisoformat(t).date()):
        try:
            return parse(text)
        except ValueError:
            pass
    for pattern in ("%d.%m.%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    raise ValueError(text)


def _parse_int(value: Any) -> int:
    """A whole number (``5``, ``5.0``, ``"5"``) small enough for a database column."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        value = int(value)
    if not isinstance(value, int):
        text = _text(value)
        if not re.fullmatch(r"[+-]?\d{1,12}(\.0*)?", text):
            raise ValueError(text)
        value = int(text.split(".")[0])
    if abs(value) > MAX_INT:
        raise ValueError(value)
    return value


# A plain decimal number, ASCII digits only (no "1_0", no "1e5", no other scripts' digits).
DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)


def _parse_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return float(value)
    text = _text(value).replace(",", ".")
    if not DECIMAL.fullmatch(text):
        raise ValueError(text)
    return float(text)


class _Checker:
    """Checks the rows of one file against one plan; loads what it needs once."""

    def __init__(self, plan: Plan, header: list[str], as_new: bool):
        self.plan = plan
        self.header = header
        self.as_new = as_new
        self.actions = {a.id: a for a in plan_actions(plan)}
        self.people = {
            email.lower(): user_id
            for user_id, email in db.session.execute(
                select(User.id, User.email)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.tenant_id == plan.tenant_id)
            )
        }
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
            raw = cells["description"]
            # Kept as written (not stripped), so that a round trip changes nothing.
            text = raw if isinstance(raw, str) else _text(raw)
            if text.startswith("'") and text[1:].startswith(FORMULA_START):
                text = text[1:]
            values["description"] = text
        if "owner_email" in cells:
            email = _text(cells["owner_email"]).lower()
            if not email:
                values["owner_id"] = None
            elif email in self.people:
                values["owner_id"] = self.people[email]
            else:
                self.error(
                    line,
                    "owner_email",
                    _("“%(email)s” is not a person of this region.", email=email),
                )
        cluster_ids = self._clusters(line, cells)
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
            line, action.id if action else None, values, cluster_ids, values.get("title", "")
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


def _header(record: list[Any]) -> list[str]:
    header = [_text(h).lower() for h in record]
    while header and not header[-1]:
        header.pop()
    return header


def check_file(
    plan: Plan, raw: bytes, *, as_new: bool = False
) -> tuple[list[ParsedRow], list[RowError], _Checker | None]:
    """Read and check every row; nothing is written."""
    if not raw or not raw.strip():
        return [], [RowError(None, None, _("The file is empty."))], None
    records = enumerate(read_records(raw), start=1)
    try:
        header_line, header_record = 0, None
        for line, record in records:
            if not all(_is_blank(v) for v in record):
                header_line, header_record = line, record
                break
        if header_record is None:
            return [], [RowError(None, None, _("The file is empty."))], None
        header = _header(header_record)
        errors: list[RowError] = []
        for column in REQUIRED_COLUMNS:
            if column not in header:
                errors.append(
                    RowError(
                        header_line, column, _("The column “%(column)s” is missing.", column=column)
                    )
                )
        for column in header:
            if column not in COLUMNS:
                errors.append(
                    RowError(
                        header_line,
                        column or "?",
                        _(
                            "Unknown column “%(column)s”. Known columns: %(known)s.",
                            column=column,
                            known=", ".join(COLUMNS),
                        ),
                    )
                )
        if len(set(header)) != len(header):
            errors.append(RowError(header_line, None, _("A column appears twice in the header.")))
        if errors:
            return [], errors, None
        checker = _Checker(plan, header, as_new)
        rows: list[ParsedRow] = []
        count = 0
        for line, record in records:
            if all(_is_blank(v) for v in record):
                continue
            count += 1
            if count > MAX_ROWS:
                checker.error(
                    line,
                    None,
                    _(
                        "The file has more than %(n)d rows. Split it into smaller files.",
                        n=MAX_ROWS,
                    ),
                )
                break
            extra = record[len(header) :]
            if any(not _is_blank(v) for v in extra):
                checker.error(
                    line,
                    None,
                    _(
                        "The row has %(found)d cells; the header has %(expected)d.",
                        found=len(record),
                        expected=len(header),
                    ),
                )
                continue
            cells = dict(
                zip(header, list(record) + [None] * (len(header) - len(record)), strict=False)
            )
            parsed = checker.row(line, cells)
            if parsed is not None:
                rows.append(parsed)
    except FileProblem as exc:
        return [], [RowError(None, None, exc.message)], None
    rows = checker.check_workshops(rows)
    if count == 0 and not checker.errors:
        checker.errors.append(RowError(None, None, _("The file has a header but no rows.")))
    return rows, checker.errors, checker


# --- importing ----------------------------------------------------------------------------


def _changes(action: Action, row: ParsedRow) -> list[str]:
    changed = [key for key, value in row.values.items() if getattr(action, key) != value]
    if row.cluster_ids is not None and sorted(row.cluster_ids) != sorted(
        c.id for c in action.clusters
    ):
        changed.append("clusters")
    return changed


def _preview(rows: list[ParsedRow], checker: _Checker) -> list[PreviewRow]:
    preview = []
    for row in rows:
        if row.action_id is None:
            preview.append(PreviewRow(row.line, "new", row.title))
            continue
        action = checker.actions[row.action_id]
        changed = _changes(action, row)
        preview.append(
            PreviewRow(
                row.line,
                "update" if changed else "unchanged",
                row.values.get("title", action.title),
                changed,
            )
        )
    return preview


def import_actions(
    user: User | None, plan: Plan, raw: bytes, *, dry_run: bool = False, as_new: bool = False
) -> ImportOutcome:
    """Create and update the plan's actions from a CSV or XLSX file: every row or none.

    Rows with the id of an action of this plan update it (only the columns the file has);
    rows without an id add an action. With ``as_new`` the id column is ignored and every
    row adds an action (to copy the actions of another plan).

    Writing does not go through ``services.create_action`` / ``update_action``: they commit
    per action, so a failure half-way would leave half the file written. Instead every row
    is checked first with the same rules (:class:`_Checker`), then the rows are written with
    the models in ONE transaction (the audit log is written by the flush listener in that
    transaction; optimistic locking still applies through the version column), and only
    after the commit are the ``action_saved`` events emitted, as the services do. If the
    commit fails, it is rolled back and nothing is written. The permission is ``plan.manage``
    on the plan, which includes ``action.edit`` of each of its actions.
    """
    if user is not None:
        require(user, "plan.manage", plan)
    rows, errors, checker = check_file(plan, raw, as_new=as_new)
    if errors or checker is None:
        return ImportOutcome([], errors)
    preview = _preview(rows, checker)
    outcome = ImportOutcome(preview, [])
    if dry_run:
        return outcome
    try:
        events = _write(plan, rows, checker)
    except SQLAlchemyError as exc:
        db.session.rollback()
        message = _("The import failed and nothing was written. Try again.")
        if type(exc).__name__ == "StaleDataError":
            message = _(
                "Someone changed an action of this plan during the import; nothing was "
                "written. Try again."
            )
        return ImportOutcome(preview, [RowError(None, None, message)])
    outcome.written = True
    for action, created, changes in events:
        emit(
            "action_saved",
            plan.tenant_id,
            action=action,
            created=created,
            changes=changes,
            user=user,
        )
    return outcome


def _write(plan: Plan, rows: list[ParsedRow], checker: _Checker) -> list[tuple[Action, bool, dict]]:
    """All rows in one transaction; returns what to tell plugins after the commit."""
    events: list[tuple[Action, bool, dict]] = []
    new: list[tuple[Action, ParsedRow]] = []
    for row in rows:
        if row.action_id is None:
            action = Action(tenant_id=plan.tenant_id, plan_id=plan.id, **row.values)
            db.session.add(action)
            new.append((action, row))
            continue
        action = checker.actions[row.action_id]
        changes = apply_changes(action, row.values)
        if row.cluster_ids is not None:
            before = sorted(c.id for c in action.clusters)
            if sorted(row.cluster_ids) != before:
                _set_clusters(action, before, row.cluster_ids)
                changes["clusters"] = (before, sorted(row.cluster_ids))
        if changes:
            events.append((action, False, changes))
    db.session.flush()
    default = [plan.cluster_id] if plan.cluster_id is not None else []
    for action, row in new:
        ids = row.cluster_ids if row.cluster_ids is not None else default
        db.session.add_all(
            ActionCluster(tenant_id=plan.tenant_id, action_id=action.id, cluster_id=cluster_id)
            for cluster_id in ids
        )
    db.session.commit()
    return [(action, True, {}) for action, _row in new] + events


def _set_clusters(action: Action, before: list[int], wanted: list[int]) -> None:
    if set(before) - set(wanted):
        for link in db.session.scalars(
            select(ActionCluster).where(
                ActionCluster.action_id == action.id,
                ActionCluster.cluster_id.in_(set(before) - set(wanted)),
            )
        ):
            db.session.delete(link)
    db.session.add_all(
        ActionCluster(tenant_id=action.tenant_id, action_id=action.id, cluster_id=cluster_id)
        for cluster_id in set(wanted) - set(before)
    )
