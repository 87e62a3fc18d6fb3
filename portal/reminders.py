"""Daily reminders by e-mail, and closing the workshops that are over.

:func:`send_reminders` runs across all tenants (``portal send-reminders``, by cron):

* the owner of each open action (planned, in progress, blocked) due within N days gets one
  "due soon" mail for it, and one "overdue" mail once it is past due;
* the people registered for a workshop tomorrow get one reminder of it;
* a cluster's managers and the coordinators are told 6, 3 and 1 months before a label
  expires (``portal.labels.reminders``);
* plugins add their own through the ``reminders`` hook (e.g. a daily digest);
* workshops whose day is past are ended (``end_workshop``: plugins get ``workshop_ended``),
  but only once they are over by the real clock: a workshop ends on its day at its end time in
  the region's time zone, whatever day the run takes as today (``--today``). With a broker
  the schedule also closes them every 15 minutes (``portal.workshops.close_ended``).

A dry run (``dry_run``) sends nothing and changes nothing: it tells what would be sent and
which workshops would be ended (``planned``), and rolls back what plugins' hooks prepared.

Each reminder goes out once: a :class:`ReminderSent` row with a key naming what it was about
(``action-due:<action id>:<due date>``, ``action-overdue:<action id>:<due date>``,
``workshop:<workshop id>:<day>``, ``label-expiry:<label id>:<months>``) is written, and committed, BEFORE the mail is sent, so two
runs at the same time cannot both send it (the second one's insert hits the unique
constraint and that tenant's batch is skipped). People who switched reminders off, and
inactive accounts, get none.

The number of queries depends on the number of tenants (and past workshops), not on the
number of actions or people: everything is loaded in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, g
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.routing import BuildError

from portal.accounts.models import Membership, User
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.mail.preferences import receives
from portal.plans.models import OPEN_STATUSES, Action, ReminderSent
from portal.tenancy import tenant_scope, unscoped
from portal.tenancy.models import Tenant
from portal.workshops.models import Registration, RegistrationStatus, Workshop

KEY_BATCH = 500
COUNTS = (
    "tenants",
    "due_soon",
    "overdue",
    "workshop",
    "label_expiry",
    "plugin",
    "already_sent",
    "workshops_ended",
    "conflicts",
)


@dataclass
class Reminder:
    """One mail to one person, sent once per ``key`` (e.g. ``"joint-digest:<user>:<day>"``)."""

    user_id: int
    email: str
    key: str
    subject: str
    body: str
    kind: str = "plugin"  # a key of COUNTS


_Reminder = Reminder  # the core's own reminders use the same type


@dataclass(frozen=True)
class Planned:
    """One thing a run sends or does: a mail (``kind`` a key of COUNTS, to ``email``) or the
    end of a workshop (``kind`` "workshops_ended", ``subject`` its title, ``email`` empty)."""

    tenant: str  # the region's slug
    kind: str
    email: str
    subject: str


def reminder_link(endpoint: str, tenant: Tenant, **values) -> str:
    """An absolute link for a mail (the tenant's dashboard if the page does not exist)."""
    return _link(endpoint, tenant, **values)


def reminder_footer() -> str:
    """The line every reminder ends with: why it came and where to switch it off."""
    return _footer()


def _plugin_reminders(tenant: Tenant, today: date) -> list[Reminder]:
    """The ``reminders`` hook's answers, for people who are active and want reminders."""
    host = current_app.extensions["portal_plugins"]
    found = [
        r
        for items in host.call("reminders", tenant_id=tenant.id, tenant=tenant, today=today)
        for r in items
    ]
    if not found:
        return []
    members = _active_members(tenant)
    wanted = set(
        db.session.scalars(
            select(User.id).where(
                User.id.in_({r.user_id for r in found}),
                User.active.is_(True),
                receives("digest"),
                User.id.in_(members),
            )
        )
    )
    for reminder in found:
        reminder.kind = "plugin"
    return [r for r in found if r.user_id in wanted]


def _active_members(tenant: Tenant):
    """The people of the region who are told things: an active membership (a deactivated
    one keeps what it owns on record, but gets no reminders from it)."""
    return select(Membership.user_id).where(
        Membership.tenant_id == tenant.id, Membership.active.is_(True)
    )


def _link(endpoint: str, tenant: Tenant, **values) -> str:
    """An absolute link; the tenant's dashboard if the page does not exist (yet)."""
    from portal.accounts.services import external_url

    try:
        return external_url(endpoint, tenant=tenant.slug, **values)
    except BuildError:
        return external_url("main.dashboard", tenant=tenant.slug)


def _footer() -> str:
    from portal.accounts.services import external_url

    try:
        profile = external_url("auth.profile")
    except BuildError:  # pragma: no cover - the profile page is part of the core
        profile = ""
    return _(
        "You get these reminders because they are switched on in your profile: %(link)s",
        link=profile,
    )


def _action_reminders(tenant: Tenant, today: date, days: int) -> list[_Reminder]:
    horizon = today + timedelta(days=days)
    members = _active_members(tenant)
    actions = db.session.scalars(
        select(Action)
        .join(User, User.id == Action.owner_id)
        .where(
            Action.status.in_(OPEN_STATUSES),
            Action.due_date.is_not(None),
            Action.due_date <= horizon,
            User.active.is_(True),
            receives("actions_due"),
            Action.owner_id.in_(members),
        )
        .options(contains_eager(Action.owner), selectinload(Action.plan))
        .order_by(Action.due_date, Action.id)
    ).all()
    reminders = []
    for action in actions:
        owner = action.owner
        with force_locale(owner.locale or tenant.default_locale or "en"):
            link = _link("plans.action_detail", tenant, action_id=action.id)
            day = format_date(action.due_date, "long")
            if action.due_date < today:
                kind, key = "overdue", f"action-overdue:{action.id}:{action.due_date.isoformat()}"
                subject = _("Overdue: %(title)s", title=action.title)
                text = _(
                    "The action “%(title)s” of the plan “%(plan)s” was due on %(day)s and "
                    "is not done yet.",
                    title=action.title,
                    plan=action.plan.title,
                    day=day,
                )
            else:
                kind, key = "due_soon", f"action-due:{action.id}:{action.due_date.isoformat()}"
                subject = _("Due soon: %(title)s", title=action.title)
                text = _(
                    "The action “%(title)s” of the plan “%(plan)s” is due on %(day)s.",
                    title=action.title,
                    plan=action.plan.title,
                    day=day,
                )
            body = f"{text}\n\n{link}\n\n-- \n{_footer()}"
        reminders.append(_Reminder(owner.id, owner.email, key, subject, body, kind))
    return reminders


def _workshop_reminders(tenant: Tenant, today: date) -> list[_Reminder]:
    tomorrow = today + timedelta(days=1)
    members = _active_members(tenant)
    rows = db.session.execute(
        select(Registration.user_id, Workshop, User)
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .join(User, User.id == Registration.user_id)
        .where(
            Workshop.day == tomorrow,
            Workshop.ended_at.is_(None),
            Registration.status == RegistrationStatus.REGISTERED,
            User.active.is_(True),
            receives("workshops"),
            Registration.user_id.in_(members),
        )
        .order_by(Workshop.start_time, Workshop.id, Registration.id)
    ).all()
    reminders = []
    for _user_id, workshop, person in rows:
        with force_locale(person.locale or tenant.default_locale or "en"):
            link = _link("workshops.detail", tenant, workshop_id=workshop.id)
            where = ", ".join(x for x in (workshop.location, workshop.online_url) if x)
            text = _(
                "You are registered for the workshop “%(title)s” tomorrow, %(day)s, "
                "%(start)s–%(end)s.",
                title=workshop.title,
                day=format_date(workshop.day, "long"),
                start=workshop.start_time.strftime("%H:%M"),
                end=workshop.end_time.strftime("%H:%M"),
            )
            if where:
                text += "\n" + _("Where: %(place)s", place=where)
            subject = _("Tomorrow: %(title)s", title=workshop.title)
            body = f"{text}\n\n{link}\n\n-- \n{_footer()}"
        key = f"workshop:{workshop.id}:{workshop.day.isoformat()}"
        reminders.append(_Reminder(person.id, person.email, key, subject, body, "workshop"))
    return reminders


def _already_sent(reminders: list[_Reminder]) -> set[tuple[int, str]]:
    keys = sorted({r.key for r in reminders})
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


def _store_together(messages: list[OutboxMessage]) -> None:
    """``send_mail`` adds one outbox copy per mail; write them in one statement instead of one
    INSERT each (the ORM inserts row by row on SQLite to read back each id)."""
    for message in messages:
        db.session.expunge(message)
    db.session.bulk_save_objects(messages)


def _remind_tenant(
    tenant: Tenant,
    today: date,
    days: int,
    counts: dict[str, int],
    *,
    dry_run: bool,
    planned: list[Planned] | None,
) -> None:
    from portal.labels.reminders import label_expiry_reminders
    from portal.mail.services import send_mail
    from portal.workshops.closing import end_workshop, workshops_over

    reminders = (
        _action_reminders(tenant, today, days)
        + _workshop_reminders(tenant, today)
        + label_expiry_reminders(tenant, today)
        + _plugin_reminders(tenant, today)
    )
    sent = _already_sent(reminders) if reminders else set()
    todo = []
    for reminder in reminders:
        if (reminder.user_id, reminder.key) in sent:
            counts["already_sent"] += 1
            continue
        sent.add((reminder.user_id, reminder.key))
        todo.append(reminder)
    if dry_run:
        for reminder in todo:
            counts[reminder.kind] += 1
            if planned is not None:
                planned.append(
                    Planned(tenant.slug, reminder.kind, reminder.email, reminder.subject)
                )
        for workshop in workshops_over(tenant, before=today):
            counts["workshops_ended"] += 1
            if planned is not None:
                planned.append(Planned(tenant.slug, "workshops_ended", "", workshop.title))
        db.session.rollback()  # what plugins' hooks prepared (e.g. marks) is undone
        return
    if todo:
        # Claim first (committed), then send: a reminder is never sent twice. One INSERT
        # for all rows (the ORM would insert row by row on SQLite, to read back the ids).
        try:
            db.session.execute(
                insert(ReminderSent),
                [
                    {"tenant_id": tenant.id, "user_id": r.user_id, "key": r.key, "sent_on": today}
                    for r in todo
                ],
            )
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            counts["conflicts"] += len(todo)
            todo = []
    messages = []
    for reminder in todo:
        messages.append(send_mail(reminder.email, reminder.subject, reminder.body))
        counts[reminder.kind] += 1
        if planned is not None:
            planned.append(Planned(tenant.slug, reminder.kind, reminder.email, reminder.subject))
    if messages:
        _store_together(messages)
        db.session.commit()
    for workshop in workshops_over(tenant, before=today):
        if end_workshop(workshop):
            counts["workshops_ended"] += 1
            if planned is not None:
                planned.append(Planned(tenant.slug, "workshops_ended", "", workshop.title))


def send_reminders(
    today: date,
    days: int = 3,
    *,
    on_tenant: Callable[[Tenant], None] | None = None,
    tenants: Iterable[Tenant] | None = None,
    dry_run: bool = False,
    planned: list[Planned] | None = None,
) -> dict[str, int]:
    """Send the day's reminders in every tenant; answer how many of each kind went out.

    ``today`` is the day the run takes as today (reminders are due by it); workshops are
    ended only once over by the real clock (``portal.workshops.closing``), even when
    ``today`` is later. ``dry_run``: send and change nothing, count what would be done.
    ``planned`` (a list) gets each mail sent and each workshop ended, or that would be.
    Links in the mails are absolute, built for ``PORTAL_BASE_URL`` (or the local server).
    ``on_tenant`` is called after each tenant (for a progress bar).
    """
    counts = dict.fromkeys(COUNTS, 0)
    if tenants is None:
        with unscoped():
            tenants = list(db.session.scalars(select(Tenant).order_by(Tenant.id)))
    base_url = current_app.config.get("PORTAL_BASE_URL") or "http://127.0.0.1:5000"
    with current_app.test_request_context(base_url=base_url):
        g.cli_actor = "send-reminders"
        for tenant in tenants:
            with tenant_scope(tenant.id):
                _remind_tenant(tenant, today, days, counts, dry_run=dry_run, planned=planned)
            counts["tenants"] += 1
            if on_tenant is not None:
                on_tenant(tenant)
    return counts
