"""Check first, then confirm: the two steps of every import.

1. :func:`check_upload` reads and checks the uploaded file and writes nothing of its data.
   A file without problems is kept in the file storage (``portal.files.storage``, under the
   tenant's ``imports`` keys, so the confirmation may reach another host) as a
   :class:`PendingImport` of the tenant and the user, with an expiry, and a digest of what
   the preview shows.
2. :func:`confirm` takes only the pending import's opaque token: it finds it (another
   person's, another tenant's, another kind's or target's token is 404), refuses one that
   was confirmed or has expired, checks the SAME file again with the data as it is now,
   and writes it only if the check still shows exactly what the preview showed; otherwise
   it shows the new preview (or the problems) and writes nothing.

An import is an :class:`Importer`: its ``check(raw, options)`` answers an outcome with a
list ``errors`` (and writes nothing), ``write(outcome, options)`` writes a checked outcome
in one transaction (setting ``written``, or adding errors after a rollback), and
``planned(outcome)`` tells what the preview shows (for the digest). The command line uses
:func:`check_and_write` with the same importer.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from portal.extensions import db
from portal.files.services import safe_filename
from portal.files.storage import ObjectMissing, StorageUnavailable, storage, tenant_key
from portal.imports.models import PendingImport
from portal.imports.table import max_file_bytes
from portal.tenancy import unscoped

KEEP_HOURS = 24  # default of the config key IMPORT_KEEP_HOURS
FORGET_AFTER = timedelta(days=7)  # expired or confirmed: the row (for its message) goes then
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


@dataclass
class Importer:
    kind: str
    check: Callable[[bytes, dict[str, Any]], Any]
    write: Callable[[Any, dict[str, Any]], Any]
    planned: Callable[[Any], Any]
    # What a written import says (translated), e.g. on a job's page.
    describe: Callable[[Any], str] | None = None
    # The writer claims the pending import itself, by :func:`take_claim` right before its
    # first write (on SQLite the claim's UPDATE takes the file's one writer lock, which the
    # writer holds back while it prepares its rows); otherwise the confirm claims first.
    claims_late: bool = False


class ClaimLost(Exception):
    """Another confirm of the same pending import took it first, or it expired."""


_CLAIM = "imports_pending_claim"


def take_claim() -> None:
    """For the writer of an importer with ``claims_late``: claim the pending import being
    confirmed, in the writing transaction, before the first write. Raises :class:`ClaimLost`
    if it was taken (nothing is written then); outside a confirm (the command line) there is
    nothing to claim."""
    claim = db.session.info.pop(_CLAIM, None)
    if claim is not None and not claim():
        raise ClaimLost


def with_progress(
    items: Sequence[Any], progress: Callable | None, phase: str, every: int
) -> Iterator[Any]:
    """The items, one by one, inside ``progress(phase, len(items))`` when given (a job's
    :class:`portal.imports.jobs.JobProgress`, or a command's progress bar), advancing its bar
    every ``every`` items and by the rest after the last: the check loop of every importer."""
    if progress is None:
        yield from items
        return
    with progress(phase, len(items)) as bar:
        for done, item in enumerate(items, start=1):
            if done % every == 0:
                bar.update(every)
            yield item
        bar.update(len(items) % every)


@dataclass
class Step:
    """What the page shows: ``problems`` (outcome.errors), ``preview`` (with the pending
    import to confirm), ``changed`` (the data changed since the preview: a new preview),
    ``written``, ``gone`` (confirmed already or expired; ``message`` says which), or ``job``
    (a large upload checked by a job: the page sends its user to the job's page)."""

    state: str
    outcome: Any = None
    pending: PendingImport | None = None
    message: str = ""
    job: Any = None  # "job": the ImportJob checking a large upload (portal.imports.jobs)


def keep_hours() -> int:
    return int(current_app.config.get("IMPORT_KEEP_HOURS", KEEP_HOURS))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def digest(importer: Importer, outcome: Any) -> str:
    planned = importer.planned(outcome)
    data = json.dumps(planned, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


log = logging.getLogger(__name__)
SPREADSHEET = "application/octet-stream"


def _object_key(storage_key: str) -> str:
    """Files kept before the storage layer have a bare name in the folder's ``imports``."""
    return storage_key if "/" in storage_key else f"imports/{storage_key}"


def read_upload(upload) -> bytes:
    """At most one byte more than the limit of a file (the check then says it is too big)."""
    return upload.read(max_file_bytes() + 1)


def check_upload(
    importer: Importer,
    raw: bytes,
    *,
    filename: str,
    tenant_id: int,
    user_id: int,
    target: str,
    options: dict[str, Any] | None = None,
) -> Step:
    """Check an uploaded file; keep it (only) when it has no problem."""
    options = dict(options or {})
    outcome = importer.check(raw, options)
    if outcome.errors:
        return Step("problems", outcome)
    pending = keep(
        importer.kind,
        raw,
        filename=filename,
        tenant_id=tenant_id,
        user_id=user_id,
        target=target,
        options=options,
    )
    passed(pending, importer, outcome)
    db.session.commit()
    return Step("preview", outcome, pending)


def keep(
    kind: str,
    raw: bytes,
    *,
    filename: str,
    tenant_id: int,
    user_id: int,
    target: str,
    options: dict[str, Any],
) -> PendingImport:
    """Store an upload and add its pending import, not checked yet (the caller commits)."""
    _forget_old()
    key = tenant_key(tenant_id, "imports")
    storage().save(key, io.BytesIO(raw), SPREADSHEET)
    pending = PendingImport(
        tenant_id=tenant_id,
        token=secrets.token_urlsafe(32),
        kind=kind,
        target=target,
        options=options,
        user_id=user_id,
        filename=safe_filename(filename or "", "")[:255],
        storage_key=key,
        size=len(raw),
        rows=0,
        sha256=hashlib.sha256(raw).hexdigest(),
        digest="",
        checked=False,
        expires_at=_now() + timedelta(hours=keep_hours()),
    )
    db.session.add(pending)
    return pending


def passed(pending: PendingImport, importer: Importer, outcome: Any) -> None:
    """The pending import's check passed: what it read and previewed; now confirmable."""
    pending.rows = _row_count(outcome)
    pending.digest = digest(importer, outcome)
    pending.checked = True


def find(importer: Importer, token: str | None, *, user_id: int, target: str) -> PendingImport:
    """The user's pending import of this kind and target in the tenant in scope; else 404."""
    if not token or not TOKEN.fullmatch(token):
        abort(404)
    pending = db.session.scalar(
        select(PendingImport).where(
            PendingImport.token == token,
            PendingImport.kind == importer.kind,
            PendingImport.target == target,
            PendingImport.user_id == user_id,
            PendingImport.checked.is_(True),  # a check job still running: not yet
        )
    )
    if pending is None:
        abort(404)
    return pending


def _gone(pending: PendingImport) -> str | None:
    if pending.confirmed_at is not None:
        return _("This import was confirmed already; it is not written a second time.")
    if _aware(pending.expires_at) <= _now():
        return _(
            "This check has expired (after %(hours)d hours); nothing was written. Upload the "
            "file again.",
            hours=keep_hours(),
        )
    return None


def _stored(pending: PendingImport) -> bytes | None:
    try:
        with storage().open(_object_key(pending.storage_key)) as stored:
            raw = stored.read()
    except (ObjectMissing, ValueError):
        return None
    return raw if hashlib.sha256(raw).hexdigest() == pending.sha256 else None


def _row_count(outcome: Any) -> int:
    """The rows an importer's check read: a number (rounds) or the rows themselves (members)."""
    rows = getattr(outcome, "rows", 0) or 0
    return rows if isinstance(rows, int) else len(rows)


def confirm(importer: Importer, token: str | None, *, user_id: int, target: str) -> Step:
    """Write the kept file, if it still checks out exactly as previewed."""
    pending = find(importer, token, user_id=user_id, target=target)
    message = _gone(pending)
    raw = _stored(pending) if message is None else None
    if message is None and raw is None:
        message = _("The checked file is no longer kept; nothing was written. Upload it again.")
    if message is not None:
        return Step("gone", pending=pending, message=message)
    options = dict(pending.options or {})
    outcome = importer.check(raw, options)
    if outcome.errors:
        return Step("problems", outcome, pending)
    now_digest = digest(importer, outcome)
    if now_digest != pending.digest:
        pending.digest = now_digest
        db.session.commit()
        return Step("changed", outcome, pending)
    # Claimed in the transaction that writes the rows: a second confirm finds it confirmed
    # (or waits for this one and then does), and a failed write gives the claim back.
    try:
        if importer.claims_late:
            db.session.info[_CLAIM] = lambda: _claim(pending.id)
        elif not _claim(pending.id):
            raise ClaimLost
        outcome = importer.write(outcome, options)
    except ClaimLost:
        db.session.rollback()
        db.session.refresh(pending)
        return Step("gone", pending=pending, message=_gone(pending) or "")
    finally:
        unclaimed = db.session.info.pop(_CLAIM, None)
    if outcome.written and unclaimed is not None:
        raise RuntimeError(f"the {importer.kind} writer wrote without take_claim()")
    if not outcome.written:
        db.session.rollback()
        return Step("problems", outcome, pending)
    _delete_quietly(pending.storage_key)
    return Step("written", outcome, pending)


def _claim(pending_id: int) -> bool:
    return (
        db.session.execute(
            update(PendingImport)
            .where(
                PendingImport.id == pending_id,
                PendingImport.confirmed_at.is_(None),
                PendingImport.expires_at > _now(),
            )
            .values(confirmed_at=_now())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def check_and_write(importer: Importer, raw: bytes, options: dict[str, Any], *, dry_run: bool):
    """Both steps at once, for the command line (the operator's file is not kept)."""
    outcome = importer.check(raw, options)
    if outcome.errors or dry_run:
        return outcome
    return importer.write(outcome, options)


def _forget_old() -> None:
    """Files of expired pending imports go; rows of long expired or confirmed ones too."""
    now = _now()
    with unscoped():
        stale = db.session.execute(
            select(PendingImport.id, PendingImport.storage_key).where(
                PendingImport.expires_at <= now, PendingImport.storage_key.not_like("gone/%")
            )
        ).all()
        for pending_id, key in stale:
            if not _delete_quietly(key):
                continue
            # Marked, so that the next upload does not ask the storage to delete it again.
            db.session.execute(
                update(PendingImport)
                .where(PendingImport.id == pending_id)
                .values(storage_key=f"gone/{key}"[:100])
                .execution_options(synchronize_session=False)
            )
        db.session.execute(
            delete(PendingImport)
            .where(PendingImport.expires_at <= now - FORGET_AFTER)
            .execution_options(synchronize_session=False)
        )


def _delete_quietly(storage_key: str) -> bool:
    """The kept file is not needed any more; a storage failure only leaves it behind."""
    try:
        storage().delete(_object_key(storage_key))
    except (StorageUnavailable, ValueError) as exc:
        log.warning("kept import file %s not deleted: %s", storage_key, exc)
        return False
    return True
