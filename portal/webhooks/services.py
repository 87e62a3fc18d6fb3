"""Configuring a region's webhooks and reading their delivery log (coordinators only).

The pages call these; permission and validation live here. Every write checks
``tenant.manage`` (a coordinator of the region); the address is checked by
:mod:`portal.webhooks.targets` before anything is written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.db import utcnow
from portal.errors import ServiceError
from portal.extensions import db
from portal.permissions import require
from portal.web.pagination import Page, paginate
from portal.webhooks import signing, targets
from portal.webhooks.models import EVENTS, DeliveryStatus, Webhook, WebhookDelivery
from portal.webhooks.recording import NEW

ROTATION_GRACE = timedelta(hours=24)  # the previous secret still signs this long


def webhooks(tenant) -> list[Webhook]:
    return list(
        db.session.scalars(
            select(Webhook).where(Webhook.tenant_id == tenant.id).order_by(Webhook.id)
        )
    )


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """The values to store, or ServiceError with a translated message per field."""
    errors: dict[str, list[str]] = {}
    url = (data.get("url") or "").strip()
    try:
        targets.resolve(url)
    except targets.TargetRefused as exc:
        errors["url"] = [exc.message]
    events = [e for e in data.get("events") or () if e in EVENTS]
    if not events or len(events) != len(data.get("events") or ()):
        errors["events"] = [_("Choose at least one event, from the list.")]
    description = (data.get("description") or "").strip()
    if len(description) > 200:
        errors["description"] = [_("At most 200 characters.")]
    if errors:
        raise ServiceError(_("Check the marked fields."), errors)
    return {
        "url": url,
        "description": description,
        "events": [e for e in EVENTS if e in events],  # in the list's order
        "active": bool(data.get("active")),
    }


def create(user, tenant, data: dict[str, Any]) -> Webhook:
    if user is not None:
        require(user, "tenant.manage", tenant)
    values = _checked(data)
    webhook = Webhook(
        tenant_id=tenant.id,
        signing_secret=signing.new_secret(),
        created_by_id=getattr(user, "id", None),
        **values,
    )
    db.session.add(webhook)
    db.session.commit()
    return webhook


def update_webhook(user, webhook: Webhook, data: dict[str, Any]) -> Webhook:
    """Change it; call inside ``portal.locking.saving`` with the form's version."""
    if user is not None:
        require(user, "tenant.manage", webhook)
    for key, value in _checked(data).items():
        setattr(webhook, key, value)
    db.session.commit()
    return webhook


def rotate_secret(user, webhook: Webhook) -> Webhook:
    """A new secret; the old one goes on signing for a day, beside it, so receivers can switch."""
    if user is not None:
        require(user, "tenant.manage", webhook)
    webhook.previous_signing_secret = webhook.signing_secret
    webhook.previous_secret_until = utcnow() + ROTATION_GRACE
    webhook.signing_secret = signing.new_secret()
    db.session.commit()
    return webhook


def delete(user, webhook: Webhook) -> None:
    """Gone, with its delivery log (nothing more is sent)."""
    if user is not None:
        require(user, "tenant.manage", webhook)
    db.session.delete(webhook)
    db.session.commit()


def delivery_log(user, webhook: Webhook, page: int, per_page: int) -> Page:
    """The webhook's deliveries, newest first: two queries, whatever the number."""
    if user is not None:
        require(user, "tenant.manage", webhook)
    stmt = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id)
        .order_by(WebhookDelivery.id.desc())
    )
    return paginate(stmt, page, per_page)


def send_again(user, webhook: Webhook, delivery: WebhookDelivery) -> None:
    """Try a delivery again from its first try (the same event id, so receivers can tell a
    copy); refused while it is being sent."""
    if user is not None:
        require(user, "tenant.manage", webhook)
    if delivery.webhook_id != webhook.id:
        raise ServiceError(_("This delivery belongs to another webhook."))
    table = WebhookDelivery.__table__
    now = utcnow()
    reset = db.session.execute(
        update(table)
        .where(
            table.c.id == delivery.id,
            (table.c.status != DeliveryStatus.SENDING) | (table.c.claimed_until < now),
        )
        .values(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            claimed_until=None,
            error_kind="",
            error="",
        )
    ).rowcount
    if reset != 1:
        db.session.rollback()
        raise ServiceError(_("This delivery is being sent right now; look again in a moment."))
    db.session.info.setdefault(NEW, set()).add(delivery.id)  # handed over after the commit
    db.session.commit()
