"""Large imports written by a job, with progress; small ones stay in the request.

The confirm of a checked file whose check read at least ``IMPORT_JOB_ROWS`` rows (default
2,000) does not write in the request: :func:`start` records an :class:`ImportJob` and hands
its id to the job queue (``portal.imports.run`` on the broker, or a thread of this process
without one). The job does what the inline confirm does (:func:`portal.imports.service.confirm`:
the same file checked again with the data as it is now, written only if it still shows what
the preview showed), so the promise is the same: every row or none. Its page
(:mod:`portal.imports.job_views`) shows how far it is.

Progress: the importer calls the job's :class:`JobProgress` for each phase ("checking",
"writing") and advances it. While checking, nothing is written, so progress is committed on
the job's own session. While writing, the data goes in ONE transaction (chunked flushes); its
progress goes through a second connection on PostgreSQL (the import's inserts lock no row of
the job table). SQLite has one writer at a time, so there the page says "writing" without a
count until the commit.

A large upload (``IMPORT_CHECK_JOB_ROWS`` rows, default 3,000, counted without reading a cell;
or ``IMPORT_CHECK_JOB_BYTES``, default 256 KB) of such a kind is checked by a job
too (:func:`start_check`): the file is kept at once, a job checks it with progress, and its page
then offers to confirm it (:func:`confirm_checked`: the same job is queued again, to check the
file once more and write it). No request waits for a long check.

Importers that can run as jobs say so with ``job=`` in their kind's registration
(:func:`portal.imports.kinds.register_import_kind`): the rounds import, a plan's actions
import and a cluster's members import do.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, NotFound

from portal.extensions import db
from portal.imports import service
from portal.imports.kinds import job_factory
from portal.imports.models import ImportJob, PendingImport
from portal.imports.service import Importer
from portal.tenancy import tenant_scope, unscoped

log = logging.getLogger(__name__)
JOB_ROWS = 2000  # default of the config key IMPORT_JOB_ROWS
CHECK_JOB_BYTES = 256 * 1024  # default of the config key IMPORT_CHECK_JOB_BYTES
# An XLSX packs about 3,000 rows of a rounds file into 80 KB: rows decide, not bytes alone.
CHECK_JOB_ROWS = 3000  # default of the config key IMPORT_CHECK_JOB_ROWS
RUNNING = ("queued", "checking", "writing")
CHECKED = "checked"  # a check job passed: waits for its uploader's confirm
TASK = "portal.imports.run"


def job_rows() -> int:
    return int(current_app.config.get("IMPORT_JOB_ROWS", JOB_ROWS))


def check_job_bytes() -> int:
    return int(current_app.config.get("IMPORT_CHECK_JOB_BYTES", CHECK_JOB_BYTES))


def check_job_rows() -> int:
    return int(current_app.config.get("IMPORT_CHECK_JOB_ROWS", CHECK_JOB_ROWS))


def checks_in_a_job(importer: Importer, raw: bytes) -> bool:
    """Whether this upload is checked by a job: of a kind that can run as one, large (by
    its rows or its bytes), and not too large (the request says so at once)."""
    from portal.imports.table import has_rows, max_file_bytes

    if job_factory(importer.kind) is None or len(raw) > max_file_bytes():
        return False
    return len(raw) >= check_job_bytes() or has_rows(raw, check_job_rows())


def start_check(
    importer: Importer,
    raw: bytes,
    *,
    filename: str,
    tenant_id: int,
    user_id: int,
    target: str,
    options: dict[str, Any] | None = None,
) -> ImportJob:
    """Keep the upload (not confirmable yet) and hand a job the check of it."""
    pending = service.keep(
        importer.kind,
        raw,
        filename=filename,
        tenant_id=tenant_id,
        user_id=user_id,
        target=target,
        options=dict(options or {}),
    )
    db.session.flush()
    job = _new_job(pending, importer.kind, user_id, total=0)
    db.session.commit()
    hand_over(job.id)
    return job


def confirm_checked(job: ImportJob) -> bool:
    """Queue a checked job again, to check its file once more and write it; False when it
    is not waiting for a confirm (confirmed already, say by a second click)."""
    queued = db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.state == CHECKED)
        .values(state="queued", done=0, total=0, result={}, updated_at=_now())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if queued == 1:
        hand_over(job.id)
    return queued == 1


def _new_job(pending: PendingImport, kind: str, user_id: int, total: int) -> ImportJob:
    job = ImportJob(
        tenant_id=pending.tenant_id,
        pending_id=pending.id,
        kind=kind,
        user_id=user_id,
        locale=str(get_locale() or "en"),
        state="queued",
        total=total,
        done=0,
        result={},
    )
    db.session.add(job)
    return job


def _now() -> datetime:
    return datetime.now(UTC)


def start(importer: Importer, token: str | None, *, user_id: int, target: str):
    """The job writing this pending import (a new one, or the one a first confirm started);
    None when the import is small (or cannot be a job, or cannot be confirmed any more): the
    caller confirms it inline, which also says why it cannot be."""
    pending = service.find(importer, token, user_id=user_id, target=target)
    existing = db.session.scalar(select(ImportJob).where(ImportJob.pending_id == pending.id))
    if existing is not None:
        return existing
    if job_factory(importer.kind) is None or pending.rows < job_rows():
        return None
    if service._gone(pending) is not None:
        return None
    job = _new_job(pending, importer.kind, user_id, total=pending.rows)
    try:
        db.session.commit()
    except IntegrityError:  # a second confirm at the same moment: its job is this one's
        db.session.rollback()
        return db.session.scalars(select(ImportJob).where(ImportJob.pending_id == pending.id)).one()
    hand_over(job.id)
    return job


def hand_over(job_id: int) -> None:
    """To the broker, or (no broker, or an unreachable one) a thread of this process."""
    from portal.jobs import broker

    app = current_app._get_current_object()
    celery = broker(app)
    if celery is not None:
        try:
            celery.send_task(TASK, args=[job_id])
            return
        except Exception as exc:  # noqa: BLE001 - any broker failure: written here instead
            log.warning("broker unreachable; import job %s runs in this process: %s", job_id, exc)
    if app.config.get("IMPORT_JOBS_IN_REQUEST"):  # tests: the job runs before the redirect
        run(job_id)
        return
    threading.Thread(
        target=_run_in_app, args=(app, job_id), name=f"portal-import-{job_id}", daemon=True
    ).start()


def _run_in_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            run(job_id)
        finally:
            db.session.remove()


class JobProgress:
    """``progress(phase, total)`` as the importers call it: a context manager whose value
    has ``update(n)``. Saved at most every ``every`` seconds, and at each phase's end."""

    def __init__(self, job_id: int, every: float = 0.5, check_only: bool = False):
        self.job_id, self.every, self.check_only = job_id, every, check_only
        self.separate_connection = db.engine.dialect.name == "postgresql"

    def _save(self, *, state: str, done: int, total: int, writing: bool) -> None:
        values = {"state": state, "done": done, "total": total, "updated_at": _now()}
        stmt = update(ImportJob).where(ImportJob.id == self.job_id).values(**values)
        if not writing:
            # Nothing of the import is written yet: the job's own session commits it.
            db.session.execute(stmt.execution_options(synchronize_session=False))
            db.session.commit()
        elif self.separate_connection:
            with db.engine.begin() as connection:
                connection.execute(
                    ImportJob.__table__.update()
                    .where(ImportJob.__table__.c.id == self.job_id)
                    .values(**values)
                )
        # SQLite while writing: the import's transaction is the one writer; it waits.

    @contextmanager
    def __call__(self, phase: str, total: int):
        writing = phase == "writing"
        bar = _Bar(self, phase, total, writing)
        self._save(state=phase, done=0, total=total, writing=writing)
        yield bar
        bar.flush()
        if not writing and not self.check_only:
            # the next phase begins: said before its transaction takes the lock
            self._save(state="writing", done=0, total=0, writing=False)


class _Bar:
    def __init__(self, progress: JobProgress, phase: str, total: int, writing: bool):
        self.progress, self.phase, self.total, self.writing = progress, phase, total, writing
        self.done, self.saved_at = 0, time.monotonic()

    def update(self, n: int) -> None:
        self.done += n
        if time.monotonic() - self.saved_at >= self.progress.every:
            self.flush()

    def flush(self) -> None:
        self.saved_at = time.monotonic()
        self.progress._save(
            state=self.phase, done=self.done, total=self.total, writing=self.writing
        )


def _finish(job_id: int, state: str, result: dict[str, Any]) -> None:
    db.session.rollback()
    db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(state=state, result=result, updated_at=_now())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _problems(outcome) -> list[list[Any]]:
    return [[e.row, e.column, e.message] for e in outcome.errors]


def run(job_id: int) -> str:
    """Run the job once: a task delivered twice, or after its worker died, does not write
    twice (the pending import's claim), and a job found half-way is marked failed (its
    transaction died with its worker: nothing of it was written)."""
    session = db.session()
    session.expire_on_commit = False  # progress commits must not reload the checked rows
    with unscoped():
        job = db.session.get(ImportJob, job_id)
        if job is None or job.state not in RUNNING:
            return job.state if job is not None else "missing"
        claimed = db.session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state == "queued")
            .values(state="checking", updated_at=_now())
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        tenant_id, user_id, locale, kind = job.tenant_id, job.user_id, job.locale, job.kind
        pending = db.session.get(PendingImport, job.pending_id)
    with force_locale(locale), tenant_scope(tenant_id):
        if claimed != 1:
            message = _("The import was interrupted; nothing was written. Confirm it again.")
            _finish(job_id, "failed", {"message": message, "problems": []})
            return "failed"
        try:
            if not pending.checked:
                return _check(job_id, kind, tenant_id, user_id, pending)
            return _run(job_id, kind, tenant_id, user_id, pending)
        except Exception:
            log.exception("import job %s failed", job_id)
            message = _("The import failed unexpectedly; nothing was written. Try again.")
            _finish(job_id, "failed", {"message": message, "problems": []})
            return "failed"


def _importer(kind: str, user, tenant_id: int, progress, target: str) -> Importer:
    factory = job_factory(kind)
    if factory is None:
        raise NotFound()  # the kind (a plugin's) is no longer installed
    return factory(user, tenant_id, progress, target)


def _check(job_id: int, kind: str, tenant_id: int, user_id: int, pending) -> str:
    """A large upload's check: its problems, or the pending import made confirmable."""
    from portal.accounts.models import User

    user = db.session.get(User, user_id)
    try:
        importer = _importer(
            kind, user, tenant_id, JobProgress(job_id, check_only=True), pending.target
        )
        raw = service._stored(pending)
        outcome = importer.check(raw, dict(pending.options or {})) if raw is not None else None
    except HTTPException:
        _finish(
            job_id,
            "failed",
            {"message": _("This import is no longer yours to confirm."), "problems": []},
        )
        return "failed"
    if outcome is None:
        message = _("The uploaded file is gone; nothing was written. Upload it again.")
        _finish(job_id, "failed", {"message": message, "problems": []})
        return "failed"
    if outcome.errors:
        result = {"message": _("Nothing was written."), "problems": _problems(outcome)}
        _finish(job_id, "failed", result)
        return "failed"
    db.session.rollback()
    kept = db.session.get(PendingImport, pending.id)
    service.passed(kept, importer, outcome)
    db.session.commit()
    rows = service._row_count(outcome)
    message = ngettext(
        "%(num)d row checked: no problems. Confirm to write it.",
        "%(num)d rows checked: no problems. Confirm to write them.",
        rows,
    )
    _finish(job_id, CHECKED, {"message": message, "rows": rows})
    return CHECKED


def _run(job_id: int, kind: str, tenant_id: int, user_id: int, pending) -> str:
    from portal.accounts.models import User

    user = db.session.get(User, user_id)
    try:
        importer = _importer(kind, user, tenant_id, JobProgress(job_id), pending.target)
        step = service.confirm(importer, pending.token, user_id=user_id, target=pending.target)
    except HTTPException:
        step = service.Step("gone", message=_("This import is no longer yours to confirm."))
    if step.state == "written":
        text = importer.describe(step.outcome) if importer.describe else _("The file is imported.")
        _finish(job_id, "done", {"message": text})
        return "done"
    if step.state == "problems":
        result = {"message": _("Nothing was written."), "problems": _problems(step.outcome)}
    elif step.state == "changed":
        message = _(
            "The data changed since the file was checked, so nothing was written. "
            "Check the file again."
        )
        result = {"message": message, "problems": []}
    else:
        result = {"message": step.message, "problems": []}
    _finish(job_id, "failed", result)
    return "failed"
