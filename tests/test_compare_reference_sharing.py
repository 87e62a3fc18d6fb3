"""Reference portfolios: who manages them, publishing a forum's aggregates to other regions
and withdrawing them, isolation of every route, and the demo data."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import ROLE_EMAILS, login
from tests.isolation_support import FORM, ROLES, SECRET, seed_other_tenant, snapshot

pytest.importorskip("portal_compare")

from portal_compare.models import (  # noqa: E402
    ReferenceIndicator,
    ReferencePortfolio,
)

from tests.test_compare_references import (  # noqa: E402
    BASE,
    CLUSTER_ROWS,
    IMPORT,
    LIST,
    SET,
    _counts,
    _csv,
    _stored,
    _upload,
    with_compare,
)


@pytest.fixture
def esca(app, world, factory):
    return with_compare(world, factory)


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in ROLES if r != "coordinator"])
def test_only_coordinators_manage(app, client, esca, role):
    _import_as_coordinator(app, client)
    portfolio_id = _portfolio_id(app, "Danish clusters 2016 (5)")
    client.post("/logout")
    login(client, ROLE_EMAILS[role])
    page = client.get(LIST)
    assert page.status_code == 200 and "Danish clusters 2016 (5)" in page.get_data(as_text=True)
    assert "Import a reference portfolio" not in page.get_data(as_text=True)
    assert client.get(IMPORT).status_code == 403
    assert _upload(client, _csv(CLUSTER_ROWS), name="Mine").status_code == 403
    assert client.get(f"{BASE}/references/example-clusters.csv").status_code == 403
    assert client.post(f"{BASE}/references/{portfolio_id}/delete").status_code == 403
    assert client.post(f"{BASE}/references/publish", data={"indicator_set": SET}).status_code == 403
    assert _counts(app) == (1, 2)


def test_pages_answer_404_where_the_plugin_is_off(app, client, world):
    login(client, "coord@a.example")
    for url in (LIST, IMPORT):
        assert client.get(url).status_code == 404


def _import_as_coordinator(app, client, name="Danish clusters 2016 (5)"):
    login(client, "coord@a.example")
    assert _upload(client, _csv(CLUSTER_ROWS), name=name).status_code == 302


def _portfolio_id(app, name) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(
            select(ReferencePortfolio.id).where(ReferencePortfolio.name == name)
        )


def test_delete_needs_a_post_and_asks_first(app, client, esca):
    _import_as_coordinator(app, client)
    portfolio_id = _portfolio_id(app, "Danish clusters 2016 (5)")
    page = client.get(LIST).get_data(as_text=True)
    # the confirmation is a <details> element: it works without JavaScript
    assert '<details class="danger-zone">' in page
    assert f'action="{BASE}/references/{portfolio_id}/delete"' in page
    assert "Delete “Danish clusters 2016 (5)”" in page
    assert client.get(f"{BASE}/references/{portfolio_id}/delete").status_code == 405
    response = client.post(f"{BASE}/references/{portfolio_id}/delete")
    assert response.status_code == 302
    assert "is deleted" in client.get(LIST).get_data(as_text=True)
    assert _counts(app) == (0, 0)
    assert client.post(f"{BASE}/references/{portfolio_id}/delete").status_code == 404


# --- publishing ------------------------------------------------------------------------------


def _rounds(app, tenant, clusters, day=date(2025, 3, 1), left_out=("concentration",)):
    """One round per cluster; the indicators in ``left_out`` only in the first two."""
    from portal.toolkit import Cluster, find_indicator_set, save_round

    with app.test_request_context(), tenant_scope(tenant.id):
        indicator_set = find_indicator_set("esca-gold", "2013")
        for n, cluster in enumerate(clusters):
            values = {
                i.id: float((n + k) % 6)
                for k, i in enumerate(indicator_set.indicators)
                if i.id not in left_out or n < 2
            }
            save_round(db.session.get(Cluster, cluster.id), indicator_set, day, values)


def test_publishing_needs_at_least_k_clusters(app, client, esca):
    _rounds(app, esca["a"], [esca["c1"], esca["c2"]])
    login(client, "coord@a.example")
    response = client.post(f"{BASE}/references/publish", data={"indicator_set": SET})
    assert response.status_code == 302
    page = client.get(LIST).get_data(as_text=True)
    assert "Only 2 clusters of this forum have a round of esca-gold 2013" in page
    assert "at least 5 are needed" in page
    assert _counts(app) == (0, 0)
    response = client.post(f"{BASE}/references/publish", data={"indicator_set": "nope:1"})
    assert "Choose an indicator set" in client.get(LIST).get_data(as_text=True)


def test_publish_share_and_withdraw(app, client, esca, factory):
    clusters = [esca["c1"], esca["c2"]] + [
        factory.cluster(esca["a"], f"Cluster {n}") for n in range(3)
    ]
    _rounds(app, esca["a"], clusters)
    # another region, with its own unpublished portfolio
    b = esca["b"]
    factory.enable_plugin(b, "esca")
    factory.enable_plugin(b, "compare")
    factory.user("coord@b.example", tenant=b, role="coordinator")
    _import_as_coordinator(app, client, name="Nordland private (5)")
    response = client.post(f"{BASE}/references/publish", data={"indicator_set": SET})
    assert response.status_code == 302
    year = date(2025, 3, 1).year
    name = f"Nordland Forum {year} (5)"
    assert f"published as “{name}”" in client.get(LIST).get_data(as_text=True)
    stored = _stored(app)[name]
    assert stored[:4] == (esca["a"].id, "published", 5, True)
    indicators = stored[4]
    # fewer values than K: left out; no minimum or maximum (each is one cluster's value)
    assert "concentration" not in indicators and "engagement" in indicators
    assert all(row[1] is None and row[5] is None for row in indicators.values())
    assert indicators["engagement"][0] == 5
    # publishing again replaces the snapshot
    assert client.post(f"{BASE}/references/publish", data={"indicator_set": SET}).status_code == 302
    assert [n for n in _stored(app) if n == name] == [name] and _counts(app)[0] == 2
    portfolio_id = _portfolio_id(app, name)
    private_id = _portfolio_id(app, "Nordland private (5)")
    client.post("/logout")

    other = app.test_client()
    login(other, "coord@b.example")
    page = other.get("/bravo/compare/references/").get_data(as_text=True)
    assert name in page and "Nordland Forum</td>" in page  # marked with the region's name
    assert "Nordland private" not in page  # an unpublished portfolio stays in its region
    # and cannot be deleted from there
    assert other.post(f"/bravo/compare/references/{portfolio_id}/delete").status_code == 404
    assert other.post(f"/bravo/compare/references/{private_id}/delete").status_code == 404
    assert _counts(app)[0] == 2

    login(client, "coord@a.example")
    page = client.get(LIST).get_data(as_text=True)
    assert "Withdraw “" + name + "”" in page
    assert client.post(f"{BASE}/references/{portfolio_id}/delete").status_code == 302
    assert "is withdrawn" in client.get(LIST).get_data(as_text=True)
    assert name not in other.get("/bravo/compare/references/").get_data(as_text=True)


def test_own_unpublished_portfolios_are_never_shown_elsewhere(app, client, esca, factory):
    _import_as_coordinator(app, client, name="Our secret reference (5)")
    b = esca["b"]
    factory.enable_plugin(b, "esca")
    factory.enable_plugin(b, "compare")
    factory.user("coord@b.example", tenant=b, role="coordinator")
    other = app.test_client()
    login(other, "coord@b.example")
    for url in ("/bravo/compare/references/", "/bravo/compare/references/import"):
        assert "Our secret reference" not in other.get(url).get_data(as_text=True)
    # the same name is free in the other region
    response = _upload(
        other,
        _csv(CLUSTER_ROWS),
        name="Our secret reference (5)",
        url="/bravo/compare/references/import",
    )
    assert response.status_code == 302
    with app.app_context(), unscoped():
        from portal_compare.references import usable_references

        names = {p.name: p.tenant_id for p in usable_references(b.id)}
    assert names == {"Our secret reference (5)": b.id}


# --- isolation: every route of this page set with another region's ids -----------------------

MINE = {
    "compare.references",
    "compare.reference_import",
    "compare.reference_import_confirm",
    "compare.reference_export",
    "compare.reference_delete",
    "compare.reference_example",
    "compare.publish",
}


@pytest.mark.parametrize("role", ROLES)
def test_foreign_ids_answer_404_and_change_nothing(app, esca, role):
    foreign = seed_other_tenant(app)
    with app.test_request_context():
        before = snapshot(foreign.id)
    assert "portfolio_id" in foreign.natural
    client = app.test_client()
    login(client, ROLE_EMAILS[role])
    rules = [r for r in app.url_map.iter_rules() if r.endpoint in MINE]
    assert {r.endpoint for r in rules} == MINE
    for rule in rules:
        with app.test_request_context():
            adapter = app.url_map.bind("localhost")
            values = {"tenant": "nordland", "kind": "clusters"}
            if "portfolio_id" in rule.arguments:
                urls = [
                    adapter.build(rule.endpoint, {**values, "portfolio_id": i}) for i in foreign.ids
                ]
            else:
                urls = [adapter.build(rule.endpoint, values)]
        for url in urls:
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(url, method=method, data=FORM if method == "POST" else None)
                assert response.status_code < 500, (method, url)
                assert SECRET not in response.get_data(as_text=True), (method, url)
                if "portfolio_id" in rule.arguments:
                    assert response.status_code in (403, 404), (method, url)
    with app.test_request_context():
        assert snapshot(foreign.id) == before


# --- demo ------------------------------------------------------------------------------------


def _demo_portfolios(app):
    """[(region slug, name, source, clusters, published, [(count, min, max, green)])]."""
    from portal.tenancy.models import Tenant

    with app.app_context(), unscoped():
        result = []
        for slug, p in db.session.execute(
            select(Tenant.slug, ReferencePortfolio)
            .join(Tenant, Tenant.id == ReferencePortfolio.tenant_id)
            .order_by(Tenant.slug, ReferencePortfolio.name)
        ).all():
            rows = db.session.scalars(
                select(ReferenceIndicator).where(ReferenceIndicator.portfolio_id == p.id)
            )
            result.append(
                (
                    slug,
                    p.name,
                    p.source,
                    p.cluster_count,
                    p.published,
                    [(r.count, r.minimum, r.maximum, r.green_share) for r in rows],
                )
            )
        settings_rows = db.session.execute(
            select(Tenant.slug, Tenant.values_min_group).where(
                Tenant.slug.in_(("midtjylland", "nordland"))
            )
        ).all()
        return result, sorted(settings_rows)


def test_demo_adds_two_reference_portfolios_per_esca_region_once(app, runner):
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    portfolios, settings_rows = _demo_portfolios(app)
    assert settings_rows == [("midtjylland", 5), ("nordland", 3)]
    assert [p[:5] for p in portfolios] == [
        (slug, name, source, clusters, False)
        for slug in ("midtjylland", "nordland")
        for name, source, clusters in (
            ("Danske klynger 2016 (29)", "clusters", 29),
            ("Norske klynger 2016 (28)", "aggregates", 28),
        )
    ]
    danish, norwegian = portfolios[2][5], portfolios[3][5]
    assert len(danish) == len(norwegian) == 31
    assert all(20 <= count <= 29 and low is not None for count, low, _h, _g in danish)
    assert all(count == 28 and green is not None for count, _l, _h, green in norwegian)
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    assert _demo_portfolios(app) == (portfolios, settings_rows)
    client = app.test_client()
    client.post(
        "/login", data={"email": "coordinator@nordland.example", "password": "cluster-forum-demo"}
    )
    page = client.get("/nordland/compare/references/").get_data(as_text=True)
    assert "Danske klynger 2016 (29)" in page and "Norske klynger 2016 (28)" in page
