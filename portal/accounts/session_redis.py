"""Sign-in sessions in Redis (``PORTAL_REDIS_URL``), the database when Redis is down.

A session is a hash ``<prefix>:session:<sha256>`` that expires after the idle time (renewed
when the last-seen time is written) and never outlives the absolute lifetime; each user has a
set ``<prefix>:user-sessions:<id>`` of their session hashes. While Redis cannot be reached,
sessions start in the database and are looked up there too (said once in the log); a session
not found in Redis is looked for in the database, so those go on after Redis is back.

Ending a session stays done when Redis cannot be reached to end it (signing out, "sign out
everywhere", a password change, a deactivation): the database records it, and a session found
in Redis is refused (and deleted there) when its id is in ``ended_session`` or it started at
or before its user's ``sessions_valid_after``. Both are read in the one query that loads the
user, as the user alone was. (A session kept by a password change is ended too if it lives in
Redis and Redis fails between the request's lookup and the change: one signs in again.)
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import redis
from sqlalchemy import delete, insert, select, update

from portal.accounts.models import EndedSession, User
from portal.accounts.sessions import DatabaseSessions, SessionInfo, _aware
from portal.extensions import db

log = logging.getLogger(__name__)
RETRY_SECONDS = 30


class RedisSessions:
    kind = "redis"

    def __init__(self, url: str, config, database: DatabaseSessions):
        self.database = database
        self.idle = database.idle
        self.lifetime = database.lifetime
        self.prefix = f"{config.get('RATELIMIT_KEY_PREFIX') or 'portal'}:"
        self.client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        parts = urlsplit(url)
        self.where = f"{parts.hostname}:{parts.port or 6379}{parts.path}"
        self._down_since: float | None = None

    # --- keeping track of an outage ------------------------------------------------------

    def _usable(self) -> bool:
        return self._down_since is None or time.monotonic() - self._down_since > RETRY_SECONDS

    def _failed(self, exc: Exception) -> None:
        if self._down_since is None:
            log.warning(
                "sign-in sessions: Redis at %s cannot be reached (%s); new sessions are kept "
                "in the database until it is back",
                self.where,
                exc,
            )
        self._down_since = time.monotonic()

    def _worked(self) -> None:
        if self._down_since is not None:
            log.warning("sign-in sessions: Redis at %s is back", self.where)
            self._down_since = None

    def _key(self, hashed: str) -> str:
        return f"{self.prefix}session:{hashed}"

    def _user_key(self, user_id: int) -> str:
        return f"{self.prefix}user-sessions:{user_id}"

    # --- what the database keeps of sessions ended while Redis was down ----------------------

    def _record_ended(self, hashed: str) -> None:
        """Note in the database that the session is ended (the caller commits)."""
        log.warning(
            "sign-in sessions: Redis at %s cannot be reached to end a session; the database "
            "records it as ended",
            self.where,
        )
        now = datetime.now(UTC)
        # Older notes go: no session outlives the absolute lifetime.
        db.session.execute(delete(EndedSession).where(EndedSession.ended_at < now - self.lifetime))
        dialect = db.session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as upsert
            else:
                from sqlalchemy.dialects.sqlite import insert as upsert
            # The same session ended twice at once (another request, another worker): one note.
            statement = upsert(EndedSession).on_conflict_do_nothing(index_elements=["id"])
            db.session.execute(statement.values(id=hashed, ended_at=now))
        elif db.session.scalar(select(EndedSession.id).where(EndedSession.id == hashed)) is None:
            db.session.execute(insert(EndedSession).values(id=hashed, ended_at=now))

    def _record_user_ended(self, user_id: int) -> None:
        """Note that every session of the user started until now is ended (the caller
        commits). Core on the session's connection: no audit entry, and no page changes."""
        log.warning(
            "sign-in sessions: Redis at %s cannot be reached to end the sessions of user %s; "
            "the database records them as ended",
            self.where,
            user_id,
        )
        table = User.__table__
        db.session.connection().execute(
            update(table)
            .where(table.c.id == user_id)
            .values(sessions_valid_after=datetime.now(UTC))
        )

    @staticmethod
    def _ended_before(info: SessionInfo, user: User) -> bool:
        cutoff = user.sessions_valid_after
        return cutoff is not None and info.created_at <= _aware(cutoff)

    def _forget(self, info: SessionInfo) -> None:
        """Delete from Redis a session the database says is ended (it is refused anyway)."""
        try:
            pipe = self.client.pipeline()
            pipe.delete(self._key(info.id))
            pipe.srem(self._user_key(info.user_id), info.id)
            pipe.execute()
        except redis.RedisError as exc:
            self._failed(exc)

    def _ttl(self, info: SessionInfo, now: datetime) -> int:
        left = min(self.idle, info.created_at + self.lifetime - now)
        return max(1, int(left.total_seconds()) + 1)

    # --- the store ------------------------------------------------------------------------

    def add(self, info: SessionInfo) -> None:
        if self._usable():
            try:
                pipe = self.client.pipeline()
                pipe.hset(
                    self._key(info.id),
                    mapping={
                        "user_id": info.user_id,
                        "created_at": info.created_at.timestamp(),
                        "last_seen_at": info.last_seen_at.timestamp(),
                        "user_agent": info.user_agent,
                        "address": info.address,
                    },
                )
                pipe.expire(self._key(info.id), self._ttl(info, info.last_seen_at))
                pipe.sadd(self._user_key(info.user_id), info.id)
                pipe.expire(self._user_key(info.user_id), int(self.lifetime.total_seconds()))
                pipe.execute()
            except redis.RedisError as exc:
                self._failed(exc)
            else:
                self._worked()
                return
        self.database.add(info)

    def _get(self, hashed: str) -> SessionInfo | None:
        values = self.client.hgetall(self._key(hashed))
        if not values:
            return None
        v = {k.decode(): v.decode() for k, v in values.items()}
        return SessionInfo(
            id=hashed,
            user_id=int(v["user_id"]),
            created_at=datetime.fromtimestamp(float(v["created_at"]), UTC),
            last_seen_at=datetime.fromtimestamp(float(v["last_seen_at"]), UTC),
            user_agent=v.get("user_agent", ""),
            address=v.get("address", ""),
        )

    def find(self, hashed: str, user_id: int) -> tuple[SessionInfo, User] | None:
        if self._usable():
            try:
                info = self._get(hashed)
            except redis.RedisError as exc:
                self._failed(exc)
            else:
                self._worked()
                if info is not None:
                    if info.user_id != user_id:
                        return None
                    # The user, and whether the session was ended while Redis was down.
                    row = db.session.execute(
                        select(User, EndedSession.id)
                        .select_from(User)
                        .outerjoin(EndedSession, EndedSession.id == hashed)
                        .where(User.id == user_id)
                    ).first()
                    if row is None:
                        return None
                    user, ended = row
                    if ended is not None or self._ended_before(info, user):
                        self._forget(info)
                        return None
                    return info, user
        # Started while Redis was down (or unknown): the database says.
        return self.database.find(hashed, user_id)

    def touch(self, info: SessionInfo, now: datetime) -> None:
        try:
            if self.client.exists(self._key(info.id)):
                pipe = self.client.pipeline()
                pipe.hset(self._key(info.id), "last_seen_at", now.timestamp())
                pipe.expire(self._key(info.id), self._ttl(info, now))
                pipe.execute()
                return
        except redis.RedisError as exc:
            self._failed(exc)
        self.database.touch(info, now)

    def end(self, hashed: str) -> None:
        try:
            self.client.delete(self._key(hashed))
        except redis.RedisError as exc:
            self._failed(exc)
            self._record_ended(hashed)
        self.database.end(hashed)  # commits

    def end_user(self, user_id: int, keep: str | None = None) -> int:
        ended = 0
        try:
            hashes = {h.decode() for h in self.client.smembers(self._user_key(user_id))}
            hashes.discard(keep or "")
            if hashes:
                ended = self.client.delete(*(self._key(h) for h in hashes))
                self.client.srem(self._user_key(user_id), *hashes)
        except redis.RedisError as exc:
            self._failed(exc)
            # Sessions in Redis that started until now are refused once it is back. A kept one
            # is normally the database's: while Redis is down, its sessions sign nobody in.
            self._record_user_ended(user_id)
        return ended + self.database.end_user(user_id, keep=keep)  # commits

    def of_user(self, user_id: int) -> list[SessionInfo]:
        found: list[SessionInfo] = []
        try:
            hashes = [h.decode() for h in self.client.smembers(self._user_key(user_id))]
            gone = []
            for hashed in hashes:
                info = self._get(hashed)
                if info is None:
                    gone.append(hashed)
                else:
                    found.append(info)
            if gone:
                self.client.srem(self._user_key(user_id), *gone)
        except redis.RedisError as exc:
            self._failed(exc)
        if found:
            found = self._not_ended(user_id, found)
        return found + self.database.of_user(user_id)

    def _not_ended(self, user_id: int, found: list[SessionInfo]) -> list[SessionInfo]:
        """The sessions of ``found`` the database does not record as ended."""
        user = db.session.get(User, user_id)
        ended = set(
            db.session.scalars(
                select(EndedSession.id).where(EndedSession.id.in_([i.id for i in found]))
            )
        )
        return [
            info
            for info in found
            if user is not None and info.id not in ended and not self._ended_before(info, user)
        ]
