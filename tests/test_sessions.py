"""Sessions on the server: signing out ends them, and so do a password change, "sign out
everywhere", a deactivation and the idle and absolute limits."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from portal.accounts.models import Membership, User, UserSession
from portal.extensions import db
from portal.tenancy import unscoped
from tests.conftest import PASSWORD, count_queries, free_port, login
from tests.redis_support import REDIS_URL, needs_redis, redis_client

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _session_rows(app, email="member@a.example"):
    with app.app_context():
        return db.session.scalars(
            select(UserSession)
            .join(User, User.id == UserSession.user_id)
            .where(User.email == email)
        ).all()


def _copy_cookies(source, target, *names):
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def test_a_cookie_captured_before_sign_out_is_refused(app, world):
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "member@a.example", "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    thief = app.test_client()
    _copy_cookies(client, thief, "session", "remember_token")
    assert thief.get("/nordland/").status_code == 200  # a copy works while the session lives
    client.post("/logout")
    assert thief.get("/nordland/").status_code == 302
    # Neither cookie alone brings the session back.
    for name in ("session", "remember_token"):
        alone = app.test_client()
        _copy_cookies(thief, alone, name)
        assert alone.get("/nordland/").status_code == 302, name
    assert _session_rows(app) == []


def test_the_profile_lists_sessions_and_signs_one_out(app, world):
    laptop = app.test_client()
    laptop.environ_base.update({"HTTP_USER_AGENT": FIREFOX, "REMOTE_ADDR": "198.51.100.7"})
    login(laptop, "member@a.example")
    phone = app.test_client()
    login(phone, "member@a.example")
    page = laptop.get("/profile").get_data(as_text=True)
    assert "Firefox 128" in page and "Windows 10" in page and "198.51.100.7" in page
    assert "this device" in page
    phone_row = next(r for r in _session_rows(app) if r.address != "198.51.100.7")
    assert laptop.post(f"/profile/sessions/{phone_row.id}/end").status_code == 302
    assert phone.get("/nordland/").status_code == 302
    assert laptop.get("/nordland/").status_code == 200
    # Someone else's session, or one that is gone: 404, nothing ends.
    other = app.test_client()
    login(other, "observer@a.example")
    observer_row = _session_rows(app, "observer@a.example")[0]
    assert laptop.post(f"/profile/sessions/{observer_row.id}/end").status_code == 404
    assert other.get("/nordland/").status_code == 200


def test_sign_out_everywhere(app, world):
    devices = [app.test_client() for _ in range(3)]
    for device in devices:
        login(device, "member@a.example")
    response = devices[0].post("/profile/sessions/end-all")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert [d.get("/nordland/").status_code for d in devices] == [302, 302, 302]
    assert _session_rows(app) == []


def test_a_password_change_ends_the_other_sessions(app, world):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "member@a.example")
    login(elsewhere, "member@a.example")
    response = here.post(
        "/profile",
        data={
            "password-current": PASSWORD,
            "password-password": "velvet-otter-lantern-91",
            "password-confirm": "velvet-otter-lantern-91",
        },
    )
    assert response.status_code == 302
    assert here.get("/nordland/").status_code == 200
    assert elsewhere.get("/nordland/").status_code == 302
    assert len(_session_rows(app)) == 1


def _age_sessions(app, **ago):
    with app.app_context():
        past = datetime.now(UTC) - timedelta(**ago)
        column = "created_at" if ago.pop("created", False) else "last_seen_at"
        db.session.execute(update(UserSession).values({column: past}))
        db.session.commit()


def test_an_idle_session_expires(make_app, world):
    app = make_app({"SESSION_IDLE_MINUTES": 30})
    client = app.test_client()
    login(client, "member@a.example")
    _age_sessions(app, minutes=29)
    assert client.get("/nordland/").status_code == 200  # within the idle time: seen again now
    seen = _session_rows(app)[0].last_seen_at.replace(tzinfo=UTC)
    assert datetime.now(UTC) - seen < timedelta(minutes=1)
    _age_sessions(app, minutes=31)
    assert client.get("/nordland/").status_code == 302
    assert _session_rows(app) == []


def test_the_last_seen_time_is_written_at_most_once_a_minute(app, world):
    client = app.test_client()
    login(client, "member@a.example")
    _age_sessions(app, seconds=30)
    before = _session_rows(app)[0].last_seen_at
    client.get("/nordland/")
    assert _session_rows(app)[0].last_seen_at == before


def test_a_session_ends_after_its_absolute_lifetime(make_app, world):
    app = make_app({"SESSION_MAX_DAYS": 1})
    client = app.test_client()
    login(client, "member@a.example")
    with app.app_context():
        past = datetime.now(UTC) - timedelta(days=1, minutes=1)
        db.session.execute(update(UserSession).values(created_at=past))
        db.session.commit()
    assert client.get("/nordland/").status_code == 302


# --- deactivation --------------------------------------------------------------------------


def test_a_platform_admin_deactivates_a_person_who_is_signed_out_at_once(app, world):
    member = app.test_client()
    login(member, "member@a.example")
    admin = app.test_client()
    login(admin, "admin@portal.example")
    page = admin.get("/admin/people?q=member").get_data(as_text=True)
    assert "member@a.example" in page and "coord@a.example" not in page
    with app.app_context():
        member_id = db.session.scalar(select(User.id).where(User.email == "member@a.example"))
    response = admin.post(f"/admin/people/{member_id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert member.get("/nordland/").status_code == 302
    assert (
        member.post("/login", data={"email": "member@a.example", "password": PASSWORD}).status_code
        == 422
    )
    admin.post(f"/admin/people/{member_id}/active", data={"active": "1"})
    login(member, "member@a.example")
    # Only platform admins: a coordinator gets 403.
    coordinator = app.test_client()
    login(coordinator, "coord@a.example")
    assert coordinator.get("/admin/people").status_code == 403
    assert (
        coordinator.post(f"/admin/people/{member_id}/active", data={"active": "0"}).status_code
        == 403
    )
    assert member.get("/nordland/").status_code == 200


def test_portal_user_deactivate(app, world, runner):
    member = app.test_client()
    login(member, "member@a.example")
    result = runner.invoke(args=["user", "deactivate", "MEMBER@a.example"])
    assert result.exit_code == 0, result.output
    assert "deactivated member@a.example" in result.output
    assert member.get("/nordland/").status_code == 302
    assert runner.invoke(args=["user", "deactivate", "ghost@a.example"]).exit_code != 0
    assert runner.invoke(args=["user", "reactivate", "member@a.example"]).exit_code == 0
    login(member, "member@a.example")


def _membership_id(app, email):
    with app.app_context(), unscoped():
        return db.session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email)
        )


def test_a_coordinator_deactivates_a_membership_of_their_region(app, world, factory):
    member = app.test_client()
    login(member, "member@a.example")
    coordinator = app.test_client()
    login(coordinator, "coord@a.example")
    membership_id = _membership_id(app, "member@a.example")
    response = coordinator.post(f"/nordland/people/{membership_id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert "deactivated" in coordinator.get("/nordland/people").get_data(as_text=True)
    # No role left anywhere: signed out at once.
    assert member.get("/nordland/").status_code == 302
    assert (
        member.post("/login", data={"email": "member@a.example", "password": PASSWORD}).status_code
        == 302
    )
    assert member.get("/nordland/").status_code == 404
    coordinator.post(f"/nordland/people/{membership_id}/active", data={"active": "1"})
    assert member.get("/nordland/").status_code == 200


def test_a_membership_deactivated_in_one_region_leaves_the_other(app, world, factory):
    factory.user("both@a.example", tenant=world["a"], role="observer")
    from portal.accounts import services
    from portal.tenancy.models import Tenant

    with app.test_request_context():
        user = services.user_by_email("both@a.example")
        services.grant_role(db.session.get(Tenant, world["b"].id), user, services.Role.OBSERVER)
        db.session.commit()
    person = app.test_client()
    login(person, "both@a.example")
    coordinator = app.test_client()
    login(coordinator, "coord@a.example")
    coordinator.post(
        f"/nordland/people/{_membership_id_in(app, 'both@a.example', world['a'].id)}/active",
        data={"active": "0"},
    )
    assert person.get("/nordland/").status_code == 404
    assert person.get("/bravo/").status_code == 200


def _membership_id_in(app, email, tenant_id):
    with app.app_context(), unscoped():
        return db.session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email, Membership.tenant_id == tenant_id)
        )


def test_a_coordinator_cannot_touch_another_regions_memberships(app, world, factory):
    factory.user("bravo-member@a.example", tenant=world["b"], role="member")
    foreign = _membership_id(app, "bravo-member@a.example")
    coordinator = app.test_client()
    login(coordinator, "coord@a.example")
    response = coordinator.post(f"/nordland/people/{foreign}/active", data={"active": "0"})
    assert response.status_code == 404
    assert (
        coordinator.post(f"/bravo/people/{foreign}/active", data={"active": "0"}).status_code == 404
    )
    with app.app_context(), unscoped():
        assert db.session.scalar(select(Membership.active).where(Membership.id == foreign))


def test_the_last_coordinator_and_oneself_are_not_deactivated(app, world):
    coordinator = app.test_client()
    login(coordinator, "coord@a.example")
    own = _membership_id(app, "coord@a.example")
    response = coordinator.post(
        f"/nordland/people/{own}/active", data={"active": "0"}, follow_redirects=True
    )
    assert b"your own role" in response.data
    member = app.test_client()
    login(member, "member@a.example")
    assert member.post(f"/nordland/people/{own}/active", data={"active": "0"}).status_code == 403
    with app.app_context(), unscoped():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Membership).where(Membership.active.is_(False))
            )
            == 0
        )


# --- Redis ---------------------------------------------------------------------------------


@pytest.mark.redis
@needs_redis
def test_sessions_in_redis_are_shared_and_end_at_sign_out(make_app, world, monkeypatch):
    store = redis_client()
    store.flushdb()
    monkeypatch.setenv("PORTAL_REDIS_URL", REDIS_URL)
    worker_one, worker_two = make_app(), make_app()
    client = worker_one.test_client()
    login(client, "member@a.example")
    other = worker_two.test_client()
    _copy_cookies(client, other, "session")
    assert other.get("/nordland/").status_code == 200  # the other worker finds it in Redis
    assert _session_rows(worker_one) == []  # not in the table
    assert any(b":session:" in key for key in store.scan_iter("*"))
    page = client.get("/profile").get_data(as_text=True)
    assert "this device" in page
    client.post("/logout")
    assert other.get("/nordland/").status_code == 302
    assert not any(b":session:" in key for key in store.scan_iter("*"))
    store.flushdb()


@contextmanager
def _redis_down(app):
    """A real outage of the app's Redis: its session store talks to a port nothing listens
    on. Afterwards the real server again, as when the store's retry pause has passed."""
    import redis

    from portal.accounts.session_redis import RETRY_SECONDS

    store = app.extensions["portal_sessions"]
    real = store.client
    store.client = redis.Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1, socket_timeout=1
    )
    try:
        yield
    finally:
        store.client = real
        if store._down_since is not None:
            store._down_since -= RETRY_SECONDS + 1


def _redis_sessions(store) -> int:
    return sum(1 for _ in store.scan_iter("*:session:*"))


@pytest.mark.redis
@needs_redis
def test_a_sign_out_while_redis_is_down_stays_done_once_it_is_back(
    make_app, world, monkeypatch, caplog
):
    store = redis_client()
    store.flushdb()
    monkeypatch.setenv("PORTAL_REDIS_URL", REDIS_URL)
    app = make_app()
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "member@a.example", "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    thief = app.test_client()
    _copy_cookies(client, thief, "session", "remember_token")
    bystander = app.test_client()  # another session of the same person, not signed out
    login(bystander, "member@a.example")
    assert thief.get("/nordland/").status_code == 200
    assert _redis_sessions(store) == 2 and _session_rows(app) == []
    with _redis_down(app):
        response = client.post("/logout")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert thief.get("/nordland/").status_code == 302  # nobody is signed in meanwhile
        # Signing out once more with the same cookies: one note (no clash between the two).
        again = app.test_client()
        _copy_cookies(thief, again, "session", "remember_token")
        assert again.post("/logout").status_code == 302
    assert "cannot be reached to end a session" in caplog.text
    # Redis is back and still holds the session it could not delete...
    assert _redis_sessions(store) == 2
    with count_queries(app) as queries:
        assert bystander.get("/nordland/").status_code == 200  # (Redis is asked again)
    # ...(the ended sessions are read in the query that loads the user, no query of their own)
    assert all("user_account" in q for q in queries if "ended_session" in q)
    assert any("ended_session" in q for q in queries)
    # ...but the captured cookies sign nobody in, together or alone.
    response = thief.get("/nordland/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for name in ("session", "remember_token"):
        alone = app.test_client()
        _copy_cookies(thief, alone, name)
        assert alone.get("/nordland/").status_code == 302, name
    assert _redis_sessions(store) == 1  # the refused one is deleted from Redis
    assert bystander.get("/nordland/").status_code == 200
    store.flushdb()


NEW_PASSWORD = "velvet-otter-lantern-91"


def _change_password(device):
    response = device.post(
        "/profile",
        data={
            "password-current": PASSWORD,
            "password-password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302


@pytest.mark.redis
@needs_redis
@pytest.mark.parametrize("how", ["everywhere", "password", "deactivation"])
def test_sessions_ended_while_redis_is_down_stay_ended_once_it_is_back(
    make_app, world, monkeypatch, caplog, how
):
    store = redis_client()
    store.flushdb()
    monkeypatch.setenv("PORTAL_REDIS_URL", REDIS_URL)
    app = make_app()
    devices = [app.test_client() for _ in range(2)]
    for device in devices:
        login(device, "member@a.example")
    thief = app.test_client()
    _copy_cookies(devices[0], thief, "session")
    observer = app.test_client()  # someone else, whose session in Redis goes on
    login(observer, "observer@a.example")
    assert _redis_sessions(store) == 3
    with _redis_down(app):
        # The sessions in Redis sign nobody in now; one signs in again (into the database).
        assert devices[0].get("/nordland/").status_code == 302
        here = app.test_client()
        login(here, "member@a.example")
        assert len(_session_rows(app)) == 1
        if how == "everywhere":
            response = here.post("/profile/sessions/end-all")
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        elif how == "password":
            _change_password(here)  # keeps this session
        else:
            from portal.accounts import services

            with app.test_request_context():
                user = db.session.scalar(select(User).where(User.email == "member@a.example"))
                services.set_active(user, False)
                services.set_active(user, True)  # back again: the old sessions stay ended
    assert "cannot be reached to end the sessions of user" in caplog.text
    assert _redis_sessions(store) == 3  # Redis could not delete them
    assert observer.get("/nordland/").status_code == 200  # Redis is asked again
    for device in (thief, *devices):
        response = device.get("/nordland/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _redis_sessions(store) == 1  # the refused ones are deleted from Redis
    page = here.get("/nordland/")
    assert page.status_code == (200 if how == "password" else 302)
    assert len(_session_rows(app)) == (1 if how == "password" else 0)
    if how == "password":
        profile = here.get("/profile").get_data(as_text=True)
        assert profile.count("this device") == 1
    # New sessions in Redis are not touched by the note.
    login(devices[0], "member@a.example", NEW_PASSWORD if how == "password" else PASSWORD)
    assert devices[0].get("/nordland/").status_code == 200
    assert _redis_sessions(store) == 2
    store.flushdb()
