"""A session's CSRF token in HTML kept for other sessions (a kept page, a kept fragment): kept
as a placeholder, and each answer gets its own session's token back."""

from __future__ import annotations

from typing import AnyStr

from flask import current_app, g
from flask_wtf.csrf import generate_csrf

PLACEHOLDER = "\x00portal-csrf-token\x00"


def without_session_token(body: AnyStr) -> AnyStr:
    """``body`` with the token this request rendered (if any) replaced by the placeholder."""
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if not token:
        return body
    if isinstance(body, bytes):
        return body.replace(token.encode(), PLACEHOLDER.encode())
    return body.replace(token, PLACEHOLDER)


def with_session_token(body: AnyStr) -> AnyStr:
    """``body`` with the placeholder replaced by this session's token."""
    mark = PLACEHOLDER.encode() if isinstance(body, bytes) else PLACEHOLDER
    if mark not in body:
        return body
    token = generate_csrf()
    return body.replace(mark, token.encode() if isinstance(body, bytes) else token)
