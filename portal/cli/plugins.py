from __future__ import annotations

import json

import click
from flask import current_app
from sqlalchemy import select

from portal.cli.database import needs_database
from portal.extensions import db
from portal.tenancy import unscoped
from portal.tenancy.models import Tenant, TenantPlugin


@click.group("plugins")
def plugins_group() -> None:
    """Installed plugins."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@needs_database
def plugins_list(as_json: bool) -> None:
    """Installed plugins, their versions, hooks and the regions that use them."""
    host = current_app.extensions["portal_plugins"]
    with unscoped():
        rows = db.session.execute(
            select(TenantPlugin.plugin_name, Tenant.slug)
            .join(Tenant, Tenant.id == TenantPlugin.tenant_id)
            .where(TenantPlugin.enabled.is_(True))
        ).all()
    enabled: dict[str, list[str]] = {}
    for name, slug in rows:
        enabled.setdefault(name, []).append(slug)
    data = [
        {
            "name": p.name,
            "distribution": p.distribution,
            "version": p.version,
            "hooks": p.hooks,
            "status": "broken" if p.name in host.broken else "ok",
            "problem": host.broken.get(p.name, ""),
            "enabled_in": sorted(enabled.get(p.name, [])),
        }
        for p in sorted(host.plugins.values(), key=lambda p: p.name)
    ]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if not data:
        click.echo("no plugins installed")
    for item in data:
        click.echo(
            f"{item['name']} {item['version']} ({item['distribution'] or 'local'}) "
            f"[{item['status']}]"
        )
        click.echo(f"  hooks: {', '.join(item['hooks'])}")
        click.echo(f"  enabled in: {', '.join(item['enabled_in']) or '-'}")
        if item["problem"]:
            click.echo(f"  problem: {item['problem']}")
