"""How notifications leave the portal, through the machinery that exists already.

* "email": at once, through the outbox (``portal.mail.compose``: the person's language, the
  region's colours, delivered after the caller's commit), template ``mail/notification``;
* "digest": an item of the person's daily digest (``portal.digest`` asks
  :func:`digest_items`); the notifications it hands over are marked (``digested_on``) in the
  digest's own transaction, so a run that loses the claim rolls the marks back too;
* "app": only the notifications page.

Each person chooses per kind (:func:`settings_of`, :func:`choose`; the notification settings
page); without a choice, the kind's default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urljoin

from flask import current_app, g, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from portal.accounts.models import User
from portal.extensions import db
from portal.notifications.kinds import NotificationKind, kinds, plugin_of
from portal.notifications.models import Delivery, Notification, NotificationSetting

MAIL_KIND = "notifications"  # the outbox's kind of these mails (the admin's filter)


def _absolute(url: str) -> str:
    base = current_app.config.get("PORTAL_BASE_URL")
    if not base:
        base = request.host_url if has_request_context() else "http://127.0.0.1:5000/"
    return urljoin(base, url)


@contextmanager
def tenant_urls(tenant: Any) -> Iterator[None]:
    """Build the region's URLs (its slug filled in) also outside its own request, e.g. in
    the daily run or a command."""
    before = g.get("tenant")
    g.tenant = tenant
    try:
        yield
    finally:
        g.tenant = before


def send_mails(tenant_id: int, info: NotificationKind, mailed: list[tuple[User, Any]]) -> None:
    """One mail per person, in their language (rendered once per language)."""
    from portal.mail.compose import compose, recipient_locale
    from portal.notifications.services import worded
    from portal.tenancy.models import Tenant

    tenant = db.session.get(Tenant, tenant_id)
    rendered: dict[str, Any] = {}
    for person, notification in mailed:
        locale = recipient_locale(person, tenant)
        if locale not in rendered:
            with force_locale(locale), tenant_urls(tenant):
                shown = worded([notification])[0]
            link = _absolute(shown.url) if shown.url else None
            rendered[locale] = compose(
                "notification",
                locale=locale,
                tenant=tenant,
                text=shown.text,
                excerpt=(notification.params or {}).get("excerpt", ""),
                link=link,
                link_label=_l("Open it in the portal"),
                reason=_l(
                    "You get this mail because your notification settings say to e-mail this "
                    "kind at once."
                ),
            )
        rendered[locale].send(person.email, kind=MAIL_KIND, tenant_id=tenant_id)


# --- the daily digest ---------------------------------------------------------------------


def _day_start(today: date) -> datetime:
    """The start of ``today`` by the server's clock (the clock ``today`` comes from)."""
    return datetime.combine(today, time.min).astimezone().astimezone(UTC)


def digest_items(tenant: Any, today: date) -> list[tuple[User, Any]]:
    """The notifications to be told in today's digest (made before the day began, not told
    yet), as digest items of their people; marks them told in the caller's transaction.
    Three queries and the update, whatever their number."""
    from portal.digest import DigestItem, receives_digest, reminder_link
    from portal.mail.compose import recipient_locale
    from portal.notifications.services import load, worded

    cutoff = _day_start(today)
    waiting = db.session.scalars(
        select(Notification)
        .where(
            Notification.tenant_id == tenant.id,
            Notification.delivery == Delivery.DIGEST,
            Notification.digested_on.is_(None),
            Notification.created_at < cutoff,
        )
        .order_by(Notification.created_at, Notification.id)
    ).all()
    if not waiting:
        return []
    # A plugin's news waits while the plugin is off in the region (it is told once it is on).
    enabled = current_app.extensions["portal_plugins"].enabled_for(tenant.id)
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for n in waiting:
        owner = plugin_of(n.kind)
        if owner is None or owner in enabled:
            by_person[n.recipient_id].append(n)
    if not by_person:
        return []
    people = db.session.scalars(
        # Who switched the daily digest off keeps these for when it is on again.
        select(User).where(User.id.in_(by_person), receives_digest(tenant, today, "digest"))
    ).all()
    found = []
    more = reminder_link("notifications.index", tenant)
    registered = kinds()
    with tenant_urls(tenant):
        loaded = load([n for person in people for n in by_person[person.id]])
    for person in people:
        with force_locale(recipient_locale(person, tenant)), tenant_urls(tenant):
            for shown in worded(by_person[person.id], loaded):
                info = registered.get(shown.notification.kind)
                heading = getattr(info, "digest_heading", None) or _("Your notifications")
                item = DigestItem(
                    person.id,
                    str(heading),
                    shown.text,
                    link=_absolute(shown.url) if shown.url else more,
                    more_link=more,
                    # A plugin's kind counts with the plugins' items of the run.
                    kind="plugin" if info is not None and info.from_plugin else "notification",
                )
                found.append((person, item))
    told = [person.id for person in people]
    if told:
        db.session.execute(
            update(Notification)
            .where(
                Notification.id.in_([n.id for p in told for n in by_person[p]]),
                Notification.delivery == Delivery.DIGEST,
                Notification.digested_on.is_(None),
                Notification.created_at < cutoff,
            )
            .values(digested_on=today)
            .execution_options(synchronize_session=False)
        )
    return found


# --- the person's settings ----------------------------------------------------------------


def settings_of(user: Any) -> dict[str, str]:
    """Each kind's delivery for this person (their choice, else the kind's default)."""
    chosen = dict(
        db.session.execute(
            select(NotificationSetting.kind, NotificationSetting.delivery).where(
                NotificationSetting.user_id == user.id
            )
        ).all()
    )
    return {
        kind_id: chosen.get(kind_id) if chosen.get(kind_id) in info.deliveries else info.default
        for kind_id, info in kinds().items()
    }


def choose(user: Any, choices: dict[str, str]) -> None:
    """Keep these choices (kind -> delivery); the caller commits. Unknown kinds or
    deliveries a kind does not offer raise ValueError and change nothing."""
    registered = kinds()
    for kind_id, delivery in choices.items():
        info = registered.get(kind_id)
        if info is None or delivery not in info.deliveries:
            raise ValueError(f"{kind_id}: {delivery}")
    db.session.execute(
        delete(NotificationSetting).where(
            NotificationSetting.user_id == user.id,
            NotificationSetting.kind.in_(list(choices)),
        )
    )
    for kind_id, delivery in sorted(choices.items()):
        if delivery != registered[kind_id].default:
            db.session.add(NotificationSetting(user_id=user.id, kind=kind_id, delivery=delivery))
