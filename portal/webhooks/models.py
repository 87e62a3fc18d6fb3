"""A region's webhooks and the deliveries of its events (an outbox, like mail's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, Timestamped, utcnow
from portal.locking import Versioned
from portal.tenancy.scope import TenantScoped

# The events a webhook may want, in the order the form lists them.
LABEL_AWARDED = "label.awarded"
LABEL_EXPIRING = "label.expiring"
ROUND_CONFIRMED = "round.confirmed"
ACTION_DONE = "action.done"
EVENTS = {
    LABEL_AWARDED: _l("A label is awarded"),
    LABEL_EXPIRING: _l("A label is about to expire (6, 3 and 1 months before)"),
    ROUND_CONFIRMED: _l("A benchmarking or audit is confirmed"),
    ACTION_DONE: _l("An action is done"),
}


class DeliveryStatus:
    PENDING = "pending"  # waiting for (another) try at ``next_attempt_at``
    SENDING = "sending"  # claimed by a delivery until ``claimed_until``
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every try failed (or the webhook is gone or off): "send again"


STATUS_LABELS = {
    DeliveryStatus.PENDING: _l("waiting"),
    DeliveryStatus.SENDING: _l("sending"),
    DeliveryStatus.DELIVERED: _l("delivered"),
    DeliveryStatus.FAILED: _l("gave up"),
}


# Why a try failed, as the delivery log says it (``WebhookDelivery.error_kind``); ``error``
# keeps the details (the receiver's answer, the network's error) as they came.
ERROR_KINDS = {
    "http": _l("The receiver answered with an error."),
    "timeout": _l("The receiver did not answer in time."),
    "connection": _l("The receiver could not be reached."),
    "refused": _l(
        "The address may not be called: it is not https, leads into a private network, or "
        "its host name cannot be found."
    ),
    "redirect": _l(
        "The receiver sent the event elsewhere; only redirects 307 and 308 to addresses a "
        "webhook may have are followed, at most three."
    ),
    "inactive": _l("The webhook is switched off."),
}


class Webhook(Versioned, TenantScoped, Timestamped, Base):
    """Where a region's events go, and the secret they are signed with.

    The secret must be kept as it is (the portal signs with it), so it is stored, unlike an
    API token's; it is never written to the audit log (``portal.audit.services``). After a
    rotation the previous secret signs too, for a day, so receivers can switch without
    losing a delivery (Standard Webhooks: several signatures, space-separated)."""

    __tablename__ = "webhook"
    affects_pages = False  # only the webhook pages show it, and they are never cached

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="", server_default="")
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    signing_secret: Mapped[str] = mapped_column(String(100))
    previous_signing_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    def wants(self, event: str) -> bool:
        return self.active and event in (self.events or ())


class WebhookDelivery(TenantScoped, Base):
    """One event for one webhook: written with the change, then tried until delivered or given
    up. ``event_id`` is the ``webhook-id`` header, the same on every try (receivers use it to
    drop a copy that arrives twice)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_log", "webhook_id", "id"),
        Index("uq_webhook_delivery_key", "key", unique=True),
    )
    affects_pages = False  # the delivery log is never cached

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Written once: a second delivery with the same key is not queued (a label's expiry
    # notice per stage).
    key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(
        String(12), default=DeliveryStatus.PENDING, server_default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    response_status: Mapped[int | None] = mapped_column(Integer)
    error_kind: Mapped[str] = mapped_column(String(20), default="", server_default="")
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    webhook: Mapped[Webhook] = relationship()
