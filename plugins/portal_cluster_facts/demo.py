"""Demo key figures for the demo regions' clusters (idempotent)."""

from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import select

from portal.toolkit import Cluster, db, tenant_scope
from portal_cluster_facts.models import KeyFigure


def load(tenant) -> None:
    rng = random.Random(tenant.slug)
    with tenant_scope(tenant):
        clusters = db.session.scalars(select(Cluster).order_by(Cluster.id)).all()
        known = {(f.cluster_id, f.year) for f in db.session.scalars(select(KeyFigure))}
        for cluster in clusters:
            employees = rng.randint(400, 6000)
            for year in (2023, 2024, 2025):
                employees = int(employees * rng.uniform(0.97, 1.12))
                if (cluster.id, year) in known:
                    continue
                db.session.add(
                    KeyFigure(
                        tenant_id=tenant.id,
                        cluster_id=cluster.id,
                        year=year,
                        employees=employees,
                        turnover_meur=Decimal(employees * rng.randint(150, 400)) / 1000,
                        innovation_projects=rng.randint(2, 25),
                        note="Annual report",
                    )
                )
        db.session.commit()
