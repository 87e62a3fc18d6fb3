"""Benchmarking rounds in the JSON API. Read strictly through the privacy policy
(portal.privacy): a list holds only the rounds whose values the caller may see, one round
answers 404 to anyone else. Entered by the roles that may, checked as the round form is."""

from __future__ import annotations

from flask import abort, g, url_for
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy.orm import selectinload

from portal.api.helpers import documented, found_first, paged, service_errors
from portal.api.schemas.rounds import (
    RoundArgsSchema,
    RoundCreateSchema,
    RoundPageSchema,
    RoundSchema,
)
from portal.benchmarking import reading, services
from portal.benchmarking.models import BenchmarkRound
from portal.clusters.models import Cluster
from portal.permissions import require
from portal.tenancy import get_or_404

blp = Blueprint(
    "api_rounds",
    __name__,
    url_prefix="/api/v1/<tenant>",
    description="Benchmarking rounds and their values, as the privacy policy allows.",
)


@blp.route("/rounds")
@blp.arguments(RoundArgsSchema, location="query", as_kwargs=True)
@blp.response(200, RoundPageSchema)
@documented(blp, 422)
def list_rounds(page: int, per_page: int, **filters):
    """The rounds of the region whose values the caller may see (a cluster's own circle:
    all its rounds; a sharing choice: its confirmed benchmarkings and audits; others:
    none), filtered and sorted, with their values (three queries)."""
    require(current_user, "tenant.view", g.tenant)
    stmt = reading.visible_rounds_query(current_user, g.tenant, reading.RoundFilters(**filters))
    return paged(stmt, page, per_page)


def _round(round_id: int) -> BenchmarkRound:
    round_ = get_or_404(BenchmarkRound, round_id, selectinload(BenchmarkRound.values))
    if not reading.round_visible(current_user, g.tenant, round_):
        abort(404)  # the privacy policy: not even that the round exists
    return round_


@blp.route("/rounds/<int:round_id>")
@blp.response(200, RoundSchema)
@documented(blp)
def get_round(round_id: int):
    """One round with its values, if the caller may see them (else 404)."""
    return _round(round_id)


@blp.route("/clusters/<int:cluster_id>/rounds", methods=["POST"])
@found_first(cluster_id=Cluster)
@blp.arguments(RoundCreateSchema)
@blp.response(201, RoundSchema)
@documented(blp, 403, 422)
def create_round(data: dict, cluster_id: int):
    """A new round of the cluster (the `write` scope): a self-assessment by the cluster's
    managers or the coordinators; a benchmarking or audit by an assessor, or a coordinator
    naming the expert (`assessor`). Values are checked against their indicators' scales;
    one round of a kind per cluster, set version and day (409)."""
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "round.manage", cluster)
    values = {key: (v["value"], v["comment"]) for key, v in data["values"].items()}
    fields = {k: data[k] for k in ("held_on", "kind", "assessor", "notes", "confirm")}
    with service_errors(409):
        indicator_set = reading.required_set(
            g.tenant.id, data["indicator_set"], data["set_version"]
        )
        saved = services.save_round(current_user, cluster, indicator_set, fields, values)
    location = url_for("api_rounds.get_round", tenant=g.tenant.slug, round_id=saved.id)
    return _round(saved.id), 201, {"Location": location}
