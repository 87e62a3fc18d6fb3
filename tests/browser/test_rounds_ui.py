"""Rounds in a real browser: an assessor enters a benchmarking as a draft, confirms it, and
later corrects the confirmed result with a reason; the coordinator finds it locked; the
round's history shows the replaced result. A cluster manager shares the cluster's report with
the observers, who then see its values."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_ui import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def esca(live_app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    return world


def sign_out(page):
    page.locator("form[action='/logout'] button").click()


def test_an_assessor_confirms_and_corrects_a_benchmarking(page, esca, screenshots, problems):
    c1 = esca["c1"].id
    held_on = (date.today() - timedelta(days=10)).isoformat()
    sign_in(page, "assessor@a.example")
    page.goto(f"/nordland/clusters/{c1}/rounds")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("New round")).click()
    expect(page.locator("#kind")).to_have_value("benchmarking")
    page.fill("#held_on", held_on)
    page.fill("#v-engagement", "3")
    page.fill("#v-services", "2")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the round").click()
    expect(page.locator(".flash-success")).to_contain_text("The round is saved.")
    header = page.locator("thead th[id^=round-]")
    expect(header).to_contain_text("draft")
    with page.expect_navigation():
        header.get_by_role("button", name=re.compile("Confirm")).click()
    expect(page.locator(".flash-success")).to_contain_text("locked")
    expect(header).not_to_contain_text("draft")
    page.screenshot(path=str(screenshots / "rounds-confirmed.png"), full_page=True)

    # The coordinator no longer edits it: the edit link became history only.
    sign_out(page)
    sign_in(page, "coord@a.example")
    page.goto(f"/nordland/clusters/{c1}/rounds")
    expect(header.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    expect(header.get_by_role("link", name=re.compile("^Correct"))).to_have_count(0)

    # The assessor corrects it; the reason is required and kept.
    sign_out(page)
    sign_in(page, "assessor@a.example")
    page.goto(f"/nordland/clusters/{c1}/rounds")
    with page.expect_navigation():
        header.get_by_role("link", name=re.compile("^Correct")).click()
    expect(page.locator("main h1")).to_contain_text("Correct the confirmed round")
    page.fill("#v-engagement", "4")
    problems.expect_status(422, "/edit")  # the correction without a reason
    with page.expect_navigation():
        page.get_by_role("button", name="Save the correction").click()
    expect(page.locator("#reason-error, .field-error").first).to_be_visible()
    page.fill("#reason", "The report had engagement at 4.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the correction").click()
    expect(page.locator(".flash-success")).to_contain_text("the replaced result is kept")
    expect(header).to_contain_text("corrected")
    with page.expect_navigation():
        header.get_by_role("link", name=re.compile("^History")).click()
    expect(page.locator("main")).to_contain_text("The report had engagement at 4.")
    expect(page.locator("main")).to_contain_text("Revision 1 replaced by revision 2")
    page.screenshot(path=str(screenshots / "rounds-history.png"), full_page=True)


def test_a_manager_shares_the_report_with_the_observers(page, esca, screenshots):
    c1 = esca["c1"].id
    sign_in(page, "observer@a.example")
    page.goto(f"/nordland/clusters/{c1}/rounds")
    expect(page.locator("main p.notice")).to_contain_text("seen by its own people")
    sign_out(page)
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/clusters/{c1}/rounds")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Share this cluster")).click()
    expect(page.locator(".flash-success")).to_contain_text("now see this cluster")
    expect(page.locator("section.sharing")).to_contain_text("since")
    sign_out(page)
    sign_in(page, "observer@a.example")
    page.goto(f"/nordland/clusters/{c1}/rounds")
    # The values now, and a word that the evidence is shared (not the cluster's workings).
    expect(page.locator("main p.notice")).to_have_count(1)
    expect(page.locator("main p.notice")).to_contain_text("shared with you")
    expect(page.locator("section.sharing")).to_contain_text("shares its report")
    page.screenshot(path=str(screenshots / "rounds-shared-observer.png"), full_page=True)
