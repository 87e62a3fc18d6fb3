"""Browser test fixtures: the app served over HTTP, Debian's Chromium through Playwright.

The browser is never downloaded: the tests drive /usr/bin/chromium. Without it
they are skipped locally, but fail on CI (CI=true), which must run them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = "Chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class PageProblems:
    """Console errors, CSP violations and uncaught exceptions seen by one context."""

    def __init__(self):
        self.messages: list[str] = []
        # (status, path fragment) a test expects, e.g. the 409 of an edit conflict.
        self.expected: list[tuple[int, str]] = []

    def expect_status(self, status: int, path_part: str) -> None:
        self.expected.append((status, path_part))

    def watch(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.messages.append(f"page error: {exc}"))

    def _on_console(self, msg) -> None:
        text = msg.text
        if msg.type != "error" and "Content Security Policy" not in text:
            return
        where = (msg.location or {}).get("url", "")
        # Chromium asks for /favicon.ico on its own; the app has none (it even takes the
        # path for a region slug). That is not a page error, so it is not reported here.
        if text.startswith("Failed to load resource") and urlsplit(where).path.startswith(
            "/favicon.ico"
        ):
            return
        if text.startswith("Failed to load resource") and any(
            f"status of {status}" in text and part in where for status, part in self.expected
        ):
            return
        self.messages.append(f"console {msg.type}: {text} ({where})")

    def assert_clean(self) -> None:
        found, self.messages = self.messages, []
        assert not found, "the browser reported problems:\n" + "\n".join(found)


@pytest.fixture
def problems():
    return PageProblems()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that passed still fails when its pages logged errors or CSP violations."""
    result = yield
    problems = item.funcargs.get("problems")
    if problems is not None:
        problems.assert_clean()
    return result


@pytest.fixture
def new_context(browser, live_server, problems):
    """A fresh browser context per call (JS on by default); every page is watched."""
    contexts = []

    def _new(**kwargs):
        kwargs.setdefault("locale", "en-US")  # the app falls back to Accept-Language
        context = browser.new_context(base_url=live_server, **kwargs)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        context.on("page", problems.watch)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page in a fresh context; the test fails on any console error or CSP violation."""
    return new_context().new_page()


@pytest.fixture
def live_app(make_app):
    """The app with the real CSRF protection switched on."""
    return make_app({"WTF_CSRF_ENABLED": True})


@pytest.fixture
def live_server(live_app):
    """Serve ``live_app`` on 127.0.0.1 in a background thread; yields the base URL."""
    from werkzeug.serving import make_server

    _require_chromium()
    host = "127.0.0.1"
    server = make_server(host, free_port(), live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def screenshots(artifacts_dir):
    path = artifacts_dir / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
