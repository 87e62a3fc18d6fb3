"""Programmes: participants and their goals, milestones, and the overview at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, literal_column, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

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
from portal.web.pagination import Page, paginate
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
    if takes_part(programme, cluster):
        raise ServiceError(_("%(name)s takes part already.", name=cluster.name))
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

PARTICIPANTS_PER_PAGE = 25
CANDIDATES_PER_PAGE = 20
JOINT_PLANS_SHOWN = 10  # on the page and in the timeline; the rest are counted
TIMELINE_WORKSHOPS = 12  # the workshops nearest to today; the rest are counted
TIMELINE_MILESTONES = 24
UPCOMING_WORKSHOPS = 5
UPCOMING_MILESTONES = 6
OVERDUE_SHOWN = 10
RECENT_SHOWN = 8


@dataclass
class OwnPlans:
    """The clusters' own (individual) plans in the programme, summed up: one bar, not 500."""

    count: int
    start: date | None
    end: date | None


@dataclass
class Overview:
    participants: Page  # items: (ProgrammeCluster, progress.Progress), one page
    participant_count: int  # all participants, whatever the search
    search: str
    total: progress.Progress
    joint_plans: list[Plan]
    joint_plan_count: int
    plans_progress: dict[int, progress.Progress]
    own_plans: OwnPlans
    milestones: list[Milestone]  # for the timeline
    milestone_count: int
    timeline_workshops: list[Workshop]  # the ones nearest to today
    workshop_count: int
    overdue: list[Action]
    overdue_count: int
    recent: list[Action]


def _name_like(search: str):
    like = f"%{search.strip().lower()}%"
    return or_(func.lower(Cluster.name).like(like), func.lower(Cluster.sector).like(like))


def participants_page(
    programme: Programme, search: str = "", page: int = 1, per_page: int = PARTICIPANTS_PER_PAGE
) -> Page:
    """One page of the participants by cluster name, each with its progress: three queries,
    however many clusters take part."""
    stmt = (
        select(ProgrammeCluster)
        .join(ProgrammeCluster.cluster)
        .options(contains_eager(ProgrammeCluster.cluster))
        .where(ProgrammeCluster.programme_id == programme.id)
        .order_by(Cluster.name, ProgrammeCluster.id)
    )
    if search:
        stmt = stmt.where(_name_like(search))
    result = paginate(stmt, page, per_page)
    done = progress.clusters_progress_for(programme.id, [p.cluster_id for p in result.items])
    result.items = [(p, done.get(p.cluster_id, progress.EMPTY)) for p in result.items]
    return result


def candidates_query(programme: Programme, search: str = ""):
    """The tenant's clusters that do not take part in the programme yet, by name."""
    taken = select(ProgrammeCluster.cluster_id).where(ProgrammeCluster.programme_id == programme.id)
    stmt = select(Cluster).where(Cluster.id.not_in(taken)).order_by(Cluster.name, Cluster.id)
    if search:
        stmt = stmt.where(_name_like(search))
    return stmt


def takes_part(programme: Programme, cluster: Cluster) -> bool:
    return (
        db.session.scalar(
            select(ProgrammeCluster.id).where(
                ProgrammeCluster.programme_id == programme.id,
                ProgrammeCluster.cluster_id == cluster.id,
            )
        )
        is not None
    )


def _nearest_first(column, today: date, *tiebreak):
    """Order: from today on, earliest first; then the past, latest first."""
    future = column >= today
    return (
        case((future, 0), else_=1),
        case((future, column)).asc(),
        *[case((future, c)).asc() for c in tiebreak],
        column.desc(),
        *[c.desc() for c in tiebreak],
    )


@dataclass
class Upcoming:
    """The programme's next milestones and workshops: its own rows and the region's, which an
    action's write leaves as they were (the page's frame shows them)."""

    milestones: list[Milestone]
    workshops: list[Workshop]


def upcoming(programme: Programme, today: date) -> Upcoming:
    """Two queries, whatever the number of milestones and workshops."""
    return Upcoming(
        list(
            db.session.scalars(
                select(Milestone)
                .where(
                    Milestone.programme_id == programme.id,
                    Milestone.due_date >= today,
                    Milestone.done.is_(False),
                )
                .order_by(Milestone.due_date, Milestone.id)
                .limit(UPCOMING_MILESTONES)
            )
        ),
        list(
            db.session.scalars(
                select(Workshop)
                .where(Workshop.programme_id == programme.id, Workshop.day >= today)
                .order_by(Workshop.day, Workshop.start_time, Workshop.id)
                .limit(UPCOMING_WORKSHOPS)
            )
        ),
    )


def overview(
    programme: Programme,
    today: date,
    *,
    search: str = "",
    page: int = 1,
    per_page: int = PARTICIPANTS_PER_PAGE,
) -> Overview:
    """Everything the programme page shows, in a fixed number of queries and bounded rows,
    whatever the number of clusters, plans, workshops and actions."""
    participants = participants_page(programme, search, page, per_page)
    if search:
        participant_count = (
            db.session.scalar(
                select(func.count())
                .select_from(ProgrammeCluster)
                .where(ProgrammeCluster.programme_id == programme.id)
            )
            or 0
        )
    else:
        participant_count = participants.total

    joint_rows = db.session.execute(
        select(Plan, func.count().over())
        .where(Plan.programme_id == programme.id, Plan.kind == PlanKind.JOINT)
        .order_by(Plan.title, Plan.id)
        .limit(JOINT_PLANS_SHOWN)
    ).all()
    joint_plans = [plan for plan, _n in joint_rows]
    own_count, own_start, own_end = db.session.execute(
        select(func.count(Plan.id), func.min(Plan.start_date), func.max(Plan.end_date)).where(
            Plan.programme_id == programme.id, Plan.kind == PlanKind.INDIVIDUAL
        )
    ).one()

    milestone_rows = db.session.execute(
        select(Milestone, func.count().over())
        .where(Milestone.programme_id == programme.id)
        .order_by(*_nearest_first(Milestone.due_date, today, Milestone.id))
        .limit(TIMELINE_MILESTONES)
    ).all()
    workshop_rows = db.session.execute(
        select(Workshop, func.count().over())
        .where(Workshop.programme_id == programme.id)
        .order_by(*_nearest_first(Workshop.day, today, Workshop.start_time, Workshop.id))
        .limit(TIMELINE_WORKSHOPS)
    ).all()
    workshops = [w for w, _n in workshop_rows]

    # The headline figures over all the programme's actions: one pass, not one per figure.
    total, overdue_count = progress.programme_progress_and_overdue(programme.id, today)
    in_programme = select(Plan.id).where(Plan.programme_id == programme.id)
    # "+ 0": walk the due-date index from the oldest and stop at the tenth match, rather
    # than read every action of the programme and sort them (SQLite's planner otherwise
    # picks the plan_id index).
    overdue_stmt = select(Action).where(
        (Action.plan_id + literal_column("0")).in_(in_programme), overdue_clause(today)
    )
    # The newest changed, from the recent index alone (plan, tenant, updated_at, id: no
    # action's row is read but the few shown), then those rows.
    recent_ids = (
        select(Action.id)
        .where(Action.plan_id.in_(in_programme))
        .order_by(Action.updated_at.desc(), Action.id.desc())
        .limit(RECENT_SHOWN)
    )
    return Overview(
        participants=participants,
        participant_count=participant_count,
        search=search,
        total=total,
        joint_plans=joint_plans,
        joint_plan_count=joint_rows[0][1] if joint_rows else 0,
        plans_progress=progress.plans_progress([p.id for p in joint_plans]),
        own_plans=OwnPlans(int(own_count or 0), own_start, own_end),
        milestones=sorted((m for m, _n in milestone_rows), key=lambda m: (m.due_date, m.id)),
        milestone_count=milestone_rows[0][1] if milestone_rows else 0,
        timeline_workshops=sorted(workshops, key=lambda w: (w.day, w.start_time, w.id)),
        workshop_count=workshop_rows[0][1] if workshop_rows else 0,
        overdue=list(
            db.session.scalars(
                overdue_stmt.options(joinedload(Action.owner))
                .order_by(Action.due_date, Action.id)
                .limit(OVERDUE_SHOWN)
            )
        ),
        overdue_count=int(overdue_count or 0),
        recent=list(
            db.session.scalars(
                select(Action)
                .where(Action.id.in_(recent_ids))
                .options(joinedload(Action.plan))
                .order_by(Action.updated_at.desc(), Action.id.desc())
            )
        ),
    )
