"""Joint actions made in one step: from a weak indicator, a joint plan goal or a workshop;
the notices page and the overview panel."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from portal_joint import flow_views, services
from portal_joint.models import JointAction
from sqlalchemy import func, select, update

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.notifications.models import Notification
from portal.plans.models import Plan, PlanKind
from portal.programmes.models import Programme
from portal.tenancy import tenant_scope, unscoped
from portal.tenancy.models import Tenant
from portal.workshops.models import Workshop
from tests.conftest import count_queries, login
from tests.process_support import build_process

FINDING = {
    "title": "Private funding",
    "description": "The forum lags the reference most here.",
    "indicator_set": "esca-gold",
    "set_version": "2013",
    "indicator_id": "private_funds",
}
TODAY = date.today()


@pytest.fixture
def process(app, world, factory):
    factory.enable_plugin(world["a"], "joint")
    return build_process(app, world)


def _actions(app, **where):
    """The joint actions of the region under test ("nordland"; not the seeded foreign one)."""
    from portal.tenancy.models import Tenant

    with app.app_context(), unscoped():
        nordland = select(Tenant.id).where(Tenant.slug == "nordland").scalar_subquery()
        stmt = select(JointAction).where(JointAction.tenant_id == nordland).order_by(JointAction.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(JointAction, key) == value)
        found = db.session.scalars(stmt).all()
        for action in found:
            [(i.indicator_set, i.indicator_id) for i in action.indicators]  # load them
        return found


def _user(email):
    return db.session.scalar(select(User).where(User.email == email))


def _workshop(app, tenant_id, programme_id, title="Kick-off"):
    from portal.workshops.services import create_workshop

    with app.test_request_context(), tenant_scope(tenant_id):
        return create_workshop(
            None,
            {
                "programme_id": programme_id,
                "title": title,
                "day": TODAY - timedelta(days=3),
                "start_time": time(9),
                "end_time": time(15),
            },
            tenant_id,
        ).id


# --- from a finding -----------------------------------------------------------------------


def test_the_target_is_offered_where_the_plugin_is_on(app, world, process, factory):
    from portal.plans.followups import followup_targets

    with app.test_request_context():
        tenant = db.session.get(Tenant, world["a"].id)
        targets = followup_targets(tenant)
        assert [t.id for t in targets][:1] == ["joint_action"]
        assert str(targets[0].label) == "Make it a joint action"
        assert targets[0].endpoint == "joint.from_finding"
    factory.enable_plugin(world["a"], "joint", False)
    with app.test_request_context():
        assert "joint_action" not in [t.id for t in followup_targets(tenant)]


def test_a_finding_becomes_a_joint_action_of_the_plans_programme(app, client, process):
    login(client, "coord@a.example")
    response = client.post(
        "/nordland/joint/from-finding", data={**FINDING, "plan_id": process.joint_id}
    )
    (action,) = _actions(app)
    assert response.status_code == 302
    assert response.location.endswith(f"/nordland/joint/actions/{action.id}")
    assert (action.title, action.aim, action.origin) == (
        "Private funding",
        "The forum lags the reference most here.",
        "scorecard",
    )
    assert action.programme_id == process.programme_id
    assert [(i.indicator_set, i.indicator_id) for i in action.indicators] == [
        ("esca-gold", "private_funds")
    ]
    # a second click finds it instead of making another
    again = client.post(
        "/nordland/joint/from-finding",
        data={**FINDING, "plan_id": process.joint_id},
        follow_redirects=True,
    )
    assert "is a joint action already" in again.get_data(as_text=True)
    assert len(_actions(app)) == 1


def test_next_is_followed_only_when_local(app, client, process):
    login(client, "coord@a.example")
    data = {**FINDING, "plan_id": process.joint_id, "next": "/nordland/plans/"}
    response = client.post("/nordland/joint/from-finding", data=data)
    assert response.status_code == 302 and response.location.endswith("/nordland/plans/")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        data = {**FINDING, "title": f"T {evil}", "plan_id": process.joint_id, "next": evil}
        response = client.post("/nordland/joint/from-finding", data=data)
        assert response.status_code == 302 and "evil" not in response.location


def test_bad_findings_are_refused_with_a_message(app, client, process):
    login(client, "coord@a.example")
    for data, message in (
        ({"title": "  "}, "A joint action needs a title."),
        ({"indicator_id": "no_such_thing"}, "Unknown indicator."),
        ({"indicator_set": ""}, "Unknown indicator."),
    ):
        page = client.post(
            "/nordland/joint/from-finding",
            data={**FINDING, **data, "plan_id": process.joint_id},
            follow_redirects=True,
        )
        assert page.status_code == 200 and message in page.get_data(as_text=True)
    assert _actions(app) == []


def test_only_joint_plans_of_the_region_and_only_coordinators(app, client, process):
    from tests.isolation_support import SECRET, seed_other_tenant

    foreign = seed_other_tenant(app)
    with app.app_context(), unscoped():
        foreign_plan = db.session.scalar(
            select(Plan.id).where(Plan.tenant_id == foreign.id, Plan.kind == PlanKind.JOINT)
        )
    login(client, "coord@a.example")
    for plan_id in (process.plan_id, 987654, foreign_plan, "x"):
        response = client.post("/nordland/joint/from-finding", data={**FINDING, "plan_id": plan_id})
        assert response.status_code == 404
        assert SECRET not in response.get_data(as_text=True)
    assert client.post("/nordland/joint/from-finding", data=FINDING).status_code == 404
    client.post("/logout")
    for email in ("manager@a.example", "member@a.example", "observer@a.example"):
        login(client, email)
        response = client.post(
            "/nordland/joint/from-finding", data={**FINDING, "plan_id": process.joint_id}
        )
        assert response.status_code == 403, email
        client.post("/logout")
    assert _actions(app) == []


def test_switched_off_the_pages_answer_404(app, world, client, process, factory):
    factory.enable_plugin(world["a"], "joint", False)
    login(client, "coord@a.example")
    for path in ("from-finding", "from-goal", "from-workshop", "notices/read"):
        response = client.post(f"/nordland/joint/{path}", data={"plan_id": process.joint_id})
        assert response.status_code == 404
    assert client.get("/nordland/joint/notices").status_code == 404


# --- from a joint plan goal ---------------------------------------------------------------


def _goals(app, plan_id, goals):
    with app.app_context(), unscoped():
        db.session.execute(update(Plan).where(Plan.id == plan_id).values(goals=goals))
        db.session.commit()


def test_the_joint_plan_offers_its_goals_as_joint_actions(app, client, process):
    _goals(
        app,
        process.joint_id,
        "- Silver before the bronze labels expire\n\n- Private funding: lags the reference",
    )
    login(client, "coord@a.example")
    page = client.get(f"/nordland/plans/{process.joint_id}").get_data(as_text=True)
    assert "Goals as joint actions" in page and page.count("Make it a joint action") == 2
    response = client.post(
        "/nordland/joint/from-goal",
        data={"plan_id": process.joint_id, "goal": "Private funding: lags the reference"},
    )
    (action,) = _actions(app)
    assert response.location.endswith(f"/nordland/joint/actions/{action.id}")
    assert (action.title, action.aim, action.origin) == (
        "Private funding",
        "Private funding: lags the reference",
        "plan_goal",
    )
    page = client.get(f"/nordland/plans/{process.joint_id}").get_data(as_text=True)
    assert page.count("Make it a joint action") == 1 and "Open the joint action" in page
    again = client.post(
        "/nordland/joint/from-goal",
        data={"plan_id": process.joint_id, "goal": "- Private funding: lags the reference"},
        follow_redirects=True,
    )
    assert "is a joint action already" in again.get_data(as_text=True)
    empty = client.post(
        "/nordland/joint/from-goal",
        data={"plan_id": process.joint_id, "goal": " - "},
        follow_redirects=True,
    )
    assert "Choose a goal of the joint plan." in empty.get_data(as_text=True)
    assert len(_actions(app)) == 1


def test_goals_panel_only_on_joint_plans_and_only_for_coordinators(app, client, process):
    _goals(app, process.joint_id, "Silver before the bronze labels expire")
    _goals(app, process.plan_id, "Our own goal")
    login(client, "coord@a.example")
    own = client.get(f"/nordland/plans/{process.plan_id}").get_data(as_text=True)
    assert "Goals as joint actions" not in own
    client.post("/logout")
    login(client, "manager@a.example")
    page = client.get(f"/nordland/plans/{process.joint_id}")
    assert page.status_code == 200 and "Goals as joint actions" not in page.get_data(as_text=True)
    response = client.post(
        "/nordland/joint/from-goal", data={"plan_id": process.joint_id, "goal": "Silver"}
    )
    assert response.status_code == 403 and _actions(app) == []


def test_the_goals_panel_runs_a_fixed_number_of_queries(app, world, process):
    def panel():
        with app.test_request_context(), tenant_scope(world["a"].id):
            plan = db.session.get(Plan, process.joint_id)
            coord = _user("coord@a.example")
            with count_queries(app) as queries:
                (found,) = flow_views.plan_panels(plan, coord)
            return found, queries

    _goals(app, process.joint_id, "One")
    _, few = panel()
    _goals(app, process.joint_id, "\n".join(f"- Goal {i}" for i in range(30)))
    found, many = panel()
    assert len(found.context["goals"]) == 30 and len(many) == len(few) <= 5


# --- decided at a workshop ----------------------------------------------------------------


def test_a_workshop_decides_joint_actions(app, world, client, process):
    workshop_id = _workshop(app, world["a"].id, process.programme_id)
    login(client, "coord@a.example")
    page = client.get(f"/nordland/workshops/{workshop_id}").get_data(as_text=True)
    assert "Joint actions decided here" in page and "No joint action was decided" in page
    response = client.post(
        "/nordland/joint/from-workshop",
        data={"workshop_id": workshop_id, "title": "Joint branding"},
    )
    (action,) = _actions(app)
    assert response.location.endswith(f"/nordland/joint/actions/{action.id}")
    assert (action.workshop_id, action.origin, action.status.value) == (
        workshop_id,
        "workshop",
        "planned",
    )
    assert action.programme_id == process.programme_id
    client.post("/logout")
    login(client, "observer@a.example")  # sees what was decided, cannot add
    page = client.get(f"/nordland/workshops/{workshop_id}").get_data(as_text=True)
    assert "Joint branding" in page and 'name="workshop_id"' not in page
    response = client.post(
        "/nordland/joint/from-workshop", data={"workshop_id": workshop_id, "title": "Mine"}
    )
    assert response.status_code == 403 and len(_actions(app)) == 1


def test_workshop_decisions_are_checked(app, world, client, process):
    from tests.isolation_support import SECRET, seed_other_tenant

    workshop_id = _workshop(app, world["a"].id, process.programme_id)
    loose = _workshop(app, world["a"].id, None, title="Open meeting")
    foreign = seed_other_tenant(app)
    with app.app_context(), unscoped():
        foreign_workshop = db.session.scalar(
            select(Workshop.id).where(Workshop.tenant_id == foreign.id)
        )
    login(client, "coord@a.example")
    page = client.get(f"/nordland/workshops/{loose}").get_data(as_text=True)
    assert "Joint actions decided here" not in page
    no_programme = client.post(
        "/nordland/joint/from-workshop",
        data={"workshop_id": loose, "title": "Joint branding"},
        follow_redirects=True,
    )
    assert "belong to a programme" in no_programme.get_data(as_text=True)
    for data in ({"workshop_id": foreign_workshop, "title": "X"}, {"title": "X"}):
        response = client.post("/nordland/joint/from-workshop", data=data)
        assert response.status_code == 404 and SECRET not in response.get_data(as_text=True)
    for title, message in (("", "A joint action needs a title."), ("x" * 240, "At most 200")):
        page = client.post(
            "/nordland/joint/from-workshop",
            data={"workshop_id": workshop_id, "title": title},
            follow_redirects=True,
        )
        assert message in page.get_data(as_text=True)
    assert _actions(app) == []


# --- notices and the overview panel -------------------------------------------------------


def _joint_action(app, world, process, title="Joint branding", due=None, **data):
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = services.create_action(
            None,
            db.session.get(Programme, process.programme_id),
            {"title": title, "due_date": due, **data},
            clusters=[world["c1"].id, world["c2"].id],
        )
        return action.id


def _read_all(client) -> None:
    """What build_process told the person (their actions) is read: only the new counts."""
    client.post("/nordland/notifications/read")


def test_notices_are_worded_and_marked_read(app, world, client, process):
    """The notices are the core's notifications now: listed and marked on its page, which
    the plugin's old address leads to."""
    action_id = _joint_action(app, world, process)
    login(client, "manager@a.example")
    _read_all(client)
    with app.test_request_context(), tenant_scope(world["a"].id):
        coord = _user("coord@a.example")
        action = db.session.get(JointAction, action_id)
        services.move(coord, action, "in_progress")
        services.leave(coord, action.parts[1])
        services.update_action(coord, action, {"due_date": TODAY + timedelta(days=20)})
    page = client.get("/nordland/joint/notices", follow_redirects=True).get_data(as_text=True)
    assert "The status of “Joint branding” is now In progress." in page
    assert "Helgeland Health left “Joint branding”." in page
    assert "“Joint branding” was changed: due date." in page
    assert page.count('class="notification notification-unread"') == 3
    assert page.index("was changed") < page.index("is now In progress")  # newest first
    assert "3 unread" in page
    first = client.get("/nordland/notifications/999999")
    assert first.status_code == 404
    response = client.post("/nordland/joint/notices/read", follow_redirects=True)
    assert response.status_code == 200
    page = client.get("/nordland/notifications").get_data(as_text=True)
    assert "notification-unread" not in page and "is now In progress" in page
    client.post("/logout")
    login(client, "observer@a.example")  # not told of anything: sees no one else's notices
    page = client.get("/nordland/joint/notices", follow_redirects=True).get_data(as_text=True)
    assert "No notifications yet" in page
    with app.app_context(), unscoped():
        unread = db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.read_at.is_(None), Notification.kind.like("joint.%")
            )
        )
    assert unread == 0


def test_notices_speak_the_readers_language(app, world, client, process):
    action_id = _joint_action(app, world, process)
    with app.test_request_context(), tenant_scope(world["a"].id):
        services.move(_user("coord@a.example"), db.session.get(JointAction, action_id), "done")
    with app.app_context(), unscoped():
        db.session.execute(
            update(User).where(User.email == "manager@a.example").values(locale="nb")
        )
        db.session.commit()
    login(client, "manager@a.example")
    page = client.get("/nordland/joint/notices", follow_redirects=True).get_data(as_text=True)
    assert "Fullført" in page or "Ferdig" in page


def test_the_overview_shows_unread_notices_and_joint_actions_due_soon(app, world, client, process):
    soon = _joint_action(app, world, process, "Due soon", TODAY + timedelta(days=10))
    _joint_action(app, world, process, "Far off", TODAY + timedelta(days=40))
    late = _joint_action(app, world, process, "Late", TODAY - timedelta(days=2))
    _joint_action(app, world, process, "Finished", TODAY + timedelta(days=1), status="done")
    login(client, "manager@a.example")
    _read_all(client)
    with app.test_request_context(), tenant_scope(world["a"].id):
        services.move(_user("coord@a.example"), db.session.get(JointAction, soon), "planned")
    page = client.get("/nordland/").get_data(as_text=True)
    assert "1 new notification" in page
    assert "Due soon" in page and "Late" in page and "overdue since" in page
    assert "Far off" not in page and "Finished" not in page
    assert f"/nordland/joint/actions/{late}" in page
    client.post("/logout")
    login(client, "observer@a.example")  # no clusters, leads nothing
    page = client.get("/nordland/").get_data(as_text=True)
    assert "None of your joint actions is due within 14 days." in page


def test_the_overview_panel_runs_a_fixed_number_of_queries(app, world, process):
    _joint_action(app, world, process, "First", TODAY + timedelta(days=3))
    with app.test_request_context(), tenant_scope(world["a"].id):
        tenant = db.session.get(Tenant, world["a"].id)
        manager = _user("manager@a.example")
        with count_queries(app) as few:
            flow_views.dashboard_panels(tenant, manager)
    for i in range(20):
        _joint_action(app, world, process, f"Action {i}", TODAY + timedelta(days=i % 5))
    with app.test_request_context(), tenant_scope(world["a"].id):
        tenant = db.session.get(Tenant, world["a"].id)
        manager = _user("manager@a.example")
        with count_queries(app) as many:
            (panel,) = flow_views.dashboard_panels(tenant, manager)
    assert len(panel.context["due"]) == flow_views.DASHBOARD_LIMIT and panel.context["more"]
    assert len(many) == len(few) <= 6


def test_the_workshop_panel_runs_a_fixed_number_of_queries(app, world, process):
    workshop_id = _workshop(app, world["a"].id, process.programme_id)

    def panel():
        with app.test_request_context(), tenant_scope(world["a"].id):
            workshop = db.session.get(Workshop, workshop_id)
            coord = _user("coord@a.example")
            with count_queries(app) as queries:
                (found,) = flow_views.workshop_panels(workshop, coord)
            return found, queries

    _, few = panel()
    for i in range(10):
        _joint_action(app, world, process, f"Decided {i}", workshop_id=workshop_id)
    found, many = panel()
    assert len(found.context["actions"]) == 10 and len(many) == len(few) <= 6


def test_cluster_members_of_another_cluster_do_not_see_its_due_actions(app, world, process):
    with app.test_request_context(), tenant_scope(world["a"].id):
        programme = db.session.get(Programme, process.programme_id)
        services.create_action(
            None,
            programme,
            {"title": "Only c2", "due_date": TODAY + timedelta(days=2)},
            clusters=[world["c2"].id],
        )
        tenant = db.session.get(Tenant, world["a"].id)
        manager, member = _user("manager@a.example"), _user("member@a.example")
        assert flow_views.due_soon(manager, tenant) == []
        assert [a.title for a in flow_views.due_soon(member, tenant)] == ["Only c2"]
        assert db.session.get(Cluster, world["c2"].id) is not None


@pytest.mark.parametrize("role", ["coordinator", "cluster_manager", "member", "observer"])
def test_no_500_and_nothing_of_another_region_with_any_form(app, world, process, role):
    from tests.conftest import ROLE_EMAILS
    from tests.isolation_support import FORM, SECRET, seed_other_tenant, snapshot

    foreign = seed_other_tenant(app)
    with app.test_request_context():
        before = snapshot(foreign.id)
    client = app.test_client()
    login(client, ROLE_EMAILS[role])
    forms = [FORM, {**FORM, "plan_id": "x", "workshop_id": "y", "goal": ""}]
    forms += [{**FORM, "plan_id": i, "workshop_id": i, "goal": SECRET} for i in foreign.ids]
    for path in ("from-finding", "from-goal", "from-workshop", "notices/read"):
        for data in forms:
            response = client.post(f"/nordland/joint/{path}", data=data)
            assert response.status_code < 500, (path, data, response.status_code)
            assert SECRET not in response.get_data(as_text=True)
    assert SECRET not in client.get("/nordland/joint/notices").get_data(as_text=True)
    with app.test_request_context():
        assert snapshot(foreign.id) == before
    assert all(SECRET not in a.title for a in _actions(app))
