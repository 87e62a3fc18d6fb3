"""``/plans/new`` without saying what the plan is for: a page that asks (an individual plan for
one of the clusters the user may plan for, or a joint plan for a programme), instead of a bare
404. Plain GET forms that lead to ``/plans/new?cluster_id=…`` or ``?programme_id=…``: it works
without JavaScript."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.permissions import may, membership_for
from portal.programmes.models import Programme


def plan_choices(user, tenant) -> tuple[list[Cluster], list[Programme]]:
    """The clusters and programmes the user may create a plan for: two queries at most."""
    membership = membership_for(user, tenant)
    stmt = select(Cluster).order_by(Cluster.name, Cluster.id)
    if membership is not None and not may(user, "programme.manage", tenant):
        stmt = stmt.where(Cluster.id.in_(sorted(membership.cluster_ids)))
    clusters = [c for c in db.session.scalars(stmt) if may(user, "plan.create", c)]
    programmes: list[Programme] = []
    if may(user, "programme.manage", tenant):
        programmes = [
            p
            for p in db.session.scalars(
                select(Programme).order_by(Programme.end_date.desc(), Programme.name)
            )
            if may(user, "plan.create", p)
        ]
    return clusters, programmes


def plan_chooser(tenant):
    """The page that asks what the new plan is for (403 for who may plan for nothing)."""
    clusters, programmes = plan_choices(current_user, tenant)
    if not clusters and not programmes:
        abort(403)
    status = 200
    message = ""
    if (
        request.method == "POST"
        or request.args.get("cluster_id")
        or request.args.get("programme_id")
    ):
        # A post, or a choice that is not a number: nothing is created, the question again.
        status = 400
        message = _("Choose what the plan is for: a cluster or a programme.")
    return render_template(
        "plans/choose.html", clusters=clusters, programmes=programmes, message=message
    ), status
