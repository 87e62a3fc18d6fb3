"""An action's owner edits it, so only someone who may edit actions can be made its owner:
observers and assessors are neither offered nor accepted, by the form, a crafted request,
the import or a workshop decision; an owner an action already has may stay."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import select, update

from portal.accounts.models import Role, User
from portal.errors import ServiceError
from portal.extensions import db
from portal.permissions import ACTION_OWNER_ROLES, may
from portal.plans.models import Action, Plan
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import login
from tests.process_support import build_process

EMAILS = {
    Role.COORDINATOR: "coord@a.example",
    Role.CLUSTER_MANAGER: "manager@a.example",
    Role.MEMBER: "member@a.example",
    Role.OBSERVER: "observer@a.example",
    Role.ASSESSOR: "assessor@a.example",
}
REFUSED = "Choose someone who may edit the action: observers and assessors may not."


@pytest.fixture
def process(app, world):
    built = build_process(app, world)
    built.tenant_id = world["a"].id
    return built


def _ids(app) -> dict[str, int]:
    with app.app_context(), unscoped():
        return {u.email: u.id for u in db.session.scalars(select(User))}


def _action(app, action_id) -> Action:
    with app.app_context(), unscoped():
        action = db.session.get(Action, action_id)
        db.session.expunge(action)
        return action


def _set_owner(app, action_id, owner_id) -> None:
    """An owner set before the rule (or who has lost their role since)."""
    with app.app_context(), unscoped():
        db.session.execute(update(Action).where(Action.id == action_id).values(owner_id=owner_id))
        db.session.commit()


def test_the_roles_that_may_own_an_action_are_those_whose_owner_may_edit_it(app, process):
    ids = _ids(app)
    action_id = process.action_ids[0]
    for role in Role:
        _set_owner(app, action_id, ids[EMAILS[role]])
        with app.test_request_context(), tenant_scope(process.tenant_id):
            user = db.session.get(User, ids[EMAILS[role]])
            action = db.session.get(Action, action_id)
            assert may(user, "action.edit", action) == (role in ACTION_OWNER_ROLES), role


def _form_data(owner_id, version=None) -> dict[str, str]:
    data = {
        "title": "Map the members' needs",
        "owner_id": str(owner_id),
        "status": "planned",
        "priority": "normal",
        "progress": "0",
        "weight": "1",
    }
    if version is not None:
        data["version"] = str(version)
    return data


def _offered(page: str) -> set[int]:
    select_ = re.search(r'<select[^>]*name="owner_id".*?</select>', page, re.DOTALL).group(0)
    return {int(v) for v in re.findall(r'value="(\d+)"', select_)}


def test_the_form_offers_only_people_who_may_edit_the_action(app, client, process):
    ids = _ids(app)
    may_own = {ids[EMAILS[r]] for r in ACTION_OWNER_ROLES}
    login(client, "coord@a.example")
    page = client.get(f"/nordland/plans/{process.plan_id}/actions/new").get_data(as_text=True)
    assert _offered(page) == may_own
    action_id = process.action_ids[0]
    page = client.get(f"/nordland/actions/{action_id}/edit").get_data(as_text=True)
    assert _offered(page) == may_own
    # An observer who owns an action from before is kept on it, and offered there only.
    _set_owner(app, action_id, ids["observer@a.example"])
    page = client.get(f"/nordland/actions/{action_id}/edit").get_data(as_text=True)
    assert _offered(page) == may_own | {ids["observer@a.example"]}
    page = client.get(f"/nordland/plans/{process.plan_id}/actions/new").get_data(as_text=True)
    assert _offered(page) == may_own


@pytest.mark.parametrize("email", ["observer@a.example", "assessor@a.example"])
def test_a_crafted_request_naming_an_observer_changes_nothing(app, client, process, email):
    ids = _ids(app)
    login(client, "coord@a.example")
    with app.app_context(), unscoped():
        before = db.session.scalar(select(db.func.count()).select_from(Action))
    created = client.post(
        f"/nordland/plans/{process.plan_id}/actions/new", data=_form_data(ids[email])
    )
    assert created.status_code == 422 and REFUSED in created.get_data(as_text=True)
    with app.app_context(), unscoped():
        assert db.session.scalar(select(db.func.count()).select_from(Action)) == before
    action_id = process.action_ids[0]
    old = _action(app, action_id)
    edited = client.post(
        f"/nordland/actions/{action_id}/edit", data=_form_data(ids[email], old.version)
    )
    assert edited.status_code == 422 and REFUSED in edited.get_data(as_text=True)
    new = _action(app, action_id)
    assert (new.owner_id, new.title, new.version) == (old.owner_id, old.title, old.version)


def test_the_refusal_speaks_the_users_language(app, client, process):
    ids = _ids(app)
    login(client, "coord@a.example")
    client.post("/language", data={"locale": "nb", "next": "/"})
    response = client.post(
        f"/nordland/plans/{process.plan_id}/actions/new",
        data=_form_data(ids["observer@a.example"]),
    )
    assert response.status_code == 422
    assert "observatører og assessorer kan ikke" in response.get_data(as_text=True)


def test_the_services_refuse_an_observer_and_keep_an_owner_the_action_has(app, process):
    from portal.plans.services import create_action, update_action

    ids = _ids(app)
    action_id = process.action_ids[0]
    with app.test_request_context(), tenant_scope(process.tenant_id):
        plan = db.session.get(Plan, process.plan_id)
        with pytest.raises(ServiceError) as refused:
            create_action(None, plan, {"title": "New", "owner_id": ids["observer@a.example"]})
        assert refused.value.field_errors == {"owner_id": [REFUSED]}
        action = db.session.get(Action, action_id)
        with pytest.raises(ServiceError):
            update_action(
                None, action, {"owner_id": ids["assessor@a.example"]}, expected_version=None
            )
        db.session.rollback()
    _set_owner(app, action_id, ids["observer@a.example"])
    with app.test_request_context(), tenant_scope(process.tenant_id):
        action = db.session.get(Action, action_id)
        data = {"owner_id": ids["observer@a.example"], "title": "Renamed"}
        update_action(None, action, data, expected_version=None)
    assert _action(app, action_id).title == "Renamed"


def test_the_import_refuses_an_observer_as_owner_and_writes_nothing(app, process):
    from portal.plans.action_import import import_actions

    action_id = process.action_ids[0]
    old = _action(app, action_id)
    raw = (
        b"title,owner_email\n"
        b"Good,member@a.example\n"
        b"Watching,observer@a.example\n"
        b"Assessing,assessor@a.example\n"
    )
    with app.test_request_context(), tenant_scope(process.tenant_id):
        outcome = import_actions(None, db.session.get(Plan, process.plan_id), raw)
    assert not outcome.written
    assert [(e.row, e.column) for e in outcome.errors] == [(3, "owner_email"), (4, "owner_email")]
    assert "“observer@a.example” may not edit actions" in outcome.errors[0].message
    assert _action(app, action_id).version == old.version
    # An action's owner from before may stay when the file names them again.
    ids = _ids(app)
    _set_owner(app, action_id, ids["observer@a.example"])
    raw = f"id,title,owner_email\n{action_id},Renamed,observer@a.example\n".encode()
    with app.test_request_context(), tenant_scope(process.tenant_id):
        outcome = import_actions(None, db.session.get(Plan, process.plan_id), raw)
    assert outcome.written and not outcome.errors
    assert _action(app, action_id).title == "Renamed"


def test_a_workshop_decision_cannot_go_to_an_observer(app, client, world, process):
    from portal.workshops.services import create_workshop

    ids = _ids(app)
    with app.test_request_context(), tenant_scope(world["a"].id):
        workshop = create_workshop(
            None,
            {
                "title": "Kick-off",
                "day": date(2026, 3, 2),
                "start_time": time(9),
                "end_time": time(15),
            },
            world["a"].id,
        )
        wid = workshop.id
    login(client, "coord@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    select_ = re.search(r'<select[^>]*name="decision-owner_id".*?</select>', page, re.DOTALL)
    offered = {int(v) for v in re.findall(r'value="(\d+)"', select_.group(0))}
    assert offered == {ids[EMAILS[r]] for r in ACTION_OWNER_ROLES}
    response = client.post(
        f"/nordland/workshops/{wid}/decisions",
        data={
            "decision-title": "Shared branding campaign",
            "decision-plan_id": process.plan_id,
            "decision-owner_id": ids["observer@a.example"],
        },
    )
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    with app.app_context(), unscoped():
        assert db.session.scalar(select(Action).where(Action.title.like("Shared%"))) is None
