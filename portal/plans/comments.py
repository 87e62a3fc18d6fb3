"""Changing a comment after it was written: its author edits or deletes it, a coordinator
hides it (and shows it again). Every change is checked against the version the person read
(portal.locking) and lands in the audit log through the flush listener like any other."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Membership, User
from portal.errors import ServiceError
from portal.extensions import db
from portal.locking import saving
from portal.permissions import require
from portal.plans.models import ActionComment

MAX_BODY = 5000


def mentioned_names(comments: Iterable[ActionComment]) -> dict[int, str]:
    """Who each comment told, by name (comment id → "Name, Name"; one query): an address
    stays only for someone no longer in the region."""
    comments = list(comments)
    emails = {e for c in comments for e in (c.mentioned or "").split(",") if e}
    if not emails:
        return {}
    names = dict(
        db.session.execute(
            select(User.email, User.name)
            .join(Membership, Membership.user_id == User.id)
            .where(
                User.email.in_(emails), Membership.tenant_id.in_({c.tenant_id for c in comments})
            )
        ).all()
    )
    return {
        c.id: ", ".join(names.get(e, e) for e in c.mentioned.split(",") if e)
        for c in comments
        if c.mentioned
    }


def edit_comment(user: Any, comment: ActionComment, body: str, version: Any) -> None:
    """The author's new text; ``version`` the form (or number) they edited."""
    require(user, "comment.edit", comment)
    body = (body or "").strip()
    if not body:
        raise ServiceError(_("The comment is empty."), {"body": [_("Write a comment first.")]})
    if len(body) > MAX_BODY:
        raise ServiceError(_("The comment is too long."), {"body": [_("The comment is too long.")]})
    with saving(comment, version, message=_comment_conflict()):
        if body != comment.body:
            comment.body = body
            comment.edited_at = datetime.now().astimezone()
        db.session.commit()


def delete_comment(user: Any, comment: ActionComment) -> None:
    require(user, "comment.delete", comment)
    db.session.delete(comment)
    db.session.commit()


def set_hidden(user: Any, comment: ActionComment, hidden: bool, version: Any) -> None:
    """A coordinator hides the comment from everyone else (or shows it again)."""
    require(user, "comment.hide", comment)
    with saving(comment, version, message=_comment_conflict()):
        if hidden and comment.hidden_at is None:
            comment.hidden_at = datetime.now().astimezone()
            comment.hidden_by_id = user.id
        elif not hidden:
            comment.hidden_at = None
            comment.hidden_by_id = None
        db.session.commit()


def _comment_conflict() -> str:
    return _(
        "Someone changed this comment while you edited it. Here is what it says now; check it "
        "and save your text again."
    )
