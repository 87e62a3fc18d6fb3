"""Linking an action to an indicator in a real browser, by keyboard, and seeing it on the
plan page and the action's measured effect; at 390 px wide."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.plans.models import ActionIndicator
from portal.tenancy import unscoped
from tests import improvement_support as build
from tests.browser.test_ui import sign_in
from tests.process_support import build_process

pytestmark = pytest.mark.browser


@pytest.fixture
def region(live_app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    process = build_process(live_app, world, actions=1)
    c3 = factory.cluster(world["a"], "Ocean Tech")
    c4 = factory.cluster(world["a"], "Saltfjord Food")
    for cluster, (before, after) in zip(
        (world["c1"], world["c2"], c3, c4), ((2, 4), (2, 3), (3, 4), (4, 5)), strict=True
    ):
        build.add_round(
            live_app, world["a"].id, cluster.id, build.BEFORE_DAY, {"engagement": before}
        )
        build.add_round(live_app, world["a"].id, cluster.id, build.AFTER_DAY, {"engagement": after})
    build.set_min_group(live_app, world["a"].id, 3)
    return SimpleNamespace(**vars(process), tenant_id=world["a"].id)


def test_link_an_action_to_an_indicator_and_see_it_on_the_plan(page, live_app, region, screenshots):
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/actions/{region.action_ids[0]}/edit")
    picker = page.locator("fieldset.indicator-picker")
    expect(picker.locator("legend").first).to_contain_text("Indicators the action aims")
    box = page.get_by_label("Engagement of participants")
    box.focus()
    page.keyboard.press("Space")  # by keyboard
    expect(box).to_be_checked()
    page.get_by_label("Hours planned").fill("12,5")
    page.get_by_label("Status").select_option("done")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/actions/{region.action_ids[0]}")
    with live_app.app_context(), unscoped():
        keys = [link.key for link in db.session.scalars(select(ActionIndicator))]
    assert keys == [build.ENGAGEMENT]
    expect(page.locator("#indicators-heading")).to_be_visible()
    expect(page.locator("main")).to_contain_text("12.5 planned")

    page.goto(f"/nordland/plans/{region.plan_id}")
    section = page.locator("section[aria-labelledby=plan-indicators-heading]")
    expect(section).to_contain_text("Engagement of participants")
    expect(section.locator("table#plan-indicators tbody tr")).to_have_count(1)
    page.set_viewport_size({"width": 390, "height": 844})
    # The section fits (its table scrolls inside its own box).
    assert section.bounding_box()["width"] <= 390
    assert section.evaluate("el => el.scrollWidth") <= 390
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "plan-indicators-390.png"), full_page=True)


def test_the_effect_chart_and_table_at_390_px(page, live_app, region, screenshots):
    action_id = build.add_action(
        live_app,
        region.tenant_id,
        region.plan_id,
        [build.ENGAGEMENT],
        title="Member survey",
        status="done",
    )
    sign_in(page, "manager@a.example")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/nordland/actions/{action_id}")
    figure = page.locator("section.improvement-effect figure.chart svg[role=img]")
    expect(figure).to_be_visible()
    expect(page.locator("section.improvement-effect table")).to_contain_text("Other clusters")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("section.improvement-effect").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "action-effect-390.png"), full_page=True)
