"""Keeping the search index current: a flush listener, and a rebuild per region.

The listener sees every change the portal writes through the ORM, whatever wrote it (a page,
an import, the JSON API, the CLI), and rewrites the changed objects' rows on the flush's own
connection: in the same transaction, so a rolled-back change leaves the index as it was.
Rows whose objects the database deleted by cascade (a cluster's members, plans, actions and
their comments and files) are pruned when a parent is deleted. A flush that touches nothing
the index follows costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import and_, delete, event, exists, func, insert, inspect, or_, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import Membership, User
from portal.clusters.models import Cluster
from portal.plans.models import Action, Plan
from portal.programmes.models import Programme
from portal.search.documents import FOLLOWED, TITLE_OF, Builder
from portal.search.models import SearchEntry
from portal.workshops.models import AgendaItem, Workshop

ENTRY = SearchEntry.__table__
# Deleting one of these lets the database delete children the index holds rows of.
PARENTS = (Cluster, Programme, Plan, Action, Workshop, User)
TABLE_OF_KIND = {indexed.kind: model.__table__ for model, indexed in FOLLOWED.items()}
BATCH = 500


def _changed(obj: Any, fields: Iterable[str]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in fields)


class _Changes:
    def __init__(self) -> None:
        self.write: dict[tuple[str, int], Any] = {}
        self.drop: set[tuple[str, int]] = set()
        self.workshops: set[int] = set()
        self.users: set[int] = set()
        self.prune: set[int | None] = set()
        self.renamed: list[tuple[str, int, str]] = []

    def __bool__(self) -> bool:
        return bool(
            self.write or self.drop or self.workshops or self.users or self.prune or self.renamed
        )


def _collect(session: Session) -> _Changes:
    found = _Changes()
    for obj in session.new:
        indexed = FOLLOWED.get(type(obj))
        if indexed is not None:
            found.write[(indexed.kind, obj.id)] = obj
        elif isinstance(obj, AgendaItem):
            found.workshops.add(obj.workshop_id)
    for obj in session.dirty:
        model = type(obj)
        indexed = FOLLOWED.get(model)
        if indexed is not None and _changed(obj, indexed.fields):
            found.write[(indexed.kind, obj.id)] = obj
        if model in TITLE_OF:
            parent_kind, column = TITLE_OF[model]
            if _changed(obj, (column,)):
                found.renamed.append((parent_kind, obj.id, getattr(obj, column)))
        if isinstance(obj, AgendaItem) and session.is_modified(obj):
            found.workshops.add(obj.workshop_id)
        if isinstance(obj, User) and _changed(obj, ("name", "email", "active")):
            found.users.add(obj.id)
    for obj in session.deleted:
        indexed = FOLLOWED.get(type(obj))
        if indexed is not None:
            found.drop.add((indexed.kind, obj.id))
        if isinstance(obj, AgendaItem):
            found.workshops.add(obj.workshop_id)
        if isinstance(obj, PARENTS):
            found.prune.add(getattr(obj, "tenant_id", None))
    found.workshops -= {key[1] for key in found.write if key[0] == "workshop"}
    found.workshops -= {key[1] for key in found.drop if key[0] == "workshop"}
    for key in found.drop:
        found.write.pop(key, None)
    return found


@event.listens_for(Session, "after_flush")
def _keep_index_current(session: Session, _flush_context) -> None:
    changes = _collect(session)
    if not changes:
        return
    connection = session.connection()
    builder = Builder(connection)
    for parent_kind, parent_id, title in changes.renamed:
        builder.remember(parent_kind, parent_id, title or "")
    rows = [(key, builder.row(obj)) for key, obj in changes.write.items()]
    rows += [
        (("workshop", w.id), builder.row(w, "workshop")) for w in _workshops(connection, changes)
    ]
    rows += [
        (("person", m.id), builder.row(m, "person")) for m in _memberships(connection, changes)
    ]
    _replace(connection, {key for key, _row in rows} | changes.drop, [r for _k, r in rows if r])
    for parent_kind, parent_id, _title in changes.renamed:
        connection.execute(
            update(ENTRY)
            .where(ENTRY.c.parent_kind == parent_kind, ENTRY.c.parent_id == parent_id)
            .values(context=builder.title(parent_kind, parent_id))
        )
    if changes.prune:
        prune(connection, changes.prune)


def _workshops(connection, changes: _Changes) -> list:
    if not changes.workshops:
        return []
    table = Workshop.__table__
    return connection.execute(select(table).where(table.c.id.in_(sorted(changes.workshops)))).all()


def _memberships(connection, changes: _Changes) -> list:
    if not changes.users:
        return []
    table = Membership.__table__
    written = {key[1] for key in changes.write if key[0] == "person"}
    return [
        m
        for m in connection.execute(
            select(table).where(table.c.user_id.in_(sorted(changes.users)))
        ).all()
        if m.id not in written
    ]


def _replace(connection, keys: set[tuple[str, int]], rows: list[dict]) -> None:
    """Delete the rows of ``keys`` and insert ``rows`` (an upsert both databases speak)."""
    by_kind: dict[str, list[int]] = {}
    for kind, object_id in keys:
        by_kind.setdefault(kind, []).append(object_id)
    if by_kind:
        connection.execute(
            delete(ENTRY).where(
                or_(
                    *(
                        and_(ENTRY.c.kind == kind, ENTRY.c.object_id.in_(sorted(ids)))
                        for kind, ids in sorted(by_kind.items())
                    )
                )
            )
        )
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(ENTRY), rows[start : start + BATCH])


def prune(connection, tenant_ids: set[int | None]) -> None:
    """Delete rows whose object is gone (deleted by the database with its parent)."""
    for kind, table in TABLE_OF_KIND.items():
        stmt = delete(ENTRY).where(
            ENTRY.c.kind == kind,
            ~exists().where(table.c.id == ENTRY.c.object_id),
        )
        known = sorted(t for t in tenant_ids if t is not None)
        if None not in tenant_ids:
            stmt = stmt.where(ENTRY.c.tenant_id.in_(known))
        connection.execute(stmt)


def rebuild(
    session: Session, tenant_id: int, on_progress: Callable[[int], None] | None = None
) -> int:
    """Write a region's index anew from its data; the number of rows written. The caller
    commits. ``on_progress`` is told how many objects were read since it was last told."""
    connection = session.connection()
    connection.execute(delete(ENTRY).where(ENTRY.c.tenant_id == tenant_id))
    builder = Builder(connection)
    written = 0
    for model, indexed in FOLLOWED.items():
        table = model.__table__
        result = connection.execute(
            select(table).where(table.c.tenant_id == tenant_id).order_by(table.c.id)
        )
        batch: list[dict] = []
        for obj in result.all():
            row = builder.row(obj, indexed.kind)
            if row is not None:
                batch.append(row)
            if on_progress is not None:
                on_progress(1)
        _replace(connection, set(), batch)
        written += len(batch)
    return written


def objects_in(session: Session, tenant_id: int) -> int:
    """How many objects a rebuild reads (for a progress bar)."""
    total = 0
    for model in FOLLOWED:
        table = model.__table__
        total += (
            session.connection().scalar(
                select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
            )
            or 0
        )
    return total
