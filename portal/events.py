"""Telling plugins what happened (after the change is committed)."""

from __future__ import annotations

from typing import Any

from flask import current_app


def emit(event: str, tenant_id: int, **kwargs: Any) -> None:
    current_app.extensions["portal_plugins"].call(event, tenant_id=tenant_id, **kwargs)


def apply_changes(obj: Any, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set the values that differ; return them as field -> (old, new)."""
    changes = {}
    for key, value in values.items():
        old = getattr(obj, key)
        if old != value:
            changes[key] = (old, value)
            setattr(obj, key, value)
    return changes
