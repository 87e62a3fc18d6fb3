"""Programmes: overview at a glance, participants and goals, milestones, timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.plans.models import Plan
from portal.programmes.models import Milestone, Programme, ProgrammeCluster
from portal.tenancy import unscoped
from tests.conftest import login
from tests.locking_support import version_in
from tests.process_support import build_process


@pytest.fixture
def process(app, world):
    return build_process(app, world)


def test_coordinator_creates_a_programme_and_bad_input_is_refused(client, world, app):
    login(client, "coord@a.example")
    ok = client.post(
        "/nordland/programmes/new",
        data={
            "name": "Forum 2016-2018",
            "start_date": "2016-01-01",
            "end_date": "2018-12-31",
            "description": "Joint process",
        },
    )
    assert ok.status_code == 302
    for data in (
        {"name": "", "start_date": "2016-01-01", "end_date": "2018-12-31"},
        {"name": "Backwards", "start_date": "2018-01-01", "end_date": "2016-12-31"},
        {"name": "forum 2016-2018", "start_date": "2016-01-01", "end_date": "2018-12-31"},
        {"name": "Bad date", "start_date": "31.12.2016", "end_date": "2018-12-31"},
    ):
        assert client.post("/nordland/programmes/new", data=data).status_code == 422, data
    with app.app_context(), unscoped():
        assert db.session.scalar(select(func.count()).select_from(Programme)) == 1


def test_only_coordinators_manage_programmes(client, process):
    login(client, "manager@a.example")
    assert client.get("/nordland/programmes/new").status_code == 403
    assert (
        client.post(
            f"/nordland/programmes/{process.programme_id}/milestones",
            data={"title": "X", "kind": "other", "due_date": "2026-01-01"},
        ).status_code
        == 403
    )
    assert client.get(f"/nordland/programmes/{process.programme_id}").status_code == 200


def test_overview_at_a_glance(client, process):
    login(client, "observer@a.example")
    page = client.get(f"/nordland/programmes/{process.programme_id}").get_data(as_text=True)
    for expected in (
        "Arctic Minerals",
        "Silver before the bronze label expires",
        "Joint plan",
        "Action 000",
        "Overdue actions",
        "Timeline",
        "timeline-svg",
        "Calendar feed",
    ):
        assert expected in page, expected
    index = client.get("/nordland/programmes/").get_data(as_text=True)
    assert "Forum 2026-2028" in index and "<progress" in index


def test_participants_goals_and_milestones(client, process, world, factory, app):
    third = factory.cluster(world["a"], "Polar Life")
    login(client, "coord@a.example")
    base = f"/nordland/programmes/{process.programme_id}"
    assert (
        client.post(
            base + "/participants", data={"cluster_id": str(third.id), "goal": "Gold"}
        ).status_code
        == 302
    )
    page = client.get(base).get_data(as_text=True)
    assert "Polar Life" in page and "Gold" in page
    again = client.post(
        base + "/participants", data={"cluster_id": str(third.id)}, follow_redirects=True
    )
    assert "Polar Life takes part already." in again.get_data(as_text=True)
    client.post(
        base + "/milestones",
        data={
            "title": "Coordinated bronze benchmarking",
            "kind": "benchmarking",
            "due_date": "2027-03-01",
        },
    )
    with app.app_context(), unscoped():
        milestone = db.session.scalar(select(Milestone))
    assert milestone.kind.value == "benchmarking"
    # The button names the version the page showed; without one nothing changes (409).
    done = base + f"/milestones/{milestone.id}/done"
    assert client.post(done, data={"done": "1"}).status_code == 409
    with app.app_context(), unscoped():
        assert not db.session.get(Milestone, milestone.id).done
    client.post(done, data={"done": "1", "version": str(milestone.version)})
    with app.app_context(), unscoped():
        assert db.session.get(Milestone, milestone.id).done
    bad = client.post(
        base + "/milestones",
        data={"title": "", "kind": "alien", "due_date": "soon"},
        follow_redirects=True,
    )
    assert bad.status_code == 200


def test_a_goal_too_long_is_refused_with_the_text_kept(client, process, world, app):
    login(client, "coord@a.example")
    with app.app_context(), unscoped():
        participant = db.session.scalar(
            select(ProgrammeCluster).where(ProgrammeCluster.cluster_id == world["c1"].id)
        )
    url = f"/nordland/programmes/{process.programme_id}/participants/{participant.id}"
    version = version_in(client.get(url).get_data(as_text=True))
    long_goal = "Gold " * 401
    refused = client.post(url + "/goal", data={"goal": long_goal, "version": version})
    assert refused.status_code == 422
    assert long_goal.strip() in refused.get_data(as_text=True)
    with app.app_context(), unscoped():
        assert db.session.get(ProgrammeCluster, participant.id).goal == participant.goal


def test_deleting_a_programme_keeps_the_clusters_own_plans(client, process, app):
    login(client, "coord@a.example")
    assert client.post(f"/nordland/programmes/{process.programme_id}/delete").status_code == 302
    with app.app_context(), unscoped():
        titles = set(db.session.scalars(select(Plan.title)))
    assert titles == {"Arctic plan"}


def test_calendar_key_can_be_renewed(client, process, app):
    with app.app_context(), unscoped():
        old = db.session.get(Programme, process.programme_id).calendar_key
    login(client, "coord@a.example")
    client.post(f"/nordland/programmes/{process.programme_id}/calendar-key")
    with app.app_context(), unscoped():
        assert db.session.get(Programme, process.programme_id).calendar_key != old
