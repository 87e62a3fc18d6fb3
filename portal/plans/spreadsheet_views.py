"""Spreadsheet export and import of plans and programmes."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.routing import BuildError
from wtforms import BooleanField

from portal.i18n import ACTION_STATUS_LABELS, PRIORITY_LABELS
from portal.imports import web as imports_web
from portal.imports.service import Step
from portal.permissions import require
from portal.plans import action_writes, spreadsheets
from portal.plans.models import Plan
from portal.programmes.models import Programme
from portal.tenancy import get_or_404

bp = Blueprint("spreadsheets", __name__, url_prefix="/<tenant>")


class ActionImportForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file"), validators=[FileRequired(_l("Choose a file to import."))]
    )
    as_new = BooleanField(
        _l("Import every row as a new action (ignore the id column)"),
        description=_l("For copying the actions of another plan into this one."),
    )


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _url(endpoint: str, fallback: str, **values) -> str:
    """A page of another part of the portal, if it exists yet; else the fallback."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return fallback


def _plan(plan_id: int, action: str) -> Plan:
    plan = get_or_404(Plan, plan_id)
    require(current_user, action, plan)
    return plan


@bp.route("/plans/<int:plan_id>/actions.xlsx")
def plan_xlsx(plan_id: int):
    plan = _plan(plan_id, "plan.view")
    name = spreadsheets.download_name("plan", plan.id, plan.title, "actions", extension=".xlsx")
    return _download(spreadsheets.plan_xlsx(plan), spreadsheets.XLSX_MIME, name)


@bp.route("/plans/<int:plan_id>/actions.csv")
def plan_csv(plan_id: int):
    plan = _plan(plan_id, "plan.view")
    name = spreadsheets.download_name("plan", plan.id, plan.title, "actions", extension=".csv")
    return _download(spreadsheets.plan_csv(plan), spreadsheets.CSV_MIME, name)


def _programme(programme_id: int) -> Programme:
    programme = get_or_404(Programme, programme_id)
    require(current_user, "programme.view", programme)
    return programme


@bp.route("/programmes/<int:programme_id>/status.xlsx")
def programme_xlsx(programme_id: int):
    programme = _programme(programme_id)
    name = spreadsheets.download_name(
        "programme", programme.id, programme.name, "status", extension=".xlsx"
    )
    data = spreadsheets.programme_xlsx(programme, date.today())
    return _download(data, spreadsheets.XLSX_MIME, name)


@bp.route("/programmes/<int:programme_id>/status.csv")
def programme_csv(programme_id: int):
    programme = _programme(programme_id)
    name = spreadsheets.download_name(
        "programme", programme.id, programme.name, "status", extension=".csv"
    )
    data = spreadsheets.programme_csv(programme, date.today())
    return _download(data, spreadsheets.CSV_MIME, name)


def _import_page(plan: Plan, form: ActionImportForm, step: Step | None):
    here = url_for("spreadsheets.plan_import", plan_id=plan.id)
    return render_template(
        "spreadsheets/import.html",
        form=form,
        plan=plan,
        plan_url=_url("plans.detail", here, plan_id=plan.id),
        step=step,
        columns=spreadsheets.COLUMNS,
        max_rows=spreadsheets.MAX_ROWS,
        status_labels=ACTION_STATUS_LABELS,
        priority_labels=PRIORITY_LABELS,
    ), imports_web.status(step, form)


def _importer(plan: Plan):
    return action_writes.importer(current_user._get_current_object(), plan)


@bp.route("/plans/<int:plan_id>/import", methods=["GET", "POST"])
def plan_import(plan_id: int):
    """Step one: the file is checked and kept; nothing is written."""
    plan = _plan(plan_id, "plan.manage")
    form = ActionImportForm()
    step = None
    if form.validate_on_submit():
        step = imports_web.check_upload(
            _importer(plan),
            form.file.data,
            target=f"plan:{plan.id}",
            options={"as_new": bool(form.as_new.data)},
        )
    return imports_web.to_job(step) or _import_page(plan, form, step)


@bp.route("/plans/<int:plan_id>/import/confirm", methods=["POST"])
def plan_import_confirm(plan_id: int):
    """Step two: the checked file is checked again and written."""
    plan = _plan(plan_id, "plan.manage")
    job = imports_web.start_job(_importer(plan), target=f"plan:{plan.id}")
    if job is not None:  # a large file: written by a job, its page shows the progress
        return redirect(url_for("import_jobs.show", job_id=job.id), code=303)
    step = imports_web.confirm(_importer(plan), target=f"plan:{plan.id}")
    if step.state == "written":
        flash(action_writes.describe(step.outcome), "success")
        here = url_for("spreadsheets.plan_import", plan_id=plan.id)
        return redirect(_url("plans.detail", here, plan_id=plan.id))
    return _import_page(plan, ActionImportForm(formdata=None), step)
