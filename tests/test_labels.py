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
