"""A programme's joint actions summed up for its page's panel: counts by status, the joint
progress, the few open ones due first. Bounded whatever their number (two queries), and kept
by each process until a joint action or a participation of the region changes (the region's
version: an action's write in the programme, which renders the page again, keeps it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from portal.toolkit import Keep, db, region_version
from portal_joint.models import JointAction, JointStatus, Participation, PartStatus

_KEPT = Keep("portal_joint_programme_summaries", at_most=64)


@dataclass(frozen=True)
class DueJointAction:
    """An open joint action as the panel lists it (plain values: kept beyond the request)."""

    id: int
    title: str
    status: JointStatus
    due_date: date | None


@dataclass(frozen=True)
class ProgrammeSummary:
    """Counts by status, the joint progress as ``rollup.programme_progress`` computes it, and
    the few open joint actions due first, for a programme's page: bounded whatever the size."""

    total: int
    by_status: dict[str, int]  # status value -> number of joint actions, in board order
    overdue: int  # open (not done, not cancelled) and past their due date
    progress: Any  # rollup.Progress
    next_due: list[DueJointAction]  # open, due first (overdue ones first), at most ``limit``


def programme_summary(programme_id: int, today: date, limit: int = 5) -> ProgrammeSummary:
    """Two queries, whatever the number of joint actions and participants: the aggregates
    by status, and the first ``limit`` open joint actions by due date."""
    from sqlalchemy import case, func

    from portal_joint.rollup import Progress

    # A participating cluster's progress (100 once its part is done), over the clusters that
    # take part now: sum and count per joint action.
    part_value = case((Participation.status == PartStatus.DONE, 100), else_=Participation.progress)
    parts = (
        select(
            Participation.action_id.label("action_id"),
            func.sum(part_value).label("total"),
            func.count().label("n"),
        )
        .where(
            Participation.left_on.is_(None),
            # The programme's joint actions only, not every participation of the region.
            Participation.action_id.in_(
                select(JointAction.id).where(JointAction.programme_id == programme_id)
            ),
        )
        .group_by(Participation.action_id)
        .subquery()
    )
    # Python's round() of total / n (half to even), in integers, as action_progress does.
    whole = parts.c.total // parts.c.n
    rest = parts.c.total - whole * parts.c.n
    rounded = case(
        (rest * 2 > parts.c.n, whole + 1),
        (rest * 2 == parts.c.n, whole + whole % 2),
        else_=whole,
    )
    value = case(
        (JointAction.status == JointStatus.DONE, 100),
        (func.coalesce(parts.c.n, 0) == 0, 0),
        else_=rounded,
    )
    is_open = JointAction.status.not_in([JointStatus.DONE, JointStatus.CANCELLED])
    late = case((is_open & (JointAction.due_date < today), 1), else_=0)
    rows = db.session.execute(
        select(JointAction.status, func.count(), func.sum(value), func.sum(late))
        .outerjoin(parts, parts.c.action_id == JointAction.id)
        .where(JointAction.programme_id == programme_id)
        .group_by(JointAction.status)
    ).all()
    by_status = {status.value: 0 for status in JointStatus}
    counted = value_sum = overdue = 0
    for status, count, values, late_count in rows:
        by_status[JointStatus(status).value] = int(count)
        overdue += int(late_count or 0)
        if JointStatus(status) != JointStatus.CANCELLED:
            counted += int(count)
            value_sum += int(values or 0)
    progress = (
        Progress(round(value_sum / counted), "actions", counted)
        if counted
        else Progress(None, "no_actions")
    )
    next_due = [
        DueJointAction(*row)
        for row in db.session.execute(
            select(JointAction.id, JointAction.title, JointAction.status, JointAction.due_date)
            .where(JointAction.programme_id == programme_id, is_open)
            .order_by(JointAction.due_date.is_(None), JointAction.due_date, JointAction.id)
            .limit(limit)
        )
    ]
    return ProgrammeSummary(sum(by_status.values()), by_status, overdue, progress, next_due)


def kept_programme_summary(
    tenant_id: int, programme_id: int, today: date, limit: int = 5
) -> ProgrammeSummary:
    """``programme_summary``, kept until the region's own rows change (joint actions and
    participations are among them) or the day does."""
    key = (tenant_id, region_version(tenant_id), programme_id, today, limit)
    return _KEPT.get_or_make(key, lambda: programme_summary(programme_id, today, limit))
