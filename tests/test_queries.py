"""SQL queries per page do not grow with the data: the same count at 3 and at 300 clusters."""

from __future__ import annotations

import pytest

from portal.clusters.models import Cluster, MemberOrganisation, MemberType
from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.conftest import Factory, login, queries_per_page

PAGES = [
    "/nordland/",
    "/nordland/clusters/",
    "/nordland/clusters/{cid}",
    "/nordland/clusters/{cid}?q=member&page=2",
    "/nordland/people",
    "/nordland/settings",
    "/nordland/settings/plugins",
    "/nordland/audit",
    "/nordland/facts/",
    "/nordland/facts/clusters/{cid}",
]


def _grow(app, tenant_id: int, clusters: int, members_each: int, start: int = 0) -> None:
    from portal_cluster_facts.models import KeyFigure

    types = list(MemberType)
    with app.test_request_context(), tenant_scope(tenant_id):
        for i in range(start, start + clusters):
            cluster = Cluster(tenant_id=tenant_id, name=f"Cluster {i:04d}", sector="Sector")
            db.session.add(cluster)
            db.session.flush()
            db.session.add_all(
                MemberOrganisation(
                    tenant_id=tenant_id,
                    cluster_id=cluster.id,
                    name=f"Org {i}-{j}",
                    member_type=types[j % len(types)],
                )
                for j in range(members_each)
            )
            db.session.add_all(
                KeyFigure(tenant_id=tenant_id, cluster_id=cluster.id, year=y, employees=10 * i)
                for y in (2023, 2024)
            )
        db.session.commit()


def _counts(app, client, cid) -> dict[str, int]:
    return queries_per_page(app, client, [page.format(cid=cid) for page in PAGES])


@pytest.fixture
def region(make_app):
    app = make_app()
    factory = Factory(app)
    tenant = factory.tenant("nordland")
    first = factory.cluster(tenant, "Arctic Minerals", members=30)
    factory.user("coord@a.example", tenant=tenant, role="coordinator", clusters=[first])
    factory.enable_plugin(tenant, "cluster_facts")
    client = app.test_client()
    login(client, "coord@a.example")
    return app, client, tenant, first


def test_query_counts_do_not_grow_with_the_data(region):
    app, client, tenant, first = region
    _grow(app, tenant.id, clusters=2, members_each=3)
    client.get("/nordland/")  # warm caches of the first request
    small = _counts(app, client, first.id)
    _grow(app, tenant.id, clusters=298, members_each=12, start=2)
    large = _counts(app, client, first.id)
    assert small == large
    # And they stay small.
    # The front page gathers a panel per need of the role (tests/test_front_page.py counts
    # them per role); every other page stays within 16 (among them the header's unread
    # notifications and, for a page kept by scopes such as the cluster's, their versions).
    front = small.pop("/nordland/")
    assert max(small.values()) <= 16, small
    assert front <= 22, front


def test_admin_pages_do_not_grow_with_tenants(make_app):
    app = make_app()
    factory = Factory(app)
    factory.user("admin@portal.example", admin=True)
    client = app.test_client()
    login(client, "admin@portal.example")
    factory.tenant("t-first")

    def measure():
        pages = ("/admin/", "/admin/plugins", "/admin/outbox", "/admin/audit", "/")
        return queries_per_page(app, client, pages)

    small = measure()
    for i in range(40):
        factory.tenant(f"t-{i:03d}")
    assert measure() == small
