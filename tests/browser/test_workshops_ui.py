"""Workshops in a real browser: create one, invite, register; record a decision as an action."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.plans.models import Action
from portal.tenancy import unscoped
from tests.browser.test_ui import sign_in
from tests.process_support import build_process

pytestmark = pytest.mark.browser


def test_create_a_workshop_invite_and_register(new_context, live_app, world, screenshots):
    coordinator = new_context().new_page()
    sign_in(coordinator, "coord@a.example")
    coordinator.goto("/nordland/workshops/new")
    coordinator.fill("#title", "Toward silver")
    coordinator.fill("#day", (date.today() + timedelta(days=14)).isoformat())
    coordinator.fill("#start_time", "09:30")
    coordinator.fill("#end_time", "15:00")
    coordinator.fill("#location", "Bodø")
    coordinator.fill("#capacity", "1")
    with coordinator.expect_navigation():
        coordinator.locator("main form button[type=submit]").click()
    expect(coordinator.locator("h1")).to_contain_text("Toward silver")
    workshop_url = coordinator.url
    # Invite the member's cluster (Helgeland Health) and the manager in person.
    coordinator.get_by_text("Invite clusters and people").click()
    coordinator.get_by_label("Helgeland Health").check()
    coordinator.get_by_label("Manager", exact=True).check()
    with coordinator.expect_navigation():
        coordinator.locator("form[action*='/invites#'] button[type=submit]").click()
    coordinator.screenshot(path=str(screenshots / "workshop-created.png"), full_page=True)

    member = new_context().new_page()
    sign_in(member, "member@a.example")
    member.goto(workshop_url)
    with member.expect_navigation():
        member.get_by_role("button", name="Register").click()
    expect(member.locator("main")).to_contain_text("You are registered")

    manager = new_context().new_page()
    sign_in(manager, "manager@a.example")
    manager.goto(workshop_url)
    with manager.expect_navigation():
        manager.get_by_role("button", name="Join the waiting list").click()
    expect(manager.locator("main")).to_contain_text("waiting list")
    manager.screenshot(path=str(screenshots / "workshop-waiting-list.png"), full_page=True)

    observer = new_context().new_page()
    sign_in(observer, "observer@a.example")
    observer.goto(workshop_url)
    expect(observer.get_by_role("button", name="Register")).to_have_count(0)


def test_decision_becomes_an_action_in_one_step(page, live_app, world, screenshots):
    from portal.tenancy import tenant_scope
    from portal.workshops import services as workshops

    process = build_process(live_app, world, actions=1)
    with live_app.test_request_context(), tenant_scope(world["a"].id):
        from datetime import time

        workshop = workshops.create_workshop(
            None,
            {
                "programme_id": process.programme_id,
                "title": "Kick-off",
                "day": date.today() - timedelta(days=1),
                "start_time": time(9),
                "end_time": time(15),
            },
            world["a"].id,
        )
        workshop_id = workshop.id
    sign_in(page, "coord@a.example")
    page.goto(f"/nordland/workshops/{workshop_id}#decisions")
    page.fill("#decision-title", "Joint communication and branding")
    page.select_option("#decision-plan_id", label="Joint plan (Joint plan)")
    page.select_option("#decision-owner_id", label="Manager")
    page.fill("#decision-due_date", (date.today() + timedelta(days=60)).isoformat())
    with page.expect_navigation():
        page.locator("form[action*='/decisions#'] button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    with live_app.app_context(), unscoped():
        action = db.session.scalar(
            select(Action).where(Action.title == "Joint communication and branding")
        )
        assert action.workshop_id == workshop_id and action.plan_id == process.joint_id
    page.goto(f"/nordland/actions/{action.id}")
    expect(page.locator("main")).to_contain_text("Kick-off")
    page.screenshot(path=str(screenshots / "decision-action.png"), full_page=True)
