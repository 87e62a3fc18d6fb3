"""``portal figures recompute``: rebuild the kept plan and programme figures (progress sums,
open actions by due date) from the actions, after a restore or a write that went around the
ORM. Every action write keeps them current itself (``portal.plans.figures``)."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from portal.cli.database import needs_database
from portal.extensions import db
from portal.plans.figures import recompute
from portal.tenancy.models import Tenant
from portal.tenancy.scope import unscoped


@click.group("figures")
def figures_group() -> None:
    """Figures kept on every write (plan and programme progress, overdue counts)."""


@figures_group.command("recompute")
@click.argument("regions", nargs=-1)
@needs_database
def recompute_command(regions: tuple[str, ...]) -> None:
    """Rebuild the figures of REGIONS (short names), or of every region without names."""
    with unscoped():
        if not regions:
            plans = recompute(db.session)
            db.session.commit()
            click.echo(f"every region: figures of {plans} plans")
            return
        tenants = list(db.session.scalars(select(Tenant).where(Tenant.slug.in_(regions))))
        missing = set(regions) - {t.slug for t in tenants}
        if missing:
            sys.exit(f"no region with the short name {sorted(missing)[0]!r}")
        for tenant in tenants:
            plans = recompute(db.session, tenant.id)
            click.echo(f"{tenant.slug}: figures of {plans} plans")
        db.session.commit()
