"""Programmes in the JSON API: the programmes page's list with each one's progress, one
programme with its figures, and its participants, over the programmes' services."""

from __future__ import annotations

from datetime import date

from flask_login import current_user
from flask_smorest import Blueprint

from portal.api.helpers import documented, page_body
from portal.api.schemas.programmes import (
    ParticipantArgsSchema,
    ParticipantPageSchema,
    ProgrammeArgsSchema,
    ProgrammeDetailSchema,
    ProgrammePageSchema,
)
from portal.permissions import require
from portal.plans import progress
from portal.programmes import listing, services
from portal.programmes.models import Programme
from portal.tenancy import get_or_404
from portal.web.pagination import paginate

blp = Blueprint(
    "api_programmes",
    __name__,
    url_prefix="/api/v1/<tenant>",
    description="Joint improvement programmes and how far they have come.",
)


def _progress(done: progress.Progress) -> dict:
    return {"percent": float(round(done.percent, 1)), "actions": done.actions, "done": done.done}


def _programme(programme: Programme, count: int, done: progress.Progress) -> dict:
    return {
        "id": programme.id,
        "name": programme.name,
        "description": programme.description,
        "start_date": programme.start_date,
        "end_date": programme.end_date,
        "participant_count": count,
        "progress": _progress(done),
        "version": programme.version,
    }


@blp.route("/programmes")
@blp.arguments(ProgrammeArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ProgrammePageSchema)
@documented(blp, 422)
def list_programmes(page: int, per_page: int, q: str, state: str, sort: str):
    """The region's programmes, filtered and sorted, each with its participants and progress
    (three queries)."""
    require(current_user, "programme.view")
    stmt = listing.programmes_query(q, state, sort, today=date.today())
    result = paginate(stmt, page, per_page, scalars=False)
    done = progress.programmes_progress([p.id for p, _n in result.items])
    return page_body(result, lambda item: _programme(item[0], item[1], done[item[0].id]))


@blp.route("/programmes/<int:programme_id>")
@blp.response(200, ProgrammeDetailSchema)
@documented(blp)
def get_programme(programme_id: int):
    """One programme with its figures as its page shows them: progress over all its plans'
    actions, overdue actions, plans, workshops and milestones."""
    programme = get_or_404(Programme, programme_id)
    require(current_user, "programme.view", programme)
    overview = services.overview(programme, date.today(), page=1, per_page=1)
    return {
        **_programme(programme, overview.participant_count, overview.total),
        "overdue_count": overview.overdue_count,
        "joint_plan_count": overview.joint_plan_count,
        "own_plan_count": overview.own_plans.count,
        "workshop_count": overview.workshop_count,
        "milestone_count": overview.milestone_count,
    }


@blp.route("/programmes/<int:programme_id>/participants")
@blp.arguments(ParticipantArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ParticipantPageSchema)
@documented(blp, 422)
def list_participants(programme_id: int, page: int, per_page: int, q: str):
    """The clusters taking part, by name, each with its goal and its progress on its own
    plans in the programme (three queries)."""
    programme = get_or_404(Programme, programme_id)
    require(current_user, "programme.view", programme)
    result = services.participants_page(programme, q.strip(), page, per_page)
    return page_body(result, _participant)


def _participant(item) -> dict:
    participant, done = item
    return {
        "id": participant.id,
        "cluster_id": participant.cluster_id,
        "cluster_name": participant.cluster.name,
        "goal": participant.goal,
        "progress": _progress(done),
    }
