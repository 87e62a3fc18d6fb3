"""``portal token``: personal access tokens of the JSON API, made, listed and revoked."""

from __future__ import annotations

import sys

import click

from portal.accounts import services as accounts
from portal.api import tokens
from portal.api.models import SCOPES
from portal.cli.database import needs_database
from portal.cli.people import _message, _tenant
from portal.errors import ServiceError


@click.group("token")
def token_group() -> None:
    """Personal access tokens of the JSON API."""


@token_group.command("create")
@click.argument("email")
@click.argument("region")
@click.option("--name", required=True, help="What the token is for, e.g. the dashboard using it.")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(SCOPES),
    multiple=True,
    default=("read",),
    show_default=True,
    help="read, or write (which includes read); repeat to give both.",
)
@click.option("--days", type=int, default=90, show_default=True, help="Valid for (1 to 365).")
@needs_database
def token_create(email: str, region: str, name: str, scopes: tuple[str, ...], days: int) -> None:
    """Make a token for the person EMAIL in REGION; its secret is printed once."""
    user = accounts.user_by_email(email)
    if user is None:
        sys.exit(f"no person with the e-mail {email!r}")
    tenant = _tenant(region)
    wanted = list(scopes)
    if "write" in wanted and "read" not in wanted:
        wanted.append("read")
    try:
        made = tokens.create_token(user, tenant, name, wanted, days)
    except ServiceError as exc:
        sys.exit(_message(exc))
    token = made.token
    click.echo(
        f"token {token.id} for {user.email} in {tenant.slug} ({token.scopes}), valid until "
        f"{token.expires_at:%Y-%m-%d}. Its secret, shown only now:"
    )
    click.echo(made.secret)


@token_group.command("list")
@needs_database
def token_list() -> None:
    """Every token: id, region, person, name, scopes, state, expiry, last use."""
    for token, tenant in tokens.all_tokens():
        last = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        click.echo(
            f"{token.id}\t{tenant.slug}\t{token.user.email}\t{token.name}\t{token.scopes}\t"
            f"{tokens.status(token)}\t{token.expires_at:%Y-%m-%d}\t{token.prefix}…\t{last}"
        )


@token_group.command("revoke")
@click.argument("token_id", type=int)
@needs_database
def token_revoke(token_id: int) -> None:
    """Revoke the token TOKEN_ID: it answers 401 from the next request on."""
    try:
        token = tokens.revoke_token(token_id)
    except ServiceError as exc:
        sys.exit(_message(exc))
    click.echo(f"revoked token {token.id} ({token.name})")
