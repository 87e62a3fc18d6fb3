"""Personal access tokens: made and shown once, kept hashed, used in one region only, within
their owner's role and their scopes; expired, revoked or deactivated ones answer 401."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal.accounts.models import Membership, User
from portal.api.models import ApiToken
from portal.errors import ServiceError
from portal.extensions import db
from portal.tenancy import unscoped
from tests.api_support import bearer, make_token
from tests.conftest import login
from tests.process_support import build_process


def _row(app, token_id: int) -> ApiToken:
    with app.app_context(), unscoped():
        row = db.session.get(ApiToken, token_id)
        db.session.expunge(row)
        return row


def _set(app, token_id: int, **values) -> None:
    with app.app_context(), unscoped():
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(**values))
        db.session.commit()


def test_secret_shown_once_and_kept_hashed(app, world, client):
    token = make_token(app, "coord@a.example", "nordland")
    assert token.secret.startswith("cfp_") and len(token.secret) > 40
    row = _row(app, token.id)
    assert row.secret_hash == hashlib.sha256(token.secret.encode()).hexdigest()
    assert token.secret[4:] not in repr(row.__dict__)  # no column holds the secret
    assert row.prefix == token.secret[:10]
    assert row.scopes == "read"
    # The profile page lists it by name and prefix, never the secret again.
    login(client, "coord@a.example")
    page = client.get("/profile").get_data(as_text=True)
    assert "Dashboard" in page and row.prefix in page and token.secret not in page


def test_last_use_recorded(app, world, client):
    token = make_token(app, "coord@a.example", "nordland")
    assert _row(app, token.id).last_used_at is None
    assert client.get("/api/v1/nordland/clusters", headers=bearer(token)).status_code == 200
    row = _row(app, token.id)
    assert row.last_used_at is not None and row.last_used_from == "127.0.0.1"


@pytest.mark.parametrize("days", [0, -1, 366])
def test_expiry_is_required_and_at_most_a_year(app, world, days):
    with pytest.raises(ServiceError):
        make_token(app, "coord@a.example", "nordland", days=days)


def test_expired_token_answers_401(app, world, client):
    token = make_token(app, "coord@a.example", "nordland", days=1)
    assert client.get("/api/v1/nordland/clusters", headers=bearer(token)).status_code == 200
    _set(app, token.id, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    answer = client.get("/api/v1/nordland/clusters", headers=bearer(token))
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_answers_401(app, world, client, runner):
    token = make_token(app, "coord@a.example", "nordland")
    result = runner.invoke(args=["token", "revoke", str(token.id)])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/nordland/clusters", headers=bearer(token)).status_code == 401


def test_revoked_on_the_profile_page(app, world, client):
    token = make_token(app, "coord@a.example", "nordland")
    other = make_token(app, "observer@a.example", "nordland")
    login(client, "coord@a.example")
    # Someone else's token cannot be revoked from my profile.
    client.post(f"/profile/tokens/{other.id}/revoke")
    assert _row(app, other.id).revoked_at is None
    answer = client.post(f"/profile/tokens/{token.id}/revoke")
    assert answer.status_code == 302
    assert _row(app, token.id).revoked_at is not None
    assert client.get("/api/v1/nordland/clusters", headers=bearer(token)).status_code == 401


def test_made_on_the_profile_page_and_shown_once(app, world, client):
    login(client, "coord@a.example")
    answer = client.post(
        "/profile/tokens",
        data={
            "token-name": "Funder dashboard",
            "token-region": "nordland",
            "token-scope": "read",
            "token-days": "30",
        },
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page
    secret = page.split('id="new-token-secret">', 1)[1].split("<", 1)[0].strip()
    assert secret.startswith("cfp_")
    assert client.get("/api/v1/nordland/clusters", headers=bearer(secret)).status_code == 200
    assert secret not in client.get("/profile").get_data(as_text=True)
    bad = client.post(
        "/profile/tokens",
        data={
            "token-name": "",
            "token-region": "nordland",
            "token-scope": "read",
            "token-days": "999",
        },
    )
    assert bad.status_code == 422


def test_deactivated_membership_or_person_answers_401(app, world, client):
    from portal.accounts import services as accounts

    manager = make_token(app, "manager@a.example", "nordland")
    member = make_token(app, "member@a.example", "nordland")
    with app.test_request_context(), unscoped():
        membership = db.session.scalar(
            select(Membership).join(User).where(User.email == "manager@a.example")
        )
        accounts.set_membership_active(membership, False)
        person = db.session.scalar(select(User).where(User.email == "member@a.example"))
        accounts.set_active(person, False)
    assert client.get("/api/v1/nordland/clusters", headers=bearer(manager)).status_code == 401
    assert client.get("/api/v1/nordland/clusters", headers=bearer(member)).status_code == 401


def test_a_token_counts_in_its_region_only(app, world, factory, client):
    factory.user("coord@b.example", tenant=world["b"], role="coordinator")
    theirs = factory.cluster(world["b"], "Bravo Cluster")
    ours = make_token(app, "coord@a.example", "nordland")
    bravo = make_token(app, "coord@b.example", "bravo")
    assert client.get("/api/v1/bravo/clusters", headers=bearer(ours)).status_code == 401
    assert client.get("/api/v1/nordland/clusters", headers=bearer(bravo)).status_code == 401
    assert client.get("/api/v1/nowhere/clusters", headers=bearer(ours)).status_code == 401
    # Another region's id under one's own region: not there.
    answer = client.get(f"/api/v1/nordland/clusters/{theirs.id}", headers=bearer(ours))
    assert answer.status_code == 404


def test_no_token_for_a_region_without_a_role(app, world):
    with pytest.raises(ServiceError):
        make_token(app, "coord@a.example", "bravo")
    with pytest.raises(ServiceError):
        make_token(app, "admin@portal.example", "nordland")  # platform role: no region role


def test_a_session_does_not_open_the_api_and_a_token_no_page(app, world, client):
    token = make_token(app, "coord@a.example", "nordland")
    login(client, "coord@a.example")
    assert client.get("/api/v1/nordland/clusters").status_code == 401
    fresh = app.test_client()
    page = fresh.get("/nordland/clusters/", headers=bearer(token))
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_read_scope_cannot_write_and_write_scope_keeps_the_role(app, world, client):
    process = build_process(app, world, actions=1)
    action_id = process.action_ids[0]
    url = f"/api/v1/nordland/actions/{action_id}"
    reader = make_token(app, "coord@a.example", "nordland", scopes=("read",))
    etag = client.get(url, headers=bearer(reader)).headers["ETag"]
    answer = client.patch(url, json={"progress": 40}, headers=bearer(reader, **{"If-Match": etag}))
    assert answer.status_code == 403 and answer.json["status"] == 403
    # An observer's write token still has the observer's role: no edit.
    observer = make_token(app, "observer@a.example", "nordland", scopes=("read", "write"))
    answer = client.patch(
        url, json={"progress": 40}, headers=bearer(observer, **{"If-Match": etag})
    )
    assert answer.status_code == 403
    writer = make_token(app, "coord@a.example", "nordland", scopes=("read", "write"))
    answer = client.patch(url, json={"progress": 40}, headers=bearer(writer, **{"If-Match": etag}))
    assert answer.status_code == 200 and answer.json["progress"] == 40


def test_a_platform_admins_token_has_only_the_region_role(app, world, factory, client):
    from portal.accounts import services as accounts
    from portal.accounts.models import Role
    from portal.tenancy.models import Tenant

    with app.test_request_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@portal.example"))
        accounts.grant_role(db.session.get(Tenant, world["a"].id), admin, Role.OBSERVER, [])
        db.session.commit()
    process = build_process(app, world, actions=1)
    url = f"/api/v1/nordland/actions/{process.action_ids[0]}"
    token = make_token(app, "admin@portal.example", "nordland", scopes=("read", "write"))
    etag = client.get(url, headers=bearer(token)).headers["ETag"]
    answer = client.patch(url, json={"progress": 40}, headers=bearer(token, **{"If-Match": etag}))
    assert answer.status_code == 403


def test_rate_limited_per_token(make_app, tmp_path):
    from tests.conftest import Factory

    app = make_app({"API_RATE_LIMIT": "3 per minute", "RATELIMIT_ENABLED": True})
    factory = Factory(app)
    tenant = factory.tenant("nordland")
    factory.user("coord@a.example", tenant=tenant, role="coordinator")
    factory.user("observer@a.example", tenant=tenant, role="observer")
    first = make_token(app, "coord@a.example", "nordland")
    second = make_token(app, "observer@a.example", "nordland")
    client = app.test_client()
    codes = [
        client.get("/api/v1/nordland/clusters", headers=bearer(first)).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/v1/nordland/clusters", headers=bearer(first))
    assert limited.mimetype == "application/problem+json" and limited.json["status"] == 429
    assert client.get("/api/v1/nordland/clusters", headers=bearer(second)).status_code == 200


def test_cli_creates_lists_and_revokes(app, world, runner, client):
    result = runner.invoke(
        args=[
            "token",
            "create",
            "coord@a.example",
            "nordland",
            "--name",
            "Archive",
            "--scope",
            "write",
            "--days",
            "30",
        ]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("cfp_")
    assert client.get("/api/v1/nordland/clusters", headers=bearer(secret)).status_code == 200
    listed = runner.invoke(args=["token", "list"])
    assert "Archive" in listed.output and "read write" in listed.output
    assert secret not in listed.output and "active" in listed.output
    bad = runner.invoke(
        args=["token", "create", "coord@a.example", "nordland", "--name", "X", "--days", "400"]
    )
    assert bad.exit_code != 0
    token_id = listed.output.split("\t", 1)[0]
    assert runner.invoke(args=["token", "revoke", token_id]).exit_code == 0
    assert "revoked" in runner.invoke(args=["token", "list"]).output


def test_the_platform_role_stays_off_when_the_owner_is_loaded_again(app, world):
    """A commit expires the token owner's row; loaded again it still has no platform role
    for the rest of the API request (nothing is written)."""
    from flask import g

    with app.test_request_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@portal.example"))
        g.api_user_id = admin.id
        db.session.expire(admin)
        assert admin.is_platform_admin is False
        db.session.expunge_all()
        again = db.session.scalar(select(User).where(User.id == g.api_user_id))
        assert again.is_platform_admin is False
        db.session.commit()
    with app.app_context():
        stored = db.session.scalar(select(User).where(User.email == "admin@portal.example"))
        assert stored.is_platform_admin is True
