from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.toolkit import Tenant, db, tenant_scope


@click.group("facts")
def facts() -> None:
    """Key figures of the clusters (cluster facts plugin)."""


@facts.command("summary")
@click.argument("tenant_slug")
@with_appcontext
def summary(tenant_slug: str) -> None:
    """Print each cluster's newest key figures in the region TENANT_SLUG."""
    from portal_cluster_facts import services

    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        sys.exit(f"no region with the short name {tenant_slug!r}")
    with tenant_scope(tenant):
        rows = services.latest_per_cluster()
        with click.progressbar(rows, label="clusters") as bar:
            lines = [
                f"{c.name}\t{f.year}\t{f.employees or ''}\t{f.turnover_meur or ''}"
                f"\t{f.innovation_projects or ''}"
                for c, f in bar
            ]
    click.echo("cluster\tyear\temployees\tturnover_meur\tinnovation_projects")
    for line in lines:
        click.echo(line)
