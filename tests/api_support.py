"""Personal access tokens and calls of the JSON API, for tests."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.tenancy.models import Tenant


def make_token(app, email: str, slug: str, scopes=("read",), days: int = 90, name="Dashboard"):
    """A token through the service; its id and the secret shown once."""
    from portal.api import tokens

    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == email))
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        made = tokens.create_token(user, tenant, name, list(scopes), days)
        return SimpleNamespace(id=made.token.id, secret=made.secret)


def bearer(token, **headers) -> dict:
    secret = token.secret if hasattr(token, "secret") else token
    return {"Authorization": f"Bearer {secret}", **headers}


def role_headers(app, slug: str = "nordland", **extra) -> dict[str, dict]:
    """A read-and-write token of every role of the test world's first region, as headers."""
    from tests.conftest import ROLE_EMAILS

    return {
        role: bearer(make_token(app, email, slug, scopes=("read", "write")), **extra)
        for role, email in ROLE_EMAILS.items()
    }
