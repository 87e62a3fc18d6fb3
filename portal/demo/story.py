"""The improvement loop told end to end in the demo region (after the plugins' demo data, so
it builds on the ESCA rounds and labels and the joint actions; idempotent):

* a coordinated benchmarking of the forum in the months of the silver-ready cluster's two
  rounds (the clusters without a label story of their own take part), so "the forum over
  time" has two benchmarkings to compare;
* the silver-ready cluster (the second by name, as in the ESCA demo) worked on the three
  indicators it documented between its two rounds: one action each in its plan, linked to
  the indicator, done, with hours and money spent; its documented improvements are rewritten
  from the data (its two values, the action and its measured effect against the other
  clusters), as "document an improvement" does, and keep that data;
* two clusters' own media work, done before the joint press and media training, with what
  they spent: the region's measured baseline the training's effort saved is compared with;
* the first cluster's bronze lapses within months and nobody plans its renewal (the ESCA
  demo's story): the label-risk list shows it.

Needs the ESCA indicator set; without it nothing is added.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from flask_babel import force_locale
from sqlalchemy import select

from portal.benchmarking import services as rounds
from portal.benchmarking.models import BenchmarkRound
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels import services as labels
from portal.labels.improvement_evidence import proposals
from portal.labels.models import LabelEvidence
from portal.labels.scheme import RuleResult, add_months
from portal.plans import services as plans
from portal.plans.models import Action, Plan, PlanKind
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant

SET_ID, SET_VERSION = "esca-gold", "2013"
ASSESSOR = "ESCA-ekspert (demo)"
WORK = (
    ("engagement", "Månedlige medlemsmøter i hver delregion", "160", "38000"),
    ("services", "Tjenestekatalog laget sammen med medlemmene", "220", "61000"),
    ("communication", "Nytt nyhetsbrev og nye nettsider", "120", "42000"),
)


def _own_plan(cluster: Cluster) -> Plan | None:
    return db.session.scalar(
        select(Plan)
        .where(Plan.cluster_id == cluster.id, Plan.kind == PlanKind.INDIVIDUAL)
        .order_by(Plan.id)
        .limit(1)
    )


def _coordinated_benchmarking(indicator_set, clusters, days, rng) -> None:
    """A round in each of ``days``' months for each cluster without one there."""
    for cluster in clusters:
        held = set(
            db.session.scalars(
                select(BenchmarkRound.held_on).where(BenchmarkRound.cluster_id == cluster.id)
            )
        )
        base = {i.id: rng.choice((2, 3, 3, 4)) for i in indicator_set.indicators}
        for n, day in enumerate(days):
            if any((d.year, d.month) == (day.year, day.month) for d in held):
                continue
            values = {
                i.id: (
                    float(
                        min(i.maximum, max(i.minimum, base[i.id] + n * rng.choice((-1, 0, 0, 1))))
                    ),
                    "",
                )
                for i in indicator_set.indicators
            }
            rounds.save_round(
                None,
                cluster,
                indicator_set,
                {"held_on": day, "assessor": ASSESSOR, "notes": "Koordinert benchmarking"},
                values,
            )


def _work(plan: Plan, cluster: Cluster, first: date, second: date, items) -> None:
    for indicator_id, title, hours, money in items:
        if db.session.scalar(
            select(Action.id).where(Action.plan_id == plan.id, Action.title == title)
        ):
            continue
        plans.create_action(
            None,
            plan,
            {
                "title": title,
                "status": "done",
                "progress": 100,
                "start_date": add_months(first, 1),
                "due_date": add_months(second, -1),
                "planned_hours": Decimal(hours),
                "spent_hours": Decimal(hours) * Decimal("1.1"),
                "planned_money": Decimal(money),
                "spent_money": Decimal(money),
            },
            [cluster.id],
            indicator_keys=[(SET_ID, SET_VERSION, indicator_id)],
        )


def _evidence_from_data(tenant: Tenant, cluster: Cluster, today: date) -> None:
    """Rewrite the cluster's documented improvements from the data, keeping it."""
    documented = db.session.scalars(
        select(LabelEvidence).where(
            LabelEvidence.cluster_id == cluster.id,
            LabelEvidence.kind == "improvement",
            LabelEvidence.data.is_(None),
        )
    ).all()
    if not documented:
        return
    rule = RuleResult("improvements", "", "met", "", tuple(e.indicator_id for e in documented))
    evidence = labels.cluster_evidence(cluster.id)
    found = {
        p.indicator_id: p
        for p in proposals(
            None, tenant, cluster.id, "esca", evidence, rule, today, tenant.default_locale or "en"
        )
    }
    for item in documented:
        proposal = found.get(item.indicator_id)
        if proposal is not None:
            item.text = proposal.text()
            item.data = proposal.snapshot(item.recorded_on)


def load_story(tenant: Tenant, today: date) -> None:
    indicator_set = rounds.find_set(SET_ID, SET_VERSION)
    if indicator_set is None:
        return
    rng = random.Random(f"{tenant.slug}-story")
    with tenant_scope(tenant.id):
        clusters = db.session.scalars(select(Cluster).order_by(Cluster.name)).all()
        if len(clusters) < 4:
            return
        ready = clusters[1]
        days = sorted(
            db.session.scalars(
                select(BenchmarkRound.held_on).where(
                    BenchmarkRound.cluster_id == ready.id,
                    BenchmarkRound.indicator_set == SET_ID,
                    BenchmarkRound.counts_as_evidence(),
                )
            )
        )
        if len(days) < 2:
            return
        first, second = days[0], days[-1]
        _coordinated_benchmarking(indicator_set, clusters[3:], (first, second), rng)
        plan = _own_plan(ready)
        if plan is not None:
            _work(plan, ready, first, second, WORK)
        # What clusters spent alone on media work, before the joint press and media
        # training: the measured baseline its effort saved is compared with.
        for other in (c for c in (clusters[0], clusters[3]) if _own_plan(c) is not None):
            _work(
                _own_plan(other),
                other,
                add_months(first, -12),
                add_months(first, -4),
                [("media_recognition", "Egne pressekontakter og eget mediearbeid", "90", "41000")],
            )
        db.session.commit()
        with force_locale(
            tenant.default_locale or "en"
        ):  # the evidence is written in the region's language
            _evidence_from_data(tenant, ready, today)
        db.session.commit()
