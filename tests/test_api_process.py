"""The JSON API's members, programmes, plans and actions: every operation, filtered and
sorted like the pages, permissions per role, and a new action checked as the form checks it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.api_support import role_headers
from tests.process_support import build_process

API = "/api/v1/nordland"


@pytest.fixture
def headers(app, world):
    return role_headers(app)


@pytest.fixture
def process(app, world):
    return build_process(app, world, actions=3)


def test_members_of_a_cluster(app, world, client, headers):
    url = f"{API}/clusters/{world['c1'].id}/members"
    listed = client.get(url, headers=headers["observer"])
    assert listed.status_code == 200
    body = listed.json
    assert body["total"] == 5 and len(body["items"]) == 5
    names = [m["name"].lower() for m in body["items"]]
    assert names == sorted(names)
    first = body["items"][0]
    one = client.get(f"{url}/{first['id']}", headers=headers["observer"])
    assert one.status_code == 200 and one.json == first
    # A member of c1 asked under c2: not found.
    other = client.get(
        f"{API}/clusters/{world['c2'].id}/members/{first['id']}", headers=headers["observer"]
    )
    assert other.status_code == 404
    kind = first["member_type"]
    typed = client.get(f"{url}?type={kind}", headers=headers["observer"]).json
    assert typed["total"] >= 1 and {m["member_type"] for m in typed["items"]} == {kind}
    words = client.get(f"{url}?q={first['name'][:6]}", headers=headers["observer"]).json
    assert first["id"] in [m["id"] for m in words["items"]]
    assert client.get(f"{url}?type=alien", headers=headers["observer"]).status_code == 422


def test_programmes_with_progress(app, world, client, headers, process):
    listed = client.get(f"{API}/programmes", headers=headers["observer"]).json
    assert listed["total"] == 1
    (row,) = listed["items"]
    assert row["participant_count"] == 2 and row["progress"]["actions"] == 4
    assert 0 <= row["progress"]["percent"] <= 100
    one = client.get(f"{API}/programmes/{row['id']}", headers=headers["observer"]).json
    assert one["progress"] == row["progress"] and one["joint_plan_count"] == 1
    assert one["own_plan_count"] == 1 and one["overdue_count"] == 1  # Action 000 was due
    for state, found in (("running", 1), ("upcoming", 0), ("ended", 0)):
        got = client.get(f"{API}/programmes?state={state}", headers=headers["observer"]).json
        assert got["total"] == found, state
    assert client.get(f"{API}/programmes?q=forum", headers=headers["member"]).json["total"] == 1
    assert client.get(f"{API}/programmes?q=nothing", headers=headers["member"]).json["total"] == 0
    parts = client.get(
        f"{API}/programmes/{row['id']}/participants", headers=headers["observer"]
    ).json
    assert [p["cluster_name"] for p in parts["items"]] == ["Arctic Minerals", "Helgeland Health"]
    assert parts["items"][0]["goal"].startswith("Silver")
    assert parts["items"][0]["progress"]["actions"] == 3
    assert client.get(f"{API}/programmes?sort=alien", headers=headers["member"]).status_code == 422


def test_plans_filtered_like_the_pages(app, world, client, headers, process):
    everything = client.get(f"{API}/plans", headers=headers["observer"]).json
    assert everything["total"] == 2
    own = client.get(f"{API}/plans?cluster_id={world['c1'].id}", headers=headers["observer"]).json
    assert [p["id"] for p in own["items"]] == [process.plan_id]
    assert own["items"][0]["progress"]["actions"] == 3
    joint = client.get(f"{API}/plans?kind=joint", headers=headers["observer"]).json
    assert [p["id"] for p in joint["items"]] == [process.joint_id]
    of_programme = client.get(
        f"{API}/plans?programme_id={process.programme_id}&sort=title", headers=headers["observer"]
    ).json
    assert [p["title"] for p in of_programme["items"]] == ["Arctic plan", "Joint plan"]
    assert client.get(f"{API}/plans?state=ended", headers=headers["observer"]).json["total"] == 0
    one = client.get(f"{API}/plans/{process.plan_id}", headers=headers["observer"]).json
    assert one["title"] == "Arctic plan" and one["kind"] == "individual"
    assert client.get(f"{API}/plans/999999", headers=headers["observer"]).status_code == 404


def _new(title="Press kit", **extra) -> dict:
    return {"title": title, "due_date": (date.today() + timedelta(days=30)).isoformat(), **extra}


def test_a_new_action_answers_201_with_location_and_etag(
    app, world, factory, client, headers, process
):
    factory.enable_plugin(world["a"], "esca")  # its indicators may be aimed at
    url = f"{API}/plans/{process.plan_id}/actions"
    made = client.post(
        url,
        json=_new(
            owner_id=process.member_id,
            progress=20,
            status="in_progress",
            weight="2",
            planned_hours="12.5",
            indicators=["esca-gold/2013/engagement"],
        ),
        headers=headers["cluster_manager"],
    )
    assert made.status_code == 201, made.json
    assert made.json["cluster_ids"] == [world["c1"].id]  # the plan's cluster by default
    location = made.headers["Location"]
    assert location.endswith(f"/api/v1/nordland/actions/{made.json['id']}")
    # A client that accepts compression gets the same strong ETag (If-Match compares strongly).
    read = client.get(
        location, headers={**headers["cluster_manager"], "Accept-Encoding": "br, gzip"}
    )
    assert read.headers["ETag"] == made.headers["ETag"]
    assert not read.headers["ETag"].startswith("W/")
    # The ETag of the answer opens a change at once.
    changed = client.patch(
        location,
        json={"status": "done"},
        headers={**headers["cluster_manager"], "If-Match": made.headers["ETag"]},
    )
    assert changed.status_code == 200 and changed.json["progress"] == 100


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({}, "title"),
        (_new(progress=101), "progress"),
        (_new(status="finished"), "status"),
        (_new(priority="urgent!"), "priority"),
        (_new(weight="0"), "weight"),
        (_new(weight="NaN"), "weight"),
        (_new(planned_hours="-1"), "planned_hours"),
        (_new(start_date="2030-01-10", due_date="2030-01-01"), "due_date"),
        (_new(cluster_ids=[999999]), "cluster_ids"),
        (_new(owner_id=999999), "owner_id"),
        (_new(workshop_id=999999), "workshop_id"),
        (_new(indicators=["no-such/1/x"]), "indicators"),
        (_new(indicators=["not an indicator"]), "indicators"),
        (_new(colour="red"), "colour"),
    ],
)
def test_a_new_action_is_checked_like_the_form(app, world, client, headers, process, body, field):
    url = f"{API}/plans/{process.plan_id}/actions"
    before = client.get(url, headers=headers["coordinator"]).json["total"]
    answer = client.post(url, json=body, headers=headers["coordinator"])
    assert answer.status_code == 422, answer.json
    assert answer.mimetype == "application/problem+json"
    assert field in answer.json.get("errors", {}), answer.json
    assert client.get(url, headers=headers["coordinator"]).json["total"] == before


def test_an_observer_as_owner_is_refused(app, world, client, headers, process):
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        observer = db.session.scalar(select(User).where(User.email == "observer@a.example"))
    answer = client.post(
        f"{API}/plans/{process.plan_id}/actions",
        json=_new(owner_id=observer.id),
        headers=headers["coordinator"],
    )
    assert answer.status_code == 422 and "owner_id" in answer.json["errors"]


@pytest.mark.parametrize(
    ("role", "own_plan", "joint_plan"),
    [
        ("coordinator", 201, 201),
        ("cluster_manager", 201, 403),  # manages c1's plan, not the joint one
        ("member", 403, 403),
        ("observer", 403, 403),
        ("assessor", 403, 403),
    ],
)
def test_who_may_add_an_action(app, world, client, headers, process, role, own_plan, joint_plan):
    for plan_id, expected in ((process.plan_id, own_plan), (process.joint_id, joint_plan)):
        answer = client.post(f"{API}/plans/{plan_id}/actions", json=_new(), headers=headers[role])
        assert answer.status_code == expected, (role, plan_id, answer.json)


def test_a_status_change_needs_the_version_and_a_role(app, world, client, headers, process):
    url = f"{API}/actions/{process.action_ids[0]}"
    etag = client.get(url, headers=headers["observer"]).headers["ETag"]
    assert (
        client.patch(url, json={"status": "blocked"}, headers=headers["member"]).status_code == 428
    )
    denied = client.patch(
        url, json={"status": "blocked"}, headers={**headers["observer"], "If-Match": etag}
    )
    assert denied.status_code == 403
    # Action 000 is the manager's: the member (owner of 001) may not change it.
    denied = client.patch(
        url, json={"status": "blocked"}, headers={**headers["member"], "If-Match": etag}
    )
    assert denied.status_code == 403
    done = client.patch(
        url, json={"status": "done"}, headers={**headers["cluster_manager"], "If-Match": etag}
    )
    assert done.status_code == 200 and done.json["progress"] == 100
    stale = client.patch(
        url, json={"status": "planned"}, headers={**headers["coordinator"], "If-Match": etag}
    )
    assert stale.status_code == 412
