"""Helpers for the two steps of every import: check a file, then confirm the kept check."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from portal.extensions import db
from portal.imports.models import PendingImport
from portal.tenancy import unscoped

PENDING = re.compile(r'name="pending" value="([^"]+)"')


def token_of(response) -> str | None:
    found = PENDING.search(response.get_data(as_text=True))
    return found.group(1) if found else None


def check(client, url: str, content: bytes, filename: str = "file.csv", **fields):
    data = {"file": (io.BytesIO(content), filename), **fields}
    return client.post(url, data=data, content_type="multipart/form-data")


def confirm(client, url: str, token: str | None):
    return client.post(url, data={"pending": token or ""})


def check_and_confirm(
    client, url: str, confirm_url: str, content: bytes, filename="file.csv", **fields
):
    """Both steps; the check's response when it finds problems, else the confirm's."""
    checked = check(client, url, content, filename, **fields)
    token = token_of(checked)
    if checked.status_code != 200 or token is None:
        return checked
    return confirm(client, confirm_url, token)


def expire(app, token: str) -> None:
    with app.app_context(), unscoped():
        db.session.execute(
            update(PendingImport)
            .where(PendingImport.token == token)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        db.session.commit()
