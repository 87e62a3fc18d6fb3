"""A programme's joint actions with each cluster's contribution, as XLSX or CSV: one row per
contribution, the joint action's columns repeated on each (an action nobody takes part in
gets one row with the contribution columns empty). CSV is UTF-8 with a byte order mark,
like the core's exports; cells a spreadsheet would run as a formula are written as text."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.toolkit import Programme, _, db
from portal_joint import rollup
from portal_joint.forms import JOINT_STATUS_LABELS, PART_STATUS_LABELS
from portal_joint.models import JointAction, Participation

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def header() -> list[str]:
    return [
        _("Joint action id"),
        _("Joint action"),
        _("Status"),
        _("Aim"),
        _("Lead person"),
        _("Lead cluster"),
        _("Starts"),
        _("Due"),
        _("Shared budget: money"),
        _("Shared budget: hours"),
        _("Progress of the joint action (%)"),
        _("Cluster"),
        _("Joined on"),
        _("Left on"),
        _("Tasks"),
        _("Owner"),
        _("Status of the contribution"),
        _("Progress of the contribution (%)"),
        _("Hours spent"),
        _("Money spent"),
        _("Hours it would have taken alone"),
        _("Money it would have cost alone"),
    ]


def actions_of(programme: Programme) -> list[JointAction]:
    """The programme's joint actions with everything the rows need: four queries."""
    return list(
        db.session.scalars(
            select(JointAction)
            .where(JointAction.programme_id == programme.id)
            .options(
                selectinload(JointAction.parts).selectinload(Participation.cluster),
                selectinload(JointAction.parts).selectinload(Participation.owner),
                selectinload(JointAction.lead_user),
                selectinload(JointAction.lead_cluster),
            )
            .order_by(JointAction.due_date.is_(None), JointAction.due_date, JointAction.id)
        )
    )


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def rows(actions: Iterable[JointAction]) -> list[list[Any]]:
    out = []
    for action in actions:
        progress = rollup.action_progress(action).value
        common = [
            action.id,
            action.title,
            str(JOINT_STATUS_LABELS.get(action.status.value, action.status.value)),
            action.aim or "",
            action.lead_user.name if action.lead_user else "",
            action.lead_cluster.name if action.lead_cluster else "",
            action.start_date,
            action.due_date,
            _number(action.budget_money),
            _number(action.budget_hours),
            progress,
        ]
        if not action.parts:
            out.append(common + [None] * 11)
        for part in action.parts:
            out.append(
                common
                + [
                    part.cluster.name,
                    part.joined_on,
                    part.left_on,
                    part.tasks or "",
                    part.owner.name if part.owner else "",
                    str(PART_STATUS_LABELS.get(part.status.value, part.status.value)),
                    rollup.part_progress(part),
                    _number(part.hours_spent),
                    _number(part.money_spent),
                    _number(part.solo_hours),
                    _number(part.solo_money),
                ]
            )
    return out


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def to_csv(head: list[str], body: Iterable[Iterable[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(head)
    for row in body:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(title: str, head: list[str], body: list[list[Any]]) -> bytes:
    """One sheet: bold, frozen header; sized columns; text that looks like a formula stays
    text."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet"
    ws.append(head)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [len(h) for h in head]
    for r, row in enumerate(body, start=2):
        for c, value in enumerate(row, start=1):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
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
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def download_name(programme: Programme, extension: str) -> str:
    """An ASCII file name: letters, digits and dashes."""
    text = f"joint-actions-{programme.id}-{programme.name}"
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:80].strip("-")
    return text + extension
