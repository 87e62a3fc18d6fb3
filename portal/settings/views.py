"""A region's own settings, plugins, people and audit log (coordinators)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts import services as accounts
from portal.accounts.models import Invitation, Membership, Role
from portal.audit.filters import log_csv, log_page
from portal.audit.models import AuditEntry
from portal.audit.services import tenant_entries_query
from portal.clusters.services import cluster_choices
from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.i18n import ROLE_LABELS
from portal.locking import form_status, saving
from portal.permissions import require
from portal.settings.forms import InviteForm, MembershipForm, TenantSettingsForm
from portal.tenancy import get_or_404
from portal.tenancy import services as tenancy
from portal.web.forms import show_service_error

bp = Blueprint("settings", __name__, url_prefix="/<tenant>")


@bp.route("/settings", methods=["GET", "POST"])
def tenant():
    require(current_user, "tenant.manage", g.tenant)
    form = TenantSettingsForm(obj=g.tenant)
    conflict = None
    if form.validate_on_submit():
        logo = form.logo.data.read() if form.logo.data else None
        try:
            with saving(g.tenant, form):
                tenancy.update_settings(
                    current_user, g.tenant, form.data, logo=logo, remove_logo=form.remove_logo.data
                )
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The settings are saved."), "success")
            return redirect(url_for("settings.tenant"))
    return render_template("settings/tenant.html", form=form, conflict=conflict), form_status(
        form, conflict
    )


@bp.route("/settings/plugins")
def plugins():
    require(current_user, "tenant.plugins", g.tenant)
    host = current_app.extensions["portal_plugins"]
    return render_template(
        "settings/plugins.html",
        plugins=sorted(host.plugins.values(), key=lambda p: p.name),
        states=tenancy.plugin_states(g.tenant),
        broken=host.broken,
    )


@bp.route("/settings/plugins/<plugin_name>", methods=["POST"])
def plugin_toggle(plugin_name: str):
    require(current_user, "tenant.plugins", g.tenant)
    enabled = request.form.get("enabled") == "1"
    try:
        tenancy.set_plugin_enabled(current_user, g.tenant, plugin_name, enabled)
    except ServiceError:
        abort(404)
    flash(
        _("The plugin is switched on.") if enabled else _("The plugin is switched off."), "success"
    )
    return redirect(url_for("settings.plugins"))


@bp.route("/people", methods=["GET", "POST"])
def people():
    require(current_user, "tenant.people", g.tenant)
    form = InviteForm(cluster_choices=cluster_choices())
    if form.validate_on_submit():
        try:
            accounts.invite(
                g.tenant,
                form.email.data,
                Role(form.role.data),
                form.clusters.data or [],
                current_user,
            )
        except ServiceError as exc:
            db.session.rollback()
            form.email.errors = list(form.email.errors) + [exc.message]
        else:
            flash(_("The invitation is sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("settings.people"))
    memberships = db.session.scalars(
        select(Membership)
        .options(selectinload(Membership.clusters))
        .order_by(Membership.role, Membership.id)
    ).all()
    invitations = db.session.scalars(
        select(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.revoked.is_(False))
        .order_by(Invitation.created_at.desc())
    ).all()
    return render_template(
        "settings/people.html",
        form=form,
        memberships=memberships,
        invitations=invitations,
        role_labels=ROLE_LABELS,
    ), 422 if form.errors else 200


def _keeps_a_coordinator(membership: Membership, new_role: Role | None) -> bool:
    if not membership.active or membership.role != Role.COORDINATOR:
        return True  # (active coordinators are counted)
    if new_role == Role.COORDINATOR:
        return True
    return accounts.count_coordinators(g.tenant.id) > 1


@bp.route("/people/<int:membership_id>", methods=["GET", "POST"])
def membership(membership_id: int):
    require(current_user, "tenant.people", g.tenant)
    membership = get_or_404(Membership, membership_id, selectinload(Membership.clusters))
    form = MembershipForm(obj=membership, cluster_choices=cluster_choices())
    if request.method == "GET":
        form.role.data = membership.role.value
        form.clusters.data = sorted(membership.cluster_ids)
    conflict = None
    if form.validate_on_submit():
        new_role = Role(form.role.data)
        if not _keeps_a_coordinator(membership, new_role):
            flash(_("The region needs at least one coordinator."), "error")
        else:
            try:
                with saving(membership, form, extra=_membership_clusters):
                    membership.role = new_role
                    accounts.set_membership_clusters(membership, form.clusters.data or [])
                    db.session.commit()
            except ConflictError as exc:
                conflict = exc
            else:
                flash(_("The role is saved."), "success")
                return redirect(url_for("settings.people"))
    return render_template(
        "settings/membership.html", form=form, membership=membership, conflict=conflict
    ), form_status(form, conflict)


def _membership_clusters(membership: Membership) -> dict:
    return {"clusters": sorted(membership.cluster_ids)}


@bp.route("/people/<int:membership_id>/remove", methods=["POST"])
def membership_remove(membership_id: int):
    require(current_user, "tenant.people", g.tenant)
    membership = get_or_404(Membership, membership_id)
    if not _keeps_a_coordinator(membership, None):
        flash(_("The region needs at least one coordinator."), "error")
        return redirect(url_for("settings.people"))
    db.session.delete(membership)
    db.session.commit()
    flash(_("%(name)s no longer has a role in the region.", name=membership.user.name), "success")
    return redirect(url_for("settings.people"))


@bp.route("/people/<int:membership_id>/active", methods=["POST"])
def membership_active(membership_id: int):
    """Deactivate a person's role in this region (no access from the next request on; their
    sessions end if no active role is left to them) or reactivate it."""
    require(current_user, "tenant.people", g.tenant)
    membership = get_or_404(Membership, membership_id)
    active = request.form.get("active") == "1"
    if not active and membership.user_id == current_user.id:
        flash(_("You cannot deactivate your own role."), "error")
    elif not active and not _keeps_a_coordinator(membership, None):
        flash(_("The region needs at least one coordinator."), "error")
    else:
        accounts.set_membership_active(membership, active)
        name = membership.user.name
        if active:
            flash(_("%(name)s has their role in the region again.", name=name), "success")
        else:
            flash(_("%(name)s is deactivated in the region.", name=name), "success")
    return redirect(url_for("settings.people"))


@bp.route("/people/invitations/<int:invitation_id>/revoke", methods=["POST"])
def invitation_revoke(invitation_id: int):
    require(current_user, "tenant.people", g.tenant)
    invitation = get_or_404(Invitation, invitation_id)
    invitation.revoked = True
    db.session.commit()
    flash(_("The invitation to %(email)s is withdrawn.", email=invitation.email), "success")
    return redirect(url_for("settings.people"))


@bp.route("/audit")
def audit():
    require(current_user, "tenant.audit", g.tenant)
    return log_page(
        tenant_entries_query(g.tenant.id),
        _distinct(AuditEntry.action),
        _distinct(AuditEntry.object_type),
        "settings/audit.html",
    )


@bp.route("/audit.csv")
def audit_csv():
    require(current_user, "tenant.audit", g.tenant)
    return log_csv(tenant_entries_query(g.tenant.id))


def _distinct(column) -> list[str]:
    return list(
        db.session.scalars(
            select(column).where(AuditEntry.tenant_id == g.tenant.id).distinct().order_by(column)
        )
    )
