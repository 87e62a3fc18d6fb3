"""Accounts: passwords, sign-in, invitations, password reset."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime
from urllib.parse import urljoin

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from portal.accounts import sessions
from portal.accounts.models import Invitation, Membership, MembershipCluster, Role, User
from portal.accounts.passwords import check_length, check_new_password
from portal.errors import ServiceError
from portal.extensions import db
from portal.mail.compose import compose, notify
from portal.mail.preferences import ACCOUNT
from portal.tenancy.models import Tenant
from portal.tenancy.scope import tenant_scope, unscoped

_hasher = PasswordHasher()
# Verifying against this keeps a sign-in for an unknown e-mail as slow as a real one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    """The hash of a password of allowed length (check_new_password checks a person's choice)."""
    check_length(password)
    return _hasher.hash(password)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    user = user_by_email(email)
    if user is None or not user.password_hash or not user.active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password or "x")
        return None
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = datetime.now().astimezone()
    db.session.commit()
    return user


def create_user(
    email: str,
    name: str,
    password: str | None,
    *,
    locale: str | None = None,
    is_platform_admin: bool = False,
) -> User:
    email = normalise_email(email)
    if user_by_email(email) is not None:
        raise ServiceError(_("A user with this e-mail address exists already."))
    if password:
        check_new_password(password, email=email, name=name)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password) if password else None,
        locale=locale or None,
        is_platform_admin=is_platform_admin,
    )
    db.session.add(user)
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change one's own password: every other session of the user ends (commits)."""
    try:
        _hasher.verify(user.password_hash or _DUMMY_HASH, current or "")
    except (VerificationError, InvalidHashError):
        message = _("The current password is not right.")
        raise ServiceError(message, {"current": [message]}) from None
    set_password(user, new, keep_session_of=user)


def set_password(user: User, new: str, *, keep_session_of: User | None = None) -> None:
    """A new password (checked); every session of the user ends but the current one of
    ``keep_session_of``. Commits."""
    check_new_password(new, email=user.email, name=user.name)
    user.password_hash = hash_password(new)
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()
    sessions.end_all(user.id, keep_current_of=keep_session_of)
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    """Deactivate (every session ends at once: nobody can sign in as them) or reactivate
    a person. Commits."""
    user.active = active
    db.session.flush()
    if not active:
        sessions.end_all(user.id)
    db.session.commit()


def set_membership_active(membership: Membership, active: bool) -> None:
    """Deactivate (no access to the region from the next request on) or reactivate a role in
    a region. Someone left with no active role anywhere is signed out at once. Commits."""
    membership.active = active
    db.session.flush()
    user = membership.user
    if not active and not user.is_platform_admin:
        with unscoped():
            others = db.session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.user_id == user.id, Membership.active)
            )
        if not others:
            sessions.end_all(user.id)
    db.session.commit()


# --- memberships --------------------------------------------------------------------------


def grant_role(
    tenant: Tenant, user: User, role: Role, cluster_ids: list[int] | None = None
) -> Membership:
    """Give ``user`` a role in ``tenant`` (replacing any earlier one)."""
    with tenant_scope(tenant.id):
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        if membership is None:
            membership = Membership(tenant_id=tenant.id, user_id=user.id, role=role)
            db.session.add(membership)
        membership.role = role
        db.session.flush()
        set_membership_clusters(membership, cluster_ids or [])
    return membership


def set_membership_clusters(membership: Membership, cluster_ids: list[int]) -> None:
    """Tie a manager or member to clusters of the same tenant (others are ignored)."""
    from portal.clusters.services import sync_cluster_links

    sync_cluster_links(
        MembershipCluster, "membership_id", membership.id, membership.tenant_id, cluster_ids
    )
    db.session.expire(membership, ["clusters"])


def count_coordinators(tenant_id: int) -> int:
    with tenant_scope(tenant_id):
        return (
            db.session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.role == Role.COORDINATOR, Membership.active)
            )
            or 0
        )


# --- signed links -------------------------------------------------------------------------


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"portal-{purpose}")


def _password_fingerprint(user: User) -> str:
    # A reset link dies once the password it was made for has changed.
    return hashlib.sha256((user.password_hash or "none").encode()).hexdigest()[:16]


def password_reset_token(user: User) -> str:
    """A new reset link: the ones sent before it stop working (the serial in the payload)."""
    user.password_reset_serial = (user.password_reset_serial or 0) + 1
    return _serializer("password-reset").dumps(
        {"u": user.id, "f": _password_fingerprint(user), "n": user.password_reset_serial}
    )


def user_from_reset_token(token: str) -> User:
    try:
        data = _serializer("password-reset").loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except SignatureExpired:
        raise ServiceError(_("This link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise ServiceError(_("This link is not valid. Ask for a new one.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("f") != _password_fingerprint(user):
        raise ServiceError(_("This link has been used already. Ask for a new one."))
    if data.get("n") != user.password_reset_serial:
        raise ServiceError(_("A newer link has been sent for this account. Use the latest one."))
    return user


def send_password_reset(email: str) -> None:
    """Mail a reset link if the address is known; say nothing either way."""
    user = user_by_email(email)
    if user is None or not user.active:
        return
    link = external_url("auth.reset_password", token=password_reset_token(user))
    notify(user, ACCOUNT, "password_reset", name=user.name, reset_link=link)
    db.session.commit()


def external_url(endpoint: str, **values) -> str:
    base = current_app.config.get("PORTAL_BASE_URL")
    if base:
        # url_for's path already holds any prefix the portal is served under.
        return urljoin(base, url_for(endpoint, **values))
    return url_for(endpoint, _external=True, **values)


# --- invitations --------------------------------------------------------------------------


def invite(
    tenant: Tenant, email: str, role: Role, cluster_ids: list[int], invited_by: User | None
) -> Invitation:
    email = normalise_email(email)
    with tenant_scope(tenant.id):
        existing = user_by_email(email)
        if existing is not None and db.session.scalar(
            select(Membership.id).where(Membership.user_id == existing.id)
        ):
            raise ServiceError(_("This person has a role in the region already."))
        invitation = Invitation(
            tenant_id=tenant.id,
            email=email,
            role=role,
            cluster_ids=",".join(str(i) for i in sorted(set(cluster_ids))),
            invited_by_id=invited_by.id if invited_by else None,
        )
        db.session.add(invitation)
        db.session.flush()
        link = external_url(
            "auth.accept_invitation",
            token=_serializer("invitation").dumps(invitation.id),
        )
        inviter = invited_by.name if invited_by else tenant.name
        mail = compose(
            "invitation",
            locale=tenant.default_locale,
            tenant=tenant,
            inviter=inviter,
            accept_link=link,
        )
        mail.send(email, kind=ACCOUNT, tenant_id=tenant.id)
        db.session.commit()
    return invitation


def invitation_from_token(token: str) -> Invitation:
    try:
        invitation_id = _serializer("invitation").loads(
            token, max_age=current_app.config["INVITATION_MAX_AGE"]
        )
    except SignatureExpired:
        raise ServiceError(_("This invitation has expired. Ask for a new one.")) from None
    except BadSignature:
        raise ServiceError(_("This invitation link is not valid.")) from None
    with unscoped():
        invitation = db.session.scalar(select(Invitation).where(Invitation.id == invitation_id))
    if invitation is None or invitation.revoked:
        raise ServiceError(_("This invitation has been withdrawn."))
    if invitation.accepted_at is not None:
        raise ServiceError(_("This invitation has been accepted already."))
    return invitation


def accept_invitation(invitation: Invitation, user: User) -> Membership:
    if normalise_email(user.email) != invitation.email:
        raise ServiceError(_("This invitation was sent to another e-mail address."))
    tenant = db.session.get(Tenant, invitation.tenant_id)
    with tenant_scope(tenant.id):
        membership = grant_role(tenant, user, invitation.role, invitation.cluster_id_list)
        invitation.accepted_at = datetime.now().astimezone()
        db.session.commit()
    return membership
