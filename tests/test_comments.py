"""Comments after they are written: the author edits (shown as edited, with a version: no
lost update) and deletes; a coordinator hides; every change is in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.plans.models import ActionComment
from portal.tenancy import unscoped
from tests.conftest import count_queries, login
from tests.locking_support import version_in
from tests.process_support import build_process


@pytest.fixture
def thread(app, world, client):
    process = build_process(app, world)
    action_id = process.action_ids[1]
    login(client, "member@a.example")
    client.post(f"/nordland/actions/{action_id}/comments", data={"body": "First thoughts"})
    client.post("/logout")
    with app.app_context(), unscoped():
        comment = db.session.scalar(select(ActionComment).order_by(ActionComment.id.desc()))
        return {"action": action_id, "comment": comment.id}


def _url(ids, what="edit", tenant="nordland"):
    return f"/{tenant}/actions/{ids['action']}/comments/{ids['comment']}/{what}"


def _stored(app, ids):
    with app.app_context(), unscoped():
        return db.session.get(ActionComment, ids["comment"])


def test_author_edits_and_the_comment_shows_edited(client, thread, app):
    login(client, "member@a.example")
    page = client.get(_url(thread))
    assert page.status_code == 200
    version = version_in(page.get_data(as_text=True))
    saved = client.post(_url(thread), data={"body": "Second thoughts", "version": version})
    assert saved.status_code == 302
    stored = _stored(app, thread)
    assert stored.body == "Second thoughts" and stored.edited_at is not None
    action_page = client.get(f"/nordland/actions/{thread['action']}").get_data(as_text=True)
    assert "Second thoughts" in action_page and "edited" in action_page
    # htmx: the same URL answers the form, then the comment, as fragments.
    fragment = client.get(_url(thread), headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "<form" in fragment.get_data(
        as_text=True
    )
    version = version_in(fragment.get_data(as_text=True))
    swapped = client.post(
        _url(thread), data={"body": "Third", "version": version}, headers={"HX-Request": "true"}
    )
    body = swapped.get_data(as_text=True)
    assert swapped.status_code == 200 and "<html" not in body and "Third" in body
    empty = client.post(_url(thread), data={"body": "  ", "version": version_in(body) or "9"})
    assert empty.status_code in (409, 422) and _stored(app, thread).body == "Third"
    updates = db_entries(app, "update")
    assert any(e.changes.get("body") == ["First thoughts", "Second thoughts"] for e in updates)


def db_entries(app, action):
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "action_comment", AuditEntry.action == action
            )
        ).all()


def test_a_stale_edit_is_409_with_the_input_kept(app, thread):
    first, second = app.test_client(), app.test_client()
    login(first, "member@a.example")
    login(second, "member@a.example")
    version = version_in(first.get(_url(thread)).get_data(as_text=True))
    assert (
        first.post(_url(thread), data={"body": "From the laptop", "version": version}).status_code
        == 302
    )
    refused = second.post(_url(thread), data={"body": "From the phone", "version": version})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "From the laptop" in body and "From the phone" in body
    assert _stored(app, thread).body == "From the laptop"
    missing = second.post(_url(thread), data={"body": "No version"})
    assert missing.status_code == 409 and _stored(app, thread).body == "From the laptop"


def test_who_may_edit_delete_and_hide(client, thread, app, world, factory):
    for email in ("manager@a.example", "observer@a.example", "coord@a.example"):
        login(client, email)
        assert client.get(_url(thread)).status_code == 403, email
        assert client.post(_url(thread), data={"body": "x", "version": "1"}).status_code == 403
        assert client.post(_url(thread, "delete")).status_code == 403, email
        client.post("/logout")
    login(client, "manager@a.example")
    assert client.post(_url(thread, "hide"), data={"version": "1"}).status_code == 403
    client.post("/logout")
    factory.user("coord@b.example", tenant=world["b"], role="coordinator")
    login(client, "coord@b.example")
    assert client.get(_url(thread, tenant="bravo")).status_code == 404
    assert (
        client.post(_url(thread, "hide", tenant="bravo"), data={"version": "1"}).status_code == 404
    )
    assert _stored(app, thread).body == "First thoughts"


def test_coordinator_hides_and_others_see_that(client, thread, app):
    login(client, "coord@a.example")
    action_url = f"/nordland/actions/{thread['action']}"
    version = str(_stored(app, thread).version)
    assert client.post(_url(thread, "hide"), data={"version": version}).status_code == 302
    mine = client.get(action_url).get_data(as_text=True)
    assert "First thoughts" in mine and "Hidden by Coord" in mine
    stale = client.post(
        _url(thread, "hide"),
        data={"version": version, "hidden": "0"},
        headers={"HX-Request": "true"},
    )
    assert stale.status_code == 409 and _stored(app, thread).hidden_at is not None
    client.post("/logout")
    login(client, "manager@a.example")
    theirs = client.get(action_url).get_data(as_text=True)
    assert "Hidden by a coordinator" in theirs and "First thoughts" not in theirs
    client.post("/logout")
    login(client, "member@a.example")  # the author may no longer edit it, but may delete it
    assert client.get(_url(thread)).status_code == 403
    assert client.post(_url(thread, "delete")).status_code == 302
    assert _stored(app, thread) is None
    assert db_entries(app, "delete") and any(
        e.changes.get("hidden_at") for e in db_entries(app, "update")
    )


def test_action_page_queries_stay_flat_with_comments(client, thread, app):
    login(client, "coord@a.example")
    url = f"/nordland/actions/{thread['action']}"

    def measure():
        with count_queries(app) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    small = measure()
    for i in range(15):
        client.post(f"{url}/comments", data={"body": f"Comment {i}"})
    version = str(_stored(app, thread).version)
    client.post(_url(thread, "hide"), data={"version": version})
    assert measure() == small
