"""Writing mail to the outbox: in the caller's transaction, delivered after its commit.

``send_mail`` only adds an :class:`OutboxMessage` to the session; the caller commits it
together with the change that caused it (a transactional outbox), so a change that is rolled
back sends nothing and a committed one cannot lose its message. After the commit the new
messages are handed to :mod:`portal.jobs` (a Celery task, or delivery in this process when no
broker is configured); delivery itself is :mod:`portal.mail.delivery`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.mail.models import OutboxMessage, Status

NEW = "portal_outbox_new"  # session.info: ids of messages flushed in this transaction


def send_mail(
    recipient: str,
    subject: str,
    body: str,
    *,
    html: str = "",
    attachments: list[dict[str, Any]] | None = None,
    kind: str = "",
    key: str | None = None,
    tenant_id: int | None = None,
) -> OutboxMessage:
    """Queue a message; the caller commits the session (and with it, the message).

    ``attachments``: ``{"filename", "content_type", "text"}`` each; ``key`` names the message
    once (a second message with the same key is refused by the database)."""
    message = OutboxMessage(
        recipient=recipient,
        subject=subject[:300],
        body=body,
        html=html,
        attachments=list(attachments or []),
        kind=kind,
        key=key,
        tenant_id=tenant_id,
        transport="smtp" if current_app.config.get("MAIL_SERVER") else "log",
        status=Status.PENDING,
    )
    db.session.add(message)
    return message


def store_together(messages: list[OutboxMessage]) -> None:
    """Write many new messages (from ``send_mail`` or ``notify``, not flushed yet) in one
    statement instead of one INSERT each (the ORM inserts row by row on SQLite, to read back
    each id); like any other, they are delivered after the caller's commit."""
    if not messages:
        return
    table = OutboxMessage.__table__
    columns = {column.key for column in table.columns} - {"id"}
    rows = []
    for message in messages:
        db.session.expunge(message)
        rows.append({k: v for k, v in vars(message).items() if k in columns})
    ids = db.session.execute(insert(table).returning(table.c.id), rows).scalars().all()
    db.session.info.setdefault(NEW, set()).update(ids)


@event.listens_for(Session, "after_flush")
def _note_new_messages(session: Session, _context) -> None:
    new = [obj for obj in session.new if isinstance(obj, OutboxMessage)]
    if new:
        session.info.setdefault(NEW, set()).update(m.id for m in new)


@event.listens_for(Session, "after_commit")
def _hand_over_after_commit(session: Session) -> None:
    ids = session.info.pop(NEW, None)
    if ids:
        from portal.jobs import queue_delivery

        queue_delivery(ids)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(NEW, None)
