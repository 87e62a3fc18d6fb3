"""How far plans and programmes have come: weighted progress, read from the kept figures.

An action counts with its weight (default 1) and its progress (0-100; done counts as 100).
Cancelled actions do not count. A plan's progress is the weighted mean of its actions; a
programme's, the weighted mean of all actions of its plans (joint and individual).

The sums are kept on every action write (``portal.plans.figures``), so these functions read
one row per plan or programme, never the actions. The percentage is an exact ``Decimal``
(never rounded here, so it never crosses a threshold by rounding); overdue counts sum the
open actions due before the given day (``open_due``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from portal.extensions import db
from portal.plans.figures import OpenDue, PlanFigures, ProgrammeFigures
from portal.plans.models import Plan

ZERO = Decimal(0)


@dataclass(frozen=True)
class Progress:
    percent: Decimal  # 0..100, exact
    actions: int  # counted (not cancelled)
    done: int
    weight: Decimal

    @property
    def share(self) -> Decimal:
        return self.percent / 100


EMPTY = Progress(ZERO, 0, 0, ZERO)


def progress_of(counted, done, weight, weighted) -> Progress:
    weight = Decimal(weight or 0)
    if not counted or not weight:
        return Progress(ZERO, int(counted or 0), int(done or 0), weight)
    return Progress(Decimal(weighted) / weight, int(counted), int(done or 0), weight)


def _sums(model):
    return (
        func.sum(model.counted),
        func.sum(model.done),
        func.sum(model.weight),
        func.sum(model.weighted),
    )


def plans_progress(plan_ids: list[int]) -> dict[int, Progress]:
    """Progress of each plan, in one query."""
    if not plan_ids:
        return {}
    rows = db.session.execute(
        select(PlanFigures).where(PlanFigures.plan_id.in_(plan_ids))
    ).scalars()
    found = {f.plan_id: progress_of(f.counted, f.done, f.weight, f.weighted) for f in rows}
    return {plan_id: found.get(plan_id, EMPTY) for plan_id in plan_ids}


def programmes_progress(programme_ids: list[int]) -> dict[int, Progress]:
    """Progress of each programme, in one query."""
    if not programme_ids:
        return {}
    rows = db.session.execute(
        select(ProgrammeFigures).where(ProgrammeFigures.programme_id.in_(programme_ids))
    ).scalars()
    found = {f.programme_id: progress_of(f.counted, f.done, f.weight, f.weighted) for f in rows}
    return {pid: found.get(pid, EMPTY) for pid in programme_ids}


def programme_progress(programme_id: int) -> Progress:
    return programmes_progress([programme_id])[programme_id]


def clusters_progress(programme_id: int) -> dict[int, Progress]:
    """Each cluster's progress on its individual plans in the programme, in one query."""
    return _by_cluster(programme_id, Plan.cluster_id.is_not(None))


def _by_cluster(programme_id: int, *criteria) -> dict[int, Progress]:
    rows = db.session.execute(
        select(Plan.cluster_id, *_sums(PlanFigures))
        .join(PlanFigures, PlanFigures.plan_id == Plan.id)
        .where(Plan.programme_id == programme_id, *criteria)
        .group_by(Plan.cluster_id)
    ).all()
    return {row[0]: progress_of(*row[1:]) for row in rows}


def clusters_progress_for(programme_id: int, cluster_ids: list[int]) -> dict[int, Progress]:
    """Like ``clusters_progress``, for the given clusters only (a page of a list): one query,
    however many clusters take part. Clusters without actions get ``EMPTY``."""
    if not cluster_ids:
        return {}
    found = _by_cluster(programme_id, Plan.cluster_id.in_(cluster_ids))
    return {cid: found.get(cid, EMPTY) for cid in cluster_ids}


def overdue_before(today: date):
    """The condition on ``OpenDue`` rows of actions overdue on ``today``."""
    return OpenDue.due_date < today


def programme_overdue(programme_id: int, today: date) -> int:
    return programmes_overdue([programme_id], today).get(programme_id, 0)


def programmes_overdue(programme_ids: list[int], today: date) -> dict[int, int]:
    """Open actions due before ``today`` per programme, in one query over ``open_due``."""
    if not programme_ids:
        return {}
    rows = db.session.execute(
        select(OpenDue.programme_id, func.sum(OpenDue.open))
        .where(OpenDue.programme_id.in_(programme_ids), overdue_before(today))
        .group_by(OpenDue.programme_id)
    ).all()
    return {pid: int(n or 0) for pid, n in rows}


def plans_overdue(plan_ids: list[int], today: date) -> dict[int, int]:
    """Open actions due before ``today`` per plan, in one query over ``open_due``."""
    if not plan_ids:
        return {}
    rows = db.session.execute(
        select(OpenDue.plan_id, func.sum(OpenDue.open))
        .where(OpenDue.plan_id.in_(plan_ids), overdue_before(today))
        .group_by(OpenDue.plan_id)
    ).all()
    return {pid: int(n or 0) for pid, n in rows}


def programme_progress_and_overdue(programme_id: int, today: date) -> tuple[Progress, int]:
    """The programme's progress and its overdue count, in one query."""
    overdue = (
        select(func.coalesce(func.sum(OpenDue.open), 0))
        .where(OpenDue.programme_id == programme_id, overdue_before(today))
        .scalar_subquery()
    )
    row = db.session.execute(
        select(*_sums(ProgrammeFigures), overdue).where(
            ProgrammeFigures.programme_id == programme_id
        )
    ).first()
    if row is None:
        return EMPTY, 0
    return progress_of(*row[:4]), int(row[4] or 0)


def clusters_overdue(programme_id: int | None, today: date) -> dict[int | None, int]:
    """Open actions due before ``today`` per cluster (its individual plans; ``None``: joint
    plans), of one programme or (``None``) of the whole region, in one query."""
    stmt = (
        select(Plan.cluster_id, func.sum(OpenDue.open))
        .join(Plan, Plan.id == OpenDue.plan_id)
        .where(overdue_before(today))
        .group_by(Plan.cluster_id)
    )
    if programme_id is not None:
        stmt = stmt.where(Plan.programme_id == programme_id)
    return {cid: int(n or 0) for cid, n in db.session.execute(stmt).all()}
