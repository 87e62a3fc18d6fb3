"""The front page and my work are kept under the versions of what they read (the front page:
portal.main.front_scopes ``READS``; my work: the reader's own actions, the plans' rows and the
reader's registrations): a cluster manager's page stays while other clusters work on their
actions and is renewed by a change to the manager's own clusters or own actions; a page with a
panel of the region's news (the coordinator's activity) is renewed by any write. Each kept
answer equals an uncached render."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.extensions import db
from portal.tenancy import cache_scopes
from portal.web.page_cache import EXTENSION
from tests import locking_support as build
from tests.conftest import ROLE_EMAILS, login
from tests.locking_support import today

TOKEN = re.compile(rb'(name="csrf_token" value="|"X-CSRFToken": ")[^"]+"')
FRONT = "/nordland/"


def _plan_of(app, world, cluster_key: str) -> int:
    from portal.clusters.models import Cluster
    from portal.plans import services

    def make(world):
        plan = services.create_plan(
            None,
            {"title": "Plan 2030", "start_date": today(), "end_date": today() + timedelta(365)},
            tenant_id=world["a"].id,
            cluster=db.session.get(Cluster, world[cluster_key].id),
        )
        db.session.commit()
        return plan.id

    return build.run(app, world, make)


def _user_id(app, world, role: str) -> int:
    from sqlalchemy import select

    from portal.accounts.models import User

    return build.run(
        app,
        world,
        lambda _w: db.session.scalar(select(User.id).where(User.email == ROLE_EMAILS[role])),
    )


def _new_action(app, world, plan_id: int, owner_id: int | None = None) -> int:
    from portal.plans import services
    from portal.plans.models import Plan

    def make(_world):
        data = {"title": "Export fair", "due_date": today() + timedelta(days=3)}
        if owner_id is not None:
            data["owner_id"] = owner_id
        action = services.create_action(None, db.session.get(Plan, plan_id), data)
        db.session.commit()
        return action.id

    return build.run(app, world, make)


def _change(app, world, action_id: int, **values) -> None:
    from portal.plans.models import Action

    def change(_world):
        action = db.session.get(Action, action_id)
        for name, value in values.items():
            setattr(action, name, value)
        db.session.commit()

    build.run(app, world, change)


def _signed_in(app, role: str):
    client = app.test_client()
    login(client, ROLE_EMAILS[role])
    client.get(FRONT)  # the first visit after signing in sets the session's token
    client.get(FRONT)
    return client


def _kept_and_right(app, client, url: str = FRONT) -> bool:
    """Whether the page came from the cache; either way it must equal a fresh render."""
    kept = client.get(url)
    cache = app.extensions.pop(EXTENSION)
    try:
        fresh = client.get(url)
    finally:
        app.extensions[EXTENSION] = cache
    assert kept.status_code == fresh.status_code == 200
    assert TOKEN.sub(b"", kept.data) == TOKEN.sub(b"", fresh.data)
    hit = kept.headers.get("X-Page-Cache") == "hit"
    client.get(url)  # keep it again for the next look
    return hit


def test_a_managers_front_page_stays_through_other_clusters_work(app, world):
    own, other = _plan_of(app, world, "c1"), _plan_of(app, world, "c2")
    manager_id = _user_id(app, world, "cluster_manager")
    theirs = _new_action(app, world, other)
    mine_elsewhere = _new_action(app, world, other)
    manager, coordinator = _signed_in(app, "cluster_manager"), _signed_in(app, "coordinator")
    assert _kept_and_right(app, manager) and _kept_and_right(app, coordinator)

    _change(app, world, theirs, progress=40)  # another cluster's action
    assert _kept_and_right(app, manager)
    assert not _kept_and_right(app, coordinator)  # its activity panel shows every change

    _change(app, world, mine_elsewhere, owner_id=manager_id)  # now the manager's to do
    assert not _kept_and_right(app, manager)
    _change(app, world, mine_elsewhere, progress=10, title="Export fair in Bodø")
    assert not _kept_and_right(app, manager)  # an action they own, in another cluster's plan
    _change(app, world, mine_elsewhere, owner_id=None)  # no longer theirs
    assert not _kept_and_right(app, manager)

    _new_action(app, world, own)  # the own cluster's plan: its progress
    assert not _kept_and_right(app, manager)
    _change(app, world, theirs, progress=50)
    assert _kept_and_right(app, manager)


def test_the_assessors_front_page_follows_the_work_not_the_progress(app, world):
    from portal.plans.models import ActionStatus

    action = _new_action(app, world, _plan_of(app, world, "c2"))
    assessor = _signed_in(app, "assessor")
    _change(app, world, action, progress=30)
    assert _kept_and_right(app, assessor)
    _change(app, world, action, status=ActionStatus.DONE)  # the plans' finishes move
    assert not _kept_and_right(app, assessor)


def test_the_scopes_each_role_reads(app, world):
    from portal.accounts.models import User
    from portal.main.front_scopes import page_scopes
    from portal.tenancy.models import Tenant

    def scopes(_world, role):
        from sqlalchemy import select

        user = db.session.scalar(select(User).where(User.email == ROLE_EMAILS[role]))
        return page_scopes(user, db.session.get(Tenant, world["a"].id), today())

    def read(role):
        return build.run(app, world, scopes, role)

    manager_id = _user_id(app, world, "cluster_manager")
    assert read("cluster_manager") == sorted(
        [
            cache_scopes.cluster(world["c1"].id),
            cache_scopes.owner(manager_id),
            cache_scopes.registrant(manager_id),
        ]
    )
    assert read("assessor") == [cache_scopes.WORK]
    assert read("observer") == [cache_scopes.PROGRAMMES]  # none running
    assert read("coordinator") is None  # the region's news


def _programme_with_plan(app, world, name: str, days: int) -> tuple[int, int]:
    from portal.plans import services as plans
    from portal.programmes import services

    def make(world):
        start = today() - timedelta(days=10)
        values = {"name": name, "start_date": start, "end_date": today() + timedelta(days)}
        programme = services.create_programme(None, values, world["a"].id)
        plan = plans.create_plan(
            None,
            {"title": f"{name}: joint", "start_date": start, "end_date": values["end_date"]},
            tenant_id=world["a"].id,
            programme=programme,
        )
        db.session.commit()
        return programme.id, plan.id

    return build.run(app, world, make)


def test_a_members_front_page_follows_the_programmes_it_shows(app, world):
    from portal.main.front_page import SHOWN

    made = [_programme_with_plan(app, world, f"Arena {n}", 30 + n) for n in range(SHOWN + 1)]
    (_first, first_plan), (_last, last_plan) = made[0], made[-1]
    shown, hidden = _new_action(app, world, first_plan), _new_action(app, world, last_plan)
    member, observer = _signed_in(app, "member"), _signed_in(app, "observer")
    assert (
        b"Arena 0" in member.get(FRONT).data and b"Arena %d" % SHOWN not in member.get(FRONT).data
    )

    _change(app, world, hidden, progress=60)  # a programme ending later than those shown
    assert _kept_and_right(app, member) and _kept_and_right(app, observer)
    _change(app, world, shown, progress=60)  # a shown programme's progress
    assert not _kept_and_right(app, member) and not _kept_and_right(app, observer)
    _programme_with_plan(app, world, "Arena soon", 5)  # a new programme, shown first
    assert not _kept_and_right(app, member) and not _kept_and_right(app, observer)


def test_my_work_follows_the_readers_own_actions_and_the_plans(app, world):
    from portal.plans.models import Plan

    other = _plan_of(app, world, "c2")
    manager_id = _user_id(app, world, "cluster_manager")
    theirs, mine = _new_action(app, world, other), _new_action(app, world, other, manager_id)
    manager = _signed_in(app, "cluster_manager")
    mine_url = "/nordland/my-work"
    manager.get(mine_url)
    assert _kept_and_right(app, manager, mine_url)

    _change(app, world, theirs, progress=40, title="Someone else's fair")
    assert _kept_and_right(app, manager, mine_url)
    _change(app, world, mine, progress=40)
    assert not _kept_and_right(app, manager, mine_url)
    _change(app, world, theirs, owner_id=manager_id)  # given to the manager
    assert not _kept_and_right(app, manager, mine_url)
    assert b"Someone else" in manager.get(mine_url).data

    def rename(_world):
        db.session.get(Plan, other).title = "Plan 2031"
        db.session.commit()

    build.run(app, world, rename)  # the plan's title stands beside each action
    assert not _kept_and_right(app, manager, mine_url)
    assert b"Plan 2031" in manager.get(mine_url).data


def _workshop_for_both(app, world, programme_id: int) -> int:
    from datetime import time

    from portal.workshops import services

    def make(world):
        workshop = services.create_workshop(
            None,
            {
                "title": "Export workshop",
                "day": today() + timedelta(days=12),
                "start_time": time(9, 30),
                "end_time": time(15, 0),
                "programme_id": programme_id,
            },
            world["a"].id,
        )
        services.invite(None, workshop, cluster_ids=[world["c1"].id, world["c2"].id])
        db.session.commit()
        return workshop.id

    return build.run(app, world, make)


def _register(app, world, role: str, workshop_id: int, cancel: bool = False) -> None:
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.workshops import services
    from portal.workshops.models import Workshop

    def act(_world):
        user = db.session.scalar(select(User).where(User.email == ROLE_EMAILS[role]))
        workshop = db.session.get(Workshop, workshop_id)
        (services.cancel if cancel else services.register)(user, workshop)

    build.run(app, world, act)


def test_a_registration_renews_the_registrants_pages_not_the_programmes(app, world):
    programme, _plan = _programme_with_plan(app, world, "Arena Export", 60)
    workshop = _workshop_for_both(app, world, programme)
    pages = {
        "coordinator": [
            f"/nordland/programmes/{programme}",
            f"/nordland/clusters/{world['c1'].id}",
        ],
        "cluster_manager": [FRONT, "/nordland/my-work"],
        "member": [FRONT, "/nordland/my-work"],
    }
    clients = {role: _signed_in(app, role) for role in pages}
    for role, urls in pages.items():
        for url in urls:
            clients[role].get(url)
            assert _kept_and_right(app, clients[role], url), (role, url)

    def kept() -> dict:
        return {
            (role, url): _kept_and_right(app, clients[role], url)
            for role, urls in pages.items()
            for url in urls
        }

    _register(app, world, "cluster_manager", workshop)
    found = kept()
    assert not found["cluster_manager", FRONT]  # invited: now registered
    assert not found["cluster_manager", "/nordland/my-work"]  # an upcoming workshop of theirs
    assert found["member", FRONT] and found["member", "/nordland/my-work"]
    assert found["coordinator", f"/nordland/programmes/{programme}"]
    assert found["coordinator", f"/nordland/clusters/{world['c1'].id}"]
    assert b"Export workshop" in clients["cluster_manager"].get("/nordland/my-work").data

    _register(app, world, "cluster_manager", workshop, cancel=True)
    found = kept()
    assert not found["cluster_manager", "/nordland/my-work"]
    assert found["member", "/nordland/my-work"]
    assert found["coordinator", f"/nordland/programmes/{programme}"]


def test_an_upload_to_confirm_leaves_the_kept_front_page_when_it_expires(app, world):
    """No write happens when an upload's time to confirm runs out: the kept page is kept until
    then only (portal.web.page_cache.keep_page_until), not for the cache's ten minutes."""
    from datetime import UTC, datetime

    import time_machine

    from portal.imports.models import PendingImport

    coordinator_id = _user_id(app, world, "coordinator")
    expires = datetime.now(UTC) + timedelta(minutes=5)

    def upload(w):
        pending = PendingImport(
            tenant_id=w["a"].id,
            token="t" * 43,
            kind="members",
            target=f"cluster:{w['c1'].id}",
            options={},
            user_id=coordinator_id,
            filename="members-2030.csv",
            storage_key="imports/members-2030",
            size=10,
            rows=3,
            sha256="0" * 64,
            digest="0" * 64,
            checked=True,
            expires_at=expires,
        )
        db.session.add(pending)
        db.session.commit()

    build.run(app, world, upload)
    coordinator = _signed_in(app, "coordinator")
    assert _kept_and_right(app, coordinator)
    assert "members-2030.csv" in coordinator.get(FRONT).get_data(as_text=True)
    with time_machine.travel(expires + timedelta(minutes=1), tick=False):
        assert not _kept_and_right(app, coordinator)
        assert "members-2030.csv" not in coordinator.get(FRONT).get_data(as_text=True)
        assert _kept_and_right(app, coordinator)  # kept again, with nothing to expire
