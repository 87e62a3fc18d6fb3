"""The JSON API's workshops: the list (upcoming, past), one workshop, its registrations as
the page shows them to each role, and registering oneself as the page allows."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.api_support import role_headers
from tests.registration_support import build_registration

API = "/api/v1/nordland"


@pytest.fixture
def headers(app, world):
    return role_headers(app)


def _workshop(app, world, title: str, days: int, **extra) -> int:
    from portal.workshops import services

    with app.test_request_context(), tenant_scope(world["a"].id):
        data = {
            "title": title,
            "day": date.today() + timedelta(days=days),
            "start_time": time(9),
            "end_time": time(12),
            **extra,
        }
        return services.create_workshop(None, data, world["a"].id).id


def test_upcoming_and_past_like_the_page(app, world, client, headers):
    soon = _workshop(app, world, "Soon", 3)
    later = _workshop(app, world, "Later", 30)
    past = _workshop(app, world, "Last year", -300)
    gone = _workshop(app, world, "Long ago", -700)
    get = lambda q: client.get(f"{API}/workshops{q}", headers=headers["observer"]).json  # noqa: E731
    assert [w["id"] for w in get("?when=upcoming")["items"]] == [soon, later]
    assert [w["id"] for w in get("?when=past")["items"]] == [past, gone]
    assert [w["id"] for w in get("")["items"]] == [later, soon, past, gone]
    assert [w["id"] for w in get("?sort=title")["items"]] == [past, later, gone, soon]
    assert [w["id"] for w in get("?q=long")["items"]] == [gone]
    one = client.get(f"{API}/workshops/{soon}", headers=headers["observer"]).json
    assert one["title"] == "Soon" and one["registered"] == 0 and one["cancelled"] is False
    assert (
        client.get(f"{API}/workshops?when=tomorrow", headers=headers["observer"]).status_code == 422
    )


def test_registrations_in_full_for_managers_names_for_others(app, world, client, headers):
    built = build_registration(app, world)
    url = f"{API}/workshops/{built.workshop_id}/registrations"
    full = client.get(url, headers=headers["coordinator"]).json
    (row,) = full["items"]
    assert row["name"] and row["email"] == "member@a.example"
    assert row["answers"] == {str(built.question_id): "A"} and row["clusters"] == [
        "Helgeland Health"
    ]
    for role in ("observer", "cluster_manager", "member", "assessor"):
        seen = client.get(url, headers=headers[role]).json
        (row,) = seen["items"]
        assert row["name"] and set(row) == {
            "id",
            "workshop_id",
            "user_id",
            "name",
            "status",
            "requested_at",
        }, role


def _invite_c2(app, world, workshop_id: int) -> None:
    from portal.workshops import services
    from portal.workshops.models import Workshop

    with app.test_request_context(), tenant_scope(world["a"].id):
        services.invite(None, db.session.get(Workshop, workshop_id), cluster_ids=[world["c2"].id])


def test_registering_oneself_as_the_page_allows(app, world, client, headers):
    built = build_registration(app, world)
    url = f"{API}/workshops/{built.workshop_id}/registration"
    # Not invited, or an observer: not allowed, as on the page.
    for role in ("observer", "cluster_manager"):
        assert client.post(url, json={}, headers=headers[role]).status_code == 403, role
    # The coordinators may; the workshop's required question must be answered.
    missing = client.post(url, json={}, headers=headers["coordinator"])
    assert missing.status_code == 422 and missing.mimetype == "application/problem+json"
    assert len(missing.json["errors"]) == 1
    (required,) = missing.json["errors"]
    wrong = {str(built.question_id): "C", required[1:]: "Vegetarian"}
    answer = client.post(url, json={"answers": wrong}, headers=headers["coordinator"])
    assert answer.status_code == 422 and f"q{built.question_id}" in answer.json["errors"]
    good = {str(built.question_id): "B", required[1:]: "Vegetarian"}
    answer = client.post(url, json={"answers": good}, headers=headers["coordinator"])
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "registered" and answer.json["answers"] == good
    # Again: nothing changes.
    again = client.post(url, json={"answers": good}, headers=headers["coordinator"])
    assert again.json["id"] == answer.json["id"]
    seats = client.get(f"{API}/workshops/{built.workshop_id}", headers=headers["observer"]).json
    assert seats["registered"] == 2
    cancelled = client.delete(url, headers=headers["coordinator"])
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    # The member's cluster invited: the member registers (already registered: kept).
    _invite_c2(app, world, built.workshop_id)
    mine = client.post(url, json={"answers": good}, headers=headers["member"])
    assert mine.status_code == 200 and mine.json["status"] == "registered"


def test_a_past_workshop_takes_no_registration(app, world, client, headers):
    past = _workshop(app, world, "Over", -3)
    answer = client.post(
        f"{API}/workshops/{past}/registration", json={}, headers=headers["coordinator"]
    )
    assert answer.status_code == 422 and answer.json["detail"]
    assert (
        client.delete(
            f"{API}/workshops/{past}/registration", headers=headers["coordinator"]
        ).status_code
        == 422
    )
    unknown = client.post(
        f"{API}/workshops/{past}/registration", json={"seat": 1}, headers=headers["coordinator"]
    )
    assert unknown.status_code == 422 and "seat" in unknown.json["errors"]
