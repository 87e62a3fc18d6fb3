"""The first-party example plugin: key figures per cluster and year."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.locking_support import version_in, version_on


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
    # Changing a year: the form filled from its figures carries their version.
    version = version_on(client, f"/nordland/facts/clusters/{cid}?year=2025")
    changed = client.post(
        f"/nordland/facts/clusters/{cid}",
        data={"year": "2025", "employees": "1400", "version": version},
    )
    assert changed.status_code == 302
    assert "1,400" in client.get(f"/nordland/facts/clusters/{cid}").get_data(as_text=True)
    overview = client.get("/nordland/facts/").get_data(as_text=True)
    assert "Arctic Minerals" in overview and "2025" in overview
    dashboard = client.get("/nordland/").get_data(as_text=True)
    assert "Key figures of the forum" in dashboard and "1,400" in dashboard


def _stored(app, cluster_id: int, year: int):
    from portal_cluster_facts.models import KeyFigure
    from sqlalchemy import select

    from portal.extensions import db
    from portal.tenancy import unscoped

    with app.app_context(), unscoped():
        figure = db.session.scalar(
            select(KeyFigure).where(KeyFigure.cluster_id == cluster_id, KeyFigure.year == year)
        )
        return (figure.employees, figure.note)


def test_a_year_reported_again_is_not_replaced_silently(app, client, facts):
    """Reporting a year that is there already answers 409 with the stored figures and the
    input kept; only saving again (the form now names their version) replaces them."""
    login(client, "manager@a.example")
    cid = facts["c1"].id
    url = f"/nordland/facts/clusters/{cid}"
    first = {"year": "2024", "employees": "1200", "note": "Register of firms"}
    assert client.post(url, data=first).status_code == 302
    again = {"year": "2024", "employees": "1250", "note": "Annual survey"}
    refused = client.post(url, data=again)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "reported already" in body
    assert "Register of firms" in body and "1200" in body  # the stored figures
    assert 'value="Annual survey"' in body and 'value="1250"' in body  # the input, kept
    assert _stored(app, cid, 2024) == (1200, "Register of firms")
    version = version_in(body)
    assert version, "the form now names the stored figures' version"
    replaced = client.post(url, data={**again, "version": version})
    assert replaced.status_code == 302
    assert _stored(app, cid, 2024) == (1250, "Annual survey")


def test_a_year_reported_again_is_told_in_the_users_language(app, client, facts):
    login(client, "manager@a.example")
    client.post("/language", data={"locale": "it", "next": "/"})
    url = f"/nordland/facts/clusters/{facts['c1'].id}"
    client.post(url, data={"year": "2024", "employees": "1200"})
    refused = client.post(url, data={"year": "2024", "employees": "1250"})
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "reported already" not in body and "1250" in body
    assert _stored(app, facts["c1"].id, 2024) == (1200, "")


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
