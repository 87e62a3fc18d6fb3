"""Personal access tokens: made, found, listed and revoked. The profile page, the CLI and the
API's authentication share these functions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, select
from sqlalchemy.orm import contains_eager

from portal.accounts.models import Membership, User
from portal.api.models import SCOPES, ApiToken
from portal.errors import ServiceError
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import tenant_scope, unscoped

# Leaked tokens can be found by this prefix (secret scanners, logs, a grep of a repository).
TOKEN_PREFIX = "cfp_"  # noqa: S105 - a public marker, not a secret
MAX_DAYS = 365
NAME_LENGTH = 100
# The last use is written at most this often per token: not one write per request.
TOUCH_SECONDS = 60


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back: they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def active_membership(user: User, tenant_id: int) -> Membership | None:
    with tenant_scope(tenant_id):
        return db.session.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.active)
        )


def create_token(user: User, tenant: Tenant, name: str, scopes: list[str], days: int) -> NewToken:
    """A new token of ``user`` in ``tenant``; its secret is in the result only. Commits."""
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > NAME_LENGTH:
        errors["name"] = [_("Give the token a name of at most %(n)d characters.", n=NAME_LENGTH)]
    wanted = [s for s in SCOPES if s in set(scopes or [])]
    if not wanted or len(wanted) != len(set(scopes or [])):
        errors["scopes"] = [_("Choose what the token may do: read, or read and write.")]
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        errors["days"] = [_("A token is valid from 1 to %(n)d days.", n=MAX_DAYS)]
    if errors:
        raise ServiceError(next(iter(errors.values()))[0], errors)
    if not user.active or active_membership(user, tenant.id) is None:
        raise ServiceError(_("Tokens are made for a region you have an active role in."))
    if "write" in wanted and "read" not in wanted:
        wanted = list(SCOPES)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with tenant_scope(tenant.id):
        token = ApiToken(
            tenant_id=tenant.id,
            user_id=user.id,
            name=name,
            scopes=" ".join(wanted),
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            secret_hash=secret_hash(secret),
            created_at=_now(),
            expires_at=_now() + timedelta(days=days),
        )
        db.session.add(token)
        db.session.commit()
    return NewToken(token, secret)


def tokens_of(user: User) -> list[tuple[ApiToken, Tenant]]:
    """The person's tokens in every region, newest first (the profile page)."""
    with unscoped():
        rows = db.session.execute(
            select(ApiToken, Tenant)
            .join(Tenant, Tenant.id == ApiToken.tenant_id)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).all()
    return [(row[0], row[1]) for row in rows]


def all_tokens() -> list[tuple[ApiToken, Tenant]]:
    """Every token of the platform (the CLI), by region then newest first."""
    with unscoped():
        rows = db.session.execute(
            select(ApiToken, Tenant)
            .join(Tenant, Tenant.id == ApiToken.tenant_id)
            .order_by(Tenant.slug, ApiToken.created_at.desc(), ApiToken.id.desc())
        ).all()
    return [(row[0], row[1]) for row in rows]


def revoke_token(token_id: int, *, owner: User | None = None) -> ApiToken:
    """Revoke a token (``owner``: only one of theirs, from the profile page). Commits."""
    with unscoped():
        token = db.session.get(ApiToken, token_id)
        if token is None or (owner is not None and token.user_id != owner.id):
            raise ServiceError(_("There is no such token."))
        if token.revoked_at is None:
            with tenant_scope(token.tenant_id):
                token.revoked_at = _now()
                db.session.commit()
    return token


def status(token: ApiToken, now: datetime | None = None) -> str:
    """ "revoked", "expired" or "active"."""
    now = now or _now()
    if token.revoked_at is not None:
        return "revoked"
    if _aware(token.expires_at) <= now:
        return "expired"
    return "active"


def authenticate(secret: str, tenant_id: int | None, address: str = "") -> ApiToken | None:
    """The live token of this secret in this region, in one query: not revoked or expired,
    its owner active and their role in the region active. Else None (the API answers 401)."""
    if tenant_id is None or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    now = _now()
    with tenant_scope(tenant_id):
        token = db.session.scalar(
            select(ApiToken)
            .join(User, User.id == ApiToken.user_id)
            .options(contains_eager(ApiToken.user))
            .join(
                Membership,
                and_(
                    Membership.user_id == ApiToken.user_id,
                    Membership.tenant_id == ApiToken.tenant_id,
                    Membership.active,
                ),
            )
            .where(
                ApiToken.secret_hash == secret_hash(secret),
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > now,
                User.active,
            )
        )
        if token is None:
            return None
        last = token.last_used_at
        if last is None or (now - _aware(last)).total_seconds() >= TOUCH_SECONDS:
            token.last_used_at = now
            token.last_used_from = (address or "")[:64]
            db.session.commit()
    return token
