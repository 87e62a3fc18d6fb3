"""The workshop page's communications (routes on the workshops blueprint): cancelling the
workshop, a coordinator's message to the registered or the invited, and who was told what and
when (portal.workshops.comms)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.accounts.models import User
from portal.errors import ServiceError
from portal.extensions import db
from portal.i18n import OUTBOX_STATUS_LABELS
from portal.mail.models import OutboxMessage
from portal.permissions import require
from portal.tenancy import get_or_404
from portal.web.forms import show_service_error, strip
from portal.web.pagination import page_args, paginate
from portal.workshops import comms
from portal.workshops.models import Workshop
from portal.workshops.notices import TOLD_LABELS, WorkshopNotice
from portal.workshops.views import _detail_url, _render_detail, bp

TOLD_ON_PAGE = 10  # the newest on the workshop page; all of them, paged, on their own page


class MessageForm(FlaskForm):
    subject = StringField(
        _l("Subject"), filters=[strip], validators=[DataRequired(), Length(max=200)]
    )
    text = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=10_000)])
    audience = RadioField(
        _l("To"),
        choices=[
            ("registered", _l("Everyone registered or on the waiting list")),
            ("invited", _l("Everyone invited, and everyone registered")),
        ],
        default="registered",
        validators=[DataRequired()],
    )


class CancelWorkshopForm(FlaskForm):
    note = TextAreaField(
        _l("Note to the people (optional)"),
        validators=[Optional(), Length(max=2000)],
        description=_l("For example why, and whether a new date will follow."),
    )


def _told(workshop: Workshop):
    """Who was told what, newest first, with the person's name and the mail's state."""
    return (
        select(WorkshopNotice, User.name, OutboxMessage.status)
        .join(User, User.id == WorkshopNotice.user_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == WorkshopNotice.message_id)
        .where(WorkshopNotice.workshop_id == workshop.id)
        .order_by(WorkshopNotice.created_at.desc(), WorkshopNotice.id.desc())
    )


def detail_context(workshop: Workshop, manage: bool, forms: dict[str, Any]) -> dict[str, Any]:
    """What the workshop page shows of its communications (two queries for coordinators)."""
    cancelled_by = None
    if workshop.cancelled_by_id is not None and manage:
        cancelled_by = db.session.scalar(
            select(User.name).where(User.id == workshop.cancelled_by_id)
        )
    context: dict[str, Any] = {
        "cancelled_by": cancelled_by,
        "TOLD_LABELS": TOLD_LABELS,
        "OUTBOX_STATUS_LABELS": OUTBOX_STATUS_LABELS,
    }
    if not manage:
        return context
    context["told"] = db.session.execute(_told(workshop).limit(TOLD_ON_PAGE)).all()
    context["told_total"] = (
        db.session.scalar(
            select(func.count())
            .select_from(WorkshopNotice)
            .where(WorkshopNotice.workshop_id == workshop.id)
        )
        or 0
    )
    context["message_form"] = forms.get("message_form") or MessageForm(
        formdata=None, prefix="message"
    )
    context["cancel_form"] = forms.get("cancel_form") or CancelWorkshopForm(
        formdata=None, prefix="cancelling"
    )
    return context


@bp.route("/<int:workshop_id>/message", methods=["POST"])
def message(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    form = MessageForm(prefix="message")
    if form.validate_on_submit():
        try:
            told, before = comms.send_message(
                current_user,
                workshop,
                subject=form.subject.data,
                text=form.text.data,
                audience=form.audience.data,
            )
        except ServiceError as exc:
            db.session.rollback()
            show_service_error(form, exc)
        else:
            if told:
                flash(
                    ngettext(
                        "The message goes to %(num)d person.",
                        "The message goes to %(num)d people.",
                        told,
                    ),
                    "success",
                )
            elif before:
                flash(_("Everyone chosen got this message already: it is not sent again."), "info")
            else:
                flash(_("Nobody chosen gets workshop mail, so nothing was sent."), "info")
            return redirect(_detail_url(workshop, "told"))
    return _render_detail(workshop, 422, message_form=form)


@bp.route("/<int:workshop_id>/cancel-workshop", methods=["POST"])
def cancel_workshop(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    form = CancelWorkshopForm(prefix="cancelling")
    if form.validate_on_submit():
        try:
            told = comms.cancel_workshop(current_user, workshop, form.note.data or "")
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(_detail_url(workshop))
        flash(
            ngettext(
                "The workshop is cancelled; %(num)d person is told.",
                "The workshop is cancelled; %(num)d people are told.",
                told,
            ),
            "success",
        )
        return redirect(_detail_url(workshop))
    return _render_detail(workshop, 422, cancel_form=form)


@bp.route("/<int:workshop_id>/told")
def told(workshop_id: int):
    """Everyone told anything about the workshop, newest first, by pages."""
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    page, per_page = page_args(default_per_page=50)
    pagination = paginate(_told(workshop), page, per_page, scalars=False)
    return render_template(
        "workshops/told.html",
        workshop=workshop,
        pagination=pagination,
        TOLD_LABELS=TOLD_LABELS,
        OUTBOX_STATUS_LABELS=OUTBOX_STATUS_LABELS,
        back=url_for("workshops.detail", workshop_id=workshop.id),
    )
