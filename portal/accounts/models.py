"""People, their roles per tenant, and invitations."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, Timestamped
from portal.locking import Versioned
from portal.tenancy.scope import TenantScoped


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    CLUSTER_MANAGER = "cluster_manager"
    MEMBER = "member"
    OBSERVER = "observer"
    # A certified expert who benchmarks clusters and audits them for labels.
    ASSESSOR = "assessor"


class User(UserMixin, Timestamped, Base):
    __tablename__ = "user_account"
    # No page shows these: changing them leaves the cached pages valid.
    unseen_columns = frozenset(
        {
            "last_login_at",
            "password_hash",
            "updated_at",
            "password_reset_serial",
            "sessions_valid_after",
        }
    )
    # The server-side sign-in session this object was loaded for (portal.accounts.sessions).
    session_token = None

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change: every session signed in before it ends.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped by every password-reset link sent: a newer link voids the older ones.
    password_reset_serial: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Sessions kept in Redis that started at or before this moment are ended: written when
    # Redis could not be reached to end them ("sign out everywhere", a password change, a
    # deactivation), so that they stay ended once it is back (portal.accounts.session_redis).
    sessions_valid_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def get_id(self) -> str:
        # Flask-Login keeps this in the signed cookies: the user and the session's own key.
        return f"{self.id}.{self.session_token or ''}"

    @property
    def is_active(self) -> bool:
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class MembershipCluster(TenantScoped, Base):
    """Ties a cluster manager or member to the clusters they work for."""

    __tablename__ = "membership_cluster"

    membership_id: Mapped[int] = mapped_column(
        ForeignKey("membership.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Membership(Versioned, TenantScoped, Timestamped, Base):
    """A user's role in one tenant; managers and members are tied to named clusters."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    # A deactivated membership is kept (it can be reactivated) but gives no access.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    # Written through MembershipCluster rows (they carry the tenant); read here.
    clusters: Mapped[list[Cluster]] = relationship(  # noqa: F821
        secondary="membership_cluster", order_by="Cluster.name", viewonly=True
    )

    @property
    def cluster_ids(self) -> set[int]:
        return {c.id for c in self.clusters}


class Invitation(TenantScoped, Timestamped, Base):
    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    cluster_ids: Mapped[str] = mapped_column(String(500), default="")
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def cluster_id_list(self) -> list[int]:
        return [int(x) for x in self.cluster_ids.split(",") if x]


class UserSession(Base):
    """A signed-in session, recorded on the server (portal.accounts.sessions). The cookie holds
    a random key; this row is found by the key's SHA-256, so the table holds no usable key."""

    __tablename__ = "user_session"
    affects_pages = False  # no tenant's page shows it

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(64), default="")


class EndedSession(Base):
    """A session kept in Redis that was signed out while Redis could not be reached: found by
    the key's SHA-256, it signs nobody in once Redis is back (portal.accounts.session_redis).
    Kept for the absolute session lifetime after ``ended_at``: no session lives longer."""

    __tablename__ = "ended_session"
    affects_pages = False  # no tenant's page shows it

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
