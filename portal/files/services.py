"""Storing uploads safely: the type is read from the content (parsed by ``checks``), not the
name or the browser; the bytes go to the configured storage (``portal.files.storage``)."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata

from flask import abort, current_app, redirect, send_file
from flask_babel import gettext as _

from portal.errors import ServiceError
from portal.extensions import db
from portal.files import checks, lifecycle
from portal.files.models import StoredFile
from portal.files.storage import ObjectMissing, storage, tenant_key


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
    key = tenant_key(tenant_id, "files")
    storage().save(key, io.BytesIO(data), content_type)  # StorageUnavailable: a 503 page
    lifecycle.written(db.session, key)
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


def send(stored: StoredFile):
    """The stored file as a download (see :func:`send_object`). The caller checked the
    permission."""
    return send_object(
        stored.storage_key,
        filename=stored.filename,
        content_type=stored.content_type,
        size=stored.size,
    )


def send_object(key: str, *, filename: str, content_type: str, size: int | None = None):
    """An object of the storage as a download, streamed in blocks (or a redirect to a
    short-lived address of the object, when the storage is configured to give one). 404 where
    the bytes are missing (removed meanwhile, or kept on another host's disk); an unreachable
    storage raises StorageUnavailable (a 503 page)."""
    backend = storage()
    address = backend.url(key, filename=filename, content_type=content_type)
    if address:
        return redirect(address, 303)
    try:
        handle = backend.open(key)
    except ObjectMissing:
        abort(404)
    response = send_file(
        handle,
        mimetype=content_type,
        as_attachment=True,
        download_name=filename,
        max_age=0,
        conditional=False,
    )
    if size is not None:
        response.content_length = size
    return response


def delete(stored: StoredFile) -> None:
    """Delete the row; its object goes after the commit (portal.files.lifecycle)."""
    db.session.delete(stored)
    db.session.commit()
