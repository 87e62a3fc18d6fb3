"""Who sees benchmark values: the region's settings, a cluster's choice to share its report."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.clusters.models import Cluster
from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.locking import form_status, saving
from portal.permissions import require
from portal.privacy import services
from portal.privacy.forms import ValuesSettingsForm
from portal.privacy.models import Audience
from portal.tenancy import get_or_404
from portal.web.forms import show_service_error

bp = Blueprint("privacy", __name__, url_prefix="/<tenant>")


@bp.route("/settings/values", methods=["GET", "POST"])
def settings():
    require(current_user, "tenant.manage", g.tenant)
    tenant = g.tenant
    forum = services.choice_in_force(tenant.id, Audience.FORUM, None)
    form = ValuesSettingsForm(
        data={
            "min_group": tenant.values_min_group,
            "names_shown": tenant.values_names_shown,
            "forum_shared": forum is not None,
            "version": tenant.version,
        }
        if request.method == "GET"
        else None
    )
    conflict = None
    if form.validate_on_submit():
        try:
            with saving(tenant, form, extra=_shown_settings):
                services.update_settings(current_user, tenant, form.data)
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            db.session.rollback()
            show_service_error(form, exc)
        else:
            flash(_("The settings on benchmark values are saved."), "success")
            return redirect(url_for("privacy.settings"))
    return render_template(
        "privacy/settings.html",
        form=form,
        forum=forum,
        history=services.history(tenant.id),
        conflict=conflict,
    ), form_status(form, conflict)


@bp.route("/clusters/<int:cluster_id>/values/sharing", methods=["POST"])
def share(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "cluster.share_values", cluster)
    shared = request.form.get("shared") == "1"
    services.share_with_observers(current_user, cluster, shared)
    flash(
        _("The observers of the region now see this cluster's values.")
        if shared
        else _("The observers no longer see this cluster's values."),
        "success",
    )
    return redirect(url_for("benchmarking.rounds", cluster_id=cluster.id, _anchor="sharing"))


def _shown_settings(tenant) -> dict:
    """The stored settings under the form's names (what a conflict shows)."""
    return {"min_group": tenant.values_min_group, "names_shown": tenant.values_names_shown}
