"""Notices in words, and the joint actions' sections of the daily digest (the ``reminders``
hook).

A notice is stored as a kind and a detail (:class:`portal_joint.models.JointNotice`) and worded
here, in the reader's language, for the notices page and for the digest.

The core sends each person one digest a day per region (``portal.digest``); this plugin adds two
sections to it, for the people of the region who keep the digest on and have not had that day's
digest yet (``receives_digest``):

* "News about your joint actions": their notices not told yet, up to the start of the day (so a
  second run on the same day finds nothing new to mark; what happens later in the day goes into
  the next day's digest);
* the joint actions they take part in (as lead, as the owner of a cluster's part, or as a
  manager of a participating cluster) that are due within 7 days or overdue, and neither done
  nor cancelled: each once when it comes due (key ``joint-due:<action id>:<due date>``) and
  once when it is overdue (``joint-overdue:<action id>:<due date>``), as the core does with plan
  actions.

The notices in a digest are marked (``digested_on``) by the hook itself, in the same
transaction in which the core then claims the digest and its items and writes the mail: if
another run claimed them first, the transaction is rolled back and the marks with it.

Every read is a batch: the number of queries does not grow with actions, notices or people.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from portal.toolkit import (
    DigestItem,
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
from portal_joint.models import JointAction, JointNotice, JointStatus

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


def _day_start(today: date) -> datetime:
    """The start of ``today`` by the server's clock (the clock ``today`` itself comes from)."""
    return datetime.combine(today, time.min).astimezone().astimezone(UTC)


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


def _items(tenant, today, person, notices, due) -> list[DigestItem]:
    """A person's items, in their language (the caller's ``in_locale``)."""
    items = []
    heading = _("News about your joint actions")
    more = reminder_link("joint.notices", tenant)
    for notice, title in notices:
        items.append(
            DigestItem(
                person.id,
                heading,
                notice_text(notice.kind, notice.detail, title),
                link=reminder_link("joint.detail", tenant, action_id=notice.action_id),
                more_link=more,
            )
        )
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
    """The digest items of the people who have news or joint actions due; marks the notices
    it hands over."""
    due = due_for_people(today)
    cutoff = _day_start(today)
    rows = db.session.execute(
        select(JointNotice, JointAction.title)
        .join(JointAction, JointAction.id == JointNotice.action_id)
        .where(JointNotice.digested_on.is_(None), JointNotice.created_at < cutoff)
        .order_by(JointNotice.created_at, JointNotice.id)
    ).all()
    news: dict[int, list[tuple[JointNotice, str]]] = defaultdict(list)
    for notice, title in rows:
        news[notice.user_id].append((notice, title))
    wanted = set(due) | set(news)
    if not wanted:
        return []
    people = db.session.scalars(
        select(User).where(User.id.in_(wanted), receives_digest(tenant, today)).order_by(User.id)
    ).all()
    found, told = [], []
    for person in people:
        with in_locale(person.locale or tenant.default_locale or "en"):
            found += _items(tenant, today, person, news.get(person.id, []), due.get(person.id, []))
        if person.id in news:
            told.append(person.id)
    if told:  # committed (or rolled back) with the core's claims and the digests
        db.session.execute(
            update(JointNotice)
            .where(
                JointNotice.user_id.in_(told),
                JointNotice.digested_on.is_(None),
                JointNotice.created_at < cutoff,
            )
            .values(digested_on=today)
            .execution_options(synchronize_session=False)
        )
    return found
