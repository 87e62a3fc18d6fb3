"""One URL serves the whole page or just the fragment htmx asks for."""

from __future__ import annotations

from flask import request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment(target_id: str) -> bool:
    """True when htmx asked for the element ``target_id`` (not a boosted page load)."""
    return is_htmx() and request.headers.get("HX-Target") == target_id
