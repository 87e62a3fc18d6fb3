"""Failed sign-ins: counted per account, per address and per (account, address) pair.

A stranger must not be able to lock the owner out, so nothing ever refuses the right password
from an address that has not failed: the back-off is per (account, address) pair
(``LOGIN_PAIR_LIMIT``: failures allowed in each window; the next try waits for the window),
stricter while the account as a whole draws many failures (``LOGIN_ACCOUNT_LIMIT`` exceeded:
``LOGIN_ATTACKED_PAIR_LIMIT`` for every pair that has failed), and per address over all
accounts (``LOGIN_ADDRESS_LIMIT``: password spraying). Flask-Limiter's limit on the sign-in
form (``LOGIN_RATE_LIMIT``, every try of an address) stays as well.

The counters live in the rate limiter's storage: Redis when ``PORTAL_REDIS_URL`` is set
(shared by every worker and host), else this process's memory, which is right for one process
with threads (``portal serve`` runs one then). With Redis unreachable they fall back to memory
and the log says so; they go back to Redis once it answers again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from urllib.parse import urlsplit

from flask import Flask, current_app
from limits import parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)
EXTENSION = "portal_login_throttle"
RETRY_SECONDS = 30


def _where(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"


class LoginThrottle:
    def __init__(self, config):
        uri = config.get("RATELIMIT_STORAGE_URI") or "memory://"
        self.shared = not uri.startswith("memory://")
        self.where = _where(uri) if self.shared else "memory"
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._primary = (
            MovingWindowRateLimiter(
                storage_from_string(uri, **(config.get("RATELIMIT_STORAGE_OPTIONS") or {}))
            )
            if self.shared
            else self._memory
        )
        self._down_since: float | None = None
        self.prefix = f"{config.get('RATELIMIT_KEY_PREFIX') or 'portal'}-login"
        self.pair = parse_many(config["LOGIN_PAIR_LIMIT"])
        self.attacked_pair = parse_many(config["LOGIN_ATTACKED_PAIR_LIMIT"])
        self.account = parse_many(config["LOGIN_ACCOUNT_LIMIT"])
        self.address = parse_many(config["LOGIN_ADDRESS_LIMIT"])

    # --- storage, with the fallback ------------------------------------------------------

    def _run(self, work):
        """``work(limiter)`` on the shared storage; on this process's memory while it is
        down (tried again every RETRY_SECONDS)."""
        if self._primary is not self._memory and (
            self._down_since is None or time.monotonic() - self._down_since > RETRY_SECONDS
        ):
            try:
                result = work(self._primary)
            except Exception as exc:  # any storage error: limits wraps its drivers' errors
                if self._down_since is None:
                    log.warning(
                        "sign-in limits: the storage at %s cannot be reached (%s); failed "
                        "sign-ins are counted in this process's memory until it is back",
                        self.where,
                        exc,
                    )
                self._down_since = time.monotonic()
            else:
                if self._down_since is not None:
                    log.warning("sign-in limits: the storage at %s is back", self.where)
                    self._down_since = None
                return result
        return work(self._memory)

    # --- identifiers ----------------------------------------------------------------------

    def _ids(self, email: str, address: str) -> tuple[str, str]:
        account = hashlib.sha256(email.encode()).hexdigest()[:32]
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            net = address or "unknown"
        else:
            # One IPv6 host usually has a whole /64: count it as one address.
            net = (
                str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
            )
        return account, net

    # --- the rules ------------------------------------------------------------------------

    def wait(self, email: str, address: str) -> int:
        """Seconds this (account, address) must wait before the password is checked; 0: go."""
        account, net = self._ids(email, address)

        def work(limiter) -> float:
            attacked = any(
                not limiter.test(item, self.prefix, "account", account) for item in self.account
            )
            checks = [(item, ("pair", account, net)) for item in self.pair]
            if attacked:
                checks += [(item, ("attacked", account, net)) for item in self.attacked_pair]
            checks += [(item, ("address", net)) for item in self.address]
            reset = 0.0
            for item, ids in checks:
                if not limiter.test(item, self.prefix, *ids):
                    stats = limiter.get_window_stats(item, self.prefix, *ids)
                    reset = max(reset, stats.reset_time - time.time())
            return reset

        if not current_app.config.get("RATELIMIT_ENABLED", True):
            return 0
        return max(0, math.ceil(self._run(work)))

    def failed(self, email: str, address: str) -> None:
        account, net = self._ids(email, address)

        def work(limiter) -> None:
            for item in self.pair:
                limiter.hit(item, self.prefix, "pair", account, net)
            for item in self.attacked_pair:
                limiter.hit(item, self.prefix, "attacked", account, net)
            for item in self.account:
                limiter.hit(item, self.prefix, "account", account)
            for item in self.address:
                limiter.hit(item, self.prefix, "address", net)

        if current_app.config.get("RATELIMIT_ENABLED", True):
            self._run(work)

    def succeeded(self, email: str, address: str) -> None:
        """The right password from this address: its pair starts afresh."""
        account, net = self._ids(email, address)

        def work(limiter) -> None:
            for item in self.pair:
                limiter.clear(item, self.prefix, "pair", account, net)
            for item in self.attacked_pair:
                limiter.clear(item, self.prefix, "attacked", account, net)

        if current_app.config.get("RATELIMIT_ENABLED", True):
            self._run(work)


def init_login_throttle(app: Flask) -> None:
    throttle = LoginThrottle(app.config)
    app.extensions[EXTENSION] = throttle
    if throttle.shared:
        log.info("sign-in limits: shared by every worker in %s", throttle.where)
    else:
        log.info(
            "sign-in limits: kept in this process's memory (no PORTAL_REDIS_URL): right for "
            "one worker process with threads"
        )


def login_throttle() -> LoginThrottle:
    return current_app.extensions[EXTENSION]
