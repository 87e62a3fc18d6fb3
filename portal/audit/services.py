"""Recording and reading the audit log.

Create, update and delete of every audited model are captured by one flush
listener, inside the same transaction as the change. Sign-ins, failed sign-ins and
denied actions are written in their own transaction, since the request that
caused them changes nothing else.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.tenancy.scope import current_tenant_id

SECRET_FIELDS = frozenset(
    {
        "password_hash",
        "logo_png",
        "session_version",
        "signing_secret",  # a webhook's (portal.webhooks)
        "previous_signing_secret",
    }
)
NOT_AUDITED = frozenset(
    {
        "audit_entry",
        "outbox_message",
        "plugin_incident",
        "reminder_sent",
        "pending_import",
        "webhook_delivery",
    }
)


def _actor() -> tuple[int | None, str]:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.email
    actor = g.get("cli_actor") if has_request_context() else None
    return None, actor or "system"


def _ip() -> str:
    return (request.remote_addr or "") if has_request_context() else ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _tenant_id_of(obj: Any) -> int | None:
    if obj.__tablename__ == "tenant":
        return obj.id
    return getattr(obj, "tenant_id", None) or current_tenant_id()


NOTED = "_audit_noted"  # an object's changes of related rows, for its own entry


def note_change(obj: Any, key: str, before: Any, after: Any) -> None:
    """Record in ``obj``'s own audit entry of this flush a change of rows that hang on it
    (its clusters, its indicators; ``before`` and ``after`` as JSON can hold them): its
    history then says what changed, not only that its version went up. Call before the flush
    that writes ``obj``."""
    obj.__dict__.setdefault(NOTED, {})[key] = [before, after]


def _changes(obj: Any, kind: str) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = dict(obj.__dict__.pop(NOTED, None) or {})
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SECRET_FIELDS or key in {"created_at", "updated_at"}:
            continue
        hist = state.attrs[key].history
        if kind == "update":
            if hist.has_changes():
                old = hist.deleted[0] if hist.deleted else None
                new = hist.added[0] if hist.added else None
                changes[key] = [_jsonable(old), _jsonable(new)]
        elif kind == "create":
            changes[key] = _jsonable(getattr(obj, key, None))
    return changes


def _row(obj: Any, kind: str) -> dict[str, Any]:
    user_id, actor = _actor()
    # New rows have no identity key yet in after_flush; their primary key is set.
    identity = inspect(obj).mapper.primary_key_from_instance(obj)
    return {
        "at": datetime.now().astimezone(),
        "tenant_id": _tenant_id_of(obj),
        "user_id": user_id,
        "actor": actor,
        "action": kind,
        "object_type": obj.__tablename__,
        "object_id": identity[0] if identity and isinstance(identity[0], int) else None,
        "summary": str(getattr(obj, "name", "") or getattr(obj, "email", "") or "")[:300],
        "changes": _changes(obj, kind) if kind != "delete" else {},
        "ip": _ip(),
    }


@event.listens_for(Session, "after_flush")
def _audit_flush(session: Session, flush_context) -> None:
    rows = []
    for kind, objs in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objs:
            if getattr(obj, "__tablename__", None) in NOT_AUDITED:
                continue
            noted = NOTED in obj.__dict__  # its related rows changed (note_change)
            if (
                kind == "update"
                and not noted
                and not session.is_modified(obj, include_collections=False)
            ):
                continue
            row = _row(obj, kind)
            if kind == "update" and not row["changes"]:
                continue
            rows.append(row)
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def record_event(
    action: str,
    *,
    user=None,
    actor: str | None = None,
    tenant_id: int | None = None,
    summary: str = "",
    object_type: str = "",
    object_id: int | None = None,
) -> None:
    """Write one entry in its own transaction (sign-ins, denials)."""
    user_id, default_actor = _actor()
    if user is not None and getattr(user, "is_authenticated", False):
        user_id, default_actor = user.id, user.email
    values = {
        "at": datetime.now().astimezone(),
        "tenant_id": tenant_id,
        "user_id": user_id,
        "actor": (actor or default_actor)[:254],
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "summary": summary[:300],
        "changes": {},
        "ip": _ip(),
    }
    with db.engine.begin() as conn:
        conn.execute(insert(AuditEntry).values(**values))


def record_denied(user, action: str, obj: Any) -> None:
    tenant = g.get("tenant") if has_request_context() else None
    record_event(
        "denied",
        user=user,
        tenant_id=getattr(obj, "tenant_id", None) or (tenant.id if tenant else None),
        summary=action,
        object_type=getattr(obj, "__tablename__", "") or "",
        object_id=getattr(obj, "id", None) if isinstance(getattr(obj, "id", None), int) else None,
    )


def tenant_entries_query(tenant_id: int, action: str | None = None):
    stmt = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
