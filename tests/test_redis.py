"""With PORTAL_REDIS_URL set, the sign-in limit is shared by every worker (real Redis)."""

from __future__ import annotations

import os

import pytest

from tests.redis_support import REDIS_URL


def _redis_available() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not _redis_available() and os.environ.get("CI") != "true",
        reason=f"no Redis server at {REDIS_URL}",
    ),
]


@pytest.fixture
def redis_db():
    """The test's own Redis database index, empty before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def test_login_limit_is_shared_between_workers(make_app, world, monkeypatch, redis_db):
    monkeypatch.setenv("PORTAL_REDIS_URL", REDIS_URL)
    config = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "4 per minute"}
    worker_one = make_app(config)
    worker_two = make_app(config)
    assert worker_one.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    codes = []
    for worker in (worker_one, worker_two, worker_one, worker_two, worker_one):
        response = worker.test_client().post(
            "/login", data={"email": "coord@a.example", "password": "bad-password"}
        )
        codes.append(response.status_code)
    assert codes == [422, 422, 422, 422, 429]
    assert any(b"auth.login" in key for key in redis_db.scan_iter("LIMITS*"))
