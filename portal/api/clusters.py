"""Clusters in the JSON API: the clusters page's list and a cluster, over its services."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from flask_smorest import Blueprint

from portal.api.schemas import ClusterArgsSchema, ClusterPageSchema, ClusterSchema
from portal.clusters import services
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.permissions import require
from portal.web.pagination import paginate

blp = Blueprint(
    "api_clusters",
    __name__,
    url_prefix="/api/v1/<tenant>",
    description="The region's clusters.",
)


def _row(cluster: Cluster, member_count: int) -> dict:
    return {
        **{k: getattr(cluster, k) for k in ClusterSchema().fields if k != "member_count"},
        "member_count": member_count,
    }


@blp.route("/clusters")
@blp.arguments(ClusterArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ClusterPageSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def list_clusters(page: int, per_page: int, q: str, sector: str, sort: str):
    """The clusters of the region, filtered and sorted like the clusters page (two queries)."""
    require(current_user, "cluster.view")
    stmt = services.clusters_with_counts(q.strip() or None, sector=sector or None, sort=sort)
    result = paginate(stmt, page, per_page, scalars=False)
    return {
        "items": [_row(cluster, count) for cluster, count in result.items],
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    }


@blp.route("/clusters/<int:cluster_id>")
@blp.response(200, ClusterSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def get_cluster(cluster_id: int):
    """One cluster of the region (another region's id: 404)."""
    row = db.session.execute(
        services.clusters_with_counts().where(Cluster.id == cluster_id)
    ).first()
    if row is None:
        abort(404)
    require(current_user, "cluster.view", row[0])
    return _row(row[0], row[1])
