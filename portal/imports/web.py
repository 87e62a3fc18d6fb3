"""The two steps of an import on a page: check an upload, confirm a checked one."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, request, url_for
from flask_login import current_user

from portal.imports import service
from portal.imports.service import Importer, Step


def check_upload(
    importer: Importer, upload, *, target: str, options: dict[str, Any] | None = None
) -> Step:
    """Check the uploaded file (a form's FileStorage) for the current tenant and user; a
    large file of a kind that runs as a job is checked by a job (the step is "job": the
    page redirects to the job's page)."""
    from portal.imports import jobs

    raw = service.read_upload(upload)
    where = {
        "filename": getattr(upload, "filename", "") or "",
        "tenant_id": g.tenant.id,
        "user_id": current_user.id,
        "target": target,
        "options": options,
    }
    if jobs.checks_in_a_job(importer, raw):
        return Step("job", job=jobs.start_check(importer, raw, **where))
    return service.check_upload(importer, raw, **where)


def confirm(importer: Importer, *, target: str) -> Step:
    """Confirm the pending import the form names (field ``pending``); 404 if it is not the
    current user's of this kind and target in this tenant."""
    token = request.form.get("pending", "")
    return service.confirm(importer, token, user_id=current_user.id, target=target)


def start_job(importer: Importer, *, target: str):
    """The job that writes the pending import the form names, if it is large enough for
    one (portal.imports.jobs); None: confirm it inline. 404 as :func:`confirm`."""
    from portal.imports import jobs

    token = request.form.get("pending", "")
    return jobs.start(importer, token, user_id=current_user.id, target=target)


def status(step: Step | None, form=None) -> int:
    """The page's HTTP status: 422 for problems, 409 for a check that cannot be confirmed."""
    if step is not None and step.state == "gone":
        return 409
    if (form is not None and form.errors) or (step is not None and step.state == "problems"):
        return 422
    return 200


def to_job(step_or_job):
    """The redirect to the page of a job (from :func:`start_job`), or of the job that took a
    step over (a large upload's check, from :func:`check_upload`); None for anything else."""
    job = step_or_job.job if isinstance(step_or_job, Step) else step_or_job
    if job is None:
        return None
    return redirect(url_for("import_jobs.show", job_id=job.id), code=303)
