"""Pending imports: a checked upload kept until its uploader confirms it (or it expires)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, true
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
    # The rows the check read: a large file is written by a job (portal.imports.jobs).
    rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sha256: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))  # of what the preview showed
    # False while a job checks a large upload (portal.imports.jobs): not confirmable, not
    # shown as waiting; ``rows`` and ``digest`` are set when the check passes.
    checked: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportJob(TenantScoped, Base):
    """A confirmed import written by a job (portal.imports.jobs): its state and progress,
    shown to its uploader at ``/<tenant>/imports/jobs/<id>`` (404 to anyone else)."""

    __tablename__ = "import_job"
    # Progress is written many times while the job runs; no page of the region shows it
    # except the job's own (never cached), so it does not renew the region's cached pages.
    affects_pages = False

    id: Mapped[int] = mapped_column(primary_key=True)
    pending_id: Mapped[int] = mapped_column(
        ForeignKey("pending_import.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(10), default="en")
    # queued, checking, writing, done, failed; "checked": a large upload's check passed and
    # waits for its uploader to confirm it (then queued again, to check and write)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    # done: the importer's summary; failed: {"message": ..., "problems": [[row, column, text]]}
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
