"""Importing benchmarking rounds of many clusters from one CSV or XLSX file (check, then
confirm), the rounds in the same format, and an example file."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select

from portal.benchmarking import round_export, round_import, services
from portal.benchmarking.indicators import pick
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.imports import web as imports_web
from portal.imports.service import Step
from portal.permissions import may, require
from portal.plans.spreadsheet_views import _download
from portal.plans.spreadsheets import CSV_MIME, XLSX_MIME, download_name

bp = Blueprint("round_import", __name__, url_prefix="/<tenant>")
TARGET = "region"


class RoundImportForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file"), validators=[FileRequired(_l("Choose a file to import."))]
    )


def _manageable() -> list[Cluster]:
    """The clusters whose rounds the user may enter; 403 when there is none."""
    clusters = db.session.scalars(
        select(Cluster).where(Cluster.tenant_id == g.tenant.id).order_by(Cluster.name)
    ).all()
    mine = [c for c in clusters if may(current_user, "round.assess", c)]
    if not mine:
        require(current_user, "round.assess", g.tenant)  # coordinators of a region without clusters
    return mine


def _importer():
    return round_import.importer(current_user._get_current_object(), g.tenant.id)


def _page(form: RoundImportForm, step: Step | None):
    return render_template(
        "benchmarking/import.html",
        form=form,
        step=step,
        sets=services.available_sets(g.tenant.id),
        columns=round_import.COLUMNS,
        max_rows=round_import.MAX_ROWS,
        pick=pick,
        locale=str(get_locale() or "en"),
    ), imports_web.status(step, form)


@bp.route("/rounds/import", methods=["GET", "POST"])
def upload():
    """Step one: the file is checked and kept; nothing is written."""
    _manageable()
    form = RoundImportForm()
    step = None
    if form.validate_on_submit():
        step = imports_web.check_upload(_importer(), form.file.data, target=TARGET)
    return imports_web.to_job(step) or _page(form, step)


@bp.route("/rounds/import/confirm", methods=["POST"])
def confirm():
    """Step two: the checked file is checked again and written."""
    _manageable()
    job = imports_web.start_job(_importer(), target=TARGET)
    if job is not None:  # a large file: written by a job, its page shows the progress
        return redirect(url_for("import_jobs.show", job_id=job.id), code=303)
    step = imports_web.confirm(_importer(), target=TARGET)
    if step.state == "written":
        flash(
            _(
                "The file is imported. New rounds: %(rounds)d, values: %(values)d.",
                rounds=len(step.outcome.rounds),
                values=step.outcome.values,
            ),
            "success",
        )
        return redirect(url_for("round_import.upload"))
    return _page(RoundImportForm(formdata=None), step)


@bp.route("/rounds/export.xlsx", defaults={"fmt": "xlsx"})
@bp.route("/rounds/export.csv", defaults={"fmt": "csv"})
def export(fmt: str):
    """The rounds of the clusters whose rounds the user may enter, in the import format."""
    ids = [c.id for c in _manageable()]
    name = download_name("rounds", g.tenant.slug, extension="." + fmt)
    if fmt == "xlsx":
        return _download(round_export.rounds_xlsx(ids), XLSX_MIME, name)
    return _download(round_export.rounds_csv(ids), CSV_MIME, name)


@bp.route("/rounds/import/example.csv")
def example():
    _manageable()
    data = round_export.example_csv(g.tenant.id)
    if data is None:
        abort(404)
    return _download(data, CSV_MIME, "rounds-example.csv")
