"""Kept frames (portal.web.page_frames): after an action's write in a programme, the first
reader renders the page and the next kinds of reader get the kept frame with the body kept
for the new data, rendered by nobody; every such answer equals an uncached render. What the
frame shows itself (the programme's own row, the work on indicators, a plugin's panel) renews
it."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.web.page_cache import EXTENSION
from tests import locking_support as build
from tests.conftest import ROLE_EMAILS, login
from tests.redis_support import REDIS_URL, needs_redis
from tests.test_cache_scopes import TOKEN
from tests.test_page_fragments import _programme, _uncached

ROLES = ("coordinator", "cluster_manager", "member", "observer")


def _readers(app, url) -> dict:
    clients = {}
    for role in ROLES:
        clients[role] = app.test_client()
        login(clients[role], ROLE_EMAILS[role])
        clients[role].get(url)
        clients[role].get(url)  # kept for the reader's kind
    return clients


def _progress(app, world, action_id, value):
    from portal.plans.models import Action

    def write(_world):
        db.session.get(Action, action_id).progress = value
        db.session.commit()

    build.run(app, world, write)


def _answers(app, clients, url) -> dict:
    """Each reader's answer after a write (the coordinator first): how it was served, and
    whether it equals an uncached render."""
    found = {}
    for role, client in clients.items():
        response = client.get(url)
        same = TOKEN.sub(b"", response.data) == TOKEN.sub(b"", _uncached(app, client, url))
        found[role] = (response.headers.get("X-Page-Cache"), same)
    return found


def _framed_after_a_write(app, world) -> tuple[int, str, dict]:
    """Every kind reads the programme page, an action's progress changes: the first reader
    renders the page, every next kind gets its frame with the kept body."""
    programme, action = _programme(app, world)
    url = f"/nordland/programmes/{programme}"
    clients = _readers(app, url)
    _progress(app, world, action, 40)
    answers = _answers(app, clients, url)
    assert answers["coordinator"] == (None, True)
    for role in ROLES[1:]:
        assert answers[role] == ("frame", True), role
    return action, url, clients


def test_after_an_actions_write_the_next_kinds_get_the_frame_and_the_new_body(app, world):
    action, url, clients = _framed_after_a_write(app, world)

    # A frame's answer reads neither the programme's rows nor its actions.
    _progress(app, world, action, 55)
    clients["coordinator"].get(url)
    statements = []
    with app.app_context():
        engine = db.engine

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        framed = clients["member"].get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert framed.headers.get("X-Page-Cache") == "frame"
    assert b"55" in framed.data
    assert not [s for s in statements if "plan_action" in s or "FROM programme" in s]


def test_what_the_frame_shows_renews_it(app, world):
    from portal.plans.models import Action
    from portal.programmes import services
    from portal.programmes.models import Programme

    programme, action = _programme(app, world)
    url = f"/nordland/programmes/{programme}"
    clients = _readers(app, url)

    def rename(_world):
        found = db.session.get(Programme, programme)
        services.update_programme(None, found, {"name": "Arena Export 2027"})
        db.session.commit()

    build.run(app, world, rename)  # the programme's own row: in the frame
    answers = _answers(app, clients, url)
    assert all(answer == (None, True) for answer in answers.values()), answers
    assert b"Arena Export 2027" in clients["member"].get(url).data

    def retitle(title):
        def write(_world):
            db.session.get(Action, action).title = title
            db.session.commit()

        return write

    # Aimed at no indicator, the action is no work the frame's summary shows: kept.
    build.run(app, world, retitle("Trade fair in Hamburg"))
    answers = _answers(app, clients, url)
    assert all(answer[1] for answer in answers.values()), answers
    assert [answer[0] for answer in answers.values()] == [None, "frame", "frame", "frame"]

    def aim(_world):
        from portal.improvement.links import set_action_indicators
        from tests.improvement_support import ENGAGEMENT

        set_action_indicators(db.session.get(Action, action), [ENGAGEMENT])
        db.session.commit()

    build.run(app, world, aim)  # the work the indicator summary reads: in the frame
    answers = _answers(app, clients, url)
    assert all(answer == (None, True) for answer in answers.values()), answers
    build.run(app, world, retitle("Trade fair in Hamburg, 2027"))
    answers = _answers(app, clients, url)
    assert all(answer == (None, True) for answer in answers.values()), answers


def test_a_panel_that_may_show_the_cores_rows_keeps_no_frame(app, world, factory, monkeypatch):
    from portal import toolkit

    factory.enable_plugin(world["a"], "joint")  # its panel shows its own rows only
    programme, action = _programme(app, world)
    url = f"/nordland/programmes/{programme}"
    clients = _readers(app, url)
    assert b"Board of joint actions" in clients["member"].get(url).data
    _progress(app, world, action, 40)
    assert _answers(app, clients, url)["member"] == ("frame", True)

    class AnyRows(toolkit.Panel):
        """A panel that does not say it shows only its plugin's rows."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "own_rows_only": False})

    monkeypatch.setattr(toolkit, "Panel", AnyRows)
    app.extensions[EXTENSION].clear()  # as a new version of the plugin would start
    clients = _readers(app, url)  # rendered with that panel: no frame kept
    _progress(app, world, action, 50)
    answers = _answers(app, clients, url)
    assert all(answer == (None, True) for answer in answers.values()), answers


@pytest.mark.redis
@needs_redis
def test_a_frame_kept_in_redis_keeps_its_holes(make_app, world):
    settings = {"REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": "portal-test-frames"}
    app = make_app(settings)
    assert app.extensions[EXTENSION].kind == "redis"
    app.extensions[EXTENSION].clear()
    try:
        _framed_after_a_write(app, world)
    finally:
        app.extensions[EXTENSION].clear()
