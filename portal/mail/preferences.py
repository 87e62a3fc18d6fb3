"""What mail a person wants: one choice per kind (their profile), read in SQL by every sender.

Senders ask :func:`receives` in the query that finds the people to tell (so the number of
queries does not grow with them), or :func:`wants` for one person. Plugins use the same kinds
through ``portal.toolkit`` (``receives_mail``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, select

from portal.extensions import db
from portal.mail.models import MailOptOut

KINDS = {
    "workshops": _l("Workshops: invitations, confirmations, changes and the day-before reminder"),
    "actions_due": _l("Actions of mine that are due soon or overdue"),
    "mentions": _l("Comments that mention me"),
    "label_expiry": _l("Labels of my clusters about to lapse"),
    "digest": _l("The daily digest (what happened in joint actions and plans)"),
}
ACCOUNT = "account"  # a password reset, an invitation: always sent


def receives(kind: str, user_id_column: Any = None) -> Any:
    """SQL: the person (``User.id``, or another user id column) gets mail of this kind."""
    from portal.accounts.models import User

    column = user_id_column if user_id_column is not None else User.id
    return ~exists().where(MailOptOut.user_id == column, MailOptOut.kind == kind)


def wants(user: Any, kind: str) -> bool:
    if kind == ACCOUNT:
        return True
    if not getattr(user, "active", True):
        return False
    return kind not in opted_out(user)


def opted_out(user: Any) -> set[str]:
    return set(db.session.scalars(select(MailOptOut.kind).where(MailOptOut.user_id == user.id)))


def choose(user: Any, kinds: set[str]) -> None:
    """Keep exactly ``kinds`` (a subset of KINDS) as the mail this person gets."""
    unknown = kinds - KINDS.keys()
    if unknown:
        raise ValueError(f"unknown mail kinds: {sorted(unknown)}")
    db.session.execute(delete(MailOptOut).where(MailOptOut.user_id == user.id))
    for kind in sorted(KINDS.keys() - kinds):
        db.session.add(MailOptOut(user_id=user.id, kind=kind))
