from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.toolkit import Model, TenantScoped, Timestamped, Versioned


class KeyFigure(Versioned, TenantScoped, Timestamped, Model):
    """A cluster's key figures for one year, as reported to funders; ``version`` (Versioned)
    goes up with every change, so a stale form is refused instead of overwriting."""

    __tablename__ = "facts_key_figure"
    __table_args__ = (UniqueConstraint("cluster_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    employees: Mapped[int | None] = mapped_column(Integer)
    turnover_meur: Mapped[Decimal | None] = mapped_column(Numeric(12, 1))
    innovation_projects: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")


TABLES = ("facts_key_figure",)
