"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, abort, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_security_headers(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_bytes():
        # No database stores NUL in text (PostgreSQL refuses it): say so clearly, early.
        if any("\x00" in k + v for k, v in request.args.items(multi=True)):
            abort(400)
        if request.method == "POST" and any("\x00" in v for v in request.form.values()):
            abort(400)

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html":
            # Pages may hold personal data: never cached by shared caches.
            headers.setdefault("Cache-Control", "private, no-cache")
        # htmx partials and full pages share URLs.
        headers.add("Vary", "HX-Request")
        return response
