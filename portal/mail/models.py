"""Every message the portal sends, kept for the platform admin's outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    # Only the platform admin's outbox shows it: no tenant page changes with it.
    affects_pages = False

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    transport: Mapped[str] = mapped_column(String(20))  # "smtp" or "log"
    error: Mapped[str] = mapped_column(Text, default="")
