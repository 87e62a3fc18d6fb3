"""Each tenant's data version: a number that changes in the same transaction as any write that
can change what the tenant's pages show.

Rendered pages are cached under it (:mod:`portal.web.page_cache`), so a cached page is never
older than the data: a write commits its rows and the new version together, and a reader loads
the version (with the tenant, first thing in the request) before it reads any data.

What bumps which tenant:
- a row with a ``tenant_id`` (every tenant-owned model, audit entries): that tenant;
- the tenant row itself (name, colours, logo): that tenant;
- a user (name, e-mail, language): every tenant the user belongs to;
- a model whose class says ``shared_across_tenants = True`` (rows one region publishes for the
  others to read), and any other row with no tenant: every tenant;
- ORM ``insert()``/``update()``/``delete()`` statements: the tenant in scope (all when
  unscoped).
Writes that no page shows say so: ``affects_pages = False`` (the outbox) or
``unseen_columns`` (a user's last sign-in and password hash).
"""

from __future__ import annotations

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from portal.tenancy.scope import ALL_TENANTS, current_scope

ALL = "all"


def _tenants_touched(session: Session) -> set[int] | str:
    from portal.accounts.models import Membership, User
    from portal.tenancy.models import Tenant

    touched: set[int] = set()
    users: set[int] = set()
    changed = [*session.new, *session.deleted]
    changed += [obj for obj in session.dirty if _shows_change(session, obj)]
    for obj in changed:
        cls = type(obj)
        if not getattr(cls, "affects_pages", True):
            continue
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


def _bump(session: Session, tenants: set[int] | str) -> None:
    from portal.tenancy.models import Tenant

    # Once per transaction and tenant is enough: the commit shows the writes and the new
    # version together. (Cleared when any transaction or savepoint ends, so a rolled-back
    # savepoint cannot leave later writes without a bump.)
    bumped = session.info.setdefault("tenant_versions_bumped", set())
    if ALL in bumped:
        return
    if tenants != ALL:
        tenants = set(tenants) - bumped
        if not tenants:
            return
    table = Tenant.__table__
    statement = update(table).values(data_version=table.c.data_version + 1)
    if tenants != ALL:
        statement = statement.where(table.c.id.in_(sorted(tenants)))
    # Core on the session's connection: no ORM events, no tenant criteria, same transaction.
    session.connection().execute(statement)
    bumped.update({ALL} if tenants == ALL else tenants)


def mark_tenant_changed(tenant_id: int) -> None:
    """Bump the tenant's version now: call it before taking a row lock of your own (``FOR
    UPDATE``), so that the tenant row stays the first lock of every writing transaction."""
    from portal.extensions import db

    _bump(db.session, {tenant_id})


# Before the flush writes anything: the tenant row is the first row a writing transaction
# locks, so concurrent writers of one tenant queue on it instead of deadlocking on PostgreSQL.
@event.listens_for(Session, "before_flush")
def _bump_before_flush(session: Session, _flush_context, _instances) -> None:
    _bump(session, _tenants_touched(session))


@event.listens_for(Session, "after_transaction_end")
def _forget_bumps(session: Session, transaction) -> None:
    # The transaction or a savepoint; not the subtransaction each flush opens.
    if transaction.parent is None or transaction.nested:
        session.info.pop("tenant_versions_bumped", None)


@event.listens_for(Session, "do_orm_execute")
def _bump_on_bulk_write(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_arguments.get("mapper")
    cls = mapper.class_ if mapper is not None else None
    if cls is not None and not getattr(cls, "affects_pages", True):
        return
    scope = current_scope()
    _bump(state.session, {scope} if isinstance(scope, int) and scope is not ALL_TENANTS else ALL)
