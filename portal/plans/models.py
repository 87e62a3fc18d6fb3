"""Improvement plans (of one cluster, or joint for a programme) and their actions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.db import Base, Timestamped, str_enum
from portal.locking import Versioned
from portal.tenancy.scope import TenantScoped


class PlanKind(enum.StrEnum):
    INDIVIDUAL = "individual"
    JOINT = "joint"


class ActionStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


OPEN_STATUSES = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED)


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class Plan(Versioned, TenantScoped, Timestamped, Base):
    __tablename__ = "plan"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'joint' AND programme_id IS NOT NULL AND cluster_id IS NULL)"
            " OR (kind = 'individual' AND cluster_id IS NOT NULL)",
            name="kind_owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PlanKind] = mapped_column(str_enum(PlanKind, 20))
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    goals: Mapped[str] = mapped_column(Text, default="")
    focus_areas: Mapped[str] = mapped_column(Text, default="")

    cluster: Mapped[Cluster | None] = relationship()


class Action(Versioned, TenantScoped, Timestamped, Base):
    __tablename__ = "plan_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus, 20), default=ActionStatus.PLANNED, index=True
    )
    progress: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, 10), default=Priority.NORMAL)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    workshop_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop.id", ondelete="SET NULL"), index=True
    )
    # Effort, planned and spent (money in the region's currency): the measured baseline of
    # what a cluster spends alone on an indicator (portal.improvement.effort).
    planned_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    spent_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    planned_money: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    spent_money: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))

    owner: Mapped[User | None] = relationship()
    plan: Mapped[Plan] = relationship()
    clusters: Mapped[list[Cluster]] = relationship(
        secondary="action_cluster", viewonly=True, order_by="Cluster.name"
    )
    # The indicators the action aims at (portal.improvement.models.ActionIndicator).
    indicators: Mapped[list[ActionIndicator]] = relationship(
        viewonly=True, order_by="ActionIndicator.id"
    )

    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint(
            "(planned_hours IS NULL OR planned_hours >= 0)"
            " AND (spent_hours IS NULL OR spent_hours >= 0)"
            " AND (planned_money IS NULL OR planned_money >= 0)"
            " AND (spent_money IS NULL OR spent_money >= 0)",
            name="effort_not_negative",
        ),
        # Progress and overdue figures of plans and programmes read this index alone.
        Index(
            "ix_plan_action_progress",
            "plan_id",
            "tenant_id",
            "status",
            "due_date",
            "weight",
            "progress",
        ),
        # A programme's recently changed actions, found in the index alone (no row read).
        Index("ix_plan_action_recent", "plan_id", "tenant_id", "updated_at", "id"),
    )


class ActionCluster(TenantScoped, Base):
    """A cluster responsible for an action."""

    __tablename__ = "action_cluster"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("plan_action.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ActionIndicator(TenantScoped, Base):
    """An indicator an action aims to improve: one of the region's indicator sets (by id and
    version, so the link keeps its meaning when a newer version of the set comes)."""

    __tablename__ = "action_indicator"
    __table_args__ = (UniqueConstraint("action_id", "indicator_set", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("plan_action.id", ondelete="CASCADE"), index=True
    )
    indicator_set: Mapped[str] = mapped_column(String(100))
    set_version: Mapped[str] = mapped_column(String(40))
    indicator_id: Mapped[str] = mapped_column(String(100))

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.indicator_set, self.set_version, self.indicator_id)


class ActionComment(Versioned, TenantScoped, Timestamped, Base):
    """A comment on an action. Its author edits (``edited_at``) or deletes it; a coordinator
    hides it (``hidden_at``, ``hidden_by``): others then see that a coordinator hid it."""

    __tablename__ = "action_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("plan_action.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    # E-mail addresses of the people mentioned (and told), comma separated.
    mentioned: Mapped[str] = mapped_column(String(2000), default="")
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])


class ReminderSent(TenantScoped, Base):
    """Each reminder goes out once: its key names what it was about."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    affects_pages = False  # no page shows which reminders went out

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))
    sent_on: Mapped[date] = mapped_column(Date)
