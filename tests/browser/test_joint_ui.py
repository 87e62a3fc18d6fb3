"""Joint actions in a real browser: a coordinator moves a joint action on the board (htmx,
no page load, the focus stays on the moved card's button; a stale card says so), a cluster
manager updates their cluster's contribution inline (and the roll-up on the page follows),
and the same contribution form works without JavaScript.

The app runs with CSRF protection on; any console error or CSP violation fails the test."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from portal_joint import services
from portal_joint.models import JointAction, JointStatus, Participation
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.programmes.models import Programme
from portal.tenancy import tenant_scope, unscoped
from tests.browser.test_labels_ui import DUPLICATE_IDS, tab_to
from tests.browser.test_ui import LABEL_CHECK, sign_in
from tests.process_support import build_process

pytestmark = pytest.mark.browser

TODAY = date.today()


@pytest.fixture
def joint(live_app, world, factory):
    """A programme with c1 and c2 and three joint actions; c1 and c2 take part in the
    first, which the coordinator leads."""
    factory.enable_plugin(world["a"], "joint")
    factory.enable_plugin(world["a"], "esca")
    process = build_process(live_app, world, actions=1)
    with live_app.test_request_context(), tenant_scope(world["a"].id):
        coord = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        programme = db.session.get(Programme, process.programme_id)
        branding = services.create_action(
            coord,
            programme,
            {
                "title": "Joint branding and communication",
                "aim": "One story of the region's clusters: a shared web page and fair stand.",
                "lead_user_id": coord.id,
                "lead_cluster_id": world["c1"].id,
                "start_date": TODAY - timedelta(days=40),
                "due_date": TODAY + timedelta(days=80),
                "budget_money": "20000",
                "budget_hours": "300",
            },
            clusters=[world["c1"].id, world["c2"].id],
            indicators=[("esca-gold", "2013", "communication")],
        )
        c1_part, c2_part = sorted(branding.parts, key=lambda p: p.cluster_id)
        services.update_part(
            coord,
            c2_part,
            {"progress": 50, "money_spent": "4000", "hours_spent": "60", "solo_money": "9000"},
        )
        services.create_action(
            coord,
            programme,
            {
                "title": "Economically sustainable member services",
                "due_date": TODAY - timedelta(days=3),
                "status": "in_progress",
            },
            clusters=[world["c2"].id],
        )
        services.create_action(
            coord, programme, {"title": "Joint innovation projects"}, clusters=[world["c1"].id]
        )
        return SimpleNamespace(
            programme_id=programme.id,
            action_id=branding.id,
            c1_part=c1_part.id,
            c2_part=c2_part.id,
        )


def settled(page):
    """Wait until htmx has swapped, processed and settled the new content (a click before
    that could miss the new elements' htmx handlers)."""
    expect(
        page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    ).to_have_count(0)


def _status(live_app, action_id):
    with live_app.app_context(), unscoped():
        return db.session.get(JointAction, action_id).status


def _part(live_app, part_id):
    with live_app.app_context(), unscoped():
        return db.session.get(Participation, part_id)


def test_coordinator_moves_a_joint_action_on_the_board(
    page, live_app, joint, screenshots, problems
):
    sign_in(page, "coord@a.example")
    page.goto(f"/nordland/joint/?programme={joint.programme_id}")
    expect(page.locator("main h1")).to_have_text("Joint actions")
    card = page.locator(f"#card-{joint.action_id}")
    expect(page.locator("#column-proposed").locator("xpath=..")).to_contain_text(
        "Joint branding and communication"
    )
    expect(card).to_contain_text("Arctic Minerals")  # the lead cluster
    expect(card).to_contain_text("2 clusters take part")
    overdue = page.locator("article.joint-card", has_text="member services")
    expect(overdue.locator(".overdue")).to_have_text("overdue")
    assert page.evaluate(LABEL_CHECK)["unlabelled"] == []
    page.screenshot(path=str(screenshots / "joint-board.png"), full_page=True)

    # Move it with the keyboard: choose the column, Tab to "Move", Enter. htmx swaps the
    # board in place (no page load) and the focus stays on the moved card's button.
    page.evaluate("window.__marker = 'still here'")
    card.locator("select[name=status]").select_option("in_progress")
    button = page.locator(f"#move-button-{joint.action_id}")
    tab_to(page, button)
    with page.expect_response(
        lambda r: "/move" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.keyboard.press("Enter")
    column = page.locator("section.joint-column-in_progress")
    expect(column.locator(f"#card-{joint.action_id}")).to_be_visible()
    expect(page.locator("#board [role=status]")).to_contain_text(
        "“Joint branding and communication” is now: In progress."
    )
    settled(page)
    assert page.evaluate("window.__marker") == "still here"
    assert page.evaluate("document.activeElement.id") == f"move-button-{joint.action_id}"
    assert _status(live_app, joint.action_id) == JointStatus.IN_PROGRESS
    page.screenshot(path=str(screenshots / "joint-board-moved.png"), full_page=True)

    # Someone else moves it meanwhile: this (stale) card is refused and the board shows
    # the joint action where it is now.
    problems.expect_status(409, "/move")
    with live_app.app_context(), unscoped():
        action = db.session.get(JointAction, joint.action_id)
        action.status, action.version = JointStatus.PLANNED, action.version + 1
        db.session.commit()
    card = page.locator(f"#card-{joint.action_id}")
    card.locator("select[name=status]").select_option("done")
    card.get_by_role("button", name=re.compile("^Move")).click()
    expect(page.locator("#board [role=alert]")).to_contain_text("was not moved")
    expect(
        page.locator("section.joint-column-planned").locator(f"#card-{joint.action_id}")
    ).to_be_visible()
    assert _status(live_app, joint.action_id) == JointStatus.PLANNED
    page.screenshot(path=str(screenshots / "joint-board-conflict.png"), full_page=True)

    # A new joint action, with the programme's clusters ticked and an indicator chosen.
    with page.expect_navigation():
        page.get_by_role("button", name="New joint action").click()
    expect(page.locator("main h1")).to_have_text("New joint action")
    assert page.evaluate(LABEL_CHECK)["unlabelled"] == []
    page.get_by_label("Title").fill("Shared member survey")
    page.get_by_label("Lead cluster").select_option(label="Helgeland Health")
    page.get_by_label("Due").fill((TODAY + timedelta(days=120)).isoformat())
    page.get_by_label("Shared budget: money").fill("7500")
    page.get_by_label("Indicators it should improve").select_option(
        label="Communication in the cluster"
    )
    expect(page.get_by_label("Arctic Minerals")).to_be_checked()
    page.screenshot(path=str(screenshots / "joint-new.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Create the joint action").click()
    expect(page.locator("main h1")).to_have_text("Shared member survey")
    expect(page.locator(".flash-success")).to_contain_text("The joint action is created.")
    expect(page.locator("#participants article.joint-part")).to_have_count(2)
    assert page.evaluate(DUPLICATE_IDS) == []
    page.goto(f"/nordland/joint/?programme={joint.programme_id}")
    assert page.evaluate(DUPLICATE_IDS) == []

    # The timeline of the same programme.
    with page.expect_navigation():
        page.get_by_role("button", name="Timeline").click()
    expect(page.locator("figure.joint-timeline svg[role=group]")).to_be_visible()
    # One of the four has no dates: it is in the table only.
    assert page.locator("figure.joint-timeline svg a rect").count() == 3
    page.screenshot(path=str(screenshots / "joint-timeline.png"), full_page=True)

    # On a phone the board's columns stack: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/nordland/joint/?programme={joint.programme_id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "joint-board-phone.png"), full_page=True)


def test_manager_updates_the_contribution_of_their_cluster(
    page, live_app, joint, screenshots, problems
):
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/joint/actions/{joint.action_id}")
    expect(page.locator("main h1")).to_have_text("Joint branding and communication")
    mine = page.locator(f"#part-{joint.c1_part}")
    theirs = page.locator(f"#part-{joint.c2_part}")
    # Only their own cluster's contribution has the button; the other is read only.
    expect(theirs.get_by_role("button", name=re.compile("Update the contribution"))).to_have_count(
        0
    )
    summary = page.locator("#action-summary")
    expect(summary).to_contain_text("1 of 2 participants gave no estimate: not counted.")
    page.screenshot(path=str(screenshots / "joint-action.png"), full_page=True)

    page.evaluate("window.__marker = 'still here'")
    mine.get_by_role("button", name=re.compile("Update the contribution")).click()
    form = page.locator(f"#part-{joint.c1_part} form")
    expect(form).to_be_visible()
    settled(page)
    expect(form.get_by_label("Tasks")).to_be_focused()  # autofocus in the swapped form
    assert page.evaluate(LABEL_CHECK)["unlabelled"] == []
    form.get_by_label("Tasks").fill("Design the shared web page; book the fair stand.")
    form.get_by_label("Status").select_option("in_progress")
    form.get_by_label("Progress (%)").fill("70")
    form.get_by_label("Hours spent").fill("40")
    form.get_by_label("Money spent").fill("5000")
    form.get_by_label("Money it would have cost alone").fill("12000")
    page.screenshot(path=str(screenshots / "joint-contribution-form.png"), full_page=True)
    with page.expect_response(lambda r: f"/parts/{joint.c1_part}" in r.url):
        form.get_by_role("button", name="Save the contribution").click()
    mine = page.locator(f"#part-{joint.c1_part}")
    expect(mine.locator("[role=status]")).to_contain_text(
        "The contribution of Arctic Minerals is saved."
    )
    expect(mine).to_contain_text("Design the shared web page")
    expect(mine.locator(".joint-progress-value")).to_have_text("70 %")
    # The roll-up on the page follows: (70 + 50) / 2, and both estimated money now.
    expect(summary).to_contain_text("60 %")
    # both estimated the money now; the estimates count once each part is done
    expect(summary).not_to_contain_text("Money: 1 of 2 participants gave no estimate")
    expect(summary).to_contain_text("parts are not done yet")
    expect(summary).not_to_contain_text("12,000 saved")  # no part is done: no claim yet
    assert page.evaluate("window.__marker") == "still here"
    part = _part(live_app, joint.c1_part)
    assert (part.progress, part.money_spent, part.solo_money) == (70, 5000, 12000)
    page.screenshot(path=str(screenshots / "joint-contribution-saved.png"), full_page=True)

    # Bad input: said next to the field, nothing saved.
    settled(page)
    mine.get_by_role("button", name=re.compile("Update the contribution")).click()
    form = page.locator(f"#part-{joint.c1_part} form")
    expect(form).to_be_visible()
    settled(page)
    form.get_by_label("Progress (%)").fill("140")
    problems.expect_status(422, f"/parts/{joint.c1_part}")
    form.get_by_role("button", name="Save the contribution").click()
    expect(page.locator(f"#part-{joint.c1_part} .field-error")).to_have_text("Between 0 and 100.")
    assert _part(live_app, joint.c1_part).progress == 70
    settled(page)

    # Someone else saved meanwhile: the conflict is shown in place, with what is stored.
    problems.expect_status(409, f"/parts/{joint.c1_part}")
    with live_app.app_context(), unscoped():
        stored = db.session.get(Participation, joint.c1_part)
        stored.progress, stored.version = 90, stored.version + 1
        db.session.commit()
    form = page.locator(f"#part-{joint.c1_part} form")
    form.get_by_label("Progress (%)").fill("75")
    form.get_by_role("button", name="Save the contribution").click()
    conflict = page.locator(f"#part-{joint.c1_part} .conflict")
    expect(conflict).to_contain_text("Not saved: someone else changed this contribution")
    expect(conflict).to_contain_text("90 %")
    settled(page)
    page.screenshot(path=str(screenshots / "joint-contribution-conflict.png"), full_page=True)
    # Saving again (the form now knows the current version) goes through.
    page.locator(f"#part-{joint.c1_part} form").get_by_role(
        "button", name="Save the contribution"
    ).click()
    expect(page.locator(f"#part-{joint.c1_part} [role=status]")).to_contain_text("is saved")
    assert _part(live_app, joint.c1_part).progress == 75

    # What my cluster has promised.
    page.goto("/nordland/joint/")
    with page.expect_navigation():
        page.get_by_role("link", name="What Arctic Minerals has promised").click()
    expect(page.locator("main table")).to_contain_text("Joint branding and communication")
    page.screenshot(path=str(screenshots / "joint-cluster-promises.png"), full_page=True)


def test_the_contribution_form_works_without_javascript(new_context, live_app, joint, screenshots):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/joint/actions/{joint.action_id}")
    with page.expect_navigation():
        page.locator(f"#part-{joint.c1_part}").get_by_role(
            "button", name=re.compile("Update the contribution")
        ).click()
    expect(page).to_have_url(re.compile(rf"/parts/{joint.c1_part}$"))
    page.get_by_label("Progress (%)").fill("35")
    page.get_by_label("Hours it would have taken alone").fill("80")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the contribution").click()
    expect(page).to_have_url(re.compile(rf"/actions/{joint.action_id}#part-{joint.c1_part}$"))
    expect(page.locator(".flash-success")).to_contain_text("is saved")
    assert _part(live_app, joint.c1_part).progress == 35
    page.screenshot(path=str(screenshots / "joint-contribution-no-js.png"), full_page=True)
