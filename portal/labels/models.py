"""Awarded labels and the evidence clusters record for them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, Date, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.db import Base, Timestamped
from portal.locking import Versioned
from portal.tenancy.scope import TenantScoped


class Label(TenantScoped, Timestamped, Base):
    """A label as awarded: it keeps the scheme version it was awarded under."""

    __tablename__ = "label"

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    scheme: Mapped[str] = mapped_column(String(100))
    scheme_version: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(40))
    awarded_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    score: Mapped[float | None] = mapped_column(Float)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    notes: Mapped[str] = mapped_column(Text, default="")

    cluster: Mapped[Cluster] = relationship()
    decided_by: Mapped[User | None] = relationship()


class LabelEvidence(TenantScoped, Timestamped, Base):
    """What a cluster documents for a label: an improvement on an indicator (what was done and
    the effect), or an expert's review."""

    __tablename__ = "label_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    scheme: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))  # "improvement", "expert_review", ...
    indicator_id: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    recorded_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # The role the person recorded it in ("assessor", "cluster_manager", ...; "system").
    recorded_role: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # What the data said on the day an improvement was documented from it (its two values,
    # the work aimed at it, their measured effect: portal.labels.improvement_evidence).
    data: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    recorded_by: Mapped[User | None] = relationship()

    @property
    def data_said(self) -> tuple[date, Decimal, Decimal, int] | None:
        """From ``data``: the day, the two values and the pieces of work (None without)."""
        rounds = (self.data or {}).get("rounds") or []
        if len(rounds) != 2:
            return None
        return (
            date.fromisoformat(self.data["on"]),
            Decimal(rounds[0][1]),
            Decimal(rounds[1][1]),
            len(self.data.get("work") or ()),
        )


class PlannedAssessment(Versioned, TenantScoped, Timestamped, Base):
    """An assessment a cluster plans toward a label (a benchmarking, an audit, an expert
    review) on a day: what makes a renewal "planned" on the label calendar
    (``portal.labels.calendar``). Planning is no evidence: rules never read it."""

    __tablename__ = "planned_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    scheme: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))  # "benchmarking", "audit", "expert_review"
    planned_on: Mapped[date] = mapped_column(Date)
    level: Mapped[str] = mapped_column(String(40), default="", server_default="")  # aimed at
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    cluster: Mapped[Cluster] = relationship()
    created_by: Mapped[User | None] = relationship()
