"""The notification centre's one way in (:func:`notify`), reading, marking and following.

Every producer calls :func:`notify` (plugins through ``toolkit.post_notification``): it writes
one :class:`Notification` per person told, in the caller's transaction, and delivers each as
the person chose for that kind (``portal.notifications.delivery``): an e-mail through the
outbox at once, an item of the daily digest, or only the page. Who caused it is never told.
Only active people with an active role in the region are told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update

from portal.accounts.models import Membership, User
from portal.db import utcnow
from portal.extensions import db
from portal.mail.preferences import receives
from portal.notifications.kinds import (
    WATCHABLE,
    NotificationKind,
    Subject,
    kinds,
    subject_loaders,
    unknown_kind,
)
from portal.notifications.models import Delivery, Notification, NotificationSetting, Watch
from portal.tenancy.bulk import insert_all


def _id(person: Any) -> int | None:
    return getattr(person, "id", person)


def notify(
    recipients: Iterable[Any],
    kind: str,
    *,
    tenant_id: int,
    subject_type: str = "",
    subject_id: int | None = None,
    actor: Any = None,
    params: dict[str, Any] | None = None,
) -> list[Notification]:
    """Tell these people (users or ids) of something of ``kind`` about a subject; the caller
    commits. One query, one insert and the mails, whatever the number of people. The
    notifications answered are not loaded into the session (their ids are not read back)."""
    from portal.notifications.delivery import send_mails

    registered = kinds()
    if kind not in registered:
        raise ValueError(f"unknown notification kind: {kind}")
    info = registered[kind]
    actor_id = _id(actor)
    wanted = {_id(p) for p in recipients} - {actor_id, None}
    if not wanted:
        return []
    mail_ok = receives(info.mail_kind) if info.mail_kind else None
    columns = [User, NotificationSetting.delivery]
    if mail_ok is not None:
        columns.append(mail_ok.label("mail_ok"))
    rows = db.session.execute(
        select(*columns)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(
            NotificationSetting,
            and_(NotificationSetting.user_id == User.id, NotificationSetting.kind == kind),
        )
        .where(
            User.id.in_(sorted(wanted)),
            User.active.is_(True),
            Membership.tenant_id == tenant_id,
            Membership.active.is_(True),
        )
        .order_by(User.id)
    ).all()
    made: list[Notification] = []
    mailed: list[tuple[User, Notification]] = []
    now = utcnow()
    for row in rows:
        person, chosen = row[0], row[1]
        delivery = chosen if chosen in info.deliveries else info.default
        if delivery == Delivery.EMAIL and mail_ok is not None and not row[2]:
            delivery = Delivery.APP  # the person switched that mail off
        notification = Notification(
            tenant_id=tenant_id,
            recipient_id=person.id,
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            actor_id=actor_id,
            params=dict(params or {}),
            delivery=delivery,
            created_at=now,
        )
        made.append(notification)
        if delivery == Delivery.EMAIL:
            mailed.append((person, notification))
    insert_all(db.session, made)  # one statement, not a flush's INSERT per person
    if mailed:
        send_mails(tenant_id, info, mailed)
    return made


# --- following ------------------------------------------------------------------------------


def watchers(subject_type: str, subject_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(Watch.user_id).where(
                Watch.subject_type == subject_type, Watch.subject_id == subject_id
            )
        )
    )


def is_watching(user: Any, subject_type: str, subject_id: int) -> bool:
    return (
        db.session.scalar(
            select(Watch.id).where(
                Watch.user_id == _id(user),
                Watch.subject_type == subject_type,
                Watch.subject_id == subject_id,
            )
        )
        is not None
    )


def watch(user: Any, subject_type: str, subject_id: int, tenant_id: int) -> bool:
    """Follow it (the caller commits); False when already followed."""
    if subject_type not in WATCHABLE:
        raise ValueError(subject_type)
    if is_watching(user, subject_type, subject_id):
        return False
    db.session.add(
        Watch(
            tenant_id=tenant_id,
            user_id=_id(user),
            subject_type=subject_type,
            subject_id=subject_id,
        )
    )
    return True


def unwatch(user: Any, subject_type: str, subject_id: int) -> None:
    for row in db.session.scalars(
        select(Watch).where(
            Watch.user_id == _id(user),
            Watch.subject_type == subject_type,
            Watch.subject_id == subject_id,
        )
    ):
        db.session.delete(row)


# --- reading --------------------------------------------------------------------------------


def mine(user: Any, tenant_id: int) -> Any:
    return and_(Notification.recipient_id == _id(user), Notification.tenant_id == tenant_id)


def unread_count(user: Any, tenant_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                mine(user, tenant_id), Notification.read_at.is_(None)
            )
        )
        or 0
    )


@dataclass
class Shown:
    """A notification as listed: its words, its subject's page (None: it is gone)."""

    notification: Notification
    text: str
    url: str | None

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


@dataclass
class Loaded:
    """The subjects and actors of some notifications, loaded together."""

    subjects: dict[tuple[str, int], Subject]
    actors: dict[int, str]


def load(notifications: list[Notification]) -> Loaded:
    """The actors in one query and the subjects in one query per subject type."""
    loaders = subject_loaders()
    by_type: dict[str, set[int]] = {}
    for n in notifications:
        if n.subject_type and n.subject_id is not None:
            by_type.setdefault(n.subject_type, set()).add(n.subject_id)
    subjects: dict[tuple[str, int], Subject] = {}
    for subject_type, ids in by_type.items():
        loader = loaders.get(subject_type)
        if loader is not None:
            for subject_id, subject in loader(ids).items():
                subjects[(subject_type, subject_id)] = subject
    actor_ids = {n.actor_id for n in notifications if n.actor_id}
    actors = (
        dict(db.session.execute(select(User.id, User.name).where(User.id.in_(actor_ids))).all())
        if actor_ids
        else {}
    )
    return Loaded(subjects, actors)


def worded(notifications: list[Notification], loaded: Loaded | None = None) -> list[Shown]:
    """Word notifications in the current language (``loaded``: what :func:`load` read for
    them, or it is read now), whatever their number in a fixed number of queries."""
    registered = kinds()
    loaded = loaded if loaded is not None else load(notifications)
    shown = []
    for n in notifications:
        info: NotificationKind = registered.get(n.kind) or unknown_kind(n.kind)
        subject = loaded.subjects.get((n.subject_type, n.subject_id or 0))
        title = subject.title if subject else (n.params or {}).get("title", "")
        actor = loaded.actors.get(n.actor_id, "") if n.actor_id else ""
        shown.append(Shown(n, info.text(n.params or {}, title, actor), subject and subject.url))
    return shown


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()


def mark_all_read(user: Any, tenant_id: int) -> int:
    result = db.session.execute(
        update(Notification)
        .where(mine(user, tenant_id), Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def created_before(moment: datetime) -> Any:
    return Notification.created_at < moment
