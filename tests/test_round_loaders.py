"""The bulk round loaders comparison plugins use: right rounds, one query, ETag fingerprint."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.benchmarking import services
from portal.benchmarking.comparisons import cluster_rounds, latest_rounds, rounds_fingerprint
from portal.benchmarking.models import BenchmarkRound
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.conftest import count_queries


@pytest.fixture
def rounds(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    factory.enable_plugin(world["b"], "esca")
    other = factory.cluster(world["b"], "Far Away")
    with app.test_request_context():
        indicator_set = services.find_set("esca-gold", "2013")
        plan = [
            (world["a"], world["c1"], date(2024, 3, 1), 2),
            (world["a"], world["c1"], date(2025, 3, 1), 4),
            (world["a"], world["c2"], date(2023, 6, 1), 3),
            (world["b"], other, date(2025, 6, 1), 5),
        ]
        for tenant, cluster, day, score in plan:
            with tenant_scope(tenant.id):
                services.save_round(
                    None,
                    db.session.get(Cluster, cluster.id),
                    indicator_set,
                    {"held_on": day, "audit": score == 4},
                    {"engagement": (float(score), ""), "services": (1.0, "")},
                )
    return world


def test_latest_round_of_each_cluster_in_one_query(app, rounds):
    with app.test_request_context(), tenant_scope(rounds["a"].id):
        with count_queries(app) as queries:
            latest = latest_rounds("esca-gold", "2013")
        assert len(queries) == 1
        assert [(r.cluster_name, r.held_on, r.audit) for r in latest] == [
            ("Arctic Minerals", date(2025, 3, 1), True),
            ("Helgeland Health", date(2023, 6, 1), False),
        ]
        assert latest[0].values == {"engagement": (4.0, "green"), "services": (1.0, "red")}
        earlier = latest_rounds("esca-gold", "2013", on=date(2024, 12, 31))
        assert [r.held_on for r in earlier] == [date(2024, 3, 1), date(2023, 6, 1)]
        assert latest_rounds("esca-gold", "1999") == []


def test_a_clusters_rounds_oldest_first(app, rounds):
    with app.test_request_context(), tenant_scope(rounds["a"].id):
        with count_queries(app) as queries:
            found = cluster_rounds(rounds["c1"].id, "esca-gold")
        assert len(queries) == 1
        assert [r.held_on for r in found] == [date(2024, 3, 1), date(2025, 3, 1)]
        assert cluster_rounds(rounds["c1"].id, "other-set") == []
        # another region's cluster is not there, whatever its id
        assert cluster_rounds(rounds["c1"].id + 1000) == []


def test_the_fingerprint_changes_with_any_round(app, rounds):
    with app.test_request_context(), tenant_scope(rounds["a"].id):
        first = rounds_fingerprint()
        assert rounds_fingerprint() == first
        indicator_set = services.find_set("esca-gold", "2013")
        cluster = db.session.get(Cluster, rounds["c2"].id)
        existing = db.session.scalar(
            select(BenchmarkRound).where(BenchmarkRound.cluster_id == cluster.id)
        )
        services.correct_round(
            None,
            existing,
            indicator_set,
            {"held_on": existing.held_on, "reason": "A typing error"},
            {"engagement": (1.0, "")},
        )
        changed = rounds_fingerprint()
        assert changed != first
        draft = services.save_round(
            None,
            cluster,
            indicator_set,
            {"held_on": date(2024, 2, 2), "confirm": False},
            {"engagement": (2.0, "")},
        )
        drafted = rounds_fingerprint()
        assert drafted != changed
        services.delete_round(None, draft)  # a draft may go; a confirmed round is kept
        assert rounds_fingerprint() != drafted  # the rounds are as they were before it


def test_first_round_after_a_day(app, rounds):
    from portal.benchmarking.comparisons import first_rounds_after

    with app.test_request_context(), tenant_scope(rounds["a"].id):
        with count_queries(app) as queries:
            found = first_rounds_after("esca-gold", "2013", date(2024, 1, 1))
        assert len(queries) == 1
        assert [(r.cluster_name, r.held_on) for r in found] == [
            ("Arctic Minerals", date(2024, 3, 1))
        ]
        assert first_rounds_after("esca-gold", "2013", date(2025, 3, 1)) == []
