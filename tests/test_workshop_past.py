"""Past workshops (issue 14, item 6): the workshop page lists the actions decided there (plan
actions in the core, joint actions through the joint plugin's panel), an action's form says
at which workshop it was decided, and a workshop closes by the real clock in its region's time
zone (the schedule's ``portal.workshops.close_ended``), never earlier, whoever asks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select, update

from portal.errors import ServiceError
from portal.extensions import db
from portal.plans.models import Action, Plan
from portal.tenancy import tenant_scope, unscoped
from portal.tenancy.models import Tenant
from portal.toolkit import hookimpl
from portal.workshops.models import Workshop
from tests.conftest import Factory, count_queries, free_port, login
from tests.locking_support import version_on
from tests.process_support import build_process

TODAY = date.today()


def _workshop(app, tenant_id, *, days=-3, title="Kick-off", programme_id=None):
    """A workshop from 09:30 to 15:00 on the region's clock, ``days`` from today; its id."""
    from portal.workshops.services import create_workshop

    with app.test_request_context(), tenant_scope(tenant_id):
        return create_workshop(
            None,
            {
                "programme_id": programme_id,
                "title": title,
                "day": TODAY + timedelta(days=days),
                "start_time": time(9, 30),
                "end_time": time(15),
            },
            tenant_id,
        ).id


def _plan_action(app, tenant_id, plan_id, title, workshop_id, **data) -> int:
    from portal.plans import services as plans

    with app.test_request_context(), tenant_scope(tenant_id):
        plan = db.session.get(Plan, plan_id)
        return plans.create_action(
            None, plan, {"title": title, "workshop_id": workshop_id, **data}
        ).id


def _joint_action(app, tenant_id, programme_id, title, workshop_id) -> int:
    from portal_joint import services as joint

    from portal.programmes.models import Programme

    with app.test_request_context(), tenant_scope(tenant_id):
        programme = db.session.get(Programme, programme_id)
        return joint.create_action(
            None, programme, {"title": title, "workshop_id": workshop_id}, origin="workshop"
        ).id


@pytest.fixture
def process(app, world, factory):
    factory.enable_plugin(world["a"], "joint")
    return build_process(app, world, actions=0)


# --- the actions decided at a workshop --------------------------------------------------------


def test_the_workshop_page_lists_the_actions_decided_there(app, world, client, process):
    a = world["a"].id
    wid = _workshop(app, a, programme_id=process.programme_id)
    other = _workshop(app, a, days=-10, title="Another day")
    _plan_action(
        app,
        a,
        process.plan_id,
        "Shared branding campaign",
        wid,
        owner_id=process.manager_id,
        due_date=TODAY + timedelta(days=20),
        description="Our score was 2.7 of 5",  # an action's own text: not on the workshop page
    )
    _plan_action(app, a, process.joint_id, "Common trade fair stand", wid)
    _plan_action(app, a, process.plan_id, "Decided elsewhere", other)
    _joint_action(app, a, process.programme_id, "Joint talent programme", wid)
    for email in ("observer@a.example", "member@a.example", "coord@a.example"):
        login(client, email)
        page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
        assert "Actions decided here" in page
        assert "Shared branding campaign" in page and "Arctic plan" in page
        assert "Common trade fair stand" in page and "Joint plan" in page
        assert "Manager" in page  # the owner's name
        assert "Decided elsewhere" not in page and "2.7 of 5" not in page
        # The joint plugin's panel, through the workshop_panels hook.
        assert "Joint actions decided here" in page and "Joint talent programme" in page
        assert ("Record a decision" in page) == (email == "coord@a.example")
        client.post("/logout")
    login(client, "coord@a.example")
    page = client.get(f"/nordland/workshops/{other}").get_data(as_text=True)
    assert "Decided elsewhere" in page and "Shared branding campaign" not in page
    assert "No action of a plan was decided at this workshop yet." not in page
    assert "Joint talent programme" not in page


def test_a_workshop_without_decisions_says_so(app, world, client):
    wid = _workshop(app, world["a"].id)
    login(client, "observer@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "No action of a plan was decided at this workshop yet." in page


def test_joint_actions_stay_listed_when_the_workshop_leaves_its_programme(
    app, world, client, process
):
    a = world["a"].id
    wid = _workshop(app, a, programme_id=process.programme_id)
    _joint_action(app, a, process.programme_id, "Joint talent programme", wid)
    with app.app_context(), unscoped():
        db.session.execute(update(Workshop).where(Workshop.id == wid).values(programme_id=None))
        db.session.commit()
    login(client, "coord@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "Joint talent programme" in page
    assert 'name="workshop_id"' not in page  # no programme: no joint action made here


def test_the_workshop_page_does_not_grow_in_queries_with_its_actions(app, world, client, process):
    a = world["a"].id
    wid = _workshop(app, a, programme_id=process.programme_id)
    _plan_action(app, a, process.plan_id, "First", wid, owner_id=process.manager_id)
    _joint_action(app, a, process.programme_id, "First joint", wid)
    login(client, "coord@a.example")
    url = f"/nordland/workshops/{wid}"
    client.get(url)

    def count() -> int:
        with count_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200
        return len(statements)

    few = count()
    for i in range(15):
        plan_id = process.plan_id if i % 2 else process.joint_id
        owner = process.member_id if i % 3 else process.manager_id
        _plan_action(app, a, plan_id, f"Plan action {i:02d}", wid, owner_id=owner)
        _joint_action(app, a, process.programme_id, f"Joint action {i:02d}", wid)
    many = count()
    assert many == few
    page = client.get(url).get_data(as_text=True)
    assert "Plan action 14" in page and "Joint action 14" in page


# --- an action's form: decided at a workshop -------------------------------------------------


def test_the_action_form_offers_the_workshops_held(app, world, client, process, factory):
    a = world["a"].id
    held = _workshop(app, a, days=-3, title="Spring forum")
    ahead = _workshop(app, a, days=30, title="Autumn forum")
    foreign = _workshop(app, world["b"].id, days=-3, title="Bravo meeting")
    login(client, "manager@a.example")
    new = f"/nordland/plans/{process.plan_id}/actions/new"
    form = client.get(new).get_data(as_text=True)
    assert "Decided at workshop" in form and "Spring forum" in form
    assert "Autumn forum" not in form and "Bravo meeting" not in form
    data = {"title": "Joint stand", "status": "planned", "priority": "normal", "weight": "1"}
    for refused in (ahead, foreign):
        response = client.post(new, data=data | {"workshop_id": str(refused)})
        assert response.status_code == 422
    response = client.post(new, data=data | {"workshop_id": str(held)})
    assert response.status_code == 302
    with app.app_context(), unscoped():
        action = db.session.scalar(select(Action).where(Action.title == "Joint stand"))
    assert action.workshop_id == held
    page = client.get(f"/nordland/actions/{action.id}").get_data(as_text=True)
    assert "Decided at" in page and "Spring forum" in page
    edit = f"/nordland/actions/{action.id}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert f'<option selected value="{held}">' in form or f'value="{held}" selected' in form
    # Kept when saved again, cleared when "None" is chosen.
    version = version_on(client, edit)
    client.post(edit, data=data | {"workshop_id": str(held), "version": version})
    with app.app_context(), unscoped():
        assert db.session.get(Action, action.id).workshop_id == held
    version = version_on(client, edit)
    assert client.post(edit, data=data | {"workshop_id": "", "version": version}).status_code == 302
    with app.app_context(), unscoped():
        assert db.session.get(Action, action.id).workshop_id is None


def test_an_action_names_a_workshop_of_its_own_region_only(app, world, process):
    from portal.plans import services as plans

    foreign = _workshop(app, world["b"].id, title="Bravo meeting")
    with app.test_request_context(), tenant_scope(world["a"].id):
        plan = db.session.get(Plan, process.plan_id)
        with pytest.raises(ServiceError) as refused:
            plans.create_action(None, plan, {"title": "X", "workshop_id": foreign})
        assert "workshop_id" in refused.value.field_errors
        db.session.rollback()
        assert db.session.scalar(select(Action.id).where(Action.title == "X")) is None


# --- closing by the real clock ----------------------------------------------------------------


class EndRecorder:
    def __init__(self):
        self.ended: list[str] = []

    @hookimpl
    def workshop_ended(self, workshop):
        self.ended.append(workshop.title)


@pytest.fixture
def clocked(make_app):
    """Two regions, Oslo and New York, with a workshop each on the same day 30 days ahead
    (09:30-15:00 on each region's clock), one the day after, and a plugin noting ends."""
    recorder = EndRecorder()
    app = make_app(plugins=[("rec", recorder)])
    factory = Factory(app)
    oslo = factory.tenant("nordland")
    new_york = factory.tenant("bravo")
    factory.user("coord@a.example", tenant=oslo, role="coordinator")
    for tenant in (oslo, new_york):
        factory.enable_plugin(tenant, "rec")
    with app.app_context(), unscoped():
        db.session.get(Tenant, new_york.id).timezone = "America/New_York"
        db.session.commit()
    ids = {
        "oslo": _workshop(app, oslo.id, days=30, title="In Oslo"),
        "new_york": _workshop(app, new_york.id, days=30, title="In New York"),
        "later": _workshop(app, oslo.id, days=31, title="The day after"),
    }
    return app, recorder, ids


def _at(hour, minute, zone, days=30):
    return datetime.combine(TODAY + timedelta(days=days), time(hour, minute), ZoneInfo(zone))


def _closed(app) -> list[str]:
    with app.app_context(), unscoped():
        return list(
            db.session.scalars(
                select(Workshop.title).where(Workshop.ended_at.is_not(None)).order_by(Workshop.id)
            )
        )


def test_the_schedule_closes_workshops_at_their_end_time_in_their_time_zone(clocked):
    from portal.workshops.closing import close_ended

    app, recorder, _ids = clocked
    with time_machine.travel(_at(14, 59, "Europe/Oslo"), tick=False), app.app_context():
        assert close_ended() == {"tenants": 2, "workshops_ended": 0}
    assert _closed(app) == []
    with time_machine.travel(_at(15, 0, "Europe/Oslo"), tick=False), app.app_context():
        assert close_ended()["workshops_ended"] == 1
    assert _closed(app) == ["In Oslo"]
    with time_machine.travel(_at(14, 59, "America/New_York"), tick=False), app.app_context():
        assert close_ended()["workshops_ended"] == 0  # 20:59 in Oslo
    with time_machine.travel(_at(15, 0, "America/New_York"), tick=False), app.app_context():
        assert close_ended()["workshops_ended"] == 1
    assert _closed(app) == ["In Oslo", "In New York"]
    with time_machine.travel(_at(15, 0, "Europe/Oslo", days=31), tick=False), app.app_context():
        assert close_ended()["workshops_ended"] == 1
        assert close_ended()["workshops_ended"] == 0  # once only
    assert recorder.ended == ["In Oslo", "In New York", "The day after"]
    with app.app_context(), unscoped():
        from portal.audit.models import AuditEntry

        closed = db.session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.object_type == "workshop", AuditEntry.action == "update"
            )
        ).all()
    assert closed == ["close-ended-workshops"] * 3


def test_the_task_is_on_the_beat_schedule_every_15_minutes(make_app):
    """With a broker, ``portal worker --beat`` runs the task; called here as a worker would."""
    from portal.jobs import broker

    app = make_app({"BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"})
    celery = broker(app)
    entry = celery.conf.beat_schedule["close-ended-workshops"]
    assert entry["task"] == "portal.workshops.close_ended"
    assert entry["schedule"].minute == {0, 15, 30, 45}
    factory = Factory(app)
    tenant = factory.tenant("nordland")
    wid = _workshop(app, tenant.id, days=2)
    task = celery.tasks["portal.workshops.close_ended"]
    assert task() == {"tenants": 1, "workshops_ended": 0}
    with time_machine.travel(_at(15, 1, "Europe/Oslo", days=2), tick=False):
        assert task() == {"tenants": 1, "workshops_ended": 1}
    with app.app_context(), unscoped():
        assert db.session.get(Workshop, wid).ended_at is not None


def test_nothing_closes_a_workshop_early(clocked):
    from portal.workshops.closing import end_workshop

    app, recorder, ids = clocked
    client = app.test_client()
    url = f"/nordland/workshops/{ids['oslo']}"
    with time_machine.travel(_at(14, 0, "Europe/Oslo"), tick=False):
        login(client, "coord@a.example")  # on the day: a session lives less than 30 days
        # The coordinator's Close: neither offered nor done while the workshop runs.
        assert "Close the workshop" not in client.get(url).get_data(as_text=True)
        page = client.post(f"{url}/end", follow_redirects=True).get_data(as_text=True)
        assert "A workshop can be closed once it is over." in page
        # The service refuses whoever calls it.
        tenant_id = ids_tenant(app, ids["oslo"])
        with app.test_request_context(), tenant_scope(tenant_id), pytest.raises(ServiceError):
            end_workshop(db.session.get(Workshop, ids["oslo"]))
        # A later day typed into the command ends nothing that is not over.
        later = (TODAY + timedelta(days=60)).isoformat()
        result = app.test_cli_runner().invoke(args=["send-reminders", "--today", later])
        assert result.exit_code == 0, result.output
        assert "0 workshops ended" in result.output
    assert _closed(app) == [] and recorder.ended == []
    with time_machine.travel(_at(15, 1, "Europe/Oslo"), tick=False):
        assert "Close the workshop" in client.get(url).get_data(as_text=True)
        page = client.post(f"{url}/end", follow_redirects=True).get_data(as_text=True)
        assert "The workshop is closed." in page
    assert _closed(app) == ["In Oslo"] and recorder.ended == ["In Oslo"]


def ids_tenant(app, workshop_id: int) -> int:
    with app.app_context(), unscoped():
        return db.session.get(Workshop, workshop_id).tenant_id
