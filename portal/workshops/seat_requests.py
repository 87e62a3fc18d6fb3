"""Seats asked for: a member who was not invited asks (with an optional note and the answers
to the workshop's questions); a coordinator accepts or declines (with an optional reason), and
the person is told by mail.

Accepting invites the person and registers them through :func:`services.register` (a seat if
one is free, else the waiting list), in one transaction with the decision. Two coordinators
deciding at once decide once: the UPDATE that decides matches only a request still pending.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.accounts.models import Role, User
from portal.db import utcnow
from portal.errors import ServiceError
from portal.extensions import db
from portal.permissions import may, membership_for, require
from portal.tenancy.models import Tenant
from portal.workshops import questions, services
from portal.workshops.models import Registration, Workshop, WorkshopInvite
from portal.workshops.registration_models import SeatRequest, SeatRequestStatus

# The roles that register when invited (portal.permissions: workshop.register).
ASKING_ROLES = frozenset({Role.CLUSTER_MANAGER, Role.MEMBER})
SEAT_REQUEST_STATUS_LABELS = {
    "pending": _l("Waiting for a decision"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
}


def is_open(workshop: Workshop) -> bool:
    """Registration is open: not over, not closed, not called off."""
    return (
        getattr(workshop, "cancelled_at", None) is None
        and workshop.day >= date.today()
        and questions.editable(workshop)
    )


def may_ask(user: User, workshop: Workshop) -> bool:
    """Someone who would register if invited, but is not invited."""
    membership = membership_for(user, workshop.tenant_id)
    return (
        membership is not None
        and membership.role in ASKING_ROLES
        and not may(user, "workshop.register", workshop)
    )


def request_of(user_id: int, workshop_id: int) -> SeatRequest | None:
    return db.session.scalar(
        select(SeatRequest).where(
            SeatRequest.workshop_id == workshop_id, SeatRequest.user_id == user_id
        )
    )


def ask(user: User, workshop: Workshop, note: str, answers: dict[str, Any]) -> SeatRequest:
    """Ask for a seat (again after withdrawing; a pending request takes the new note and
    answers). A declined request stays declined."""
    if not may_ask(user, workshop):
        raise ServiceError(_("You may register yourself, or not ask for a seat here."))
    if not is_open(workshop):
        raise ServiceError(_("Registration for this workshop is closed."))
    clean = questions.clean_answers(questions.questions_of(workshop.id), answers)
    request = request_of(user.id, workshop.id)
    if request is None:
        request = SeatRequest(
            tenant_id=workshop.tenant_id,
            workshop_id=workshop.id,
            user_id=user.id,
            status=SeatRequestStatus.PENDING,
        )
        db.session.add(request)
    elif request.status == SeatRequestStatus.DECLINED:
        raise ServiceError(_("Your request for a seat was declined."))
    elif request.status == SeatRequestStatus.ACCEPTED:
        raise ServiceError(_("Your request for a seat was accepted already."))
    elif request.status == SeatRequestStatus.WITHDRAWN:
        request.status = SeatRequestStatus.PENDING
        request.requested_at = utcnow()
    request.note = note or ""
    request.answers = clean
    db.session.commit()
    return request


def withdraw(user: User, workshop: Workshop) -> bool:
    result = db.session.execute(
        update(SeatRequest)
        .where(
            SeatRequest.workshop_id == workshop.id,
            SeatRequest.user_id == user.id,
            SeatRequest.status == SeatRequestStatus.PENDING,
        )
        .values(status=SeatRequestStatus.WITHDRAWN)
    )
    db.session.commit()
    return result.rowcount == 1


def pending(workshop_id: int) -> list[tuple[SeatRequest, User]]:
    """The requests waiting for a decision, with their person, oldest first (one query)."""
    return list(
        db.session.execute(
            select(SeatRequest, User)
            .join(User, User.id == SeatRequest.user_id)
            .where(
                SeatRequest.workshop_id == workshop_id,
                SeatRequest.status == SeatRequestStatus.PENDING,
            )
            .order_by(SeatRequest.requested_at, SeatRequest.id)
        ).all()
    )


def _decide(coordinator: User | None, request: SeatRequest, status: SeatRequestStatus, **values):
    """Mark it decided, only if it is still pending (one conditional UPDATE)."""
    result = db.session.execute(
        update(SeatRequest)
        .where(SeatRequest.id == request.id, SeatRequest.status == SeatRequestStatus.PENDING)
        .values(
            status=status,
            decided_by_id=coordinator.id if coordinator is not None else None,
            decided_at=utcnow(),
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise ServiceError(_("This request was decided already."))


def _tell(person: User, workshop: Workshop, template: str, **context) -> None:
    from portal.accounts.services import external_url
    from portal.mail.compose import notify

    notify(
        person,
        "workshops",
        template,
        tenant=db.session.get(Tenant, workshop.tenant_id),
        link=external_url("workshops.detail", workshop_id=workshop.id),
        reason=_l("You get this mail because you asked for a seat at this workshop."),
        workshop=workshop,
        **context,
    )


def accept(coordinator: User | None, workshop: Workshop, request: SeatRequest) -> Registration:
    """Invite the person and register them as :func:`services.register` does (a seat, or the
    waiting list when the seats are taken), with the answers they gave. register() tells them
    (a seat with the .ics, or the waiting list), as anyone who registers: one mail, listed
    among who was told what."""
    if coordinator is not None:
        require(coordinator, "workshop.manage", workshop)
    person = db.session.get(User, request.user_id)
    membership = membership_for(person, workshop.tenant_id) if person is not None else None
    if person is None or not person.active or membership is None:
        raise ServiceError(_("This person no longer has access to the region."))
    if membership.role not in ASKING_ROLES and membership.role != Role.COORDINATOR:
        raise ServiceError(_("This person's role no longer lets them register."))
    if not is_open(workshop):
        raise ServiceError(_("Registration for this workshop is closed."))
    _decide(coordinator, request, SeatRequestStatus.ACCEPTED)
    invited = db.session.scalar(
        select(WorkshopInvite.id).where(
            WorkshopInvite.workshop_id == workshop.id, WorkshopInvite.user_id == person.id
        )
    )
    if invited is None:
        db.session.add(
            WorkshopInvite(tenant_id=workshop.tenant_id, workshop_id=workshop.id, user_id=person.id)
        )
    try:
        # Commits the decision, the invitation, the mail and the registration together.
        return services.register(person, workshop, answers=request.answers or {})
    except ServiceError:
        db.session.rollback()
        raise


def decline(
    coordinator: User | None, workshop: Workshop, request: SeatRequest, reason: str = ""
) -> None:
    if coordinator is not None:
        require(coordinator, "workshop.manage", workshop)
    _decide(coordinator, request, SeatRequestStatus.DECLINED, reason=reason or "")
    person = db.session.get(User, request.user_id)
    if person is not None and person.active:
        _tell(person, workshop, "seat_request_declined", decline_reason=reason or "")
    db.session.commit()
