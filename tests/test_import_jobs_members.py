"""A cluster's members import as a job (portal.imports.jobs), as the rounds and actions
imports: a confirmed file of at least IMPORT_JOB_ROWS rows is written by a job whose page says
what it did and links back to the cluster; every row or none. The import kinds' registry
(portal.imports.kinds) also gives the front page its link to a checked file's page."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from portal.clusters.models import MemberOrganisation
from portal.extensions import db
from portal.imports.models import ImportJob
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import login
from tests.import_support import check, confirm, token_of

JOB_LINK = re.compile(r"/nordland/imports/jobs/(\d+)")


@pytest.fixture
def jobs_app(make_app):
    """Jobs from 10 rows, run in the request (the thread's work, deterministically)."""
    return make_app({"IMPORT_JOB_ROWS": 10, "IMPORT_JOBS_IN_REQUEST": True})


def _members(app, cluster_id: int) -> list[str]:
    with app.app_context(), unscoped():
        return sorted(
            db.session.scalars(
                select(MemberOrganisation.name).where(MemberOrganisation.cluster_id == cluster_id)
            )
        )


def _add_member(app, world, cluster_id: int, name: str) -> None:
    with app.app_context(), tenant_scope(world["a"].id):
        db.session.add(
            MemberOrganisation(
                tenant_id=world["a"].id, cluster_id=cluster_id, name=name, member_type="company_sme"
            )
        )
        db.session.commit()


def _csv(names: list[str]) -> bytes:
    return ("name,member_type,city\n" + "".join(f"{n},company_sme,Bodø\n" for n in names)).encode()


def _checked(client, cluster_id: int, names: list[str]):
    url = f"/nordland/clusters/{cluster_id}/members/import"
    checked = check(client, url, _csv(names), "members.csv")
    assert checked.status_code == 200, checked.get_data(as_text=True)[:2000]
    return url, token_of(checked)


def test_a_large_members_file_is_written_by_a_job_with_a_link_back_to_the_cluster(jobs_app, world):
    cluster_id = world["c1"].id
    before = _members(jobs_app, cluster_id)
    client = jobs_app.test_client()
    login(client, "coord@a.example")
    names = [f"Supplier {n:02d} AS" for n in range(12)]
    url, token = _checked(client, cluster_id, names)
    # Checked, not confirmed: the front page links the file to its import page.
    front = client.get("/nordland/").get_data(as_text=True)
    assert f'<li><a href="{url}">Import of members to confirm before' in front
    response = confirm(client, url + "/confirm", token)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    job_id = int(JOB_LINK.search(response.headers["Location"]).group(1))
    page = client.get(f"/nordland/imports/jobs/{job_id}").get_data(as_text=True)
    assert "12 members are imported." in page
    assert f'href="/nordland/clusters/{cluster_id}"' in page and "Back to the cluster" in page
    assert _members(jobs_app, cluster_id) == sorted(before + names)
    with jobs_app.app_context(), unscoped():
        job = db.session.get(ImportJob, job_id)
        assert (job.state, job.kind) == ("done", "members")
    assert "Import of members to confirm" not in client.get("/nordland/").get_data(as_text=True)


def test_a_member_added_after_the_check_makes_the_job_write_nothing(jobs_app, world):
    cluster_id = world["c1"].id
    before = _members(jobs_app, cluster_id)
    client = jobs_app.test_client()
    login(client, "manager@a.example")
    names = [f"Supplier {n:02d} AS" for n in range(12)]
    url, token = _checked(client, cluster_id, names)
    _add_member(jobs_app, world, cluster_id, "Supplier 05 AS")  # after the check
    response = confirm(client, url + "/confirm", token)
    job_id = int(JOB_LINK.search(response.headers["Location"]).group(1))
    page = client.get(f"/nordland/imports/jobs/{job_id}").get_data(as_text=True)
    assert "Nothing was written." in page and "has a member named “Supplier 05 AS” already" in page
    assert _members(jobs_app, cluster_id) == sorted([*before, "Supplier 05 AS"])
    with jobs_app.app_context(), unscoped():
        assert db.session.get(ImportJob, job_id).state == "failed"


def test_a_small_members_file_is_still_written_in_the_request(jobs_app, world):
    cluster_id = world["c1"].id
    client = jobs_app.test_client()
    login(client, "manager@a.example")
    url, token = _checked(client, cluster_id, ["Only One AS"])
    response = confirm(client, url + "/confirm", token)
    assert response.headers["Location"].endswith(f"/nordland/clusters/{cluster_id}")
    assert "Only One AS" in _members(jobs_app, cluster_id)


# --- a large upload is checked by a job too ------------------------------------------------


@pytest.fixture
def check_jobs_app(make_app):
    """Uploads of 200 bytes or more are checked by a job; jobs run in the request."""
    return make_app(
        {"IMPORT_JOB_ROWS": 10, "IMPORT_CHECK_JOB_BYTES": 200, "IMPORT_JOBS_IN_REQUEST": True}
    )


def _upload(client, cluster_id: int, content: bytes):
    url = f"/nordland/clusters/{cluster_id}/members/import"
    return url, check(client, url, content, "members.csv")


def test_a_large_upload_is_checked_by_a_job_then_confirmed_on_its_page(check_jobs_app, world):
    app, cluster_id = check_jobs_app, world["c1"].id
    before = _members(app, cluster_id)
    client = app.test_client()
    login(client, "coord@a.example")
    names = [f"Supplier {n:02d} AS" for n in range(12)]
    _url, response = _upload(client, cluster_id, _csv(names))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    job_id = int(JOB_LINK.search(response.headers["Location"]).group(1))
    job_page = f"/nordland/imports/jobs/{job_id}"
    page = client.get(job_page).get_data(as_text=True)
    assert "12 rows checked: no problems. Confirm to write them." in page
    assert f'action="{job_page}/confirm"' in page
    assert _members(app, cluster_id) == before  # checked, nothing written
    # waiting on the front page, linked to the job's page
    assert f'<li><a href="{job_page}">' in client.get("/nordland/").get_data(as_text=True)
    # nobody else sees or confirms it
    other = app.test_client()
    login(other, "manager@a.example")
    assert other.get(job_page).status_code == 404
    assert other.post(job_page + "/confirm").status_code == 404
    assert _members(app, cluster_id) == before
    confirmed = client.post(job_page + "/confirm")
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith(job_page)
    page = client.get(job_page).get_data(as_text=True)
    assert "12 members are imported." in page
    assert _members(app, cluster_id) == sorted(before + names)
    # a second confirm writes nothing more
    client.post(job_page + "/confirm")
    assert _members(app, cluster_id) == sorted(before + names)
    with app.app_context(), unscoped():
        assert db.session.get(ImportJob, job_id).state == "done"
    assert f'<li><a href="{job_page}">' not in client.get("/nordland/").get_data(as_text=True)


def test_a_large_upload_with_problems_is_refused_by_its_job_and_kept_for_nobody(
    check_jobs_app, world
):
    app, cluster_id = check_jobs_app, world["c1"].id
    before = _members(app, cluster_id)
    client = app.test_client()
    login(client, "coord@a.example")
    content = _csv([f"Supplier {n:02d} AS" for n in range(12)]).replace(
        b"Supplier 03 AS,company_sme", b"Supplier 03 AS,spaceship"
    )
    _url, response = _upload(client, cluster_id, content)
    job_page = response.headers["Location"]
    page = client.get(job_page).get_data(as_text=True)
    assert "Nothing was written." in page and "Unknown member type “spaceship”" in page
    assert "/confirm" not in page
    assert client.post(job_page + "/confirm").status_code == 303
    assert _members(app, cluster_id) == before
    assert "Import of members to confirm" not in client.get("/nordland/").get_data(as_text=True)


def test_the_check_job_is_checked_again_at_the_confirm(check_jobs_app, world):
    """A member added between the job's check and the confirm: the second check finds it,
    nothing is written."""
    app, cluster_id = check_jobs_app, world["c1"].id
    client = app.test_client()
    login(client, "coord@a.example")
    _url, response = _upload(client, cluster_id, _csv([f"Supplier {n:02d} AS" for n in range(12)]))
    job_page = response.headers["Location"]
    _add_member(app, world, cluster_id, "Supplier 07 AS")  # after the check
    before = _members(app, cluster_id)
    client.post(job_page + "/confirm")
    page = client.get(job_page).get_data(as_text=True)
    assert "has a member named “Supplier 07 AS” already" in page
    assert _members(app, cluster_id) == before


def test_a_small_upload_is_still_checked_in_the_request(check_jobs_app, world):
    client = check_jobs_app.test_client()
    login(client, "coord@a.example")
    _url, response = _upload(client, world["c1"].id, _csv(["One AS"]))
    assert response.status_code == 200 and "One AS" in response.get_data(as_text=True)


def test_an_xlsx_of_many_rows_is_checked_by_a_job_whatever_its_bytes(make_app, world):
    """An XLSX packs its rows small: the rows decide (IMPORT_CHECK_JOB_ROWS), not the bytes."""
    from openpyxl import Workbook

    app = make_app(
        {
            "IMPORT_CHECK_JOB_ROWS": 10,
            "IMPORT_CHECK_JOB_BYTES": 10**7,
            "IMPORT_JOBS_IN_REQUEST": True,
        }
    )
    client = app.test_client()
    login(client, "coord@a.example")

    def xlsx(names: list[str]) -> bytes:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(["name", "member_type", "city"])
        for name in names:
            sheet.append([name, "company_sme", "Bodø"])
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()

    url = f"/nordland/clusters/{world['c1'].id}/members/import"
    large = check(client, url, xlsx([f"Supplier {n:02d} AS" for n in range(12)]), "m.xlsx")
    assert large.status_code == 303 and JOB_LINK.search(large.headers["Location"])
    small = check(client, url, xlsx(["One AS", "Two AS"]), "m.xlsx")
    assert small.status_code == 200 and "Two AS" in small.get_data(as_text=True)


def test_a_cluster_managers_checked_file_waits_on_their_front_page(app, world):
    client = app.test_client()
    login(client, "manager@a.example")
    front = client.get("/nordland/").get_data(as_text=True)
    assert "Imports to confirm" in front and "No import of yours waits" in front
    url, _token = _checked(client, world["c1"].id, ["Supplier AS"])
    front = client.get("/nordland/").get_data(as_text=True)
    assert f'<li><a href="{url}">members</a>' in front
    assert "No import of yours waits" not in front
