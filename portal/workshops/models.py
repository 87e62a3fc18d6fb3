"""Workshops of the forum: agenda, invitations, registrations, minutes, materials."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, Timestamped, str_enum, utcnow
from portal.locking import Versioned
from portal.tenancy.scope import TenantScoped


class RegistrationStatus(enum.StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Workshop(Versioned, TenantScoped, Timestamped, Base):
    __tablename__ = "workshop"
    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    location: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    minutes_md: Mapped[str] = mapped_column(Text, default="")
    # Set once when the workshop is over and plugins were told (workshop_ended).
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The .ics SEQUENCE (portal.workshops.comms): raised when the day, time, place, online
    # link or agenda change, and by a cancellation; calendar apps follow the highest.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A coordinator called it off: registration is closed, the people were told.
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    cancel_note: Mapped[str] = mapped_column(Text, default="", server_default="")

    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="workshop",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(AgendaItem.start_time, AgendaItem.id)",
    )


class AgendaItem(TenantScoped, Base):
    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    start_time: Mapped[time | None] = mapped_column(Time)
    title: Mapped[str] = mapped_column(String(200))
    presenter: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    workshop: Mapped[Workshop] = relationship(back_populates="agenda")


class WorkshopInvite(TenantScoped, Base):
    """An invitation of a whole cluster (its people) or of one person."""

    __tablename__ = "workshop_invite"
    __table_args__ = (
        UniqueConstraint("workshop_id", "cluster_id", "user_id"),
        CheckConstraint("(cluster_id IS NULL) != (user_id IS NULL)", name="cluster_or_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("cluster.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))


class Registration(TenantScoped, Timestamped, Base):
    __tablename__ = "registration"
    __table_args__ = (UniqueConstraint("workshop_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RegistrationStatus] = mapped_column(str_enum(RegistrationStatus))
    # When the person (last) asked for a seat: the waiting list moves up in this order.
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attended: Mapped[bool | None] = mapped_column(Boolean)
