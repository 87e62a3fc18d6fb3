"""Tenants: one per region. Scoping lives in :mod:`portal.tenancy.scope`."""

from __future__ import annotations

from typing import TypeVar

from flask import abort
from sqlalchemy import select

from portal.extensions import db
from portal.tenancy.scope import (
    ALL_TENANTS,
    TenantScoped,
    TenantScopeError,
    current_tenant_id,
    tenant_scope,
    unscoped,
)

T = TypeVar("T")

__all__ = [
    "ALL_TENANTS",
    "TenantScopeError",
    "TenantScoped",
    "current_tenant_id",
    "get_or_404",
    "tenant_scope",
    "unscoped",
]


def get_or_404(model: type[T], object_id: int, *options, belongs_to: dict | None = None) -> T:
    """Load a tenant-owned object by id through a scoped query, or answer 404.

    ``belongs_to`` names the parent in the URL, e.g. ``{"workshop_id": workshop.id}``: an id
    of another parent's child is not found either. A query, not ``Session.get()``: the
    identity map would skip the tenant criteria.
    """
    stmt = select(model).where(model.id == object_id).options(*options)
    for column, value in (belongs_to or {}).items():
        stmt = stmt.where(getattr(model, column) == value)
    obj = db.session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj


# Registers the listeners that keep each tenant's data version (the page cache's key).
from portal.tenancy import versioning  # noqa: E402, F401
