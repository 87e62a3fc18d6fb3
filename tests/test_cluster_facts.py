"""The first-party example plugin: key figures per cluster and year."""

from __future__ import annotations

import pytest

from tests.conftest import login


@pytest.fixture
def facts(app, world, factory):
    factory.enable_plugin(world["a"], "cluster_facts")
    return world


def test_manager_reports_figures_for_own_cluster(client, facts):
    login(client, "manager@a.example")
    cid = facts["c1"].id
    response = client.post(
        f"/nordland/facts/clusters/{cid}",
        data={
            "year": "2024",
            "employees": "1200",
            "turnover_meur": "310.5",
            "innovation_projects": "7",
        },
    )
    assert response.status_code == 302
    client.post(f"/nordland/facts/clusters/{cid}", data={"year": "2025", "employees": "1320"})
    page = client.get(f"/nordland/clusters/{cid}").get_data(as_text=True)
    assert "Key figures" in page and "1,320" in page and "10%" in page  # the trend since 2024
    # Reporting a year again replaces it.
    client.post(f"/nordland/facts/clusters/{cid}", data={"year": "2025", "employees": "1400"})
    assert "1,400" in client.get(f"/nordland/facts/clusters/{cid}").get_data(as_text=True)
    overview = client.get("/nordland/facts/").get_data(as_text=True)
    assert "Arctic Minerals" in overview and "2025" in overview
    dashboard = client.get("/nordland/").get_data(as_text=True)
    assert "Key figures of the forum" in dashboard and "1,400" in dashboard


def test_figures_are_validated(client, facts):
    login(client, "coord@a.example")
    cid = facts["c1"].id
    for data in (
        {"year": "1800"},
        {"year": "2024", "employees": "-5"},
        {"year": "soon"},
        {"year": "2024", "turnover_meur": "lots"},
    ):
        assert client.post(f"/nordland/facts/clusters/{cid}", data=data).status_code == 422, data


def test_others_cannot_report_for_a_cluster(client, facts):
    login(client, "manager@a.example")
    assert (
        client.post(f"/nordland/facts/clusters/{facts['c2'].id}", data={"year": "2024"}).status_code
        == 403
    )
    client.post("/logout")
    login(client, "observer@a.example")
    page = client.get(f"/nordland/facts/clusters/{facts['c1'].id}")
    assert page.status_code == 200 and b"Report a year" not in page.data
    assert (
        client.post(f"/nordland/facts/clusters/{facts['c1'].id}", data={"year": "2024"}).status_code
        == 403
    )


def test_delete_a_year(client, facts):
    login(client, "coord@a.example")
    cid = facts["c1"].id
    client.post(f"/nordland/facts/clusters/{cid}", data={"year": "2024", "employees": "10"})
    from portal_cluster_facts.models import KeyFigure
    from sqlalchemy import select

    from portal.extensions import db
    from portal.tenancy import unscoped

    with client.application.app_context(), unscoped():
        figure_id = db.session.scalar(select(KeyFigure.id))
    assert (
        client.post(f"/nordland/facts/clusters/{facts['c2'].id}/{figure_id}/delete").status_code
        == 404
    )
    assert client.post(f"/nordland/facts/clusters/{cid}/{figure_id}/delete").status_code == 302
    assert b"No key figures reported yet" in client.get(f"/nordland/facts/clusters/{cid}").data
