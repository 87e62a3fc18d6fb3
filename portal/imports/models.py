"""Pending imports: a checked upload kept until its uploader confirms it (or it expires)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow
from portal.tenancy.scope import TenantScoped


class PendingImport(TenantScoped, Base):
    """One checked upload. The file lives in the upload storage under ``storage_key``; the
    page names it only by ``token`` (random, opaque), and only its uploader in its tenant
    can confirm it, once, before ``expires_at``."""

    __tablename__ = "pending_import"
    # The region's front page shows the uploader their imports to confirm: a new one must
    # renew the cached pages (portal.web.page_cache), so it counts as a change of the region.

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. "members", "rounds"
    target: Mapped[str] = mapped_column(String(100))  # what it imports into, e.g. "cluster:3"
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255), default="")
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))  # of what the preview showed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
