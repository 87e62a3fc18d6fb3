"""Benchmarking rounds: one assessment of one cluster against an indicator set on a date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clusters.models import Cluster
from portal.db import Base, Timestamped
from portal.tenancy.scope import TenantScoped


class BenchmarkRound(TenantScoped, Timestamped, Base):
    __tablename__ = "benchmark_round"
    __table_args__ = (UniqueConstraint("cluster_id", "indicator_set", "set_version", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date, index=True)
    # The set and the version it was scored with: later versions never re-colour it.
    indicator_set: Mapped[str] = mapped_column(String(100))
    set_version: Mapped[str] = mapped_column(String(40))
    assessor: Mapped[str] = mapped_column(String(200), default="")
    # An audit round (on site, for gold) rather than a benchmarking.
    audit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    notes: Mapped[str] = mapped_column(Text, default="")

    cluster: Mapped[Cluster] = relationship()
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="round", cascade="all, delete-orphan", passive_deletes=True
    )


class IndicatorValue(TenantScoped, Base):
    __tablename__ = "indicator_value"
    __table_args__ = (
        UniqueConstraint("round_id", "indicator_id"),
        # Rounds join their values under the tenant criteria: without both columns in one
        # index SQLite picks the tenant index and the join grows with the square of the data.
        Index("ix_indicator_value_round_tenant", "round_id", "tenant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("benchmark_round.id", ondelete="CASCADE"), index=True
    )
    indicator_id: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    # Stored when saved, from the thresholds of the round's set version.
    light: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")

    round: Mapped[BenchmarkRound] = relationship(back_populates="values")
