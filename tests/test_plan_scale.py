"""The plan page and "my work" at scale: bounded rows and options, constant queries,
filters that do not list every person or cluster, and the same permissions as before."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.plans.models import Action, ActionCluster, ActionStatus, Plan, PlanKind
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import count_queries, login, queries_per_page
from tests.process_support import TODAY, build_process

PER_PAGE = 20
TIMELINE_BARS = 10


@pytest.fixture
def process(app, world):
    return build_process(app, world, actions=5)


def _user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def _add_actions(app, tenant_id, plan_id, count, *, owner_id=None, cluster_id=None, **values):
    """Bulk actions (with a responsible cluster) straight into the tables."""
    with app.test_request_context(), tenant_scope(tenant_id):
        start = db.session.query(Action).count()
        actions = [
            Action(
                tenant_id=tenant_id,
                plan_id=plan_id,
                title=values.get("title", "Bulk {i:03d}").format(i=start + i),
                owner_id=owner_id,
                start_date=TODAY - timedelta(days=5),
                due_date=values.get("due_date", TODAY + timedelta(days=(start + i) % 90)),
                status=values.get("status", ActionStatus.PLANNED),
            )
            for i in range(count)
        ]
        db.session.add_all(actions)
        db.session.flush()
        if cluster_id is not None:
            db.session.add_all(
                ActionCluster(tenant_id=tenant_id, action_id=a.id, cluster_id=cluster_id)
                for a in actions
            )
        db.session.commit()
        return [a.id for a in actions]


def _bravo_plan(app, world, cluster_id: int) -> int:
    """An individual plan of the other region's cluster."""
    with app.test_request_context(), tenant_scope(world["b"].id):
        plan = Plan(
            tenant_id=world["b"].id,
            kind=PlanKind.INDIVIDUAL,
            cluster_id=cluster_id,
            title="Bravo plan",
            start_date=TODAY,
            end_date=TODAY + timedelta(days=100),
        )
        db.session.add(plan)
        db.session.commit()
        return plan.id


def _rows(page: str) -> int:
    return page.count('<tr id="action-')


def _measure(app, client, urls) -> dict[str, int]:
    return queries_per_page(app, client, urls)


# --- the plan page ----------------------------------------------------------------------


def test_plan_page_is_paged_and_its_timeline_bounded(client, app, world, process):
    manager = _user_id(app, "manager@a.example")
    _add_actions(app, world["a"].id, process.plan_id, 60, owner_id=manager)
    login(client, "coord@a.example")
    url = f"/nordland/plans/{process.plan_id}"
    page = client.get(url).get_data(as_text=True)
    assert _rows(page) == PER_PAGE
    tokens = re.findall(r'name="csrf_token" value="([^"]*)"', page.split('id="actions"')[1])
    assert len(tokens) >= PER_PAGE and all(re.fullmatch(r"[\w.-]+", t) for t in tokens)
    assert "Showing 1–20 of 65" in page and 'rel="next"' in page
    assert page.count('rx="3"') == TIMELINE_BARS  # the bars (milestones are diamonds)
    assert "The picture shows the first 10 actions of this page" in page
    last = client.get(url + "?page=4").get_data(as_text=True)
    assert _rows(last) == 5 and "Showing 61–65 of 65" in last
    # Beyond the last page, nonsense and negative pages: the nearest page, never an error.
    for bad in ("?page=99", "?page=abc", "?page=-3", "?page=0&per_page=100000"):
        response = client.get(url + bad)
        assert response.status_code == 200, bad
        assert 0 < _rows(response.get_data(as_text=True)) <= PER_PAGE


def test_plan_page_does_not_offer_every_person_and_cluster(client, app, world, process):
    """The owner filter offers "me" and "nobody"; people and clusters are found by search."""
    login(client, "coord@a.example")
    page = client.get(f"/nordland/plans/{process.plan_id}").get_data(as_text=True)
    owner_select = re.search(r'<select id="f-owner".*?</select>', page, re.S).group(0)
    assert owner_select.count("<option") == 3
    assert 'id="f-cluster"' not in page  # only when a link filters by a cluster
    assert 'type="search"' in page and 'name="q"' in page
    filters = re.search(r'<form method="get" class="filters".*?</form>', page, re.S).group(0)
    assert filters.count("<option") == 6 + 3 + 7  # status, owner, sort


def test_owner_filters_and_search(client, app, world, process):
    plan_url = f"/nordland/plans/{process.plan_id}"
    coord = _user_id(app, "coord@a.example")
    _add_actions(app, world["a"].id, process.plan_id, 2, owner_id=coord, title="Mine {i}")
    _add_actions(app, world["a"].id, process.plan_id, 2, title="Unowned {i}")
    _add_actions(
        app,
        world["a"].id,
        process.plan_id,
        1,
        owner_id=coord,
        cluster_id=world["c2"].id,
        title="Health {i}",
    )
    login(client, "coord@a.example")
    mine = client.get(plan_url + "?owner=me").get_data(as_text=True)
    assert "Mine " in mine and "Action 000" not in mine and "Unowned" not in mine
    assert '<option value="me" selected>' in mine
    unowned = client.get(plan_url + "?owner=none").get_data(as_text=True)
    assert "Unowned" in unowned and "Mine " not in unowned and "Action 000" not in unowned
    # A link to one person's actions names them in the select.
    member = client.get(plan_url + f"?owner={process.member_id}").get_data(as_text=True)
    assert "Action 001" in member and "Action 000" not in member
    assert re.search(rf'<option value="{process.member_id}" selected>Member</option>', member)
    # Search: the title, the owner's name or e-mail, a responsible cluster's name.
    by_title = client.get(plan_url + "?q=unOWNED").get_data(as_text=True)
    assert _rows(by_title) == 2
    by_mail = client.get(plan_url + "?q=member@a.exam").get_data(as_text=True)
    assert "Action 001" in by_mail and "Action 003" in by_mail and "Action 000" not in by_mail
    by_cluster = client.get(plan_url + "?q=helgeland").get_data(as_text=True)
    assert "Health " in by_cluster and _rows(by_cluster) == 1
    # Wildcards are plain characters; nothing matches, and the page says so.
    nothing = client.get(plan_url + "?q=%25_%25").get_data(as_text=True)
    assert _rows(nothing) == 0 and "No action matches the filters." in nothing
    # A link filtering by a cluster keeps working and can be undone in the form.
    cluster = client.get(plan_url + f"?cluster={world['c2'].id}").get_data(as_text=True)
    assert "Health " in cluster and _rows(cluster) == 1
    assert f'<option value="{world["c2"].id}" selected>Helgeland Health</option>' in cluster
    # The htmx fragment answers the filters too, without the page around it.
    fragment = client.get(
        plan_url + "?owner=me&q=mine", headers={"HX-Request": "true", "HX-Target": "actions"}
    ).get_data(as_text=True)
    assert "<html" not in fragment and _rows(fragment) == 2


def test_rows_are_editable_by_managers_and_owners_only(client, app, world, process):
    """Permissions are computed once a page; the answer per row is the same as may()."""
    plan_url = f"/nordland/plans/{process.plan_id}"
    login(client, "observer@a.example")
    page = client.get(plan_url).get_data(as_text=True)
    assert "quick-form" not in page and "/actions/new" not in page
    assert client.get(plan_url + "/actions/new").status_code == 403
    client.post("/logout")
    # The member owns actions 001 and 003 of a plan of another cluster.
    login(client, "member@a.example")
    page = client.get(plan_url).get_data(as_text=True)
    forms = re.findall(r'<tr id="action-(\d+)">(?:(?!</tr>).)*quick-form', page, re.S)
    assert sorted(int(i) for i in forms) == sorted(process.action_ids[1::2])
    assert "/actions/new" not in page
    client.post("/logout")
    # The assessor owns an action but edits nothing (as may() says).
    assessor = _user_id(app, "assessor@a.example")
    _add_actions(app, world["a"].id, process.plan_id, 1, owner_id=assessor, title="Review {i}")
    login(client, "assessor@a.example")
    assert "quick-form" not in client.get(plan_url).get_data(as_text=True)
    client.post("/logout")
    login(client, "manager@a.example")  # manages the plan's cluster: every row
    page = client.get(plan_url).get_data(as_text=True)
    assert page.count("quick-form") == _rows(page) == 6
    assert "/actions/new" in page


def test_quick_edit_fragment_keeps_the_row_form(client, app, world, process):
    login(client, "member@a.example")
    action_id = process.action_ids[1]
    with app.app_context(), unscoped():
        version = db.session.scalar(select(Action.version).where(Action.id == action_id))
    response = client.post(
        f"/nordland/actions/{action_id}/quick",
        headers={"HX-Request": "true"},
        data={"status": "in_progress", "progress": "35", "version": str(version)},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and f'<tr id="action-{action_id}">' in text
    assert '<option value="in_progress" selected>' in text and 'value="35"' in text
    assert f'action="/nordland/actions/{action_id}/quick"' in text
    assert re.search(r'name="csrf_token" value="[\w.-]+"', text)


def test_foreign_plans_and_actions_are_not_found(client, app, world, factory):
    bravo_cluster = factory.cluster(world["b"], "Bravo Cluster")
    foreign = SimpleNamespace(plan_id=_bravo_plan(app, world, bravo_cluster.id))
    foreign.action_ids = _add_actions(app, world["b"].id, foreign.plan_id, 2)
    login(client, "coord@a.example")
    assert client.get(f"/nordland/plans/{foreign.plan_id}").status_code == 404
    assert client.get(f"/nordland/plans/{foreign.plan_id}?owner=me&q=x").status_code == 404
    action_id = foreign.action_ids[0]
    assert client.get(f"/nordland/actions/{action_id}").status_code == 404
    quick = client.post(
        f"/nordland/actions/{action_id}/quick",
        headers={"HX-Request": "true"},
        data={"status": "done", "version": "1"},
    )
    assert quick.status_code == 404


def test_plan_page_queries_are_the_same_at_5_and_65_actions(client, app, world, process):
    manager = _user_id(app, "manager@a.example")
    coord = _user_id(app, "coord@a.example")
    urls = [
        f"/nordland/plans/{process.plan_id}",
        f"/nordland/plans/{process.plan_id}?page=2",
        f"/nordland/plans/{process.joint_id}?owner=me&sort=-due",
        f"/nordland/plans/{process.plan_id}?q=action&status=planned",
        f"/nordland/plans/{process.joint_id}",
    ]
    member = _user_id(app, "member@a.example")
    for owner in (coord, manager, member):  # every filtered page lists something
        _add_actions(app, world["a"].id, process.joint_id, 1, owner_id=owner)
    for who in ("coord@a.example", "manager@a.example", "member@a.example"):
        client.post("/logout")
        login(client, who)
        client.get(urls[0])
        small = _measure(app, client, urls)
        for plan_id in (process.plan_id, process.joint_id):
            _add_actions(app, world["a"].id, plan_id, 20, owner_id=manager, cluster_id=None)
            _add_actions(app, world["a"].id, plan_id, 20, owner_id=coord)
        large = _measure(app, client, urls)
        assert small == large, who
        # 19: the header's unread notifications, the page's cache versions and whether the
        # reader follows the plan came with issues 17 and 18 (one query each, at any size).
        assert max(small.values()) <= 19, small


# --- my work ----------------------------------------------------------------------------


def test_my_work_counts_everything_and_lists_a_few(client, app, world, process):
    manager = _user_id(app, "manager@a.example")
    # build_process gave the manager Action 000 (overdue), 002 and 004 (soon) and the joint one.
    _add_actions(
        app,
        world["a"].id,
        process.plan_id,
        8,
        owner_id=manager,
        title="Late {i}",
        due_date=TODAY - timedelta(days=3),
    )
    _add_actions(
        app,
        world["a"].id,
        process.plan_id,
        30,
        owner_id=manager,
        title="Later {i}",
        due_date=TODAY + timedelta(days=60),
    )
    _add_actions(
        app,
        world["a"].id,
        process.plan_id,
        3,
        owner_id=manager,
        title="Done {i}",
        due_date=TODAY - timedelta(days=3),
        status=ActionStatus.DONE,
    )
    login(client, "manager@a.example")
    page = client.get("/nordland/my-work").get_data(as_text=True)
    assert re.findall(r'stat-value">(\d+)', page) == ["9", "2", "42"]
    assert "4 more overdue actions are in the list of all your open actions." in page
    assert "Done " not in page
    overdue = page.split('id="overdue-heading"')[1].split("<h2>")[0]
    assert overdue.count("<li>") == 5 and "Action 000" not in overdue  # the most overdue first
    everything = page.split('id="all-heading"')[1]
    assert everything.count("<li>") == 20 and "Page 1 of 3" in everything
    last = client.get("/nordland/my-work?page=3").get_data(as_text=True)
    assert last.split('id="all-heading"')[1].count("<li>") == 2
    for bad in ("?page=99", "?page=x", "?page=-1&per_page=0"):
        assert client.get("/nordland/my-work" + bad).status_code == 200


def test_my_work_is_of_this_region_only(client, app, world, factory, process):
    """The same person's actions in another region neither show nor count."""
    from portal.accounts import services as accounts
    from portal.accounts.models import Role
    from portal.tenancy.models import Tenant

    bravo_cluster = factory.cluster(world["b"], "Bravo Cluster")
    manager = _user_id(app, "manager@a.example")
    with app.test_request_context():
        accounts.grant_role(
            db.session.get(Tenant, world["b"].id),
            db.session.get(User, manager),
            Role.COORDINATOR,
            [],
        )
        db.session.commit()
    plan_id = _bravo_plan(app, world, bravo_cluster.id)
    _add_actions(
        app,
        world["b"].id,
        plan_id,
        4,
        owner_id=manager,
        title="Bravo secret {i}",
        due_date=TODAY - timedelta(days=1),
    )
    login(client, "manager@a.example")
    page = client.get("/nordland/my-work").get_data(as_text=True)
    assert "Bravo secret" not in page
    assert re.findall(r'stat-value">(\d+)', page)[0] == "1"
    bravo = client.get("/bravo/my-work").get_data(as_text=True)
    assert bravo.count("Bravo secret") >= 4 and "Action 000" not in bravo


def test_my_work_queries_are_the_same_at_few_and_many_actions(client, app, world, process):
    manager = _user_id(app, "manager@a.example")
    login(client, "manager@a.example")
    urls = ["/nordland/my-work", "/nordland/my-work?page=2"]
    client.get(urls[0])
    small = _measure(app, client, urls)
    for due in (TODAY - timedelta(days=2), TODAY + timedelta(days=3), None):
        _add_actions(app, world["a"].id, process.plan_id, 20, owner_id=manager, due_date=due)
        _add_actions(app, world["a"].id, process.joint_id, 5, owner_id=manager, due_date=due)
    large = _measure(app, client, urls)
    assert small == large
    with count_queries(app) as statements:
        client.get(urls[0] + "?page=1")  # a URL not visited yet: rendered, not cached
    assert sum("FROM plan_action" in s for s in statements) == 2, statements
