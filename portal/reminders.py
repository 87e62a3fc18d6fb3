"""Daily reminders by e-mail, and closing the workshops that are over.

:func:`send_reminders` runs across all tenants (``portal send-reminders``; with a broker the
schedule's ``portal.reminders.daily`` task):

* each person gets ONE digest per region and day with everything they are reminded of
  (``portal.digest``): their actions overdue and due within N days, tomorrow's workshops they
  are registered for, labels of their clusters about to lapse (6, 3 and 1 months before;
  ``portal.labels.reminders``) and what plugins add through the ``reminders`` hook (e.g. the
  joint actions' news), each section as they chose in their mail settings;
* the region's webhooks get "label expiring" for each label in the same window, once per
  label and stage (``portal.webhooks.expiring``);
* workshops whose day is past are ended (``end_workshop``: plugins get ``workshop_ended``),
  but only once they are over by the real clock: a workshop ends on its day at its end time in
  the region's time zone, whatever day the run takes as today (``--today``). With a broker
  the schedule also closes them every 15 minutes (``portal.workshops.close_ended``).

A dry run (``dry_run``) sends nothing and changes nothing: it tells what would be sent and
which workshops would be ended (``planned``), and rolls back what plugins' hooks prepared.

Each item is reminded once (a :class:`ReminderSent` row with a key naming what it was about:
``action-due:<action id>:<due date>``, ``action-overdue:<action id>:<due date>``,
``workshop:<workshop id>:<day>``, ``label-expiry:<label id>:<months>``, a plugin's keys), and
each person gets at most one digest per region and day; the claims are committed with the
mails, so two runs at the same time cannot both send them (the second one's insert hits the
unique constraint and that tenant's batch is rolled back). Inactive accounts and memberships
get none.

The number of queries depends on the number of tenants (and past workshops), not on the
number of actions or people: everything is loaded in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import date

from flask import current_app, g
from sqlalchemy import select

from portal.digest import DigestItem, Planned, reminder_link, send_digests
from portal.extensions import db
from portal.tenancy import tenant_scope, unscoped
from portal.tenancy.models import Tenant

__all__ = ["COUNTS", "DigestItem", "Planned", "reminder_link", "send_reminders"]

COUNTS = (
    "tenants",
    "digests",  # mails: one per person and region with anything new
    "due_soon",  # items in them, by kind
    "overdue",
    "workshop",
    "label_expiry",
    "plugin",
    "notification",  # notifications whose people chose the digest for their kind
    "already_sent",  # items reminded of before
    "workshops_ended",
    "conflicts",  # items another run claimed first (that region's batch is rolled back)
    "webhook_label_expiring",  # "label expiring" events queued for the region's webhooks
)


def _remind_tenant(
    tenant: Tenant,
    today: date,
    days: int,
    counts: dict[str, int],
    *,
    dry_run: bool,
    planned: list[Planned] | None,
    expiry_webhooks: Collection[int] = (),
) -> None:
    from portal.workshops.closing import end_workshop, workshops_over

    send_digests(tenant, today, days, counts, dry_run=dry_run, planned=planned)
    if not dry_run and tenant.id in expiry_webhooks:
        from portal.webhooks.expiring import queue_label_expiring

        counts["webhook_label_expiring"] += queue_label_expiring(tenant, today)
    if dry_run:
        for workshop in workshops_over(tenant, before=today):
            counts["workshops_ended"] += 1
            if planned is not None:
                planned.append(Planned(tenant.slug, "workshops_ended", "", workshop.title))
        return
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
    from portal.webhooks.expiring import regions_with_expiry_webhooks

    expiry_webhooks = set() if dry_run else regions_with_expiry_webhooks()
    with current_app.test_request_context(base_url=base_url):
        g.cli_actor = "send-reminders"
        for tenant in tenants:
            with tenant_scope(tenant.id):
                _remind_tenant(
                    tenant,
                    today,
                    days,
                    counts,
                    dry_run=dry_run,
                    planned=planned,
                    expiry_webhooks=expiry_webhooks,
                )
            counts["tenants"] += 1
            if on_tenant is not None:
                on_tenant(tenant)
    return counts
