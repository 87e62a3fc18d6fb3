"""Who was told what about a workshop, and when: one row per person and mail, written in the
same transaction as the mail (portal.workshops.comms), listed on the workshop page."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.mail.models import OutboxMessage
from portal.tenancy.scope import TenantScoped


class Told(enum.StrEnum):
    INVITATION = "invitation"
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    SEAT = "seat"
    UPDATE = "update"
    CANCELLATION = "cancellation"
    MESSAGE = "message"
    WITHDRAWN = "withdrawn"  # the person cancelled their own registration


TOLD_LABELS = {
    Told.INVITATION: _l("Invitation"),
    Told.REGISTERED: _l("Registration confirmed"),
    Told.WAITLISTED: _l("On the waiting list"),
    Told.SEAT: _l("Seat from the waiting list"),
    Told.UPDATE: _l("Change of the workshop"),
    Told.CANCELLATION: _l("Cancellation"),
    Told.MESSAGE: _l("Message"),
    Told.WITHDRAWN: _l("Registration cancelled"),
}


class WorkshopNotice(TenantScoped, Base):
    __tablename__ = "workshop_notice"
    __table_args__ = (Index("ix_workshop_notice_workshop_told", "workshop_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    what: Mapped[str] = mapped_column(String(20))
    # The workshop's .ics SEQUENCE the mail carried (or would have).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # A coordinator's message: its subject.
    subject: Mapped[str] = mapped_column(String(300), default="")
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    message: Mapped[OutboxMessage | None] = relationship()
