"""The search index: one row per searchable object.

The same table on every database; the full-text part is the dialect's own and lives only in
the migration (``portal.search.schema`` names it): on PostgreSQL a generated ``tsvector``
column with a GIN index, on SQLite an FTS5 table over this one kept in step by triggers.
"""

from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base
from portal.tenancy.scope import TenantScoped


class SearchEntry(TenantScoped, Base):
    __tablename__ = "search_entry"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        # A parent renamed rewrites its children's context.
        Index("ix_search_entry_parent", "parent_kind", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What was found (portal.search.documents.KINDS) and its row id.
    kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    # What it belongs to (a comment's action, a member's cluster, a material's workshop, a
    # plan's cluster or programme): its page links there, its context is the parent's title.
    parent_kind: Mapped[str] = mapped_column(String(20), default="", server_default="")
    parent_id: Mapped[int | None] = mapped_column(Integer)
    # Searched: the title and the body. Shown, not searched: the context (the parent's title).
    title: Mapped[str] = mapped_column(String(300), default="", server_default="")
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    context: Mapped[str] = mapped_column(String(300), default="", server_default="")
