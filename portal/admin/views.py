"""Platform administration: regions, people, installed plugins, the mail outbox, the audit log."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from portal.accounts import services as accounts
from portal.accounts.models import Membership, Role, User
from portal.audit.filters import log_csv, log_page
from portal.audit.models import AuditEntry
from portal.audit.services import record_event
from portal.errors import ServiceError
from portal.extensions import db
from portal.i18n import OUTBOX_STATUS_LABELS as STATUS_LABELS
from portal.jobs import queue_delivery
from portal.mail.delivery import retry
from portal.mail.models import OutboxMessage, Status
from portal.permissions import require
from portal.plugin_incidents import PluginIncident
from portal.settings.forms import TenantCreateForm
from portal.tenancy import services as tenancy
from portal.tenancy import unscoped
from portal.tenancy.models import Tenant, TenantPlugin
from portal.web.forms import show_service_error
from portal.web.pagination import page_args, paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _platform_admins_only():
    require(current_user, "platform.admin")


@bp.route("/", methods=["GET", "POST"])
def index():
    form = TenantCreateForm()
    if form.validate_on_submit():
        try:
            tenant = tenancy.create_tenant(
                current_user,
                slug=form.slug.data,
                name=form.name.data,
                default_locale=form.default_locale.data,
                timezone=form.timezone.data,
            )
            if form.coordinator_email.data:
                accounts.invite(
                    tenant, form.coordinator_email.data, Role.COORDINATOR, [], current_user
                )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The region “%(name)s” is created.", name=tenant.name), "success")
            return redirect(url_for("admin.index"))
    with unscoped():
        counts = dict(
            db.session.execute(
                select(Membership.tenant_id, func.count()).group_by(Membership.tenant_id)
            ).all()
        )
    tenants = db.session.scalars(select(Tenant).order_by(Tenant.name)).all()
    return render_template("admin/index.html", form=form, tenants=tenants, counts=counts), (
        422 if form.errors else 200
    )


@bp.route("/plugins")
def plugins():
    host = current_app.extensions["portal_plugins"]
    with unscoped():
        rows = db.session.execute(
            select(TenantPlugin.plugin_name, Tenant.slug, TenantPlugin.enabled).join(
                Tenant, Tenant.id == TenantPlugin.tenant_id
            )
        ).all()
    states: dict[str, dict[str, bool]] = {}
    for plugin_name, slug, enabled in rows:
        states.setdefault(plugin_name, {})[slug] = enabled
    tenants = db.session.scalars(select(Tenant).order_by(Tenant.slug)).all()
    incidents = db.session.scalars(
        select(PluginIncident).order_by(PluginIncident.at.desc()).limit(20)
    ).all()
    return render_template(
        "admin/plugins.html",
        plugins=sorted(host.plugins.values(), key=lambda p: p.name),
        states=states,
        tenants=tenants,
        broken=host.broken,
        incidents=incidents,
    )


@bp.route("/outbox")
def outbox():
    page, per_page = page_args()
    status = request.args.get("status", "")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in STATUS_LABELS:
        query = query.where(OutboxMessage.status == status)
    else:
        status = ""
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                OutboxMessage.status
            )
        ).all()
    )
    return render_template(
        "admin/outbox.html",
        pagination=paginate(query, page, per_page),
        status=status,
        counts=counts,
        status_labels=STATUS_LABELS,
    )


@bp.route("/outbox/<int:message_id>")
def outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)  # platform data: not tenant-scoped
    return render_template(
        "admin/outbox_message.html", message=message, status_labels=STATUS_LABELS
    )


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
def outbox_retry(message_id: int):
    """A dead letter gets another round of tries, delivered after this commit."""
    message = db.get_or_404(OutboxMessage, message_id)
    if message.status != Status.DEAD:
        flash(_("Only a message whose every try failed can be retried."), "error")
        return render_template(
            "admin/outbox_message.html", message=message, status_labels=STATUS_LABELS
        ), 409
    retry(message)
    record_event(
        "outbox.retry",
        user=current_user,
        object_type="outbox_message",
        object_id=message.id,
        summary=message.subject,
    )
    db.session.commit()
    queue_delivery([message.id])
    flash(_("The message is queued again."), "success")
    return redirect(url_for("admin.outbox_message", message_id=message.id))


@bp.route("/audit")
def audit():
    return log_page(
        _all_entries(),
        list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))),
        list(db.session.scalars(select(AuditEntry.object_type).distinct())),
        "admin/audit.html",
    )


@bp.route("/audit.csv")
def audit_csv():
    return log_csv(_all_entries())


def _all_entries():
    return select(AuditEntry)


@bp.route("/people")
def people():
    """Everyone with an account; deactivate (signed out at once) or reactivate."""
    page, per_page = page_args(default_per_page=50)
    stmt = select(User).order_by(User.email)
    query = (request.args.get("q") or "").strip()[:200]
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(or_(func.lower(User.email).like(like), func.lower(User.name).like(like)))
    return render_template("admin/people.html", pagination=paginate(stmt, page, per_page), q=query)


@bp.route("/people/<int:user_id>/active", methods=["POST"])
def person_active(user_id: int):
    user = db.get_or_404(User, user_id)  # platform data: not tenant-scoped
    active = request.form.get("active") == "1"
    if user.id == current_user.id:
        flash(_("You cannot deactivate yourself."), "error")
        return redirect(url_for("admin.people"))
    accounts.set_active(user, active)
    record_event("user.reactivated" if active else "user.deactivated", summary=user.email)
    if active:
        flash(_("%(name)s can sign in again.", name=user.name), "success")
    else:
        flash(_("%(name)s is deactivated and signed out everywhere.", name=user.name), "success")
    return redirect(url_for("admin.people", q=request.args.get("q") or None))
