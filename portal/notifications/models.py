"""Notifications (one per person told), what people follow (watches), and how each person
wants each kind delivered.

A notification stores its kind, a reference to what it is about (``subject_type`` and
``subject_id``) and the parameters to word it (``params``), never the words: it is worded in
the reader's language when shown (``portal.notifications.kinds``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow
from portal.tenancy.scope import TenantScoped


class Delivery:
    EMAIL = "email"  # mailed at once (through the outbox)
    DIGEST = "digest"  # in the daily digest
    APP = "app"  # only here, on the notifications page

    ALL = ("email", "digest", "app")


class Notification(TenantScoped, Base):
    __tablename__ = "notification"
    __table_args__ = (
        # The header's unread count and the page, newest first: both by this index.
        Index("ix_notification_recipient_unread", "recipient_id", "tenant_id", "read_at"),
        Index("ix_notification_recipient_created", "recipient_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40), default="", server_default="")
    subject_id: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How it was to be delivered when it was made (the person's setting then).
    delivery: Mapped[str] = mapped_column(String(10), default=Delivery.APP, server_default="app")
    # The day's digest that told of it (delivery "digest"), None until then.
    digested_on: Mapped[date | None] = mapped_column(Date)


class Watch(TenantScoped, Base):
    """A person follows a programme, plan, action or workshop: told of its changes."""

    __tablename__ = "watch"
    __table_args__ = (
        UniqueConstraint("user_id", "subject_type", "subject_id"),
        Index("ix_watch_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NotificationSetting(Base):
    """How a person wants one kind delivered; no row: the kind's default."""

    __tablename__ = "notification_setting"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)
    affects_pages = False  # only the person's own settings page shows it

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    delivery: Mapped[str] = mapped_column(String(10))
