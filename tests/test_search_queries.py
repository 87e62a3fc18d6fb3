"""The search page's SQL queries do not grow with the data: the same count at two sizes."""

from __future__ import annotations

import pytest

from portal.clusters.models import Cluster, MemberOrganisation, MemberType
from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.conftest import Factory, login, queries_per_page

URLS = [
    "/nordland/search?q=fjord",
    "/nordland/search?q=fjord+org",
    "/nordland/search?q=fjord&kind=member",
    "/nordland/search?q=fjord&kind=member&page=2",
    "/nordland/search?q=nothingmatches",
]


def _grow(app, tenant_id: int, clusters: int, members_each: int, start: int = 0) -> None:
    with app.test_request_context(), tenant_scope(tenant_id):
        for i in range(start, start + clusters):
            cluster = Cluster(name=f"Fjord cluster {i:04d}", sector="Sea")
            db.session.add(cluster)
            db.session.flush()
            db.session.add_all(
                MemberOrganisation(
                    cluster_id=cluster.id,
                    name=f"Fjord org {i}-{j}",
                    member_type=list(MemberType)[j % len(MemberType)],
                )
                for j in range(members_each)
            )
        db.session.commit()


def _counts(app, client) -> dict[str, int]:
    return queries_per_page(app, client, URLS)


@pytest.fixture
def region(make_app):
    app = make_app()
    factory = Factory(app)
    tenant = factory.tenant("nordland")
    factory.user("coord@a.example", tenant=tenant, role="coordinator")
    factory.user("observer@a.example", tenant=tenant, role="observer")
    return app, tenant


@pytest.mark.parametrize("email", ["coord@a.example", "observer@a.example"])
def test_search_query_counts_do_not_grow_with_the_data(region, email):
    app, tenant = region
    client = app.test_client()
    login(client, email)
    _grow(app, tenant.id, clusters=3, members_each=30)
    client.get("/nordland/")  # warm what the first request of a client builds
    small = _counts(app, client)
    _grow(app, tenant.id, clusters=297, members_each=12, start=3)
    large = _counts(app, client)
    assert small == large
    # Signed in, the region, the membership, then two queries for the hits.
    assert max(small.values()) <= 8, small
