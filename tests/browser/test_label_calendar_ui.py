"""The label calendar in a real browser: a cluster manager finds it from the cluster page,
reads when the bronze label lapses and what silver still needs, plans a renewal by keyboard
(first too late, then in time), and a coordinator reads the region's label risks and filters
them; at 390 px wide, and planning without JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from tests.browser.test_labels_ui import press, tab_to
from tests.browser.test_ui import sign_in
from tests.label_calendar_support import build

pytestmark = pytest.mark.browser


@pytest.fixture
def cal(live_app, world, factory):
    return build(live_app, world, factory)


def _medium(day) -> str:
    return format_date(day, "medium", locale="en_GB")


def test_a_manager_plans_a_renewal_on_the_label_calendar(page, cal, screenshots):
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/clusters/{cal.c1}")
    with page.expect_navigation():
        page.get_by_role("link", name="Label calendar").click()
    expect(page.locator("main h1")).to_have_text("Label calendar of Arctic Minerals")
    chart = page.locator("figure.label-calendar")
    expect(chart.locator("svg.timeline-svg")).to_be_visible()
    expect(chart.locator("table tbody tr").first).to_contain_text("Bronze held")
    dates = page.locator("table.label-dates tbody tr")
    bronze, silver = dates.nth(0), dates.nth(1)
    expect(bronze).to_contain_text(_medium(cal.expires))  # held until = latest renewal date
    expect(bronze.locator("td").nth(2)).to_contain_text("none")  # no renewal planned
    expect(bronze).to_contain_text("the plan finishes later")
    expect(silver.locator("th")).to_contain_text("the next label")
    expect(silver).to_contain_text("Two benchmarkings at least 12 months apart")
    page.screenshot(path=str(screenshots / "label-calendar.png"), full_page=True)

    # Plan a benchmarking the day after the deadline, by keyboard: it is too late.
    summary = page.locator("summary", has_text="Plan an assessment")
    tab_to(page, summary)
    page.keyboard.press("Enter")
    form = page.locator("details.plan-assessment form")
    expect(form).to_be_visible()
    form.get_by_label("Planned on").fill((cal.expires + timedelta(days=1)).isoformat())
    form.get_by_label("Notes").fill("Dr Aune is booked")
    press(page, form.get_by_role("button", name="Plan it"))
    expect(page.locator(".flash-success")).to_contain_text("The assessment is planned.")
    expect(dates.nth(0)).to_contain_text("too late, after the latest renewal date")
    expect(page.locator("#planned-heading + div table")).to_contain_text("Dr Aune is booked")

    # Move it to the deadline itself: now the renewal is planned.
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Edit")).click()
    page.get_by_label("Planned on").fill(cal.expires.isoformat())
    press(page, page.get_by_role("button", name="Save"))
    expect(dates.nth(0).locator("td").nth(2)).to_contain_text(
        f"Benchmarking on {_medium(cal.expires)}"
    )
    page.screenshot(path=str(screenshots / "label-calendar-planned.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "label-calendar-390.png"), full_page=True)


def test_a_coordinator_reads_and_filters_the_label_risks(page, cal, screenshots):
    sign_in(page, "coord@a.example")
    page.goto("/nordland/labels/")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Label risks")).click()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Helgeland Health")
    expect(rows.first).to_contain_text("Can apply now")
    page.screenshot(path=str(screenshots / "label-risks.png"), full_page=True)
    page.select_option("#f-kind", "no_renewal")
    press(page, page.get_by_role("button", name="Filter"))
    expect(page).to_have_url(re.compile(r"[?&]kind=no_renewal"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"Lapses on {_medium(cal.expires)}")
    with page.expect_navigation():
        rows.first.get_by_role("link", name="Arctic Minerals").click()
    expect(page).to_have_url(re.compile(rf"/clusters/{cal.c1}/labels/calendar$"))


def test_planning_works_without_javascript(new_context, cal):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, "coord@a.example")
    page.goto(f"/nordland/clusters/{cal.c2}/labels/calendar")
    page.locator("summary", has_text="Plan an assessment").click()
    form = page.locator("details.plan-assessment form")
    form.get_by_label("Kind of assessment").select_option("audit")
    form.get_by_label("Planned on").fill(cal.expires.isoformat())
    with page.expect_navigation():
        form.get_by_role("button", name="Plan it").click()
    expect(page.locator(".flash-success")).to_contain_text("The assessment is planned.")
    expect(page.locator("#planned-heading + div table")).to_contain_text("Audit")
