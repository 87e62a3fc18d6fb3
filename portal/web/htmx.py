"""One URL serves the whole page or just the fragment htmx asks for."""

from __future__ import annotations

import json

from flask import Response, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment(target_id: str) -> bool:
    """True when htmx asked for the element ``target_id`` (not a boosted page load)."""
    return is_htmx() and request.headers.get("HX-Target") == target_id


def announce(response: Response, message: str) -> Response:
    """Have the page's polite live region say ``message`` (already translated) after the swap
    (portal/static/a11y.js); ASCII-escaped JSON, as a header must be."""
    response.headers["HX-Trigger"] = json.dumps({"portal:announce": str(message)})
    return response
