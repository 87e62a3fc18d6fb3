"""Rendered pages kept for a revisit, keyed by the tenant's data version.

A page marked ``@cached_page`` is a pure function of the tenant's data, the signed-in user, the
language, the day and the URL; the key holds all of these, and the tenant's ``data_version``
changes in the same transaction as every write to its data (:mod:`portal.tenancy.versioning`).
So a cached page is never older than what rendering it again would show, and one user's page
is never another's: the key has the user and the session's CSRF token (which the page embeds).

Access is still checked on every request (the tenant check runs before the view), so a
revoked member gets a 404, not a cached page. Only complete 200 HTML answers to GET are kept,
and not when the request shows or changes anything in the session (a flash message, a new
token). Each gunicorn worker has its own cache of at most ``PORTAL_PAGE_CACHE_MB`` (0 turns
it off); entries also expire after ``PORTAL_PAGE_CACHE_SECONDS``.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from flask import Response, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user

EXTENSION = "portal_page_cache"
# Headers a revisit must get back as they were.
KEPT_HEADERS = ("Content-Type", "Cache-Control", "ETag", "Content-Language", "Vary")


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    headers: tuple[tuple[str, str], ...]
    stored_at: float

    def response(self) -> Response:
        response = Response(self.body, status=200)
        response.headers.clear()
        for name, value in self.headers:
            response.headers.add(name, value)
        response.headers["X-Page-Cache"] = "hit"
        # A revisit that names the page's ETag gets 304, as the view would answer.
        return response.make_conditional(request)


class PageCache:
    """A byte-bounded LRU of rendered pages (one per process, thread-safe)."""

    def __init__(self, max_bytes: int, max_age_s: float) -> None:
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._pages: OrderedDict[tuple, CachedPage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None or time.monotonic() - page.stored_at > self.max_age_s:
                if page is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: tuple, page: CachedPage) -> None:
        size = len(page.body)
        if size > self.max_bytes // 4:
            return  # one page must not push out all the others
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = page
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)

    def _drop(self, key: tuple) -> None:
        self._bytes -= len(self._pages.pop(key).body)


def init_page_cache(app) -> None:
    megabytes = float(app.config.get("PAGE_CACHE_MB", 64))
    if megabytes > 0:
        app.extensions[EXTENSION] = PageCache(
            int(megabytes * 1024 * 1024), float(app.config.get("PAGE_CACHE_SECONDS", 600))
        )


def _request_key() -> tuple | None:
    """The page's key, or None when this request must be rendered (and not kept)."""
    tenant = g.get("tenant")
    if request.method != "GET" or tenant is None or not current_user.is_authenticated:
        return None
    if session.get("_flashes"):
        return None  # the page shows them once; a revisit must not
    token = session.get("csrf_token") or ""
    return (
        tenant.id,
        tenant.data_version,
        current_user.id,
        current_user.session_version,
        hashlib.sha256(token.encode()).hexdigest()[:16],
        str(get_locale() or ""),
        date.today().toordinal(),
        request.full_path,
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
        request.headers.get("Accept", ""),
    )


def cached_page(view):
    """Serve the view's page from the cache while the tenant's data has not changed."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        cache: PageCache | None = current_app.extensions.get(EXTENSION)
        key = _request_key() if cache is not None else None
        if key is not None:
            page = cache.get(key)
            if page is not None:
                return page.response()
        response = current_app.make_response(view(*args, **kwargs))
        if (
            key is not None
            and response.status_code == 200
            and response.mimetype == "text/html"
            and not response.is_streamed
            and not session.modified
            and "Set-Cookie" not in response.headers
        ):
            headers = tuple(
                (name, value) for name, value in response.headers.items() if name in KEPT_HEADERS
            )
            cache.put(key, CachedPage(response.get_data(), headers, time.monotonic()))
        return response

    wrapper.cached_page = True
    return wrapper
