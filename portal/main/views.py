"""The landing page, the tenant dashboard, and the tenant's branding assets."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.accounts.models import Membership
from portal.clusters.models import Cluster, MemberOrganisation
from portal.extensions import db
from portal.main.front_page import front_page
from portal.main.front_scopes import page_scopes
from portal.permissions import require
from portal.plugin_panels import panels_for
from portal.tenancy.branding import theme_css
from portal.tenancy.models import Tenant
from portal.tenancy.scope import unscoped
from portal.web.page_cache import cached_page

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    """The regions the user belongs to; straight in when there is just one."""
    if current_user.is_platform_admin:
        tenants = db.session.scalars(select(Tenant).order_by(Tenant.name)).all()
        roles = {}
    else:
        with unscoped():
            rows = db.session.execute(
                select(Tenant, Membership.role)
                .join(Membership, Membership.tenant_id == Tenant.id)
                .where(Membership.user_id == current_user.id, Membership.active)
                .order_by(Tenant.name)
            ).all()
        tenants = [t for t, _ in rows]
        roles = {t.id: r for t, r in rows}
        if len(tenants) == 1:
            return redirect(url_for("main.dashboard", tenant=tenants[0].slug))
    return render_template("main/home.html", tenants=tenants, roles=roles)


@bp.route("/hello")
def hello():
    """A bare endpoint through the same stack: the yardstick of the benchmark."""
    return Response("hello", mimetype="text/plain")


@bp.route("/favicon.ico")
def favicon():
    # Browsers ask for it at the root; without this route "/<tenant>/" would catch it.
    from flask import send_from_directory

    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )


@bp.route("/<tenant>/")
@cached_page(scopes=lambda: page_scopes(current_user, g.tenant, date.today()))
def dashboard():
    """The region's front page, per role (portal.main.front_page gathers what it shows)."""
    require(current_user, "tenant.view", g.tenant)
    # Two counts by the tenant index, not a join of every member to its cluster.
    totals = db.session.execute(
        select(
            select(func.count(Cluster.id)).scalar_subquery(),
            select(func.count(MemberOrganisation.id)).scalar_subquery(),
        )
    ).one()
    return render_template(
        "main/dashboard.html",
        page=front_page(current_user, g.tenant, date.today()),
        cluster_count=totals[0],
        member_count=totals[1],
        plugin_panels=panels_for("dashboard_panels", tenant=g.tenant),
    )


@bp.route("/<tenant>/theme.css")
def tenant_theme():
    response = Response(theme_css(g.tenant.accent_color), mimetype="text/css")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.route("/<tenant>/logo")
def tenant_logo():
    logo = db.session.scalar(select(Tenant.logo_png).where(Tenant.id == g.tenant.id))
    if not logo:
        abort(404)
    response = Response(logo, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.route("/plugins/<plugin>/static/<path:filename>")
def plugin_static(plugin: str, filename: str):
    from flask import send_from_directory

    folders = current_app.extensions["portal_plugin_static"]
    if plugin not in folders:
        abort(404)
    return send_from_directory(folders[plugin], filename, max_age=3600)
