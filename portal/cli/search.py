"""``portal search reindex``: write a region's search index anew from its data (after a restore,
or for data written before the index existed). Every write keeps the index current itself."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from portal.cli.database import needs_database
from portal.extensions import db
from portal.search import indexing
from portal.tenancy.models import Tenant
from portal.tenancy.scope import unscoped


@click.group("search")
def search_group() -> None:
    """The search index of the regions."""


@search_group.command("reindex")
@click.argument("regions", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every region.")
@needs_database
def reindex_command(regions: tuple[str, ...], every: bool) -> None:
    """Rebuild the search index of REGIONS (short names), or of every region with --all."""
    if not regions and not every:
        sys.exit("name one or more regions, or give --all")
    with unscoped():
        stmt = select(Tenant).order_by(Tenant.id)
        if not every:
            stmt = stmt.where(Tenant.slug.in_(regions))
        tenants = list(db.session.scalars(stmt))
    missing = set(regions) - {t.slug for t in tenants}
    if missing:
        sys.exit(f"no region with the short name {sorted(missing)[0]!r}")
    for tenant in tenants:
        written = rebuild_one(tenant, progress=True)
        click.echo(f"{tenant.slug}: {written} entries in the search index")


def rebuild_one(tenant: Tenant, progress: bool = False) -> int:
    with unscoped():
        if progress:
            total = indexing.objects_in(db.session, tenant.id)
            with click.progressbar(length=total, label=f"Indexing {tenant.slug}") as bar:
                written = indexing.rebuild(db.session, tenant.id, bar.update)
        else:
            written = indexing.rebuild(db.session, tenant.id)
        db.session.commit()
    return written
