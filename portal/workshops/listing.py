"""The workshops list (the page and the JSON API): upcoming or past on the region's clock,
filtered and sorted, and the seats taken of a page of them in one query."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select

from portal.extensions import db
from portal.programmes.models import Programme
from portal.workshops.models import Registration, RegistrationStatus, Workshop

WHEN = ("upcoming", "past")
SORTS = {
    "day": (Workshop.day, Workshop.start_time, Workshop.id),
    "-day": (Workshop.day.desc(), Workshop.start_time.desc(), Workshop.id.desc()),
    "title": (func.lower(Workshop.title), Workshop.id),
}


def region_today(tenant) -> date:
    """Today where the region is (a workshop of today is upcoming all day there)."""
    return datetime.now(ZoneInfo(tenant.timezone)).date()


def workshops_query(
    today: date, when: str = "", *, programme_id: int | None = None, q: str = "", sort: str = ""
) -> Select:
    """(Workshop, its programme's name or None): ``when``, upcoming (from ``today``) or past;
    ``sort``, one of ``SORTS`` (default: upcoming soonest first, otherwise newest first)."""
    stmt = select(Workshop, Programme.name).outerjoin(
        Programme, Programme.id == Workshop.programme_id
    )
    if when == "upcoming":
        stmt = stmt.where(Workshop.day >= today)
    elif when == "past":
        stmt = stmt.where(Workshop.day < today)
    if programme_id:
        stmt = stmt.where(Workshop.programme_id == programme_id)
    if q.strip():
        stmt = stmt.where(func.lower(Workshop.title).contains(q.strip().lower(), autoescape=True))
    default = "day" if when == "upcoming" else "-day"
    return stmt.order_by(*SORTS.get(sort or default, SORTS[default]))


def registered_counts(workshop_ids: list[int]) -> dict[int, int]:
    """Seats taken per workshop, in one query."""
    if not workshop_ids:
        return {}
    rows = db.session.execute(
        select(Registration.workshop_id, func.count())
        .where(
            Registration.workshop_id.in_(workshop_ids),
            Registration.status == RegistrationStatus.REGISTERED,
        )
        .group_by(Registration.workshop_id)
    )
    return dict(rows.all())
