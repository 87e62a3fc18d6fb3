"""Kept fragments (portal.web.fragments): the part of a page every kind of reader sees alike is
rendered once per change and served to the next kinds from the keep; each answer equals an
uncached render, and a kept form carries the reader's own session token."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import g
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event

from portal.extensions import db
from portal.web.fragments import FRAGMENTS, Deferred, kept_fragment
from portal.web.page_cache import EXTENSION
from tests import locking_support as build
from tests.conftest import ROLE_EMAILS, login
from tests.locking_support import today

TOKEN = re.compile(rb'(name="csrf_token" value="|"X-CSRFToken": ")[^"]+"')


def test_a_kept_fragment_is_rendered_once_and_carries_each_sessions_token(app):
    calls = []

    def block():
        calls.append(1)
        return f'<input name="csrf_token" value="{generate_csrf()}"> body'

    answers = []
    for _session in range(2):
        with app.test_request_context("/nordland/programmes/1"):
            g.page_key_common = ("the page's key",)
            answers.append((str(kept_fragment("body", True, caller=block)), generate_csrf()))
    assert len(calls) == 1
    (first, first_token), (second, second_token) = answers
    assert first_token != second_token
    assert first_token in first and second_token in second and first_token not in second
    with app.test_request_context("/nordland/programmes/1"):
        g.page_key_common = ("the page's key",)
        kept_fragment("body", False, caller=block)  # another argument: its own entry
        assert len(calls) == 2
        g.page_key_common = None  # not a page being kept: rendered each time
        kept_fragment("body", True, caller=block)
        assert len(calls) == 3


def test_a_block_that_reads_who_the_reader_is_is_not_kept(app):
    from portal.web.personal import depends_on_viewer

    calls = []

    def block():
        calls.append(1)
        depends_on_viewer()  # e.g. an owner's button (same_person)
        return "mine"

    for _visit in range(2):
        with app.test_request_context("/nordland/programmes/1"):
            g.page_key_common = ("the page's key",)
            assert str(kept_fragment("body", caller=block)) == "mine"
            assert g.page_depends_on_viewer  # the page itself is then kept per reader
    assert len(calls) == 2


def test_a_kept_choice_keeps_every_variant_from_one_render(app):
    from portal.web.fragments import kept_choice

    calls = []

    def block(manage):
        calls.append(manage)
        return f"<p>{'Change' if manage else 'Read'}</p>"

    with app.test_request_context("/nordland/programmes/1"):
        g.page_key_common = ("the page's key",)
        assert str(kept_choice("participants", True, (True, False), caller=block)) == (
            "<p>Change</p>"
        )
    assert sorted(calls) == [False, True]  # both variants, once each
    with app.test_request_context("/nordland/programmes/1"):
        g.page_key_common = ("the page's key",)
        assert str(kept_choice("participants", False, (True, False), caller=block)) == (
            "<p>Read</p>"
        )
        g.page_key_common = ("another version of the data",)
        kept_choice("participants", False, (True, False), caller=block)
    assert len(calls) == 4  # the other reader's variant came from the keep; new data: both


def test_deferred_works_its_value_out_once_on_first_read():
    made = []
    value = Deferred(lambda: made.append(1) or type("Overview", (), {"total": 7})())
    assert not made
    assert value.total == 7 and value.total == 7
    assert made == [1]


def _programme(app, world) -> tuple[int, int]:
    from portal.clusters.models import Cluster
    from portal.plans import services as plans
    from portal.programmes import services

    def make(world):
        start = today() - timedelta(days=10)
        values = {"name": "Arena Export", "start_date": start, "end_date": today() + timedelta(90)}
        programme = services.create_programme(None, values, world["a"].id)
        for key in ("c1", "c2"):
            services.add_participant(None, programme, db.session.get(Cluster, world[key].id))
        plan = plans.create_plan(
            None,
            {"title": "Export plan", "start_date": start, "end_date": values["end_date"]},
            tenant_id=world["a"].id,
            programme=programme,
        )
        action = plans.create_action(None, plan, {"title": "Fair", "due_date": today()})
        db.session.commit()
        return programme.id, action.id

    return build.run(app, world, make)


def _queries_of(app, client, url) -> tuple[int, bytes]:
    counted = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        counted.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(counted), response.data


def _uncached(app, client, url) -> bytes:
    cache = app.extensions.pop(EXTENSION)
    try:
        return client.get(url).data
    finally:
        app.extensions[EXTENSION] = cache


def test_the_programme_body_is_rendered_once_for_the_kinds_who_see_it_alike(app, world):
    from portal.plans.models import Action

    programme, action = _programme(app, world)
    url = f"/nordland/programmes/{programme}"
    clients = {}
    for role in ("coordinator", "cluster_manager", "member"):
        clients[role] = app.test_client()
        login(clients[role], ROLE_EMAILS[role])
        clients[role].get(url)

    def progress(_world, value):
        db.session.get(Action, action).progress = value
        db.session.commit()

    build.run(app, world, progress, 40)  # every kind's page is renewed
    FRAGMENTS.forget(app)
    counts, pages = {}, {}
    for role in ("coordinator", "cluster_manager", "member"):
        counts[role], pages[role] = _queries_of(app, clients[role], url)
    # The coordinator rendered the body; the manager and the member (other kinds) got it
    # from the keep, without the body's queries, their managing buttons (none) around it.
    assert counts["cluster_manager"] < counts["coordinator"]
    assert counts["member"] < counts["coordinator"]
    assert b"Add clusters" in pages["coordinator"] and b"Add clusters" not in pages["member"]
    for role, client in clients.items():
        assert TOKEN.sub(b"", pages[role]) == TOKEN.sub(b"", _uncached(app, client, url)), role

    build.run(app, world, progress, 70)  # the body shows the new progress to every kind
    for role, client in clients.items():
        kept = TOKEN.sub(b"", client.get(url).data)
        assert kept != TOKEN.sub(b"", pages[role]), role
        assert kept == TOKEN.sub(b"", _uncached(app, client, url)), role
