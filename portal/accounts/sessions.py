"""Sign-in sessions recorded on the server, so that signing out ends them.

The signed cookie holds ``"<user id>.<key>"`` (Flask-Login's user id; the remember-me
cookie holds the same), where the key is random; the store keeps the key's SHA-256 with the
device, the address and the last-seen time. A cookie whose session is not in the store (ended
at sign-out, by "sign out everywhere", a password change or a deactivation; or expired: idle
for ``SESSION_IDLE_MINUTES``, or older than ``SESSION_MAX_DAYS``) signs nobody in.

The store is the ``user_session`` table, or Redis when ``PORTAL_REDIS_URL`` is configured
(:mod:`portal.accounts.session_redis`); the last-seen time is written at most once a minute.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, request
from flask_login import login_user, logout_user
from sqlalchemy import delete, insert, select, update

from portal.accounts.models import User, UserSession
from portal.extensions import db, login_manager

log = logging.getLogger(__name__)
EXTENSION = "portal_sessions"
# The last-seen time is written at most this often (fewer writes; the idle limit allows it).
TOUCH_SECONDS = 60


@dataclass
class SessionInfo:
    id: str  # the key's SHA-256: what the store keeps
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    user_agent: str = ""
    address: str = ""
    current: bool = False

    @property
    def device(self) -> str:
        return describe_device(self.user_agent)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back: they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def describe_device(user_agent: str) -> str:
    """'Firefox 128 on Windows 10' from the User-Agent (ua-parser's regexes)."""
    from ua_parser import parse

    if not user_agent:
        return ""
    result = parse(user_agent)
    browser = result.user_agent
    system = result.os
    parts = []
    if browser and browser.family != "Other":
        parts.append(" ".join(p for p in (browser.family, browser.major) if p))
    if system and system.family != "Other":
        parts.append(" ".join(p for p in (system.family, system.major) if p))
    return " · ".join(parts) or user_agent[:60]


class DatabaseSessions:
    """Sessions as rows of ``user_session``. ORM statements, not objects: they are not
    audited, and the model's ``affects_pages = False`` keeps every tenant's pages valid."""

    table = UserSession.__table__
    kind = "database"

    def __init__(self, idle: timedelta, lifetime: timedelta):
        self.idle = idle
        self.lifetime = lifetime

    def add(self, info: SessionInfo) -> None:
        # The user's expired sessions go now: the table keeps no dead rows for long.
        db.session.execute(
            delete(UserSession).where(
                UserSession.user_id == info.user_id,
                (UserSession.last_seen_at < info.last_seen_at - self.idle)
                | (UserSession.created_at < info.created_at - self.lifetime),
            )
        )
        db.session.execute(
            insert(UserSession).values(
                id=info.id,
                user_id=info.user_id,
                created_at=info.created_at,
                last_seen_at=info.last_seen_at,
                user_agent=info.user_agent,
                address=info.address,
            )
        )
        db.session.commit()

    def find(self, hashed: str, user_id: int) -> tuple[SessionInfo, User] | None:
        """The session and its user, in one query (the user was one query before)."""
        row = db.session.execute(
            select(User, self.table)
            .join(self.table, self.table.c.user_id == User.id)
            .where(self.table.c.id == hashed, User.id == user_id)
        ).first()
        if row is None:
            return None
        user, *values = row
        return self._info(values), user

    def touch(self, info: SessionInfo, now: datetime) -> None:
        db.session.execute(
            update(UserSession).where(UserSession.id == info.id).values(last_seen_at=now)
        )
        db.session.commit()

    def end(self, hashed: str) -> None:
        db.session.execute(delete(UserSession).where(UserSession.id == hashed))
        db.session.commit()

    def end_user(self, user_id: int, keep: str | None = None) -> int:
        statement = delete(UserSession).where(UserSession.user_id == user_id)
        if keep:
            statement = statement.where(UserSession.id != keep)
        ended = db.session.execute(statement).rowcount
        db.session.commit()
        return ended

    def of_user(self, user_id: int) -> list[SessionInfo]:
        rows = db.session.execute(select(self.table).where(self.table.c.user_id == user_id)).all()
        return [self._info(row) for row in rows]

    def _info(self, row) -> SessionInfo:
        (hashed, user_id, created_at, last_seen_at, user_agent, address) = tuple(row)[:6]
        return SessionInfo(
            hashed, user_id, _aware(created_at), _aware(last_seen_at), user_agent, address
        )


def init_sessions(app: Flask) -> None:
    idle = timedelta(minutes=float(app.config.get("SESSION_IDLE_MINUTES", 480)))
    lifetime = timedelta(days=float(app.config.get("SESSION_MAX_DAYS", 30)))
    database = DatabaseSessions(idle, lifetime)
    if app.config.get("REDIS_URL"):
        from portal.accounts.session_redis import RedisSessions

        store = RedisSessions(app.config["REDIS_URL"], app.config, database)
        log.info("sign-in sessions: kept in Redis (%s), the database when it is down", store.where)
    else:
        store = database
        log.info("sign-in sessions: kept in the database (table user_session)")
    app.extensions[EXTENSION] = store
    login_manager.user_loader(load_user)

    @app.before_request
    def _load_user_first():
        # The last-seen write commits: let it happen before the view writes anything.
        # The JSON API knows its caller by a token only (portal.api.setup), never a cookie.
        if request.path.startswith("/api/"):
            return
        if request.endpoint and request.endpoint.rsplit(".", 1)[-1] != "static":
            from flask_login import current_user

            current_user._get_current_object()


def store() -> DatabaseSessions:
    return current_app.extensions[EXTENSION]


def _expired(info: SessionInfo, now: datetime) -> bool:
    sessions = store()
    return now - info.last_seen_at > sessions.idle or now - info.created_at > sessions.lifetime


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user of a live session, else nobody."""
    ident, _, key = (user_id or "").partition(".")
    if not ident.isdigit() or not key:
        return None
    sessions = store()
    found = sessions.find(key_hash(key), int(ident))
    if found is None:
        return None
    info, user = found
    now = _now()
    if not user.active or _expired(info, now):
        sessions.end(info.id)
        return None
    if (now - info.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        sessions.touch(info, now)
    user.session_token = key
    return user


def sign_in(user: User, *, remember: bool = False) -> None:
    """Start a session for the user and put its key in the cookie."""
    key = secrets.token_urlsafe(32)
    now = _now()
    store().add(
        SessionInfo(
            id=key_hash(key),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            user_agent=(request.user_agent.string or "")[:300],
            address=(request.remote_addr or "")[:64],
        )
    )
    user.session_token = key
    login_user(user, remember=remember)


def current_hash(user: User) -> str | None:
    return key_hash(user.session_token) if getattr(user, "session_token", None) else None


def _cookie_hashes() -> set[str]:
    """The sessions the request's signed cookies name, whether or not they sign anyone in
    (while Redis is down a session kept there signs nobody in, yet signing out must end it)."""
    from flask import session
    from flask_login import COOKIE_NAME
    from flask_login.utils import decode_cookie

    values = [session.get("_user_id")]
    remembered = request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME))
    if remembered:
        values.append(decode_cookie(remembered))  # None unless its signature is right
    hashes = set()
    for value in values:
        ident, _, key = (value if isinstance(value, str) else "").partition(".")
        if ident.isdigit() and key:
            hashes.add(key_hash(key))
    return hashes


def sign_out(user: User | None) -> None:
    """End this session on the server and in the cookie: the user's, else the one the
    request's cookies name (signed in or not)."""
    hashed = current_hash(user) if user is not None else None
    for each in {hashed} if hashed else _cookie_hashes():
        store().end(each)
    logout_user()


def end_all(user_id: int, *, keep_current_of: User | None = None) -> int:
    """End every session of the user (but the current one of ``keep_current_of``)."""
    keep = current_hash(keep_current_of) if keep_current_of is not None else None
    return store().end_user(user_id, keep=keep)


def end_one(user: User, hashed: str) -> bool:
    """End one of the user's own sessions; False when it is not theirs (or gone)."""
    if not any(info.id == hashed for info in store().of_user(user.id)):
        return False
    store().end(hashed)
    return True


def sessions_of(user: User) -> list[SessionInfo]:
    """The user's live sessions, the current one first, then the latest seen."""
    now = _now()
    current = current_hash(user)
    live = [info for info in store().of_user(user.id) if not _expired(info, now)]
    for info in live:
        info.current = info.id == current
    return sorted(live, key=lambda i: (not i.current, -i.last_seen_at.timestamp()))
