"""Every main page of a region as every demo role, checked by axe-core and at 390 px.

axe-core (vendored from npm, tests/browser/vendor/axe-core) runs the WCAG 2.0/2.1 A and AA
rules on each page: no critical and no serious violation may remain. At 390 px wide (a phone)
no page may scroll sideways: wide tables scroll inside their own frame or become cards.

The walk loads the demo once (``portal demo``: every feature has data) and visits each page
once per role in one browser context per role; the checks at both widths read the same load.
New pages: add them to PAGES.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from portal import create_app
from tests.browser.conftest import TIMEOUT_MS, PageProblems, _require_chromium
from tests.conftest import _test_config, free_port

pytestmark = pytest.mark.browser

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text("utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DEMO_PASSWORD = "cluster-forum-demo"
REGION = "nordland"
PHONE_WIDTH = 390
DESKTOP = {"width": 1280, "height": 900}

COORDINATOR = "coordinator"
ROLES = {
    COORDINATOR: "coordinator@nordland.example",
    "cluster_manager": "manager@nordland.example",
    "assessor": "assessor@nordland.example",
    "observer": "observer@nordland.example",
}
ALL = frozenset(ROLES)

# (name, path, roles that may open it). {cluster} is the demo manager's cluster; the other
# ids are the demo region's first (the plan: the one with the most actions). /{region}/ is
# added in front of paths that do not start with "/".
PAGES: list[tuple[str, str, frozenset[str]]] = [
    ("dashboard", "", ALL),
    ("clusters", "clusters/", ALL),
    ("cluster", "clusters/{cluster}", ALL),
    ("rounds of a cluster", "clusters/{cluster}/rounds", ALL),
    ("path to the next label", "clusters/{cluster}/labels", ALL),
    ("label calendar", "clusters/{cluster}/labels/calendar", ALL),
    ("round history", "rounds/{round}/history", frozenset({COORDINATOR, "assessor"})),
    ("people", "people", frozenset({COORDINATOR})),
    ("a person", "people/{membership}", frozenset({COORDINATOR})),
    ("programmes", "programmes/", ALL),
    ("programme", "programmes/{programme}", ALL),
    ("programme report", "programmes/{programme}/report", ALL),
    ("plans", "plans/", ALL),
    ("plan", "plans/{plan}", ALL),
    ("action", "actions/{action}", ALL),
    ("my work", "my-work", ALL),
    ("workshops", "workshops/", ALL),
    ("workshop", "workshops/{workshop}", ALL),
    ("label register", "labels/", ALL),
    ("labels at risk", "labels/risk", ALL),
    ("compare", "compare/", ALL),
    ("compare a cluster", "compare/clusters/{cluster}", ALL - {"observer"}),
    ("the forum over time", "compare/forum", ALL),
    ("reference groups", "compare/references/", ALL),
    ("joint board", "joint/", ALL),
    ("joint action", "joint/actions/{joint_action}", ALL),
    ("joint timeline", "joint/timeline", ALL),
    ("joint work of a cluster", "joint/clusters/{cluster}", ALL),
    ("facts", "facts/", ALL),
    ("facts of a cluster", "facts/clusters/{cluster}", ALL),
    ("settings", "settings", frozenset({COORDINATOR})),
    ("benchmark values settings", "settings/values", frozenset({COORDINATOR})),
    ("plugins", "settings/plugins", frozenset({COORDINATOR})),
    ("webhooks", "settings/webhooks", frozenset({COORDINATOR})),
    ("audit log", "audit", frozenset({COORDINATOR})),
    ("profile", "/profile", ALL),
    ("notification settings", "/profile/notifications", ALL),
    ("notifications", "notifications", ALL),
    ("search", "search?q=e", ALL),
    ("what the plan is for", "plans/new", frozenset({COORDINATOR, "cluster_manager"})),
    ("audit log filtered", "audit?action=&from=2020-01-01", frozenset({COORDINATOR})),
]

_ID_QUERIES = {
    "cluster": "SELECT min(mc.cluster_id) FROM membership_cluster mc JOIN membership m"
    " ON m.id = mc.membership_id WHERE m.role = 'cluster_manager' AND m.tenant_id = :t",
    "programme": "SELECT min(id) FROM programme WHERE tenant_id = :t",
    "plan": "SELECT plan_id FROM plan_action WHERE tenant_id = :t GROUP BY plan_id"
    " ORDER BY count(*) DESC, plan_id LIMIT 1",
    "action": "SELECT min(id) FROM plan_action WHERE tenant_id = :t",
    "workshop": "SELECT min(id) FROM workshop WHERE tenant_id = :t",
    "round": "SELECT min(id) FROM benchmark_round WHERE tenant_id = :t",
    "joint_action": "SELECT min(id) FROM joint_action WHERE tenant_id = :t",
    "membership": "SELECT min(id) FROM membership WHERE tenant_id = :t",
}

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5), count: v.nodes.length,
  }));
}"""

SIDEWAYS = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const clipped = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '');
  const wide = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1 && !clipped(el))
    .filter(el => !el.parentElement || el.parentElement.getBoundingClientRect().right
                  <= root.clientWidth + 1)
    .slice(0, 4).map(el => name(el.parentElement) + ' > ' + name(el));
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide};
}"""

# Frames whose table is wider than they are, that a keyboard cannot reach (a11y.js makes them
# focusable, named regions when they scroll; after the resize to a phone's width).
UNREACHABLE_FRAMES = """async () => {
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [...document.querySelectorAll('.table-scroll')]
    .filter(f => f.scrollWidth > f.clientWidth + 1)
    .filter(f => f.getAttribute('tabindex') !== '0' || !(f.getAttribute('aria-label')
                 || f.getAttribute('aria-labelledby')))
    .map(f => (f.querySelector('caption') || f).textContent.trim().slice(0, 40));
}"""


@dataclass
class Walk:
    axe: list[str] = field(default_factory=list)  # critical and serious, one line each
    minor: list[str] = field(default_factory=list)  # moderate and minor, reported only
    sideways: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    visits: int = 0
    seconds: float = 0.0
    problems: PageProblems = field(default_factory=PageProblems)


def _demo_app(tmp_path_factory, migrated_template):
    """An app on its own SQLite copy of the migrated template, with the demo loaded."""
    folder = tmp_path_factory.mktemp("a11y")
    path = folder / "portal.db"
    if migrated_template is not None:
        shutil.copy(migrated_template, path)
    app = create_app(
        {
            **_test_config(f"sqlite:///{path}", folder),
            "WTF_CSRF_ENABLED": True,
            "PAGE_CACHE_MB": 0,
        }
    )
    if migrated_template is None:  # the suite runs on PostgreSQL: migrate this file
        from portal import migrations_runner

        with app.app_context():
            migrations_runner.upgrade_all(app)
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    return app


def _ids(app) -> dict[str, int]:
    from sqlalchemy import text

    from portal.extensions import db

    with app.app_context():
        tenant = db.session.execute(
            text("SELECT id FROM tenant WHERE slug = :s"), {"s": REGION}
        ).scalar_one()
        return {
            name: db.session.execute(text(sql), {"t": tenant}).scalar_one()
            for name, sql in _ID_QUERIES.items()
        }


def _url(path: str, ids: dict[str, int]) -> str:
    path = path.format(**ids)
    return path if path.startswith("/") else f"/{REGION}/{path}"


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/login" not in page.url, f"{email} could not sign in"


def _check(page, walk: Walk, role: str, name: str) -> None:
    where = f"{role:16} {name}"
    for v in page.evaluate(AXE_RUN, AXE_TAGS):
        line = f"{where}: {v['impact']} {v['id']} ({v['help']}) x{v['count']}: {v['nodes']}"
        (walk.axe if v["impact"] in ("critical", "serious") else walk.minor).append(line)
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    wide = page.evaluate(SIDEWAYS)
    if wide:
        walk.sideways.append(f"{where}: {wide}")
    frames = page.evaluate(UNREACHABLE_FRAMES)
    if frames:
        walk.unreachable.append(f"{where}: {frames}")
    page.set_viewport_size(DESKTOP)


@pytest.fixture(scope="module")
def walk(browser, tmp_path_factory, migrated_template):
    """Visit every page of PAGES as every role of ROLES once; what the checks found."""
    from werkzeug.serving import make_server

    _require_chromium()
    app = _demo_app(tmp_path_factory, migrated_template)
    ids = _ids(app)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="a11y-server", daemon=True)
    thread.start()
    found = Walk()
    started = time.perf_counter()
    try:
        for role, email in ROLES.items():
            context = browser.new_context(
                base_url=f"http://127.0.0.1:{server.server_port}",
                locale="en-US",
                viewport=DESKTOP,
            )
            context.set_default_timeout(TIMEOUT_MS)
            context.add_init_script(AXE_SOURCE)  # in every page, beside the page's CSP
            context.on("page", found.problems.watch)
            page = context.new_page()
            _sign_in(page, email)
            for name, path, roles in PAGES:
                if role not in roles:
                    continue
                response = page.goto(_url(path, ids))
                assert response is not None and response.status == 200, (role, name)
                _check(page, found, role, name)
                found.visits += 1
            context.close()
        found.seconds = time.perf_counter() - started
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        from portal.extensions import db

        with app.app_context():
            db.engine.dispose()
    return found


def test_axe_finds_no_critical_or_serious_violation(walk, artifacts_dir):
    (artifacts_dir / "axe-report.txt").write_text(
        f"{walk.visits} page visits\ncritical/serious:\n"
        + "\n".join(walk.axe)
        + "\nmoderate/minor (reported only):\n"
        + "\n".join(walk.minor)
        + f"\nthe walk took {walk.seconds:.1f} s\n",
        "utf-8",
    )
    assert walk.visits >= 100
    assert not walk.axe, f"{len(walk.axe)} critical/serious:\n" + "\n".join(walk.axe)


def test_no_main_page_scrolls_sideways_at_390px(walk):
    assert not walk.sideways, "\n".join(walk.sideways)


def test_tables_that_scroll_at_390px_are_reachable_by_keyboard(walk):
    assert not walk.unreachable, "\n".join(walk.unreachable)


def test_the_pages_log_no_errors(walk):
    walk.problems.assert_clean()
