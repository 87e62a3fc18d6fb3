"""Passwords as NIST SP 800-63B / OWASP ASVS ask; failed sign-ins back off per account and
address without letting a stranger lock the owner out; a lost Redis degrades; reset links."""

from __future__ import annotations

import logging
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.accounts import passwords, services
from portal.accounts.models import User
from portal.errors import ServiceError
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.conftest import PASSWORD, free_port, login

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


# --- the password rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["qwertyuiop12345", "1qaz2wsx3edc4rfv", "passwordpassword", "P@ssw0rdP@ssw0rd"]
)
def test_common_and_breached_passwords_are_refused(ctx, password):
    with pytest.raises(ServiceError, match="commonly used or leaked"):
        passwords.check_new_password(password, email="kari@a.example", name="Kari")


def test_the_refusals_are_translated(ctx):
    def message(password):
        with pytest.raises(ServiceError) as refused:
            passwords.check_new_password(password, email="kari@a.example", name="Kari Nordmann")
        return refused.value.message

    english = {message("qwertyuiop12345"), message("nordmann-rules-the-fjords")}
    for locale in ("nb", "da", "it", "sv", "de"):
        with force_locale(locale):
            translated = {message("qwertyuiop12345"), message("nordmann-rules-the-fjords")}
        assert len(translated) == 2 and not translated & english, locale


@pytest.mark.parametrize(
    ("password", "email", "name"),
    [
        ("nordmann-rules-the-fjords", "kari@a.example", "Kari Nordmann"),
        ("Kari.Nordmann.2024.fjord", "someone@a.example", "Kari Nordmann"),
        ("my-address-is-karinordmann", "kari.nordmann@a.example", "K N"),
        ("trusted-MEMBER-of-the-forum", "member@a.example", "Member"),
    ],
)
def test_passwords_with_ones_own_name_or_address_are_refused(ctx, password, email, name):
    with pytest.raises(ServiceError, match="your name or your e-mail"):
        passwords.check_new_password(password, email=email, name=name)


def test_a_long_unrelated_password_is_taken_and_short_ones_are_not(ctx):
    passwords.check_new_password("velvet-otter-lantern-91", email="kari@a.example", name="Kari")
    with pytest.raises(ServiceError, match="at least 15"):
        passwords.check_new_password("velvet-otter-9", email="kari@a.example", name="Kari")
    # Any characters, spaces and letters of any language too.
    passwords.check_new_password("blåbær syltetøy på søndag", email="kari@a.example", name="Kari")


def test_the_profile_form_refuses_a_common_password_and_changes_nothing(client, world, app):
    login(client, "member@a.example")
    response = client.post(
        "/profile",
        data={
            "password-current": PASSWORD,
            "password-password": "1qaz2wsx3edc4rfv",
            "password-confirm": "1qaz2wsx3edc4rfv",
        },
    )
    assert response.status_code == 422
    assert b"commonly used or leaked" in response.data
    client.post("/logout")
    login(client, "member@a.example")  # the old password still works


def test_an_invitation_refuses_a_password_with_the_persons_name(client, world, app):
    login(client, "coord@a.example")
    client.post("/nordland/people", data={"email": "ingrid.berg@a.example", "role": "observer"})
    client.post("/logout")
    with app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body).where(OutboxMessage.recipient == "ingrid.berg@a.example")
        )
    link = re.search(r"https?://\S+", body).group(0).replace("http://localhost", "")
    response = client.post(
        link,
        data={
            "name": "Ingrid Berg",
            "password": "ingrid-likes-fjords",
            "confirm": "ingrid-likes-fjords",
        },
    )
    assert b"your name or your e-mail" in response.data
    with app.app_context():
        assert services.user_by_email("ingrid.berg@a.example") is None


# --- failed sign-ins -----------------------------------------------------------------------


def _limited_app(make_app, **limits):
    return make_app(
        {
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "LOGIN_PAIR_LIMIT": "3 per 15 minutes",
            "LOGIN_ATTACKED_PAIR_LIMIT": "1 per 15 minutes",
            "LOGIN_ACCOUNT_LIMIT": "100 per hour",
            "LOGIN_ADDRESS_LIMIT": "100 per hour",
            **limits,
        }
    )


def _try(app, environ, email="coord@a.example", password="not-the-password"):  # noqa: S107
    client = app.test_client()
    client.environ_base.update(environ)
    return client.post("/login", data={"email": email, "password": password})


def test_an_attackers_address_backs_off_while_the_owner_signs_in(make_app, world):
    app = _limited_app(make_app)
    codes = [_try(app, ATTACKER).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    # Throttled: not even the right password is looked at from there, and it says how long.
    throttled = _try(app, ATTACKER, password=PASSWORD)
    assert throttled.status_code == 429
    assert b"Try again in 15 minutes" in throttled.data
    assert 0 < int(throttled.headers["Retry-After"]) <= 900
    # The owner, from a clean address, is never locked out.
    assert _try(app, OWNER, password=PASSWORD).status_code == 302


def test_an_account_under_attack_from_many_addresses_still_lets_the_owner_in(make_app, world):
    app = _limited_app(make_app, LOGIN_ACCOUNT_LIMIT="5 per hour")
    for i in range(6):
        assert _try(app, {"REMOTE_ADDR": f"192.0.2.{i + 10}"}).status_code == 422
    # Counted per account: every address that failed is now held to the strict limit ...
    assert _try(app, {"REMOTE_ADDR": "192.0.2.10"}).status_code == 429
    # ... but the right password from a clean address goes through.
    assert _try(app, OWNER, password=PASSWORD).status_code == 302


def test_one_address_spraying_many_accounts_is_throttled(make_app, world):
    app = _limited_app(make_app, LOGIN_ADDRESS_LIMIT="3 per hour")
    emails = ["coord@a.example", "member@a.example", "observer@a.example"]
    assert [_try(app, ATTACKER, email=e).status_code for e in emails] == [422, 422, 422]
    assert _try(app, ATTACKER, email="manager@a.example").status_code == 429
    assert _try(app, OWNER, email="manager@a.example", password=PASSWORD).status_code == 302


def test_a_right_password_starts_the_pair_afresh(make_app, world):
    app = _limited_app(make_app)
    assert [_try(app, OWNER).status_code for _ in range(2)] == [422, 422]
    assert _try(app, OWNER, password=PASSWORD).status_code == 302
    assert [_try(app, OWNER).status_code for _ in range(3)] == [422, 422, 422]


def test_with_redis_unreachable_sign_in_works_and_the_log_says_so(
    make_app, world, monkeypatch, caplog
):
    monkeypatch.setenv("PORTAL_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    caplog.set_level(logging.INFO)
    app = _limited_app(make_app, LOGIN_RATE_LIMIT="10 per minute")
    assert "sign-in limits: shared by every worker" in caplog.text
    client = app.test_client()
    client.environ_base.update(OWNER)
    login(client, "coord@a.example")
    assert client.get("/nordland/").status_code == 200
    assert "cannot be reached" in caplog.text
    # The limits go on in this process's memory.
    codes = [_try(app, ATTACKER).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    client.post("/logout")
    assert client.get("/nordland/").status_code == 302


def test_without_redis_the_log_says_the_limits_are_per_process(make_app, caplog):
    caplog.set_level(logging.INFO)
    make_app()
    assert "kept in this process's memory" in caplog.text
    assert "sign-in sessions: kept in the database" in caplog.text


# --- password reset links ------------------------------------------------------------------


def _reset_link(client, app, email):
    client.post("/password/forgot", data={"email": email})
    with app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        )
    return re.search(r"https?://\S+", body).group(0).replace("http://localhost", "")


def test_a_newer_reset_link_voids_the_older_ones(client, world, app):
    first = _reset_link(client, app, "member@a.example")
    second = _reset_link(client, app, "member@a.example")
    response = client.get(first, follow_redirects=True)
    assert b"A newer link has been sent" in response.data
    refused = client.post(
        first, data={"password": "velvet-otter-lantern-91", "confirm": "velvet-otter-lantern-91"}
    )
    assert refused.status_code == 302 and "/password/forgot" in refused.headers["Location"]
    assert client.get(second).status_code == 200
    response = client.post(
        second, data={"password": "velvet-otter-lantern-91", "confirm": "velvet-otter-lantern-91"}
    )
    assert response.status_code == 302
    login(client, "member@a.example", "velvet-otter-lantern-91")


def test_a_reset_ends_every_session_and_refuses_a_common_password(client, world, app):
    other_device = app.test_client()
    login(other_device, "member@a.example")
    link = _reset_link(client, app, "member@a.example")
    refused = client.post(link, data={"password": "qwertyuiop12345", "confirm": "qwertyuiop12345"})
    assert refused.status_code == 422 and b"commonly used or leaked" in refused.data
    assert other_device.get("/nordland/").status_code == 200
    client.post(
        link, data={"password": "velvet-otter-lantern-91", "confirm": "velvet-otter-lantern-91"}
    )
    assert other_device.get("/nordland/").status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "member@a.example"))
        assert user.password_reset_serial == 1
