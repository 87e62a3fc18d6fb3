"""Configuring webhooks on the region's settings: who may, which addresses, bad input, the edit
conflict, the signing secret and its rotation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.tenancy import tenant_scope, unscoped
from portal.webhooks.models import Webhook, WebhookDelivery
from tests.conftest import login
from tests.webhook_support import WEBHOOK_CONFIG, add_webhook, coordinator_client

BASE = "/nordland/settings/webhooks"


@pytest.fixture
def app(make_app):
    return make_app(WEBHOOK_CONFIG)


def _count(app, model=Webhook) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_settings_link_to_the_webhooks(app, world):
    client = coordinator_client(app)
    page = client.get("/nordland/settings").get_data(as_text=True)
    assert f'href="{BASE}"' in page
    listing = client.get(BASE)
    assert listing.status_code == 200 and "No webhooks yet." in listing.get_data(as_text=True)


@pytest.mark.parametrize(
    "email", ["manager@a.example", "member@a.example", "observer@a.example", "assessor@a.example"]
)
def test_only_coordinators_configure_webhooks(app, world, email):
    hook = add_webhook(coordinator_client(app), "http://127.0.0.1:9/hook")
    client = app.test_client()
    login(client, email)
    for url in (BASE, f"{BASE}/new", f"{BASE}/{hook}", f"{BASE}/{hook}/deliveries"):
        assert client.get(url).status_code == 403, url
    data = {"url": "http://127.0.0.1:9/other", "events": ["action.done"], "active": "y"}
    assert client.post(f"{BASE}/new", data=data).status_code == 403
    assert client.post(f"{BASE}/{hook}/rotate").status_code == 403
    assert client.post(f"{BASE}/{hook}/delete").status_code == 403
    assert _count(app) == 1
    assert "Webhooks" not in client.get("/nordland/").get_data(as_text=True).split("<main")[1]


def test_anonymous_people_are_sent_to_sign_in(app, world):
    response = app.test_client().get(BASE)
    assert response.status_code in (302, 404)  # signed out: no region shows itself


def test_another_regions_webhook_is_not_found(app, world, factory):
    factory.user("coord@b.example", tenant=world["b"], role="coordinator")
    theirs = app.test_client()
    login(theirs, "coord@b.example")
    response = theirs.post(
        "/bravo/settings/webhooks/new",
        data={"url": "http://127.0.0.1:9/b", "events": ["action.done"], "active": "y"},
    )
    assert response.status_code == 302
    with app.app_context(), tenant_scope(world["b"].id):
        other = db.session.scalar(select(Webhook.id))
    ours = coordinator_client(app)
    for url in (f"{BASE}/{other}", f"{BASE}/{other}/deliveries"):
        assert ours.get(url).status_code == 404, url
    for url in (
        f"{BASE}/{other}/rotate",
        f"{BASE}/{other}/delete",
        f"{BASE}/{other}/deliveries/1/again",
    ):
        assert ours.post(url).status_code == 404, url
    assert _count(app) == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Give the address to send the events to."),
        ("ftp://127.0.0.1/x", "The address must start with https:// or http://."),
        ("https://user:pw@127.0.0.1/x", "Put no user name or password in the address."),
        ("https://127.0.0.1:99999/x", "This is no web address."),
        ("https://no-such-host.invalid/x", "The address&#39;s host name cannot be found."),
    ],
)
def test_bad_addresses_are_refused_and_change_nothing(app, world, url, message):
    client = coordinator_client(app)
    response = client.post(f"{BASE}/new", data={"url": url, "events": ["action.done"]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    assert _count(app) == 0


def test_no_event_or_an_unknown_event_is_refused(app, world):
    client = coordinator_client(app)
    for events in ([], ["label.stolen"]):
        response = client.post(
            f"{BASE}/new", data={"url": "http://127.0.0.1:9/x", "events": events}
        )
        assert response.status_code == 422, events
    assert _count(app) == 0


def test_errors_come_in_the_readers_language(app, world):
    """The refusals are the portal's own messages, through gettext in the reader's language."""
    from flask_babel import force_locale, gettext

    client = coordinator_client(app)
    client.post("/language", data={"locale": "nb", "next": "/"})
    response = client.post(
        f"{BASE}/new", data={"url": "ftp://127.0.0.1:9/x", "events": ["label.stolen"]}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<html lang="nb">' in page
    with app.test_request_context(), force_locale("nb"):
        expected = [
            gettext("Choose at least one event, from the list."),
            gettext("The address must start with https:// or http://."),
        ]
    for message in expected:
        assert message in page, message
    assert _count(app) == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "https://172.16.5.4/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[fd00::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://100.64.0.1/x",
        "https://0.0.0.0/x",
    ],
)
def test_private_and_local_addresses_are_refused_by_default(make_app, world, url):
    app = make_app()  # the configuration's defaults: public https addresses only
    client = coordinator_client(app)
    response = client.post(f"{BASE}/new", data={"url": url, "events": ["action.done"]})
    assert response.status_code == 422
    assert "private or local network" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_http_is_refused_unless_the_configuration_allows_it(make_app, world):
    app = make_app({"WEBHOOK_ALLOW_PRIVATE_TARGETS": True})
    client = coordinator_client(app)
    response = client.post(
        f"{BASE}/new", data={"url": "http://127.0.0.1:9/x", "events": ["action.done"]}
    )
    assert response.status_code == 422 and "https://" in response.get_data(as_text=True)
    assert add_webhook(client, "https://127.0.0.1:9/x")
    assert _count(app) == 1


def test_a_stale_edit_answers_409_and_keeps_the_input(app, world):
    client = coordinator_client(app)
    hook = add_webhook(client, "http://127.0.0.1:9/first", events=["action.done"])
    data = {"url": "http://127.0.0.1:9/second", "events": ["action.done"], "active": "y"}
    assert client.post(f"{BASE}/{hook}", data=data | {"version": "1"}).status_code == 302
    stale = client.post(
        f"{BASE}/{hook}", data=data | {"url": "http://127.0.0.1:9/third", "version": "1"}
    )
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert 'value="http://127.0.0.1:9/third"' in page  # the input is kept
    assert "http://127.0.0.1:9/second" in page  # what is stored now is shown
    assert client.post(f"{BASE}/{hook}", data=data).status_code == 409  # no version at all
    with app.app_context(), unscoped():
        stored = db.session.get(Webhook, hook)
        assert (stored.url, stored.version) == ("http://127.0.0.1:9/second", 2)


def test_an_edit_with_bad_input_changes_nothing(app, world):
    client = coordinator_client(app)
    hook = add_webhook(client, "http://127.0.0.1:9/first", events=["action.done"])
    response = client.post(
        f"{BASE}/{hook}", data={"url": "gopher://x", "events": ["action.done"], "version": "1"}
    )
    assert response.status_code == 422
    with app.app_context(), unscoped():
        stored = db.session.get(Webhook, hook)
        assert (stored.url, stored.version) == ("http://127.0.0.1:9/first", 1)


def test_the_secret_is_shown_rotated_and_never_audited(app, world):
    client = coordinator_client(app)
    hook = add_webhook(client, "http://127.0.0.1:9/x")
    with app.app_context(), unscoped():
        first = db.session.get(Webhook, hook).signing_secret
    assert first.startswith("whsec_")
    assert first in client.get(f"{BASE}/{hook}").get_data(as_text=True)
    assert client.post(f"{BASE}/{hook}/rotate").status_code == 302
    with app.app_context(), unscoped():
        rotated = db.session.get(Webhook, hook)
        assert rotated.signing_secret != first and rotated.previous_signing_secret == first
        assert rotated.previous_secret_until is not None
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "webhook")
        ).all()
    assert len(entries) == 2  # made, rotated: recorded, without either secret
    for entry in entries:
        assert "whsec_" not in str(entry.changes) and "signing_secret" not in entry.changes
    page = client.get(f"{BASE}/{hook}").get_data(as_text=True)
    assert rotated.signing_secret in page and "previous secret signs too" in page


def test_deleting_a_webhook_takes_its_log(app, world, factory):
    client = coordinator_client(app)
    hook = add_webhook(client, "http://127.0.0.1:9/x")
    assert client.post(f"{BASE}/{hook}/delete").status_code == 302
    assert _count(app) == 0 and _count(app, WebhookDelivery) == 0
    assert client.get(f"{BASE}/{hook}").status_code == 404
