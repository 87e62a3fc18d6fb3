"""The portal in a real browser: sign-in, language, htmx member search and paging,
the same search without JavaScript, keyboard access and form labels.

The app runs with CSRF protection on, so the hidden form fields and the htmx
X-CSRFToken header are exercised for real. Any console error, uncaught page error
or Content-Security-Policy violation fails the test (see conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

TRANSLATIONS = Path(__file__).resolve().parents[2] / "portal" / "translations"
COORDINATOR = "coord@a.example"

MEMBER_ROWS = "#members table.members-table tbody tr"


# --- helpers -----------------------------------------------------------------------------


def sign_in(page, email=COORDINATOR, password=PASSWORD):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def catalog_translation(locale: str, msgid: str) -> str | None:
    """The translation of ``msgid`` the app would show, read from the .po, or None.

    None when the compiled catalog (.mo) is missing or does not translate the message.
    """
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    mo, po = folder / "messages.mo", folder / "messages.po"
    if not mo.exists() or not po.exists():
        return None
    with mo.open("rb") as f:
        compiled = read_mo(f).get(msgid)
    if compiled is None or not compiled.string:
        return None
    with po.open("rb") as f:
        message = read_po(f, locale=locale).get(msgid)
    if message is None or not message.string or message.fuzzy:
        return None
    return message.string


def wait_for_htmx_idle(page):
    """No htmx request in flight and no swap or settle pending."""
    page.wait_for_function(
        "() => window.htmx && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def member_names(page) -> list[str]:
    return page.locator(f"{MEMBER_ROWS} th[scope=row]").all_inner_texts()


@pytest.fixture
def big_world(factory):
    """Nordland with Arctic Minerals (45 members: three pages of 20) and a coordinator."""
    region = factory.tenant("nordland", "Nordland Forum")
    arctic = factory.cluster(region, "Arctic Minerals", members=45)
    factory.cluster(region, "Helgeland Health", members=3)
    factory.user(COORDINATOR, tenant=region, role="coordinator")
    return {"a": region, "arctic": arctic}


# --- tests -------------------------------------------------------------------------------


def test_coordinator_signs_in_and_sees_the_dashboard(page, world, screenshots):
    sign_in(page)

    expect(page).to_have_url(re.compile(r"/nordland/$"))
    expect(page.locator("main h1")).to_have_text("Nordland Forum")
    # The coordinator's front page: its panels, each a named region with its heading.
    grid = page.locator("main .front-grid")
    expect(grid).to_have_attribute("data-role", "coordinator")
    for title in (
        "Programmes",
        "Next workshops",
        "Overdue actions by cluster",
        "Labels lapsing soon",
        "Waiting for you",
        "Recent activity",
        "Clusters in the forum",
    ):
        expect(grid.get_by_role("region", name=title)).to_be_visible()
    clusters = grid.get_by_role("region", name="Clusters in the forum")
    expect(clusters.get_by_role("link", name="Arctic Minerals")).to_be_visible()
    expect(clusters.get_by_role("link", name="Helgeland Health")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)
    # A cluster's link leads to its page.
    clusters.get_by_role("link", name="Arctic Minerals").click()
    expect(page.locator("main h1")).to_contain_text("Arctic Minerals")


def test_language_switch_to_norwegian(page, world, screenshots):
    sign_in(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.select_option("#language-select", "nb")
    with page.expect_navigation():
        page.locator("footer form.language-form button[type=submit]").click()

    # Back on the same page, now in Norwegian.
    expect(page).to_have_url(re.compile(r"/nordland/$"))
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.locator("#language-select")).to_have_value("nb")
    expect(page.locator("#language-select option[value=nb]")).to_have_attribute("selected", "")

    sign_out = catalog_translation("nb", "Sign out")
    if sign_out:
        expect(page.get_by_role("button", name=sign_out, exact=True)).to_be_visible()

    # The choice is kept on the profile: a fresh load is still Norwegian.
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    page.screenshot(path=str(screenshots / "language-nb.png"), full_page=True)


def test_member_search_and_paging_swap_without_page_load(page, big_world, screenshots):
    cluster_url = f"/nordland/clusters/{big_world['arctic'].id}"
    sign_in(page)
    page.goto(cluster_url)
    expect(page.locator("main h1")).to_have_text("Arctic Minerals")
    expect(page.locator(MEMBER_ROWS)).to_have_count(20)
    expect(page.locator("#members .pager")).to_contain_text("Page 1 of 3")
    page.wait_for_function("() => window.htmx !== undefined")

    # A full page load would wipe this marker; an htmx swap keeps it.
    page.evaluate("window.__marker = 1")

    with page.expect_response(lambda r: "q=member+01" in r.url or "q=member%2001" in r.url) as info:
        page.locator("#member-search").press_sequentially("member 01", delay=20)
    response = info.value
    assert response.status == 200
    assert response.request.headers.get("hx-request") == "true"
    assert response.request.headers.get("hx-target") == "members"
    assert response.request.headers.get("x-csrftoken"), "htmx sends the CSRF token from hx-headers"

    expect(page.locator(MEMBER_ROWS)).to_have_count(10)
    wait_for_htmx_idle(page)
    assert member_names(page) == [f"Arctic Minerals member {i:03d}" for i in range(10, 20)]
    expect(page).to_have_url(re.compile(r"[?&]q=member(\+|%20)01"))
    expect(page.locator("#members .pager")).to_have_count(0)  # one page only
    assert page.evaluate("window.__marker") == 1, "the search reloaded the whole page"
    # Only the member list was swapped: the rest of the page is the same document.
    expect(page.locator("main h1")).to_have_text("Arctic Minerals")
    expect(page.locator("#member-search")).to_have_value("member 01")
    expect(page.locator("#member-search")).to_be_focused()
    page.screenshot(path=str(screenshots / "cluster-member-search.png"), full_page=True)

    # Clear the search: all 45 again, page 1 of 3.
    with page.expect_response(lambda r: re.search(r"[?&]q=(&|$)", r.url) is not None):
        page.locator("#member-search").fill("")
    expect(page.locator(MEMBER_ROWS)).to_have_count(20)
    wait_for_htmx_idle(page)
    first_page = member_names(page)
    assert first_page[0] == "Arctic Minerals member 000"

    # The pager link swaps in page 2, again without a page load.
    next_link = page.locator("#members .pager a[rel=next]")
    expect(next_link).to_have_attribute("hx-get", re.compile(r"page=2"))
    with page.expect_response(lambda r: "page=2" in r.url) as info:
        next_link.click()
    assert info.value.request.headers.get("hx-target") == "members"
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(page.locator("#members .pager a[rel=prev]")).to_be_visible()
    expect(page.locator(MEMBER_ROWS)).to_have_count(20)
    wait_for_htmx_idle(page)
    second_page = member_names(page)
    assert second_page[0] == "Arctic Minerals member 020"
    assert not set(first_page) & set(second_page)
    assert page.evaluate("window.__marker") == 1, "the pager reloaded the whole page"
    page.screenshot(path=str(screenshots / "cluster-members-page-2.png"), full_page=True)


def test_member_search_works_without_javascript(new_context, big_world, screenshots):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page)
    page.goto(f"/nordland/clusters/{big_world['arctic'].id}")
    expect(page.locator(MEMBER_ROWS)).to_have_count(20)

    page.fill("#member-search", "member 04")
    with page.expect_navigation():
        page.locator("search form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"[?&]q=member(\+|%20)04"))
    expect(page.locator("main h1")).to_have_text("Arctic Minerals")  # a whole page, not a fragment
    expect(page.locator(MEMBER_ROWS)).to_have_count(5)  # members 040-044
    assert member_names(page) == [f"Arctic Minerals member {i:03d}" for i in range(40, 45)]
    expect(page.locator("#member-search")).to_have_value("member 04")

    # The type filter and the pager work as plain links and forms as well.
    page.fill("#member-search", "")
    page.select_option("#member-type", "university")
    with page.expect_navigation():
        page.locator("search form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"[?&]type=university"))
    rows = page.locator(MEMBER_ROWS)
    assert rows.count() > 0
    types = page.locator(f"{MEMBER_ROWS} td:nth-of-type(1)").all_inner_texts()
    assert set(types) == {"University or college"}, types
    page.screenshot(path=str(screenshots / "cluster-search-no-js.png"), full_page=True)


def test_skip_link_is_the_first_focusable_element(page, world):
    sign_in(page)
    for path in ("/nordland/", f"/nordland/clusters/{world['c1'].id}"):
        page.goto(path)
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const el = document.activeElement;"
            " return {tag: el.tagName, href: el.getAttribute('href'), text: el.textContent.trim()}; }"
        )
        assert focused == {"tag": "A", "href": "#main", "text": "Skip to content"}, (path, focused)
        # Visible while focused (it sits off-screen otherwise).
        box = page.locator("a.skip-link").bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0, box
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"#main$"))
        expect(page.locator("main#main")).to_be_focused()


LABEL_CHECK = """
() => {
  const controls = [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden' && el.name !== 'csrf_token');
  const unlabelled = controls.filter(el => {
    if ((el.getAttribute('aria-label') || '').trim()) return false;
    if (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) return false;
    return true;
  });
  return {
    count: controls.length,
    unlabelled: unlabelled.map(el => el.outerHTML.slice(0, 160)),
  };
}
"""


def test_form_controls_have_labels(page, big_world):
    page.goto("/login")
    result = page.evaluate(LABEL_CHECK)
    assert result["count"] >= 4, result  # e-mail, password, remember, language
    assert result["unlabelled"] == [], result

    sign_in(page)
    page.goto(f"/nordland/clusters/{big_world['arctic'].id}")
    result = page.evaluate(LABEL_CHECK)
    assert result["count"] >= 3, result  # member search, type, language
    assert result["unlabelled"] == [], result
