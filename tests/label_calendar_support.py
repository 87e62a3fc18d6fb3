"""A region for the label calendar's page, export, query and digest tests: ESCA on; Arctic
Minerals (c1) benchmarked 13 months ago with a bronze label resting on that round (it lapses
in 10 to 11 months, whatever today is) and an individual plan; Helgeland Health (c2)
benchmarked 2 months ago with no label (it can apply for bronze now). Dates are relative to
today."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from portal.extensions import db
from portal.labels.scheme import add_months
from portal.tenancy import tenant_scope

TODAY = date.today()


def benchmark(app, tenant_id: int, cluster_id: int, held_on: date, label: bool = False):
    """A confirmed benchmarking (and the bronze label of that day): as the system."""
    from portal.benchmarking.services import find_set, save_round
    from portal.clusters.models import Cluster
    from portal.labels.services import award, current_schemes

    with app.test_request_context(), tenant_scope(tenant_id):
        cluster = db.session.get(Cluster, cluster_id)
        indicator_set = find_set("esca-gold", "2013")
        values = {i.id: (3.0, "") for i in indicator_set.indicators}
        save_round(None, cluster, indicator_set, {"held_on": held_on}, values)
        if label:
            scheme = next(s for s in current_schemes(tenant_id) if s.id == "esca")
            return award(None, cluster, scheme, "bronze", held_on).expires_on
    return None


def plan(app, tenant_id: int, cluster_id: int, end: date, due: date | None = None):
    """An individual plan of the cluster ending on ``end``, with one open action due ``due``."""
    from portal.clusters.models import Cluster
    from portal.plans import services as plans

    with app.test_request_context(), tenant_scope(tenant_id):
        cluster = db.session.get(Cluster, cluster_id)
        created = plans.create_plan(
            None,
            {"title": "Silver plan", "start_date": TODAY - timedelta(days=30), "end_date": end},
            tenant_id=tenant_id,
            cluster=cluster,
        )
        if due is not None:
            plans.create_action(None, created, {"title": "Member survey", "due_date": due})
        return created.id


def build(app, world, factory) -> SimpleNamespace:
    factory.enable_plugin(world["a"], "esca")
    factory.user(
        "manager2@a.example", tenant=world["a"], role="cluster_manager", clusters=[world["c2"]]
    )
    factory.user("coord@b.example", tenant=world["b"], role="coordinator")
    a, c1, c2 = world["a"].id, world["c1"].id, world["c2"].id
    expires = benchmark(app, a, c1, add_months(TODAY, -13), label=True)
    benchmark(app, a, c2, add_months(TODAY, -2))
    plan_id = plan(app, a, c1, add_months(TODAY, 6), due=add_months(TODAY, 14))
    return SimpleNamespace(tenant=a, c1=c1, c2=c2, expires=expires, plan_id=plan_id)
