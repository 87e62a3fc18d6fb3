"""Personal access tokens: a person's key to the JSON API of one region."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.db import Base, utcnow
from portal.tenancy.scope import TenantScoped

SCOPES = ("read", "write")


class ApiToken(TenantScoped, Base):
    """A token acts as its owner, in its region only, within its scopes.

    Only the SHA-256 of the secret is kept (``secret_hash``). A slow password hash (argon2)
    is not needed: the secret is 32 random bytes, so nobody can guess it from its hash, and
    a fast hash lets every API request find its token with one indexed lookup. ``prefix``
    (the secret's first characters) is shown in lists so people can tell their tokens apart
    and find a leaked one."""

    __tablename__ = "api_token"
    # Its last use is written as requests come: no page of the region shows tokens.
    affects_pages = False

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    # "read" or "read write": what the token may do beyond its owner's role (never more).
    scopes: Mapped[str] = mapped_column(String(40))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_from: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def allows(self, scope: str) -> bool:
        return scope in self.scope_list
