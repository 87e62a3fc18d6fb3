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
  A page marked ``shared=True`` keys on the reader's *kind* instead of the user (role,
  clusters, privacy decision: :func:`portal.web.personal.viewer_profile`), so a colleague's
  first visit is served from the coordinator's. What belongs to one reader (the header's name
  and unread count, follow buttons) is a part filled for each answer; a render that read who
  the reader is (an owner's or author's rights) is kept for that reader only, and its kind's
  entry says so (:mod:`portal.web.personal`).

Access is still checked on every request (the tenant check runs before the view), so a
revoked member gets a 404, not a cached page. Only complete 200 HTML answers to GET are kept,
and not when the request shows or changes anything in the session (a flash message, a new
token). Where pages are kept: :mod:`portal.web.page_store` (Redis when configured, shared by
every worker and host; else each process's LRU of at most ``PORTAL_PAGE_CACHE_MB``, 0 turns
caching off); entries expire after ``PORTAL_PAGE_CACHE_SECONDS``, or earlier when the page
shows something that ends sooner (:func:`keep_page_until`: an upload to confirm expires).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from flask import current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select

from portal.tenancy import cache_scopes
from portal.tenancy.versioning import remember_versions, scope_versions
from portal.web import page_frames
from portal.web.page_store import CachedPage, PageCache, RedisPageCache
from portal.web.personal import fill_parts, viewer_profile
from portal.web.session_tokens import with_session_token, without_session_token

log = logging.getLogger(__name__)
EXTENSION = "portal_page_cache"
# Headers a revisit must get back as they were. The ETag only of a page without parts (a
# view's own, e.g. from data versions): of one with parts, the ETag hook (portal.web.etags)
# hashes each answer as sent, with this reader's parts filled in.
KEPT_HEADERS = ("Content-Type", "Cache-Control", "ETag", "Content-Language", "Vary")

__all__ = ["CachedPage", "PageCache", "cached_page", "init_page_cache", "keep_page_until"]


def _respond(page: CachedPage, how: str = "hit"):
    from flask import Response

    body = with_session_token(fill_parts(page.body, page.parts) if page.parts else page.body)
    response = Response(body, status=200)
    response.headers.clear()
    for name, value in page.headers:
        response.headers.add(name, value)
    response.headers["X-Page-Cache"] = how
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


def _data_versions(tenant, scopes: list[str] | None, *, inbox: bool, also=()) -> tuple:
    """The versions the page's key holds, read before the view reads any data (with those
    of ``also``, e.g. the frame's scopes, in the same query)."""
    if scopes is None:
        return (tenant.data_version,)
    from portal.extensions import db
    from portal.tenancy.models import CacheVersion

    wanted = {cache_scopes.REGION, *scopes}
    own_inbox = cache_scopes.inbox(current_user.id)
    if inbox:
        wanted.add(own_inbox)
    # Read with them, not keyed on: the kept summaries the page may show key on ``aims`` and
    # the label risks on ``work``, and the header's unread count (filled in for each answer of
    # a shared page) on the inbox.
    also = {cache_scopes.WORK, cache_scopes.AIMS, own_inbox, *also} - wanted
    rows = db.session.execute(
        select(CacheVersion.scope_key, CacheVersion.version).where(
            CacheVersion.tenant_id == tenant.id,
            CacheVersion.scope_key.in_(sorted(wanted | also)),
        )
    )
    found = dict.fromkeys(wanted | also, 0) | dict(rows.all())
    remember_versions(tenant.id, found)
    return tuple(sorted((scope, found[scope]) for scope in wanted))


def _request_keys(
    scopes: Callable[[], list[str] | None],
    shared: bool,
    frame: Callable[[], list[str]] | None = None,
) -> tuple[tuple, tuple | None, tuple | None] | None:
    """(the reader's key, their kind's key or None, their kind's frame key or None), or None
    when this request must be rendered (and not kept). ``scopes`` and ``frame`` are asked
    only for a signed-in reader's GET."""
    tenant = g.get("tenant")
    if request.method != "GET" or tenant is None or not current_user.is_authenticated:
        return None
    if session.get("_flashes"):
        return None  # the page shows them once; a revisit must not
    named = scopes()
    framed = sorted({cache_scopes.REGION, *frame()}) if shared and frame and named else None
    rest = (
        current_app.config.get("PAGE_RENDERER_VERSION", ""),
        str(get_locale() or ""),
        date.today().toordinal(),
        request.full_path,
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
        request.headers.get("Accept", ""),
    )
    # A shared page's header is a part (the unread count is filled for each answer).
    versions = _data_versions(tenant, named, inbox=not shared, also=framed or ())
    common = (tenant.id, versions, *rest)
    g.page_key_common = common  # what the page's kept fragments key on (portal.web.fragments)
    own = (*common, "user", current_user.id, current_user.session_version)
    if not shared:
        return own, None, None
    profile = viewer_profile(current_user, tenant)
    kind = (*common, "kind", profile)
    if framed is None:
        return own, kind, None
    # Read with the page's own versions above: no query.
    frame_versions = tuple(zip(framed, scope_versions(tenant.id, tuple(framed)), strict=True))
    return own, kind, (tenant.id, frame_versions, *rest, "frame", profile)


def _keepable(response) -> bool:
    return (
        response.status_code == 200
        and response.mimetype == "text/html"
        and not response.is_streamed
        and not session.modified
        and "Set-Cookie" not in response.headers
    )


def _page_to_keep(response, parts: list, until: datetime | None) -> CachedPage:
    body = without_session_token(response.get_data())
    kept = KEPT_HEADERS if not parts else tuple(h for h in KEPT_HEADERS if h != "ETag")
    headers = tuple((name, value) for name, value in response.headers.items() if name in kept)
    moment = until.timestamp() if until is not None else None
    return CachedPage(body, headers, time.monotonic(), tuple(parts), until=moment)


def cached_page(view=None, *, scopes=None, shared: bool = False, frame=None):
    """Serve the view's page from the cache while what it shows has not changed.

    ``scopes``: a function of the view's arguments naming the scopes the page shows
    (:mod:`portal.tenancy.cache_scopes`); without it, or when it answers None, the page is
    renewed by any write to the region. ``shared``: the page is kept for every reader of the
    same kind (role, clusters, privacy decision), its reader's own bits in parts
    (:mod:`portal.web.personal`). ``frame`` (shared pages with kept fragments): a function of
    the view's arguments naming the scopes the page shows outside its kept fragments; the
    page around them is kept under those (:mod:`portal.web.page_frames`)."""
    if view is None:
        return functools.partial(cached_page, scopes=scopes, shared=shared, frame=frame)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        cache = current_app.extensions.get(EXTENSION)
        keys = None
        if cache is not None:

            def named() -> list[str] | None:
                found = scopes(*args, **kwargs) if scopes is not None else None
                return list(found) if found is not None else None

            framed = (lambda: list(frame(*args, **kwargs))) if frame is not None else None
            keys = _request_keys(named, shared, framed)
        if keys is None:
            return view(*args, **kwargs)
        own, kind, frame_key = keys
        page = cache.get(kind) if kind is not None else None
        per_reader = kind is None or (page is not None and page.per_reader)
        if per_reader:
            page = cache.get(own)
        if page is not None:
            return _respond(page)
        # Not for a kind whose render read who the reader is: its kind's entry says so.
        if frame_key is not None and not per_reader:
            page = page_frames.assemble(cache.get(frame_key))
            if page is not None:
                cache.put(kind, page)
                return _respond(page, "frame")
        return _render_and_keep(cache, view, args, kwargs, own, kind, frame_key)

    wrapper.cached_page = True
    wrapper.shared_page = shared
    return wrapper


def keep_page_until(moment: datetime) -> None:
    """The page being rendered shows something that ends at ``moment`` (an aware datetime:
    an upload to confirm expires): it is kept until then at most, though no data changes."""
    found = g.get("page_keep_until")
    g.page_keep_until = moment if found is None else min(found, moment)


def _render_and_keep(
    cache, view, args, kwargs, own: tuple, kind: tuple | None, frame_key: tuple | None = None
):
    """Render the page, keep it under the reader's kind (or, when the render read who the
    reader is, under the reader and a note under the kind), and its frame when it has one;
    fill in the reader's parts."""
    parts: list = []
    if kind is not None:
        g.page_parts = parts
        g.page_depends_on_viewer = False
    if frame_key is not None:
        page_frames.start_render()
    try:
        response = current_app.make_response(view(*args, **kwargs))
    finally:
        g.pop("page_parts", None)
    frame = None
    if frame_key is not None and not response.is_streamed:
        body, frame = page_frames.split(response.get_data())
        response.set_data(body)
    until = g.pop("page_keep_until", None)
    page = _page_to_keep(response, parts, until) if _keepable(response) else None
    if page is not None and not page.outdated():
        if kind is None:
            cache.put(own, page)
        elif g.pop("page_depends_on_viewer", False):
            cache.put(kind, CachedPage.for_each_reader())
            cache.put(own, page)
        else:
            cache.put(kind, page)
            if frame is not None:
                cache.put(frame_key, page_frames.frame_of(page, frame))
    if parts and not response.is_streamed:
        response.set_data(fill_parts(response.get_data(), parts))
    return response
