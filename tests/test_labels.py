"""Checking a cluster against a label scheme from what the database holds."""

from __future__ import annotations

from datetime import date

from portal.benchmarking import services as rounds
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels.models import LabelEvidence
from portal.labels.registry import schemes
from portal.labels.scheme import Verdict
from portal.labels.services import check, cluster_evidence
from portal.tenancy import tenant_scope
from tests.conftest import count_queries


def _enter(cluster, on, score, audit=False, **overrides):
    indicator_set = rounds.find_set("esca-gold", "2013")
    values = {i.id: (float(overrides.get(i.id, score)), "") for i in indicator_set.indicators}
    saved = rounds.save_round(None, cluster, indicator_set, {"held_on": on}, values)
    saved.audit = audit
    db.session.commit()


def test_silver_path_from_the_database(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, world["c1"].id)
        _enter(cluster, date(2024, 3, 1), 3)
        _enter(cluster, date(2025, 3, 1), 3, engagement=4, services=5, communication=4)
        scheme = schemes()[("esca", "2013")][1]
        result = check(scheme, cluster.id, date(2025, 6, 1))
        silver = next(e for e in result.levels if e.level.id == "silver")
        assert [r.verdict for r in silver.results] == [
            Verdict.MET,
            Verdict.NEEDS_EVIDENCE,
            Verdict.NEEDS_EVIDENCE,
        ]
        assert result.next_level == "bronze"  # no label is held yet
        for indicator in ("engagement", "services", "communication"):
            db.session.add(
                LabelEvidence(
                    tenant_id=world["a"].id,
                    cluster_id=cluster.id,
                    scheme="esca",
                    kind="improvement",
                    indicator_id=indicator,
                    text="Done",
                    recorded_on=date(2025, 4, 1),
                )
            )
        db.session.add(
            LabelEvidence(
                tenant_id=world["a"].id,
                cluster_id=cluster.id,
                scheme="esca",
                kind="expert_review",
                text="Recommended",
                recorded_on=date(2025, 5, 1),
            )
        )
        db.session.commit()
        silver = next(
            e for e in check(scheme, cluster.id, date(2025, 6, 1)).levels if e.level.id == "silver"
        )
        assert silver.eligible


def test_loading_the_evidence_costs_four_queries_whatever_the_size(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    cluster_id = world["c1"].id
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, cluster_id)
        _enter(cluster, date(2023, 1, 1), 2)
        with count_queries(app) as one:
            cluster_evidence(cluster_id)
        for year in (2024, 2025):
            _enter(cluster, date(year, 1, 1), 3)
        with count_queries(app) as three:
            evidence = cluster_evidence(cluster_id)
        assert len(one) == len(three) == 4 and len(evidence.rounds) == 3


# --- the pages ----------------------------------------------------------------------------

import pytest  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from portal.labels.models import Label  # noqa: E402
from portal.plans.models import Action  # noqa: E402
from portal.tenancy import unscoped  # noqa: E402
from tests.conftest import login  # noqa: E402


@pytest.fixture
def benchmarked(app, world, factory):
    """c1 has two rounds 12+ months apart with three improved indicators."""
    factory.enable_plugin(world["a"], "esca")
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, world["c1"].id)
        _enter(cluster, date(2024, 3, 1), 3)
        _enter(cluster, date(2025, 3, 1), 3, engagement=4, services=5, communication=4)
    return world


def test_path_to_the_next_label_shows_each_rule(client, benchmarked):
    login(client, "observer@a.example")
    page = client.get(f"/nordland/clusters/{benchmarked['c1'].id}/labels").get_data(as_text=True)
    for text in (
        "Bronze",
        "Silver",
        "Gold",
        "Needs evidence",
        "Not met",
        "the next label",
        "Engagement of participants",
    ):
        assert text in page, text
    assert "/labels/award" not in page and "Document an improvement" not in page  # read only


def test_award_checks_the_rules_and_records_who_decided(client, benchmarked, app):
    login(client, "coord@a.example")
    url = f"/nordland/clusters/{benchmarked['c1'].id}/labels/award"
    refused = client.post(
        url, data={"scheme": "esca", "version": "2020", "level": "silver"}, follow_redirects=True
    )
    assert b"Not every rule is met" in refused.data
    ok = client.post(
        url, data={"scheme": "esca", "version": "2020", "level": "bronze", "on": "2025-03-10"}
    )
    assert ok.status_code == 302
    with app.app_context(), unscoped():
        label = db.session.scalar(select(Label))
    # Bronze counts 24 months from the newest round's month (March 2025).
    assert (label.level, label.scheme_version, label.expires_on) == (
        "bronze",
        "2020",
        date(2027, 2, 28),
    )
    assert label.decided_by_id is not None
    future = client.post(
        url,
        data={"scheme": "esca", "version": "2020", "level": "bronze", "on": "2999-01-01"},
        follow_redirects=True,
    )
    assert b"future" in future.data
    assert (
        client.post(url, data={"scheme": "nope", "version": "1", "level": "gold"}).status_code
        == 404
    )
    assert (
        client.post(
            url,
            data={"scheme": "esca", "version": "2020", "level": "bronze", "on": "soon"},
            follow_redirects=True,
        ).status_code
        == 200
    )


def test_evidence_makes_silver_eligible(client, benchmarked, app):
    login(client, "manager@a.example")
    url = f"/nordland/clusters/{benchmarked['c1'].id}/labels/evidence"
    for indicator in ("engagement", "services", "communication"):
        assert (
            client.post(
                url,
                data={
                    "scheme": "esca",
                    "kind": "improvement",
                    "indicator_id": indicator,
                    "text": "A member survey and a new service catalogue",
                },
            ).status_code
            == 302
        )
    client.post(url, data={"scheme": "esca", "kind": "expert_review", "text": "Recommends silver"})
    empty = client.post(
        url, data={"scheme": "esca", "kind": "improvement", "text": " "}, follow_redirects=True
    )
    assert b"Describe the evidence" in empty.data
    assert (
        client.post(
            f"/nordland/clusters/{benchmarked['c2'].id}/labels/evidence",
            data={"scheme": "esca", "kind": "expert_review", "text": "x"},
        ).status_code
        == 403
    )
    client.post("/logout")
    login(client, "coord@a.example")
    page = client.get(f"/nordland/clusters/{benchmarked['c1'].id}/labels").get_data(as_text=True)
    assert "all rules met" in page and "Award Silver" in page
    ok = client.post(
        f"/nordland/clusters/{benchmarked['c1'].id}/labels/award",
        data={"scheme": "esca", "version": "2020", "level": "silver"},
    )
    assert ok.status_code == 302


def test_an_unmet_rule_becomes_an_action(client, benchmarked, app):
    from tests.process_support import build_process

    build_process(app, benchmarked, actions=1)  # gives c1 an individual plan
    login(client, "manager@a.example")
    response = client.post(
        f"/nordland/clusters/{benchmarked['c1'].id}/labels/to-action",
        data={"title": "Silver: Review by an ESCA-certified expert", "reason": "Record it"},
    )
    assert response.status_code == 302 and "/actions/" in response.headers["Location"]
    with app.app_context(), unscoped():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Action).where(Action.title.like("Silver:%"))
            )
            == 1
        )
    no_plan = client.post(
        f"/nordland/clusters/{benchmarked['c2'].id}/labels/to-action",
        data={"title": "X"},
        follow_redirects=True,
    )
    assert b"no improvement plan" in no_plan.data


def test_register_filters_and_fixed_queries(client, benchmarked, app):
    from datetime import timedelta

    with app.test_request_context(), tenant_scope(benchmarked["a"].id):
        for level, expires in (
            ("bronze", date(2020, 1, 1)),
            ("silver", date.today() + timedelta(days=20)),
        ):
            db.session.add(
                Label(
                    tenant_id=benchmarked["a"].id,
                    cluster_id=benchmarked["c1"].id,
                    scheme="esca",
                    scheme_version="2013",
                    level=level,
                    awarded_on=date(2019, 1, 1),
                    expires_on=expires,
                )
            )
        db.session.commit()
    login(client, "observer@a.example")
    everything = client.get("/nordland/labels/").get_data(as_text=True)
    assert "label-bronze" in everything and "label-silver" in everything and "expired" in everything
    soon = client.get("/nordland/labels/?within=3").get_data(as_text=True)
    assert "label-silver" in soon and "label-bronze" not in soon
    with count_queries(app) as few:
        client.get("/nordland/labels/")
    with app.test_request_context(), tenant_scope(benchmarked["a"].id):
        db.session.add_all(
            Label(
                tenant_id=benchmarked["a"].id,
                cluster_id=benchmarked["c2"].id,
                scheme="esca",
                scheme_version="2013",
                level="bronze",
                awarded_on=date(2021, 1, 1),
                expires_on=date(2023, 1, 1),
            )
            for _ in range(40)
        )
        db.session.commit()
    with count_queries(app) as many:
        client.get("/nordland/labels/")
    assert len(few) == len(many)


def test_a_held_label_is_not_awarded_again_unless_it_extends(client, benchmarked, app):
    login(client, "coord@a.example")
    cluster_id = benchmarked["c1"].id
    url = f"/nordland/clusters/{cluster_id}/labels/award"
    bronze = {"scheme": "esca", "version": "2020", "level": "bronze", "on": "2025-03-10"}
    assert client.post(url, data=bronze).status_code == 302
    again = client.post(url, data={**bronze, "on": "2025-04-01"}, follow_redirects=True)
    assert "awarding it now would not extend it" in again.get_data(as_text=True)
    page = client.get(f"/nordland/clusters/{cluster_id}/labels").get_data(as_text=True)
    assert "held until" in page
    # a newer round moves the bronze validity on: the renewal is accepted
    with app.test_request_context(), tenant_scope(benchmarked["a"].id):
        _enter(db.session.get(Cluster, cluster_id), date(2026, 3, 1), 3)
    renewed = client.post(url, data={**bronze, "on": "2026-03-05"})
    assert renewed.status_code == 302
    with app.app_context(), unscoped():
        expiries = sorted(lbl.expires_on for lbl in db.session.scalars(select(Label)))
    assert expiries == [date(2027, 2, 28), date(2028, 2, 29)]


def test_evidence_counts_only_for_its_own_scheme(app, world, factory):
    from portal.labels.scheme import EvidenceData
    from portal.labels.services import ClusterEvidence  # noqa: F401

    evidence = ClusterEvidence(
        evidence=(EvidenceData("expert_review", date(2025, 1, 1), scheme="arena"),)
    )
    assert evidence.evidence_for("esca", "expert_review", date(2025, 6, 1)) == []
    assert len(evidence.evidence_for("arena", "expert_review", date(2025, 6, 1))) == 1
    assert evidence.evidence_for("arena", "expert_review", date(2024, 12, 31)) == []
