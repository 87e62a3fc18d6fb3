"""Figures worked out once per change and shared by every worker and host.

``shared_value(key, compute)`` answers the value stored under ``key`` or computes, stores and
answers it. The key must name the version of every input (patterns sheet, section 4, C2): a
change of the inputs makes a new key, an old entry is never read again and expires. The store
is Redis when ``PORTAL_REDIS_URL`` is configured, else the ``shared_figure`` table, so every
host sharing the database shares the figures.

- Add-if-absent: a fill never overwrites an entry (``SET NX`` / ``INSERT ... ON CONFLICT DO
  NOTHING``), so a slow worker cannot replace a newer value under the same key.
- Stampede protection: the first worker claims ``lock:<key>`` (add-if-absent with a short
  expiry) and computes; the others poll the store for up to ``wait`` seconds instead of all
  computing at once, then compute themselves if the claimant died.
- A failing store is not an error: the value is computed and answered, just not shared.

Values are pickled: they are written by the portal itself, never by users.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import DateTime, LargeBinary, String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base
from portal.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

FORMAT = "v1"  # bump when what is pickled changes shape (C3: version the renderer too)
PREFIX = "portal:figures:"
LOCK_SECONDS = 30
POLL_SECONDS = 0.05
EXTENSION = "portal_shared_figures"


class SharedFigure(Base):
    """One stored value (or a claim, ``lock:<key>``, while a worker computes it). Not tenant
    scoped: the key names the tenant."""

    __tablename__ = "shared_figure"
    affects_pages = False

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def key_for(namespace: str, *versions: Any) -> str:
    """A short stable key: the namespace and a digest of the inputs' versions (any values
    with a stable ``repr``)."""
    digest = hashlib.sha256(repr((FORMAT, *versions)).encode()).hexdigest()[:40]
    return f"{namespace}:{digest}"


# --- stores -----------------------------------------------------------------------------------


class DatabaseStore:
    """The ``shared_figure`` table, written on its own connection and committed at once (the
    request's transaction may be read-only or roll back)."""

    def get(self, key: str) -> bytes | None:
        table = SharedFigure.__table__
        with db.engine.connect() as conn:
            return conn.scalar(
                select(table.c.value).where(table.c.key == key, table.c.expires_at > _now())
            )

    def add(self, key: str, value: bytes, seconds: float) -> bool:
        table = SharedFigure.__table__
        now = _now()
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key == key, table.c.expires_at <= now))
            module = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = module.insert(table).values(
                key=key, value=value, expires_at=now + timedelta(seconds=seconds)
            )
            # RETURNING, not rowcount: psycopg reports no row count for this statement.
            done = conn.execute(
                stmt.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
            )
            return done.first() is not None

    def delete(self, key: str) -> None:
        table = SharedFigure.__table__
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key == key))

    def purge(self) -> int:
        """Remove expired entries (old versions' values and dead claims)."""
        table = SharedFigure.__table__
        with db.engine.begin() as conn:
            return conn.execute(delete(table).where(table.c.expires_at <= _now())).rowcount


class RedisStore:
    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)

    def get(self, key: str) -> bytes | None:
        return self.redis.get(PREFIX + key)

    def add(self, key: str, value: bytes, seconds: float) -> bool:
        return bool(self.redis.set(PREFIX + key, value, nx=True, px=int(seconds * 1000)))

    def delete(self, key: str) -> None:
        self.redis.delete(PREFIX + key)

    def purge(self) -> int:
        return 0  # Redis expires entries itself


def store():
    extensions = current_app.extensions
    found = extensions.get(EXTENSION)
    if found is None:
        url = current_app.config.get("REDIS_URL")
        found = extensions.setdefault(EXTENSION, RedisStore(url) if url else DatabaseStore())
    return found


class _Held(threading.local):
    """The claims this thread holds while it computes their values."""

    def __init__(self) -> None:
        self.keys: set[str] = set()


_held = _Held()


def _now() -> datetime:
    return datetime.now(UTC)


def _quietly(action: Callable[[], T], default: T) -> T:
    try:
        return action()
    except (SQLAlchemyError, OSError, ConnectionError) as exc:  # redis errors are OSErrors too
        log.warning("shared figures store unavailable: %s", exc)
        return default


def shared_value(
    key: str, compute: Callable[[], T], *, seconds: float = 86400, wait: float = 10.0
) -> T:
    """The value under ``key``: stored by any worker, or computed here (once across workers
    while a claim holds) and stored add-if-absent."""
    backend = store()
    found = _quietly(lambda: backend.get(key), None)
    if found is not None:
        return pickle.loads(found)  # noqa: S301 - written by the portal only
    lock = f"lock:{key}"
    if lock in _held.keys:
        return compute()  # asked again while computing it here: waiting would wait on itself
    claimed = _quietly(lambda: backend.add(lock, b"", LOCK_SECONDS), True)
    if not claimed:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            found = _quietly(lambda: backend.get(key), None)
            if found is not None:
                return pickle.loads(found)  # noqa: S301 - written by the portal only
    if claimed:
        _held.keys.add(lock)
    try:
        return _compute_and_add(backend, key, compute, seconds)
    finally:
        if claimed:
            _held.keys.discard(lock)
            _quietly(lambda: backend.delete(lock), None)


def _compute_and_add(backend, key: str, compute: Callable[[], T], seconds: float) -> T:
    value = compute()
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    _quietly(lambda: backend.add(key, data, seconds), False)
    return value
