"""Labels in the JSON API: the region's label register, a cluster's labels, its path to the
next label (the rules' verdicts quote its values: the privacy policy decides who reads them),
and the region's published register (portal.labels.public_register), over the labels'
services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import abort, g
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy.orm import joinedload

from portal.api.helpers import documented, page_body, paged
from portal.api.schemas.common import PageArgsSchema
from portal.api.schemas.labels import (
    LabelArgsSchema,
    LabelChecksSchema,
    LabelPageSchema,
    PublicLabelPageSchema,
)
from portal.clusters.models import Cluster
from portal.labels import public_register, services
from portal.labels.models import Label
from portal.permissions import require
from portal.privacy.policy import values_view
from portal.tenancy import get_or_404

blp = Blueprint(
    "api_labels",
    __name__,
    url_prefix="/api/v1/<tenant>",
    description="Labels held, the path to the next label, and the published register.",
)


def _label_row(label: Label, view) -> dict:
    score = view.label_score(label)
    return {
        "id": label.id,
        "cluster_id": label.cluster_id,
        "cluster_name": label.cluster.name,
        "scheme": label.scheme,
        "scheme_version": label.scheme_version,
        "level": label.level,
        "awarded_on": label.awarded_on,
        "expires_on": label.expires_on,
        "score": Decimal(str(score)) if score is not None else None,
    }


@blp.route("/labels")
@blp.arguments(LabelArgsSchema, location="query", as_kwargs=True)
@blp.response(200, LabelPageSchema)
@documented(blp, 422)
def list_labels(page: int, per_page: int, **filters):
    """The region's label register as its page shows it: current or expired, expiring
    within 3, 6 or 12 months, by level and scheme; newest expiry first (two queries)."""
    require(current_user, "label.view", g.tenant)
    stmt = services.register_query(public_register.Filters(**filters), date.today())
    view = values_view(current_user, g.tenant)
    return paged(stmt, page, per_page, lambda label: _label_row(label, view))


@blp.route("/clusters/<int:cluster_id>/labels")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, LabelPageSchema)
@documented(blp, 422)
def list_cluster_labels(cluster_id: int, page: int, per_page: int):
    """The labels the cluster was awarded, newest first."""
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "label.view", cluster)
    stmt = services.cluster_labels_query(cluster.id).options(joinedload(Label.cluster))
    view = values_view(current_user, g.tenant)
    return paged(stmt, page, per_page, lambda label: _label_row(label, view))


def _check(check) -> dict:
    by_level = {e.level.id: e for e in check.levels}
    return {
        "scheme": check.scheme.id,
        "version": check.scheme.version,
        "title": str(check.scheme.title),
        "on": check.on,
        "next_level": check.next_level,
        "levels": [
            {
                "level": level.id,
                "name": str(level.name),
                "eligible": by_level[level.id].eligible if level.id in by_level else False,
                "held": (
                    {
                        "awarded_on": check.held[level.id].awarded_on,
                        "expires_on": check.held[level.id].expires_on,
                    }
                    if level.id in check.held
                    else None
                ),
                "would_expire": check.would_expire.get(level.id),
                "rules": [
                    {
                        "rule": r.rule,
                        "title": str(r.title),
                        "verdict": str(r.verdict),
                        "reason": str(r.reason),
                        "indicators": list(r.indicators),
                    }
                    for r in (by_level[level.id].results if level.id in by_level else ())
                ],
            }
            for level in check.scheme.levels
        ],
    }


@blp.route("/clusters/<int:cluster_id>/label-checks")
@blp.response(200, LabelChecksSchema)
@documented(blp, 403)
def label_checks(cluster_id: int):
    """The path to the next label: each current scheme's levels with their rules' verdicts
    today. The verdicts quote the cluster's values and evidence: 403 for anyone the privacy
    policy does not show them."""
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "label.view", cluster)
    checks = services.path_checks(current_user, cluster, date.today())
    if checks is None:
        abort(403)
    return {"cluster_id": cluster.id, "checks": [_check(c) for c in checks]}


@blp.route("/register")
@blp.arguments(LabelArgsSchema, location="query", as_kwargs=True)
@blp.response(200, PublicLabelPageSchema)
@documented(blp, 422)
def published_register(page: int, per_page: int, **filters):
    """The region's public label register, if the region publishes it (else 404): the
    same rows as its public page and downloads (scores only if it publishes them)."""
    regions = public_register.published_regions(g.tenant.slug)
    if not regions:
        abort(404)
    result = public_register.labels_page(
        regions, public_register.Filters(**filters), date.today(), page, per_page
    )
    return page_body(
        result,
        lambda row: (
            {
                k: getattr(row, k)
                for k in ("id", "cluster", "scheme", "scheme_version", "level", "awarded_on")
            }
            | {"expires_on": row.expires_on, "score": row.score}
        ),
    )
