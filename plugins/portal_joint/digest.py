"""Notices in words (the joint actions' kinds of the core's notification centre), and the
joint actions' section of the daily digest (the ``reminders`` hook).

A notice is posted through the core (``toolkit.post_notification``) as a kind
(``joint.status``, ``joint.joined``, ``joint.left``, ``joint.changed``) with its detail and
the action's title as parameters, and worded here, in the reader's language, when the core
lists it, mails it or puts it into the daily digest (as each person chose for the kind; by
default in the digest, as the plugin's own notices were before they moved into the core).

The digest section of this plugin: the joint actions a person takes part in (as lead, as
the owner of a cluster's part, or as a manager of a participating cluster) that are due
within 7 days or overdue, and neither done nor cancelled: each once when it comes due (key
``joint-due:<action id>:<due date>``) and once when it is overdue
(``joint-overdue:<action id>:<due date>``), as the core does with plan actions.

Every read is a batch: the number of queries does not grow with actions or people.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.toolkit import (
    DigestItem,
    NotificationKind,
    NotificationSubject,
    User,
    _,
    _l,
    cluster_managers,
    db,
    format_date,
    in_locale,
    receives_digest,
    reminder_link,
)
from portal_joint.models import JointAction, JointStatus

DUE_WITHIN_DAYS = 7
CLOSED = (JointStatus.DONE, JointStatus.CANCELLED)

FIELD_LABELS = {
    "title": _l("title"),
    "aim": _l("aim"),
    "lead_user_id": _l("lead"),
    "lead_cluster_id": _l("lead cluster"),
    "start_date": _l("start date"),
    "due_date": _l("due date"),
    "budget_money": _l("budget (money)"),
    "budget_hours": _l("budget (hours)"),
    "workshop_id": _l("workshop"),
}


def status_label(value: str) -> str:
    from portal_joint.forms import JOINT_STATUS_LABELS

    return str(JOINT_STATUS_LABELS.get(value, value))


def notice_text(kind: str, detail: str, title: str) -> str:
    """A notice in words, in the current language."""
    if kind == "status":
        return _(
            "The status of “%(title)s” is now %(status)s.", title=title, status=status_label(detail)
        )
    if kind == "joined":
        return _("%(cluster)s joined “%(title)s”.", cluster=detail, title=title)
    if kind == "left":
        return _("%(cluster)s left “%(title)s”.", cluster=detail, title=title)
    if kind == "changed" and detail:
        fields = ", ".join(
            str(FIELD_LABELS.get(f.strip(), f.strip())) for f in detail.split(",") if f.strip()
        )
        return _("“%(title)s” was changed: %(fields)s.", title=title, fields=fields)
    return _("“%(title)s” was changed.", title=title)


def due_for_people(today: date) -> dict[int, list[JointAction]]:
    """The open joint actions due within 7 days or overdue, by the people taking part in
    them: three queries."""
    actions = db.session.scalars(
        select(JointAction)
        .where(
            JointAction.status.not_in(CLOSED),
            JointAction.due_date.is_not(None),
            JointAction.due_date <= today + timedelta(days=DUE_WITHIN_DAYS),
        )
        .options(selectinload(JointAction.parts))
        .order_by(JointAction.due_date, JointAction.id)
    ).all()
    active = {a.id: [p for p in a.parts if p.left_on is None] for a in actions}
    managers = cluster_managers({p.cluster_id for parts in active.values() for p in parts})
    found: dict[int, list[JointAction]] = defaultdict(list)
    for action in actions:
        people = {p.owner_id for p in active[action.id] if p.owner_id}
        if action.lead_user_id:
            people.add(action.lead_user_id)
        for part in active[action.id]:
            people.update(u.id for u in managers.get(part.cluster_id, ()))
        for user_id in people:
            found[user_id].append(action)
    return found


def _items(tenant, today, person, due) -> list[DigestItem]:
    """A person's items, in their language (the caller's ``in_locale``)."""
    items = []
    heading = _("Joint actions due within %(num)d days or overdue", num=DUE_WITHIN_DAYS)
    more = reminder_link("joint.index", tenant)
    for action in due:
        day = action.due_date.isoformat()
        late = action.due_date < today
        items.append(
            DigestItem(
                person.id,
                heading,
                action.title,
                link=reminder_link("joint.detail", tenant, action_id=action.id),
                detail=_("Overdue: not done yet") if late else "",
                when=format_date(action.due_date, "long"),
                key=f"joint-{'overdue' if late else 'due'}:{action.id}:{day}",
                more_link=more,
            )
        )
    return items


def reminders(tenant, today: date) -> list[DigestItem]:
    """The digest items of the people who have joint actions due (the notices go into the
    digest through the core's notification centre)."""
    due = due_for_people(today)
    if not due:
        return []
    people = db.session.scalars(
        select(User).where(User.id.in_(set(due)), receives_digest(tenant, today)).order_by(User.id)
    ).all()
    found = []
    for person in people:
        with in_locale(person.locale or tenant.default_locale or "en"):
            found += _items(tenant, today, person, due.get(person.id, []))
    return found


# --- the kinds of notification ------------------------------------------------------------


def load_joint_actions(ids) -> dict[int, NotificationSubject]:
    """Titles and pages of joint actions, for the notifications listed: one query."""
    rows = db.session.execute(
        select(JointAction.id, JointAction.title).where(JointAction.id.in_(sorted(ids)))
    ).all()
    return {
        action_id: NotificationSubject(title, url_for("joint.detail", action_id=action_id))
        for action_id, title in rows
    }


def _kind(kind: str, label) -> NotificationKind:
    return NotificationKind(
        f"joint.{kind}",
        label,
        lambda params, title, actor: notice_text(kind, params.get("detail", ""), title),
        default="digest",
        subject_type="joint_action",
        load_subjects=load_joint_actions,
        digest_heading=_l("News about your joint actions"),
    )


def notification_kinds() -> list[NotificationKind]:
    return [
        _kind("status", _l("Joint actions: a status changed")),
        _kind("joined", _l("Joint actions: a cluster joined")),
        _kind("left", _l("Joint actions: a cluster left")),
        _kind("changed", _l("Joint actions: details changed")),
    ]
