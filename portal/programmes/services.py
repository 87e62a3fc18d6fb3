"""Programmes: participants and their goals, milestones, and the overview at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.errors import ServiceError
from portal.events import apply_changes, emit
from portal.extensions import db
from portal.permissions import require
from portal.plans import progress
from portal.plans.models import Action, Plan, PlanKind
from portal.plans.services import overdue_clause
from portal.programmes.models import Milestone, MilestoneKind, Programme, ProgrammeCluster
from portal.workshops.models import Workshop

PROGRAMME_FIELDS = ("name", "description", "start_date", "end_date")
MILESTONE_FIELDS = ("title", "kind", "due_date", "done", "description")


def _check(values: dict[str, Any], exclude_id: int | None = None) -> None:
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        raise ServiceError(
            _("The end comes before the start."),
            {"end_date": [_("The end comes before the start.")]},
        )
    if "name" in values:
        stmt = select(Programme.id).where(
            func.lower(Programme.name) == values["name"].strip().lower()
        )
        if exclude_id:
            stmt = stmt.where(Programme.id != exclude_id)
        if db.session.scalar(stmt):
            raise ServiceError(
                _("A programme with this name exists already."),
                {"name": [_("This name is taken.")]},
            )


def create_programme(user: User | None, data: dict[str, Any], tenant_id: int) -> Programme:
    if user is not None:
        require(user, "programme.create")
    values = {k: data[k] for k in PROGRAMME_FIELDS if k in data}
    values["name"] = values["name"].strip()
    _check(values)
    programme = Programme(tenant_id=tenant_id, **values)
    db.session.add(programme)
    db.session.commit()
    emit("programme_saved", tenant_id, programme=programme, created=True, changes={}, user=user)
    return programme


def update_programme(user: User | None, programme: Programme, data: dict[str, Any]) -> Programme:
    if user is not None:
        require(user, "programme.manage", programme)
    values = {k: data[k] for k in PROGRAMME_FIELDS if k in data}
    if "name" in values:
        values["name"] = values["name"].strip()
    _check(
        {"start_date": programme.start_date, "end_date": programme.end_date, **values},
        exclude_id=programme.id,
    )
    changes = apply_changes(programme, values)
    db.session.commit()
    if changes:
        emit(
            "programme_saved",
            programme.tenant_id,
            programme=programme,
            created=False,
            changes=changes,
            user=user,
        )
    return programme


def delete_programme(user: User | None, programme: Programme) -> None:
    """Delete the programme and its joint plans; the clusters' own plans stay."""
    from sqlalchemy import update

    if user is not None:
        require(user, "programme.manage", programme)
    db.session.execute(
        update(Plan)
        .where(Plan.programme_id == programme.id, Plan.kind == PlanKind.INDIVIDUAL)
        .values(programme_id=None)
    )
    db.session.delete(programme)
    db.session.commit()


def renew_calendar_key(user: User | None, programme: Programme) -> None:
    import secrets

    if user is not None:
        require(user, "programme.manage", programme)
    programme.calendar_key = secrets.token_urlsafe(24)
    db.session.commit()


# --- participants -----------------------------------------------------------------------


def add_participant(
    user: User | None, programme: Programme, cluster: Cluster, goal: str = ""
) -> ProgrammeCluster:
    if user is not None:
        require(user, "programme.manage", programme)
    participant = ProgrammeCluster(
        tenant_id=programme.tenant_id,
        programme_id=programme.id,
        cluster_id=cluster.id,
        goal=(goal or "").strip(),
    )
    db.session.add(participant)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(_("The cluster takes part already.")) from None
    emit(
        "programme_saved",
        programme.tenant_id,
        programme=programme,
        created=False,
        changes={"participants": (None, cluster.id)},
        user=user,
    )
    return participant


def set_goal(user: User | None, participant: ProgrammeCluster, goal: str) -> None:
    if user is not None:
        require(user, "programme.manage", participant.programme)
    participant.goal = (goal or "").strip()
    db.session.commit()


def remove_participant(user: User | None, participant: ProgrammeCluster) -> None:
    if user is not None:
        require(user, "programme.manage", participant.programme)
    db.session.delete(participant)
    db.session.commit()


# --- milestones -------------------------------------------------------------------------


def _milestone_values(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: data[k] for k in MILESTONE_FIELDS if k in data}
    if "kind" in values:
        values["kind"] = MilestoneKind(values["kind"])
    if "title" in values:
        values["title"] = (values["title"] or "").strip()
    return values


def add_milestone(user: User | None, programme: Programme, data: dict[str, Any]) -> Milestone:
    if user is not None:
        require(user, "programme.manage", programme)
    milestone = Milestone(
        tenant_id=programme.tenant_id, programme_id=programme.id, **_milestone_values(data)
    )
    db.session.add(milestone)
    db.session.commit()
    return milestone


def update_milestone(user: User | None, milestone: Milestone, data: dict[str, Any]) -> Milestone:
    if user is not None:
        require(user, "programme.manage", milestone.programme)
    apply_changes(milestone, _milestone_values(data))
    db.session.commit()
    return milestone


def delete_milestone(user: User | None, milestone: Milestone) -> None:
    if user is not None:
        require(user, "programme.manage", milestone.programme)
    db.session.delete(milestone)
    db.session.commit()


# --- the overview -----------------------------------------------------------------------


@dataclass
class Overview:
    participants: list[tuple[ProgrammeCluster, progress.Progress]]
    total: progress.Progress
    joint_plans: list[Plan]
    plans_progress: dict[int, progress.Progress]
    upcoming_workshops: list[Workshop]
    upcoming_milestones: list[Milestone]
    overdue: list[Action]
    overdue_count: int
    recent: list[Action]


def overview(programme: Programme, today: date) -> Overview:
    """Everything the programme page shows, in a fixed number of queries."""
    from sqlalchemy.orm import selectinload

    participants = db.session.scalars(
        select(ProgrammeCluster)
        .where(ProgrammeCluster.programme_id == programme.id)
        .join(Cluster, Cluster.id == ProgrammeCluster.cluster_id)
        .order_by(Cluster.name)
    ).all()
    by_cluster = progress.clusters_progress(programme.id)
    plans = db.session.scalars(
        select(Plan).where(Plan.programme_id == programme.id).order_by(Plan.kind, Plan.title)
    ).all()
    in_programme = select(Plan.id).where(Plan.programme_id == programme.id)
    overdue_stmt = (
        select(Action)
        .where(Action.plan_id.in_(in_programme), overdue_clause(today))
        .options(selectinload(Action.owner), selectinload(Action.plan))
    )
    return Overview(
        participants=[(p, by_cluster.get(p.cluster_id, progress.EMPTY)) for p in participants],
        total=progress.programme_progress(programme.id),
        joint_plans=[p for p in plans if p.kind == PlanKind.JOINT],
        plans_progress=progress.plans_progress([p.id for p in plans]),
        upcoming_workshops=list(
            db.session.scalars(
                select(Workshop)
                .where(Workshop.programme_id == programme.id, Workshop.day >= today)
                .order_by(Workshop.day, Workshop.start_time)
                .limit(5)
            )
        ),
        upcoming_milestones=list(
            db.session.scalars(
                select(Milestone)
                .where(
                    Milestone.programme_id == programme.id,
                    Milestone.due_date >= today,
                    Milestone.done.is_(False),
                )
                .order_by(Milestone.due_date)
                .limit(6)
            )
        ),
        overdue=list(db.session.scalars(overdue_stmt.order_by(Action.due_date).limit(10))),
        overdue_count=db.session.scalar(
            select(func.count())
            .select_from(Action)
            .where(Action.plan_id.in_(in_programme), overdue_clause(today))
        )
        or 0,
        recent=list(
            db.session.scalars(
                select(Action)
                .where(Action.plan_id.in_(in_programme))
                .options(selectinload(Action.owner), selectinload(Action.plan))
                .order_by(Action.updated_at.desc(), Action.id.desc())
                .limit(8)
            )
        ),
    )
