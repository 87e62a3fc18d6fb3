"""A large members file in a real browser: the upload leads to the job's page, which follows
the check (htmx polls it) to "Checked" with a confirm button; the confirm writes the file in
the job and the page says what was imported, with a link back to the cluster. Jobs run in a
thread of the server, as without a broker. Both states pass axe-core and fit 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import AXE_RUN, AXE_SOURCE, AXE_TAGS, PHONE_WIDTH, SIDEWAYS
from tests.browser.test_ui import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def live_app(make_app):
    """Uploads of 200 bytes or more are checked by a job, files of 10 rows written by one."""
    return make_app(
        {"WTF_CSRF_ENABLED": True, "IMPORT_CHECK_JOB_BYTES": 200, "IMPORT_JOB_ROWS": 10}
    )


def _clean(page) -> None:
    violations = [
        f"{v['impact']} {v['id']}: {v['nodes']}"
        for v in page.evaluate(AXE_RUN, AXE_TAGS)
        if v["impact"] in ("critical", "serious")
    ]
    assert not violations, violations
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    assert page.evaluate(SIDEWAYS) is None
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_large_members_file_is_checked_then_written_by_a_job(
    new_context, world, screenshots, tmp_path
):
    cluster_id = world["c1"].id
    context = new_context()
    context.add_init_script(AXE_SOURCE)
    page = context.new_page()
    sign_in(page, "coord@a.example")
    names = [f"Supplier {n:02d} AS" for n in range(12)]
    upload = tmp_path / "members.csv"
    upload.write_text(
        "name,member_type,city\n" + "".join(f"{n},company_sme,Bodø\n" for n in names),
        encoding="utf-8",
    )
    page.goto(f"/nordland/clusters/{cluster_id}/members/import")
    page.set_input_files("input[type=file]", str(upload))
    with page.expect_navigation():
        page.get_by_role("button", name="Check the file").click()
    expect(page).to_have_url(re.compile(r"/nordland/imports/jobs/\d+$"))
    heading = page.locator("#job-heading")
    expect(heading).to_have_text("Checked")
    expect(page.locator("main")).to_contain_text("12 rows checked: no problems.")
    _clean(page)
    page.screenshot(path=str(screenshots / "import-job-checked.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm the import").click()
    expect(heading).to_have_text("Done")
    expect(page.locator("main")).to_contain_text("12 members are imported.")
    _clean(page)
    page.screenshot(path=str(screenshots / "import-job-done.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("link", name="Back to the cluster").click()
    expect(page.locator("main")).to_contain_text("Supplier 11 AS")
