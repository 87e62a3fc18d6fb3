"""Labels: the register of a region, and each cluster's path to its next label."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.benchmarking.services import indicator_names
from portal.clusters.models import Cluster
from portal.errors import ServiceError
from portal.extensions import db
from portal.i18n import ROLE_LABELS
from portal.labels import services
from portal.labels.public_register import parse_filters
from portal.labels.registry import schemes
from portal.permissions import may, require
from portal.plans.models import Plan, PlanKind
from portal.privacy.policy import values_view
from portal.tenancy import get_or_404
from portal.web.page_cache import cached_page
from portal.web.pagination import page_args, paginate

bp = Blueprint("labels", __name__, url_prefix="/<tenant>")


@bp.route("/labels/")
# Labels, clusters, sharing and people are no listed table (cache_scopes): their writes touch
# the region's scope, which every kept page keys on; the writes people make all day (actions,
# comments, plans, programmes) touch only their own scopes and leave this page kept.
@cached_page(scopes=lambda: (), shared=True)
def register():
    require(current_user, "label.view", g.tenant)
    today = date.today()
    filters = parse_filters(request.args)
    pagination = paginate(services.register_query(filters, today), *page_args())
    return render_template(
        "labels/register.html",
        pagination=pagination,
        today=today,
        status=filters.status,
        within=filters.within,
        level=filters.level,
        scheme=filters.scheme,
        scheme_options=services.current_schemes(g.tenant.id),
        values=values_view(current_user, g.tenant),
    )


def _newest_plan(cluster_id: int) -> Plan | None:
    """The cluster's newest individual plan: where actions for its next label go."""
    return db.session.scalar(
        select(Plan)
        .where(Plan.cluster_id == cluster_id, Plan.kind == PlanKind.INDIVIDUAL)
        .order_by(Plan.end_date.desc())
        .limit(1)
    )


@bp.route("/clusters/<int:cluster_id>/labels")
def path(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "label.view", cluster)
    on = date.today()
    # Awarded labels are public; the rules' verdicts quote the cluster's values and evidence,
    # which the privacy policy shows only to those who may see them.
    checks = services.path_checks(current_user, cluster, on)
    sees_values = checks is not None
    recorded, drafts = [], 0
    if sees_values:
        recorded = services.recorded_evidence(cluster.id)
        drafts = services.rounds_not_counted(cluster.id)
    labels = services.cluster_labels(cluster.id)
    return render_template(
        "labels/path.html",
        cluster=cluster,
        checks=checks or [],
        labels=labels,
        today=on,
        sees_values=sees_values,
        plan=_newest_plan(cluster.id) if sees_values else None,
        indicator_names=indicator_names(g.tenant.id, str(get_locale() or "en")),
        can_award=may(current_user, "label.award", cluster),
        can_document=may(current_user, "label.evidence", cluster),
        can_review=may(current_user, "label.review", cluster),
        recorded=recorded,
        not_counted=drafts,
        role_labels=ROLE_LABELS,
    )


@bp.route("/clusters/<int:cluster_id>/labels/evidence", methods=["POST"])
def evidence(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "label.evidence", cluster)
    try:
        # the day it happened (default today); the entry's own time is kept apart
        on = date.fromisoformat(request.form.get("on", "") or date.today().isoformat())
    except ValueError:
        flash(_("Enter the day it happened as YYYY-MM-DD."), "error")
        return redirect(url_for("labels.path", cluster_id=cluster.id))
    try:
        services.record_evidence(
            current_user,
            cluster,
            request.form.get("scheme", "")[:100],
            request.form.get("kind", ""),
            request.form.get("text", ""),
            request.form.get("indicator_id", "")[:100],
            on,
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The evidence is recorded."), "success")
    return redirect(url_for("labels.path", cluster_id=cluster.id))


@bp.route("/clusters/<int:cluster_id>/labels/award", methods=["POST"])
def award(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "label.award", cluster)
    entry = schemes().get((request.form.get("scheme", ""), request.form.get("version", "")))
    if entry is None or entry[1] not in services.current_schemes(g.tenant.id):
        abort(404)
    try:
        on = date.fromisoformat(request.form.get("on", "") or date.today().isoformat())
        score = (
            float(request.form["score"].replace(",", ".")) if request.form.get("score") else None
        )
    except ValueError:
        flash(_("Enter the date as YYYY-MM-DD and the score as a number."), "error")
        return redirect(url_for("labels.path", cluster_id=cluster.id))
    try:
        label = services.award(
            current_user,
            cluster,
            entry[1],
            request.form.get("level", ""),
            on,
            score,
            request.form.get("notes", ""),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(
            _(
                "The label is awarded; it is valid until %(date)s.",
                date=label.expires_on.isoformat(),
            ),
            "success",
        )
    return redirect(url_for("labels.path", cluster_id=cluster.id))


@bp.route("/clusters/<int:cluster_id>/labels/to-action", methods=["POST"])
def to_action(cluster_id: int):
    """An unmet rule becomes an action in the cluster's newest improvement plan."""
    from portal.improvement.links import keys_for_ids
    from portal.plans import services as plans

    cluster = get_or_404(Cluster, cluster_id)
    plan = _newest_plan(cluster.id)
    if plan is None:
        flash(_("The cluster has no improvement plan yet. Start one first."), "error")
        return redirect(url_for("labels.path", cluster_id=cluster.id))
    require(current_user, "plan.manage", plan)
    title = (request.form.get("title", "") or "").strip()[:200]
    # Not the rule's reason: it may quote the cluster's values, and every role of the region
    # reads plans; the path page shows it to those the privacy policy lets see it.
    description = _(
        "This rule of the path to the next label is not met yet. Why, with the cluster's "
        "values, is on the path page (for the cluster's own people, the coordinators and the "
        "assessors): %(url)s",
        url=url_for("labels.path", cluster_id=cluster.id),
    )
    try:
        action = plans.create_action(
            current_user,
            plan,
            {"title": title, "description": description},
            # The indicators the rule proposes: the action aims at them.
            indicator_keys=keys_for_ids(cluster.tenant_id, request.form.getlist("indicator_id")),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("labels.path", cluster_id=cluster.id))
    flash(
        _("The action “%(title)s” is added to %(plan)s.", title=action.title, plan=plan.title),
        "success",
    )
    return redirect(url_for("plans.action_detail", action_id=action.id))


# The label calendar and the region's label risks add their routes to this blueprint.
from portal.labels import calendar_views, evidence_views, risk_views  # noqa: E402, F401
