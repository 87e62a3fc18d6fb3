"""What a process keeps between requests, in one registry.

A *keep* is a bounded mapping of one process, in ``app.extensions`` under its name: a hit
moves an entry to the end, and the oldest entry goes first when it is full (an LRU). Every
keep's key holds the versions of what its value was worked out from (the cache scopes of
:mod:`portal.tenancy.versioning`, the region's ``data_version``, a fingerprint of the rounds),
so a keep is never emptied to stay correct, only bounded to save memory.

``forget_all(app)`` empties every keep of the app at once: the tests count the queries of cold
renders with it. A plugin keeps what it works out through the same class
(``portal.toolkit.Keep``), so it is forgotten with the rest.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app, has_request_context, request

_KEEPS: dict[str, Keep] = {}
_FORGETTERS: list[Callable[[Any], None]] = []


class Keep:
    """A named keep of at most ``at_most`` entries per app (one per process)."""

    def __init__(self, name: str, at_most: int) -> None:
        if at_most < 1:
            raise ValueError("a keep holds one entry at least")
        self.name = name
        self.at_most = at_most
        _KEEPS[name] = self

    def _entries(self, app=None) -> _Entries:
        extensions = (app or current_app).extensions
        found = extensions.get(self.name)
        if found is None:
            found = extensions.setdefault(self.name, _Entries(self.at_most))
        return found

    def get(self, key: Hashable) -> Any:
        """The value kept under ``key``, or None."""
        return self._entries().get(key)

    def put(self, key: Hashable, value: Any) -> Any:
        """Keep ``value`` under ``key`` (the oldest entry goes when full); answer it."""
        self._entries().put(key, value)
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value kept under ``key``, made and kept first when there is none."""
        found = self.get(key)
        return found if found is not None else self.put(key, make())

    def __len__(self) -> int:
        return len(self._entries())

    def forget(self, app=None) -> None:
        self._entries(app).clear()


class _Entries:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # a threaded worker's requests share the process

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def reading_request() -> bool:
    """Whether a keep may answer now: in a reading request (GET, HEAD), which cannot have
    changed what a key's versions stand for in its own transaction."""
    return has_request_context() and request.method in ("GET", "HEAD")


def on_forget(forget: Callable[[Any], None]) -> Callable[[Any], None]:
    """Also call ``forget(app)`` in ``forget_all``: for what is kept another way (a plugin
    host's switches, kept on the host)."""
    if forget not in _FORGETTERS:
        _FORGETTERS.append(forget)
    return forget


def forget_all(app) -> None:
    """Empty every keep of ``app``."""
    for keep in _KEEPS.values():
        keep.forget(app)
    for forget in _FORGETTERS:
        forget(app)


def names() -> list[str]:
    """The keeps made so far (a keep is made when its module is imported)."""
    return sorted(_KEEPS)


def named(name: str) -> Keep:
    """The keep made under ``name``."""
    return _KEEPS[name]
