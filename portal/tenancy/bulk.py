"""Many new rows of one tenant-owned model in one INSERT, whatever their number.

A flush inserts new objects one statement each on SQLite (an INSERT ... RETURNING per row, to
read the ids back in order), so a write that makes one row per person costs a statement per
person. :func:`insert_all` writes them with one statement on the session's connection and
keeps what the flush would have kept: each row's tenant is checked against the one in scope
(or set to it, as :mod:`portal.tenancy.scope` does), and the cache versions the rows touch are
noted (:mod:`portal.tenancy.versioning`). The objects stay transient: their ids are not read
back, and no flush listener sees them (no audit entry, no search entry), so use it only for
rows that need neither.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session

from portal.tenancy.scope import TenantScoped, TenantScopeError, current_scope
from portal.tenancy.versioning import note_changed


def _stamped(obj: TenantScoped) -> TenantScoped:
    scope = current_scope()
    if obj.tenant_id is None:
        if not isinstance(scope, int):
            raise TenantScopeError(f"{obj!r} has no tenant and no tenant is in scope")
        obj.tenant_id = scope
    elif isinstance(scope, int) and obj.tenant_id != scope:
        raise TenantScopeError(f"{obj!r} belongs to another tenant than the one in scope")
    return obj


def insert_all(session: Session, objects: Sequence[TenantScoped]) -> None:
    """Insert these new objects (all of one model) in one statement, in the session's
    transaction. Columns an object leaves unset take their defaults."""
    if not objects:
        return
    model = type(objects[0])
    if not all(type(obj) is model for obj in objects):
        raise TypeError("insert_all writes objects of one model at a time")
    mapper = inspect(model)
    rows: dict[frozenset[str], list[dict]] = {}
    for obj in objects:
        _stamped(obj)
        row = {
            prop.columns[0].key: obj.__dict__[prop.key]
            for prop in mapper.column_attrs
            if prop.key in obj.__dict__
        }
        rows.setdefault(frozenset(row), []).append(row)
    connection = session.connection()
    for same_columns in rows.values():  # one statement per set of columns given (usually one)
        connection.execute(insert(mapper.local_table), same_columns)
    note_changed(session, list(objects))
