"""The demo tells the improvement loop end to end (portal.demo.story): a cluster whose actions
on three indicators show an effect and became its silver evidence, a coordinated
benchmarking the forum over time compares, a label about to lapse with no renewal planned."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels.models import LabelEvidence
from portal.plans.models import Action, ActionIndicator
from portal.programmes.models import Programme
from portal.tenancy import unscoped
from portal.tenancy.models import Tenant

PASSWORD = "cluster-forum-demo"


def _names(app) -> list[str]:
    with app.app_context(), unscoped():
        return db.session.scalars(
            select(Cluster.name)
            .join(Tenant, Tenant.id == Cluster.tenant_id)
            .where(Tenant.slug == "nordland")
            .order_by(Cluster.name)
        ).all()


def test_the_demo_tells_the_improvement_loop(app, runner):
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    names = _names(app)
    with app.app_context(), unscoped():
        ready = db.session.scalar(select(Cluster).where(Cluster.name == names[1]))
        evidence = db.session.scalars(
            select(LabelEvidence).where(
                LabelEvidence.cluster_id == ready.id, LabelEvidence.kind == "improvement"
            )
        ).all()
        linked = db.session.scalar(select(func.count()).select_from(ActionIndicator))
        actions = db.session.scalar(select(func.count()).select_from(Action))
    # three improvements documented from the data, each with its action and a measured effect
    assert len(evidence) == 3 and all(e.data for e in evidence)
    measured = [w for e in evidence for w in e.data["work"] if w["reason"] == "ok"]
    assert len(measured) >= 2
    assert all(w["worked"][3] is not None and float(w["worked"][3]) > 0 for w in measured)
    assert any("Månedlige medlemsmøter i hver delregion" in e.text for e in evidence)
    client = app.test_client()
    client.post("/login", data={"email": "coordinator@nordland.example", "password": PASSWORD})
    forum = client.get("/nordland/compare/forum").get_data(as_text=True)
    assert 'id="fot-table-caption"' in forum  # two coordinated benchmarkings compared
    lapsing = client.get("/nordland/labels/risk?kind=no_renewal").get_data(as_text=True)
    assert names[0] in lapsing
    # the joint press and media training's effort saved rests on a measured baseline
    with app.app_context(), unscoped():
        programme = db.session.scalar(
            select(Programme.id).join(Tenant).where(Tenant.slug == "nordland")
        )
    exported = client.get(f"/nordland/joint/export.csv?programme={programme}").text
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    training = next(r for r in rows if r["title"] == "Felles presse- og medietrening")
    assert training["alone_basis_money"] == "region" and float(training["effort_saved_money"]) > 0
    # idempotent: a second run adds no actions and no links
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    with app.app_context(), unscoped():
        assert db.session.scalar(select(func.count()).select_from(Action)) == actions
        assert db.session.scalar(select(func.count()).select_from(ActionIndicator)) == linked


def test_the_demo_speaks_its_regions_language(app, runner):
    """The Norwegian region's demo data reads Norwegian, the Danish one's Danish, and the
    sign-in table names the roles in words."""
    from portal.plans.models import Plan
    from portal.workshops.models import Workshop

    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    table = result.output.split("Sign in at", 1)[1]
    assert "Cluster manager" in table and "Coordinator" in table and "Platform admin" in table
    assert "cluster_manager" not in table and "platform admin" not in table
    with app.app_context(), unscoped():

        def texts(model, column, slug):
            return db.session.scalars(
                select(column).join(Tenant, Tenant.id == model.tenant_id).where(Tenant.slug == slug)
            ).all()

        nordland = texts(Cluster, Cluster.name, "nordland")
        sectors = texts(Cluster, Cluster.sector, "nordland")
        plans = texts(Plan, Plan.title, "nordland")
        workshops = texts(Workshop, Workshop.title, "nordland")
        programmes = texts(Programme, Programme.name, "nordland")
        danish = texts(Cluster, Cluster.name, "midtjylland")
        danish_sectors = texts(Cluster, Cluster.sector, "midtjylland")
    assert "Lofoten Sjømatinnovasjon" in nordland and "Arktisk Mineralklynge" in nordland
    assert "Sjømat og havbruk" in sectors
    assert "Felles plan mot sølv" in plans and any(p.endswith(": mot sølv") for p in plans)
    assert "Mot sølv: felles og egne planer" in workshops
    assert all(p.startswith("Nordland klyngeforum") for p in programmes)
    assert sorted(danish) == ["Fødevareklynge Midtjylland", "Vindsystemer Danmark"]
    assert "Vindenergi" in danish_sectors
    english = ("Cluster", "toward silver", "Seafood", "Kick-off", "Joint ", "Wind ")
    for text in nordland + sectors + plans + workshops + programmes + danish + danish_sectors:
        assert not any(word in text for word in english), text
