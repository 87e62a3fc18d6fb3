"""Plugin failures, kept so the platform admin sees them from any worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class PluginIncident(Base):
    __tablename__ = "plugin_incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    plugin_name: Mapped[str] = mapped_column(String(100), index=True)
    hook: Mapped[str] = mapped_column(String(100))
    error: Mapped[str] = mapped_column(String(500))
    details: Mapped[str] = mapped_column(Text, default="")
