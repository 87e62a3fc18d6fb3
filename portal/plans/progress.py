"""How far plans and programmes have come: weighted progress, computed in SQL.

An action counts with its weight (default 1) and its progress (0-100; done counts as 100).
Cancelled actions do not count. A plan's progress is the weighted mean of its actions; a
programme's, the weighted mean of all actions of its plans (joint and individual).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from portal.extensions import db
from portal.plans.models import Action, ActionStatus, Plan


@dataclass(frozen=True)
class Progress:
    percent: float  # 0..100
    actions: int  # counted (not cancelled)
    done: int
    weight: float

    @property
    def share(self) -> float:
        return self.percent / 100


EMPTY = Progress(0.0, 0, 0, 0.0)


def _columns(counted=None):
    """The four sums of ``Progress``; with ``counted`` (a condition), over the actions that
    meet it only, so that other aggregates can share the pass over all actions."""
    effective = case((Action.status == ActionStatus.DONE, 100), else_=Action.progress)
    done = case((Action.status == ActionStatus.DONE, 1), else_=0)
    if counted is None:
        return (
            func.sum(Action.weight * effective),
            func.count(Action.id),
            func.sum(done),
            func.sum(Action.weight),
        )
    return (
        func.sum(case((counted, Action.weight * effective))),
        func.count(case((counted, Action.id))),
        func.sum(done),
        func.sum(case((counted, Action.weight))),
    )


def _progress(weighted, count, done, weight) -> Progress:
    if not count or not weight:
        return Progress(0.0, int(count or 0), int(done or 0), float(weight or 0))
    return Progress(float(weighted) / float(weight), int(count), int(done or 0), float(weight))


def plans_progress(plan_ids: list[int]) -> dict[int, Progress]:
    """Progress of each plan, in one query."""
    if not plan_ids:
        return {}
    rows = db.session.execute(
        select(Action.plan_id, *_columns())
        .where(Action.plan_id.in_(plan_ids), Action.status != ActionStatus.CANCELLED)
        .group_by(Action.plan_id)
    ).all()
    found = {row[0]: _progress(*row[1:]) for row in rows}
    return {plan_id: found.get(plan_id, EMPTY) for plan_id in plan_ids}


def programme_progress(programme_id: int) -> Progress:
    row = db.session.execute(
        select(*_columns())
        .join(Plan, Plan.id == Action.plan_id)
        .where(Plan.programme_id == programme_id, Action.status != ActionStatus.CANCELLED)
    ).one()
    return _progress(*row)


def clusters_progress(programme_id: int) -> dict[int, Progress]:
    """Each cluster's progress on its individual plans in the programme, in one query."""
    return _by_cluster(programme_id, Plan.cluster_id.is_not(None))


def _by_cluster(programme_id: int, *criteria) -> dict[int, Progress]:
    rows = db.session.execute(
        select(Plan.cluster_id, *_columns())
        .join(Plan, Plan.id == Action.plan_id)
        .where(Plan.programme_id == programme_id, Action.status != ActionStatus.CANCELLED)
        .where(*criteria)
        .group_by(Plan.cluster_id)
    ).all()
    return {row[0]: _progress(*row[1:]) for row in rows}


def programmes_progress(programme_ids: list[int]) -> dict[int, Progress]:
    """Progress of each programme, in one query."""
    if not programme_ids:
        return {}
    rows = db.session.execute(
        select(Plan.programme_id, *_columns())
        .join(Plan, Plan.id == Action.plan_id)
        .where(Plan.programme_id.in_(programme_ids), Action.status != ActionStatus.CANCELLED)
        .group_by(Plan.programme_id)
    ).all()
    found = {row[0]: _progress(*row[1:]) for row in rows}
    return {pid: found.get(pid, EMPTY) for pid in programme_ids}


def clusters_progress_for(programme_id: int, cluster_ids: list[int]) -> dict[int, Progress]:
    """Like ``clusters_progress``, for the given clusters only (a page of a list): one query,
    however many clusters take part. Clusters without actions get ``EMPTY``."""
    if not cluster_ids:
        return {}
    found = _by_cluster(programme_id, Plan.cluster_id.in_(cluster_ids))
    return {cid: found.get(cid, EMPTY) for cid in cluster_ids}


def programme_progress_with(programme_id: int, *extra) -> tuple[Progress, tuple]:
    """The programme's progress (as ``programme_progress``) and further aggregates over all
    actions of its plans (``extra``: SQL aggregate expressions on ``Action``, which see the
    cancelled actions too), in one pass over the actions instead of one per figure."""
    row = db.session.execute(
        select(*_columns(counted=Action.status != ActionStatus.CANCELLED), *extra).where(
            Action.plan_id.in_(select(Plan.id).where(Plan.programme_id == programme_id))
        )
    ).one()
    return _progress(*row[:4]), tuple(row[4:])
