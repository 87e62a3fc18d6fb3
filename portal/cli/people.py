from __future__ import annotations

import sys

import click
from flask import current_app
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.cli.database import needs_database
from portal.clusters.models import Cluster
from portal.errors import ServiceError
from portal.extensions import db
from portal.tenancy import services as tenancy
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant

ROLES = click.Choice([r.value for r in Role])


def _tenant(slug: str) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        sys.exit(f"no region with the short name {slug!r}")
    return tenant


def _cluster_ids(tenant: Tenant, names: tuple[str, ...]) -> list[int]:
    ids = []
    with tenant_scope(tenant.id):
        for name in names:
            cluster_id = db.session.scalar(select(Cluster.id).where(Cluster.name == name))
            if cluster_id is None:
                sys.exit(f"no cluster named {name!r} in {tenant.slug}")
            ids.append(cluster_id)
    return ids


@click.group("tenant")
def tenant_group() -> None:
    """Regions (tenants)."""


@tenant_group.command("create")
@click.argument("slug")
@click.argument("name")
@click.option("--locale", default="en", show_default=True)
@click.option("--timezone", default="Europe/Oslo", show_default=True)
@click.option("--accent", default="#0b6e4f", show_default=True)
@click.option(
    "--currency", default="EUR", show_default=True, help="ISO 4217 code of its amounts of money."
)
@needs_database
def tenant_create(
    slug: str, name: str, locale: str, timezone: str, accent: str, currency: str
) -> None:
    """Create the region SLUG called NAME."""
    try:
        tenant = tenancy.create_tenant(
            None,
            slug=slug,
            name=name,
            default_locale=locale,
            timezone=timezone,
            accent_color=accent,
            currency=currency.upper(),
        )
    except ServiceError as exc:
        sys.exit(_message(exc))
    click.echo(f"created region {tenant.slug} (id {tenant.id})")


@click.group("user")
def user_group() -> None:
    """People and their roles."""


@user_group.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Make a platform admin.")
@click.option("--tenant", "tenant_slug", help="Give a role in this region.")
@click.option("--role", type=ROLES)
@click.option("--cluster", "clusters", multiple=True, help="Cluster name (repeatable).")
@needs_database
def user_create(email, name, password, admin, tenant_slug, role, clusters) -> None:
    """Create a user who can sign in at once."""
    if bool(tenant_slug) != bool(role):
        sys.exit("--tenant and --role go together")
    try:
        user = accounts.create_user(email, name, password, is_platform_admin=admin)
        if tenant_slug:
            tenant = _tenant(tenant_slug)
            accounts.grant_role(tenant, user, Role(role), _cluster_ids(tenant, clusters))
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        sys.exit(_message(exc))
    click.echo(f"created user {user.email}")


@user_group.command("invite")
@click.argument("tenant_slug")
@click.argument("email")
@click.option("--role", type=ROLES, required=True)
@click.option("--cluster", "clusters", multiple=True, help="Cluster name (repeatable).")
@needs_database
def user_invite(tenant_slug, email, role, clusters) -> None:
    """Invite EMAIL into the region TENANT_SLUG with a role (sends a link)."""
    tenant = _tenant(tenant_slug)
    with current_app.test_request_context(
        base_url=current_app.config.get("PORTAL_BASE_URL") or "http://127.0.0.1:5000"
    ):
        try:
            accounts.invite(tenant, email, Role(role), _cluster_ids(tenant, clusters), None)
        except ServiceError as exc:
            sys.exit(_message(exc))
    click.echo(f"invited {email} to {tenant.slug} as {role}")


@user_group.command("deactivate")
@click.argument("email")
@needs_database
def user_deactivate(email: str) -> None:
    """Deactivate EMAIL: no sign-in, every session ends at once (records stay)."""
    _set_active(email, False)
    click.echo(f"deactivated {accounts.normalise_email(email)}; every session of theirs ended")


@user_group.command("reactivate")
@click.argument("email")
@needs_database
def user_reactivate(email: str) -> None:
    """Let a deactivated EMAIL sign in again."""
    _set_active(email, True)
    click.echo(f"reactivated {accounts.normalise_email(email)}")


def _set_active(email: str, active: bool) -> None:
    from portal.audit.services import record_event

    user = accounts.user_by_email(email)
    if user is None:
        sys.exit(f"no user with the e-mail {email!r}")
    with current_app.test_request_context():
        accounts.set_active(user, active)
        record_event("user.reactivated" if active else "user.deactivated", summary=user.email)


def _message(exc: ServiceError) -> str:
    details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.field_errors.items())
    return f"{exc.message} {details}".strip()
