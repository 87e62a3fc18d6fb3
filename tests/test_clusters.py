"""Clusters and members: pages, validation, htmx fragments, CSV import."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.clusters.models import Cluster, MemberOrganisation
from portal.extensions import db
from portal.tenancy import unscoped
from tests.conftest import login
from tests.import_support import check, check_and_confirm
from tests.locking_support import version_on


def _count(app, model, **where):
    with app.app_context(), unscoped():
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db.session.scalar(stmt)


def test_coordinator_creates_a_cluster(client, world, app):
    login(client, "coord@a.example")
    response = client.post(
        "/nordland/clusters/new",
        data={
            "name": "  Polar Life Science ",
            "sector": "Life science",
            "founded_year": "2016",
            "website": "https://polar.example",
            "contact_email": " post@polar.example",
        },
    )
    assert response.status_code == 302
    with app.app_context(), unscoped():
        cluster = db.session.scalar(select(Cluster).where(Cluster.name == "Polar Life Science"))
    assert cluster.tenant_id == world["a"].id and cluster.founded_year == 2016
    page = client.get(response.headers["Location"])
    assert b"Polar Life Science" in page.data and b"No members yet" in page.data


def test_bad_cluster_input_is_explained_and_changes_nothing(client, world, app):
    login(client, "coord@a.example")
    before = _count(app, Cluster)
    for data, message in [
        ({"name": ""}, b"This field is required"),
        ({"name": "X", "founded_year": "1066"}, b"between 1800"),
        ({"name": "X", "founded_year": "soon"}, b"Not a valid integer"),
        ({"name": "X", "website": "not a url"}, b"Invalid URL"),
        ({"name": "X", "contact_email": "nope"}, b"Invalid email"),
        ({"name": "Arctic Minerals"}, b"This name is taken"),
        ({"name": "arctic minerals"}, b"This name is taken"),
        ({"name": "x" * 201}, b"longer than 200"),
    ]:
        response = client.post("/nordland/clusters/new", data=data)
        assert response.status_code == 422, data
        assert message in response.data, (data, response.data[-3000:])
    assert _count(app, Cluster) == before


def test_manager_edits_own_cluster_only(client, world, app):
    login(client, "manager@a.example")
    own, other = world["c1"].id, world["c2"].id
    edit = f"/nordland/clusters/{own}/edit"
    data = {"name": "Arctic Minerals", "sector": "Mining 2", "version": version_on(client, edit)}
    assert client.post(edit, data=data).status_code == 302
    assert (
        client.post(f"/nordland/clusters/{other}/edit", data={"name": "Taken over"}).status_code
        == 403
    )
    assert client.post(f"/nordland/clusters/{own}/delete").status_code == 403
    assert client.get("/nordland/clusters/new").status_code == 403


def test_observer_and_member_read_only(client, world):
    for email in ("observer@a.example", "member@a.example"):
        login(client, email)
        page = client.get(f"/nordland/clusters/{world['c1'].id}")
        assert page.status_code == 200
        assert b"Add a member" not in page.data and b">Edit<" not in page.data
        assert (
            client.post(
                f"/nordland/clusters/{world['c1'].id}/members/new",
                data={"name": "X", "member_type": "other"},
            ).status_code
            == 403
        )
        client.post("/logout")


def test_member_crud(client, world, app):
    login(client, "manager@a.example")
    cid = world["c1"].id
    response = client.post(
        f"/nordland/clusters/{cid}/members/new",
        data={
            "name": "Nord universitet",
            "member_type": "university",
            "city": "Bodø",
            "joined_year": "2016",
        },
    )
    assert response.status_code == 302
    with app.app_context(), unscoped():
        member = db.session.scalar(
            select(MemberOrganisation).where(MemberOrganisation.name == "Nord universitet")
        )
    assert member.member_type.value == "university"
    duplicate = client.post(
        f"/nordland/clusters/{cid}/members/new",
        data={"name": "nord universitet", "member_type": "other"},
    )
    assert duplicate.status_code == 422 and b"This name is taken" in duplicate.data
    bad_type = client.post(
        f"/nordland/clusters/{cid}/members/new", data={"name": "Y", "member_type": "alien"}
    )
    assert bad_type.status_code == 422
    url = f"/nordland/clusters/{cid}/members/{member.id}/edit"
    edit = client.post(
        url,
        data={
            "name": "Nord University",
            "member_type": "university",
            "version": version_on(client, url),
        },
    )
    assert edit.status_code == 302
    # A member id under the wrong cluster is not found.
    assert (
        client.get(f"/nordland/clusters/{world['c2'].id}/members/{member.id}/edit").status_code
        == 404
    )
    assert client.post(f"/nordland/clusters/{cid}/members/{member.id}/delete").status_code == 302
    assert _count(app, MemberOrganisation, name="Nord University") == 0


def test_member_search_and_paging_full_page_and_fragment(client, world, factory):
    big = factory.cluster(world["a"], "Big Cluster", members=45)
    login(client, "observer@a.example")
    page = client.get(f"/nordland/clusters/{big.id}")
    assert page.data.count(b"Big Cluster member") == 20 and b"Page 1 of 3" in page.data
    page3 = client.get(f"/nordland/clusters/{big.id}?page=3")
    assert page3.data.count(b"Big Cluster member") == 5
    fragment = client.get(
        f"/nordland/clusters/{big.id}?q=member+04",
        headers={"HX-Request": "true", "HX-Target": "members"},
    )
    assert fragment.status_code == 200 and b"<html" not in fragment.data
    assert fragment.data.count(b"Big Cluster member 04") == 5
    typed = client.get(f"/nordland/clusters/{big.id}?type=hospital")
    assert b"Big Cluster member 005" in typed.data
    empty = client.get(f"/nordland/clusters/{big.id}?q=zzz")
    assert b"No member matches" in empty.data
    # Out-of-range and nonsense paging never fails.
    assert client.get(f"/nordland/clusters/{big.id}?page=999&per_page=-4").status_code == 200
    assert client.get(f"/nordland/clusters/{big.id}?page=abc").status_code == 200


def test_cluster_page_shows_composition_picture_and_table(client, world):
    login(client, "observer@a.example")
    page = client.get(f"/nordland/clusters/{world['c1'].id}").get_data(as_text=True)
    assert "<svg" in page and 'role="img"' in page
    assert "Company (SME)" in page and "<table>" in page


def test_cluster_list_search(client, world):
    login(client, "observer@a.example")
    page = client.get("/nordland/clusters/?q=helge")
    assert b"Helgeland Health" in page.data and b"Arctic Minerals" not in page.data
    fragment = client.get(
        "/nordland/clusters/?q=arctic", headers={"HX-Request": "true", "HX-Target": "cluster-list"}
    )
    assert b"<html" not in fragment.data and b"Arctic Minerals" in fragment.data


def _upload(client, cluster_id, content: bytes, dry_run=False, name="members.csv"):
    """The check (dry_run) or the check and its confirm."""
    url = f"/nordland/clusters/{cluster_id}/members/import"
    if dry_run:
        return check(client, url, content, name)
    return check_and_confirm(client, url, url + "/confirm", content, name)


def test_csv_import_writes_all_rows(client, world, app):
    login(client, "manager@a.example")
    cid = world["c1"].id
    before = _count(app, MemberOrganisation, cluster_id=cid)
    csv = "name;member_type;city;website;joined_year\nNordic Ore AS;company_large;Mo i Rana;https://ore.example;2016\nPolar University;University or college;Bodø;;\n"
    preview = _upload(client, cid, csv.encode(), dry_run=True)
    assert preview.status_code == 200 and b"would be imported" in preview.data
    assert _count(app, MemberOrganisation, cluster_id=cid) == before
    response = _upload(client, cid, csv.encode("utf-8-sig"))
    assert response.status_code == 302
    assert _count(app, MemberOrganisation, cluster_id=cid) == before + 2


def test_csv_import_with_bad_rows_writes_nothing(client, world, app):
    login(client, "manager@a.example")
    cid = world["c1"].id
    before = _count(app, MemberOrganisation)
    csv = (
        "name,member_type,city,website,joined_year\n"
        "Good AS,company_sme,Bodø,,2020\n"
        ",company_sme,,,\n"
        "Bad Type AS,spaceship,,,\n"
        "Bad Year AS,other,,,20x0\n"
        "Bad Url AS,other,,ftp://x,\n"
        "Good AS,company_sme,,,\n"
        "Arctic Minerals member 000,other,,,\n"
        "Short row\n"
        "Long row AS,other,,,,extra\n"
    )
    response = _upload(client, cid, csv.encode())
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    for expected in (
        "The name is missing",
        "Unknown member type",
        "The year must be",
        "http://",
        "appears twice",
        "already",
        "cells",
    ):
        assert expected in text, expected
    assert "Nothing was imported" in text
    assert _count(app, MemberOrganisation) == before


def test_csv_import_rejects_broken_files(client, world, app):
    login(client, "coord@a.example")
    cid = world["c1"].id
    before = _count(app, MemberOrganisation)
    cases = [
        (b"", "The file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "nor a UTF-8"),
        (b"foo,bar\n1,2\n", "is missing"),
        (b"name,member_type,colour\nA,other,red\n", "Unknown column"),
        (b"name,member_type\n", "no rows"),
        (b"name,name,member_type\nA,B,other\n", "twice"),
    ]
    for content, message in cases:
        response = _upload(client, cid, content)
        assert response.status_code == 422, content
        assert message in response.get_data(as_text=True), (content, message)
    assert _count(app, MemberOrganisation) == before
    no_file = client.post(
        f"/nordland/clusters/{cid}/members/import", data={}, content_type="multipart/form-data"
    )
    assert no_file.status_code == 422 and b"Choose a file" in no_file.data


def test_translated_import_errors(client, world):
    login(client, "coord@a.example")
    client.post("/language", data={"locale": "nb", "next": "/"})
    response = _upload(client, world["c1"].id, b"name,member_type\n,other\n")
    assert response.status_code == 422
    assert "The name is missing" not in response.get_data(as_text=True)


def test_example_csv_downloads(client, world):
    login(client, "observer@a.example")
    response = client.get("/nordland/clusters/members-template.csv")
    assert response.mimetype == "text/csv"
    assert response.data.decode("utf-8-sig").startswith("name,member_type")


def test_coordinator_deletes_a_cluster(client, world, app):
    login(client, "coord@a.example")
    assert client.post(f"/nordland/clusters/{world['c2'].id}/delete").status_code == 302
    assert _count(app, Cluster, id=world["c2"].id) == 0
    assert _count(app, MemberOrganisation, cluster_id=world["c2"].id) == 0


def test_the_founding_year_limit_is_this_year_as_of_the_check(app):
    """The form class is defined when the server starts; its top year moves with the
    calendar (a server started in December accepts next year's founding in January)."""
    from datetime import date

    import time_machine
    from werkzeug.datastructures import MultiDict

    from portal.clusters.forms import ClusterForm

    next_year = date.today().year + 1
    with app.test_request_context():
        early = ClusterForm(formdata=MultiDict({"name": "X", "founded_year": str(next_year)}))
        assert not early.validate() and "founded_year" in early.errors
        with time_machine.travel(date(next_year, 1, 2), tick=False):
            later = ClusterForm(formdata=MultiDict({"name": "X", "founded_year": str(next_year)}))
            assert later.validate(), later.errors
