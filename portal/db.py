"""The declarative base shared by the core and every plugin."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so Alembic (and SQLite batch mode) can address them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


def str_enum(enum_class, length: int = 30) -> Enum:
    """A Python enum stored as its string values (portable, readable, no DB enum type)."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
    )


def waited_too_long(exc: BaseException) -> bool:
    """Whether a database error means a statement gave up waiting for another transaction's
    lock (SQLite's busy timeout, PostgreSQL's lock timeout), not that anything is wrong."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == "55P03":  # PostgreSQL: lock_not_available
        return True
    message = str(orig).lower()
    return type(orig).__name__ == "OperationalError" and (
        "database is locked" in message or "database table is locked" in message
    )
