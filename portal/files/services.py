"""Storing uploads safely: the type is read from the content (parsed by ``checks``), not the
name or the browser."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from pathlib import Path

from flask import abort, current_app, send_file
from flask_babel import gettext as _

from portal.errors import ServiceError
from portal.extensions import db
from portal.files import checks
from portal.files.models import StoredFile


def storage_dir() -> Path:
    folder = Path(
        current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_filename(name: str, extension: str) -> str:
    """A display name without paths or control characters, ending in the real extension."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", name).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return (stem[:120] or "file") + extension


def store(
    upload,
    *,
    tenant_id: int,
    user_id: int | None,
    workshop_id: int | None = None,
    action_id: int | None = None,
) -> StoredFile:
    """Check and keep an upload; the caller commits."""
    limit = current_app.config.get("FILE_MAX_BYTES", 20 * 1024 * 1024)
    data = upload.read(limit + 1)
    if not data:
        raise ServiceError(_("The file is empty."), {"file": [_("The file is empty.")]})
    if len(data) > limit:
        raise ServiceError(
            _("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024)),
            {"file": [_("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024))]},
        )
    content_type, extension = checks.inspect(data)  # a translated ServiceError if it is not
    key = secrets.token_hex(20)
    (storage_dir() / key).write_bytes(data)
    stored = StoredFile(
        tenant_id=tenant_id,
        workshop_id=workshop_id,
        action_id=action_id,
        filename=safe_filename(upload.filename, extension),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        uploaded_by_id=user_id,
    )
    db.session.add(stored)
    return stored


def path_of(stored: StoredFile) -> Path:
    return storage_dir() / stored.storage_key


def send(stored: StoredFile):
    """The stored file as a download; 404 where its bytes are not on this host's disk (a file
    kept on another host, or removed meanwhile)."""
    try:
        handle = path_of(stored).open("rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        abort(404)
    return send_file(
        handle,
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.filename,
        max_age=0,
    )


def delete(stored: StoredFile) -> None:
    path = path_of(stored)
    db.session.delete(stored)
    db.session.commit()
    path.unlink(missing_ok=True)
