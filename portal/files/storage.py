"""Where uploaded bytes live: one interface, two backends.

Every stored upload (workshop materials, action attachments, the spreadsheets an import keeps
between its check and its confirmation) is saved, read and deleted here, never by path. The
backend is chosen by configuration (``STORAGE_BACKEND``, env ``PORTAL_STORAGE``):

- ``local`` (default): a folder (``UPLOAD_DIR``, the instance folder's ``uploads``). A key is a
  relative path in it; keys from before this layer (bare hex names) keep working unchanged.
- ``s3``: a bucket of S3-compatible object storage through boto3, so that every host of the
  portal serves every file (:mod:`portal.files.s3`).

Keys are namespaced per tenant (:func:`tenant_key`): ``t<tenant id>/<area>/<random>``. The
database row that names a key belongs to a tenant and is found through portal.tenancy, so the
namespace is a second fence, and it lets an operator list or remove one region's objects.

A backend that cannot be reached or refuses raises :class:`StorageUnavailable` (the web pages
answer 503 with a translated message); a key that is not there raises :class:`ObjectMissing`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, current_app

KEY = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_.-]+)*")
CHUNK = 1024 * 1024


class StorageUnavailable(Exception):
    """The backend could not be reached, or refused (credentials, bucket, permissions)."""


class ObjectMissing(Exception):
    """No object under this key (removed meanwhile, or never written to this backend)."""


class StoredObject(Protocol):
    def read(self, amount: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class Storage(Protocol):
    name: str

    def save(self, key: str, stream: BinaryIO, content_type: str) -> None: ...

    def open(self, key: str) -> StoredObject: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def iter_keys(self, prefix: str = "") -> Iterator[str]: ...

    def url(self, key: str, *, filename: str, content_type: str) -> str | None:
        """A short-lived address the browser may fetch directly, or None (stream it)."""
        ...

    def describe(self) -> str: ...


def check_key(key: str) -> str:
    """Keys are ours, but a path must never leave the folder or the prefix."""
    if not key or len(key) > 200 or not KEY.fullmatch(key) or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


def tenant_key(tenant_id: int, area: str) -> str:
    """A new random key in the tenant's namespace, e.g. ``t3/files/9f0c…``."""
    return check_key(f"t{int(tenant_id)}/{area}/{secrets.token_hex(20)}")


class LocalStorage:
    """A folder on this host's disk (the default, as the portal always kept uploads)."""

    name = "local"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, key: str, stream: BinaryIO, content_type: str) -> None:
        path = self._path(key)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
            os.replace(partial, path)  # readers never see half a file
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise StorageUnavailable(f"cannot write {path}: {exc.strerror or exc}") from exc

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectMissing(key) from exc
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {key}: {exc.strerror or exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot delete {key}: {exc.strerror or exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and not path.name.startswith(".") and key.startswith(prefix):
                yield key

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def url(self, key: str, *, filename: str, content_type: str) -> str | None:
        return None

    def describe(self) -> str:
        return f"local folder {self.root}"


def build_storage(config) -> Storage:
    """The backend the configuration names; a ValueError says what is wrong with it."""
    backend = (config.get("STORAGE_BACKEND") or "local").strip().lower()
    if backend == "local":
        return LocalStorage(config["UPLOAD_DIR"])
    if backend == "s3":
        from portal.files.s3 import S3Storage

        return S3Storage.from_config(config)
    raise ValueError(f"PORTAL_STORAGE must be 'local' or 's3', not {backend!r}")


SETTINGS = (
    "STORAGE_BACKEND",
    "UPLOAD_DIR",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_PREFIX",
    "S3_ADDRESSING_STYLE",
    "S3_PRESIGNED_SECONDS",
    "S3_TIMEOUT",
)


def storage() -> Storage:
    """The app's backend, built on first use and again when its settings change (tests and
    ``portal storage copy`` point an app at another folder or bucket)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = tuple(str(app.config.get(name)) for name in SETTINGS)
    kept = app.extensions.get("portal_storage")
    if kept is None or kept[0] != settings:
        kept = (settings, build_storage(app.config))
        app.extensions["portal_storage"] = kept
    return kept[1]
