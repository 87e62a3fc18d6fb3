"""Importing a programme's joint actions from the export's CSV or XLSX file: check first
(the file is kept, nothing is written), then confirm (the kept file is checked again and
written). Coordinators only (``joint.create`` on the programme)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from portal.toolkit import (
    FlaskForm,
    ImportStep,
    Programme,
    _,
    _l,
    check_upload,
    confirm_import,
    current_user,
    get_or_404,
    import_status,
    import_target_id,
    register_import_kind,
    render_template,
    require,
    start_import_job,
    to_import_job,
)
from portal_joint import import_writes
from portal_joint.blueprint import bp
from portal_joint.forms import JOINT_STATUS_LABELS, PART_STATUS_LABELS
from portal_joint.import_format import COLUMNS, MAX_ROWS, READ_ONLY
from portal_joint.views import _programme_arg


class JointImportForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file"), validators=[FileRequired(_l("Choose a file to import."))]
    )
    as_new = BooleanField(
        _l("Import every joint action as a new one (the action_id column only groups the rows)"),
        description=_l("For copying the joint actions of another programme into this one."),
    )


def _target(programme) -> str:
    return f"programme:{programme.id}"


def _programme_of(target: str):
    """The programme a pending import names ("programme:12"); 404 if gone."""
    return get_or_404(Programme, import_target_id(target, "programme"))


def _job_importer(user, _tenant_id: int, _progress, target: str):
    """In a job: the programme's importer, as long as the uploader may still create joint
    actions in it."""
    programme = _programme_of(target)
    require(user, "joint.create", programme)
    return import_writes.importer(user, programme)


# The front page links a checked file not confirmed yet to this page; a large file is
# checked (and a long one written) by a job with its own page.
register_import_kind(
    import_writes.KIND,
    page=lambda target: url_for(
        "joint.import_actions", programme=import_target_id(target, "programme")
    ),
    back=lambda target: (
        _("Joint actions"),
        url_for("joint.index", programme=_programme_of(target).id),
    ),
    job=_job_importer,
)


def _page(programme, form: JointImportForm, step: ImportStep | None):
    return render_template(
        "joint/import.html",
        programme=programme,
        form=form,
        step=step,
        columns=COLUMNS,
        read_only=READ_ONLY,
        max_rows=MAX_ROWS,
        joint_statuses=JOINT_STATUS_LABELS,
        part_statuses=PART_STATUS_LABELS,
    ), import_status(step, form)


def _importer(programme):
    return import_writes.importer(current_user._get_current_object(), programme)


@bp.route("/import", methods=["GET", "POST"], endpoint="import_actions")
def import_actions():
    """Step one: the file is checked and kept; nothing is written."""
    programme = _programme_arg()
    require(current_user, "joint.create", programme)
    form = JointImportForm()
    step = None
    if form.validate_on_submit():
        step = check_upload(
            _importer(programme),
            form.file.data,
            target=_target(programme),
            options={"as_new": bool(form.as_new.data)},
        )
    return to_import_job(step) or _page(programme, form, step)


@bp.route("/import/confirm", methods=["POST"], endpoint="import_confirm")
def import_confirm():
    """Step two: the kept file is checked again and written."""
    programme = _programme_arg()
    require(current_user, "joint.create", programme)
    job = start_import_job(_importer(programme), target=_target(programme))
    if job is not None:  # a long file: written by a job, its page shows how far it is
        return to_import_job(job)
    step = confirm_import(_importer(programme), target=_target(programme))
    if step.state == "written":
        flash(import_writes.describe(step.outcome), "success")
        return redirect(url_for("joint.index", programme=programme.id))
    return _page(programme, JointImportForm(formdata=None), step)
