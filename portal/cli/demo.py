from __future__ import annotations

import click
from flask.cli import ScriptInfo

from portal import migrations_runner
from portal.cli.serve import serve_app


@click.command("demo")
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve after loading.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo_command(serve: bool, host: str, port: int) -> None:
    """Migrate the database, load the demo regions, print sign-ins and serve."""
    from portal.demo.data import DEMO_PASSWORD, load_demo

    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context():
        click.echo("migrating the database ...")
        migrations_runner.upgrade_all(app)
    click.echo("loading the demo data ...")
    with app.test_request_context(base_url=f"http://{host}:{port}"):
        users = load_demo()
        _index_demo()
        rows = [(email, role_in_words(role), region) for email, role, region in users]
    click.echo(f"\nSign in at http://{host}:{port} with any of these (password: {DEMO_PASSWORD}):")
    for email, role, region in rows:
        click.echo(f"  {email:<36} {role:<22} {region}")
    click.echo("")
    if serve:
        serve_app(app, host, port, workers=2)


def role_in_words(role: str) -> str:
    """A demo user's role as people say it (translated), not its code."""
    from flask_babel import gettext as _

    from portal.i18n import ROLE_LABELS

    if role == "platform_admin":
        return _("Platform admin")
    return str(ROLE_LABELS.get(role, role))


def _index_demo() -> None:
    """Every write keeps the search index current; a demo loaded before the index existed gets
    its index written here (each region's, a few hundred rows)."""
    from sqlalchemy import select

    from portal.cli.search import rebuild_one
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import unscoped

    with unscoped():
        tenants = list(db.session.scalars(select(Tenant).order_by(Tenant.id)))
    for tenant in tenants:
        rebuild_one(tenant)
