"""Reading and writing key figures; every query is a fixed number, whatever the data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from portal.toolkit import Cluster, _, db, require
from portal_cluster_facts.models import KeyFigure

FIELDS = ("year", "employees", "turnover_meur", "innovation_projects", "note")


class FactsError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def figures_of(cluster_id: int) -> list[KeyFigure]:
    return list(
        db.session.scalars(
            select(KeyFigure)
            .where(KeyFigure.cluster_id == cluster_id)
            .order_by(KeyFigure.year.desc())
        )
    )


def figure_for(cluster_id: int, year: int | None) -> KeyFigure | None:
    """The cluster's figures of ``year`` (None: not reported, or no year)."""
    if year is None:
        return None
    return db.session.scalar(
        select(KeyFigure).where(KeyFigure.cluster_id == cluster_id, KeyFigure.year == year)
    )


def latest_per_cluster():
    """The newest year's figures of every cluster, with the cluster's name (one query)."""
    newest = (
        select(KeyFigure.cluster_id, func.max(KeyFigure.year).label("year"))
        .group_by(KeyFigure.cluster_id)
        .subquery()
    )
    return db.session.execute(
        select(Cluster, KeyFigure)
        .join(KeyFigure, KeyFigure.cluster_id == Cluster.id)
        .join(
            newest,
            (newest.c.cluster_id == KeyFigure.cluster_id) & (newest.c.year == KeyFigure.year),
        )
        .order_by(Cluster.name)
    ).all()


def totals(rows) -> dict[str, Any]:
    return {
        "clusters": len(rows),
        "employees": sum(f.employees or 0 for _, f in rows),
        "turnover_meur": sum((f.turnover_meur or 0) for _, f in rows),
        "innovation_projects": sum(f.innovation_projects or 0 for _, f in rows),
    }


def save_figure(user, cluster: Cluster, data: dict[str, Any]) -> KeyFigure:
    require(user, "facts.edit", cluster)
    values = {k: data.get(k) for k in FIELDS}
    values["note"] = (values.get("note") or "").strip()
    figure = figure_for(cluster.id, values["year"])
    if figure is None:
        figure = KeyFigure(tenant_id=cluster.tenant_id, cluster_id=cluster.id, **values)
        db.session.add(figure)
    else:
        for key, value in values.items():
            setattr(figure, key, value)
    db.session.commit()
    return figure


def delete_figure(user, cluster: Cluster, figure: KeyFigure) -> None:
    require(user, "facts.edit", cluster)
    if figure.cluster_id != cluster.id:
        raise FactsError(_("These figures belong to another cluster."))
    db.session.delete(figure)
    db.session.commit()
