"""The programme progress report for funders, as a page and as a PDF of the same page; the
cover's reader line for every report (template global ``report_audience``)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, g, render_template
from flask_login import current_user

from portal.permissions import require
from portal.plugin_panels import panels_for
from portal.programmes.models import Programme
from portal.reports.audience import report_audience
from portal.reports.pdf import pdf_response
from portal.reports.programme import programme_report
from portal.tenancy import get_or_404

bp = Blueprint("reports", __name__, url_prefix="/<tenant>/programmes")


@bp.app_template_global("report_audience")
def _audience():
    """Who the report on this page is for (the cover's lines)."""
    return report_audience(current_user, g.tenant)


def _programme_page(programme_id: int) -> tuple[Programme, str]:
    programme = get_or_404(Programme, programme_id)
    require(current_user, "programme.view", programme)
    today = date.today()
    html = render_template(
        "reports/programme.html",
        report=programme_report(programme, current_user, g.tenant, today),
        sections=panels_for("programme_report_sections", programme=programme, today=today),
    )
    return programme, html


@bp.route("/<int:programme_id>/report")
def programme(programme_id: int):
    return _programme_page(programme_id)[1]


@bp.route("/<int:programme_id>/report.pdf")
def programme_pdf(programme_id: int):
    programme, html = _programme_page(programme_id)
    return pdf_response(html, programme.name, "progress", date.today().isoformat())
