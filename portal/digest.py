"""The daily digest: everything a person is reminded of, in ONE mail per region and day.

:func:`send_digests` is the mail part of ``portal send-reminders`` (:mod:`portal.reminders`)
for one region. It collects, for the people of the region,

* their open actions that are overdue, or due within N days (mail kind ``actions_due``; keys
  ``action-overdue:<action id>:<due date>`` and ``action-due:<action id>:<due date>``);
* the workshops they are registered for tomorrow (``workshops``;
  ``workshop:<workshop id>:<day>``);
* labels of their clusters lapsing in 6, 3 or 1 months, for the cluster's managers and the
  coordinators (``label_expiry``; ``label-expiry:<label id>:<months>``;
  :mod:`portal.labels.reminders`);
* what plugins add through the ``reminders`` hook: :class:`DigestItem` s (``digest``; e.g.
  the joint actions' news and the joint actions due),

and sends each person with anything new one mail (``mail/digest.html`` and ``.txt``, through
:func:`portal.mail.compose.notify`): a section per kind with a heading, each item linking to
its page, in the person's language with the region's name and colour. Each section follows the
person's choice of that kind of mail; a person with nothing new gets no mail. A section shows
at most :data:`MAX_ITEMS` items and says how many more there are, with a link to the page that
lists them all.

Each item is reminded once: a :class:`ReminderSent` row per item key. The digest itself is
claimed once per person, region and day (``ReminderSent`` key ``digest:<region>:<day>``) and
has the outbox key ``digest:<region>:<user>:<day>``. A person who had the day's digest is left
out of every query of a later run that day (:func:`receives_digest`), so a second run sends,
claims and marks nothing for them (what came up since goes into the next day's digest). The
claims, what plugins' hooks marked and the mails are committed in one transaction: when another
run claimed any of them first, the region's batch is rolled back (``conflicts``), so nothing is
sent twice and nothing is marked as told without its mail.

The number of queries depends on the number of regions, not on the number of actions, items or
people: everything is read in batches, and the mails are written in one statement.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.routing import BuildError

from portal.accounts.models import Membership, User
from portal.extensions import db
from portal.formatting import format_date
from portal.mail.compose import recipient_locale
from portal.mail.preferences import receives
from portal.plans.models import OPEN_STATUSES, Action, ReminderSent
from portal.tenancy.models import Tenant
from portal.workshops.models import Registration, RegistrationStatus, Workshop

log = logging.getLogger(__name__)

MAX_ITEMS = 50  # per section in one mail; "… and N more" links to the page with all of them
KEY_BATCH = 500


@dataclass
class DigestItem:
    """One thing a person is reminded of in their daily digest (what the ``reminders`` hook
    answers). The words are in the person's language: ``section`` is the heading it is listed
    under (items with the same heading form one section, in the order given), ``title`` links
    to ``link``, ``detail`` is a line under it and ``when`` a day or time beside it.
    ``more_link`` is the page that lists all of the section's items (for "… and N more").

    ``key`` names it once: it is reminded once per person and key (unique across regions, e.g.
    ``"joint-due:<action id>:<due date>"``). ``None``: the plugin keeps track itself (it is
    listed each time the hook answers it, e.g. news it marks as told)."""

    user_id: int
    section: str
    title: str
    link: str = ""
    detail: str = ""
    when: str = ""
    key: str | None = None
    more_link: str = ""
    kind: str = "plugin"  # a key of COUNTS: the core's own kinds, or "plugin"


@dataclass
class Reminder:
    """Before the digest, a plugin's ``reminders`` hook answered whole mails. Kept so such a
    plugin still loads and its people still hear of it: each becomes one item of their
    digest (its subject the title, the first line of its body the detail). Answer
    :class:`DigestItem` instead."""

    user_id: int
    email: str
    key: str
    subject: str
    body: str
    kind: str = "plugin"

    def as_item(self) -> DigestItem:
        first_line = (self.body or "").strip().split("\n", 1)[0]
        return DigestItem(
            self.user_id, _("More reminders"), self.subject, detail=first_line, key=self.key
        )


def reminder_footer() -> str:
    """Before the digest, the line each reminder ended with; the digest says it once now."""
    return ""


@dataclass
class Section:
    heading: str
    items: list[DigestItem]
    more: int = 0  # items not shown
    more_link: str = ""


@dataclass(frozen=True)
class Planned:
    """One thing a run sends or does: a digest (``kind`` "digest", to ``email``, with
    ``items``: "heading: title" each) or the end of a workshop (``kind`` "workshops_ended",
    ``subject`` its title, ``email`` empty)."""

    tenant: str  # the region's slug
    kind: str
    email: str
    subject: str
    items: tuple[str, ...] = field(default=())


Found = list[tuple[User, DigestItem]]


def digest_claim(tenant: Tenant, today: date) -> str:
    """The ReminderSent key of a person's digest of the day in a region."""
    return f"digest:{tenant.id}:{today.isoformat()}"


def digest_key(tenant: Tenant, user_id: int, today: date) -> str:
    """The outbox key of the digest: one message per person, region and day."""
    return f"digest:{tenant.id}:{user_id}:{today.isoformat()}"


def receives_digest(tenant: Tenant, today: date, kind: str = "digest") -> Any:
    """SQL on ``User``: the person is told about ``kind`` in the region's digest of ``today``:
    an active account with an active membership of the region (a deactivated one keeps what
    it owns on record, but is told nothing), who keeps mail of ``kind`` on and has not had
    that day's digest yet."""
    members = select(Membership.user_id).where(
        Membership.tenant_id == tenant.id, Membership.active.is_(True)
    )
    told = exists().where(
        ReminderSent.user_id == User.id, ReminderSent.key == digest_claim(tenant, today)
    )
    return and_(User.active.is_(True), receives(kind), User.id.in_(members), ~told)


def reminder_link(endpoint: str, tenant: Tenant, **values) -> str:
    """An absolute link for a mail (the tenant's dashboard if the page does not exist)."""
    from portal.accounts.services import external_url

    try:
        return external_url(endpoint, tenant=tenant.slug, **values)
    except BuildError:
        return external_url("main.dashboard", tenant=tenant.slug)


# --- what the core reminds of ---------------------------------------------------------------


def action_items(tenant: Tenant, today: date, days: int) -> Found:
    """Open actions overdue or due within ``days``, for their owners: two queries."""
    horizon = today + timedelta(days=days)
    actions = db.session.scalars(
        select(Action)
        .join(User, User.id == Action.owner_id)
        .where(
            Action.status.in_(OPEN_STATUSES),
            Action.due_date.is_not(None),
            Action.due_date <= horizon,
            receives_digest(tenant, today, "actions_due"),
        )
        .options(contains_eager(Action.owner), selectinload(Action.plan))
        .order_by(Action.due_date, Action.id)
    ).all()
    if not actions:
        return []
    my_work = reminder_link("plans.my_work", tenant)
    found = []
    for action in actions:
        owner = action.owner
        due = action.due_date.isoformat()
        with force_locale(recipient_locale(owner, tenant)):
            if action.due_date < today:
                kind, key, heading = "overdue", f"action-overdue:{action.id}:{due}", _("Overdue")
            else:
                kind, key, heading = "due_soon", f"action-due:{action.id}:{due}", _("Due soon")
            item = DigestItem(
                owner.id,
                heading,
                action.title,
                link=reminder_link("plans.action_detail", tenant, action_id=action.id),
                detail=_("Plan: %(plan)s", plan=action.plan.title),
                when=format_date(action.due_date, "long"),
                key=key,
                more_link=my_work,
                kind=kind,
            )
        found.append((owner, item))
    return found


def workshop_items(tenant: Tenant, today: date) -> Found:
    """Tomorrow's workshops, for the people registered: one query."""
    tomorrow = today + timedelta(days=1)
    rows = db.session.execute(
        select(Workshop, User)
        .join(Registration, Registration.workshop_id == Workshop.id)
        .join(User, User.id == Registration.user_id)
        .where(
            Workshop.day == tomorrow,
            Workshop.ended_at.is_(None),
            Workshop.cancelled_at.is_(None),  # its cancellation was the last word
            Registration.status == RegistrationStatus.REGISTERED,
            receives_digest(tenant, today, "workshops"),
        )
        .order_by(Workshop.start_time, Workshop.id, Registration.id)
    ).all()
    found = []
    for workshop, person in rows:
        with force_locale(recipient_locale(person, tenant)):
            where = ", ".join(x for x in (workshop.location, workshop.online_url) if x)
            item = DigestItem(
                person.id,
                _("Your workshops tomorrow"),
                workshop.title,
                link=reminder_link("workshops.detail", tenant, workshop_id=workshop.id),
                detail=_("Where: %(place)s", place=where) if where else "",
                when=_(
                    "%(day)s, %(start)s–%(end)s",
                    day=format_date(workshop.day, "long"),
                    start=workshop.start_time.strftime("%H:%M"),
                    end=workshop.end_time.strftime("%H:%M"),
                ),
                key=f"workshop:{workshop.id}:{workshop.day.isoformat()}",
                more_link=reminder_link("workshops.index", tenant),
                kind="workshop",
            )
        found.append((person, item))
    return found


def plugin_items(tenant: Tenant, today: date) -> Found:
    """The ``reminders`` hook's items, for the people who get the digest kind: one query."""
    host = current_app.extensions["portal_plugins"]
    items = []
    for answer in host.call("reminders", tenant_id=tenant.id, tenant=tenant, today=today):
        for item in answer or ():
            if isinstance(item, DigestItem):
                items.append(item)
            elif isinstance(item, Reminder):  # a plugin written before the digest
                items.append(item.as_item())
            else:
                log.warning("reminders hook: %r is not a DigestItem; left out", item)
    if not items:
        return []
    people = {
        person.id: person
        for person in db.session.scalars(
            select(User).where(
                User.id.in_({item.user_id for item in items}),
                receives_digest(tenant, today, "digest"),
            )
        )
    }
    found = []
    for item in items:
        person = people.get(item.user_id)
        if person is not None:
            item.kind = "plugin"
            found.append((person, item))
    return found


# --- the run --------------------------------------------------------------------------------


def _already_sent(items: list[DigestItem]) -> set[tuple[int, str]]:
    keys = sorted({item.key for item in items if item.key})
    found: set[tuple[int, str]] = set()
    for start in range(0, len(keys), KEY_BATCH):
        found.update(
            (user_id, key)
            for user_id, key in db.session.execute(
                select(ReminderSent.user_id, ReminderSent.key).where(
                    ReminderSent.key.in_(keys[start : start + KEY_BATCH])
                )
            )
        )
    return found


def sections(items: list[DigestItem]) -> list[Section]:
    """A person's items by heading, in the order they came; at most MAX_ITEMS shown each."""
    grouped: dict[str, list[DigestItem]] = {}
    for item in items:
        grouped.setdefault(item.section, []).append(item)
    return [
        Section(
            heading,
            found[:MAX_ITEMS],
            more=max(len(found) - MAX_ITEMS, 0),
            more_link=next((i.more_link for i in found if i.more_link), ""),
        )
        for heading, found in grouped.items()
    ]


def _mail(tenant: Tenant, today: date, person: User, items: list[DigestItem], send: bool):
    """The digest's mail: queued (``send``) and returned, or only composed (a dry run)."""
    from portal.mail.compose import compose, notify

    values = {
        "tenant": tenant,
        "link": reminder_link("plans.my_work", tenant),
        "link_label": _l("Open my work"),
        "reason": _l(
            "You get this daily digest because these reminders are switched on in your mail "
            "settings."
        ),
        "sections": sections(items),
        "today": today,
        "count": len(items),
    }
    if send:
        key = digest_key(tenant, person.id, today)
        return notify(person, "digest", "digest", key=key, checked=True, **values)
    return compose("digest", locale=recipient_locale(person, tenant), **values)


def send_digests(
    tenant: Tenant,
    today: date,
    days: int,
    counts: dict[str, int],
    *,
    dry_run: bool = False,
    planned: list[Planned] | None = None,
) -> None:
    """One digest per person of the region with anything new today (see the module)."""
    from portal.labels.reminders import label_expiry_items
    from portal.mail.services import store_together
    from portal.notifications.delivery import digest_items as notification_items

    found = (
        action_items(tenant, today, days)
        + workshop_items(tenant, today)
        + label_expiry_items(tenant, today)
        + notification_items(tenant, today)
        + plugin_items(tenant, today)
    )
    sent = _already_sent([item for _person, item in found]) if found else set()
    people: dict[int, User] = {}
    todo: dict[int, list[DigestItem]] = {}
    for person, item in found:
        if item.key is not None:
            if (person.id, item.key) in sent:
                counts["already_sent"] += 1
                continue
            sent.add((person.id, item.key))
        people[person.id] = person
        todo.setdefault(person.id, []).append(item)
    if not todo:
        db.session.rollback()  # what plugins' hooks may have prepared (e.g. marks) is undone
        return
    mails = [
        _mail(tenant, today, people[user_id], items, not dry_run) for user_id, items in todo.items()
    ]
    # Read before the commit or rollback expires them (no query per person afterwards).
    outgoing = [
        (people[user_id].email, mail.subject, items)
        for (user_id, items), mail in zip(todo.items(), mails, strict=True)
    ]
    if dry_run:
        db.session.rollback()  # what plugins' hooks prepared (e.g. marks) is undone
    else:
        # The claims (each item's key and the day's digest), the plugins' marks and the mails
        # in one transaction: another run that claimed first rolls all of it back.
        claims = [
            {"tenant_id": tenant.id, "user_id": user_id, "key": key, "sent_on": today}
            for user_id, items in todo.items()
            for key in [digest_claim(tenant, today)] + [i.key for i in items if i.key]
        ]
        try:
            store_together(mails)  # before anything flushes them one by one
            db.session.execute(insert(ReminderSent), claims)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            counts["conflicts"] += sum(len(items) for items in todo.values())
            return
    for email, subject, items in outgoing:
        counts["digests"] += 1
        for item in items:
            counts[item.kind] += 1
        if planned is not None:
            lines = tuple(f"{item.section}: {item.title}" for item in items)
            planned.append(Planned(tenant.slug, "digest", email, subject, lines))
