"""The JSON API's benchmarking rounds and labels under the privacy policy: a list holds
only the rounds each role may see, a round nobody may see is not found, rounds are entered
by the roles that may and checked as the round form checks them; labels held, the path to
the next label (its verdicts quote values) and the published register."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.api_support import role_headers

API = "/api/v1/nordland"
SET = {"indicator_set": "esca-gold", "set_version": "2013"}


@pytest.fixture
def headers(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    return role_headers(app)


def _rounds(app, world) -> dict[str, int]:
    """c1: a confirmed benchmarking; c2: a confirmed benchmarking and a self-assessment."""
    from portal.benchmarking import services
    from portal.clusters.models import Cluster

    made = {}
    with app.test_request_context(), tenant_scope(world["a"].id):
        indicator_set = services.find_set("esca-gold", "2013")
        values = {i.id: (2.0, "") for i in indicator_set.indicators}
        for key, cluster_id, data in (
            ("c1", world["c1"].id, {"held_on": date.today() - timedelta(days=90)}),
            ("c2", world["c2"].id, {"held_on": date.today() - timedelta(days=80)}),
            (
                "c2_self",
                world["c2"].id,
                {"held_on": date.today() - timedelta(days=10), "kind": "self_assessment"},
            ),
        ):
            cluster = db.session.get(Cluster, cluster_id)
            made[key] = services.save_round(None, cluster, indicator_set, data, values).id
    return made


@pytest.mark.parametrize(
    ("role", "seen"),
    [
        ("coordinator", {"c1", "c2", "c2_self"}),
        ("assessor", {"c1", "c2", "c2_self"}),
        ("cluster_manager", {"c1"}),  # c1's own circle
        ("member", {"c2", "c2_self"}),  # c2's own circle, workings too
        ("observer", set()),
    ],
)
def test_rounds_only_as_the_privacy_policy_allows(app, world, client, headers, role, seen):
    made = _rounds(app, world)
    listed = client.get(f"{API}/rounds", headers=headers[role]).json
    assert {r["id"] for r in listed["items"]} == {made[k] for k in seen}
    assert listed["total"] == len(seen)
    for key, round_id in made.items():
        answer = client.get(f"{API}/rounds/{round_id}", headers=headers[role])
        assert answer.status_code == (200 if key in seen else 404), (role, key)
        if key in seen:
            assert len(answer.json["values"]) > 3
            assert {v["value"] for v in answer.json["values"]} == {2.0}


def test_a_sharing_choice_shows_evidence_not_workings(app, world, client, headers):
    from portal.privacy import services as privacy

    made = _rounds(app, world)
    with app.test_request_context(), tenant_scope(world["a"].id):
        from portal.clusters.models import Cluster

        c2 = db.session.get(Cluster, world["c2"].id)
        privacy.share_with_observers(None, c2, True)
    listed = client.get(f"{API}/rounds", headers=headers["observer"]).json
    assert [r["id"] for r in listed["items"]] == [made["c2"]]
    hidden = client.get(f"{API}/rounds/{made['c2_self']}", headers=headers["observer"])
    assert hidden.status_code == 404


def test_rounds_filtered_and_sorted(app, world, client, headers):
    made = _rounds(app, world)
    get = lambda q: [  # noqa: E731
        r["id"]
        for r in client.get(f"{API}/rounds{q}", headers=headers["coordinator"]).json["items"]
    ]
    assert get("") == [made["c2_self"], made["c2"], made["c1"]]
    assert get("?sort=held_on") == [made["c1"], made["c2"], made["c2_self"]]
    assert get(f"?cluster_id={world['c2'].id}") == [made["c2_self"], made["c2"]]
    assert get("?kind=self_assessment") == [made["c2_self"]]
    since = (date.today() - timedelta(days=85)).isoformat()
    assert get(f"?since={since}&kind=benchmarking") == [made["c2"]]
    assert get("?indicator_set=other") == []
    bad = client.get(f"{API}/rounds?since=yesterday", headers=headers["coordinator"])
    assert bad.status_code == 422 and "since" in bad.json["errors"]


def _body(**extra) -> dict:
    from portal.benchmarking.services import find_set

    indicators = [i.id for i in find_set("esca-gold", "2013").indicators]
    values = {i: {"value": 3.0, "comment": ""} for i in indicators}
    return {
        **SET,
        "held_on": (date.today() - timedelta(days=1)).isoformat(),
        "values": values,
    } | extra


@pytest.mark.parametrize(
    ("role", "kind", "status"),
    [
        ("assessor", "benchmarking", 201),
        ("coordinator", "self_assessment", 201),
        ("cluster_manager", "self_assessment", 201),  # of c1, their cluster
        ("cluster_manager", "benchmarking", 403),  # an expert's result
        ("member", "self_assessment", 403),
        ("observer", "self_assessment", 403),
    ],
)
def test_who_enters_a_round(app, world, client, headers, role, kind, status):
    with app.app_context():
        body = _body(kind=kind)
    url = f"{API}/clusters/{world['c1'].id}/rounds"
    answer = client.post(url, json=body, headers=headers[role])
    assert answer.status_code == status, answer.json
    if status == 201:
        assert answer.headers["Location"].endswith(f"/rounds/{answer.json['id']}")
        assert answer.json["kind"] == kind and answer.json["confirmed"] is False
        if role == "assessor":
            assert answer.json["assessor"]  # the expert's own name


def test_a_coordinator_names_the_expert_and_confirms(app, world, client, headers):
    url = f"{API}/clusters/{world['c2'].id}/rounds"
    with app.app_context():
        body = _body(kind="audit", confirm=True)
    unnamed = client.post(url, json=body, headers=headers["coordinator"])
    assert unnamed.status_code == 422 and "assessor" in unnamed.json["errors"]
    made = client.post(url, json=body | {"assessor": "Dr. Expert"}, headers=headers["coordinator"])
    assert made.status_code == 201 and made.json["confirmed"] is True
    twice = client.post(url, json=body | {"assessor": "Dr. Expert"}, headers=headers["coordinator"])
    assert twice.status_code == 422  # one round of a kind per cluster, set version and day


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"indicator_set": "no-such"}, "indicator_set"),
        ({"held_on": (date.today() + timedelta(days=3)).isoformat()}, "held_on"),
        ({"held_on": "soon"}, "held_on"),
        ({"kind": "guess"}, "kind"),
        ({"values": {}}, "_empty"),
        ({"values": {"no-such-indicator": {"value": 1.0}}}, "_unknown"),
        ({"values": {"x": {"value": "NaN"}}}, "values"),
        ({"values": {"x": {"value": 1e400}}}, "values"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_round_is_checked_like_the_form(app, world, client, headers, change, field):
    url = f"{API}/clusters/{world['c1'].id}/rounds"
    with app.app_context():
        body = _body(kind="benchmarking") | change
    answer = client.post(url, json=body, headers=headers["assessor"])
    assert answer.status_code == 422, answer.json
    assert field in answer.json["errors"], answer.json
    assert client.get(f"{API}/rounds", headers=headers["coordinator"]).json["total"] == 0


def test_a_value_outside_its_scale_is_refused(app, world, client, headers):
    url = f"{API}/clusters/{world['c1'].id}/rounds"
    with app.app_context():
        body = _body(kind="benchmarking")
    first = next(iter(body["values"]))
    body["values"][first]["value"] = 1000.0
    answer = client.post(url, json=body, headers=headers["assessor"])
    assert answer.status_code == 422 and first in answer.json["errors"]


def _label(app, world, cluster_key: str, score: float, days: int = 200) -> int:
    from portal.labels.models import Label

    with app.test_request_context(), tenant_scope(world["a"].id):
        label = Label(
            tenant_id=world["a"].id,
            cluster_id=world[cluster_key].id,
            scheme="esca",
            scheme_version="2013",
            level="bronze",
            awarded_on=date.today() - timedelta(days=30),
            expires_on=date.today() + timedelta(days=days),
            score=score,
        )
        db.session.add(label)
        db.session.commit()
        return label.id


def test_labels_held_with_scores_as_the_policy_allows(app, world, client, headers):
    own = _label(app, world, "c2", 41.5)
    other = _label(app, world, "c1", 12.25, days=20)
    register = client.get(f"{API}/labels", headers=headers["member"]).json
    scores = {row["id"]: row["score"] for row in register["items"]}
    assert scores == {own: "41.5", other: None}  # the member sees c2's values only
    assert [r["id"] for r in register["items"]] == [own, other]  # newest expiry first
    observer = client.get(f"{API}/labels", headers=headers["observer"]).json
    assert {row["score"] for row in observer["items"]} == {None}
    within = client.get(f"{API}/labels?within=3", headers=headers["observer"]).json
    assert [r["id"] for r in within["items"]] == [other]
    held = client.get(f"{API}/clusters/{world['c2'].id}/labels", headers=headers["observer"]).json
    assert [r["id"] for r in held["items"]] == [own] and held["items"][0]["level"] == "bronze"
    assert client.get(f"{API}/labels?within=5", headers=headers["observer"]).status_code == 422


def test_the_path_to_the_next_label_only_for_those_who_see_values(app, world, client, headers):
    _rounds(app, world)
    url = f"{API}/clusters/{world['c2'].id}/label-checks"
    for role in ("observer", "cluster_manager"):
        answer = client.get(url, headers=headers[role])
        assert answer.status_code == 403 and answer.mimetype == "application/problem+json"
    for role in ("member", "coordinator", "assessor"):
        body = client.get(url, headers=headers[role]).json
        (check,) = body["checks"]
        assert check["scheme"] == "esca" and check["levels"]
        rules = [r for level in check["levels"] for r in level["rules"]]
        assert rules and {r["verdict"] for r in rules} <= {"met", "not_met", "needs_evidence"}


def test_the_published_register(app, world, client, headers):
    from portal.tenancy.models import Tenant

    label_id = _label(app, world, "c1", 77.0)
    url = f"{API}/register"
    assert client.get(url, headers=headers["observer"]).status_code == 404  # not published
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.id == world["a"].id))
        tenant.register_published = True
        db.session.commit()
    body = client.get(url, headers=headers["observer"]).json
    assert [r["id"] for r in body["items"]] == [label_id]
    assert body["items"][0]["cluster"] == "Arctic Minerals" and body["items"][0]["score"] is None
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.id == world["a"].id))
        tenant.register_scores_published = True
        db.session.commit()
    assert client.get(url, headers=headers["observer"]).json["items"][0]["score"] == "77.0"
