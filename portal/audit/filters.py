"""The audit log's filters (person, object, kind, dates), its page and its CSV: one reading
of the query arguments for the region's log and the platform's, so the page and the export
always show the same entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import Request, g
from flask_babel import get_timezone
from flask_babel import gettext as _
from sqlalchemy import Select, or_, select

from portal.audit.models import AuditEntry
from portal.audit.words import describe, object_name
from portal.formatting import format_datetime
from portal.plans.spreadsheets import to_csv

MAX_ID = 2**31 - 1
MAX_TEXT = 254
CSV_LIMIT = 50_000  # rows in one export; the page says when a filter would be wiser


@dataclass
class AuditFilters:
    action: str = ""
    person: str = ""
    object_type: str = ""
    object_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> dict[str, str]:
        """The filters as query arguments (for the CSV link and the pager)."""
        values = {
            "action": self.action,
            "person": self.person,
            "object_type": self.object_type,
            "object_id": str(self.object_id) if self.object_id is not None else "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in values.items() if v}


def _day(raw: str, errors: dict[str, str], key: str) -> date | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[key] = _("Give the day as YYYY-MM-DD, e.g. 2026-12-31.")
        return None
    if not 1900 <= day.year <= 9998:
        errors[key] = _("Give a day between the years 1900 and 9998.")
        return None
    return day


def read_filters(request: Request) -> AuditFilters:
    """The filters in the query arguments, with a translated message for each bad one."""
    args = request.args
    errors: dict[str, str] = {}
    text = {k: (args.get(k) or "").strip() for k in ("action", "person", "object_type")}
    for key, value in text.items():
        if len(value) > MAX_TEXT:
            errors[key] = _("This is too long.")
            text[key] = ""
    raw_id = (args.get("object_id") or "").strip()
    object_id = None
    if raw_id:
        if raw_id.isdigit() and 0 < int(raw_id) <= MAX_ID:
            object_id = int(raw_id)
        else:
            errors["object_id"] = _("Give the object's number (a whole number above 0).")
    date_from = _day((args.get("from") or "").strip(), errors, "from")
    date_to = _day((args.get("to") or "").strip(), errors, "to")
    if date_from and date_to and date_to < date_from:
        errors["to"] = _("The last day is before the first.")
    return AuditFilters(
        text["action"], text["person"], text["object_type"], object_id, date_from, date_to, errors
    )


def _start_of(day: date) -> datetime:
    """The first moment of the day in the region's time zone."""
    # In the database's terms: PostgreSQL compares moments; SQLite the server's wall clock,
    # which is how the entries were written (portal.audit.services).
    return get_timezone().localize(datetime.combine(day, time.min)).astimezone()


def filtered(stmt: Select, filters: AuditFilters) -> Select:
    """``stmt`` (a select of entries, already limited to a tenant or not) with the filters."""
    from portal.accounts.models import User

    stmt = stmt.order_by(None)
    if filters.action:
        stmt = stmt.where(AuditEntry.action == filters.action)
    if filters.object_type:
        stmt = stmt.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == filters.object_id)
    if filters.person:
        pattern = "%" + filters.person.replace("\\", "\\\\").replace("%", r"\%") + "%"
        named = select(User.id).where(
            or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))
        )
        stmt = stmt.where(
            or_(AuditEntry.user_id.in_(named), AuditEntry.actor.ilike(pattern, escape="\\"))
        )
    if filters.date_from:
        stmt = stmt.where(AuditEntry.at >= _start_of(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AuditEntry.at < _start_of(filters.date_to + timedelta(days=1)))
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def csv_rows(entries) -> list[list[str]]:
    rows = []
    for words in describe(entries, addresses=True):
        e = words.entry
        rows.append(
            [
                format_datetime(e.at, "short"),
                words.who,
                words.event,
                words.object,
                e.object_id if e.object_id is not None else "",
                e.summary,
                words.changes_text,
            ]
        )
    return rows


def csv_bytes(entries) -> bytes:
    header = [
        _("When"),
        _("Who"),
        _("Event"),
        _("Object"),
        _("Number"),
        _("What"),
        _("Changes"),
    ]
    return to_csv(header, csv_rows(entries))


def object_type_choices(types: list[str]) -> list[tuple[str, str]]:
    """(object type, its name) of the types found in the log, by name."""
    return sorted(((t, object_name(t)) for t in types if t), key=lambda pair: pair[1])


def region_slug() -> str:
    tenant = g.get("tenant")
    return tenant.slug if tenant is not None else "platform"


def log_page(base: Select, actions: list[str], types: list[str], template: str):
    """The audit log page of ``base`` (the entries the reader may see): filtered, paged and in
    words; bad filter input answers 400 with a message per filter and no entries."""
    from flask import render_template, request, url_for

    from portal.web.pagination import Page, page_args, paginate

    filters = read_filters(request)
    page, per_page = page_args(default_per_page=50)
    if filters.errors:
        pagination = Page([], 1, per_page, 0)
    else:
        pagination = paginate(filtered(base, filters), page, per_page)
    return render_template(
        template,
        pagination=pagination,
        entries=describe(pagination.items, addresses=True),
        filters=filters,
        actions=actions,
        object_types=object_type_choices(types),
        csv_url=url_for(f"{request.endpoint}_csv", **(request.view_args or {}), **filters.args),
    ), (400 if filters.errors else 200)


def log_csv(base: Select):
    """The CSV of the filtered log (the same filters as the page); 400 for bad filters."""
    from flask import Response, request

    from portal.extensions import db
    from portal.plans.spreadsheets import CSV_MIME, download_name

    filters = read_filters(request)
    if filters.errors:
        return Response(
            "\n".join(filters.errors.values()), 400, mimetype="text/plain; charset=utf-8"
        )
    entries = db.session.scalars(filtered(base, filters).limit(CSV_LIMIT)).all()
    name = download_name("audit-log", region_slug(), extension=".csv")
    return Response(
        csv_bytes(entries),
        mimetype=CSV_MIME,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
