"""Documenting an improvement from the data (silver evidence): the page offers each improved
indicator with its values, the work aimed at it and the measured effect, pre-written; posting
one records it with what the data said that day. Routes on the labels blueprint."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.clusters.models import Cluster
from portal.errors import ServiceError
from portal.extensions import db
from portal.labels import services
from portal.labels.improvement_evidence import Proposal, improvement_rule, proposals
from portal.labels.views import bp
from portal.permissions import require
from portal.tenancy import get_or_404


def _scheme(scheme_id: str):
    found = next((s for s in services.current_schemes(g.tenant.id) if s.id == scheme_id), None)
    if found is None:
        abort(404)
    return found


def _proposals(cluster: Cluster, scheme, today: date) -> tuple[list[Proposal], object]:
    """The improved indicators of the first level (lowest first) whose rules propose some."""
    evidence = services.cluster_evidence(cluster.id)
    check = services.check(scheme, cluster.id, today, evidence)
    for eligibility in check.levels:
        rule = improvement_rule(eligibility.results)
        if rule is not None:
            locale = str(get_locale() or "en")
            found = proposals(
                current_user, g.tenant, cluster.id, scheme.id, evidence, rule, today, locale
            )
            return found, eligibility.level
    return [], None


def _page(cluster, scheme, today, *, status=200, errors=None, posted=None):
    found, level = _proposals(cluster, scheme, today)
    return (
        render_template(
            "labels/improvement_form.html",
            cluster=cluster,
            scheme=scheme,
            level=level,
            proposals=found,
            today=today,
            errors=errors or {},
            posted=posted or {},
        ),
        status,
    )


@bp.route("/clusters/<int:cluster_id>/labels/improvements", methods=["GET", "POST"])
def document_improvement(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "label.evidence", cluster)
    scheme = _scheme((request.values.get("scheme") or "")[:100])
    today = date.today()
    if request.method == "GET":
        return _page(cluster, scheme, today)
    indicator_id = (request.form.get("indicator_id") or "")[:100]
    posted = {"indicator_id": indicator_id, "text": request.form.get("text", "")}
    try:
        on = date.fromisoformat(request.form.get("on", "") or today.isoformat())
    except ValueError:
        message = _("Enter the day it happened as YYYY-MM-DD.")
        return _page(cluster, scheme, today, status=422, errors={"on": message}, posted=posted)
    found, _level = _proposals(cluster, scheme, today)
    proposal = next((p for p in found if p.indicator_id == indicator_id), None)
    if proposal is None:
        message = _("This indicator is not one the cluster improved between its benchmarkings.")
        return _page(
            cluster, scheme, today, status=422, errors={"indicator_id": message}, posted=posted
        )
    try:
        services.record_evidence(
            current_user,
            cluster,
            scheme.id,
            "improvement",
            posted["text"],
            indicator_id,
            on,
            data=proposal.snapshot(today),
        )
    except ServiceError as exc:
        db.session.rollback()
        errors = {k: v[0] for k, v in (exc.field_errors or {}).items()} or {"text": exc.message}
        return _page(cluster, scheme, today, status=422, errors=errors, posted=posted)
    flash(_("The improvement is documented, with the data of today."), "success")
    return redirect(url_for("labels.path", cluster_id=cluster.id))
