"""Signing in and out, password reset, invitations, profile, language."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import Invitation, Membership, User
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.tenancy import unscoped
from tests.conftest import PASSWORD, login


def _last_mail(app, to):
    with app.app_context():
        message = db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == to)
            .order_by(OutboxMessage.id.desc())
        )
        return message


def _link(message):
    return re.search(r"https?://[^\s]+", message.body).group(0).replace("http://localhost", "")


def test_sign_in_and_out(client, world, app):
    response = client.post("/login", data={"email": "COORD@a.example ", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/nordland/").status_code == 200
    client.post("/logout")
    assert client.get("/nordland/").status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "login" in actions and "logout" in actions


def test_wrong_password_is_refused_and_audited(client, world, app):
    response = client.post(
        "/login", data={"email": "coord@a.example", "password": "wrong-password"}
    )
    assert response.status_code == 422
    assert b"not right" in response.data
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login.failed"))
    assert entry.actor == "coord@a.example"


def test_unknown_email_gets_the_same_answer(client, world):
    response = client.post(
        "/login", data={"email": "nobody@a.example", "password": "whatever-pass"}
    )
    assert response.status_code == 422
    assert b"not right" in response.data


def test_login_redirects_only_to_local_paths(client, world):
    response = client.post(
        "/login?next=https://evil.example/", data={"email": "coord@a.example", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post(
        "/login?next=/nordland/clusters/", data={"email": "coord@a.example", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/nordland/clusters/"


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get("/nordland/clusters/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_is_rate_limited(make_app, world):
    app = make_app({"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    codes = [
        client.post(
            "/login", data={"email": "coord@a.example", "password": "bad-password"}
        ).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [422, 422, 422]
    assert codes[3] == 429
    assert (
        b"Too many attempts"
        in client.post("/login", data={"email": "x@a.example", "password": "y"}).data
    )


def test_password_reset_by_signed_link(client, world, app):
    response = client.post("/password/forgot", data={"email": "member@a.example"})
    assert response.status_code == 302
    link = _link(_last_mail(app, "member@a.example"))
    assert client.get(link).status_code == 200
    response = client.post(
        link, data={"password": "a-brand-new-secret", "confirm": "a-brand-new-secret"}
    )
    assert response.status_code == 302
    # The link works once: the password it was made for has changed.
    response = client.get(link)
    assert response.status_code == 302 and "/password/forgot" in response.headers["Location"]
    login(client, "member@a.example", "a-brand-new-secret")


def test_reset_for_unknown_email_says_the_same_and_sends_nothing(client, world, app):
    response = client.post(
        "/password/forgot", data={"email": "ghost@a.example"}, follow_redirects=True
    )
    assert b"If the address belongs to an account" in response.data
    assert _last_mail(app, "ghost@a.example") is None


def test_reset_link_expires(client, world, app):
    from portal.accounts import services

    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == "member@a.example"))
        token = services.password_reset_token(user)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.get(f"/password/reset/{token}", follow_redirects=True)
    assert b"expired" in response.data
    response = client.get("/password/reset/garbage", follow_redirects=True)
    assert b"not valid" in response.data


def test_invitation_of_a_new_person(client, world, app):
    login(client, "coord@a.example")
    response = client.post(
        "/nordland/people",
        data={
            "email": "newbie@a.example",
            "role": "cluster_manager",
            "clusters": [str(world["c1"].id)],
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    link = _link(_last_mail(app, "newbie@a.example"))
    page = client.get(link)
    assert b"Invitation to Nordland Forum" in page.data
    response = client.post(
        link,
        data={
            "name": "New Person",
            "password": "long-enough-password",
            "confirm": "long-enough-password",
        },
    )
    assert response.status_code == 302
    assert client.get(f"/nordland/clusters/{world['c1'].id}/edit").status_code == 200
    assert client.get(f"/nordland/clusters/{world['c2'].id}/edit").status_code == 403
    # Used once only.
    assert client.get(link).status_code == 410


def test_invitation_of_an_existing_person_needs_their_sign_in(client, world, app, factory):
    factory.user("elsewhere@a.example")
    login(client, "coord@a.example")
    client.post("/nordland/people", data={"email": "elsewhere@a.example", "role": "observer"})
    client.post("/logout")
    link = _link(_last_mail(app, "elsewhere@a.example"))
    response = client.get(link)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, "elsewhere@a.example")
    assert client.post(link).status_code == 302
    with app.app_context(), unscoped():
        assert db.session.scalar(
            select(Membership).join(User).where(User.email == "elsewhere@a.example")
        )


def test_withdrawn_invitation_cannot_be_used(client, world, app):
    login(client, "coord@a.example")
    client.post("/nordland/people", data={"email": "late@a.example", "role": "observer"})
    link = _link(_last_mail(app, "late@a.example"))
    with app.app_context(), unscoped():
        invitation_id = db.session.scalar(
            select(Invitation.id).where(Invitation.email == "late@a.example")
        )
    client.post(f"/nordland/people/invitations/{invitation_id}/revoke")
    client.post("/logout")
    response = client.get(link)
    assert response.status_code == 410 and b"withdrawn" in response.data


def test_profile_name_language_and_password(client, world, app):
    login(client, "member@a.example")
    response = client.post("/profile", data={"profile-name": "Kari B.", "profile-locale": "da"})
    assert response.status_code == 302
    other_device = app.test_client()
    login(other_device, "member@a.example")
    response = client.post(
        "/profile",
        data={
            "password-current": PASSWORD,
            "password-password": "another-secret-12",
            "password-confirm": "another-secret-12",
        },
    )
    assert response.status_code == 302
    assert client.get("/nordland/").status_code == 200  # this session goes on
    assert other_device.get("/nordland/").status_code == 302  # the other one ended
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "member@a.example"))
        assert (user.name, user.locale) == ("Kari B.", "da")


def test_wrong_current_password_changes_nothing(client, world):
    login(client, "member@a.example")
    response = client.post(
        "/profile",
        data={
            "password-current": "not-my-password",
            "password-password": "another-secret-1",
            "password-confirm": "another-secret-1",
        },
    )
    assert response.status_code == 422
    assert b"not right" in response.data
    client.post("/logout")
    login(client, "member@a.example")


def test_language_choice_for_anonymous_and_signed_in(client, world, app):
    client.post("/language", data={"locale": "it", "next": "/login"})
    assert b'<html lang="it">' in client.get("/login").data
    login(client, "observer@a.example")
    client.post("/language", data={"locale": "nb", "next": "/"})
    assert b'<html lang="nb">' in client.get("/nordland/").data
    response = client.post("/language", data={"locale": "xx", "next": "/"}, follow_redirects=True)
    assert response.status_code == 200


def test_language_falls_back_to_tenant_then_browser(client, factory, app):
    tenant = factory.tenant("danes", default_locale="da")
    factory.user("dane@a.example", tenant=tenant, role="observer")
    assert (
        b'<html lang="it">' in client.get("/login", headers={"Accept-Language": "it,en;q=0.5"}).data
    )
    login(client, "dane@a.example")
    assert b'<html lang="da">' in client.get("/danes/", headers={"Accept-Language": "it"}).data
