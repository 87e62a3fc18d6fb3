"""What a workshop tells people by mail: the invitation, the confirmation of a registration (or
of a place on the waiting list), a seat from the waiting list, a change of the day, time,
place, online link or agenda, a cancellation, and a coordinator's message.

Every mail is written to the outbox in the caller's transaction (a rolled-back change sends
nothing) together with a :class:`WorkshopNotice` row (who was told what, shown on the workshop
page). Each is sent once per person and change: its outbox key names the workshop, the kind,
the person and the change (``workshop:<id>:<what>:<user>[:<tag>]``; the tag is the .ics
SEQUENCE, a registration's moment, or a message's digest), and keys already in the outbox are
skipped. Only active people with an active role in the region who get workshop mail (their
setting, asked in the same query) are told; the people are loaded in one query and each mail
is rendered once per language, so the queries do not grow with the people.

The calendar file (METHOD:REQUEST, or METHOD:CANCEL with STATUS:CANCELLED) keeps the UID of
:func:`portal.workshops.services._event`; ``Workshop.sequence`` rises with every change that
calendar apps must follow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from portal.accounts.models import Membership, MembershipCluster, Role, User
from portal.errors import ServiceError
from portal.events import emit
from portal.extensions import db
from portal.mail.compose import compose, recipient_locale
from portal.mail.models import OutboxMessage
from portal.mail.preferences import receives
from portal.permissions import require
from portal.tenancy.models import Tenant
from portal.workshops import closing
from portal.workshops.models import Registration, RegistrationStatus, Workshop, WorkshopInvite
from portal.workshops.notices import Told, WorkshopNotice

KIND = "workshops"  # the people's mail setting (portal.mail.preferences)
# What calendar apps must follow: a change of these raises the .ics SEQUENCE and tells the
# registered ("agenda": an agenda item added or removed).
TRIGGERS = ("day", "start_time", "end_time", "location", "online_url", "agenda")
CHANGE_LABELS = {
    "day": _l("Date"),
    "time": _l("Time"),
    "location": _l("Place"),
    "online_url": _l("Online link"),
    "agenda": _l("Agenda"),
}
AUDIENCES = ("registered", "invited")
KEY_BATCH = 500
HOLDING = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)


def _tenant(workshop: Workshop) -> Tenant:
    return db.session.get(Tenant, workshop.tenant_id)


def page_url(workshop: Workshop, tenant: Tenant, anchor: str = "") -> str:
    from portal.accounts.services import external_url

    values = {"_anchor": anchor} if anchor else {}
    return external_url("workshops.detail", tenant=tenant.slug, workshop_id=workshop.id, **values)


def is_closed(workshop: Workshop, tenant: Tenant) -> bool:
    """Cancelled, closed or over: nobody is invited to it or told of its changes any more."""
    return (
        workshop.cancelled_at is not None
        or workshop.ended_at is not None
        or closing.is_over(workshop, tenant.timezone or "UTC")
    )


# --- the calendar file --------------------------------------------------------------------


def ics(
    workshop: Workshop, tenant: Tenant, *, method: str, person: User | None = None, partstat=""
) -> dict[str, str]:
    """The workshop as an iTIP attachment: METHOD:REQUEST (an invitation or an update) or
    METHOD:CANCEL; the organizer is the portal's sender, the attendee the person."""
    from icalendar import Calendar, vCalAddress

    from portal.workshops.services import _event

    cal = Calendar()
    cal.add("prodid", "-//Cluster Forum Portal//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = _event(workshop, tenant, page_url(workshop, tenant))
    organizer = vCalAddress(f"mailto:{current_app.config.get('MAIL_SENDER') or 'portal@localhost'}")
    organizer.params["cn"] = tenant.name
    event.add("organizer", organizer)
    if person is not None:
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params.update({"cn": person.name, "rsvp": "FALSE", "role": "REQ-PARTICIPANT"})
        if partstat:
            attendee.params["partstat"] = partstat
        event.add("attendee", attendee)
    if method == "CANCEL" and "status" not in event:
        event.add("status", "CANCELLED")
    cal.add_component(event)
    cal.add_missing_timezones()  # the VTIMEZONE its TZID names (RFC 5545; Outlook needs it)
    return {
        "filename": f"workshop-{workshop.id}.ics",
        "content_type": f"text/calendar; method={method}",
        "text": cal.to_ical().decode("utf-8"),
    }


# --- who gets it --------------------------------------------------------------------------


def _invited(workshop: Workshop) -> Any:
    """SQL: the person (User, Membership joined) is invited in person or through a cluster."""
    clusters = select(WorkshopInvite.cluster_id).where(
        WorkshopInvite.workshop_id == workshop.id, WorkshopInvite.cluster_id.is_not(None)
    )
    return or_(
        User.id.in_(
            select(WorkshopInvite.user_id).where(
                WorkshopInvite.workshop_id == workshop.id, WorkshopInvite.user_id.is_not(None)
            )
        ),
        Membership.id.in_(
            select(MembershipCluster.membership_id).where(
                MembershipCluster.cluster_id.in_(clusters)
            )
        ),
    )


def _holding(workshop: Workshop, statuses=HOLDING) -> Any:
    """SQL: the person has a registration of these statuses."""
    return User.id.in_(
        select(Registration.user_id).where(
            Registration.workshop_id == workshop.id, Registration.status.in_(statuses)
        )
    )


def _registered_or_invited(workshop: Workshop) -> Any:
    """SQL: registered or waiting, or invited (observers take no part: they may not register)."""
    return or_(_holding(workshop), (Membership.role != Role.OBSERVER) & _invited(workshop))


def _people(workshop: Workshop, *conditions: Any) -> list[User]:
    """Active people with an active role in the region who get workshop mail: one query."""
    stmt = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.tenant_id == workshop.tenant_id,
            Membership.active.is_(True),
            User.active.is_(True),
            receives(KIND),
            *conditions,
        )
        .order_by(User.id)
    )
    return list(db.session.scalars(stmt))


def _sent_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), KEY_BATCH):
        batch = keys[start : start + KEY_BATCH]
        found.update(
            db.session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(batch)))
        )
    return found


def _send(
    workshop: Workshop,
    people: Iterable[User],
    what: Told,
    template: str,
    *,
    tag: str | None = None,
    method: str = "",
    partstat: str = "",
    subject: str = "",
    reason: Any = "",
    anchor: str = "",
    link_label: Any = None,
    **context: Any,
) -> int:
    """Queue the mail for each person not told yet, with a notice each; how many were."""
    tenant = _tenant(workshop)
    people = list(people)
    keys = {
        p.id: f"workshop:{workshop.id}:{what.value}:{p.id}" + (f":{tag}" if tag else "")
        for p in people
    }
    done = _sent_keys(list(keys.values()))
    link = page_url(workshop, tenant, anchor)
    mails: dict[str, Any] = {}
    told = 0
    for person in people:
        if keys[person.id] in done:
            continue
        locale = recipient_locale(person, tenant)
        if locale not in mails:  # rendered once per language
            mails[locale] = compose(
                template,
                locale=locale,
                tenant=tenant,
                reason=reason,
                link=link,
                link_label=link_label,
                workshop=workshop,
                with_calendar=bool(method),
                **context,
            )
        mail = mails[locale]
        attachments = (
            [ics(workshop, tenant, method=method, person=person, partstat=partstat)]
            if method
            else None
        )
        message = mail.send(
            person.email,
            attachments=attachments,
            kind=KIND,
            key=keys[person.id],
            tenant_id=tenant.id,
        )
        db.session.add(
            WorkshopNotice(
                tenant_id=workshop.tenant_id,
                workshop_id=workshop.id,
                user_id=person.id,
                what=what.value,
                sequence=workshop.sequence or 0,
                subject=subject[:300],
                message=message,
            )
        )
        told += 1
    return told


def _moment(registration: Registration) -> str:
    """A registration's request, as a key's tag: registering again is a new request."""
    db.session.flush()
    return registration.requested_at.strftime("%Y%m%d%H%M%S%f")


# --- the mails ----------------------------------------------------------------------------


def send_invitations(workshop: Workshop) -> int:
    """Invite everyone invited (in person or through a cluster) who was not invited yet and
    has not registered; observers take no part (they may not register)."""
    if is_closed(workshop, _tenant(workshop)):
        return 0
    db.session.flush()
    people = _people(
        workshop,
        Membership.role != Role.OBSERVER,
        _invited(workshop),
        ~_holding(workshop),
    )
    return _send(
        workshop,
        people,
        Told.INVITATION,
        "workshop_invitation",
        method="REQUEST",
        partstat="NEEDS-ACTION",
        reason=_l("You get this mail because you are invited to this workshop."),
        anchor="registration",
        link_label=_l("Register on the workshop's page"),
    )


def confirm_registration(workshop: Workshop, registration: Registration) -> int:
    """A seat (with the .ics) or a place on the waiting list (none yet): tell the person."""
    people = _people(workshop, User.id == registration.user_id)
    seat = registration.status == RegistrationStatus.REGISTERED
    return _send(
        workshop,
        people,
        Told.REGISTERED if seat else Told.WAITLISTED,
        "workshop_registered" if seat else "workshop_waitlisted",
        tag=_moment(registration),
        method="REQUEST" if seat else "",
        partstat="ACCEPTED",
        reason=_l("You get this mail because you registered for this workshop."),
        anchor="registration",
    )


def seat_from_waiting_list(workshop: Workshop, registration: Registration) -> int:
    if workshop.cancelled_at is not None:
        return 0
    return _send(
        workshop,
        _people(workshop, User.id == registration.user_id),
        Told.SEAT,
        "seat_from_waiting_list",
        tag=_moment(registration),
        method="REQUEST",
        partstat="ACCEPTED",
        reason=_l("You get this mail because you are on the waiting list."),
        anchor="registration",
    )


def registration_withdrawn(workshop: Workshop, registration: Registration) -> int:
    """Someone who held a seat cancelled: a METHOD:CANCEL takes it out of their calendar."""
    return _send(
        workshop,
        _people(workshop, User.id == registration.user_id),
        Told.WITHDRAWN,
        "workshop_withdrawn",
        tag=_moment(registration),
        method="CANCEL",
        partstat="DECLINED",
        reason=_l("You get this mail because you cancelled your registration for this workshop."),
        anchor="registration",
    )


def _raise_sequence(workshop: Workshop) -> None:
    """SEQUENCE + 1 in its own UPDATE: a calendar's counter, not an edit of the workshop, so
    the workshop's version stays (an agenda item added does not refuse someone's minutes)."""
    from sqlalchemy import update
    from sqlalchemy.orm.attributes import set_committed_value

    new = (workshop.sequence or 0) + 1
    db.session.execute(
        update(Workshop)
        .where(Workshop.id == workshop.id)
        .values(sequence=new)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(workshop, "sequence", new)


def changed(workshop: Workshop, fields: Iterable[str]) -> int:
    """After a change of the workshop (``fields``: what changed; "agenda" for its agenda):
    a change calendar apps must follow raises the SEQUENCE and tells the registered, and the
    invited who have not registered (their calendars hold the invitation)."""
    what = [f for f in TRIGGERS if f in set(fields)]
    if not what:
        return 0
    _raise_sequence(workshop)
    if is_closed(workshop, _tenant(workshop)):
        return 0
    db.session.flush()
    changes = [
        CHANGE_LABELS[f]
        for f in dict.fromkeys(f.replace("start_", "").replace("end_", "") for f in what)
    ]
    registered = _holding(workshop, (RegistrationStatus.REGISTERED,))
    # The invited who never registered hold the invitation's calendar entry: it moves too.
    never_registered = ~User.id.in_(
        select(Registration.user_id).where(Registration.workshop_id == workshop.id)
    )
    invited = (Membership.role != Role.OBSERVER) & _invited(workshop) & never_registered
    told = 0
    for people, partstat, reason in (
        (
            _people(workshop, registered),
            "ACCEPTED",
            _l("You get this mail because you registered for this workshop."),
        ),
        (
            _people(workshop, invited),
            "NEEDS-ACTION",
            _l("You get this mail because you are invited to this workshop."),
        ),
    ):
        told += _send(
            workshop,
            people,
            Told.UPDATE,
            "workshop_update",
            tag=str(workshop.sequence),
            method="REQUEST",
            partstat=partstat,
            reason=reason,
            changes=changes,
        )
    return told


def cancel_workshop(user: User | None, workshop: Workshop, note: str = "") -> int:
    """Call the workshop off: registration closes, and the registered, the waiting list and
    the invited get the cancellation (METHOD:CANCEL). Returns how many were told."""
    if user is not None:
        require(user, "workshop.manage", workshop)
    if workshop.cancelled_at is not None:
        raise ServiceError(_("This workshop is cancelled already."))
    tenant = _tenant(workshop)
    if is_closed(workshop, tenant):
        raise ServiceError(_("This workshop is over: it cannot be cancelled any more."))
    workshop.cancelled_at = datetime.now(UTC)
    workshop.cancelled_by_id = user.id if user is not None else None
    workshop.cancel_note = (note or "").strip()
    _raise_sequence(workshop)
    db.session.flush()
    people = _people(workshop, _registered_or_invited(workshop))
    told = _send(
        workshop,
        people,
        Told.CANCELLATION,
        "workshop_cancelled",
        tag=str(workshop.sequence),
        method="CANCEL",
        partstat="DECLINED",
        reason=_l("You get this mail because you were invited to this workshop or registered."),
        note=workshop.cancel_note,
    )
    db.session.commit()
    emit(
        "workshop_saved",
        workshop.tenant_id,
        workshop=workshop,
        created=False,
        changes={"cancelled_at": (None, workshop.cancelled_at)},
        user=user,
    )
    return told


def send_message(
    user: User | None, workshop: Workshop, *, subject: str, text: str, audience: str
) -> tuple[int, int]:
    """A coordinator's message to everyone registered (and waiting), or to everyone invited
    (and registered). Sent once per person: the same words again reach only those who did
    not get them. Returns (told now, told before)."""
    if user is not None:
        require(user, "workshop.manage", workshop)
    if audience not in AUDIENCES:
        raise ServiceError(_("Choose who gets the message."))
    subject, text = (subject or "").strip(), (text or "").strip()
    if not subject or not text:
        raise ServiceError(_("A message needs a subject and a text."))
    who = _holding(workshop) if audience == "registered" else _registered_or_invited(workshop)
    people = _people(workshop, who)
    digest = hashlib.sha256(f"{subject}\n{text}".encode()).hexdigest()[:16]
    told = _send(
        workshop,
        people,
        Told.MESSAGE,
        "workshop_message",
        tag=digest,
        subject=subject,
        reason=(
            _l("You get this mail because you registered for this workshop.")
            if audience == "registered"
            else _l("You get this mail because you are invited to this workshop.")
        ),
        message_subject=subject,
        message_text=text,
        author=user.name if user is not None else "",
    )
    db.session.commit()
    return told, len(people) - told
