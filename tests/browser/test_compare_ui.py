"""Comparisons in a real browser: a coordinator opens the forum's scorecard, sorts the heat
map (htmx swaps the results, the address follows, the focus stays on the picker), compares the
forum with a reference portfolio and turns a lag into a goal of the joint plan; a cluster
manager sees the own cluster against the forum; the printable report in print media. Every
page passes the Content Security Policy (no inline style, no inline script)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.plans.models import Plan
from portal.tenancy import tenant_scope, unscoped
from tests.browser.test_labels_ui import DUPLICATE_IDS
from tests.browser.test_ui import LABEL_CHECK, sign_in
from tests.process_support import build_process

pytestmark = pytest.mark.browser

NAMES = (
    "Bodø Marine Tech",
    "Lofoten Seafood Cluster",
    "Mo Industrial Park",
    "Narvik Logistics",
    "Salten Energy",
    "Vesterålen Tourism",
)


@pytest.fixture
def forum(live_app, world, factory):
    """Eight clusters with rounds (c1 twice), names shown, a joint plan and a reference."""
    from portal_compare.models import ReferenceIndicator, ReferencePortfolio

    from portal.benchmarking import services as rounds
    from portal.clusters.models import Cluster
    from portal.tenancy.models import Tenant

    factory.enable_plugin(world["a"], "esca")
    factory.enable_plugin(world["a"], "compare")
    extra = [factory.cluster(world["a"], name) for name in NAMES]
    process = build_process(live_app, world, actions=0)
    tenant_id = world["a"].id
    with live_app.test_request_context(), tenant_scope(tenant_id):
        indicator_set = rounds.find_set("esca-gold", "2013")
        indicators = indicator_set.indicators

        def enter(cluster_id, on, pick):
            values = {i.id: (float(pick(n)), "") for n, i in enumerate(indicators)}
            cluster = db.session.get(Cluster, cluster_id)
            rounds.save_round(None, cluster, indicator_set, {"held_on": on}, values)

        enter(world["c1"].id, date(2024, 3, 1), lambda n: 2 + n % 3)
        enter(world["c1"].id, date(2025, 3, 1), lambda n: 2 + (n + 1) % 4)
        enter(world["c2"].id, date(2025, 3, 3), lambda n: 1 + n % 2)
        for k, cluster in enumerate(extra):
            enter(cluster.id, date(2025, 3, 5 + k), lambda n, k=k: (n * (k + 2)) % 6)
        tenant = db.session.get(Tenant, tenant_id)
        tenant.values_min_group, tenant.values_names_shown = 5, True
        reference = ReferencePortfolio(
            tenant_id=tenant_id,
            name="Danish clusters 2016",
            indicator_set="esca-gold",
            set_version="2013",
            source="aggregates",
            cluster_count=29,
        )
        reference.indicators = [
            ReferenceIndicator(
                tenant_id=tenant_id,
                indicator_id=i.id,
                count=29,
                q1=2.5 + (n % 3) / 2,
                median=3.5 + (n % 3) / 2,
                q3=4.5,
                red_share=0.15,
                yellow_share=0.35,
                green_share=0.5,
            )
            for n, i in enumerate(indicators)
        ]
        db.session.add(reference)
        db.session.commit()
        reference_id = reference.id
    return world, process, reference_id


# Screenshots keep the caret: hiding it leaves an empty style attribute on inputs, which htmx
# then copies onto the swapped-in inputs of the same id (a CSP report for a test artefact).
SHOT = {"full_page": True, "caret": "initial"}


def heat_map_rows(page) -> list[str]:
    return page.locator("#cmp-hm-t ~ text.cmp-label").all_text_contents()


def test_coordinator_sorts_the_scorecard_and_follows_up_a_lag(page, live_app, forum, screenshots):
    world, process, reference_id = forum
    sign_in(page, "coord@a.example")
    page.goto("/nordland/compare/")
    expect(page.locator("main h1")).to_have_text("Comparisons")
    page.screenshot(path=str(screenshots / "compare-index.png"), **SHOT)
    with page.expect_navigation():
        page.get_by_role("button", name="Open the forum's scorecard").click()
    expect(page.locator("main h1")).to_have_text("Comparisons of the forum")
    heat_map = page.locator("svg[aria-labelledby^=cmp-hm-t]")
    expect(heat_map).to_be_visible()
    before = heat_map_rows(page)
    assert before == sorted(before) and len(before) == 8  # by name
    expect(page.locator("#cmp-di-t")).to_have_count(1)  # the distribution
    page.screenshot(path=str(screenshots / "compare-scorecard.png"), **SHOT)

    # Sort by score, best first: htmx replaces the results; the address follows.
    page.locator("#cmp-sort").focus()
    page.select_option("#cmp-sort", "-score")
    expect(page).to_have_url(re.compile(r"sort=-score"))
    expect(page.locator("#cmp-sort")).to_have_value("-score")
    expect(page.locator("#cmp-sort")).to_be_focused()
    after = heat_map_rows(page)
    assert sorted(after) == sorted(before) and after != before
    scores = page.locator("svg[aria-labelledby^=cmp-hm-t] text.cmp-value").all_text_contents()
    numbers = [int(s.replace("%", "").strip()) for s in scores]
    assert numbers == sorted(numbers, reverse=True)
    page.locator("#h-heat-map").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "compare-scorecard-sorted.png"), **SHOT)

    # Sort by a group, then pick the reference portfolio (a GET form, htmx again).
    page.select_option("#cmp-sort", "group:financing")
    expect(page).to_have_url(re.compile(r"sort=group%3Afinancing|sort=group:financing"))
    page.locator(f"#ref-{reference_id}").check()
    expect(page.locator("#kind-references")).to_contain_text(
        "The forum lags Danish clusters 2016 most in:"
    )
    expect(page).to_have_url(re.compile(rf"ref={reference_id}"))
    expect(page.locator("#cmp-sort")).to_have_value("group:financing")  # kept
    # Every control has its own id and a label (the follow-up forms repeat per indicator).
    assert page.evaluate(DUPLICATE_IDS) == []
    controls = page.evaluate(LABEL_CHECK)
    assert controls["count"] > 10 and controls["unlabelled"] == [], controls
    gap_chart = page.locator("svg[aria-labelledby^=cmp-gap-t]")
    expect(gap_chart).to_be_visible()
    gap_chart.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "compare-references.png"), **SHOT)

    # Turn the worst lag into a goal of the joint plan, in one step.
    first = page.locator("#kind-references .cmp-followups li").first
    indicator = first.locator("strong").inner_text()
    with page.expect_navigation():
        first.get_by_role("button", name=re.compile("Add as a goal")).click()
    expect(page.locator(".flash-success")).to_contain_text("Added to the goals of Joint plan")
    expect(page).to_have_url(re.compile(rf"/compare/forum\?.*ref={reference_id}"))
    with live_app.app_context(), unscoped():
        goals = db.session.scalar(select(Plan.goals).where(Plan.id == process.joint_id))
    assert f"- Improve: {indicator}: The forum" in goals

    # The table beside the heat map opens for copying and screen readers.
    page.locator("#kind-scorecard details.cmp-table summary").first.click()
    expect(page.locator("#kind-scorecard table.cmp-grid-table tbody tr")).to_have_count(8)

    # On a phone the page does not get wider than the screen: the pictures scroll.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "compare-scorecard-phone.png"))


def test_the_printable_forum_report(page, forum, screenshots):
    sign_in(page, "coord@a.example")
    page.goto(f"/nordland/compare/forum/report?ref={forum[2]}")
    expect(page.locator(".report-cover h1")).to_have_text("Regional cluster excellence scorecard")
    expect(page.locator(".report-cover")).to_contain_text("Nordland Forum")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".cmp-followup")).to_have_count(0)
    page.screenshot(path=str(screenshots / "compare-forum-report-print.png"), **SHOT)
    pdf = page.pdf(print_background=True, prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    (screenshots / "compare-forum-report.pdf").write_bytes(pdf)


def test_manager_sees_the_own_cluster_against_the_forum(page, forum, screenshots, problems):
    world, _process, _reference = forum
    c1, c2 = world["c1"].id, world["c2"].id
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/clusters/{c1}")
    with page.expect_navigation():
        page.get_by_role("link", name="Comparisons of Arctic Minerals").click()
    expect(page.locator("main h1")).to_have_text("Comparisons of Arctic Minerals")
    expect(page.locator("#kind-over-time")).to_contain_text("Since the round before:")
    expect(page.locator("svg[aria-labelledby^=cmp-af-t] .cmp-band").first).to_be_visible()
    page.screenshot(path=str(screenshots / "compare-cluster.png"), **SHOT)
    with page.expect_navigation():
        page.get_by_role("button", name="Printable report").click()
    expect(page.locator(".report-cover")).to_contain_text("Arctic Minerals")
    page.emulate_media(media="print")
    pdf = page.pdf(print_background=True, prefer_css_page_size=True)
    (screenshots / "compare-cluster-report.pdf").write_bytes(pdf)
    page.emulate_media(media="screen")
    page.go_back()
    # the older round against the forum, through the round picker (htmx)
    page.select_option("#cmp-round", label="1 Mar 2024")
    expect(page.locator("#kind-against-forum")).to_contain_text("The round of 1 Mar 2024")
    expect(page).to_have_url(re.compile(r"round=\d+"))
    # the forum page: the own row, aggregates of the others, no other names
    page.goto("/nordland/compare/forum")
    expect(page.locator("main")).not_to_contain_text("Helgeland Health")
    assert heat_map_rows(page) == ["Arctic Minerals"]
    page.screenshot(path=str(screenshots / "compare-scorecard-manager.png"), **SHOT)
    # another cluster's comparisons are refused
    problems.expect_status(403, f"/compare/clusters/{c2}")
    assert page.goto(f"/nordland/compare/clusters/{c2}").status == 403


def test_the_coordinator_pages_through_a_sorted_heat_map(page, forum, monkeypatch, screenshots):
    """Pages of three rows: the whole forum is sorted first; htmx swaps the results and the
    address keeps the sort and the page; the pager is a labelled navigation."""
    from portal_compare import kinds

    monkeypatch.setattr(kinds, "PER_PAGE", 3)
    sign_in(page, "coord@a.example")
    page.goto("/nordland/compare/forum/report?sort=-score")
    everything = heat_map_rows(page)
    assert len(everything) == 8
    page.goto("/nordland/compare/forum?sort=-score")
    pager = page.get_by_role("navigation", name="Pages of the heat map")
    expect(pager).to_be_visible()
    expect(page.locator("#cmp-rows-shown")).to_have_text("Clusters 1–3 of 8, in the chosen order.")
    assert heat_map_rows(page) == everything[:3]
    pager.get_by_role("link", name="Next clusters").click()
    expect(page).to_have_url(re.compile(r"sort=-score.*page=2|page=2.*sort=-score"))
    expect(page.locator("#cmp-rows-shown")).to_have_text("Clusters 4–6 of 8, in the chosen order.")
    assert heat_map_rows(page) == everything[3:6]
    expect(pager.locator("[aria-current=page]")).to_have_text("Page 2")
    page.locator("#h-heat-map").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "compare-scorecard-page-2.png"), **SHOT)
    pager.get_by_role("link", name="Page 3").click()
    expect(page.locator("#cmp-rows-shown")).to_have_text("Clusters 7–8 of 8, in the chosen order.")
    assert heat_map_rows(page) == everything[6:]
    # a new sort starts again at the first page
    page.select_option("#cmp-sort", "name")
    expect(page.locator("#cmp-rows-shown")).to_have_text("Clusters 1–3 of 8, in the chosen order.")
    assert heat_map_rows(page) == sorted(everything)[:3]
    assert page.evaluate(DUPLICATE_IDS) == []
