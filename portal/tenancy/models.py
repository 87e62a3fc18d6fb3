"""A region's space in the portal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, Timestamped
from portal.locking import Versioned
from portal.tenancy.scope import TenantScoped


class Tenant(Versioned, Timestamped, Base):
    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    default_locale: Mapped[str] = mapped_column(String(10), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    accent_color: Mapped[str] = mapped_column(String(7), default="#0b6e4f")
    # The currency amounts of money are kept and shown in (ISO 4217: one of CURRENCIES).
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Benchmark values (portal.privacy): aggregates of fewer clusters than this are never
    # shown to people who may not see every cluster's own values.
    values_min_group: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    # Coordinators see the clusters' names in forum comparisons (else numbers).
    values_names_shown: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Other regions may count this region's measured effort baseline (what its clusters spent
    # on their own actions per indicator, only as aggregates; portal.improvement.effort).
    effort_baseline_shared: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Anyone may read the region's label register (cluster, level, scheme, dates) without an
    # account (portal.labels.public_register); the scores only with the second switch.
    register_published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    register_scores_published: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Changes with every write to the tenant's data (portal.tenancy.versioning).
    data_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class TenantPlugin(TenantScoped, Base):
    """Whether an installed plugin is switched on for a tenant (installed is not enabled)."""

    __tablename__ = "tenant_plugin"
    __table_args__ = (UniqueConstraint("tenant_id", "plugin_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)


class CacheVersion(TenantScoped, Base):
    """The version of one cache scope of a region (portal.tenancy.cache_scopes): bumped when a
    transaction that touched it commits, never deleted (a missing row is version 0).

    Tenant scoped: the page cache reads it inside the request's tenant scope. The bumps are
    Core statements on the session's connection (portal.tenancy.versioning), so they may
    write several regions' rows in one commit without the ORM's tenant criteria."""

    __tablename__ = "cache_version"

    # Part of the primary key (the mixin's column is not), so declared here.
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    scope_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
