"""`portal send-reminders`: the daily digests by e-mail (the schedule runs it daily)."""

from __future__ import annotations

from datetime import date

import click
from flask_babel import gettext as _
from sqlalchemy import select

from portal.cli.database import needs_database
from portal.extensions import db
from portal.tenancy import unscoped
from portal.tenancy.models import Tenant

# More tenants than this: show a progress bar.
PROGRESS_FROM = 5


def _day(ctx, param, value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("write the day as YYYY-MM-DD") from None


@click.command("send-reminders")
@click.option(
    "--days",
    default=3,
    show_default=True,
    type=click.IntRange(0, 365),
    help="Remind of actions due within this many days.",
)
@click.option(
    "--today",
    callback=_day,
    metavar="YYYY-MM-DD",
    help="Run as if today were this day (default: today). Workshops are ended only once "
    "they are over by the real clock.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Send nothing and change nothing: print what would be sent and ended.",
)
@needs_database
def reminders_command(days: int, today: date, dry_run: bool) -> None:
    """Send each person one digest of what is due and end the workshops that are over."""
    from portal.reminders import Planned, send_reminders

    planned: list[Planned] = []

    with unscoped():
        tenants = list(db.session.scalars(select(Tenant).order_by(Tenant.id)))
    if len(tenants) > PROGRESS_FROM:
        with click.progressbar(length=len(tenants), label="Regions") as bar:
            counts = send_reminders(
                today,
                days,
                tenants=tenants,
                on_tenant=lambda _t: bar.update(1),
                dry_run=dry_run,
                planned=planned,
            )
    else:
        counts = send_reminders(today, days, tenants=tenants, dry_run=dry_run, planned=planned)
    if dry_run:
        for item in planned:
            if item.kind == "workshops_ended":
                line = _("would end the workshop “%(title)s”", title=item.subject)
            else:
                line = _(
                    "would send to %(email)s: %(subject)s", email=item.email, subject=item.subject
                )
            click.echo(f"[{item.tenant}] {line}")
            for listed in item.items:
                click.echo(f"    - {listed}")
    click.echo(
        f"{today.isoformat()}: {counts['tenants']} regions, {counts['digests']} digests sent with "
        f"{counts['due_soon']} due soon, {counts['overdue']} overdue, {counts['workshop']} "
        f"workshop, {counts['label_expiry']} label expiry and {counts['plugin']} plugin "
        f"reminders ({counts['already_sent']} sent before, {counts['conflicts']} taken by "
        "another run); "
        f"{counts['workshops_ended']} workshops ended"
    )
    if dry_run:
        click.echo(_("This was a dry run: nothing was sent or changed."))
