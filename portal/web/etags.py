"""Weak ETags on every read-only page (GET answers of HTML or JSON) and their 304.

One after_request hook hashes the body of a complete 200 answer that has no ETag yet (views
that compute theirs from data versions, such as the comparison pages, set it themselves; a
page from the page cache is hashed again, so both agree). Streamed answers are left alone.

The page's CSRF token is signed with a timestamp, so it changes every second: it is left out
of the hash, and the session's own token (what a form's token is checked against) goes in.
A 304 thus lets the browser keep a page whose token is still valid for this session, and a
page another session or user sees differently never shares its ETag. ``Vary`` names what
changes a page: the cookies (who is signed in) and, from the security headers, HX-Request.
"""

from __future__ import annotations

import hashlib

from flask import Flask, g, request, session

READ_TYPES = ("text/html", "application/json")


def init_etags(app: Flask) -> None:
    """Register after ``init_compression``: hooks run in reverse, so this one sees the body
    before it is compressed."""

    @app.after_request
    def _etag(response):
        if request.method not in ("GET", "HEAD") or response.mimetype not in READ_TYPES:
            return response
        if request.cookies:
            response.vary.add("Cookie")
        if (
            response.status_code != 200
            or response.is_streamed
            or response.direct_passthrough
            or "ETag" in response.headers
            or "Content-Encoding" in response.headers
        ):
            return response
        tag = body_etag(response.get_data())
        response.set_etag(tag, weak=True)
        # Only If-None-Match (a weak comparison) answers 304. Werkzeug's make_conditional would
        # also judge If-Match, strongly, against this weak tag: any If-Match, even "*", would
        # turn a read into a 412. A precondition on a read page asks nothing of this hook.
        if request.if_none_match.contains_weak(tag):
            response.status_code = 304
        return response


def body_etag(body: bytes) -> str:
    token = g.get("csrf_token")
    if token:
        body = body.replace(token.encode(), b"")
    digest = hashlib.blake2b(body, digest_size=16)
    digest.update(b"\0" + str(session.get("csrf_token", "")).encode())
    return digest.hexdigest()
