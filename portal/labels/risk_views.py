"""The region's label risks: labels lapsing with no renewal planned, clusters that can apply
for a higher level now, plans that finish after a label's latest renewal date. A page with
filters and pages, and the same list as CSV or Excel. Routes on the labels blueprint.

Who sees which cluster's lines is the privacy policy's decision (``values_view``): whether a
cluster can apply now rests on its values, so every line of a cluster is shown only to those
who may see them (coordinators and assessors all; a cluster's own people their cluster; the
region's observers the clusters that shared their report with them)."""

from __future__ import annotations

from datetime import date

from flask import Response, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.formatting import format_date
from portal.labels import calendar_data, services
from portal.labels.calendar import RISKS, Risk
from portal.labels.scheme import add_months
from portal.labels.views import bp
from portal.permissions import require
from portal.plans.spreadsheets import CSV_MIME, XLSX_MIME, download_name, to_csv, to_xlsx
from portal.privacy.policy import values_view
from portal.web.pagination import Page, page_args

RISK_LABELS = {
    "no_renewal": _l("Lapses with no renewal planned"),
    "can_apply": _l("Can apply now"),
    "plan_late": _l("Plan finishes after the latest renewal date"),
}
WITHIN = (3, 6, 12, 24)  # months ahead for lapsing labels
DEFAULT_WITHIN = 12
COLUMNS = (
    "cluster",
    "scheme",
    "level",
    "risk",
    "risk_text",
    "date",
    "label_expires_on",
    "plan_finish",
    "planned_too_late",
)


def _filters() -> dict:
    kind = request.args.get("kind", "")
    scheme = request.args.get("scheme", "")[:100]
    within = request.args.get("within", DEFAULT_WITHIN, type=int)
    return {
        "kind": kind if kind in RISKS else "",
        "scheme": scheme,
        "within": within if within in WITHIN else DEFAULT_WITHIN,
    }


def _risks(filters: dict):
    require(current_user, "label.view", g.tenant)
    today = date.today()
    schemes = services.current_schemes(g.tenant.id)
    found = calendar_data.region_risks(
        values_view(current_user, g.tenant),
        schemes,
        today,
        add_months(today, filters["within"]),
        filters["kind"],
        filters["scheme"],
    )
    return found, schemes, today


def detail(risk: Risk) -> str:
    """What the line means, in the user's language."""
    dates = risk.dates
    if risk.kind == "can_apply":
        return _("Every rule of %(level)s is met today.", level=dates.level.name)
    if risk.kind == "plan_late":
        return _(
            "The plan finishes on %(finish)s, after the latest renewal date %(date)s.",
            finish=format_date(risk.plan_finish),
            date=format_date(dates.renew_by),
        )
    if dates.too_late:
        return _(
            "Lapses on %(date)s. The assessment planned on %(planned)s is too late to renew it.",
            date=format_date(dates.renew_by),
            planned=format_date(dates.too_late[0].planned_on),
        )
    return _(
        "Lapses on %(date)s; no assessment is planned before then.", date=format_date(risk.day)
    )


@bp.route("/labels/risk")
def risk():
    filters = _filters()
    found, schemes, today = _risks(filters)
    page, per_page = page_args()
    pages = max(1, -(-len(found) // per_page))
    page = min(page, pages)
    shown = found.rows((page - 1) * per_page, page * per_page)
    return render_template(
        "labels/risk.html",
        pagination=Page(shown, page, per_page, len(found)),
        hidden=found.hidden,
        filters=filters,
        filtered=bool(filters["kind"] or filters["scheme"]),
        scheme_options=schemes,
        risk_labels=RISK_LABELS,
        within_options=WITHIN,
        detail=detail,
        today=today,
    )


def _rows(filters: dict) -> list[list]:
    found, _schemes, _today = _risks(filters)
    rows = []
    for risk, cluster in found.rows():
        dates = risk.dates
        rows.append(
            [
                cluster.name,
                str(risk.scheme.title),
                str(dates.level.name),
                risk.kind,
                str(RISK_LABELS[risk.kind]),
                risk.day,
                dates.held.expires_on if dates.held else None,
                risk.plan_finish,
                "; ".join(p.planned_on.isoformat() for p in dates.too_late),
            ]
        )
    return rows


def _download(data: bytes, mimetype: str, extension: str) -> Response:
    name = download_name("label-risks", g.tenant.slug, extension=extension)
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.route("/labels/risk.csv")
def risk_csv():
    return _download(to_csv(COLUMNS, _rows(_filters())), CSV_MIME, ".csv")


@bp.route("/labels/risk.xlsx")
def risk_xlsx():
    rows = _rows(_filters())
    return _download(to_xlsx([(_("Label risks"), list(COLUMNS), rows)]), XLSX_MIME, ".xlsx")
