"""When a workshop is over, and closing it: by the real clock, never by a date typed in.

A workshop is over once its day and end time have passed in its region's time zone
(:func:`is_over`). Closing it (:func:`end_workshop`) sets ``ended_at`` and tells plugins
(``workshop_ended``), once, and only when it is over: whoever asks (the schedule's
``portal.workshops.close_ended`` every 15 minutes, ``portal send-reminders``, a coordinator's
Close), a workshop that is not over is never closed. Two of them at the same moment close it
once: the UPDATE that sets ``ended_at`` matches only a row not closed yet.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.audit.services import record_event
from portal.errors import ServiceError
from portal.events import emit
from portal.extensions import db
from portal.tenancy import tenant_scope, unscoped
from portal.tenancy.models import Tenant
from portal.workshops.models import Workshop


def ends_at(workshop: Workshop, tz: str) -> datetime:
    """The moment the workshop ends: its day and end time in the time zone ``tz``."""
    return datetime.combine(workshop.day, workshop.end_time, tzinfo=ZoneInfo(tz))


def zone_of(tenant_id: int) -> str:
    """The region's time zone (the tenant is usually loaded already: no query)."""
    tenant = db.session.get(Tenant, tenant_id)
    return (tenant.timezone if tenant is not None else None) or "UTC"


def starts_at(workshop: Workshop, tz: str) -> datetime:
    """The moment the workshop begins: its day and start time in the time zone ``tz``."""
    return datetime.combine(workshop.day, workshop.start_time, tzinfo=ZoneInfo(tz))


def has_begun(workshop: Workshop, tz: str) -> bool:
    """Begun by the real clock: attendance can be marked from then on, never before."""
    return starts_at(workshop, tz) <= datetime.now(UTC)


def is_over(workshop: Workshop, tz: str) -> bool:
    """Over by the real clock: its day and end time, in the region's time zone, have passed."""
    return ends_at(workshop, tz) <= datetime.now(UTC)


def workshops_over(tenant: Tenant, *, before: date | None = None) -> list[Workshop]:
    """The tenant's workshops not closed yet that are over by the real clock (one query; the
    tenant in scope). ``before``: only those of a day before it (the daily reminders' run)."""
    zone = tenant.timezone or "UTC"
    real_today = datetime.now(ZoneInfo(zone)).date()
    stmt = select(Workshop).where(Workshop.day <= real_today, Workshop.ended_at.is_(None))
    if before is not None:
        stmt = stmt.where(Workshop.day < before)
    candidates = db.session.scalars(stmt.order_by(Workshop.day, Workshop.id)).all()
    return [w for w in candidates if is_over(w, zone)]


def end_workshop(workshop: Workshop) -> bool:
    """Close the workshop and tell plugins (``workshop_ended``), once: ``False`` when it was
    closed already. Refused (``ServiceError``) while it is not over by the real clock."""
    if workshop.ended_at is not None:
        return False
    if not is_over(workshop, zone_of(workshop.tenant_id)):
        raise ServiceError(_("A workshop can be closed once it is over."))
    # The version stays: no form edits ``ended_at``, so closing at the end time never turns
    # the attendance or the minutes a coordinator is writing into a conflict.
    closed = db.session.execute(
        update(Workshop)
        .where(Workshop.id == workshop.id, Workshop.ended_at.is_(None))
        .values(ended_at=datetime.now().astimezone())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(workshop)
    if not closed:
        return False  # someone else closed it a moment ago, and told the plugins
    # In the audit log as a change of the workshop, by whoever closed it (a person, or the
    # schedule's or the command's name).
    record_event(
        "update",
        tenant_id=workshop.tenant_id,
        summary=workshop.title,
        object_type="workshop",
        object_id=workshop.id,
    )
    emit("workshop_ended", workshop.tenant_id, workshop=workshop)
    return True


def close_ended() -> dict[str, int]:
    """The schedule's job ``portal.workshops.close_ended``: close, in every region, the
    workshops that are over by the real clock. Answers how many regions and workshops."""
    with unscoped():
        tenants = list(db.session.scalars(select(Tenant).order_by(Tenant.id)))
    counts = {"tenants": 0, "workshops_ended": 0}
    base_url = current_app.config.get("PORTAL_BASE_URL") or "http://127.0.0.1:5000"
    # Plugins told of the end may build links: a request context for the public address.
    with current_app.test_request_context(base_url=base_url):
        g.cli_actor = "close-ended-workshops"
        for tenant in tenants:
            with tenant_scope(tenant.id):
                for workshop in workshops_over(tenant):
                    if end_workshop(workshop):
                        counts["workshops_ended"] += 1
            counts["tenants"] += 1
    return counts
