"""Plans in a real browser: change an action's status inline (htmx), see the timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.plans.models import Action, ActionStatus
from portal.tenancy import unscoped
from tests.browser.test_ui import sign_in
from tests.process_support import build_process

pytestmark = pytest.mark.browser


@pytest.fixture
def process(live_app, world):
    return build_process(live_app, world, actions=4)


def test_inline_status_change_swaps_only_the_row(page, live_app, process, screenshots, problems):
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/plans/{process.plan_id}")
    page.evaluate("window.__marker = 'still here'")
    row = page.locator(f"#action-{process.action_ids[0]}")
    row.locator("select[name=status]").select_option("in_progress")
    row.locator("input[name=progress]").fill("65")
    with page.expect_response(
        lambda r: "/quick" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        row.locator("button[type=submit]").click()
    expect(page.locator(f"#action-{process.action_ids[0]} input[name=progress]")).to_have_value(
        "65"
    )
    assert page.evaluate("window.__marker") == "still here"  # no page load
    with live_app.app_context(), unscoped():
        action = db.session.scalar(select(Action).where(Action.id == process.action_ids[0]))
        assert (action.status, action.progress) == (ActionStatus.IN_PROGRESS, 65)
    # A stale row (someone else saved meanwhile) says so in place, with status 409.
    problems.expect_status(409, "/quick")
    with live_app.app_context(), unscoped():
        db.session.execute(
            Action.__table__.update()
            .where(Action.id == process.action_ids[0])
            .values(version=Action.version + 1)
        )
        db.session.commit()
    row = page.locator(f"#action-{process.action_ids[0]}")
    row.locator("input[name=progress]").fill("70")
    row.locator("button[type=submit]").click()
    expect(page.locator(f"#action-{process.action_ids[0]} [role=alert]")).to_contain_text(
        "Someone else changed"
    )
    page.screenshot(path=str(screenshots / "plan-inline-edit.png"), full_page=True)


def test_timeline_picture_links_to_actions(page, process, screenshots):
    sign_in(page, "observer@a.example")
    page.goto(f"/nordland/plans/{process.plan_id}")
    svg = page.locator("figure.timeline svg[role=group]")
    expect(svg).to_be_visible()
    bars = svg.locator("a rect")
    assert bars.count() == 4
    box = svg.bounding_box()
    assert box and box["width"] > 400
    page.screenshot(path=str(screenshots / "plan-timeline.png"), full_page=True)
    svg.locator("a").nth(0).click()
    page.wait_for_url("**/actions/*")


def test_search_filters_the_actions_in_place(page, process):
    """Typing in the search box narrows the list (htmx) and the URL keeps the search."""
    sign_in(page, "observer@a.example")
    page.goto(f"/nordland/plans/{process.plan_id}")
    page.evaluate("window.__marker = 'still here'")
    rows = page.locator("#actions tbody tr")
    expect(rows).to_have_count(4)
    page.get_by_label("Search", exact=True).fill("Action 002")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Action 002")
    assert page.evaluate("window.__marker") == "still here"
    expect(page).to_have_url(re.compile(r"q=Action(\+|%20)002"))
    page.get_by_label("Owner").select_option("none")
    expect(page.locator("#actions")).to_contain_text("No action matches the filters.")
