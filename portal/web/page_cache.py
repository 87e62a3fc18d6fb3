"""Rendered pages kept for a revisit, keyed by the versions of what they show.

A page marked ``@cached_page`` is a pure function of the data it shows, the signed-in user,
the language, the day and the URL; the key holds all of these:

- **Data.** A page that declares its scopes (``@cached_page(scopes=lambda programme_id:
  [scopes.programme(programme_id)])``, names from :mod:`portal.tenancy.cache_scopes`) keys on
  the versions of those scopes plus ``region`` (any write not listed there) and the viewer's
  inbox (the header's unread count). They are read in one query before the view runs (so a
  page is never stored under versions newer than its data), and a write bumps them when it
  commits (:mod:`portal.tenancy.versioning`): a write to one programme leaves every other
  programme's page in place. A page that declares nothing keys on the tenant's
  ``data_version``, which every write to the region moves.
- **Renderer.** The app's version and a digest of its templates and translation catalogues, so
  a deployment never serves a page an older template rendered.
- **Viewer.** The user (and their session version), language, day, URL and htmx headers. Not
  the session: the CSRF token a page embeds is taken out before the page is kept and the
  current session's token put back in on every hit, so each session still posts with its own.

Access is still checked on every request (the tenant check runs before the view), so a
revoked member gets a 404, not a cached page. Only complete 200 HTML answers to GET are kept,
and not when the request shows or changes anything in the session (a flash message, a new
token). Where pages are kept: :mod:`portal.web.page_store` (Redis when configured, shared by
every worker and host; else each process's LRU of at most ``PORTAL_PAGE_CACHE_MB``, 0 turns
caching off); entries expire after ``PORTAL_PAGE_CACHE_SECONDS``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from datetime import date
from pathlib import Path

from flask import current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from portal.tenancy import cache_scopes
from portal.web.page_store import CachedPage, PageCache, RedisPageCache

log = logging.getLogger(__name__)
EXTENSION = "portal_page_cache"
# Headers a revisit must get back as they were.
KEPT_HEADERS = ("Content-Type", "Cache-Control", "ETag", "Content-Language", "Vary")
# Stands for the session's CSRF token in a kept page (put back in on every hit).
CSRF_PLACEHOLDER = b"\x00portal-csrf-token\x00"

__all__ = ["CachedPage", "PageCache", "cached_page", "init_page_cache"]


def _respond(page: CachedPage):
    from flask import Response

    body = page.body
    if CSRF_PLACEHOLDER in body:
        body = body.replace(CSRF_PLACEHOLDER, generate_csrf().encode())
    response = Response(body, status=200)
    response.headers.clear()
    for name, value in page.headers:
        response.headers.add(name, value)
    response.headers["X-Page-Cache"] = "hit"
    # A revisit that names the page's ETag gets 304, as the view would answer; judged as the
    # ETag hook judges it (If-None-Match, weakly). Werkzeug's make_conditional would also
    # judge If-Match strongly against the weak tag and turn any such read into a 412.
    tag, _weak = response.get_etag()
    if tag and request.if_none_match.contains_weak(tag):
        response.status_code = 304
    return response


def renderer_version(app) -> str:
    """The app's version and a digest of the templates and catalogues it renders with."""
    from portal import __version__

    root = Path(app.root_path).parent
    digest = hashlib.sha256(__version__.encode())
    patterns = ("templates/**/*.html", "portal/translations/**/*.mo", "plugins/*/**/*.html")
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for path in sorted(root.glob("plugins/*/**/*.mo")):
        digest.update(f"{path.relative_to(root)}:{path.stat().st_mtime_ns}".encode())
    return f"{__version__}-{digest.hexdigest()[:12]}"


def init_page_cache(app) -> None:
    megabytes = float(app.config.get("PAGE_CACHE_MB", 64))
    if megabytes <= 0:
        return
    memory = PageCache(
        int(megabytes * 1024 * 1024), float(app.config.get("PAGE_CACHE_SECONDS", 600))
    )
    url = app.config.get("REDIS_URL")
    prefix = app.config.get("RATELIMIT_KEY_PREFIX") or "portal"
    app.extensions[EXTENSION] = RedisPageCache(url, prefix, memory) if url else memory
    app.config["PAGE_RENDERER_VERSION"] = renderer_version(app)


def _data_versions(tenant, scopes: list[str] | None) -> tuple:
    """The versions the page's key holds, read before the view reads any data."""
    if scopes is None:
        return (tenant.data_version,)
    from portal.extensions import db
    from portal.tenancy.models import CacheVersion

    wanted = sorted({cache_scopes.REGION, cache_scopes.inbox(current_user.id), *scopes})
    rows = db.session.execute(
        select(CacheVersion.scope_key, CacheVersion.version).where(
            CacheVersion.tenant_id == tenant.id, CacheVersion.scope_key.in_(wanted)
        )
    )
    found = dict(rows.all())
    return tuple((scope, found.get(scope, 0)) for scope in wanted)


def _request_key(scopes: list[str] | None) -> tuple | None:
    """The page's key, or None when this request must be rendered (and not kept)."""
    tenant = g.get("tenant")
    if request.method != "GET" or tenant is None or not current_user.is_authenticated:
        return None
    if session.get("_flashes"):
        return None  # the page shows them once; a revisit must not
    return (
        tenant.id,
        _data_versions(tenant, scopes),
        current_app.config.get("PAGE_RENDERER_VERSION", ""),
        current_user.id,
        current_user.session_version,
        str(get_locale() or ""),
        date.today().toordinal(),
        request.full_path,
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
        request.headers.get("Accept", ""),
    )


def _keepable(response) -> bool:
    return (
        response.status_code == 200
        and response.mimetype == "text/html"
        and not response.is_streamed
        and not session.modified
        and "Set-Cookie" not in response.headers
    )


def _page_to_keep(response) -> CachedPage:
    body = response.get_data()
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if token:
        body = body.replace(token.encode(), CSRF_PLACEHOLDER)
    headers = tuple(
        (name, value) for name, value in response.headers.items() if name in KEPT_HEADERS
    )
    return CachedPage(body, headers, time.monotonic())


def cached_page(view=None, *, scopes=None):
    """Serve the view's page from the cache while what it shows has not changed.

    ``scopes``: a function of the view's arguments naming the scopes the page shows
    (:mod:`portal.tenancy.cache_scopes`); without it the page is renewed by any write to the
    region."""
    if view is None:
        return functools.partial(cached_page, scopes=scopes)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        cache = current_app.extensions.get(EXTENSION)
        key = None
        if cache is not None:
            key = _request_key(list(scopes(*args, **kwargs)) if scopes is not None else None)
        if key is not None:
            page = cache.get(key)
            if page is not None:
                return _respond(page)
        response = current_app.make_response(view(*args, **kwargs))
        if key is not None and _keepable(response):
            cache.put(key, _page_to_keep(response))
        return response

    wrapper.cached_page = True
    return wrapper
