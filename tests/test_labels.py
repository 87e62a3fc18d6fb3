"""Checking a cluster against a label scheme from what the database holds."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from portal.benchmarking import services as rounds
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels import services
from portal.labels.models import LabelEvidence
from portal.labels.registry import schemes
from portal.labels.scheme import Verdict, add_months, valid_until
from portal.labels.services import check, cluster_evidence
from portal.tenancy import tenant_scope
from tests.conftest import count_queries

# Rounds of the pages' tests, relative to today: the pages check on today, and a
# benchmarking counts 24 months from its month. The newest was nine months ago, the oldest
# twelve months before it: both valid today, so silver's two rounds are met.
TODAY = date.today()
NEWEST = add_months(TODAY, -9)
OLDEST = add_months(NEWEST, -12)


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
from sqlalchemy import select  # noqa: E402

from portal.labels.models import Label  # noqa: E402
from portal.plans.models import Action  # noqa: E402
from portal.tenancy import unscoped  # noqa: E402
from tests.conftest import login  # noqa: E402


@pytest.fixture
def benchmarked(app, world, factory):
    """c1 has two rounds 12 months apart (``OLDEST``, ``NEWEST``: both still valid today)
    with three improved indicators."""
    factory.enable_plugin(world["a"], "esca")
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, world["c1"].id)
        _enter(cluster, OLDEST, 3)
        _enter(cluster, NEWEST, 3, engagement=4, services=5, communication=4)
    return world


def test_path_to_the_next_label_shows_each_rule(app, client, benchmarked):
    """An observer reads the path once the cluster shares its report with the observers
    (before, the privacy policy hides its values, and the reasons quote them)."""
    from portal.privacy.services import share_with_observers

    login(client, "observer@a.example")
    url = f"/nordland/clusters/{benchmarked['c1'].id}/labels"
    assert "Engagement of participants" not in client.get(url).get_data(as_text=True)
    with app.test_request_context(), tenant_scope(benchmarked["a"].id):
        share_with_observers(None, db.session.get(Cluster, benchmarked["c1"].id), True)
    page = client.get(url).get_data(as_text=True)
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
    on = NEWEST + timedelta(days=9)
    ok = client.post(
        url, data={"scheme": "esca", "version": "2020", "level": "bronze", "on": on.isoformat()}
    )
    assert ok.status_code == 302
    with app.app_context(), unscoped():
        label = db.session.scalar(select(Label))
    # Bronze counts 24 months from the newest round's month.
    assert (label.level, label.scheme_version, label.awarded_on, label.expires_on) == (
        "bronze",
        "2020",
        on,
        valid_until(NEWEST.replace(day=1), 24),
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
    # the expert's review is the expert's: the manager may not record it
    review = {"scheme": "esca", "kind": "expert_review", "text": "Recommends silver"}
    assert client.post(url, data=review).status_code == 403
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
    login(client, "assessor@a.example")
    assert client.post(url, data=review).status_code == 302
    with app.app_context(), unscoped():
        roles = db.session.scalars(
            select(LabelEvidence.recorded_role).order_by(LabelEvidence.id)
        ).all()
        assert roles == ["cluster_manager"] * 3 + ["assessor"]
    client.post("/logout")
    login(client, "coord@a.example")
    page = client.get(f"/nordland/clusters/{benchmarked['c1'].id}/labels").get_data(as_text=True)
    assert "all rules met" in page and "Award Silver" in page
    assert "4 pieces of evidence recorded" in page and "(Assessor)" in page
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
        data={"title": "Silver: Review by an ESCA-certified expert", "reason": "values 2.4"},
    )
    assert response.status_code == 302 and "/actions/" in response.headers["Location"]
    with app.app_context(), unscoped():
        (action,) = db.session.scalars(select(Action).where(Action.title.like("Silver:%")))
        # every role reads plans: the rule's reason (it may quote values) stays on the path
        assert "2.4" not in action.description
        assert f"/clusters/{benchmarked['c1'].id}/labels" in action.description
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
    first_day = NEWEST + timedelta(days=9)
    bronze = {"scheme": "esca", "version": "2020", "level": "bronze", "on": first_day.isoformat()}
    assert client.post(url, data=bronze).status_code == 302
    later = add_months(first_day, 1).isoformat()
    again = client.post(url, data={**bronze, "on": later}, follow_redirects=True)
    assert "awarding it now would not extend it" in again.get_data(as_text=True)
    page = client.get(f"/nordland/clusters/{cluster_id}/labels").get_data(as_text=True)
    assert "held until" in page
    # a newer round moves the bronze validity on: the renewal is accepted
    newer = add_months(NEWEST, 6)
    with app.test_request_context(), tenant_scope(benchmarked["a"].id):
        _enter(db.session.get(Cluster, cluster_id), newer, 3)
    renewed = client.post(url, data={**bronze, "on": (newer + timedelta(days=4)).isoformat()})
    assert renewed.status_code == 302
    with app.app_context(), unscoped():
        expiries = sorted(lbl.expires_on for lbl in db.session.scalars(select(Label)))
    assert expiries == [
        valid_until(NEWEST.replace(day=1), 24),
        valid_until(newer.replace(day=1), 24),
    ]


def test_evidence_counts_only_for_its_own_scheme(app, world, factory):
    from portal.labels.scheme import EvidenceData
    from portal.labels.services import ClusterEvidence  # noqa: F401

    evidence = ClusterEvidence(
        evidence=(EvidenceData("expert_review", date(2025, 1, 1), scheme="arena"),)
    )
    assert evidence.evidence_for("esca", "expert_review", date(2025, 6, 1)) == []
    assert len(evidence.evidence_for("arena", "expert_review", date(2025, 6, 1))) == 1
    assert evidence.evidence_for("arena", "expert_review", date(2024, 12, 31)) == []


# --- the calendar and exact scores, through the database and the pages ---------------------


def test_evidence_keeps_the_day_it_happened(client, benchmarked, app):
    login(client, "assessor@a.example")
    url = f"/nordland/clusters/{benchmarked['c1'].id}/labels/evidence"
    page = client.get(f"/nordland/clusters/{benchmarked['c1'].id}/labels").get_data(as_text=True)
    assert "Happened on" in page and f'max="{TODAY.isoformat()}"' in page
    happened = NEWEST + timedelta(days=20)
    review = {"scheme": "esca", "kind": "expert_review", "text": "Recommends silver"}
    assert client.post(url, data={**review, "on": happened.isoformat()}).status_code == 302
    assert client.post(url, data=review).status_code == 302  # no day given: today
    future = client.post(
        url, data={**review, "on": (TODAY + timedelta(days=1)).isoformat()}, follow_redirects=True
    )
    assert "cannot have happened in the future" in future.get_data(as_text=True)
    bad = client.post(url, data={**review, "on": "yesterday"}, follow_redirects=True)
    assert "Enter the day it happened as YYYY-MM-DD" in bad.get_data(as_text=True)
    with app.app_context(), unscoped():
        stored = db.session.scalars(select(LabelEvidence).order_by(LabelEvidence.id)).all()
        assert [e.recorded_on for e in stored] == [happened, TODAY]
        # the entry's own time is kept apart: both were typed in today
        assert all(e.created_at.date() >= TODAY - timedelta(days=1) for e in stored)


def test_a_real_past_award_is_checked_as_of_its_day(client, benchmarked, app):
    """Evidence typed in today with the days it happened; an award of a past day sees only
    what had happened by then."""
    cluster_id = benchmarked["c1"].id
    login(client, "coord@a.example")
    url = f"/nordland/clusters/{cluster_id}/labels"
    documented, reviewed = NEWEST + timedelta(days=5), NEWEST + timedelta(days=20)
    for indicator in ("engagement", "services", "communication"):
        client.post(
            f"{url}/evidence",
            data={
                "scheme": "esca",
                "kind": "improvement",
                "indicator_id": indicator,
                "text": "A new member service",
                "on": documented.isoformat(),
            },
        )
    client.post(
        f"{url}/evidence",
        data={
            "scheme": "esca",
            "kind": "expert_review",
            "text": "Recommends silver",
            "on": reviewed.isoformat(),
        },
    )
    silver = {"scheme": "esca", "version": "2020", "level": "silver"}
    early = client.post(
        f"{url}/award",
        data={**silver, "on": (reviewed - timedelta(days=1)).isoformat()},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Not every rule is met" in early and "Review by an ESCA-certified expert" in early
    day = reviewed + timedelta(days=10)
    assert client.post(f"{url}/award", data={**silver, "on": day.isoformat()}).status_code == 302
    with app.app_context(), unscoped():
        label = db.session.scalar(select(Label))
        assert (label.level, label.awarded_on, label.expires_on) == (
            "silver",
            day,
            valid_until(day, 24),
        )


def test_no_award_expires_on_or_before_its_day(app, world, factory):
    """A bronze label lasts as long as its benchmarking: awarded on the benchmarking's last
    valid day it would expire that very day, so it is refused; the day after, the
    benchmarking no longer counts."""
    from portal.errors import ServiceError

    factory.enable_plugin(world["a"], "esca")
    held_on = add_months(TODAY, -30).replace(day=1)
    last_day = valid_until(held_on, 24)
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, world["c2"].id)
        _enter(cluster, held_on, 3)
        scheme = schemes()[("esca", "2020")][1]
        with pytest.raises(ServiceError, match="would already expire on"):
            services.award(None, cluster, scheme, "bronze", last_day)
        with pytest.raises(ServiceError, match="Not every rule is met"):
            services.award(None, cluster, scheme, "bronze", last_day + timedelta(days=1))
        label = services.award(None, cluster, scheme, "bronze", last_day - timedelta(days=1))
        assert label.expires_on == last_day > label.awarded_on


# One-decimal values of the 31 indicators adding up to exactly 124 of 155 points (80 %):
# added up as binary floats in the set's order they make 123.99999999999997 ("79 %").
TYPED_124 = (32, 35, 48, 31, 39, 30, 38, 45, 49, 42, 43, 42, 48, 44, 34, 41) + (
    33,
    31,
    34,
    45,
    36,
    38,
    43,
    50,
    39,
    43,
    46,
    42,
    48,
    41,
    30,
)


def test_scores_from_the_database_are_exact(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, world["c1"].id)
        indicator_set = rounds.find_set("esca-gold", "2013")
        values = {
            i.id: (n / 10, "") for i, n in zip(indicator_set.indicators, TYPED_124, strict=True)
        }
        assert sum(v for v, _light in values.values()) < 124  # what floats said
        audit = rounds.save_round(
            None, cluster, indicator_set, {"held_on": date(2025, 8, 1)}, values
        )
        audit.audit = True
        db.session.commit()
        scheme = schemes()[("esca", "2013")][1]
        result = check(scheme, cluster.id, date(2025, 9, 1))
        gold = next(e for e in result.levels if e.level.id == "gold")
        assert gold.eligible
        assert "124 of 155 points (80.0 %)" in gold.results[1].reason
        loaded = cluster_evidence(cluster.id).rounds[0]
        assert loaded.values["engagement"][0] == Decimal("3.2")


def test_the_register_shows_a_score_only_to_who_may_see_the_clusters_values(
    client, benchmarked, app
):
    """A label is public; its score is the cluster's own value (the privacy policy's call,
    as in the API)."""
    with app.test_request_context(), tenant_scope(benchmarked["a"].id):
        db.session.add(
            Label(
                tenant_id=benchmarked["a"].id,
                cluster_id=benchmarked["c1"].id,
                scheme="esca",
                scheme_version="2013",
                level="gold",
                awarded_on=date(2019, 1, 1),
                expires_on=date(2021, 1, 1),
                score=Decimal("123.5"),
            )
        )
        db.session.commit()
    shown = {}
    for email in ("coord@a.example", "observer@a.example", "manager@a.example"):
        login(client, email)
        shown[email] = "123.5" in client.get("/nordland/labels/").get_data(as_text=True)
        client.post("/logout")
    # The manager's cluster is c1: its own circle sees its score; an observer does not.
    assert shown == {
        "coord@a.example": True,
        "observer@a.example": False,
        "manager@a.example": True,
    }
