"""The page of an import job: how far it is, and then what it did.

One URL serves the page and (to htmx, which polls it every second while the job runs) the
fragment; without JavaScript the page refreshes itself (``<meta http-equiv=refresh>`` in a
``<noscript>``) and has a link to do it by hand. Only the job's uploader sees it, in its
region: anyone else, another region's id too, gets 404. Never cached: it changes while
nothing the region's pages show does.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user

from portal.extensions import db
from portal.imports.jobs import CHECKED, RUNNING, confirm_checked
from portal.imports.kinds import back_link
from portal.imports.models import ImportJob, PendingImport
from portal.tenancy import get_or_404
from portal.web.htmx import wants_fragment

bp = Blueprint("import_jobs", __name__, url_prefix="/<tenant>")
FRAGMENT = "import-job"
POLL_SECONDS = 1


def _own_job(job_id: int) -> ImportJob:
    job = get_or_404(ImportJob, job_id)
    if not current_user.is_authenticated or job.user_id != current_user.id:
        abort(404)
    return job


@bp.route("/imports/jobs/<int:job_id>")
def show(job_id: int):
    job = _own_job(job_id)
    template = "imports/_job.html" if wants_fragment(FRAGMENT) else "imports/job.html"
    running = job.state in RUNNING
    # No total (writing on SQLite, see portal.imports.jobs): an indeterminate bar.
    percent = min(100, job.done * 100 // job.total) if job.total else None
    pending = db.session.get(PendingImport, job.pending_id)
    back = back_link(job.kind, pending.target) if pending is not None else None
    response = render_template(
        template,
        job=job,
        running=running,
        percent=percent,
        poll=POLL_SECONDS,
        target=FRAGMENT,
        back=back,
        pending=pending,
        checked=job.state == CHECKED,
    )
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/imports/jobs/<int:job_id>/confirm", methods=["POST"])
def confirm(job_id: int):
    """The uploader confirms a file the job checked: the same job checks it once more, as it
    is now, and writes it (every row or none). A second confirm changes nothing."""
    job = _own_job(job_id)
    confirm_checked(job)
    return redirect(url_for("import_jobs.show", job_id=job.id), code=303)
