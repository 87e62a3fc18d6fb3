"""The region's webhooks on its settings (coordinators): list, add, edit, rotate the secret,
delete, and each webhook's delivery log with "send again"."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import ConflictError, ServiceError
from portal.locking import form_status, saving
from portal.permissions import require
from portal.tenancy import get_or_404
from portal.web.forms import show_service_error
from portal.web.pagination import page_args
from portal.webhooks import services
from portal.webhooks.forms import NewWebhookForm, WebhookForm
from portal.webhooks.models import (
    ERROR_KINDS,
    EVENTS,
    STATUS_LABELS,
    Webhook,
    WebhookDelivery,
)

bp = Blueprint("webhooks", __name__, url_prefix="/<tenant>/settings/webhooks")


@bp.route("")
def index():
    require(current_user, "tenant.manage", g.tenant)
    return render_template(
        "webhooks/index.html", webhooks=services.webhooks(g.tenant), event_labels=EVENTS
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(current_user, "tenant.manage", g.tenant)
    form = NewWebhookForm()
    if form.validate_on_submit():
        try:
            webhook = services.create(current_user, g.tenant, form.values())
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(
                _("The webhook is saved. Give its signing secret to the receiving system."),
                "success",
            )
            return redirect(url_for("webhooks.edit", webhook_id=webhook.id))
    return render_template("webhooks/form.html", form=form, webhook=None), form_status(form)


@bp.route("/<int:webhook_id>", methods=["GET", "POST"])
def edit(webhook_id: int):
    require(current_user, "tenant.manage", g.tenant)
    webhook = get_or_404(Webhook, webhook_id)
    form = WebhookForm(obj=webhook)
    conflict = None
    if form.validate_on_submit():
        try:
            with saving(webhook, form):
                services.update_webhook(current_user, webhook, form.values())
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The webhook is saved."), "success")
            return redirect(url_for("webhooks.edit", webhook_id=webhook.id))
    return render_template(
        "webhooks/form.html", form=form, webhook=webhook, conflict=conflict
    ), form_status(form, conflict)


@bp.route("/<int:webhook_id>/rotate", methods=["POST"])
def rotate(webhook_id: int):
    require(current_user, "tenant.manage", g.tenant)
    webhook = get_or_404(Webhook, webhook_id)
    services.rotate_secret(current_user, webhook)
    flash(
        _(
            "A new signing secret is made. The old one signs too for the next 24 hours: "
            "give the new one to the receiving system before then."
        ),
        "success",
    )
    return redirect(url_for("webhooks.edit", webhook_id=webhook.id))


@bp.route("/<int:webhook_id>/delete", methods=["POST"])
def delete(webhook_id: int):
    require(current_user, "tenant.manage", g.tenant)
    webhook = get_or_404(Webhook, webhook_id)
    services.delete(current_user, webhook)
    flash(_("The webhook is deleted, with its delivery log."), "success")
    return redirect(url_for("webhooks.index"))


@bp.route("/<int:webhook_id>/deliveries")
def deliveries(webhook_id: int):
    require(current_user, "tenant.manage", g.tenant)
    webhook = get_or_404(Webhook, webhook_id)
    page, per_page = page_args(default_per_page=25)
    return render_template(
        "webhooks/deliveries.html",
        webhook=webhook,
        pagination=services.delivery_log(current_user, webhook, page, per_page),
        event_labels=EVENTS,
        status_labels=STATUS_LABELS,
        error_kinds=ERROR_KINDS,
    )


@bp.route("/<int:webhook_id>/deliveries/<int:delivery_id>/again", methods=["POST"])
def send_again(webhook_id: int, delivery_id: int):
    require(current_user, "tenant.manage", g.tenant)
    webhook = get_or_404(Webhook, webhook_id)
    delivery = get_or_404(WebhookDelivery, delivery_id, belongs_to={"webhook_id": webhook.id})
    try:
        services.send_again(current_user, webhook, delivery)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(_("The event is sent again."), "success")
    page = request.form.get("page", type=int)
    return redirect(url_for("webhooks.deliveries", webhook_id=webhook.id, page=page))
