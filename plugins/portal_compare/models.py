"""The comparisons plugin's own data: a region's reference
portfolios (imported, or published by another region), stored as per-indicator aggregates."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.toolkit import Model, TenantScoped, Timestamped


class ReferencePortfolio(TenantScoped, Timestamped, Model):
    """A group of clusters to compare the forum against, e.g. "Danish clusters 2016 (29)".

    ``source`` is "clusters" (imported per-cluster rows, aggregated on import),
    "aggregates" (imported per-indicator aggregates) or "published" (a region's own
    anonymised aggregates, which other regions may pick when ``published`` is set)."""

    # Other regions read published portfolios: a change renews every region's pages.
    shared_across_tenants = True

    __tablename__ = "compare_reference"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    indicator_set: Mapped[str] = mapped_column(String(100))
    set_version: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    cluster_count: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    indicators: Mapped[list[ReferenceIndicator]] = relationship(
        back_populates="portfolio",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ReferenceIndicator.indicator_id",
    )


class ReferenceIndicator(TenantScoped, Model):
    """One indicator's aggregate in a reference portfolio. Shares are 0..1."""

    shared_across_tenants = True

    __tablename__ = "compare_reference_indicator"
    __table_args__ = (UniqueConstraint("portfolio_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("compare_reference.id", ondelete="CASCADE"), index=True
    )
    indicator_id: Mapped[str] = mapped_column(String(100))
    count: Mapped[int] = mapped_column(Integer)
    minimum: Mapped[float | None] = mapped_column(Float)
    q1: Mapped[float] = mapped_column(Float)
    median: Mapped[float] = mapped_column(Float)
    q3: Mapped[float] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    red_share: Mapped[float | None] = mapped_column(Float)
    yellow_share: Mapped[float | None] = mapped_column(Float)
    green_share: Mapped[float | None] = mapped_column(Float)

    portfolio: Mapped[ReferencePortfolio] = relationship(back_populates="indicators")


TABLES = ("compare_reference", "compare_reference_indicator")
