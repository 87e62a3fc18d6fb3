"""Benchmarking rounds: one assessment of one cluster against an indicator set on a date."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.db import Base, Timestamped, str_enum
from portal.locking import Versioned
from portal.tenancy.scope import TenantScoped


class RoundKind(enum.StrEnum):
    # The cluster's own team scores itself: useful for planning, never evidence for a label.
    SELF_ASSESSMENT = "self_assessment"
    # A benchmarking interview with a certified expert (bronze); the expert's report.
    BENCHMARKING = "benchmarking"
    # An on-site audit by independent experts (gold).
    AUDIT = "audit"


class BenchmarkRound(Versioned, TenantScoped, Timestamped, Base):
    __tablename__ = "benchmark_round"
    # One round of each kind per cluster, set version and day: the team's self-assessment on
    # the day of the expert's interview never blocks the expert's result.
    __table_args__ = (
        UniqueConstraint(
            "cluster_id",
            "indicator_set",
            "set_version",
            "held_on",
            "kind",
            name="uq_benchmark_round_per_day_and_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date, index=True)
    # The set and the version it was scored with: later versions never re-colour it.
    indicator_set: Mapped[str] = mapped_column(String(100))
    set_version: Mapped[str] = mapped_column(String(40))
    # The expert whose result this is (named also when a coordinator enters it for them).
    assessor: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[RoundKind] = mapped_column(
        str_enum(RoundKind, 20), default=RoundKind.BENCHMARKING, server_default="benchmarking"
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    # Who typed it in, and in which role (the role may change later; this is the one then).
    entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    entered_role: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # A benchmarking or audit is confirmed once the expert's result is final: it is locked
    # then, and only a correction by an assessor (a new revision, the old one kept) changes it.
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    cluster: Mapped[Cluster] = relationship()
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="round", cascade="all, delete-orphan", passive_deletes=True
    )
    corrections: Mapped[list[RoundCorrection]] = relationship(
        back_populates="round",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="RoundCorrection.revision",
    )

    @property
    def audit(self) -> bool:
        return self.kind == RoundKind.AUDIT

    @audit.setter
    def audit(self, value: bool) -> None:
        self.kind = RoundKind.AUDIT if value else RoundKind.BENCHMARKING

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def locked(self) -> bool:
        """A confirmed benchmarking or audit: changed only by a correction."""
        return self.confirmed and self.kind != RoundKind.SELF_ASSESSMENT

    @classmethod
    def counts_as_evidence(cls) -> Any:
        """The SQL condition of rounds label rules and comparisons read: confirmed
        benchmarkings and audits (never self-assessments, never drafts)."""
        return and_(cls.kind != RoundKind.SELF_ASSESSMENT, cls.confirmed_at.is_not(None))


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


class RoundCorrection(TenantScoped, Base):
    """A correction of a confirmed round: what it replaced (revision ``revision``, with its
    values as they were), why, by whom and when. The round itself holds the newest revision."""

    __tablename__ = "round_correction"
    __table_args__ = (UniqueConstraint("round_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("benchmark_round.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer)  # the revision this correction replaced
    reason: Mapped[str] = mapped_column(Text)
    corrected_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    corrected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The replaced revision: held_on, assessor, notes, and indicator id -> [value, light, comment]
    previous: Mapped[dict] = mapped_column(JSON, default=dict)

    round: Mapped[BenchmarkRound] = relationship(back_populates="corrections")
    corrected_by: Mapped[User | None] = relationship()
