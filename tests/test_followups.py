"""A finding becomes a goal or an action of a joint plan in one step."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.plans.models import Action, ActionIndicator, Plan
from portal.tenancy import unscoped
from tests.conftest import login
from tests.process_support import build_process

FINDING = {
    "title": "Private funding",
    "description": "The forum lags the reference most here.",
    "indicator_set": "esca-gold",
    "set_version": "2013",
    "indicator_id": "private_funds",
}


@pytest.fixture
def process(app, world, factory):
    factory.enable_plugin(world["a"], "esca")  # the findings' indicators are the region's
    return build_process(app, world)


def _plan(app, plan_id):
    with app.app_context(), unscoped():
        return db.session.get(Plan, plan_id)


def test_a_finding_becomes_a_goal_once(client, process, app):
    login(client, "coord@a.example")
    data = {**FINDING, "plan_id": process.joint_id, "next": "/nordland/plans/"}
    response = client.post("/nordland/followups/goal", data=data)
    assert response.status_code == 302 and response.location.endswith("/nordland/plans/")
    goals = _plan(app, process.joint_id).goals
    assert goals.endswith("- Private funding: The forum lags the reference most here.")
    again = client.post("/nordland/followups/goal", data=data, follow_redirects=True)
    assert "has this goal already" in again.get_data(as_text=True)
    assert _plan(app, process.joint_id).goals == goals


def test_a_finding_becomes_an_action_of_the_joint_plan(client, process, app):
    login(client, "coord@a.example")
    response = client.post(
        "/nordland/followups/action", data={**FINDING, "plan_id": process.joint_id}
    )
    assert response.status_code == 302 and "/nordland/actions/" in response.location
    with app.app_context(), unscoped():
        action = db.session.scalar(select(Action).where(Action.title == "Private funding"))
    assert action.plan_id == process.joint_id
    with app.app_context(), unscoped():
        links = db.session.scalars(
            select(ActionIndicator).where(ActionIndicator.action_id == action.id)
        ).all()
    assert [link.key for link in links] == [("esca-gold", "2013", "private_funds")]
    empty = client.post(
        "/nordland/followups/action",
        data={"plan_id": process.joint_id, "title": ""},
        follow_redirects=True,
    )
    assert empty.status_code == 200 and "alert" in empty.get_data(as_text=True)


def test_only_joint_plans_and_only_their_managers(client, process, app):
    login(client, "coord@a.example")
    own = client.post("/nordland/followups/goal", data={**FINDING, "plan_id": process.plan_id})
    assert own.status_code == 404  # a cluster's own plan is not a joint plan
    assert client.post("/nordland/followups/goal", data=FINDING).status_code == 404
    assert (
        client.post("/nordland/followups/goal", data={**FINDING, "plan_id": 987654}).status_code
        == 404
    )
    client.post("/logout")
    for email in ("manager@a.example", "observer@a.example", "assessor@a.example"):
        login(client, email)
        for kind in ("goal", "action"):
            response = client.post(
                f"/nordland/followups/{kind}", data={**FINDING, "plan_id": process.joint_id}
            )
            assert response.status_code == 403, (email, kind)
        client.post("/logout")
    assert "Private funding" not in _plan(app, process.joint_id).goals


def test_an_unsafe_next_is_ignored(client, process):
    login(client, "coord@a.example")
    response = client.post(
        "/nordland/followups/goal",
        data={**FINDING, "plan_id": process.joint_id, "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and "evil" not in response.location


def test_another_regions_joint_plan_answers_404(client, process, app):
    from portal.plans.models import PlanKind
    from tests.isolation_support import SECRET, seed_other_tenant

    foreign = seed_other_tenant(app)
    with app.app_context(), unscoped():
        joint_id = db.session.scalar(
            select(Plan.id).where(Plan.tenant_id == foreign.id, Plan.kind == PlanKind.JOINT)
        )
    login(client, "coord@a.example")
    for kind in ("goal", "action"):
        response = client.post(f"/nordland/followups/{kind}", data={**FINDING, "plan_id": joint_id})
        assert response.status_code == 404 and SECRET not in response.get_data(as_text=True)
    assert "Private funding" not in _plan(app, joint_id).goals


def test_a_finding_about_an_indicator_the_region_does_not_use_adds_nothing(client, process, app):
    login(client, "coord@a.example")
    response = client.post(
        "/nordland/followups/action",
        data={**FINDING, "indicator_id": "no_such_indicator", "plan_id": process.joint_id},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "is not an indicator of this region" in response.get_data(as_text=True)
    with app.app_context(), unscoped():
        assert db.session.scalar(select(Action).where(Action.title == "Private funding")) is None
