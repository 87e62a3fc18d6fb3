"""Spreadsheets of plans and programmes: export (XLSX, CSV) and the import of actions.

The column keys of the action sheet are stable English words (``id``, ``title``, ...), and
status and priority are written as codes, so a file re-imports whatever language the
person who exported it, or who imports it, uses.

The import of actions lives in :mod:`portal.plans.action_import`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.i18n import PLAN_KIND_LABELS
from portal.imports.table import FORMULA_START, MAX_UNPACKED_BYTES  # noqa: F401 (re-exported)
from portal.plans import progress
from portal.plans.models import Action, Plan
from portal.plans.services import ActionFilters, actions_query
from portal.programmes.models import Programme, ProgrammeCluster

COLUMNS = (
    "id",
    "title",
    "description",
    "owner_email",
    "clusters",
    "start_date",
    "due_date",
    "status",
    "progress",
    "priority",
    "weight",
    "workshop_id",
    "indicators",  # set/version/indicator; ... (portal.improvement.links)
    "planned_hours",
    "spent_hours",
    "planned_money",  # in the region's currency
    "spent_money",
)
INDICATOR_SEPARATOR = "; "
REQUIRED_COLUMNS = ("title",)
MAX_ROWS = 5_000
MAX_INT = 2**31 - 1  # ids are 32-bit integers in PostgreSQL
TITLE_LIMIT = 200
CLUSTER_SEPARATOR = "; "
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"  # a mimetype: Werkzeug adds "; charset=utf-8" (once)
# Cells a spreadsheet program would run as a formula are written with a leading apostrophe in
# CSV (and read back without it by the core's reader), stored as plain text in XLSX.
# Characters XML cannot hold (and a carriage return, which XML turns into a line feed) are
# escaped in XLSX as Excel does (``_x000D_``); the reader unescapes them.
XLSX_ESCAPE = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")


# --- export -------------------------------------------------------------------------------


def plan_actions(plan: Plan) -> list[Action]:
    """The plan's actions with owner and clusters, in one query (plus two IN loads)."""
    return list(
        db.session.scalars(
            actions_query(plan.id, ActionFilters(sort="due")).options(
                selectinload(Action.indicators)
            )
        )
    )


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def action_row(action: Action) -> list[Any]:
    """One action as the values of :data:`COLUMNS` (dates as dates, numbers as numbers)."""
    return [
        action.id,
        action.title,
        action.description or "",
        action.owner.email if action.owner is not None else "",
        CLUSTER_SEPARATOR.join(c.name for c in action.clusters),
        action.start_date,
        action.due_date,
        action.status.value,
        action.progress,
        action.priority.value,
        _number(action.weight),
        action.workshop_id,
        INDICATOR_SEPARATOR.join("/".join(link.key) for link in action.indicators),
        action.planned_hours,
        action.spent_hours,
        action.planned_money,
        action.spent_money,
    ]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith((*FORMULA_START, "'")):
        return "'" + text
    return text


def to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """UTF-8 with a byte order mark (so Excel reads the letters right), comma separated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def _xlsx_text(value: str) -> str:
    return XLSX_ESCAPE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", value)


def _xlsx_sheet(wb, title: str, header: list[str], rows: list[list[Any]], first: bool) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.active if first else wb.create_sheet()
    ws.title = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet"  # Excel's limits
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [len(h) for h in header]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            if isinstance(value, str):
                value = _xlsx_text(value)
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            length = 10 if isinstance(value, date) else len(str(value or ""))
            widths[c - 1] = max(widths[c - 1], min(length, 60))
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = max(width, 6) + 2
    ws.freeze_panes = "A2"


def to_xlsx(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """A workbook of (sheet title, header, rows): bold header, frozen, sized columns."""
    from openpyxl import Workbook

    wb = Workbook()
    for index, (title, header, rows) in enumerate(sheets):
        _xlsx_sheet(wb, title, header, rows, first=index == 0)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def plan_csv(plan: Plan) -> bytes:
    return to_csv(COLUMNS, (action_row(a) for a in plan_actions(plan)))


def plan_xlsx(plan: Plan) -> bytes:
    rows = [action_row(a) for a in plan_actions(plan)]
    return to_xlsx([("Actions", list(COLUMNS), rows)])


def download_name(*parts: str | int, extension: str) -> str:
    """An ASCII file name: letters, digits and dashes only."""
    text = "-".join(str(p) for p in parts if str(p))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:80].strip("-")
    return (text or "export") + extension


# --- programme status ---------------------------------------------------------------------


@dataclass
class ProgrammeStatus:
    clusters: list[list[Any]]
    plans: list[list[Any]]

    @staticmethod
    def cluster_header() -> list[str]:
        return [
            _("Cluster"),
            _("Goal"),
            _("Individual plan progress %"),
            _("Actions"),
            _("Done"),
            _("Overdue"),
        ]

    @staticmethod
    def plan_header() -> list[str]:
        return [
            _("Plan"),
            _("Kind"),
            _("Cluster"),
            _("Progress %"),
            _("Actions"),
            _("Done"),
            _("Overdue"),
        ]


def programme_status(programme: Programme, today: date) -> ProgrammeStatus:
    """The clusters' and plans' progress, in a fixed number of queries (aggregated in SQL)."""
    participants = db.session.scalars(
        select(ProgrammeCluster)
        .where(ProgrammeCluster.programme_id == programme.id)
        .join(Cluster, Cluster.id == ProgrammeCluster.cluster_id)
        .order_by(func.lower(Cluster.name))
    ).all()
    by_cluster = progress.clusters_progress(programme.id)
    overdue_by_cluster = progress.clusters_overdue(programme.id, today)
    plans = db.session.scalars(
        select(Plan)
        .where(Plan.programme_id == programme.id)
        .options(selectinload(Plan.cluster))
        .order_by(Plan.kind, func.lower(Plan.title), Plan.id)
    ).all()
    by_plan = progress.plans_progress([p.id for p in plans])
    overdue_by_plan = progress.plans_overdue([p.id for p in plans], today)
    cluster_rows = []
    for participant in participants:
        done = by_cluster.get(participant.cluster_id, progress.EMPTY)
        cluster_rows.append(
            [
                participant.cluster.name,
                participant.goal or "",
                round(done.percent, 1),
                done.actions,
                done.done,
                overdue_by_cluster.get(participant.cluster_id, 0),
            ]
        )
    plan_rows = []
    for plan in plans:
        done = by_plan.get(plan.id, progress.EMPTY)
        plan_rows.append(
            [
                plan.title,
                str(PLAN_KIND_LABELS[plan.kind.value]),
                plan.cluster.name if plan.cluster is not None else "",
                round(done.percent, 1),
                done.actions,
                done.done,
                overdue_by_plan.get(plan.id, 0),
            ]
        )
    return ProgrammeStatus(cluster_rows, plan_rows)


def programme_xlsx(programme: Programme, today: date) -> bytes:
    status = programme_status(programme, today)
    return to_xlsx(
        [
            ("Clusters", ProgrammeStatus.cluster_header(), status.clusters),
            ("Plans", ProgrammeStatus.plan_header(), status.plans),
        ]
    )


def programme_csv(programme: Programme, today: date) -> bytes:
    status = programme_status(programme, today)
    return to_csv(ProgrammeStatus.cluster_header(), status.clusters)
