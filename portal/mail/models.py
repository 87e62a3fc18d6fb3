"""The outbox: every message the portal sends, written in the same transaction as the change
that caused it, then delivered by a job (portal.mail.delivery)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class Status:
    PENDING = "pending"  # waiting for (another) try at ``next_attempt_at``
    SENDING = "sending"  # claimed by a delivery until ``claimed_until``
    SENT = "sent"
    DEAD = "dead"  # every try failed: the platform admin sees it and may retry it


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        Index("uq_outbox_message_key", "key", unique=True),
    )
    # Only the platform admin's outbox shows it: no tenant page changes with it.
    affects_pages = False

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="", server_default="")
    # [{"filename", "content_type", "text"}]: small text parts such as an .ics file.
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=list)
    # What it is about (e.g. "workshop.invitation"): the admin's filter, the people's settings.
    kind: Mapped[str] = mapped_column(String(60), default="", server_default="")
    # Written once: a second message with the same key is not queued (e.g. the same reminder).
    key: Mapped[str | None] = mapped_column(String(200))
    tenant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    transport: Mapped[str] = mapped_column(String(20))  # "smtp" or "log"
    status: Mapped[str] = mapped_column(
        String(12), default=Status.PENDING, server_default=Status.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str] = mapped_column(Text, default="")

    @property
    def failed(self) -> bool:
        return self.status == Status.DEAD


class MailOptOut(Base):
    """A kind of mail a person chose not to get (``portal.mail.preferences``); no row: they get
    it. Mail about their account (a password reset, an invitation) is never optional."""

    __tablename__ = "mail_opt_out"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)
    affects_pages = False

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
