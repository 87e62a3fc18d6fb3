"""The page cache: a revisit is served without rendering, and never shows older data, another
user's page or a flash message twice."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import Membership, User
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant
from portal.web.page_cache import CachedPage, PageCache
from tests.conftest import USE_POSTGRES, count_queries, login
from tests.locking_support import version_on
from tests.redis_support import REDIS_URL, needs_redis, redis_client
from tests.test_cache_scopes import TOKEN, _programmes

CLUSTER_PAGE = "/nordland/clusters/{id}"


def _visit(client, url):
    """Two visits: the first may set session values (not kept), the second is stored."""
    client.get(url)
    return client.get(url)


def _version(app, tenant_id):
    with app.app_context():
        return db.session.get(Tenant, tenant_id).data_version


def test_a_revisit_is_served_from_the_cache_with_fewer_queries(app, client, world):
    login(client, "coord@a.example")
    url = CLUSTER_PAGE.format(id=world["c1"].id)
    rendered = _visit(client, url)
    assert rendered.headers.get("X-Page-Cache") is None
    with count_queries(app, cold=False) as statements:
        revisit = client.get(url)
    assert revisit.headers["X-Page-Cache"] == "hit"
    assert TOKEN.sub(b"", revisit.data) == TOKEN.sub(b"", rendered.data)  # tokens: per second
    assert revisit.mimetype == "text/html"
    # Only the request's own loading: the tenant (with its data version) and the user (the
    # membership check and the reader's kind are kept by that version too), and the versions
    # of the page's scopes and the reader's inbox: the page is kept for every reader of its
    # kind, the header's unread count is filled for this one, kept by their inbox's version.
    assert len(statements) == 3
    assert "Content-Security-Policy" in revisit.headers


def test_a_write_through_the_app_shows_at_once(app, client, world):
    login(client, "coord@a.example")
    url = CLUSTER_PAGE.format(id=world["c1"].id)
    edit = f"/nordland/clusters/{world['c1'].id}/edit"
    version = version_on(client, edit)
    _visit(client, url)
    before = _version(app, world["a"].id)
    response = client.post(edit, data={"name": "Renamed Minerals", "version": version})
    assert response.status_code == 302
    assert _version(app, world["a"].id) > before
    page = client.get(url)
    assert b"Renamed Minerals" in page.data
    assert page.headers.get("X-Page-Cache") is None


def test_a_write_in_another_region_keeps_this_regions_pages(app, client, world, factory):
    login(client, "coord@a.example")
    url = CLUSTER_PAGE.format(id=world["c1"].id)
    _visit(client, url)
    before_b = _version(app, world["b"].id)
    factory.cluster(world["b"], "Bravo Cluster")
    assert _version(app, world["b"].id) > before_b
    assert client.get(url).headers.get("X-Page-Cache") == "hit"


def test_orm_changes_and_bulk_updates_bump_the_version(app, world):
    tenant_id = world["a"].id
    before = _version(app, tenant_id)
    with app.test_request_context(), tenant_scope(tenant_id):
        db.session.get(Cluster, world["c1"].id).sector = "Quarrying"
        db.session.commit()
    after_orm = _version(app, tenant_id)
    assert after_orm > before
    with app.test_request_context(), tenant_scope(tenant_id):
        db.session.execute(update(Cluster).values(sector="Fishing"))
        db.session.commit()
    assert _version(app, tenant_id) > after_orm
    after_update = _version(app, tenant_id)
    with app.test_request_context(), tenant_scope(tenant_id):
        db.session.execute(
            insert(Cluster), [{"tenant_id": tenant_id, "name": "Bulk Cluster", "sector": ""}]
        )
        db.session.commit()
    assert _version(app, tenant_id) > after_update
    latest = _version(app, tenant_id)
    # Nothing changed in the session: no bump.
    with app.test_request_context(), tenant_scope(tenant_id):
        db.session.get(Cluster, world["c1"].id)
        db.session.commit()
    assert _version(app, tenant_id) == latest


def test_a_renamed_user_bumps_their_regions(app, client, world):
    login(client, "coord@a.example")
    url = "/nordland/people"
    _visit(client, url)
    a, b = _version(app, world["a"].id), _version(app, world["b"].id)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "observer@a.example"))
        user.name = "Olga Observer-Renamed"
        db.session.commit()
    assert _version(app, world["a"].id) > a
    assert _version(app, world["b"].id) == b  # not a member there


def test_each_user_gets_their_own_page(app, world):
    url = CLUSTER_PAGE.format(id=world["c1"].id)
    coordinator, observer = app.test_client(), app.test_client()
    login(coordinator, "coord@a.example")
    login(observer, "observer@a.example")
    coordinators_page = _visit(coordinator, url).data
    observers_page = observer.get(url)
    assert observers_page.headers.get("X-Page-Cache") is None
    assert observers_page.data != coordinators_page
    assert b"/edit" in coordinators_page and b"/edit" not in observers_page.data


def test_a_removed_member_gets_404_not_the_cached_page(app, client, world):
    login(client, "observer@a.example")
    url = CLUSTER_PAGE.format(id=world["c1"].id)
    assert _visit(client, url).status_code == 200
    with app.test_request_context(), tenant_scope(world["a"].id):
        user = db.session.scalar(select(User).where(User.email == "observer@a.example"))
        db.session.delete(
            db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        )
        db.session.commit()
    assert client.get(url).status_code == 404


def test_a_flash_message_is_shown_once(app, client, world):
    login(client, "coord@a.example")
    url = CLUSTER_PAGE.format(id=world["c1"].id)
    edit = f"/nordland/clusters/{world['c1'].id}/edit"
    version = version_on(client, edit)
    _visit(client, url)
    client.post(edit, data={"name": "Flashy Minerals", "version": version})
    with_flash = client.get(url)
    assert b"The changes are saved" in with_flash.data
    assert with_flash.headers.get("X-Page-Cache") is None
    again = _visit(client, url)
    assert b"The changes are saved" not in again.data


def test_the_cache_can_be_turned_off(make_app, world):
    app = make_app({"PAGE_CACHE_MB": 0})
    client = app.test_client()
    login(client, "coord@a.example")
    assert (
        _visit(client, CLUSTER_PAGE.format(id=world["c1"].id)).headers.get("X-Page-Cache") is None
    )


def test_the_language_is_part_of_the_key(app, client, world):
    login(client, "coord@a.example")
    url = CLUSTER_PAGE.format(id=world["c1"].id)
    english = _visit(client, url)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        user.locale = "nb"
        db.session.commit()
    norwegian = client.get(url)
    assert norwegian.headers.get("X-Page-Cache") is None
    assert norwegian.data != english.data


@pytest.mark.parametrize("size", [100, 300])
def test_the_cache_keeps_to_its_byte_budget(size):
    cache = PageCache(max_bytes=1000, max_age_s=60)
    for i in range(20):
        cache.put(("page", i), CachedPage(b"x" * size, (), 0.0 + 1e12))
    kept = sum(len(cache._pages[k].body) for k in cache._pages)
    assert kept <= 1000
    if size == 300:
        assert len(cache) == 0  # larger than a quarter of the budget: never kept
    else:
        assert cache.get(("page", 19)) is not None and cache.get(("page", 0)) is None


def test_entries_expire():
    cache = PageCache(max_bytes=1000, max_age_s=0)
    cache.put(("page",), CachedPage(b"x", (), 0.0))
    assert cache.get(("page",)) is None


def test_a_page_kept_until_a_moment_goes_then():
    cache = PageCache(max_bytes=1000, max_age_s=600)
    cache.put(("soon",), CachedPage(b"x", (), time.monotonic(), until=time.time() + 60))
    cache.put(("gone",), CachedPage(b"x", (), time.monotonic(), until=time.time() - 1))
    assert cache.get(("soon",)) is not None and cache.get(("gone",)) is None
    page = CachedPage(b"body", (("ETag", '"1"'),), 0.0, until=1234.5)
    assert CachedPage.loads(page.dumps()).until == 1234.5


@pytest.mark.redis
@needs_redis
def test_redis_keeps_a_page_until_its_moment_at_most():
    from portal.web.page_store import RedisPageCache

    redis_client().flushdb()
    cache = RedisPageCache(REDIS_URL, "portal-test-until", PageCache(1000, 600))
    cache.put(("soon",), CachedPage(b"x", (), time.monotonic(), until=time.time() + 30))
    cache.put(("later",), CachedPage(b"x", (), time.monotonic()))
    assert 0 < redis_client().ttl(cache.key(("soon",))) <= 30
    assert redis_client().ttl(cache.key(("later",))) > 500
    assert cache.get(("soon",)).until is not None
    redis_client().flushdb()


def test_one_bump_per_transaction_and_again_after_a_rolled_back_savepoint(app, world):
    tenant_id = world["a"].id
    before = _version(app, tenant_id)
    with app.test_request_context(), tenant_scope(tenant_id):
        cluster = db.session.get(Cluster, world["c1"].id)
        cluster.sector = "One"
        db.session.flush()
        cluster.sector = "Two"
        db.session.flush()
        db.session.commit()
    assert _version(app, tenant_id) == before + 1
    with app.test_request_context(), tenant_scope(tenant_id):
        cluster = db.session.get(Cluster, world["c1"].id)
        savepoint = db.session.begin_nested()
        cluster.sector = "Undone"
        db.session.flush()
        savepoint.rollback()
        cluster = db.session.get(Cluster, world["c1"].id)
        cluster.sector = "Kept"
        db.session.commit()
    assert _version(app, tenant_id) == before + 2


@pytest.mark.skipif(not USE_POSTGRES, reason="row locks: PostgreSQL")
def test_crossing_writers_of_one_tenant_queue_instead_of_deadlocking(app, world):
    """T1 writes cluster 1, then cluster 2; T2 writes cluster 2 in between. The version rows
    are bumped only just before each commit (portal.tenancy.versioning), so neither holds them
    while it waits for the other: no deadlock. Whichever read cluster 2 before the other
    changed it saves a stale version: optimistic locking refuses it (StaleDataError, a 409 for
    a person), which is no deadlock."""
    tenant_id = world["a"].id
    first_written = threading.Event()
    errors: list[BaseException] = []

    def write(cluster_ids, wait_for=None, then=None, pause=0.0):
        try:
            with app.test_request_context(), tenant_scope(tenant_id):
                for i, cluster_id in enumerate(cluster_ids):
                    if i == 1 and pause:
                        time.sleep(pause)  # T2 is blocked on the tenant row by now
                    if wait_for is not None:
                        wait_for.wait(5)
                    db.session.get(Cluster, cluster_id).sector = f"sector {threading.get_ident()}"
                    db.session.flush()
                    if then is not None:
                        then.set()
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    c1, c2 = world["c1"].id, world["c2"].id
    t1 = threading.Thread(
        target=write, args=([c1, c2],), kwargs={"then": first_written, "pause": 0.5}
    )
    t2 = threading.Thread(target=write, args=([c2],), kwargs={"wait_for": first_written})
    t1.start()
    t2.start()
    t1.join(20)
    t2.join(20)
    assert not t1.is_alive() and not t2.is_alive()
    assert all(isinstance(exc, StaleDataError) for exc in errors), errors
    assert len(errors) <= 1  # at most one stale save; the other commits


def test_signing_in_keeps_the_cached_pages(app, client, world):
    before = _version(app, world["a"].id)
    login(client, "coord@a.example")
    assert _version(app, world["a"].id) == before


def test_switching_a_plugin_off_takes_effect_at_once(app, client, world, factory):
    factory.enable_plugin(world["a"], "cluster_facts")
    login(client, "coord@a.example")
    assert _visit(client, "/nordland/facts/").status_code == 200
    factory.enable_plugin(world["a"], "cluster_facts", enabled=False)
    assert client.get("/nordland/facts/").status_code == 404
    factory.enable_plugin(world["a"], "cluster_facts")
    assert client.get("/nordland/facts/").status_code == 200


def test_a_deactivated_user_is_signed_out_despite_the_kept_access(app, client, world):
    login(client, "observer@a.example")
    url = CLUSTER_PAGE.format(id=world["c1"].id)
    assert _visit(client, url).status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "observer@a.example"))
        user.active = False
        db.session.commit()
    assert client.get(url).status_code == 302  # to the sign-in page


def test_a_kept_page_answers_its_etag_with_304_and_ignores_if_match(app, client, world):
    login(client, "coord@a.example")
    url = CLUSTER_PAGE.format(id=world["c1"].id)
    kept = _visit(client, url)
    tag = kept.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.headers["X-Page-Cache"] == "hit"
    assert again.status_code == 304
    # A precondition on a read asks nothing of the page: the kept page answers as the view
    # would (200), not 412 as a strong comparison of If-Match against a weak tag would.
    for if_match in ("*", tag, '"something-else"'):
        read = client.get(url, headers={"If-Match": if_match})
        assert read.headers["X-Page-Cache"] == "hit"
        assert read.status_code == 200, if_match
        # The same page; each answer signs the session's CSRF token anew (its second).
        assert TOKEN.sub(b"", read.data) == TOKEN.sub(b"", kept.data)


def test_the_header_count_and_the_follow_button_of_a_kept_page_follow_their_changes(
    app, client, world
):
    """Filled in for each answer of a kept page, both are kept by the versions they come
    from: a notification (the inbox), "all read" (a bulk write: the region), a follow."""
    from portal.notifications.services import notify

    login(client, "coord@a.example")
    programme_id = _programmes(app, world)[0]
    url = f"/nordland/programmes/{programme_id}"
    _visit(client, url)
    first = client.get(url)
    assert first.headers.get("X-Page-Cache") == "hit"
    assert b"notification-count" not in first.data

    with app.test_request_context(), tenant_scope(world["a"].id):
        coordinator = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        notify([coordinator], "mention", tenant_id=world["a"].id, params={"title": "x"})
        db.session.commit()
    told = client.get(url)
    assert told.headers.get("X-Page-Cache") == "hit"  # a notification renews no page
    assert b'notification-count">1<' in told.data

    client.post("/nordland/notifications/read")
    assert b"notification-count" not in client.get(url).data

    assert b"You hear of its changes." not in client.get(url).data
    client.post(f"/nordland/watch/programme/{programme_id}", data={"follow": "1"})
    assert b"You hear of its changes." in client.get(url).data
    client.post(f"/nordland/watch/programme/{programme_id}", data={"follow": "0"})
    assert b"You hear of its changes." not in client.get(url).data


def test_a_revisit_after_an_action_written_elsewhere_loads_no_more(app, client, world):
    """The reader's kind (role, clusters, privacy decision) and the sharing choices are kept
    by the region's own version: a write to an action elsewhere keeps them. Only the access
    check (kept by the data version, read before the page's versions) loads the membership
    again: four statements, not six."""
    from tests import locking_support as build
    from tests.test_cache_scopes import _add_action

    plan_id = build.run(app, world, build.plan)["id"]  # the first cluster's
    login(client, "coord@a.example")
    url = CLUSTER_PAGE.format(id=world["c2"].id)
    _visit(client, url)
    _add_action(app, world, plan_id)
    with count_queries(app, cold=False) as statements:
        revisit = client.get(url)
    assert revisit.headers["X-Page-Cache"] == "hit"
    assert len(statements) == 4, [q[:60] for q in statements]

    with app.test_request_context(), tenant_scope(world["a"].id):
        membership = db.session.scalar(
            select(Membership).join(User).where(User.email == "coord@a.example")
        )
        membership.role = "observer"  # another kind of reader now
        db.session.commit()
    renewed = client.get(url)
    assert renewed.headers.get("X-Page-Cache") is None


def test_a_readers_parts_are_rendered_once_for_their_revisits(app, client, world, monkeypatch):
    """The header's links and the follow button of a kept page are kept per reader and
    address; each answer still carries the session's own token."""
    from portal.web import personal

    rendered = []
    real = personal.render_template
    monkeypatch.setattr(
        personal, "render_template", lambda name, **c: rendered.append(name) or real(name, **c)
    )
    login(client, "coord@a.example")
    programme_id = _programmes(app, world)[0]
    url = f"/nordland/programmes/{programme_id}"
    _visit(client, url)
    rendered.clear()
    first, second = client.get(url), client.get(url)
    assert first.headers["X-Page-Cache"] == second.headers["X-Page-Cache"] == "hit"
    assert rendered == []  # both parts kept since the visit before
    with client.session_transaction() as session:
        token = session["csrf_token"]
    from itsdangerous import URLSafeTimedSerializer

    signer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    values = [m.group(0).rsplit(b'"', 2)[-2].decode() for m in TOKEN.finditer(second.data)]
    assert values and all(signer.loads(value) == token for value in values)
    client.get(f"{url}?page=1")
    assert "notifications/_watch_part.html" in rendered  # another address: its own button
