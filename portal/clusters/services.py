"""Clusters and member organisations: the actions pages, CLI and API share.

Each action checks permission, validates, writes, commits, then tells plugins.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.clusters.models import Cluster, MemberOrganisation, MemberType
from portal.errors import ServiceError
from portal.extensions import db
from portal.permissions import require

CLUSTER_FIELDS = (
    "name",
    "sector",
    "description",
    "website",
    "founded_year",
    "programme_level",
    "contact_name",
    "contact_email",
    "contact_phone",
)
MEMBER_FIELDS = ("name", "member_type", "city", "website", "joined_year")


def _emit(event: str, tenant_id: int, **kwargs: Any) -> None:
    current_app.extensions["portal_plugins"].call(event, tenant_id=tenant_id, **kwargs)


def _clean(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    cleaned = {}
    for key in fields:
        if key not in data:
            continue
        value = data[key]
        cleaned[key] = value.strip() if isinstance(value, str) else value
    return cleaned


# --- reading ----------------------------------------------------------------------------


CLUSTER_SORTS = {
    "name": (func.lower(Cluster.name), Cluster.id),
    "-name": (func.lower(Cluster.name).desc(), Cluster.id.desc()),
    "sector": (func.lower(Cluster.sector), func.lower(Cluster.name), Cluster.id),
}


def clusters_with_counts(
    search: str | None = None, *, sector: str | None = None, sort: str | None = None
) -> Select:
    """Clusters with their member count, in one query. The count is a correlated subquery
    (by the cluster index), so a page of clusters counts only its own members. ``sector``
    keeps one sector (any case); ``sort`` is a key of ``CLUSTER_SORTS`` (by name when not
    given), always ending on the id so that pages keep a stable order."""
    member_count = (
        select(func.count(MemberOrganisation.id))
        .where(MemberOrganisation.cluster_id == Cluster.id)
        .correlate(Cluster)
        .scalar_subquery()
        .label("member_count")
    )
    order = CLUSTER_SORTS.get(sort, (Cluster.name,))
    stmt = select(Cluster, member_count).order_by(*order)
    if sector:
        stmt = stmt.where(func.lower(Cluster.sector) == sector.strip().lower())
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            or_(func.lower(Cluster.name).like(like), func.lower(Cluster.sector).like(like))
        )
    return stmt


def cluster_choices() -> list[tuple[int, str]]:
    """(id, name) of the tenant's clusters, by name: the choices of cluster fields in forms."""
    return [
        (cid, name)
        for cid, name in db.session.execute(select(Cluster.id, Cluster.name).order_by(Cluster.name))
    ]


def composition(cluster_id: int | None = None) -> list[tuple[MemberType, int]]:
    """Member counts by type (of one cluster, or the whole tenant), largest first."""
    stmt = select(MemberOrganisation.member_type, func.count()).group_by(
        MemberOrganisation.member_type
    )
    if cluster_id is not None:
        stmt = stmt.where(MemberOrganisation.cluster_id == cluster_id)
    rows = db.session.execute(stmt).all()
    return sorted(((MemberType(t), n) for t, n in rows), key=lambda r: (-r[1], r[0].value))


def members_query(cluster: Cluster, search: str | None = None, member_type: str | None = None):
    stmt = select(MemberOrganisation).where(MemberOrganisation.cluster_id == cluster.id)
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(MemberOrganisation.name).like(like),
                func.lower(MemberOrganisation.city).like(like),
            )
        )
    if member_type and member_type in {t.value for t in MemberType}:
        stmt = stmt.where(MemberOrganisation.member_type == MemberType(member_type))
    return stmt.order_by(func.lower(MemberOrganisation.name), MemberOrganisation.id)


def sync_cluster_links(
    link_model, owner_column: str, owner_id: int, tenant_id: int, cluster_ids: list[int]
) -> None:
    """Make one owner's links (a membership's, an action's) point at exactly these clusters.

    Ids of clusters outside the tenant are ignored. The caller commits.
    """
    wanted = (
        set(
            db.session.scalars(
                select(Cluster.id).where(
                    Cluster.id.in_(cluster_ids), Cluster.tenant_id == tenant_id
                )
            )
        )
        if cluster_ids
        else set()
    )
    owner = getattr(link_model, owner_column)
    current = {
        row.cluster_id: row
        for row in db.session.scalars(select(link_model).where(owner == owner_id))
    }
    for cluster_id, row in current.items():
        if cluster_id not in wanted:
            db.session.delete(row)
    db.session.add_all(
        link_model(tenant_id=tenant_id, cluster_id=cluster_id, **{owner_column: owner_id})
        for cluster_id in wanted - current.keys()
    )
    db.session.flush()


# --- clusters ---------------------------------------------------------------------------


def _name_taken(name: str, exclude_id: int | None = None) -> bool:
    stmt = select(Cluster.id).where(func.lower(Cluster.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Cluster.id != exclude_id)
    return db.session.scalar(stmt) is not None


def create_cluster(user: User | None, data: dict[str, Any], tenant_id: int) -> Cluster:
    if user is not None:
        require(user, "cluster.create")
    values = _clean(data, CLUSTER_FIELDS)
    if _name_taken(values.get("name", "")):
        raise ServiceError(
            _("A cluster with this name exists already."), {"name": [_("This name is taken.")]}
        )
    cluster = Cluster(tenant_id=tenant_id, **values)
    db.session.add(cluster)
    _commit_unique(_("A cluster with this name exists already."))
    _emit("cluster_created", tenant_id, cluster=cluster, user=user)
    return cluster


def update_cluster(user: User | None, cluster: Cluster, data: dict[str, Any]) -> Cluster:
    if user is not None:
        require(user, "cluster.edit", cluster)
    values = _clean(data, CLUSTER_FIELDS)
    if "name" in values and _name_taken(values["name"], exclude_id=cluster.id):
        raise ServiceError(
            _("A cluster with this name exists already."), {"name": [_("This name is taken.")]}
        )
    changes = {}
    for key, value in values.items():
        old = getattr(cluster, key)
        if old != value:
            changes[key] = (old, value)
            setattr(cluster, key, value)
    _commit_unique(_("A cluster with this name exists already."))
    if changes:
        _emit("cluster_updated", cluster.tenant_id, cluster=cluster, changes=changes, user=user)
    return cluster


def delete_cluster(user: User | None, cluster: Cluster) -> None:
    if user is not None:
        require(user, "cluster.delete", cluster)
    db.session.delete(cluster)
    db.session.commit()


def _commit_unique(message: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(message) from None


# --- members ----------------------------------------------------------------------------


def _member_name_taken(cluster_id: int, name: str, exclude_id: int | None = None) -> bool:
    stmt = select(MemberOrganisation.id).where(
        MemberOrganisation.cluster_id == cluster_id,
        func.lower(MemberOrganisation.name) == name.lower(),
    )
    if exclude_id is not None:
        stmt = stmt.where(MemberOrganisation.id != exclude_id)
    return db.session.scalar(stmt) is not None


def add_member(user: User | None, cluster: Cluster, data: dict[str, Any]) -> MemberOrganisation:
    if user is not None:
        require(user, "member.create", cluster)
    values = _clean(data, MEMBER_FIELDS)
    values["member_type"] = MemberType(values["member_type"])
    if _member_name_taken(cluster.id, values["name"]):
        raise ServiceError(
            _("This cluster has a member with this name already."),
            {"name": [_("This name is taken.")]},
        )
    member = MemberOrganisation(tenant_id=cluster.tenant_id, cluster_id=cluster.id, **values)
    db.session.add(member)
    _commit_unique(_("This cluster has a member with this name already."))
    _emit("member_added", cluster.tenant_id, member=member, user=user)
    return member


def update_member(
    user: User | None, member: MemberOrganisation, data: dict[str, Any]
) -> MemberOrganisation:
    if user is not None:
        require(user, "member.edit", member)
    values = _clean(data, MEMBER_FIELDS)
    if "member_type" in values:
        values["member_type"] = MemberType(values["member_type"])
    if "name" in values and _member_name_taken(member.cluster_id, values["name"], member.id):
        raise ServiceError(
            _("This cluster has a member with this name already."),
            {"name": [_("This name is taken.")]},
        )
    for key, value in values.items():
        setattr(member, key, value)
    _commit_unique(_("This cluster has a member with this name already."))
    return member


def delete_member(user: User | None, member: MemberOrganisation) -> None:
    if user is not None:
        require(user, "member.delete", member)
    db.session.delete(member)
    db.session.commit()
