"""The plan page by keyboard alone: an inline edit (focus lands on the changed row and the
live region says what happened) and a bulk edit (Space selects, the status is typed, Enter
sends)."""

from __future__ import annotations

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


def _focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def test_inline_edit_by_keyboard_moves_focus_and_announces(page, live_app, process, screenshots):
    first = process.action_ids[0]
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/plans/{process.plan_id}")
    page.focus(f"#select-{first}")  # the row's first control; from here on only keys
    page.keyboard.press("Tab")  # the action's link
    page.keyboard.press("Tab")
    assert _focused_id(page) == f"status-{first}"
    page.keyboard.type("In progress")  # a focused select picks the option typed
    page.keyboard.press("Tab")
    assert _focused_id(page) == f"progress-{first}"
    page.keyboard.press("Control+A")
    page.keyboard.type("65")
    with page.expect_response(lambda r: "/quick" in r.url):
        page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_contain_text("Action 000: the changes are saved.")
    # Focus is in the changed row: on the same control of the new row (htmx puts it back).
    page.wait_for_function(
        "(id) => document.getElementById(id).contains(document.activeElement)",
        arg=f"action-{first}",
    )
    assert _focused_id(page) == f"progress-{first}"
    expect(page.locator(f"#progress-{first}")).to_have_value("65")
    with live_app.app_context(), unscoped():
        action = db.session.get(Action, first)
        assert (action.status, action.progress) == (ActionStatus.IN_PROGRESS, 65)
    page.screenshot(path=str(screenshots / "plan-keyboard-inline-edit.png"), full_page=True)


def test_bulk_edit_by_keyboard(page, live_app, process, screenshots):
    chosen = process.action_ids[1:3]
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/plans/{process.plan_id}")
    for action_id in chosen:
        page.focus(f"#select-{action_id}")
        page.keyboard.press("Space")
        expect(page.locator(f"#select-{action_id}")).to_be_checked()
    page.focus("#bulk-status")
    page.keyboard.type("Done")
    expect(page.locator("#bulk-status")).to_have_value("done")
    for _step in range(6):  # past the owner and the date's parts (kept as they are)
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.type") == "submit":
            break
    assert page.evaluate("() => document.activeElement.type") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_have_text("2 actions updated.")
    with live_app.app_context(), unscoped():
        statuses = dict(
            db.session.execute(
                select(Action.id, Action.status).where(Action.plan_id == process.plan_id)
            ).all()
        )
    assert [statuses[i] for i in chosen] == [ActionStatus.DONE, ActionStatus.DONE]
    assert statuses[process.action_ids[0]] != ActionStatus.DONE
    page.screenshot(path=str(screenshots / "plan-keyboard-bulk-edit.png"), full_page=True)


def test_select_all_ticks_every_row(page, process):
    sign_in(page, "manager@a.example")
    page.goto(f"/nordland/plans/{process.plan_id}")
    page.focus("#select-all")
    page.keyboard.press("Space")
    for action_id in process.action_ids:
        expect(page.locator(f"#select-{action_id}")).to_be_checked()
