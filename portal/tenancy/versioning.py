"""What a write changes, counted when its transaction commits: the tenant's ``data_version``
(any write to the region) and the versions of the cache scopes it touched (``cache_version``
rows: a programme, a plan, a person's inbox, or ``region``; :mod:`portal.tenancy.cache_scopes`).

Rendered pages are cached under these (:mod:`portal.web.page_cache`), so a cached page is never
older than the data: a write commits its rows and the new versions together, and a reader loads
the versions before it reads any data. In-process memos of region-wide facts (privacy decisions,
memberships, plugin switches) key on ``data_version``.

No region-wide write lock: the changes are *noted* while the transaction writes (before each
flush) and the version rows are *written* in the ``before_commit`` hook, sorted (tenant rows,
then scope rows), so a transaction holds them only for the moment between that update and its
commit. A long import keeps no lock another writer of the region waits for (only the ``FOR KEY
SHARE`` its inserts take on the tenant row, which an update of ``data_version`` does not wait
for). tests/test_write_lock.py checks this on PostgreSQL.

What moves which tenant's ``data_version`` (and its ``region`` scope, unless the row's table is
listed in :mod:`portal.tenancy.cache_scopes`, which names finer scopes):
- a row with a ``tenant_id`` (every tenant-owned model, audit entries): that tenant;
- the tenant row itself (name, colours, logo): that tenant;
- a user (name, e-mail, language): every tenant the user belongs to;
- a model whose class says ``shared_across_tenants = True`` (rows one region publishes for the
  others to read), and any other row with no tenant: every tenant;
- ORM ``insert()``/``update()``/``delete()`` statements: the tenant in scope (all when
  unscoped), its whole region.
Writes that no page shows say so: ``affects_pages = False`` (the outbox) or
``unseen_columns`` (a user's last sign-in and password hash).
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy import event, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session

from portal.tenancy import cache_scopes
from portal.tenancy.scope import ALL_TENANTS, current_scope

ALL = "all"


def _tenants_touched(session: Session, changed: list) -> set[int] | str:
    from portal.accounts.models import Membership, User
    from portal.tenancy.models import Tenant

    touched: set[int] = set()
    users: set[int] = set()
    for obj in changed:
        cls = type(obj)
        if getattr(cls, "shared_across_tenants", False):
            return ALL
        if isinstance(obj, Tenant):
            if obj.id is not None:
                touched.add(obj.id)
        elif isinstance(obj, User):
            if obj.id is not None:
                users.add(obj.id)
        elif hasattr(obj, "tenant_id"):
            if obj.tenant_id is None:
                return ALL
            touched.add(obj.tenant_id)
        else:
            return ALL
    if users:
        rows = session.connection().execute(
            select(Membership.__table__.c.tenant_id).where(
                Membership.__table__.c.user_id.in_(users)
            )
        )
        touched.update(tenant_id for (tenant_id,) in rows)
    return touched


def _shows_change(session: Session, obj) -> bool:
    """Whether a changed row changed something a page can show (``unseen_columns``: what no
    page shows, e.g. a user's last sign-in)."""
    if not session.is_modified(obj):
        return False
    unseen = getattr(type(obj), "unseen_columns", frozenset())
    if not unseen:
        return True
    state = inspect(obj)
    return any(attr.key not in unseen and attr.history.has_changes() for attr in state.attrs)


def _pending(session: Session) -> dict:
    return session.info.setdefault("cache_versions_pending", {"tenants": set(), "scopes": set()})


def _note(session: Session, tenants: set[int] | str, scopes: set[tuple[int, str]] = frozenset()):
    """Remember what the transaction touched; written just before it commits."""
    pending = _pending(session)
    if tenants == ALL:
        pending["tenants"].add(ALL)
    else:
        pending["tenants"].update(tenants)
        # Tenants whose rows no scope registry entry covers: their whole region.
        pending["scopes"].update((tenant_id, cache_scopes.REGION) for tenant_id in tenants)
    pending["scopes"].update(scopes)


def _collect(session: Session) -> None:
    changed = [*session.new, *session.deleted]
    changed += [obj for obj in session.dirty if _shows_change(session, obj)]
    note_changed(session, changed)


def note_changed(session: Session, changed: list) -> None:
    """Count these rows as changed when the transaction commits, as a flush of them would:
    for rows written by a statement of their own (:mod:`portal.tenancy.bulk`)."""
    changed = [obj for obj in changed if getattr(type(obj), "affects_pages", True)]
    listed: dict[int, list] = {}
    others = []
    for obj in changed:
        tenant_id = getattr(obj, "tenant_id", None)
        if isinstance(tenant_id, int) and cache_scopes.is_listed(obj):
            listed.setdefault(tenant_id, []).append(obj)
        else:
            others.append(obj)
    scopes = {
        (tenant_id, scope)
        for tenant_id, rows in listed.items()
        for scope in cache_scopes.scopes_of(session, rows)
    }
    pending = _pending(session)
    pending["tenants"].update(listed)  # every write still moves the region's data_version
    _note(session, _tenants_touched(session, others) if others else set(), scopes)


def _write(session: Session) -> None:
    """Bump what the transaction touched: the tenants' data_version, then the scopes' rows,
    each in sorted order (so two committing writers never wait on each other in a circle).
    Runs last, just before the commit, so these rows stay locked for milliseconds."""
    from portal.tenancy.models import CacheVersion, Tenant

    pending = session.info.pop("cache_versions_pending", None)
    if not pending or not (pending["tenants"] or pending["scopes"]):
        return
    connection = session.connection()
    table = Tenant.__table__
    tenants, scopes = pending["tenants"], set(pending["scopes"])
    statement = update(table).values(data_version=table.c.data_version + 1)
    if ALL in tenants:
        all_ids = [tenant_id for (tenant_id,) in connection.execute(select(table.c.id))]
        scopes.update((tenant_id, cache_scopes.REGION) for tenant_id in all_ids)
    else:
        statement = statement.where(table.c.id.in_(sorted(tenants)))
    # Core on the session's connection: no ORM events, no tenant criteria, same transaction.
    if tenants:
        connection.execute(statement)
    if scopes:
        versions = CacheVersion.__table__
        insert = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(versions)
        rows = [{"tenant_id": t, "scope_key": k, "version": 1} for t, k in sorted(scopes)]
        connection.execute(
            insert.values(rows).on_conflict_do_update(
                index_elements=[versions.c.tenant_id, versions.c.scope_key],
                set_={"version": versions.c.version + 1},
            )
        )


def mark_tenant_changed(tenant_id: int) -> None:
    """Count the region as changed (its every page) when this transaction commits."""
    from portal.extensions import db

    _note(db.session, {tenant_id})


@event.listens_for(Session, "before_flush")
def _collect_before_flush(session: Session, _flush_context, _instances) -> None:
    _collect(session)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    # Rows other flush hooks add (audit entries, outbox) are flushed, and so collected, first.
    for _ in range(10):
        if not (session.new or session.dirty or session.deleted):
            break
        session.flush()
    _write(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction) -> None:
    # A rolled-back transaction bumps nothing. (A rolled-back savepoint keeps what it noted:
    # one bump too many costs a render, one too few a stale page.)
    if transaction.parent is None:
        session.info.pop("cache_versions_pending", None)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_write(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_arguments.get("mapper")
    cls = mapper.class_ if mapper is not None else None
    if cls is not None and not getattr(cls, "affects_pages", True):
        return
    scope = current_scope()
    _note(state.session, {scope} if isinstance(scope, int) and scope is not ALL_TENANTS else ALL)


# --- reading a scope's version ----------------------------------------------------------------


def scope_version(tenant_id: int, scope: str) -> int:
    """The version of one cache scope of a region, as this request first read it (the page
    cache reads its scopes' versions first, so most pages pay no query); read again after a
    commit. In-process memos of what a scope covers key on it, e.g. the plugins' work on
    indicators on ``region`` (every table the registry does not list touches it)."""
    return scope_versions(tenant_id, (scope,))[0]


def scope_versions(tenant_id: int, scopes: tuple[str, ...]) -> tuple[int, ...]:
    """The versions of several scopes, as ``scope_version`` reads one: those this request
    has not read yet, in one query."""
    from portal.extensions import db
    from portal.tenancy.models import CacheVersion

    memo = g.setdefault("_scope_versions", {}) if has_request_context() else {}
    missing = sorted({scope for scope in scopes if (tenant_id, scope) not in memo})
    if missing:
        rows = db.session.execute(
            select(CacheVersion.scope_key, CacheVersion.version).where(
                CacheVersion.tenant_id == tenant_id, CacheVersion.scope_key.in_(missing)
            )
        )
        found = dict.fromkeys(missing, 0) | dict(rows.all())
        memo.update({(tenant_id, scope): version for scope, version in found.items()})
    return tuple(memo[(tenant_id, scope)] for scope in scopes)


def region_mark(tenant: Any) -> tuple:
    """A key part that moves whenever the region's own rows change (memberships, settings,
    sharing choices, users: every table the registry does not list): the ``region`` scope's
    version when this request has read it (a kept page's answer has: no query), else the
    tenant's ``data_version``, which moves with every write. The region's version stays
    through a write to actions, plans or programmes; the data version does not."""
    memo = g.get("_scope_versions") if has_request_context() else None
    if memo and (tenant.id, cache_scopes.REGION) in memo:
        return ("region", memo[(tenant.id, cache_scopes.REGION)])
    return ("data", tenant.data_version)


def remember_versions(tenant_id: int, versions: dict[str, int]) -> None:
    """Versions this request read (the page cache's), for ``scope_version``."""
    if has_request_context():
        memo = g.setdefault("_scope_versions", {})
        memo.update({(tenant_id, scope): version for scope, version in versions.items()})


@event.listens_for(Session, "after_commit")
def _forget_read_versions(_session) -> None:
    if has_request_context():
        g.pop("_scope_versions", None)
