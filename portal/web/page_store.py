"""Where rendered pages are kept: Redis when ``PORTAL_REDIS_URL`` is set (shared by every
worker and host), else a byte-bounded LRU in the process.

Keys are ``<prefix>:page:<tenant id>:<sha256 of the page key>`` (``<prefix>`` is
``PORTAL_RATELIMIT_PREFIX``, ``portal`` by default), so one region's pages can be found and a
shared Redis keeps apps apart. Every entry expires after ``PORTAL_PAGE_CACHE_SECONDS``: old
versions are never deleted, they age out. Fills are add-if-absent (``SET NX``): the key holds
the versions read *before* the page was computed, so a page filled while a write committed lands
under versions no later request asks for. While Redis cannot be reached the process's own LRU
is used (said once in the log) and Redis is tried again after ``RETRY_SECONDS``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import redis

log = logging.getLogger(__name__)
RETRY_SECONDS = 30


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    headers: tuple[tuple[str, str], ...]
    stored_at: float
    # The reader's own parts: (template, context) per placeholder (portal.web.personal).
    parts: tuple = ()
    # Under a kind of reader's key: "this page is kept per reader" (its render read who).
    per_reader: bool = False
    # The wall-clock moment (epoch seconds) from which the page is out of date though no data
    # changed (it lists something that expires then); None: only its age counts.
    until: float | None = None
    # A frame's holes: the name and arguments of each kept fragment (portal.web.page_frames).
    holes: tuple = ()

    def outdated(self) -> bool:
        return self.until is not None and time.time() >= self.until

    @classmethod
    def for_each_reader(cls) -> CachedPage:
        return cls(b"", (), time.monotonic(), per_reader=True)

    def dumps(self) -> bytes:
        meta = {
            "headers": self.headers,
            "parts": self.parts,
            "per_reader": self.per_reader,
            "until": self.until,
            "holes": self.holes,
        }
        return json.dumps(meta).encode() + b"\n" + self.body

    @classmethod
    def loads(cls, data: bytes) -> CachedPage:
        meta, _, body = data.partition(b"\n")
        fields = json.loads(meta)
        return cls(
            body,
            tuple(tuple(pair) for pair in fields["headers"]),
            time.monotonic(),
            tuple((template, context) for template, context in fields["parts"]),
            bool(fields["per_reader"]),
            fields.get("until"),
            tuple((name, tuple(key)) for name, key in fields.get("holes", ())),
        )


class PageCache:
    """A byte-bounded LRU of rendered pages (one per process, thread-safe)."""

    kind = "memory"

    def __init__(self, max_bytes: int, max_age_s: float) -> None:
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._pages: OrderedDict[tuple, CachedPage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if (
                page is None
                or time.monotonic() - page.stored_at > self.max_age_s
                or page.outdated()
            ):
                if page is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: tuple, page: CachedPage) -> None:
        size = len(page.body)
        if size > self.max_bytes // 4:
            return  # one page must not push out all the others
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = page
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)

    def _drop(self, key: tuple) -> None:
        self._bytes -= len(self._pages.pop(key).body)


class RedisPageCache:
    """Pages in Redis, shared by workers and hosts; the in-process LRU while Redis is down."""

    kind = "redis"

    def __init__(self, url: str, prefix: str, fallback: PageCache) -> None:
        self.client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self.prefix = f"{prefix}:page:"
        self.fallback = fallback
        self.max_bytes = fallback.max_bytes
        self.max_age_s = fallback.max_age_s
        self._down_since: float | None = None

    def key(self, key: tuple) -> str:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()
        return f"{self.prefix}{key[0]}:{digest}"  # key[0]: the tenant's id

    def _usable(self) -> bool:
        return self._down_since is None or time.monotonic() - self._down_since > RETRY_SECONDS

    def _failed(self, exc: Exception) -> None:
        if self._down_since is None:
            log.warning("page cache: Redis cannot be reached (%s); pages kept in-process", exc)
        self._down_since = time.monotonic()

    def get(self, key: tuple) -> CachedPage | None:
        if not self._usable():
            return self.fallback.get(key)
        try:
            data = self.client.get(self.key(key))
        except redis.RedisError as exc:
            self._failed(exc)
            return self.fallback.get(key)
        self._down_since = None
        if data is None:
            return None
        try:
            page = CachedPage.loads(data)
        except (ValueError, KeyError, TypeError):
            return None  # kept by an older release: rendered afresh
        return None if page.outdated() else page

    def put(self, key: tuple, page: CachedPage) -> None:
        if len(page.body) > self.max_bytes // 4:
            return
        if not self._usable():
            self.fallback.put(key, page)
            return
        try:
            age = (
                self.max_age_s
                if page.until is None
                else min(self.max_age_s, page.until - time.time())
            )
            ttl = max(1, math.ceil(age))
            self.client.set(self.key(key), page.dumps(), ex=ttl, nx=True)
        except redis.RedisError as exc:
            self._failed(exc)
            self.fallback.put(key, page)

    def clear(self) -> None:
        self.fallback.clear()
        try:
            for name in self.client.scan_iter(f"{self.prefix}*", count=500):
                self.client.delete(name)
        except redis.RedisError as exc:
            self._failed(exc)

    def __len__(self) -> int:
        return len(self.fallback)
