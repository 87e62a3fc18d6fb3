"""Silver evidence from data: "document an improvement" offers the improved indicators with
their two values, the work aimed at them and its measured effect, and records what the data
said that day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels.models import LabelEvidence
from portal.plans import services as plans
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import count_queries, login
from tests.test_labels import NEWEST, OLDEST, _enter

KEY = ("esca-gold", "2013", "engagement")


@pytest.fixture
def improved(app, world, factory):
    """c1 improved engagement (3 -> 4), services and communication between its two rounds;
    its plan's action on engagement ran in between. Four other clusters benchmarked too
    (engagement 3 -> 3), so the others' change may be shown (smallest group 3)."""
    factory.enable_plugin(world["a"], "esca")
    others = [factory.cluster(world["a"], f"Other {n}") for n in range(4)]
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, world["c1"].id)
        _enter(cluster, OLDEST, 3)
        _enter(cluster, NEWEST, 3, engagement=4, services=5, communication=4)
        for other in others:
            found = db.session.get(Cluster, other.id)
            _enter(found, OLDEST, 3)
            _enter(found, NEWEST, 3)
        plan = plans.create_plan(
            None,
            {"title": "Toward silver", "start_date": OLDEST, "end_date": NEWEST},
            tenant_id=world["a"].id,
            cluster=cluster,
        )
        plans.create_action(
            None,
            plan,
            {
                "title": "Monthly member meetings",
                "status": "done",
                "start_date": OLDEST + timedelta(days=10),
                "due_date": NEWEST - timedelta(days=10),
            },
            indicator_keys=[KEY],
        )
        from portal.tenancy.models import Tenant

        db.session.get(Tenant, world["a"].id).values_min_group = 3
        db.session.commit()
    return world


def _url(world):
    return f"/nordland/clusters/{world['c1'].id}/labels/improvements?scheme=esca"


def test_the_page_offers_each_improved_indicator_written_from_the_data(app, improved):
    client = app.test_client()
    login(client, "manager@a.example")
    page = client.get(_url(improved)).get_data(as_text=True)
    for name in ("Engagement of participants", "Activities and services", "Communication"):
        assert name in page
    assert "Monthly member meetings" in page
    # the text says the two values and the action's effect against the four others
    assert "Engagement of participants: 3 in the benchmarking of" in page
    assert "the cluster went from 3 to 4" in page
    assert "the 4 other clusters of the region changed by 0 on average" in page


def test_recording_keeps_what_the_data_said(app, improved):
    client = app.test_client()
    login(client, "manager@a.example")
    answer = client.post(
        _url(improved),
        data={"indicator_id": "engagement", "text": "Monthly meetings with every member."},
    )
    assert answer.status_code == 302
    with app.app_context(), unscoped():
        evidence = db.session.scalars(select(LabelEvidence)).one()
    assert evidence.kind == "improvement" and evidence.indicator_id == "engagement"
    assert evidence.text == "Monthly meetings with every member."
    assert evidence.data["indicator"] == list(KEY)
    assert [v for _day, v in evidence.data["rounds"]] == ["3", "4"]
    (work,) = evidence.data["work"]
    assert work["title"] == "Monthly member meetings" and work["reason"] == "ok"
    assert work["worked"] == [1, "3", "4", "1"]
    assert work["others"][0] == 4 and work["others"][3] == "0"
    path = client.get(f"/nordland/clusters/{improved['c1'].id}/labels").get_data(as_text=True)
    assert "3 → 4" in path  # the evidence list shows the data it was written from


def test_an_indicator_not_improved_is_refused_and_nothing_is_recorded(app, improved):
    client = app.test_client()
    login(client, "manager@a.example")
    answer = client.post(_url(improved), data={"indicator_id": "financing", "text": "x"})
    assert answer.status_code == 422
    assert "not one the cluster improved" in answer.get_data(as_text=True)
    empty = client.post(_url(improved), data={"indicator_id": "engagement", "text": "  "})
    assert empty.status_code == 422 and "Describe the evidence" in empty.get_data(as_text=True)
    bad_day = client.post(
        _url(improved), data={"indicator_id": "engagement", "text": "x", "on": "12/2025"}
    )
    assert bad_day.status_code == 422
    with app.app_context(), unscoped():
        assert db.session.scalars(select(LabelEvidence)).all() == []


def test_who_may_document(app, improved):
    client = app.test_client()
    login(client, "observer@a.example")
    assert client.get(_url(improved)).status_code == 403
    client.post("/logout")
    login(client, "member@a.example")  # a member of another cluster
    assert client.get(_url(improved)).status_code == 403
    client.post("/logout")
    login(client, "coord@a.example")
    assert client.get(_url(improved)).status_code == 200
    assert client.get(_url(improved).replace("esca", "nothing")).status_code == 404
    other = f"/bravo/clusters/{improved['c1'].id}/labels/improvements?scheme=esca"
    assert client.get(other).status_code == 404


def test_the_page_reads_a_fixed_number_of_queries(app, improved, factory):
    client = app.test_client()
    login(client, "manager@a.example")
    client.get(_url(improved))
    with count_queries(app) as small:
        client.get(_url(improved))
    with app.test_request_context(), tenant_scope(improved["a"].id):
        plan = db.session.scalars(select(plans.Plan)).one()
        for n in range(6):
            plans.create_action(
                None,
                plan,
                {"title": f"More work {n}", "status": "done", "start_date": OLDEST},
                indicator_keys=[KEY, ("esca-gold", "2013", "services")],
            )
        for n in range(5):
            found = db.session.get(Cluster, factory.cluster(improved["a"], f"More {n}").id)
            _enter(found, OLDEST, 2)
            _enter(found, NEWEST, 2)
    client.get(_url(improved))
    with count_queries(app) as large:
        client.get(_url(improved))
    assert len(large) == len(small)
