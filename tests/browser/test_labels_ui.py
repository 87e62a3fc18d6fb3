"""Labels in a real browser: a coordinator follows a cluster's path to its next label
(rule verdicts, evidence, awarding) to the label register and its filters; a cluster
manager turns an unmet rule into an action of the cluster's plan. The main buttons are
driven by the keyboard (Tab to reach them, Enter to press them)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.labels.models import Label, LabelEvidence
from portal.plans.models import Action
from portal.tenancy import tenant_scope, unscoped
from tests.browser.test_ui import sign_in
from tests.process_support import build_process

pytestmark = pytest.mark.browser

IMPROVED = ("engagement", "services", "communication")


@pytest.fixture
def benchmarked(live_app, world, factory):
    """ESCA on; c1 has two rounds a year apart, three indicators improved between them.

    The dates are relative to today, so the labels awarded here are valid for many months
    whatever day the test runs (the newest round was nine months ago: its bronze lapses in
    about fifteen months, beyond the register's "within 3 months" filter)."""
    from portal.benchmarking import services as rounds
    from portal.clusters.models import Cluster
    from portal.labels.scheme import add_months

    newest = add_months(date.today(), -9)
    oldest = add_months(newest, -12)

    factory.enable_plugin(world["a"], "esca")
    with live_app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, world["c1"].id)
        indicator_set = rounds.find_set("esca-gold", "2013")
        for held_on, better in ((oldest, ()), (newest, IMPROVED)):
            values = {i.id: (4.0 if i.id in better else 3.0, "") for i in indicator_set.indicators}
            rounds.save_round(None, cluster, indicator_set, {"held_on": held_on}, values)
    return world


def tab_to(page, locator, limit=200):
    """Press Tab until ``locator`` has the focus: it is reachable by keyboard, and its focus
    is visible (an outline)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail(f"Tab never reached {locator}")
    outline = locator.evaluate(
        "el => { const s = getComputedStyle(el);"
        " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0; }"
    )
    assert outline, f"no visible focus on {locator}"


def press(page, locator):
    """Reach ``locator`` by keyboard and press Enter; waits for the page it submits to."""
    tab_to(page, locator)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def level(page, name):
    """The <details> of one level on the path page."""
    return page.locator("details.level").filter(
        has=page.locator(":scope > summary .label-badge", has_text=name)
    )


def test_coordinator_documents_awards_and_finds_the_label(page, live_app, benchmarked, screenshots):
    c1 = benchmarked["c1"].id
    sign_in(page, "coord@a.example")
    page.goto(f"/nordland/clusters/{c1}/labels")
    expect(page.locator("main h1")).to_have_text("Labels of Arctic Minerals")
    expect(page.locator("main")).to_contain_text("No labels yet.")

    # Bronze is the next label and open; its one rule is met.
    bronze, silver, gold = level(page, "Bronze"), level(page, "Silver"), level(page, "Gold")
    expect(bronze).to_have_attribute("open", "")
    expect(bronze.locator(":scope > summary")).to_contain_text("the next label")
    expect(bronze.locator("li.rule-met")).to_contain_text("Met: A benchmarking round")
    expect(silver).not_to_have_attribute("open", "")
    silver.locator(":scope > summary").click()
    expect(silver.locator("li.rule-met")).to_contain_text("Two benchmarkings")
    expect(silver.locator("li.rule-needs_evidence")).to_have_count(2)
    gold.locator(":scope > summary").click()
    expect(gold.locator("li.rule-not_met")).to_have_count(2)
    expect(gold).to_contain_text("There is no audit round yet.")
    # Coordinators have no plan for the cluster yet: no "make it an action" buttons.
    expect(page.get_by_role("button", name=re.compile("Make it an action"))).to_have_count(0)
    page.screenshot(path=str(screenshots / "labels-path-verdicts.png"), full_page=True)

    # Award bronze with the keyboard.
    press(page, bronze.get_by_role("button", name="Award Bronze"))
    expect(page.locator(".flash-success")).to_contain_text("The label is awarded")
    expect(page.locator("#held-heading + ul .label-bronze")).to_be_visible()

    # Now silver is next: document three improvements and the expert review.
    silver = level(page, "Silver")
    expect(silver).to_have_attribute("open", "")
    for n, indicator in enumerate(IMPROVED):
        rule = level(page, "Silver").locator("li.rule", has_text="Improvement on at least")
        link = rule.get_by_role("button", name="Document an improvement")
        if n == 0:  # follow the link by keyboard once; then by pointer
            tab_to(page, link)
            with page.expect_navigation():
                page.keyboard.press("Enter")
        else:
            with page.expect_navigation():
                link.click()
        # The page offers each improved indicator with its values, text written from them.
        form = page.locator("article", has=page.locator(f"input[value='{indicator}']")).locator(
            "form"
        )
        expect(form.locator("textarea[name=text]")).not_to_be_empty()
        form.locator("textarea[name=text]").fill(f"New member service for {indicator}; +20 %")
        with page.expect_navigation():
            form.get_by_role("button", name="Record this improvement").click()
        expect(page.locator(".flash-success")).to_contain_text("The improvement is documented")
        silver = level(page, "Silver")
    expect(silver.locator("li.rule", has_text="Improvement on at least")).to_have_class(
        re.compile("rule-met")
    )
    review = silver.locator("li.rule", has_text="Review by an ESCA-certified expert")
    review.locator("summary", has_text="Record the expert review").click()
    review.locator("textarea[name=text]").fill("Recommends silver; strategy review is strong.")
    # The review happened three days ago: typed in today, dated on the day of the visit.
    happened = date.today() - timedelta(days=3)
    expect(review.locator("input[name=on]")).to_have_value(date.today().isoformat())
    review.get_by_label("Happened on").fill(happened.isoformat())
    with page.expect_navigation():
        review.get_by_role("button", name="Record").click()
    expect(silver.locator(":scope > summary")).to_contain_text("all rules met")
    expect(
        silver.locator("li.rule", has_text="Review by an ESCA-certified expert")
    ).to_contain_text(f"Reviewed on {format_date(happened, locale='en_GB')}.")
    page.screenshot(path=str(screenshots / "labels-path-silver-eligible.png"), full_page=True)

    # Award silver with the keyboard.
    press(page, silver.get_by_role("button", name="Award Silver"))
    expect(page.locator(".flash-success")).to_contain_text("valid until")
    with live_app.app_context(), unscoped():
        labels = db.session.scalars(select(Label).order_by(Label.id)).all()
        assert [(lbl.level, lbl.decided_by_id is not None) for lbl in labels] == [
            ("bronze", True),
            ("silver", True),
        ]
        evidence = db.session.scalars(select(LabelEvidence).order_by(LabelEvidence.id)).all()
        assert len(evidence) == 4  # 3 improvements + review
        assert [e.recorded_on for e in evidence] == [date.today()] * 3 + [happened]
    expect(level(page, "Gold")).to_have_attribute("open", "")  # gold is next now

    # The register shows both labels with their badges; filter it by level.
    page.goto("/nordland/labels/")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator("th")).to_have_text("Arctic Minerals")
    expect(page.locator("main table .label-badge.label-silver")).to_have_text("Silver")
    expect(page.locator("main table .label-badge.label-bronze")).to_have_text("Bronze")
    page.screenshot(path=str(screenshots / "labels-register.png"), full_page=True)
    page.select_option("#f-level", "silver")
    press(page, page.get_by_role("button", name="Filter"))
    expect(page).to_have_url(re.compile(r"[?&]level=silver"))
    expect(rows).to_have_count(1)
    expect(rows.locator(".label-badge")).to_have_text("Silver")
    expect(page.locator("#f-level")).to_have_value("silver")
    page.select_option("#f-level", "gold")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(0)
    expect(page.locator("main")).to_contain_text("No label matches.")
    page.select_option("#f-level", "")
    page.select_option("#f-within", "3")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(0)  # both labels are valid for about two years
    page.select_option("#f-status", "current")
    page.select_option("#f-within", "")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    page.screenshot(path=str(screenshots / "labels-register-filtered.png"), full_page=True)
    # The cluster's name leads back to its path.
    with page.expect_navigation():
        rows.first.get_by_role("link", name="Arctic Minerals").click()
    expect(page).to_have_url(re.compile(rf"/clusters/{c1}/labels$"))


DUPLICATE_IDS = """
() => {
  const seen = {};
  for (const el of document.querySelectorAll('[id]')) seen[el.id] = (seen[el.id] || 0) + 1;
  return Object.keys(seen).filter(id => seen[id] > 1);
}
"""


def test_two_schemes_on_one_path_page_keep_their_controls_apart(
    page, live_app, benchmarked, factory, screenshots
):
    """With a second scheme switched on, every form control still has its own id and label
    (the award forms of both schemes used to share "on-1" and "score-1")."""
    from tests.browser.test_ui import LABEL_CHECK

    if "arena" not in live_app.extensions["portal_plugins"].plugins:
        pytest.skip("the Arena plugin (plugins/portal_arena) is not installed")
    factory.enable_plugin(benchmarked["a"], "arena")
    sign_in(page, "coord@a.example")
    page.goto(f"/nordland/clusters/{benchmarked['c1'].id}/labels")
    expect(page.locator("main section[aria-labelledby^=scheme-]")).to_have_count(2)
    page.locator("main details").evaluate_all("all => all.forEach(d => { d.open = true; })")
    assert page.evaluate(DUPLICATE_IDS) == []
    controls = page.evaluate(LABEL_CHECK)
    assert controls["unlabelled"] == [], controls
    # Each scheme's "Awarded on" label leads to its own date field.
    awards = page.locator("form[action$='/labels/award']")
    assert awards.count() >= 2
    for i in range(awards.count()):
        awards.nth(i).get_by_text("Awarded on").click()
        expect(awards.nth(i).locator("input[name=on]")).to_be_focused()
    page.screenshot(path=str(screenshots / "labels-path-two-schemes.png"), full_page=True)


def test_manager_turns_an_unmet_rule_into_an_action(page, live_app, benchmarked, screenshots):
    process = build_process(live_app, benchmarked, actions=1)  # c1's plan: "Arctic plan"
    c1 = benchmarked["c1"].id
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/clusters/{c1}/labels")
    # Managers document evidence, but do not award.
    expect(page.get_by_role("button", name=re.compile("^Award"))).to_have_count(0)
    silver = level(page, "Silver")
    silver.locator(":scope > summary").click()
    review = silver.locator("li.rule", has_text="Review by an ESCA-certified expert")
    button = review.get_by_role("button", name="Make it an action in Arctic plan")
    expect(button).to_be_visible()
    # Met rules offer no action.
    expect(
        silver.locator("li.rule-met").get_by_role("button", name=re.compile("Make it an action"))
    ).to_have_count(0)
    page.screenshot(path=str(screenshots / "labels-path-manager.png"), full_page=True)
    # On a phone the rules reflow: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "labels-path-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})
    press(page, button)
    expect(page).to_have_url(re.compile(r"/actions/\d+"))
    expect(page.locator(".flash-success")).to_contain_text(
        "“Silver: Review by an ESCA-certified expert” is added to Arctic plan"
    )
    expect(page.locator("main")).to_contain_text(
        "This rule of the path to the next label is not met yet"
    )
    with live_app.app_context(), unscoped():
        action = db.session.scalar(
            select(Action).where(Action.title == "Silver: Review by an ESCA-certified expert")
        )
        assert action is not None and action.plan_id == process.plan_id
    page.goto(f"/nordland/plans/{process.plan_id}")
    expect(page.locator(f"#action-{action.id}")).to_contain_text(
        "Silver: Review by an ESCA-certified expert"
    )
    page.screenshot(path=str(screenshots / "labels-action-in-plan.png"), full_page=True)
