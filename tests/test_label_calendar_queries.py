"""The label calendar and the label risk page run a fixed number of SQL queries: measured in
the small region of tests/label_calendar_support.py and again after it grew to 22 clusters
with rounds of all 31 indicators, labels, planned assessments and plans with open actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels.models import Label, PlannedAssessment
from portal.plans.models import Action, Plan, PlanKind
from portal.tenancy import tenant_scope
from tests.conftest import count_queries, login
from tests.label_calendar_support import TODAY, build
from tests.test_label_queries import Batch, _indicators

BOUND = 22


@pytest.fixture
def cal(app, world, factory):
    return build(app, world, factory)


def _grow(app, cal, clusters=20):
    indicators = _indicators(app)
    with app.test_request_context(), tenant_scope(cal.tenant):
        new = [Cluster(tenant_id=cal.tenant, name=f"Cluster {i:03d}") for i in range(clusters)]
        db.session.add_all(new)
        db.session.flush()
        batch = Batch(cal.tenant)
        for n, cluster in enumerate([*new, db.session.get(Cluster, cal.c1)]):
            for r in range(3):
                batch.round(cluster.id, 150 * (r + 1) + n, (n + r) % 6, audit=r == 2)
            for k in range(4):
                batch.label(cluster.id, n * 4 + k)
            for k in range(2):
                batch.objects.append(
                    PlannedAssessment(
                        tenant_id=cal.tenant,
                        cluster_id=cluster.id,
                        scheme="esca",
                        kind="benchmarking",
                        planned_on=TODAY + timedelta(days=60 * (k + 1) + n),
                        level="",
                        notes="",
                    )
                )
            plan = Plan(
                tenant_id=cal.tenant,
                kind=PlanKind.INDIVIDUAL,
                cluster_id=cluster.id,
                title=f"Plan {n}",
                start_date=TODAY - timedelta(days=100),
                end_date=TODAY + timedelta(days=100 + n),
            )
            batch.objects.append(plan)
            for k in range(3):
                batch.objects.append(
                    Action(
                        tenant_id=cal.tenant,
                        plan=plan,
                        title=f"Action {k}",
                        due_date=TODAY + timedelta(days=30 * k - 40),
                    )
                )
        batch.save(indicators)
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Cluster, Label, PlannedAssessment, Action)
        )


def _pages(cal) -> dict[str, str]:
    return {
        "calendar": f"/nordland/clusters/{cal.c1}/labels/calendar",
        "risk": "/nordland/labels/risk",
        "risk, filtered": "/nordland/labels/risk?kind=no_renewal&within=24&scheme=esca",
        "risk, page 2": "/nordland/labels/risk?per_page=5&page=2",
        "risk export": "/nordland/labels/risk.csv",
    }


def _measure(app, client, cal) -> dict[str, int]:
    counts = {}
    for name, url in _pages(cal).items():
        with count_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[name] = len(statements)
    return counts


@pytest.mark.parametrize("who", ["coord@a.example", "manager@a.example", "observer@a.example"])
def test_calendar_and_risk_pages_cost_the_same_queries_whatever_the_size(app, client, cal, who):
    login(client, who)
    client.get("/nordland/labels/risk")  # warm the caches of a first request
    small = _measure(app, client, cal)
    clusters, labels, planned, actions = _grow(app, cal)
    assert clusters == 22 and labels > 80 and planned == 42 and actions > 60
    large = _measure(app, client, cal)
    assert small == large
    assert max(small.values()) <= BOUND, small


def test_the_grown_risk_page_shows_the_data(app, client, cal):
    _grow(app, cal)
    login(client, "coord@a.example")
    body = client.get("/nordland/labels/risk?per_page=100").get_data(as_text=True)
    assert body.count("<tr>") > 20 and "Cluster 0" in body
    calendar = client.get(f"/nordland/clusters/{cal.c1}/labels/calendar").get_data(as_text=True)
    assert calendar.count('<th scope="row">Planned: Benchmarking</th>') == 2


def test_the_risk_pages_cost_the_same_queries_past_the_loaders_batch_of_500_rounds(
    app, client, cal
):
    """SQLAlchemy's ``selectinload`` asks again for every 500 parents: the rounds' values are
    read in one query of their own, so over 500 rounds cost what a few do."""
    login(client, "coord@a.example")
    client.get("/nordland/labels/risk")  # warm the caches of a first request
    small = _measure(app, client, cal)
    clusters, *_rest = _grow(app, cal, clusters=170)  # and the first cluster: 171 × 3 rounds
    assert clusters == 172
    assert _measure(app, client, cal) == small
