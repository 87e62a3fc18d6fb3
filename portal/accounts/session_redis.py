"""Sign-in sessions in Redis (``PORTAL_REDIS_URL``), the database when Redis is down.

A session is a hash ``<prefix>:session:<sha256>`` that expires after the idle time (renewed
when the last-seen time is written) and never outlives the absolute lifetime; each user has a
set ``<prefix>:user-sessions:<id>`` of their session hashes. While Redis cannot be reached,
sessions start in the database and are looked up there too (said once in the log); a session
not found in Redis is looked for in the database, so those go on after Redis is back.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import redis

from portal.accounts.models import User
from portal.accounts.sessions import DatabaseSessions, SessionInfo
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
                    user = db.session.get(User, user_id)
                    return (info, user) if user is not None else None
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
        self.database.end(hashed)

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
        return ended + self.database.end_user(user_id, keep=keep)

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
        return found + self.database.of_user(user_id)
