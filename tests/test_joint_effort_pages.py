"""Effort saved, measured on both sides: the joint action's per-cluster cost against what
clusters really spent on their own actions on the same indicator (this region, published
regions), the clusters' estimates only where no baseline exists; the page and the export
say which; fixed queries; the region's setting to publish its baseline."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from portal_joint import services
from portal_joint.models import JointAction

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.plans import services as plans
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant
from tests.conftest import queries_per_page
from tests.locking_support import version_on
from tests.test_joint_pages import TODAY, _client, _text, joint  # noqa: F401  (the fixture)
from tests.test_settings import SETTINGS

COMMUNICATION = ("esca-gold", "2013", "communication")


def _own_actions(app, factory, tenant, names, money="2000", hours=None, status="done"):
    """Each new cluster of ``tenant`` did one action of its own on communication."""
    ids = []
    for name in names:
        cluster = factory.cluster(tenant, name)
        ids.append(cluster.id)
        with app.test_request_context(), tenant_scope(tenant.id):
            plan = plans.create_plan(
                None,
                {"title": "Own", "start_date": TODAY - timedelta(days=400), "end_date": TODAY},
                tenant_id=tenant.id,
                cluster=db.session.get(Cluster, cluster.id),
            )
            plans.create_action(
                None,
                plan,
                {"title": f"Own newsletter {name}", "status": status, "spent_money": money}
                | ({"spent_hours": hours} if hours else {}),
                indicator_keys=[COMMUNICATION],
            )
    return ids


def _finish_parts(app, joint):  # noqa: F811
    with app.test_request_context(), tenant_scope(joint.world["a"].id):
        action = db.session.get(JointAction, joint.branding)
        for part in action.parts:
            part.status = "done"
        db.session.get(Tenant, joint.world["a"].id).values_min_group = 3
        db.session.commit()


def test_measured_in_this_region_before_the_estimates(app, joint, factory):  # noqa: F811
    _finish_parts(app, joint)
    page = _text(_client(app, "cluster_manager").get(f"/nordland/joint/actions/{joint.branding}"))
    assert "Alone: the clusters' estimates (no measured baseline yet)." in page
    assert "€5,000.00 saved" in page  # c1's estimate of 8,000 minus the 3,000 it spent
    _own_actions(app, factory, joint.world["a"], ["Own A", "Own B", "Own C"], money="2500")
    page = _text(_client(app, "cluster_manager").get(f"/nordland/joint/actions/{joint.branding}"))
    assert "Alone: measured in this region, from 3 actions of 3 clusters." in page
    # two participants at 2,500 each alone: 5,000; together they spent 4,000
    assert "€1,000.00 saved" in page


def test_too_few_clusters_or_running_actions_are_no_baseline(app, joint, factory):  # noqa: F811
    _finish_parts(app, joint)
    _own_actions(app, factory, joint.world["a"], ["Own A", "Own B"], money="2500")
    _own_actions(app, factory, joint.world["a"], ["Own C"], money="9", status="in_progress")
    page = _text(_client(app, "cluster_manager").get(f"/nordland/joint/actions/{joint.branding}"))
    assert "Alone: the clusters' estimates (no measured baseline yet)." in page
    # the coordinator may see each cluster: the two clusters' figures count for them
    page = _text(_client(app, "coordinator").get(f"/nordland/joint/actions/{joint.branding}"))
    assert "Alone: measured in this region, from 2 actions of 2 clusters." in page


def test_published_regions_count_only_when_they_share(app, joint, factory):  # noqa: F811
    _finish_parts(app, joint)
    bravo = joint.world["b"]
    factory.enable_plugin(bravo, "esca")  # bravo benchmarks with the same indicator set
    _own_actions(app, factory, bravo, ["Bravo 1", "Bravo 2", "Bravo 3", "Bravo 4", "Bravo 5"])
    url = f"/nordland/joint/actions/{joint.branding}"
    client = _client(app, "cluster_manager")
    assert "estimates (no measured baseline yet)" in _text(client.get(url))
    with app.app_context():
        db.session.get(Tenant, bravo.id).effort_baseline_shared = True
        db.session.commit()
    page = _text(client.get(url))
    assert "Alone: measured with published regions, from 5 actions of 5 clusters" in page
    assert "(1 other region)" in page and "Bravo 1" not in page
    with app.app_context():  # amounts in another currency are not comparable
        db.session.get(Tenant, bravo.id).currency = "DKK"
        db.session.commit()
    assert "estimates (no measured baseline yet)" in _text(client.get(url))
    with app.app_context():
        db.session.get(Tenant, bravo.id).currency = "EUR"
        db.session.commit()
    with app.app_context():  # fewer than bravo's smallest group (5): not counted
        db.session.get(Tenant, bravo.id).values_min_group = 6
        db.session.commit()
    assert "estimates (no measured baseline yet)" in _text(client.get(url))


def test_the_export_says_which_alone_it_used(app, joint, factory):  # noqa: F811
    _finish_parts(app, joint)
    _own_actions(app, factory, joint.world["a"], ["Own A", "Own B", "Own C"], hours="40")
    client = _client(app, "coordinator")
    response = client.get(f"/nordland/joint/export.csv?programme={joint.programme_id}")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    branding = next(r for r in rows if r["title"] == "Joint branding")
    assert (branding["alone_basis_money"], branding["alone_basis_hours"]) == ("region", "region")
    assert branding["effort_saved_money"] == "0"  # 2 x 2,000 alone, 4,000 spent together
    assert branding["effort_saved_hours"] == "30"  # 2 x 40 alone, 50 spent together
    other = next(r for r in rows if r["title"] == "Member services")
    assert other["alone_basis_money"] == "none"


def test_the_pages_run_fixed_queries_with_baselines(app, joint, factory):  # noqa: F811
    _finish_parts(app, joint)
    world = joint.world
    client = _client(app, "cluster_manager")
    urls = (
        f"/nordland/joint/actions/{joint.branding}",
        f"/nordland/joint/?programme={joint.programme_id}",
        f"/nordland/joint/export.csv?programme={joint.programme_id}",
    )
    with app.app_context():
        db.session.get(Tenant, world["b"].id).effort_baseline_shared = True
        db.session.commit()
    factory.enable_plugin(world["b"], "esca")

    def counts():
        return queries_per_page(app, client, urls)

    _own_actions(app, factory, world["a"], ["Own A", "Own B", "Own C"])
    few = counts()
    _own_actions(app, factory, world["a"], [f"Own {i}" for i in range(8)], hours="12")
    _own_actions(app, factory, world["b"], [f"Bravo {i}" for i in range(6)])
    with app.test_request_context(), tenant_scope(world["a"].id):
        programme = db.session.get(JointAction, joint.branding).programme_id
        from portal.programmes.models import Programme

        for i in range(6):
            services.create_action(
                None,
                db.session.get(Programme, programme),
                {"title": f"More {i}", "due_date": TODAY + timedelta(days=i)},
                clusters=[world["c1"].id],
                indicators=[COMMUNICATION, ("esca-gold", "2013", "services")],
            )
    many = counts()
    assert many == few


def test_coordinators_publish_the_baseline_in_the_settings(app, world, client):
    from tests.conftest import login

    with app.app_context():
        assert db.session.get(Tenant, world["a"].id).effort_baseline_shared is False
    login(client, "coord@a.example")
    page = client.get("/nordland/settings").get_data(as_text=True)
    assert "Share our measured effort baseline with other regions" in page
    data = {**SETTINGS, "effort_baseline_shared": "y"}
    data["version"] = version_on(client, "/nordland/settings")
    assert client.post("/nordland/settings", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Tenant, world["a"].id).effort_baseline_shared is True
    data = {**SETTINGS, "version": version_on(client, "/nordland/settings")}
    assert client.post("/nordland/settings", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Tenant, world["a"].id).effort_baseline_shared is False
