"""Workshops in the JSON API: the workshops list (upcoming or past), one workshop, its
registrations as the workshop page shows them to the caller, and registering oneself (or
cancelling) as the page allows, over the workshops' services."""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user
from flask_smorest import Blueprint

from portal.api.helpers import documented, found_first, page_body, service_errors
from portal.api.schemas.common import PageArgsSchema
from portal.api.schemas.workshops import (
    RegisterSchema,
    RegistrationPageSchema,
    RegistrationSchema,
    WorkshopArgsSchema,
    WorkshopPageSchema,
    WorkshopSchema,
)
from portal.permissions import require
from portal.programmes.models import Programme
from portal.tenancy import get_or_404
from portal.web.pagination import paginate
from portal.workshops import listing, questions, registrants, services
from portal.workshops.models import Workshop

blp = Blueprint(
    "api_workshops",
    __name__,
    url_prefix="/api/v1/<tenant>",
    description="Workshops and who registered.",
)


def _workshop(workshop: Workshop, programme_name: str | None, registered: int) -> dict:
    return {
        **{k: getattr(workshop, k) for k in WorkshopSchema().fields if hasattr(workshop, k)},
        "programme_name": programme_name,
        "registered": registered,
        "cancelled": workshop.cancelled_at is not None,
    }


@blp.route("/workshops")
@blp.arguments(WorkshopArgsSchema, location="query", as_kwargs=True)
@blp.response(200, WorkshopPageSchema)
@documented(blp, 422)
def list_workshops(page: int, per_page: int, when: str, programme_id, q: str, sort: str):
    """The region's workshops, upcoming or past on the region's clock, filtered and sorted,
    with the seats taken (three queries)."""
    require(current_user, "workshop.view")
    today = listing.region_today(g.tenant)
    stmt = listing.workshops_query(today, when, programme_id=programme_id, q=q, sort=sort)
    result = paginate(stmt, page, per_page, scalars=False)
    counts = listing.registered_counts([w.id for w, _name in result.items])
    return page_body(result, lambda row: _workshop(row[0], row[1], counts.get(row[0].id, 0)))


@blp.route("/workshops/<int:workshop_id>")
@blp.response(200, WorkshopSchema)
@documented(blp)
def get_workshop(workshop_id: int):
    """One workshop with the seats taken."""
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.view", workshop)
    programme = get_or_404(Programme, workshop.programme_id) if workshop.programme_id else None
    return _workshop(
        workshop, programme.name if programme else None, services.registered_count(workshop.id)
    )


def _registration(registrant: registrants.Registrant, full: bool) -> dict:
    reg = registrant.registration
    row = {
        "id": reg.id,
        "workshop_id": reg.workshop_id,
        "user_id": reg.user_id,
        "name": registrant.name,
        "status": reg.status,
        "requested_at": reg.requested_at,
    }
    if full:
        row |= {
            "email": registrant.email,
            "clusters": registrant.clusters,
            "answers": registrant.answers,
        }
    return row


@blp.route("/workshops/<int:workshop_id>/registrations")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, RegistrationPageSchema)
@documented(blp, 422)
def list_registrations(workshop_id: int, page: int, per_page: int):
    """Who is registered, then the waiting list, each in the order they asked. The
    workshop's managers see e-mail, clusters and answers too; everyone else, as on the
    workshop page, names and status."""
    workshop = get_or_404(Workshop, workshop_id)
    result, full = registrants.registrants_for(current_user, workshop, page, per_page)
    return page_body(result, lambda registrant: _registration(registrant, full))


def _own(workshop: Workshop) -> dict:
    found = registrants.own_registrant(current_user, workshop)
    if found is None:
        abort(404)
    return _registration(found, True)


@blp.route("/workshops/<int:workshop_id>/registration", methods=["POST"])
@found_first(workshop_id=Workshop)
@blp.arguments(RegisterSchema)
@blp.response(200, RegistrationSchema)
@documented(blp, 403, 422)
def register(data: dict, workshop_id: int):
    """Register oneself, as the workshop page allows (invited, not an observer; a seat if
    one is free, else the waiting list), with the answers to the workshop's questions,
    checked as the register form checks them. Registering again changes nothing."""
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.register", workshop)
    with service_errors(409):
        answers = questions.checked_answers(workshop.id, data["answers"])
        services.register(current_user, workshop, answers=answers)
    return _own(workshop)


@blp.route("/workshops/<int:workshop_id>/registration", methods=["DELETE"])
@blp.response(200, RegistrationSchema)
@documented(blp, 422)
def cancel(workshop_id: int):
    """Give up one's seat or place on the waiting list (the first waiting moves up)."""
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.view", workshop)
    with service_errors(409):
        registration = services.cancel(current_user, workshop)
    if registration is None:
        abort(404)  # not registered
    return _own(workshop)
