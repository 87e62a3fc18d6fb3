"""Configuration from ``PORTAL_*`` environment variables.

Nothing set means: SQLite in the instance folder and a secret key generated once
and kept there, so a fresh checkout runs with nothing to start.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

SUPPORTED_LOCALES = ("en", "nb", "da", "it", "sv", "de")


def _secret_key(instance_path: Path) -> str:
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: Path) -> dict:
    env = os.environ
    instance_path.mkdir(parents=True, exist_ok=True)
    database_url = env.get("PORTAL_DATABASE_URL") or f"sqlite:///{instance_path / 'portal.db'}"
    redis_url = env.get("PORTAL_REDIS_URL")
    return {
        "SECRET_KEY": env.get("PORTAL_SECRET_KEY") or _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # SQLite (the embedded default): write-ahead logging, so a page read never waits for
        # a writer (a long import, say) and a writer never for readers; off only where the
        # file lies on a network file system, which cannot share WAL's memory map. A write
        # waits for another write at most SQLITE_BUSY_MS, then answers 503 (nothing written).
        "SQLITE_WAL": _bool(env.get("PORTAL_SQLITE_WAL"), default=True),
        "SQLITE_BUSY_MS": int(env.get("PORTAL_SQLITE_BUSY_MS", 5000)),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": env.get("PORTAL_RATELIMIT_PREFIX", "portal"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis unreachable: limits fall back to this process's memory (the log says so).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": (
            {"socket_connect_timeout": 1, "socket_timeout": 1} if redis_url else {}
        ),
        # Each address's requests to the public label register (pages, downloads, feeds).
        "PUBLIC_REGISTER_RATE_LIMIT": env.get(
            "PORTAL_PUBLIC_REGISTER_RATE_LIMIT", "120 per minute;2000 per hour"
        ),
        "LOGIN_RATE_LIMIT": env.get("PORTAL_LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        # Failed sign-ins (portal.accounts.throttle): per account and address, per address,
        # and per account (which only makes the pairs that failed stricter).
        "LOGIN_PAIR_LIMIT": env.get("PORTAL_LOGIN_PAIR_LIMIT", "5 per 15 minutes;20 per day"),
        "LOGIN_ATTACKED_PAIR_LIMIT": env.get(
            "PORTAL_LOGIN_ATTACKED_PAIR_LIMIT", "2 per 15 minutes"
        ),
        "LOGIN_ACCOUNT_LIMIT": env.get("PORTAL_LOGIN_ACCOUNT_LIMIT", "20 per hour"),
        "LOGIN_ADDRESS_LIMIT": env.get("PORTAL_LOGIN_ADDRESS_LIMIT", "30 per hour;100 per day"),
        # Sign-in sessions (portal.accounts.sessions): idle time and absolute lifetime.
        "SESSION_IDLE_MINUTES": float(env.get("PORTAL_SESSION_IDLE_MINUTES", 480)),
        "SESSION_MAX_DAYS": float(env.get("PORTAL_SESSION_MAX_DAYS", 30)),
        "REMEMBER_COOKIE_DURATION": timedelta(days=float(env.get("PORTAL_SESSION_MAX_DAYS", 30))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("PORTAL_SECURE_COOKIES")),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # the session bounds the token's life
        "WTF_I18N_ENABLED": True,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "MAX_CONTENT_LENGTH": int(env.get("PORTAL_MAX_UPLOAD_BYTES", 25 * 1024 * 1024)),
        "FILE_MAX_BYTES": int(env.get("PORTAL_MAX_FILE_BYTES", 20 * 1024 * 1024)),
        "FILE_MAX_PIXELS": int(env.get("PORTAL_MAX_IMAGE_PIXELS", 50_000_000)),
        "UPLOAD_DIR": env.get("PORTAL_UPLOAD_DIR") or str(instance_path / "uploads"),
        # Where uploads are kept (portal.files.storage): "local" (UPLOAD_DIR) or "s3" (a bucket
        # of S3-compatible object storage; credentials the standard boto way, AWS_* or ~/.aws).
        "STORAGE_BACKEND": env.get("PORTAL_STORAGE", "local"),
        "S3_BUCKET": env.get("PORTAL_S3_BUCKET"),
        "S3_ENDPOINT_URL": env.get("PORTAL_S3_ENDPOINT_URL"),
        "S3_REGION": env.get("PORTAL_S3_REGION") or env.get("AWS_REGION"),
        "S3_PREFIX": env.get("PORTAL_S3_PREFIX", ""),
        # "path" for most self-hosted servers (MinIO, Ceph), "virtual" or "auto" for AWS.
        "S3_ADDRESSING_STYLE": env.get("PORTAL_S3_ADDRESSING", "auto"),
        # Above 0: downloads redirect to a presigned address valid this many seconds.
        "S3_PRESIGNED_SECONDS": int(env.get("PORTAL_S3_PRESIGNED_SECONDS", 0)),
        "S3_TIMEOUT": float(env.get("PORTAL_S3_TIMEOUT", 10)),
        "MAIL_SERVER": env.get("PORTAL_SMTP_HOST"),
        "MAIL_PORT": int(env.get("PORTAL_SMTP_PORT", 587)),
        "MAIL_USERNAME": env.get("PORTAL_SMTP_USER"),
        "MAIL_PASSWORD": env.get("PORTAL_SMTP_PASSWORD"),
        "MAIL_USE_TLS": _bool(env.get("PORTAL_SMTP_TLS"), default=True),
        "MAIL_SENDER": env.get("PORTAL_MAIL_SENDER", "portal@localhost"),
        # Jobs (portal.jobs): a Celery broker (Redis or RabbitMQ); none: delivered in-process.
        "BROKER_URL": env.get("PORTAL_BROKER_URL"),
        "BROKER_QUEUE": env.get("PORTAL_BROKER_QUEUE", "portal"),
        # A confirmed import of this many rows or more is written by a job (portal.imports.jobs)
        "IMPORT_JOB_ROWS": int(env.get("PORTAL_IMPORT_JOB_ROWS", 2000)),
        # An upload of this many bytes or more is checked by a job too (no request waits)
        "IMPORT_CHECK_JOB_BYTES": int(env.get("PORTAL_IMPORT_CHECK_JOB_BYTES", 256 * 1024)),
        "IMPORT_CHECK_JOB_ROWS": int(env.get("PORTAL_IMPORT_CHECK_JOB_ROWS", 3000)),
        # Redis broker: a task not acknowledged by then (its worker died) goes to another.
        "BROKER_VISIBILITY_TIMEOUT": float(env.get("PORTAL_BROKER_VISIBILITY_TIMEOUT", 3600)),
        # Where `portal worker --beat` keeps when each job last ran (default: the instance folder).
        "BEAT_SCHEDULE_FILE": env.get("PORTAL_BEAT_SCHEDULE"),
        "OUTBOX_SWEEP_SECONDS": float(env.get("PORTAL_OUTBOX_SWEEP_SECONDS", 60)),
        "REMINDERS_HOUR": int(env.get("PORTAL_REMINDERS_HOUR", 6)),
        # Delivery (portal.mail.delivery): waits between tries (seconds), then a dead letter.
        "MAIL_RETRY_DELAYS": [
            float(s)
            for s in env.get("PORTAL_MAIL_RETRY_DELAYS", "60,300,1800,7200,21600").split(",")
        ],
        "MAIL_CLAIM_SECONDS": float(env.get("PORTAL_MAIL_CLAIM_SECONDS", 300)),
        "MAIL_TIMEOUT": float(env.get("PORTAL_SMTP_TIMEOUT", 20)),
        # Webhooks (portal.webhooks): where they may send, how long a try waits, the retries.
        "WEBHOOK_ALLOW_HTTP": _bool(env.get("PORTAL_WEBHOOK_ALLOW_HTTP")),
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": _bool(env.get("PORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS")),
        "WEBHOOK_TIMEOUT": float(env.get("PORTAL_WEBHOOK_TIMEOUT", 10)),
        "WEBHOOK_MAX_ATTEMPTS": int(env.get("PORTAL_WEBHOOK_MAX_ATTEMPTS", 8)),
        "WEBHOOK_BACKOFF_SECONDS": float(env.get("PORTAL_WEBHOOK_BACKOFF_SECONDS", 30)),
        "WEBHOOK_BACKOFF_MAX_SECONDS": float(env.get("PORTAL_WEBHOOK_BACKOFF_MAX_SECONDS", 21600)),
        "WEBHOOK_CLAIM_SECONDS": float(env.get("PORTAL_WEBHOOK_CLAIM_SECONDS", 120)),
        # Without a broker: no new try starts after the request once this is spent.
        "WEBHOOK_INLINE_SECONDS": float(env.get("PORTAL_WEBHOOK_INLINE_SECONDS", 5)),
        "PASSWORD_RESET_MAX_AGE": 3600 * 2,
        "INVITATION_MAX_AGE": 3600 * 24 * 14,
        "PORTAL_BASE_URL": env.get("PORTAL_BASE_URL"),
        # Behind a TLS-terminating proxy: trust one X-Forwarded-For/-Proto hop.
        "PROXY_FIX": _bool(env.get("PORTAL_PROXY_FIX")),
        # Rendered pages kept per worker for revisits (portal.web.page_cache); 0 turns it off.
        "PAGE_CACHE_MB": float(env.get("PORTAL_PAGE_CACHE_MB", 64)),
        "PAGE_CACHE_SECONDS": float(env.get("PORTAL_PAGE_CACHE_SECONDS", 600)),
        "PORTAL_DISABLED_PLUGINS": [
            p.strip() for p in env.get("PORTAL_DISABLED_PLUGINS", "").split(",") if p.strip()
        ],
    }
