"""Responses compressed with brotli or gzip (Flask-Compress), for every way the app is served.

What is compressed: text, HTML, JSON, CSS, JavaScript and SVG of at least ``COMPRESS_MIN_SIZE``
bytes; never PDF, spreadsheets or images (already compressed). A streamed answer (a stored
file, the static files) stays streamed: it is compressed chunk by chunk.

BREACH (compression as an oracle for a secret in the page): every page carries the session's
CSRF token, and Flask-WTF does not mask it per response (the signed token's payload is the
same in every page of a session; only its timestamp and signature change). So an answer to a
request that carries cookies (a signed-in browser) is not compressed when an attacker could
have put guesses into it: a URL with a query string (a cross-site link can choose it) or any
request but GET/HEAD (the session cookie is SameSite=Lax, so a cross-site POST has no
session, but a same-site one could). Pages without a query string, public pages without
cookies and the API (a bearer token, no cookies) are compressed.
"""

from __future__ import annotations

from flask import Flask, request
from flask_compress import Compress

COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/calendar",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/problem+json",
    "application/xml",
    "application/atom+xml",
    "image/svg+xml",
]
compress = Compress()


def init_compression(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)  # fast; a page costs about 1 ms
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)  # a tiny body gains nothing
    # The ETags and their 304 are answered before (portal.web.etags), on the plain body.
    app.config.setdefault("COMPRESS_EVALUATE_CONDITIONAL_REQUEST", False)
    app.config["COMPRESS_REGISTER"] = False  # the hook below decides, then asks the extension
    compress.init_app(app)

    @app.after_request
    def _compress(response):
        if response.mimetype not in compress.compress_mimetypes_set:
            return response
        if may_reflect_guesses():
            response.vary.add("Accept-Encoding")
            return response
        etag, weak = response.get_etag()
        if etag and not weak and response.mimetype != "text/html":
            # The API's ETag is the object's version, which a client sends back in If-Match
            # (a strong comparison): it stays as it is, so the answer is not compressed (one
            # object is small; lists carry no ETag and are compressed).
            response.vary.add("Accept-Encoding")
            return response
        streamed = response.is_streamed
        response = compress.after_request(response)
        if etag and not weak and not streamed and "Content-Encoding" in response.headers:
            # A view's own ETag (from its data) names the page in every encoding: once the
            # body is compressed it is weak (Flask-Compress would add ":br" to it), so the
            # view's next 304 still matches it. An answer sent as it is keeps its ETag.
            response.set_etag(etag, weak=True)
        return response


def may_reflect_guesses() -> bool:
    """Whether a signed-in answer could hold attacker-chosen text beside its secrets."""
    if not request.cookies:
        return False
    return bool(request.query_string) or request.method not in ("GET", "HEAD")
