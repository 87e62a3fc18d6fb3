"""Recorded choices to share benchmark values beyond the default circle."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.db import Base, str_enum, utcnow
from portal.tenancy.scope import TenantScoped


class Audience(enum.StrEnum):
    # The region shares every cluster's named values inside the forum (its coordinators,
    # assessors, cluster managers and members).
    FORUM = "forum"
    # One cluster shares its own report with the region's observers (funders).
    OBSERVERS = "observers"


class ValuesSharing(TenantScoped, Base):
    """One choice, in force from ``started_at`` until ``ended_at``; kept after it ends, so the
    region can tell who shared what and when. ``cluster_id`` is empty for the region's
    choice (audience "forum")."""

    __tablename__ = "values_sharing"
    __table_args__ = (Index("ix_values_sharing_tenant_ended", "tenant_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, 20))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    started_by: Mapped[User | None] = relationship(foreign_keys=[started_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])
