"""The Redis the tests use (a database of its own), and a skip where it is missing.

CI (CI=true) runs these tests: there a missing Redis fails them rather than skipping."""

from __future__ import annotations

import os

import pytest


def for_this_worker(url: str) -> str:
    """Under pytest-xdist, a Redis database of each worker's own (gw1 four below gw0, and so
    on): some tests empty theirs. CI's two runs start at 15 and 14."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw") or 0)
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number or 0) - 4 * index}" if index else url


REDIS_URL = for_this_worker(os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))


def redis_client():
    """A client of the tests' Redis, or None when it does not answer."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
    except redis.RedisError:
        return None
    return client


needs_redis = pytest.mark.skipif(
    redis_client() is None and os.environ.get("CI") != "true", reason="no Redis"
)
