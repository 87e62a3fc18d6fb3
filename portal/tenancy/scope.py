"""Tenant scoping, in one place.

Every query of a :class:`TenantScoped` model gets ``tenant_id = <current tenant>``
added by a ``do_orm_execute`` listener, and every new tenant-owned row gets the
current tenant set by a ``before_flush`` listener. With no tenant in scope the
criteria match nothing (fail closed); code that must see every tenant (the CLI,
the platform admin) says so with :func:`unscoped`.

``Session.get()`` answers from the identity map without running a query, so views
load tenant-owned objects with :func:`portal.tenancy.get_or_404`, never ``get()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import ForeignKey, event, false
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)


class _AllTenants:
    def __repr__(self) -> str:
        return "ALL_TENANTS"


ALL_TENANTS = _AllTenants()
_scope: ContextVar[int | _AllTenants | None] = ContextVar("portal_tenant_scope", default=None)


class TenantScopeError(RuntimeError):
    """A tenant-owned row was written outside its tenant."""


class TenantScoped:
    """Mixin for every tenant-owned model: a NOT NULL tenant foreign key, always filtered."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(
            ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False, index=True
        )


def current_scope() -> int | _AllTenants | None:
    return _scope.get()


def current_tenant_id() -> int | None:
    scope = _scope.get()
    return scope if isinstance(scope, int) else None


@contextmanager
def tenant_scope(tenant_or_id) -> Iterator[None]:
    """Run the block as the given tenant (a Tenant or its id)."""
    tenant_id = getattr(tenant_or_id, "id", tenant_or_id)
    token = _scope.set(int(tenant_id))
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def unscoped() -> Iterator[None]:
    """Run the block across all tenants. For the CLI and platform-level views only."""
    token = _scope.set(ALL_TENANTS)
    try:
        yield
    finally:
        _scope.reset(token)


def set_request_scope(tenant_id: int | None):
    return _scope.set(tenant_id)


def reset_request_scope(token) -> None:
    _scope.reset(token)


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        # Loader criteria of the parent query propagate to these loads already.
        return
    scope = _scope.get()
    if scope is ALL_TENANTS:
        return
    if scope is None:
        criteria = with_loader_criteria(TenantScoped, lambda cls: false(), include_aliases=True)
    else:
        tenant_id = scope
        criteria = with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    state.statement = state.statement.options(criteria)


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, flush_context, instances) -> None:
    scope = _scope.get()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if not isinstance(scope, int):
                raise TenantScopeError(f"{obj!r} has no tenant and no tenant is in scope")
            obj.tenant_id = scope
        elif isinstance(scope, int) and obj.tenant_id != scope:
            raise TenantScopeError(f"{obj!r} belongs to another tenant than the one in scope")
    if isinstance(scope, int):
        for obj in session.dirty:
            if isinstance(obj, TenantScoped) and obj.tenant_id != scope:
                raise TenantScopeError(f"{obj!r} cannot be changed from another tenant")
