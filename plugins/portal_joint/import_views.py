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
    _,
    _l,
    check_upload,
    confirm_import,
    current_user,
    import_status,
    import_target_id,
    register_import_kind,
    render_template,
    require,
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


# The front page links a checked file not confirmed yet to this page.
register_import_kind(
    "joint_actions",
    page=lambda target: url_for(
        "joint.import_actions", programme=import_target_id(target, "programme")
    ),
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
    return _page(programme, form, step)


@bp.route("/import/confirm", methods=["POST"], endpoint="import_confirm")
def import_confirm():
    """Step two: the kept file is checked again and written."""
    programme = _programme_arg()
    require(current_user, "joint.create", programme)
    step = confirm_import(_importer(programme), target=_target(programme))
    if step.state == "written":
        shown = step.outcome.preview
        flash(
            _(
                "The file is imported. New joint actions: %(created)d, changed: %(updated)d.",
                created=sum(1 for a in shown if a.kind == "new"),
                updated=sum(1 for a in shown if a.kind == "update"),
            ),
            "success",
        )
        return redirect(url_for("joint.index", programme=programme.id))
    return _page(programme, JointImportForm(formdata=None), step)
