"""Cluster pages: list, detail with members (htmx search and paging), edit, import."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal.benchmarking.models import BenchmarkRound
from portal.clusters import importer, services
from portal.clusters.forms import ClusterForm, MemberForm, MemberImportForm
from portal.clusters.models import Cluster, MemberOrganisation
from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.i18n import MEMBER_TYPE_LABELS
from portal.imports import web as imports_web
from portal.imports.service import Step
from portal.improvement.summaries import cluster_summary
from portal.locking import form_status, saving
from portal.permissions import may, require
from portal.plans.models import Plan
from portal.plans.progress import plans_progress
from portal.plans.spreadsheet_views import _download
from portal.plans.spreadsheets import CSV_MIME, XLSX_MIME, download_name
from portal.plugin_panels import panels_for
from portal.tenancy import cache_scopes, get_or_404
from portal.web.charts import bars
from portal.web.forms import show_service_error
from portal.web.htmx import wants_fragment
from portal.web.page_cache import cached_page
from portal.web.pagination import page_args, paginate

bp = Blueprint("clusters", __name__, url_prefix="/<tenant>/clusters")


@bp.route("/")
def index():
    require(current_user, "cluster.view")
    page, per_page = page_args()
    search = request.args.get("q", "").strip()[:100]
    pagination = paginate(services.clusters_with_counts(search), page, per_page, scalars=False)
    context = {"pagination": pagination, "search": search}
    if wants_fragment("cluster-list"):
        return render_template("clusters/_list.html", **context)
    return render_template("clusters/index.html", **context)


@bp.route("/new", methods=["GET", "POST"])
def create():
    require(current_user, "cluster.create")
    form = ClusterForm()
    if form.validate_on_submit():
        try:
            cluster = services.create_cluster(current_user, form.values(), g.tenant.id)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The cluster “%(name)s” is created.", name=cluster.name), "success")
            return redirect(url_for("clusters.detail", cluster_id=cluster.id))
    return render_template(
        "clusters/form.html", form=form, cluster=None
    ), 422 if form.errors else 200


def _members_context(cluster: Cluster) -> dict:
    page, per_page = page_args(default_per_page=20)
    search = request.args.get("q", "").strip()[:100]
    member_type = request.args.get("type", "")
    pagination = paginate(services.members_query(cluster, search, member_type), page, per_page)
    return {
        "cluster": cluster,
        "pagination": pagination,
        "search": search,
        "member_type": member_type,
        "member_type_labels": MEMBER_TYPE_LABELS,
    }


@bp.route("/<int:cluster_id>")
# Its plans and the actions it is responsible for (in any plan) touch the cluster's scope; a
# programme's own rows the programmes'; its members, rounds, labels and plugins the region's.
@cached_page(
    scopes=lambda cluster_id: [cache_scopes.cluster(cluster_id), cache_scopes.PROGRAMMES],
    shared=True,
)
def detail(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "cluster.view", cluster)
    members = _members_context(cluster)
    if wants_fragment("members"):
        return render_template("clusters/_members.html", **members)
    composition = services.composition(cluster.id)
    chart = bars([(MEMBER_TYPE_LABELS[t.value], n) for t, n in composition])
    plans = db.session.scalars(
        select(Plan).where(Plan.cluster_id == cluster.id).order_by(Plan.start_date.desc())
    ).all()
    rounds = _rounds_summary(cluster)
    return render_template(
        "clusters/detail.html",
        rounds=rounds,
        plans=plans,
        plans_progress=plans_progress([p.id for p in plans]),
        chart=chart,
        plugin_panels=panels_for("cluster_panels", cluster=cluster),
        improvement=cluster_summary(cluster, current_user, date.today()),
        **members,
    )


def _rounds_summary(cluster: Cluster) -> tuple[int, Any] | None:
    """(how many rounds, the latest day) as far as the viewer may see the cluster's values
    (even that tells when it was assessed); None when they may not."""
    if not may(current_user, "round.view", cluster):
        return None
    query = select(func.count(BenchmarkRound.id), func.max(BenchmarkRound.held_on)).where(
        BenchmarkRound.cluster_id == cluster.id
    )
    if not may(current_user, "round.workings", cluster):
        query = query.where(BenchmarkRound.counts_as_evidence())
    count, latest = db.session.execute(query).one()
    return count, latest


@bp.route("/<int:cluster_id>/edit", methods=["GET", "POST"])
def edit(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "cluster.edit", cluster)
    form = ClusterForm(obj=cluster)
    conflict = None
    if form.validate_on_submit():
        try:
            with saving(cluster, form):
                services.update_cluster(current_user, cluster, form.values())
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("clusters.detail", cluster_id=cluster.id))
    return render_template(
        "clusters/form.html", form=form, cluster=cluster, conflict=conflict
    ), form_status(form, conflict)


@bp.route("/<int:cluster_id>/delete", methods=["POST"])
def delete(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "cluster.delete", cluster)
    name = cluster.name
    services.delete_cluster(current_user, cluster)
    flash(_("The cluster “%(name)s” is deleted.", name=name), "success")
    return redirect(url_for("clusters.index"))


@bp.route("/<int:cluster_id>/members/new", methods=["GET", "POST"])
def member_create(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "member.create", cluster)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            member = services.add_member(current_user, cluster, form.values())
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("“%(name)s” is added.", name=member.name), "success")
            return redirect(url_for("clusters.detail", cluster_id=cluster.id))
    return render_template("clusters/member_form.html", form=form, cluster=cluster, member=None), (
        422 if form.errors else 200
    )


def _member_of(cluster: Cluster, member_id: int) -> MemberOrganisation:
    member = get_or_404(MemberOrganisation, member_id, belongs_to={"cluster_id": cluster.id})
    return member


@bp.route("/<int:cluster_id>/members/<int:member_id>/edit", methods=["GET", "POST"])
def member_edit(cluster_id: int, member_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    member = _member_of(cluster, member_id)
    require(current_user, "member.edit", member)
    form = MemberForm(
        obj=member, member_type=member.member_type.value if request.method == "GET" else None
    )
    conflict = None
    if form.validate_on_submit():
        try:
            with saving(member, form):
                services.update_member(current_user, member, form.values())
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("clusters.detail", cluster_id=cluster.id))
    return render_template(
        "clusters/member_form.html", form=form, cluster=cluster, member=member, conflict=conflict
    ), form_status(form, conflict)


@bp.route("/<int:cluster_id>/members/<int:member_id>/delete", methods=["POST"])
def member_delete(cluster_id: int, member_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    member = _member_of(cluster, member_id)
    require(current_user, "member.delete", member)
    name = member.name
    services.delete_member(current_user, member)
    flash(_("“%(name)s” is removed.", name=name), "success")
    return redirect(url_for("clusters.detail", cluster_id=cluster.id))


def _import_page(cluster: Cluster, form: MemberImportForm, step: Step | None):
    return render_template(
        "clusters/import.html",
        form=form,
        cluster=cluster,
        step=step,
        member_type_labels=MEMBER_TYPE_LABELS,
    ), imports_web.status(step, form)


@bp.route("/<int:cluster_id>/members/import", methods=["GET", "POST"])
def member_import(cluster_id: int):
    """Step one: the file is checked and kept; nothing is written."""
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "member.import", cluster)
    form = MemberImportForm()
    step = None
    if form.validate_on_submit():
        user = current_user._get_current_object()
        step = imports_web.check_upload(
            importer.importer(user, cluster), form.file.data, target=f"cluster:{cluster.id}"
        )
    return imports_web.to_job(step) or _import_page(cluster, form, step)


@bp.route("/<int:cluster_id>/members/import/confirm", methods=["POST"])
def member_import_confirm(cluster_id: int):
    """Step two: the checked file is checked again and written."""
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "member.import", cluster)
    user = current_user._get_current_object()
    target = f"cluster:{cluster.id}"
    job = imports_web.start_job(importer.importer(user, cluster), target=target)
    if job is not None:  # a large file: written by a job, its page shows the progress
        return redirect(url_for("import_jobs.show", job_id=job.id), code=303)
    step = imports_web.confirm(importer.importer(user, cluster), target=target)
    if step.state == "written":
        flash(_("%(n)d members are imported.", n=len(step.outcome.rows)), "success")
        return redirect(url_for("clusters.detail", cluster_id=cluster.id))
    return _import_page(cluster, MemberImportForm(formdata=None), step)


@bp.route("/<int:cluster_id>/members.xlsx", defaults={"fmt": "xlsx"})
@bp.route("/<int:cluster_id>/members.csv", defaults={"fmt": "csv"})
def member_export(cluster_id: int, fmt: str):
    """The cluster's members in the import format."""
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "member.view", cluster)
    name = download_name("cluster", cluster.id, cluster.name, "members", extension="." + fmt)
    if fmt == "xlsx":
        return _download(importer.members_xlsx(cluster), XLSX_MIME, name)
    return _download(importer.members_csv(cluster), CSV_MIME, name)


@bp.route("/members-template.csv")
def member_template():
    require(current_user, "member.view")
    return _download(importer.sample_csv(), CSV_MIME, "members-example.csv")
