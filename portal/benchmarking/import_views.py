"""Importing benchmarking rounds of many clusters from one CSV or XLSX file."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField

from portal.benchmarking import round_import, services
from portal.benchmarking.indicators import pick
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.permissions import may, require
from portal.plans.spreadsheet_views import _download
from portal.plans.spreadsheets import CSV_MIME

bp = Blueprint("round_import", __name__, url_prefix="/<tenant>")


class RoundImportForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file"), validators=[FileRequired(_l("Choose a file to import."))]
    )
    dry_run = BooleanField(_l("Only check the file, write nothing"))


def _manageable() -> list[Cluster]:
    """The clusters whose rounds the user may enter; 403 when there is none."""
    clusters = db.session.scalars(
        select(Cluster).where(Cluster.tenant_id == g.tenant.id).order_by(Cluster.name)
    ).all()
    mine = [c for c in clusters if may(current_user, "round.manage", c)]
    if not mine:
        require(current_user, "round.manage", g.tenant)  # coordinators of a region without clusters
    return mine


@bp.route("/rounds/import", methods=["GET", "POST"])
def upload():
    clusters = _manageable()
    form = RoundImportForm()
    outcome = None
    if form.validate_on_submit():
        outcome = round_import.import_rounds(
            current_user._get_current_object(),
            g.tenant.id,
            form.file.data.read(),
            dry_run=form.dry_run.data,
        )
        if outcome.written:
            flash(
                _(
                    "The file is imported. New rounds: %(rounds)d, values: %(values)d.",
                    rounds=len(outcome.rounds),
                    values=outcome.values,
                ),
                "success",
            )
            return redirect(url_for("round_import.upload"))
    status = 422 if (form.errors or (outcome and outcome.errors)) else 200
    return render_template(
        "benchmarking/import.html",
        form=form,
        outcome=outcome,
        sets=services.available_sets(g.tenant.id),
        clusters=clusters,
        columns=round_import.COLUMNS,
        max_rows=round_import.MAX_ROWS,
        pick=pick,
        locale=str(get_locale() or "en"),
    ), status


@bp.route("/rounds/import/example.csv")
def example():
    clusters = _manageable()
    data = round_import.example_csv(g.tenant.id, clusters[0].name if clusters else None)
    if data is None:
        abort(404)
    return _download(data, CSV_MIME, "rounds-example.csv")
