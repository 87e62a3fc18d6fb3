"""A plan's actions import as a job (portal.imports.jobs), as the rounds import: a confirmed
file of at least IMPORT_JOB_ROWS rows is written by a job whose page shows how far it is and
links back to the plan; every row or none."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.imports.models import ImportJob
from portal.plans.models import Action, Plan
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import login
from tests.import_support import check, confirm, token_of
from tests.process_support import build_process

JOB_LINK = re.compile(r"/nordland/imports/jobs/(\d+)")


@pytest.fixture
def jobs_app(make_app):
    """Jobs from 10 rows, run in the request (the thread's work, deterministically)."""
    return make_app({"IMPORT_JOB_ROWS": 10, "IMPORT_JOBS_IN_REQUEST": True})


def _actions(app, plan_id: int) -> dict[int, str]:
    with app.app_context(), unscoped():
        rows = db.session.execute(select(Action.id, Action.title).where(Action.plan_id == plan_id))
        return dict(rows.all())


def _csv(rows: list[tuple[str, str]]) -> bytes:
    return ("id,title,status\n" + "".join(f"{i},{t},planned\n" for i, t in rows)).encode()


def _check_and_confirm(client, plan_id: int, content: bytes):
    url = f"/nordland/plans/{plan_id}/import"
    checked = check(client, url, content, "actions.csv")
    assert checked.status_code == 200, checked.get_data(as_text=True)[:2000]
    return confirm(client, url + "/confirm", token_of(checked))


def test_a_large_actions_file_is_written_by_a_job_with_a_link_back_to_the_plan(jobs_app, world):
    process = build_process(jobs_app, world, actions=3)
    before = _actions(jobs_app, process.plan_id)
    client = jobs_app.test_client()
    login(client, "coord@a.example")
    rows = [("", f"Fair {n:02d}") for n in range(11)] + [(str(min(before)), "Renamed")]
    response = _check_and_confirm(client, process.plan_id, _csv(rows))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    job_id = int(JOB_LINK.search(response.headers["Location"]).group(1))
    page = client.get(f"/nordland/imports/jobs/{job_id}").get_data(as_text=True)
    assert "New actions: 11, changed: 1." in page
    assert f'href="/nordland/plans/{process.plan_id}"' in page and "Back to the plan" in page
    after = _actions(jobs_app, process.plan_id)
    assert len(after) == len(before) + 11 and after[min(before)] == "Renamed"
    with jobs_app.app_context(), unscoped():
        job = db.session.get(ImportJob, job_id)
        assert job.state == "done" and job.kind == "actions"


def test_a_change_after_the_check_writes_nothing_and_says_so(jobs_app, world):
    process = build_process(jobs_app, world, actions=3)
    before = _actions(jobs_app, process.plan_id)
    client = jobs_app.test_client()
    login(client, "coord@a.example")
    rows = [(str(i), f"Changed {i}") for i in before] + [("", f"New {n}") for n in range(9)]
    url = f"/nordland/plans/{process.plan_id}/import"
    token = token_of(check(client, url, _csv(rows), "actions.csv"))
    with jobs_app.app_context(), tenant_scope(world["a"].id):
        db.session.get(Action, min(before)).title = "Someone else's title"
        db.session.commit()
    response = confirm(client, url + "/confirm", token)
    job_id = int(JOB_LINK.search(response.headers["Location"]).group(1))
    page = client.get(f"/nordland/imports/jobs/{job_id}").get_data(as_text=True)
    assert "The data changed since the file was checked" in page
    after = _actions(jobs_app, process.plan_id)
    assert len(after) == len(before) and after[min(before)] == "Someone else's title"


def test_the_job_page_of_a_deleted_plan_answers_without_the_link_back(jobs_app, world):
    process = build_process(jobs_app, world, actions=1)
    client = jobs_app.test_client()
    login(client, "coord@a.example")
    rows = [("", f"New {n}") for n in range(12)]
    response = _check_and_confirm(client, process.plan_id, _csv(rows))
    job_id = int(JOB_LINK.search(response.headers["Location"]).group(1))
    with jobs_app.app_context(), tenant_scope(world["a"].id):
        db.session.delete(db.session.get(Plan, process.plan_id))
        db.session.commit()
    page = client.get(f"/nordland/imports/jobs/{job_id}")
    assert page.status_code == 200 and "Back to the plan" not in page.get_data(as_text=True)
