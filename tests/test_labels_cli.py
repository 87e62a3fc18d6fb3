"""``portal labels check`` and awarding by an assessor."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels.models import Label
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import login
from tests.test_labels import NEWEST, OLDEST, _enter


@pytest.fixture
def benchmarked(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, world["c1"].id)
        _enter(cluster, OLDEST, 3)
        _enter(cluster, NEWEST, 3, engagement=4, services=5, communication=4)
    return world


def _check(runner, *args):
    return runner.invoke(args=["labels", "check", *args])


def test_check_prints_every_level_and_rule_as_json(runner, benchmarked):
    result = _check(runner, "nordland", "Arctic Minerals", "--scheme", "esca", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scheme"]["id"] == "esca" and data["scheme"]["version"] == "2020"
    assert data["cluster"] == {"id": benchmarked["c1"].id, "name": "Arctic Minerals"}
    levels = {level["id"]: level for level in data["levels"]}
    assert list(levels) == ["bronze", "silver", "gold"]
    assert levels["bronze"]["eligible"] is True
    assert levels["silver"]["eligible"] is False
    verdicts = [r["verdict"] for r in levels["silver"]["rules"]]
    assert verdicts == ["met", "needs_evidence", "needs_evidence"]
    proposed = levels["silver"]["rules"][1]["indicators"]
    assert set(proposed) == {"engagement", "services", "communication"}
    assert all(r["reason"] for level in data["levels"] for r in level["rules"])
    assert data["next_level"] == "bronze"


def test_check_on_a_day_in_the_past_and_by_id_and_version(runner, benchmarked):
    cluster_id = str(benchmarked["c1"].id)
    day_before = (OLDEST - timedelta(days=1)).isoformat()
    before = _check(
        runner, "nordland", cluster_id, "--scheme", "esca", "--on", day_before, "--json"
    )
    assert before.exit_code == 0, before.output
    levels = json.loads(before.output)["levels"]
    assert levels[0]["eligible"] is False  # no round yet on that day
    old = _check(
        runner, "nordland", cluster_id, "--scheme", "esca", "--scheme-version", "2013", "--json"
    )
    assert json.loads(old.output)["scheme"]["version"] == "2013"


def test_check_speaks_the_regions_language_or_the_one_asked(runner, benchmarked):
    text = _check(runner, "nordland", "Arctic Minerals", "--scheme", "esca", "--locale", "nb")
    assert text.exit_code == 0, text.output
    assert "Bronse" in text.output and "✔" in text.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "Arctic Minerals", "--scheme", "esca"], "no region"),
        (["nordland", "Atlantis", "--scheme", "esca"], "no cluster"),
        (["nordland", "Arctic Minerals", "--scheme", "nope"], "no label scheme 'nope'"),
        (
            ["nordland", "Arctic Minerals", "--scheme", "esca", "--scheme-version", "1999"],
            "no label scheme 'esca' 1999",
        ),
        (["nordland", "Arctic Minerals", "--scheme", "esca", "--on", "soon"], "soon"),
    ],
)
def test_check_refuses_unknown_input(runner, benchmarked, args, message):
    result = _check(runner, *args)
    assert result.exit_code != 0
    assert message in result.output


def test_check_needs_the_plugin_switched_on(runner, world):
    result = _check(runner, "nordland", "Arctic Minerals", "--scheme", "esca")
    assert result.exit_code == 2 and "no label scheme" in result.output


def test_an_other_regions_cluster_is_unknown(runner, benchmarked, factory):
    other = factory.cluster(benchmarked["b"], "Far Away")
    result = _check(runner, "nordland", str(other.id), "--scheme", "esca")
    assert result.exit_code != 0 and "no cluster" in result.output


def test_an_assessor_awards_and_records_expert_reviews(client, benchmarked, app):
    login(client, "assessor@a.example")
    cluster_id = benchmarked["c1"].id
    page = client.get(f"/nordland/clusters/{cluster_id}/labels").get_data(as_text=True)
    assert "Award" in page
    review = client.post(
        f"/nordland/clusters/{cluster_id}/labels/evidence",
        data={"scheme": "esca", "kind": "expert_review", "text": "Recommended for silver"},
    )
    assert review.status_code == 302
    ok = client.post(
        f"/nordland/clusters/{cluster_id}/labels/award",
        data={
            "scheme": "esca",
            "version": "2020",
            "level": "bronze",
            "on": (NEWEST + timedelta(days=1)).isoformat(),
        },
    )
    assert ok.status_code == 302
    with app.app_context(), unscoped():
        label = db.session.scalar(select(Label))
        assessor = label.decided_by.email if label.decided_by else None
    assert assessor == "assessor@a.example"
    # an assessor takes no part in the joint process
    assert client.get(f"/nordland/plans/new?cluster_id={cluster_id}").status_code == 403


def test_check_shows_the_labels_held_on_the_day_and_every_verdict(runner, benchmarked, app):
    from portal.labels.scheme import valid_until

    awarded = NEWEST + timedelta(days=2)
    with app.app_context(), tenant_scope(benchmarked["a"].id):
        db.session.add(
            Label(
                tenant_id=benchmarked["a"].id,
                cluster_id=benchmarked["c1"].id,
                scheme="esca",
                scheme_version="2020",
                level="bronze",
                awarded_on=awarded,
                expires_on=valid_until(NEWEST.replace(day=1), 24),
                notes="",
            )
        )
        db.session.commit()
    expires = valid_until(NEWEST.replace(day=1), 24).isoformat()
    data = json.loads(
        _check(runner, "nordland", "Arctic Minerals", "--scheme", "esca", "--json").output
    )
    assert data["held"] == [
        {
            "level": "bronze",
            "name": "Bronze",
            "awarded_on": awarded.isoformat(),
            "expires_on": expires,
        }
    ]
    assert data["next_level"] == "silver"
    silver = {level["id"]: level for level in data["levels"]}["silver"]
    two_rounds, improvements = silver["rules"][0], silver["rules"][1]
    assert "12 months apart" in two_rounds["reason"]
    assert "Engagement of participants" in improvements["reason"]  # names, not ids
    assert set(improvements["indicators"]) == {"engagement", "services", "communication"}
    # The day before the award, nothing is held.
    day = (awarded - timedelta(days=1)).isoformat()
    before = json.loads(
        _check(
            runner, "nordland", "Arctic Minerals", "--scheme", "esca", "--on", day, "--json"
        ).output
    )
    assert before["held"] == [] and before["next_level"] == "bronze"
    text = _check(runner, "nordland", "Arctic Minerals", "--scheme", "esca").output
    assert "Labels held on" in text and "Bronze, awarded on" in text
    assert "✔ Met: Two benchmarkings at least 12 months apart. Rounds on" in text
    assert "? Needs evidence: Improvement on at least 3 indicators" in text
    norsk = _check(runner, "nordland", "Arctic Minerals", "--scheme", "esca", "--locale", "nb")
    assert (
        "Deltakernes engasjement" in norsk.output
        and "Engagement of participants" not in norsk.output
    )
