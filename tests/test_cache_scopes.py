"""Invalidation that matches what changed: a write bumps the versions of the scopes it touches
(portal.tenancy.cache_scopes), and a page keyed on scopes is renewed only by those. A kept page
is never another user's and never older than an uncached render."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.tenancy import cache_scopes, tenant_scope
from portal.tenancy.models import CacheVersion
from portal.web.page_cache import EXTENSION
from tests import locking_support as build
from tests.conftest import ROLE_EMAILS, login
from tests.locking_support import today
from tests.redis_support import REDIS_URL, needs_redis, redis_client

TOKEN = re.compile(rb'(name="csrf_token" value="|"X-CSRFToken": ")[^"]+"')


def _visit(client, url):
    client.get(url)
    return client.get(url)


def _programmes(app, world):
    from portal.programmes import services

    def make(_world):
        start = today()
        return [
            services.create_programme(
                None,
                {"name": name, "start_date": start, "end_date": start + timedelta(days=90)},
                world["a"].id,
            ).id
            for name in ("Arena North", "Arena South")
        ]

    return build.run(app, world, make)


def _add_milestone(app, world, programme_id, title):
    from portal.programmes import services
    from portal.programmes.models import Programme

    def add(_world):
        programme = db.session.get(Programme, programme_id)
        services.add_milestone(None, programme, {"title": title, "due_date": today()})
        db.session.commit()

    build.run(app, world, add)


def _add_action(app, world, plan_id):
    from portal.plans import services
    from portal.plans.models import Plan

    def add(_world):
        services.create_action(None, db.session.get(Plan, plan_id), {"title": "Export fair"})
        db.session.commit()

    build.run(app, world, add)


def _versions(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        rows = db.session.execute(
            select(CacheVersion.scope_key, CacheVersion.version).where(
                CacheVersion.tenant_id == tenant_id
            )
        )
        return dict(rows.all())


def test_a_write_to_one_programme_keeps_the_others_page(app, client, world):
    north, south = _programmes(app, world)
    login(client, ROLE_EMAILS["coordinator"])
    north_url, south_url = f"/nordland/programmes/{north}", f"/nordland/programmes/{south}"
    _visit(client, north_url)
    kept_south = _visit(client, south_url)
    assert client.get(south_url).headers.get("X-Page-Cache") == "hit"
    before = _versions(app, world["a"].id)

    _add_milestone(app, world, north, "Kick-off in Bodø")

    after = _versions(app, world["a"].id)
    assert after[cache_scopes.programme(north)] > before.get(cache_scopes.programme(north), 0)
    assert after.get(cache_scopes.REGION) == before.get(cache_scopes.REGION)
    south_again = client.get(south_url)
    assert south_again.headers.get("X-Page-Cache") == "hit"
    assert TOKEN.sub(b"", south_again.data) == TOKEN.sub(b"", kept_south.data)
    north_again = client.get(north_url)
    assert north_again.headers.get("X-Page-Cache") is None
    assert "Kick-off in Bodø" in north_again.get_data(as_text=True)


def test_an_unlisted_write_renews_every_page_of_the_region(app, client, world):
    north, _south = _programmes(app, world)
    login(client, ROLE_EMAILS["coordinator"])
    url = f"/nordland/programmes/{north}"
    _visit(client, url)
    with app.test_request_context(), tenant_scope(world["a"].id):
        from portal.clusters.models import Cluster

        db.session.get(Cluster, world["c1"].id).name = "Renamed Minerals"
        db.session.commit()
    assert client.get(url).headers.get("X-Page-Cache") is None


def test_the_page_is_per_user_not_per_session(app, world):
    north, _south = _programmes(app, world)
    url = f"/nordland/programmes/{north}"
    first, second = app.test_client(), app.test_client()
    login(first, ROLE_EMAILS["coordinator"])
    login(second, ROLE_EMAILS["coordinator"])
    _visit(first, url)
    page = second.get(url)
    assert page.headers.get("X-Page-Cache") == "hit"
    # Each session gets its own CSRF token put back in, never the one the page was rendered with.
    with second.session_transaction() as session:
        raw = session["csrf_token"]
    with first.session_transaction() as session:
        assert session["csrf_token"] != raw
    tokens = {m.group(0) for m in TOKEN.finditer(page.data)}
    assert tokens
    from itsdangerous import URLSafeTimedSerializer

    signer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    for token in tokens:
        value = token.rsplit(b'"', 2)[-2].decode()
        assert signer.loads(value) == raw
    # And it posts: a form on the kept page is accepted with the token it carries.
    assert b"\x00" not in page.data


def _pages(app, world):
    north, south = _programmes(app, world)
    plan = build.run(app, world, build.plan)["id"]
    return (
        north,
        plan,
        [
            "/nordland/",
            f"/nordland/clusters/{world['c1'].id}",
            f"/nordland/clusters/{world['c2'].id}",
            f"/nordland/programmes/{north}",
            f"/nordland/programmes/{south}",
            f"/nordland/plans/{plan}",
            "/nordland/my-work",
            "/nordland/labels/",
        ],
    )


@pytest.mark.parametrize("roles", [("coordinator", "observer"), ("cluster_manager", "member")])
def test_every_kept_page_matches_an_uncached_render_after_a_write(app, world, roles):
    north, plan, urls = _pages(app, world)
    clients = {}
    for role in roles:
        clients[role] = app.test_client()
        login(clients[role], ROLE_EMAILS[role])
        for url in urls:
            _visit(clients[role], url)

    _add_milestone(app, world, north, "Site visit")

    _add_action(app, world, plan)
    hits = 0
    for role, client in clients.items():
        for url in urls:
            kept = client.get(url)
            hits += kept.headers.get("X-Page-Cache") == "hit"
            cache = app.extensions.pop(EXTENSION)
            try:
                fresh = client.get(url)
            finally:
                app.extensions[EXTENSION] = cache
            assert kept.status_code == fresh.status_code, (role, url)
            assert TOKEN.sub(b"", kept.data) == TOKEN.sub(b"", fresh.data), (role, url)
    # The other programme's page stayed for both (a plan of no programme got the action).
    assert hits >= 2


# --- Redis: pages shared by every worker and host -------------------------------------------


@pytest.mark.redis
@needs_redis
def test_pages_kept_in_redis_serve_another_worker_and_a_bump_misses(make_app, world):
    settings = {"REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": "portal-test-pages"}
    one, two = make_app(settings), make_app(settings)  # two workers
    assert one.extensions[EXTENSION].kind == "redis"
    one.extensions[EXTENSION].clear()
    north, south = _programmes(one, world)
    first, second = one.test_client(), two.test_client()
    login(first, ROLE_EMAILS["coordinator"])
    login(second, ROLE_EMAILS["coordinator"])
    url = f"/nordland/programmes/{north}"
    _visit(first, url)
    keys = redis_client().keys(f"portal-test-pages:page:{world['a'].id}:*")
    assert keys and all(redis_client().ttl(key) > 0 for key in keys)
    assert second.get(url).headers.get("X-Page-Cache") == "hit"  # the other worker's page
    _add_milestone(one, world, north, "Fair in Tromsø")
    renewed = second.get(url)
    assert renewed.headers.get("X-Page-Cache") is None
    assert "Fair in Tromsø" in renewed.get_data(as_text=True)
    one.extensions[EXTENSION].clear()


def test_the_label_register_stays_through_action_writes_and_renews_with_a_label(app, world):
    from portal.labels.models import Label

    plan = build.run(app, world, build.plan)["id"]
    client = app.test_client()
    login(client, ROLE_EMAILS["coordinator"])
    url = "/nordland/labels/"
    _visit(client, url)

    _add_action(app, world, plan)
    assert client.get(url).headers.get("X-Page-Cache") == "hit"

    def award(_world):
        db.session.add(
            Label(
                cluster_id=world["c1"].id,
                scheme="esca",
                scheme_version="2013",
                level="bronze",
                awarded_on=today() - timedelta(days=3),
                expires_on=today() + timedelta(days=700),
            )
        )
        db.session.commit()

    build.run(app, world, award)
    renewed = client.get(url)
    assert renewed.headers.get("X-Page-Cache") is None
    assert b"Arctic Minerals" in renewed.data


def test_a_clusters_page_is_renewed_by_its_own_actions_and_kept_through_others(app, world):
    from portal.plans import services
    from portal.plans.models import Action, ActionStatus, Plan

    plan = build.run(app, world, build.plan)["id"]  # the first cluster's plan
    programme = _programmes(app, world)[0]
    client = app.test_client()
    login(client, ROLE_EMAILS["coordinator"])
    first, second = (f"/nordland/clusters/{world[c].id}" for c in ("c1", "c2"))

    def visits() -> tuple[bool, bool]:
        """Whether each cluster's page was kept since the last call (and keep both again)."""
        kept = tuple(
            client.get(url).headers.get("X-Page-Cache") == "hit" for url in (first, second)
        )
        for url in (first, second):
            client.get(url)
        return kept

    for url in (first, second):
        _visit(client, url)
    assert visits() == (True, True)
    _add_action(app, world, plan)
    assert visits() == (False, True)

    def shared_action(_world):
        made = services.create_action(
            None, db.session.get(Plan, plan), {"title": "Shared fair"}, [world["c2"].id]
        )
        db.session.commit()
        return made.id

    action_id = build.run(app, world, shared_action)
    assert visits() == (False, False)  # tied to the second cluster: its page too

    def finish(_world):
        db.session.get(Action, action_id).status = ActionStatus.DONE
        db.session.commit()

    build.run(app, world, finish)  # a change of the action: the clusters it was tied to
    assert visits() == (False, False)
    _add_milestone(app, world, programme, "Kick-off")
    assert visits() == (False, False)  # a programme's own row: the programmes' scope


def test_a_comment_keeps_the_pages_that_do_not_show_comments(app, world):
    """A comment shows on its action's page (not kept) and in the region's activity (keyed on
    every write): the programme, plan and cluster pages stay, and still match uncached renders."""
    from portal.plans import services
    from portal.programmes.models import Programme

    north, _south = _programmes(app, world)

    def joint_work(_world):
        programme = db.session.get(Programme, north)
        plan = services.create_plan(
            None,
            {
                "title": "Joint export plan",
                "start_date": today(),
                "end_date": today() + timedelta(days=60),
            },
            tenant_id=world["a"].id,
            programme=programme,
        )
        action = services.create_action(None, plan, {"title": "Trade fair"}, [world["c1"].id])
        db.session.commit()
        return plan.id, action.id

    plan_id, action_id = build.run(app, world, joint_work)
    client = app.test_client()
    login(client, ROLE_EMAILS["coordinator"])
    urls = [
        f"/nordland/programmes/{north}",
        f"/nordland/plans/{plan_id}",
        f"/nordland/clusters/{world['c1'].id}",
    ]
    kept_before = {url: _visit(client, url) for url in urls}
    before = _versions(app, world["a"].id)

    posted = client.post(f"/nordland/actions/{action_id}/comments", data={"body": "Booth booked"})
    assert posted.status_code in (200, 302, 303)
    assert "Booth booked" in client.get(f"/nordland/actions/{action_id}").get_data(as_text=True)

    after = _versions(app, world["a"].id)
    for scope in (
        cache_scopes.REGION,
        cache_scopes.WORK,
        cache_scopes.programme(north),
        cache_scopes.plan(plan_id),
        cache_scopes.cluster(world["c1"].id),
    ):
        assert after.get(scope) == before.get(scope), scope
    for url in urls:
        kept = client.get(url)
        assert kept.headers.get("X-Page-Cache") == "hit", url
        assert TOKEN.sub(b"", kept.data) == TOKEN.sub(b"", kept_before[url].data), url
        cache = app.extensions.pop(EXTENSION)
        try:
            fresh = client.get(url)
        finally:
            app.extensions[EXTENSION] = cache
        assert TOKEN.sub(b"", kept.data) == TOKEN.sub(b"", fresh.data), url


def test_the_work_on_indicators_moves_only_with_an_action_aimed_at_one(app, world):
    """``aims`` (the improvement summaries, the programme page's frame, the scorecard) moves
    with ``work`` only when the action written is aimed at an indicator, or its aims change;
    a status change of an action aimed at nothing moves ``work`` alone."""
    from portal.improvement.links import set_action_indicators
    from portal.plans import services
    from portal.plans.models import Action, ActionStatus
    from portal.programmes.models import Programme
    from portal.tenancy.cache_scopes import AIMS, WORK
    from tests.improvement_support import ENGAGEMENT

    north, _south = _programmes(app, world)

    def plan_with_action(_world):
        programme = db.session.get(Programme, north)
        days = {"start_date": today(), "end_date": today() + timedelta(days=60)}
        plan = services.create_plan(
            None, {"title": "Export plan", **days}, tenant_id=world["a"].id, programme=programme
        )
        action = services.create_action(None, plan, {"title": "Trade fair"})
        db.session.commit()
        return action.id

    action_id = build.run(app, world, plan_with_action)

    def write(change):
        def run(_world):
            change(db.session.get(Action, action_id))
            db.session.commit()

        before = _versions(app, world["a"].id)
        build.run(app, world, run)
        after = _versions(app, world["a"].id)
        return {scope for scope in (WORK, AIMS) if after.get(scope, 0) != before.get(scope, 0)}

    assert write(lambda action: setattr(action, "status", ActionStatus.IN_PROGRESS)) == {WORK}
    assert write(lambda action: setattr(action, "title", "Trade fair in Bodø")) == {WORK}
    assert write(lambda action: setattr(action, "progress", 30)) == set()
    assert write(lambda action: set_action_indicators(action, [ENGAGEMENT])) == {WORK, AIMS}
    assert write(lambda action: setattr(action, "status", ActionStatus.DONE)) == {WORK, AIMS}
    assert write(lambda action: setattr(action, "progress", 90)) == set()
    assert write(lambda action: db.session.delete(action)) == {WORK, AIMS}
