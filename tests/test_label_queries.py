"""SQL queries of the label and benchmarking pages do not grow with the data.

The label register (filtered or not), a cluster's path to its next label and its round grid
(indicators x rounds) are measured in a small region (2 clusters, 2 rounds, 2 labels) and
again after the region grew to 27 clusters with 6 rounds of all 31 ESCA indicators each,
hundreds of labels and recorded evidence: the counts must be equal, and small.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from portal.benchmarking.models import BenchmarkRound, IndicatorValue
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels.models import Label, LabelEvidence
from portal.tenancy import tenant_scope
from tests.conftest import count_queries, login
from tests.process_support import build_process

TODAY = date.today()
# Labels of the ESCA scheme, and of the Arena scheme when its plugin is installed.
LEVELS = {"esca": ("bronze", "silver", "gold"), "arena": ("arena", "arena_pro", "gce")}
VERSIONS = {"esca": ("2013", "2020"), "arena": ("2024",)}
# The register's filters, alone and together.
REGISTER = [
    "/nordland/labels/",
    "/nordland/labels/?level=silver",
    "/nordland/labels/?level=gold",
    "/nordland/labels/?scheme=esca",
    "/nordland/labels/?scheme=arena&level=arena_pro",
    "/nordland/labels/?within=3",
    "/nordland/labels/?within=6",
    "/nordland/labels/?within=12",
    "/nordland/labels/?status=current",
    "/nordland/labels/?status=expired",
    "/nordland/labels/?status=current&within=12&level=bronze&scheme=esca",
    "/nordland/labels/?page=2",
]
BOUND = 20  # a sane ceiling for any of these pages


def _indicators(app):
    from portal.benchmarking.services import find_set

    with app.app_context():
        return find_set("esca-gold", "2013").indicators


class Batch:
    """Rounds, labels and evidence to insert at once; each round gets a value for every
    indicator (``score``, one more on the ``bump``ed ones), in one bulk insert."""

    def __init__(self, tenant_id, schemes=("esca",)):
        self.tenant_id = tenant_id
        self.schemes = schemes
        self.objects = []
        self.scores = []

    def round(self, cluster_id, days_ago, score, audit=False, bump=()):
        round_ = BenchmarkRound(
            tenant_id=self.tenant_id,
            cluster_id=cluster_id,
            held_on=TODAY - timedelta(days=days_ago),
            indicator_set="esca-gold",
            set_version="2013",
            assessor="Expert",
            audit=audit,
            notes="",
            confirmed_at=datetime.now(UTC),  # an expert's confirmed result
        )
        self.objects.append(round_)
        self.scores.append((round_, score, set(bump)))

    def label(self, cluster_id, i):
        """Labels of every level, some expired, some expiring soon, some valid for long."""
        expires = TODAY + timedelta(days=(i % 9 - 3) * 40)
        scheme = self.schemes[i % 4 % len(self.schemes)]
        self.objects.append(
            Label(
                tenant_id=self.tenant_id,
                cluster_id=cluster_id,
                scheme=scheme,
                scheme_version=VERSIONS[scheme][i % len(VERSIONS[scheme])],
                level=LEVELS[scheme][i % 3],
                awarded_on=expires - timedelta(days=700),
                expires_on=expires,
                score=float(i % 100) if i % 2 else None,
                notes="",
            )
        )

    def evidence(self, cluster_id, kind, indicator_id="", days_ago=30):
        self.objects.append(
            LabelEvidence(
                tenant_id=self.tenant_id,
                cluster_id=cluster_id,
                scheme="esca",
                kind=kind,
                indicator_id=indicator_id,
                text=f"{kind} {indicator_id}".strip(),
                recorded_on=TODAY - timedelta(days=days_ago),
            )
        )

    def save(self, indicators):
        db.session.add_all(self.objects)
        db.session.flush()
        rows = []
        for round_, score, bump in self.scores:
            for indicator in indicators:
                value = float(min(indicator.maximum, score + (indicator.id in bump)))
                rows.append(
                    {
                        "tenant_id": self.tenant_id,
                        "round_id": round_.id,
                        "indicator_id": indicator.id,
                        "value": value,
                        "light": indicator.light(value),
                        "comment": "",
                    }
                )
        if rows:
            db.session.execute(insert(IndicatorValue), rows)
        db.session.commit()


def _schemes(app) -> tuple[str, ...]:
    """ESCA, and Arena when installed: two schemes show the register's scheme filter."""
    installed = app.extensions["portal_plugins"].plugins
    return ("esca", "arena") if "arena" in installed else ("esca",)


@pytest.fixture
def region(app, world, factory):
    """Nordland with the label plugins on; c1 has an individual plan (so the path page shows
    its "make it an action" buttons), two rounds 12+ months apart and two labels."""
    for name in _schemes(app):
        factory.enable_plugin(world["a"], name)
    build_process(app, world, actions=1)
    indicators = _indicators(app)
    tenant_id, c1 = world["a"].id, world["c1"].id
    with app.test_request_context(), tenant_scope(tenant_id):
        batch = Batch(tenant_id, _schemes(app))
        # 12+ months apart, both still valid (a benchmarking counts 24 months from its month)
        batch.round(c1, 650, 2)
        batch.round(c1, 250, 2, bump={"engagement", "services", "communication", "maturity"})
        batch.label(c1, 0)
        batch.label(c1, 4)
        batch.evidence(c1, "improvement", "engagement")
        batch.save(indicators)
    return world


def _grow(app, world, clusters=25, rounds_each=6, labels_each=12):
    """Many clusters with rounds, labels and evidence; c1 gets four more rounds (six in all,
    the newest an audit below the gold total), many labels and the evidence that makes
    silver eligible. Returns the numbers of clusters, rounds, values and labels."""
    indicators = _indicators(app)
    tenant_id, c1 = world["a"].id, world["c1"].id
    with app.test_request_context(), tenant_scope(tenant_id):
        new = [
            Cluster(tenant_id=tenant_id, name=f"Cluster {i:03d}", sector="Sector")
            for i in range(clusters)
        ]
        db.session.add_all(new)
        db.session.flush()
        batch = Batch(tenant_id, _schemes(app))
        for n, cluster in enumerate(new):
            for r in range(rounds_each):
                batch.round(cluster.id, 200 * (r + 1), (n + r) % 6, audit=r == 0)
            for k in range(labels_each):
                batch.label(cluster.id, n * labels_each + k)
            for indicator in indicators[:4]:
                batch.evidence(cluster.id, "improvement", indicator.id)
        for days_ago, score in ((300, 3), (200, 3), (100, 4), (10, 3)):
            batch.round(c1, days_ago, score, audit=days_ago == 10)
        for k in range(1, 40):
            batch.label(c1, k)
        for indicator_id in ("services", "communication", "maturity"):
            batch.evidence(c1, "improvement", indicator_id)
        for days_ago in (5, 20):
            batch.evidence(c1, "expert_review", days_ago=days_ago)
        batch.save(indicators)
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Cluster, BenchmarkRound, IndicatorValue, Label)
        )


def _pages(app, world) -> dict[str, str]:
    """Name -> URL; the names stay the same while the ids in the URLs differ."""
    c1 = world["c1"].id
    with app.test_request_context(), tenant_scope(world["a"].id):
        ids = db.session.scalars(
            select(BenchmarkRound.id)
            .where(BenchmarkRound.cluster_id == c1)
            .order_by(BenchmarkRound.held_on)
        ).all()
    return {
        **{url: url for url in REGISTER},
        "path to the next label": f"/nordland/clusters/{c1}/labels",
        "round grid": f"/nordland/clusters/{c1}/rounds",
        "round grid with a comparison": f"/nordland/clusters/{c1}/rounds?old={ids[0]}&new={ids[-1]}",
    }


def _measure(app, client, world) -> dict[str, int]:
    counts = {}
    for name, url in _pages(app, world).items():
        with count_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[name] = len(statements)
    return counts


@pytest.mark.parametrize("who", ["coord@a.example", "manager@a.example"])
def test_label_pages_cost_the_same_queries_whatever_the_size(app, client, region, who):
    login(client, who)
    client.get("/nordland/labels/")  # warm the caches of a first request
    small = _measure(app, client, region)
    clusters, rounds, values, labels = _grow(app, region)
    assert clusters == 27 and rounds == 25 * 6 + 6 and values == rounds * 31 and labels > 300
    large = _measure(app, client, region)
    assert small == large
    assert max(small.values()) <= BOUND, small


def test_the_grown_pages_show_the_data(app, client, region):
    """The measured pages really rendered the large data (not an empty or error page)."""
    login(client, "coord@a.example")
    _grow(app, region)
    c1 = region["c1"].id
    register = client.get("/nordland/labels/").get_data(as_text=True)
    assert register.count("label-badge") == 25  # one full page of the register
    assert "Cluster 0" in register
    gold = client.get("/nordland/labels/?level=gold").get_data(as_text=True)
    assert "label-gold" in gold and "label-silver" not in gold.split("<table")[1]
    grid = client.get(f"/nordland/clusters/{c1}/rounds").get_data(as_text=True)
    assert grid.count('<th scope="col" id="round-') == 6
    assert grid.count("light-") >= 6 * 31
    path = client.get(f"/nordland/clusters/{c1}/labels").get_data(as_text=True)
    assert "Award Silver" in path and "Award Gold" not in path
    assert "Make it an action" in path  # the gold total is not met
