"""Workshops: invitations, registration with a capacity and a waiting list, attendance,
minutes, decisions that become actions, and calendar files."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import markdown
import nh3
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from portal.accounts.models import Membership, MembershipCluster, Role, User
from portal.errors import ServiceError
from portal.events import apply_changes, emit
from portal.extensions import db
from portal.permissions import require
from portal.tenancy.models import Tenant
from portal.workshops import comms

# When a workshop is over and closing it: portal.workshops.closing (kept importable here).
from portal.workshops.closing import end_workshop, ends_at, has_begun, zone_of  # noqa: F401
from portal.workshops.models import (
    AgendaItem,
    Registration,
    RegistrationStatus,
    Workshop,
    WorkshopInvite,
)

WORKSHOP_FIELDS = (
    "programme_id",
    "title",
    "day",
    "start_time",
    "end_time",
    "location",
    "online_url",
    "description",
    "capacity",
)
AGENDA_FIELDS = ("start_time", "title", "presenter", "notes")


def _check(values: dict[str, Any]) -> None:
    start, end = values.get("start_time"), values.get("end_time")
    if start and end and end <= start:
        raise ServiceError(
            _("The workshop must end after it starts."),
            {"end_time": [_("The workshop must end after it starts.")]},
        )
    capacity = values.get("capacity")
    if capacity is not None and capacity < 1:
        raise ServiceError(
            _("The capacity is at least 1 (or empty for no limit)."),
            {"capacity": [_("At least 1, or empty for no limit.")]},
        )


def create_workshop(user: User | None, data: dict[str, Any], tenant_id: int) -> Workshop:
    if user is not None:
        require(user, "workshop.create")
    values = {k: data.get(k) for k in WORKSHOP_FIELDS if k in data}
    _check(values)
    workshop = Workshop(tenant_id=tenant_id, **values)
    db.session.add(workshop)
    db.session.commit()
    emit("workshop_saved", tenant_id, workshop=workshop, created=True, changes={}, user=user)
    return workshop


def update_workshop(user: User | None, workshop: Workshop, data: dict[str, Any]) -> Workshop:
    if user is not None:
        require(user, "workshop.manage", workshop)
    values = {k: data[k] for k in WORKSHOP_FIELDS if k in data}
    _check({"start_time": workshop.start_time, "end_time": workshop.end_time, **values})
    changes = apply_changes(workshop, values)
    if "capacity" in changes:
        _fill_free_seats(workshop, user)
    comms.changed(workshop, changes)  # a new .ics SEQUENCE, and the registered told
    db.session.commit()
    if changes:
        emit(
            "workshop_saved",
            workshop.tenant_id,
            workshop=workshop,
            created=False,
            changes=changes,
            user=user,
        )
    return workshop


def delete_workshop(user: User | None, workshop: Workshop) -> None:
    if user is not None:
        require(user, "workshop.manage", workshop)
    db.session.delete(workshop)
    db.session.commit()


# --- agenda -----------------------------------------------------------------------------


def add_agenda_item(user: User | None, workshop: Workshop, data: dict[str, Any]) -> AgendaItem:
    if user is not None:
        require(user, "workshop.manage", workshop)
    item = AgendaItem(
        tenant_id=workshop.tenant_id,
        workshop_id=workshop.id,
        **{k: data.get(k) for k in AGENDA_FIELDS if k in data},
    )
    db.session.add(item)
    comms.changed(workshop, {"agenda"})
    db.session.commit()
    return item


def delete_agenda_item(user: User | None, item: AgendaItem) -> None:
    if user is not None:
        require(user, "workshop.manage", item.workshop)
    comms.changed(item.workshop, {"agenda"})
    db.session.delete(item)
    db.session.commit()


# --- invitations and registration -------------------------------------------------------


def invite(
    user: User | None, workshop: Workshop, *, cluster_ids: list[int] = (), user_ids: list[int] = ()
) -> int:
    """Invite clusters (their people) and persons; returns how many new invitations."""
    if user is not None:
        require(user, "workshop.manage", workshop)
    existing = {
        (i.cluster_id, i.user_id)
        for i in db.session.scalars(
            select(WorkshopInvite).where(WorkshopInvite.workshop_id == workshop.id)
        )
    }
    valid_people = set(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.user_id.in_(list(user_ids) or [-1]), Membership.active.is_(True)
            )
        )
    )
    from portal.clusters.models import Cluster

    valid_clusters = set(
        db.session.scalars(select(Cluster.id).where(Cluster.id.in_(list(cluster_ids) or [-1])))
    )
    added = 0
    for cluster_id in valid_clusters:
        if (cluster_id, None) not in existing:
            db.session.add(
                WorkshopInvite(
                    tenant_id=workshop.tenant_id, workshop_id=workshop.id, cluster_id=cluster_id
                )
            )
            added += 1
    for person_id in valid_people:
        if (None, person_id) not in existing:
            db.session.add(
                WorkshopInvite(
                    tenant_id=workshop.tenant_id, workshop_id=workshop.id, user_id=person_id
                )
            )
            added += 1
    comms.send_invitations(workshop)  # those not invited by mail yet
    from portal.notifications.producers import workshop_invited

    workshop_invited(workshop, user)  # and in the notification centre
    db.session.commit()
    return added


def uninvite(user: User | None, invite_row: WorkshopInvite) -> None:
    if user is not None:
        require(user, "workshop.manage", db.session.get(Workshop, invite_row.workshop_id))
    db.session.delete(invite_row)
    db.session.commit()


def is_invited(membership: Membership, workshop: Any) -> bool:
    """Invited in person, or through a cluster the person works for. Coordinators always are."""
    if not isinstance(workshop, Workshop):
        return False
    if membership.role == Role.COORDINATOR:
        return True
    clusters = select(MembershipCluster.cluster_id).where(
        MembershipCluster.membership_id == membership.id
    )
    return (
        db.session.scalar(
            select(WorkshopInvite.id)
            .where(
                WorkshopInvite.workshop_id == workshop.id,
                (WorkshopInvite.user_id == membership.user_id)
                | WorkshopInvite.cluster_id.in_(clusters),
            )
            .limit(1)
        )
        is not None
    )


def _lock(workshop: Workshop) -> None:
    """Serialise seat changes of one workshop (PostgreSQL row lock; SQLite locks on write)."""
    db.session.execute(select(Workshop.id).where(Workshop.id == workshop.id).with_for_update())


def registered_count(workshop_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.workshop_id == workshop_id,
                Registration.status == RegistrationStatus.REGISTERED,
            )
        )
        or 0
    )


def _has_seat(workshop: Workshop) -> bool:
    return workshop.capacity is None or registered_count(workshop.id) < workshop.capacity


def registration_of(user_id: int, workshop_id: int) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(
            Registration.workshop_id == workshop_id, Registration.user_id == user_id
        )
    )


def register(user: User, workshop: Workshop, answers: dict | None = None) -> Registration:
    """A seat if one is free, else a place on the waiting list; ``answers``: to the
    workshop's registration questions (portal.workshops.questions), stored with it."""
    require(user, "workshop.register", workshop)
    if workshop.ended_at is not None or workshop.day < date.today():
        raise ServiceError(_("This workshop is over."))
    if workshop.cancelled_at is not None:
        raise ServiceError(_("This workshop is cancelled."))
    _lock(workshop)
    registration = registration_of(user.id, workshop.id)
    if registration is not None and registration.status != RegistrationStatus.CANCELLED:
        return registration
    status = RegistrationStatus.REGISTERED if _has_seat(workshop) else RegistrationStatus.WAITLISTED
    if registration is None:
        registration = Registration(
            tenant_id=workshop.tenant_id, workshop_id=workshop.id, user_id=user.id, status=status
        )
        db.session.add(registration)
    else:
        registration.status = status
        registration.requested_at = datetime.now().astimezone()
    if answers is not None:
        from portal.workshops.questions import store_answers

        db.session.flush()  # the registration's id
        store_answers(registration, answers)
    comms.confirm_registration(workshop, registration)
    db.session.commit()
    emit("registration_changed", workshop.tenant_id, registration=registration, user=user)
    return registration


def cancel(user: User, workshop: Workshop) -> Registration | None:
    """Give up the seat (or the waiting-list place); the first on the waiting list moves up."""
    if workshop.ended_at is not None or workshop.day < date.today():
        raise ServiceError(_("This workshop is over."))
    _lock(workshop)
    registration = registration_of(user.id, workshop.id)
    if registration is None or registration.status == RegistrationStatus.CANCELLED:
        return registration
    held_a_seat = registration.status == RegistrationStatus.REGISTERED
    registration.status = RegistrationStatus.CANCELLED
    db.session.flush()
    if held_a_seat:  # their calendar holds the workshop: take it out
        comms.registration_withdrawn(workshop, registration)
    promoted = _fill_free_seats(workshop, user)
    db.session.commit()
    emit("registration_changed", workshop.tenant_id, registration=registration, user=user)
    for moved in promoted:
        emit("registration_changed", workshop.tenant_id, registration=moved, user=user)
    return registration


def _fill_free_seats(workshop: Workshop, user: User | None) -> list[Registration]:
    """Move people up from the waiting list, first come first served; tell them by mail."""
    promoted = []
    while workshop.cancelled_at is None and _has_seat(workshop):
        waiting = db.session.scalar(
            select(Registration)
            .where(
                Registration.workshop_id == workshop.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.requested_at, Registration.id)
            .limit(1)
        )
        if waiting is None:
            break
        waiting.status = RegistrationStatus.REGISTERED
        db.session.flush()
        promoted.append(waiting)
        comms.seat_from_waiting_list(workshop, waiting)  # with the .ics
    return promoted


def mark_attendance(user: User | None, workshop: Workshop, attended_ids: set[int]) -> None:
    """Who attended, from the registered; nobody before the workshop has begun (region's clock)."""
    if user is not None:
        require(user, "workshop.manage", workshop)
    if attended_ids and not has_begun(workshop, zone_of(workshop.tenant_id)):
        raise ServiceError(_("Attendance can be marked once the workshop has begun."))
    registrations = db.session.scalars(
        select(Registration).where(
            Registration.workshop_id == workshop.id,
            Registration.status == RegistrationStatus.REGISTERED,
        )
    )
    changed = []
    for registration in registrations:
        attended = registration.id in attended_ids
        if registration.attended != attended:
            registration.attended = attended
            changed.append(registration)
    db.session.commit()
    for registration in changed:
        emit("registration_changed", workshop.tenant_id, registration=registration, user=user)


# --- minutes and the end of a workshop --------------------------------------------------

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "code",
    "pre",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
}


def render_minutes(text: str) -> Markup:
    """Markdown to HTML, then sanitised: no script, no inline style, safe links only."""
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"])
    # The page has its own h1 and h2: the minutes' headings go one level under them.
    html = re.sub(r"<(/?)h([1-4])\b", lambda m: f"<{m[1]}h{min(int(m[2]) + 2, 6)}", html)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 above


def set_minutes(user: User | None, workshop: Workshop, text: str) -> None:
    if user is not None:
        require(user, "workshop.manage", workshop)
    changes = apply_changes(workshop, {"minutes_md": text or ""})
    db.session.commit()
    if changes:
        emit(
            "workshop_saved",
            workshop.tenant_id,
            workshop=workshop,
            created=False,
            changes=changes,
            user=user,
        )


# --- calendar files ---------------------------------------------------------------------


def _event(workshop: Workshop, tenant: Tenant, url: str):
    from icalendar import Event

    tz = ZoneInfo(tenant.timezone)
    event = Event()
    event.add("uid", f"workshop-{workshop.id}@{tenant.slug}.cluster-forum-portal")
    event.add("summary", workshop.title)
    event.add("dtstart", datetime.combine(workshop.day, workshop.start_time, tzinfo=tz))
    event.add("dtend", datetime.combine(workshop.day, workshop.end_time, tzinfo=tz))
    event.add("dtstamp", datetime.now().astimezone())
    location = ", ".join(x for x in (workshop.location, workshop.online_url) if x)
    if location:
        event.add("location", location)
    event.add("description", (workshop.description or "") + f"\n\n{url}")
    event.add("url", url)
    event.add("sequence", workshop.sequence or 0)  # raised by changes (portal.workshops.comms)
    if workshop.cancelled_at is not None:
        event.add("status", "CANCELLED")
    return event


def calendar(workshops: list[tuple[Workshop, str]], tenant: Tenant, name: str) -> bytes:
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", "-//Cluster Forum Portal//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tenant.timezone)
    for workshop, url in workshops:
        cal.add_component(_event(workshop, tenant, url))
    cal.add_missing_timezones()  # the VTIMEZONE its TZID names (RFC 5545)
    return cal.to_ical()


def tomorrow_workshops(today: date) -> list[Workshop]:
    return list(
        db.session.scalars(select(Workshop).where(Workshop.day == today + timedelta(days=1)))
    )
