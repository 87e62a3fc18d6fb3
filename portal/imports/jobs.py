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
from flask_babel import force_locale, get_locale
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
RUNNING = ("queued", "checking", "writing")
TASK = "portal.imports.run"


def job_rows() -> int:
    return int(current_app.config.get("IMPORT_JOB_ROWS", JOB_ROWS))


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
    job = ImportJob(
        tenant_id=pending.tenant_id,
        pending_id=pending.id,
        kind=importer.kind,
        user_id=user_id,
        locale=str(get_locale() or "en"),
        state="queued",
        total=pending.rows,
        done=0,
        result={},
    )
    db.session.add(job)
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

    def __init__(self, job_id: int, every: float = 0.5):
        self.job_id, self.every = job_id, every
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
        if not writing:  # the next phase begins: said before its transaction takes the lock
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
            return _run(job_id, kind, tenant_id, user_id, pending)
        except Exception:
            log.exception("import job %s failed", job_id)
            message = _("The import failed unexpectedly; nothing was written. Try again.")
            _finish(job_id, "failed", {"message": message, "problems": []})
            return "failed"


def _run(job_id: int, kind: str, tenant_id: int, user_id: int, pending) -> str:
    from portal.accounts.models import User

    user = db.session.get(User, user_id)
    try:
        factory = job_factory(kind)
        if factory is None:
            raise NotFound()  # the kind (a plugin's) is no longer installed
        importer = factory(user, tenant_id, JobProgress(job_id), pending.target)
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
