"""The plans list (the page and the JSON API): filtered by cluster, programme, kind and
state, sorted, with what each row shows loaded in the same queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from portal.plans.models import Plan, PlanKind

STATES = ("running", "upcoming", "ended")
SORTS = {
    "-start": (Plan.start_date.desc(), Plan.id),
    "start": (Plan.start_date, Plan.id),
    "end": (Plan.end_date, Plan.id),
    "-end": (Plan.end_date.desc(), Plan.id),
    "title": (func.lower(Plan.title), Plan.id),
}


@dataclass
class PlanFilters:
    cluster_id: int | None = None
    programme_id: int | None = None
    kind: str = ""  # "individual" or "joint"
    state: str = ""  # running, upcoming or ended on ``today``
    q: str = ""  # words in the title
    sort: str = "-start"
    today: date = field(default_factory=date.today)


def plans_query(filters: PlanFilters | None = None) -> Select:
    """The region's plans that match, in a stable order (ties by id); their clusters load
    with them (one more query for a whole page)."""
    filters = filters or PlanFilters()
    stmt = select(Plan).options(selectinload(Plan.cluster))
    if filters.cluster_id:
        stmt = stmt.where(Plan.cluster_id == filters.cluster_id)
    if filters.programme_id:
        stmt = stmt.where(Plan.programme_id == filters.programme_id)
    if filters.kind in {k.value for k in PlanKind}:
        stmt = stmt.where(Plan.kind == PlanKind(filters.kind))
    today = filters.today
    if filters.state == "running":
        stmt = stmt.where(Plan.start_date <= today, Plan.end_date >= today)
    elif filters.state == "upcoming":
        stmt = stmt.where(Plan.start_date > today)
    elif filters.state == "ended":
        stmt = stmt.where(Plan.end_date < today)
    if filters.q.strip():
        stmt = stmt.where(
            func.lower(Plan.title).contains(filters.q.strip().lower(), autoescape=True)
        )
    return stmt.order_by(*SORTS.get(filters.sort, SORTS["-start"]))
