"""Joint actions: shared by several clusters of a programme, with each cluster's part."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.toolkit import Cluster, Model, TenantScoped, Timestamped, User, Versioned


class JointStatus(enum.StrEnum):
    PROPOSED = "proposed"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class PartStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


def _enum(cls, length=20):
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class JointAction(Versioned, TenantScoped, Timestamped, Model):
    # ``version`` (Versioned) goes up with every change: a stale form (or board move) is
    # refused, not silently applied, also when the other save lands meanwhile.
    __tablename__ = "joint_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    aim: Mapped[str] = mapped_column(Text, default="")
    lead_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    lead_cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("cluster.id", ondelete="SET NULL")
    )
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[JointStatus] = mapped_column(_enum(JointStatus), default=JointStatus.PROPOSED)
    budget_money: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    budget_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    # Where it came from: a workshop decision, a weak indicator, a joint plan goal, or typed in.
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshop.id", ondelete="SET NULL"))
    origin: Mapped[str] = mapped_column(String(20), default="manual")

    lead_user: Mapped[User | None] = relationship()
    lead_cluster: Mapped[Cluster | None] = relationship()
    parts: Mapped[list[Participation]] = relationship(
        back_populates="action",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Participation.id",
    )
    indicators: Mapped[list[LinkedIndicator]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="LinkedIndicator.id"
    )


class LinkedIndicator(TenantScoped, Model):
    """An indicator the joint action should improve."""

    __tablename__ = "joint_action_indicator"
    __table_args__ = (UniqueConstraint("action_id", "indicator_set", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("joint_action.id", ondelete="CASCADE"), index=True
    )
    indicator_set: Mapped[str] = mapped_column(String(100))
    set_version: Mapped[str] = mapped_column(String(40))
    indicator_id: Mapped[str] = mapped_column(String(100))


class Participation(Versioned, TenantScoped, Timestamped, Model):
    """A cluster taking part in a joint action, and its own contribution to it."""

    __tablename__ = "joint_participation"
    __table_args__ = (UniqueConstraint("action_id", "cluster_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("joint_action.id", ondelete="CASCADE"), index=True
    )
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    tasks: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    status: Mapped[PartStatus] = mapped_column(_enum(PartStatus), default=PartStatus.NOT_STARTED)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # 0..100
    hours_spent: Mapped[Decimal] = mapped_column(Numeric(10, 1), default=0)
    money_spent: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    # What the cluster estimates doing it alone would have cost; None: no estimate given.
    solo_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    solo_money: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))

    action: Mapped[JointAction] = relationship(back_populates="parts")
    cluster: Mapped[Cluster] = relationship()
    owner: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.left_on is None


class JointNotice(TenantScoped, Model):
    """An in-app notification about a joint action, also collected into the daily digest.

    Stored as a kind and a detail (e.g. "status", "done"), worded in each reader's language
    when shown."""

    __tablename__ = "joint_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[int] = mapped_column(ForeignKey("joint_action.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # status, joined, left, changed
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    digested_on: Mapped[date | None] = mapped_column(Date)


TABLES = ("joint_action", "joint_action_indicator", "joint_participation", "joint_notice")
