"""Clusters in the JSON API: the clusters page's list and a cluster, and a cluster's member
organisations, over the clusters' services."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from flask_smorest import Blueprint

from portal.api.helpers import documented, page_body, paged
from portal.api.schemas.clusters import (
    ClusterArgsSchema,
    ClusterPageSchema,
    ClusterSchema,
    MemberArgsSchema,
    MemberPageSchema,
    MemberSchema,
)
from portal.clusters import services
from portal.clusters.models import Cluster, MemberOrganisation
from portal.extensions import db
from portal.permissions import require
from portal.tenancy import get_or_404
from portal.web.pagination import paginate

blp = Blueprint(
    "api_clusters",
    __name__,
    url_prefix="/api/v1/<tenant>",
    description="The region's clusters and their member organisations.",
)


def _row(cluster: Cluster, member_count: int) -> dict:
    return {
        **{k: getattr(cluster, k) for k in ClusterSchema().fields if k != "member_count"},
        "member_count": member_count,
    }


@blp.route("/clusters")
@blp.arguments(ClusterArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ClusterPageSchema)
@documented(blp, 422)
def list_clusters(page: int, per_page: int, q: str, sector: str, sort: str):
    """The clusters of the region, filtered and sorted like the clusters page (two queries)."""
    require(current_user, "cluster.view")
    stmt = services.clusters_with_counts(q.strip() or None, sector=sector or None, sort=sort)
    result = paginate(stmt, page, per_page, scalars=False)
    return page_body(result, lambda item: _row(*item))


@blp.route("/clusters/<int:cluster_id>")
@blp.response(200, ClusterSchema)
@documented(blp)
def get_cluster(cluster_id: int):
    """One cluster of the region (another region's id: 404)."""
    row = db.session.execute(
        services.clusters_with_counts().where(Cluster.id == cluster_id)
    ).first()
    if row is None:
        abort(404)
    require(current_user, "cluster.view", row[0])
    return _row(row[0], row[1])


@blp.route("/clusters/<int:cluster_id>/members")
@blp.arguments(MemberArgsSchema, location="query", as_kwargs=True)
@blp.response(200, MemberPageSchema)
@documented(blp, 422)
def list_members(cluster_id: int, page: int, per_page: int, q: str, type: str):
    """The cluster's member organisations by name, filtered like the cluster page's list
    (words in name or city, kind of organisation; two queries)."""
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "member.view", cluster)
    return paged(services.members_query(cluster, q.strip(), type), page, per_page)


@blp.route("/clusters/<int:cluster_id>/members/<int:member_id>")
@blp.response(200, MemberSchema)
@documented(blp)
def get_member(cluster_id: int, member_id: int):
    """One member organisation of the cluster."""
    cluster = get_or_404(Cluster, cluster_id)
    member = get_or_404(MemberOrganisation, member_id, belongs_to={"cluster_id": cluster.id})
    require(current_user, "member.view", member)
    return member
