"""The public label register in a real browser: an anonymous visitor without JavaScript, on a
phone (390 px), filters the region's labels, pages through them and finds the downloads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.extensions import db
from portal.labels.models import Label
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant

pytestmark = pytest.mark.browser


@pytest.fixture
def published(live_app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    today = date.today()
    with live_app.test_request_context():
        tenant = db.session.get(Tenant, world["a"].id)
        tenant.register_published = True
        tenant.register_scores_published = True
        with tenant_scope(world["a"].id):
            for i in range(30):
                db.session.add(
                    Label(
                        cluster_id=world["c1" if i % 2 else "c2"].id,
                        scheme="esca",
                        scheme_version="2013",
                        level=("bronze", "silver", "gold")[i % 3],
                        awarded_on=today - timedelta(days=400 + i),
                        expires_on=today + timedelta(days=(i - 10) * 20),
                        score=60 + i / 4,
                    )
                )
            db.session.commit()
    return world


def test_an_anonymous_visitor_on_a_phone_filters_without_javascript(
    new_context, published, screenshots
):
    page = new_context(java_script_enabled=False).new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/register/nordland/")
    assert page.locator("h1").inner_text() == "Label register of Nordland Forum"
    assert page.locator("tbody tr").count() == 25
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "public-register-390.png"), full_page=True)
    page.select_option("#f-status", "expired")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert "status=expired" in page.url
    assert page.locator("tbody .badge-red").count() == page.locator("tbody tr").count() > 0
    page.goto("/register/nordland/")
    with page.expect_navigation():
        page.get_by_role("link", name="Next").click()
    assert page.locator("tbody tr").count() == 5
    assert page.get_by_role("link", name="CSV").get_attribute("href").endswith("labels.csv")
    page.goto("/register/")
    assert page.get_by_role("link", name="Nordland Forum").first.is_visible()
    page.screenshot(path=str(screenshots / "public-register-platform-390.png"), full_page=True)
