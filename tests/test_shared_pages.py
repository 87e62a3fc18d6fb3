"""Pages kept for every reader of the same kind (``@cached_page(shared=True)``): a colleague's
first visit is served from the page another reader of their kind rendered, with their own
header and follow buttons, and never with anything of that other reader's.

The main test renders every shared page for pairs of readers, of the same kind and of
different kinds, before and after writes, and compares each kept answer with what an
uncached render shows the second reader."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.plans.models import Plan
from portal.tenancy import tenant_scope
from portal.web.page_cache import EXTENSION
from tests.conftest import login
from tests.locking_support import version_on
from tests.process_support import TODAY, build_process

# A signed CSRF token (payload.timestamp.signature) changes with the second it was made.
TOKEN = re.compile(rb"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}")

SAME_KIND = [
    ("coord@a.example", "coord2@a.example"),
    ("manager@a.example", "manager2@a.example"),
    ("observer@a.example", "observer2@a.example"),
    ("member@a.example", "member2@a.example"),
]
OTHER_KIND = [
    ("coord@a.example", "observer@a.example"),
    ("observer@a.example", "coord@a.example"),
    ("manager@a.example", "member@a.example"),
    ("coord@a.example", "manager@a.example"),
    ("assessor@a.example", "coord2@a.example"),
    ("admin@portal.example", "coord@a.example"),
]


@pytest.fixture
def shared(app, world, factory):
    """The process of ``build_process`` with a second reader of three kinds; the second
    manager owns an action of the cluster's plan and follows the programme."""
    factory.user("coord2@a.example", tenant=world["a"], role="coordinator", name="Cora Second")
    manager2 = factory.user(
        "manager2@a.example",
        tenant=world["a"],
        role="cluster_manager",
        clusters=[world["c1"]],
        name="Magnus Second",
    )
    factory.user("observer2@a.example", tenant=world["a"], role="observer", name="Olga Second")
    factory.user(
        "member2@a.example", tenant=world["a"], role="member", clusters=[world["c2"]], name="Mia"
    )
    process = build_process(app, world, actions=4)
    from portal.plans import services as plans

    with app.test_request_context(), tenant_scope(world["a"].id):
        plan = db.session.get(Plan, process.plan_id)
        owned = plans.create_action(
            None,
            plan,
            {
                "title": "Second manager's action",
                "owner_id": manager2.id,
                "due_date": TODAY + timedelta(days=20),
            },
        )
        process.owned_id = owned.id
    process.clients = {}
    for email in {email for pair in SAME_KIND + OTHER_KIND for email in pair}:
        client = app.test_client()
        login(client, email)
        client.get("/nordland/")  # a first visit keeps nothing: it starts the session's token
        process.clients[email] = client
    _post(
        process.clients["manager2@a.example"], f"/nordland/watch/programme/{process.programme_id}"
    )
    return process


def _post(client, url, **data):
    """A write, and a visit that shows (and so ends) its notice."""
    response = client.post(url, data=data or {"follow": "1"})
    assert response.status_code in (200, 302), (url, response.status_code)
    client.get("/nordland/")


def _urls(process, world) -> list[str]:
    return [
        f"/nordland/programmes/{process.programme_id}",
        f"/nordland/plans/{process.plan_id}",
        f"/nordland/plans/{process.joint_id}",
        f"/nordland/plans/{process.plan_id}?owner=me",
        f"/nordland/clusters/{world['c1'].id}",
        f"/nordland/clusters/{world['c2'].id}",
        "/nordland/labels/",
    ]


def _get(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.headers.get("X-Page-Cache"), TOKEN.sub(b"TOKEN", response.data)


def _difference(kept: bytes, fresh: bytes) -> tuple[bytes, bytes]:
    at = next((i for i, (a, b) in enumerate(zip(kept, fresh, strict=False)) if a != b), 0)
    return kept[max(0, at - 300) : at + 200], fresh[max(0, at - 300) : at + 200]


def _compare(app, process, urls, pairs) -> int:
    """For each pair and page: the second reader's answer after the first reader's visit
    equals an uncached render for the second reader. The number of answers kept for another."""
    cache = app.extensions[EXTENSION]
    shared_hits = 0
    for first, second in pairs:
        for url in urls:
            for headers in ({}, {"HX-Request": "true"}):
                cache.clear()
                _get(process.clients[first], url, **headers)
                source, kept = _get(process.clients[second], url, **headers)
                cache.clear()
                _fresh_source, fresh = _get(process.clients[second], url, **headers)
                assert kept == fresh, (first, second, url, headers, _difference(kept, fresh))
                shared_hits += source == "hit"
    return shared_hits


def test_every_shared_page_shows_each_reader_what_an_uncached_render_shows(app, world, shared):
    urls = _urls(shared, world)
    assert _compare(app, shared, urls, SAME_KIND + OTHER_KIND) > 0
    # Writes: the second manager starts their action; a coordinator follows the cluster's plan.
    manager2 = shared.clients["manager2@a.example"]
    edit = f"/nordland/actions/{shared.owned_id}/edit"
    _post(
        manager2,
        f"/nordland/actions/{shared.owned_id}/quick",
        status="in_progress",
        progress="30",
        version=version_on(manager2, edit),
    )
    _post(shared.clients["coord2@a.example"], f"/nordland/watch/plan/{shared.plan_id}")
    assert _compare(app, shared, urls, SAME_KIND + OTHER_KIND) > 0


def test_a_colleagues_first_visit_is_served_from_the_kept_page_with_their_own_header(
    app, world, shared
):
    url = f"/nordland/programmes/{shared.programme_id}"
    first = shared.clients["coord@a.example"]
    second = shared.clients["coord2@a.example"]
    app.extensions[EXTENSION].clear()
    assert first.get(url).headers.get("X-Page-Cache") is None
    answer = second.get(url)
    assert answer.headers["X-Page-Cache"] == "hit"
    page = answer.get_data(as_text=True)
    assert "Cora Second" in page and ">Coord<" not in page
    # The follow button is the reader's: the second manager follows the programme.
    follower = shared.clients["manager2@a.example"]
    shared.clients["manager@a.example"].get(url)
    followed = follower.get(url)
    assert followed.headers["X-Page-Cache"] == "hit"
    assert 'name="follow" value="0"' in followed.get_data(as_text=True)
    assert 'name="follow" value="1"' in shared.clients["manager@a.example"].get(url).get_data(
        as_text=True
    )
    # Each answer has its own ETag: the first reader's does not answer the second's 304.
    tag = first.get(url).headers["ETag"]
    assert second.get(url, headers={"If-None-Match": tag}).status_code == 200


def test_a_render_that_reads_who_the_reader_is_is_kept_for_that_reader_only(app, world, shared):
    """A member's view of another cluster's plan: of its rows, only those they own are theirs
    to edit (the owner's right), so the page is kept per reader, and a colleague of the same
    kind renders their own."""
    url = f"/nordland/plans/{shared.plan_id}"
    first = shared.clients["member@a.example"]
    second = shared.clients["member2@a.example"]
    app.extensions[EXTENSION].clear()
    first.get(url)
    assert second.get(url).headers.get("X-Page-Cache") is None  # not the first member's page
    assert second.get(url).headers["X-Page-Cache"] == "hit"  # but their own, kept
    # The cluster's managers manage every row: asked nothing of who they are, shared.
    shared.clients["manager@a.example"].get(url)
    assert shared.clients["manager2@a.example"].get(url).headers["X-Page-Cache"] == "hit"
