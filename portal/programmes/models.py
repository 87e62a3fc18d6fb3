"""Joint improvement programmes: who takes part, with which goals, and the milestones."""

from __future__ import annotations

import enum
import secrets
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clusters.models import Cluster
from portal.db import Base, Timestamped, str_enum
from portal.locking import Versioned
from portal.tenancy.scope import TenantScoped


class MilestoneKind(enum.StrEnum):
    BENCHMARKING = "benchmarking"
    WORKSHOP = "workshop"
    LABEL_APPLICATION = "label_application"
    LABEL_EXPIRY = "label_expiry"
    OTHER = "other"


class Programme(Versioned, TenantScoped, Timestamped, Base):
    __tablename__ = "programme"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    # Secret part of the calendar feed's address; a new one revokes old subscriptions.
    calendar_key: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_urlsafe(24))

    participants: Mapped[list[ProgrammeCluster]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", passive_deletes=True
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="programme",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Milestone.due_date",
    )


class ProgrammeCluster(Versioned, TenantScoped, Base):
    """A cluster taking part in a programme, with its goal for it (``version``: the goal's
    form is refused when someone changed it meanwhile)."""

    __tablename__ = "programme_cluster"
    __table_args__ = (UniqueConstraint("programme_id", "cluster_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    goal: Mapped[str] = mapped_column(Text, default="")

    programme: Mapped[Programme] = relationship(back_populates="participants")
    cluster: Mapped[Cluster] = relationship(lazy="joined", innerjoin=True)


class Milestone(Versioned, TenantScoped, Timestamped, Base):
    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[MilestoneKind] = mapped_column(
        str_enum(MilestoneKind), default=MilestoneKind.OTHER
    )
    due_date: Mapped[date] = mapped_column(Date, index=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")

    programme: Mapped[Programme] = relationship(back_populates="milestones")
