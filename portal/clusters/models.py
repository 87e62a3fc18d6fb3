"""Cluster organisations and their member organisations."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, Timestamped
from portal.locking import Versioned
from portal.tenancy.scope import TenantScoped


class MemberType(enum.StrEnum):
    COMPANY_SME = "company_sme"
    COMPANY_LARGE = "company_large"
    PUBLIC_BODY = "public_body"
    UNIVERSITY = "university"
    RESEARCH_INSTITUTE = "research_institute"
    HOSPITAL = "hospital"
    USER_ORGANISATION = "user_organisation"
    INVESTOR = "investor"
    OTHER = "other"


class Cluster(Versioned, TenantScoped, Timestamped, Base):
    __tablename__ = "cluster"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    founded_year: Mapped[int | None] = mapped_column(Integer)
    programme_level: Mapped[str] = mapped_column(String(100), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")

    members: Mapped[list[MemberOrganisation]] = relationship(
        back_populates="cluster", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Cluster {self.id} {self.name}>"


class MemberOrganisation(Versioned, TenantScoped, Timestamped, Base):
    __tablename__ = "member_organisation"
    __table_args__ = (
        UniqueConstraint("cluster_id", "name"),
        # The region's composition (members by type) is counted from this index alone.
        Index("ix_member_organisation_tenant_type", "tenant_id", "member_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    member_type: Mapped[MemberType] = mapped_column(
        Enum(
            MemberType,
            native_enum=False,
            length=30,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    city: Mapped[str] = mapped_column(String(100), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    joined_year: Mapped[int | None] = mapped_column(Integer)

    cluster: Mapped[Cluster] = relationship(back_populates="members")
