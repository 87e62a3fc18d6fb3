"""Reading joint actions, for the pages and the JSON API alike: the region's joint actions
filtered as the board and a cluster's page filter them (programme, status, a cluster taking
part), in a stable order; a joint action's figures (progress, effort saved); its
contributions in the order its page lists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import selectinload

from portal.toolkit import Cluster
from portal_joint import baselines, rollup
from portal_joint.models import JointAction, JointStatus, Participation

CLOSED = (JointStatus.DONE, JointStatus.CANCELLED)
SORTS = ("due", "-due", "title", "-title")


@dataclass(frozen=True)
class ActionFilters:
    programme_id: int | None = None  # the board's programme
    status: str = ""  # a board column
    cluster_id: int | None = None  # joint actions the cluster takes part in now
    q: str = ""  # words in the title
    sort: str = "due"  # due date first (undated last), as the board


def _order(sort: str) -> list[Any]:
    undated = JointAction.due_date.is_(None)
    if sort == "-due":
        return [undated, JointAction.due_date.desc(), JointAction.id]
    if sort == "title":
        return [func.lower(JointAction.title), JointAction.id]
    if sort == "-title":
        return [func.lower(JointAction.title).desc(), JointAction.id.desc()]
    return [undated, JointAction.due_date, JointAction.id]


def actions_query(filters: ActionFilters = ActionFilters(), *, clusters: bool = True) -> Select:
    """The region's joint actions with their participants (and their clusters when
    ``clusters``), linked indicators and lead cluster loaded, filtered and in a stable
    order: a fixed number of queries whatever the number of actions or participants."""
    parts = selectinload(JointAction.parts)
    stmt = select(JointAction).options(
        parts.selectinload(Participation.cluster) if clusters else parts,
        selectinload(JointAction.indicators),
        selectinload(JointAction.lead_cluster),
    )
    if filters.programme_id is not None:
        stmt = stmt.where(JointAction.programme_id == filters.programme_id)
    if filters.status:
        stmt = stmt.where(JointAction.status == JointStatus(filters.status))
    if filters.cluster_id is not None:
        stmt = stmt.where(
            exists().where(
                Participation.action_id == JointAction.id,
                Participation.cluster_id == filters.cluster_id,
                Participation.left_on.is_(None),
            )
        )
    if filters.q.strip():
        words = filters.q.strip().lower()
        stmt = stmt.where(func.lower(JointAction.title).contains(words, autoescape=True))
    return stmt.order_by(*_order(filters.sort if filters.sort in SORTS else "due"))


def overdue(action: JointAction, today: date) -> bool:
    return bool(action.due_date and action.due_date < today and action.status not in CLOSED)


def participants(action: JointAction) -> int:
    """The clusters taking part now."""
    return sum(1 for p in action.parts if p.left_on is None)


def summary(action: JointAction) -> dict[str, Any]:
    """A joint action's progress and the effort saved (money, hours) against the measured
    baselines, which the core's privacy policy decides (two queries when the action is
    linked to indicators)."""
    found = baselines.for_actions([action]).get(action.id, {})
    return {
        "progress": rollup.action_progress(action),
        "money": rollup.effort(action, "money", found.get("money")),
        "hours": rollup.effort(action, "hours", found.get("hours")),
    }


def sorted_parts(action: JointAction) -> list[Participation]:
    """Its contributions as its page lists them: taking part first, by cluster name."""
    return sorted(action.parts, key=lambda p: (p.left_on is not None, p.cluster.name.lower(), p.id))


def parts_query(action_id: int) -> Select:
    """The same order in SQL, for a page of an action's contributions."""
    return (
        select(Participation)
        .join(Cluster, Cluster.id == Participation.cluster_id)
        .where(Participation.action_id == action_id)
        .options(selectinload(Participation.cluster))
        .order_by(Participation.left_on.is_not(None), func.lower(Cluster.name), Participation.id)
    )
