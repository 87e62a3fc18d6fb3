"""The programmes list (the page and the JSON API): filtered, sorted, with each programme's
number of participating clusters, in one query."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, func, select

from portal.programmes.models import Programme, ProgrammeCluster

STATES = ("running", "upcoming", "ended")
SORTS = {
    "-start": (Programme.start_date.desc(), Programme.id),
    "start": (Programme.start_date, Programme.id),
    "name": (func.lower(Programme.name), Programme.id),
    "-end": (Programme.end_date.desc(), Programme.id),
}


def programmes_query(q: str = "", state: str = "", sort: str = "-start", *, today: date) -> Select:
    """(Programme, number of clusters taking part): ``q``, words in the name; ``state``,
    running, upcoming or ended on ``today``; ``sort``, one of ``SORTS`` (ties by id)."""
    counts = (
        select(ProgrammeCluster.programme_id, func.count().label("n"))
        .group_by(ProgrammeCluster.programme_id)
        .subquery()
    )
    stmt = select(Programme, func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.programme_id == Programme.id
    )
    if q.strip():
        stmt = stmt.where(func.lower(Programme.name).contains(q.strip().lower(), autoescape=True))
    if state == "running":
        stmt = stmt.where(Programme.start_date <= today, Programme.end_date >= today)
    elif state == "upcoming":
        stmt = stmt.where(Programme.start_date > today)
    elif state == "ended":
        stmt = stmt.where(Programme.end_date < today)
    return stmt.order_by(*SORTS.get(sort, SORTS["-start"]))
