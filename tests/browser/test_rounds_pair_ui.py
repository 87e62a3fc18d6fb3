"""A reversed pair of rounds in a real browser: a coordinator picks the newer round first;
the page compares from the older to the newer, says so, and its selects show the pair it
compared. A partial round is marked in the grid's heading."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.browser.test_ui import LABEL_CHECK, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def rounds_of_c1(live_app, world, factory):
    from portal.benchmarking import services as rounds
    from portal.clusters.models import Cluster

    factory.enable_plugin(world["a"], "esca")
    ids = {}
    with live_app.test_request_context(), tenant_scope(world["a"].id):
        indicator_set = rounds.find_set("esca-gold", "2013")
        cluster = db.session.get(Cluster, world["c1"].id)
        for key, on, score, only in (
            ("older", date(2024, 3, 1), 2.0, None),
            ("newer", date(2025, 3, 1), 4.0, None),
            ("partial", date(2025, 6, 1), 5.0, 4),
        ):
            indicators = indicator_set.indicators[:only] if only else indicator_set.indicators
            values = {i.id: (score, "") for i in indicators}
            saved = rounds.save_round(None, cluster, indicator_set, {"held_on": on}, values)
            ids[key] = saved.id
        db.session.commit()
    return world, ids


def test_a_reversed_pair_is_compared_older_to_newer(page, rounds_of_c1, screenshots):
    world, ids = rounds_of_c1
    sign_in(page)
    page.goto(f"/nordland/clusters/{world['c1'].id}/rounds")
    expect(page.locator(f"#round-{ids['partial']}")).to_contain_text("partial: 4 of 31 indicators")
    expect(page.locator(f"#round-{ids['newer']}")).not_to_contain_text("partial")
    # the newer round first, the older one second
    page.select_option("#old-1", str(ids["newer"]))
    page.select_option("#new-1", str(ids["older"]))
    with page.expect_navigation():
        page.get_by_role("button", name="Show what changed").click()
    expect(page.locator("#changes-heading")).to_have_text(
        "What changed from 1 Mar 2024 to 1 Mar 2025"
    )
    notice = page.locator("#pair-reordered")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("The newer round was chosen first")
    expect(page.locator("#old-1")).to_have_value(str(ids["older"]))
    expect(page.locator("#new-1")).to_have_value(str(ids["newer"]))
    assert page.evaluate(LABEL_CHECK)["unlabelled"] == []
    page.screenshot(path=str(screenshots / "rounds-reversed-pair.png"), full_page=True)
    # in order, no notice
    with page.expect_navigation():
        page.get_by_role("button", name="Show what changed").click()
    expect(page.locator("#changes-heading")).to_be_visible()
    expect(page.locator("#pair-reordered")).to_have_count(0)
