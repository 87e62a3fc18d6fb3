"""Storing uploads safely: the type is read from the content, not the name or the browser."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from portal.errors import ServiceError
from portal.extensions import db
from portal.files.models import StoredFile

OOXML = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
}


def storage_dir() -> Path:
    folder = Path(
        current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of an allowed file, judged by its bytes; else None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf", ".pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", ".png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", ".jpg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names:
            for prefix, kind in OOXML.items():
                if any(name.startswith(prefix) for name in names):
                    return kind
    return None


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
    kind = sniff(data)
    if kind is None:
        message = _("Only PDF, Word, Excel, PowerPoint, PNG and JPEG files can be uploaded.")
        raise ServiceError(message, {"file": [message]})
    content_type, extension = kind
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


def delete(stored: StoredFile) -> None:
    path = path_of(stored)
    db.session.delete(stored)
    db.session.commit()
    path.unlink(missing_ok=True)
