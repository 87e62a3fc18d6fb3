"""Telling the notification centre and the plugins what happened (after the change is
committed)."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)


def emit(event: str, tenant_id: int, **kwargs: Any) -> None:
    from portal.extensions import db
    from portal.notifications.producers import on_event

    try:
        on_event(event, tenant_id, **kwargs)
    except Exception:  # noqa: BLE001 - the change is committed; a notice must not undo the page
        log.exception("notifications for %s failed", event)
        db.session.rollback()
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
