"""The four comparisons computed from the database, privacy applied."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.benchmarking import services
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant
from tests.conftest import count_queries

SCORES = {"Arctic Minerals": 2, "Helgeland Health": 3, "C3": 4, "C4": 4, "C5": 5, "C6": 1}


@pytest.fixture
def forum(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    factory.enable_plugin(world["a"], "compare")
    for name in list(SCORES)[2:]:
        factory.cluster(world["a"], name)
    with app.test_request_context(), tenant_scope(world["a"].id):
        indicator_set = services.find_set("esca-gold", "2013")
        for cluster in db.session.scalars(select(Cluster)):
            score = SCORES[cluster.name]
            values = {i.id: (float(score), "") for i in indicator_set.indicators}
            values["private_funds"] = (0.0, "")  # the forum's weak spot
            if cluster.name == "Arctic Minerals":  # an older round, worse on engagement
                older = dict(values, engagement=(1.0, ""), services=(3.0, ""))
                services.save_round(
                    None, cluster, indicator_set, {"held_on": date(2024, 3, 1)}, older
                )
            services.save_round(None, cluster, indicator_set, {"held_on": date(2025, 3, 1)}, values)
    return world


def _context(app, world, email, cluster_id=None, **options):
    from portal_compare.privacy import context_for

    tenant = db.session.get(Tenant, world["a"].id)
    user = db.session.scalar(select(User).where(User.email == email))
    cluster = db.session.get(Cluster, cluster_id) if cluster_id else None
    indicator_set = services.find_set("esca-gold", "2013")
    return context_for(user, tenant, indicator_set, cluster=cluster, options=options)


def test_cluster_over_time(app, forum):
    from portal_compare.kinds import cluster_over_time

    with app.test_request_context(), tenant_scope(forum["a"].id):
        result = cluster_over_time(_context(app, forum, "manager@a.example", forum["c1"].id))
    assert [r.held_on for r in result.rounds] == [date(2024, 3, 1), date(2025, 3, 1)]
    changes = {row.indicator.id: row.change for row in result.rows}
    assert changes["engagement"] == "improved" and changes["services"] == "declined"
    assert changes["strategy_goal"] == "same"
    assert result.counts == {"improved": 1, "declined": 1, "same": 29}


def test_cluster_against_the_forum_leaves_itself_out(app, forum):
    from portal_compare.kinds import cluster_against_forum

    with app.test_request_context(), tenant_scope(forum["a"].id):
        result = cluster_against_forum(_context(app, forum, "manager@a.example", forum["c1"].id))
    assert result.others == 5 and not result.suppressed
    row = next(r for r in result.rows if r.indicator.id == "engagement")
    assert row.value == 2.0 and row.light == "red"
    assert row.forum.count == 5 and row.forum.median == 4.0  # 3, 4, 4, 5, 1
    assert (row.forum.q1, row.forum.q3) == (3.0, 4.0)
    assert row.forum.share("green") == 0.6


def test_small_groups_are_suppressed(app, forum):
    from portal_compare.kinds import cluster_against_forum, forum_scorecard

    from portal.tenancy.models import Tenant

    with app.test_request_context(), tenant_scope(forum["a"].id):
        db.session.get(Tenant, forum["a"].id).values_min_group = 6
        db.session.commit()
        against = cluster_against_forum(_context(app, forum, "coord@a.example", forum["c1"].id))
        assert against.suppressed and all(r.forum is None for r in against.rows)
        card = forum_scorecard(_context(app, forum, "coord@a.example"))
        assert not card.suppressed and card.clusters == 6  # six clusters reach K = 6


def test_scorecard_rows_names_and_ranking(app, forum):
    from portal_compare.kinds import forum_scorecard

    from portal.tenancy.models import Tenant

    with app.test_request_context(), tenant_scope(forum["a"].id):
        with count_queries(app) as queries:
            card = forum_scorecard(_context(app, forum, "coord@a.example", sort="-score"))
        assert len(queries) <= 7  # and the region's clusters, for their pseudonyms
        assert len(card.rows) == 6 and all(r.cluster_id is None for r in card.rows)
        assert all(r.label.startswith("Cluster ") for r in card.rows)
        assert card.weaknesses[0].indicator.id == "private_funds"
        scores = [sum(c[0] for c in r.cells) for r in card.rows]
        assert scores == sorted(scores, reverse=True)  # "-score": the best first
        db.session.get(Tenant, forum["a"].id).values_names_shown = True
        db.session.commit()
        named = forum_scorecard(_context(app, forum, "coord@a.example"))
        assert [r.label for r in named.rows][:2] == ["Arctic Minerals", "C3"]
        # an assessor sees every row but never the names
        assessor = forum_scorecard(_context(app, forum, "assessor@a.example"))
        assert len(assessor.rows) == 6 and assessor.rows[0].cluster_id is None


def test_a_manager_sees_only_their_own_row(app, forum):
    from portal_compare.kinds import forum_scorecard

    with app.test_request_context(), tenant_scope(forum["a"].id):
        card = forum_scorecard(_context(app, forum, "manager@a.example"))
        assert [r.label for r in card.rows] == ["Arctic Minerals"]
        observer = forum_scorecard(_context(app, forum, "observer@a.example"))
        assert observer.rows == [] and observer.summaries["engagement"].count == 6
