"""Reference portfolios (coordinators).

* ``compare.references``: the region's own portfolios and the ones other regions published;
* ``compare.reference_import`` and ``compare.reference_import_confirm``: a CSV or XLSX file
  becomes a portfolio (check first and keep the file, then confirm: all or nothing);
* ``compare.reference_export``: an own portfolio in the aggregates import format (CSV, XLSX);
* ``compare.reference_example``: the example files (their rows marked as examples);
* ``compare.reference_delete``: delete (or, for a published one, withdraw) an own portfolio;
* ``compare.publish``: publish the forum's anonymised aggregates for other regions;

The smallest group shown and whether names are shown are the core's privacy settings.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, url_for
from flask_babel import get_locale
from sqlalchemy import select

from portal.toolkit import (
    CSV_MIME,
    XLSX_MIME,
    ImportStep,
    ServiceError,
    Tenant,
    _,
    check_upload,
    confirm_import,
    current_tenant,
    current_user,
    db,
    download_name,
    find_indicator_set,
    get_or_404,
    import_status,
    indicator_sets_for,
    may,
    pick_text,
    register_import_kind,
    render_template,
    require,
    start_import_job,
    to_import_job,
    values_view,
)
from portal_compare import reference_export, reference_import
from portal_compare.blueprint import bp
from portal_compare.forms import PublishForm, ReferenceImportForm, set_choices
from portal_compare.models import ReferencePortfolio
from portal_compare.references import usable_references


def _locale() -> str:
    return str(get_locale() or "en")


def _sets(tenant) -> dict[str, object]:
    """The region's indicator set versions by select value ("id:version")."""
    return {f"{s.id}:{s.version}": s for s in indicator_sets_for(tenant.id)}


def _user():
    return current_user._get_current_object()


@bp.route("/references/")
def references():
    tenant = current_tenant()
    require(current_user, "compare.view", tenant)
    portfolios = usable_references(tenant.id, own_published=True)
    own = [p for p in portfolios if p.tenant_id == tenant.id]
    others = [p for p in portfolios if p.tenant_id != tenant.id]
    # Regions that published a portfolio opted in to being named with it.
    regions = (
        dict(
            db.session.execute(
                select(Tenant.id, Tenant.name).where(Tenant.id.in_({p.tenant_id for p in others}))
            ).all()
        )
        if others
        else {}
    )
    titles = {}
    for p in portfolios:
        key = (p.indicator_set, p.set_version)
        if key not in titles:
            found = find_indicator_set(*key)
            titles[key] = (
                f"{pick_text(found.title, _locale())} {p.set_version}"
                if found is not None
                else f"{p.indicator_set} {p.set_version}"
            )
    publish_form = None
    if may(current_user, "compare.manage", tenant):
        publish_form = PublishForm()
        publish_form.indicator_set.choices = set_choices(
            _sets(tenant).values(), pick_text, _locale()
        )
    return render_template(
        "compare/references/index.html",
        own=own,
        others=others,
        regions=regions,
        titles=titles,
        publish_form=publish_form,
        min_group=values_view(current_user, tenant).min_group,
    )


def _job_importer(user, tenant_id: int, _progress, _target: str):
    """In a job: the region's importer, as long as the uploader may still manage it."""
    require(user, "compare.manage", db.session.get(Tenant, tenant_id))
    return reference_import.importer(user, tenant_id)


# The front page links a checked file not confirmed yet to this page; a large file is
# checked (and a long one written) by a job with its own page.
register_import_kind(
    reference_import.KIND,
    page=lambda _target: url_for("compare.reference_import"),
    back=lambda _target: (_("Reference portfolios"), url_for("compare.references")),
    job=_job_importer,
)


def _import_page(form: ReferenceImportForm, sets: dict, step: ImportStep | None):
    return render_template(
        "compare/references/import.html",
        form=form,
        step=step,
        sets=list(sets.values()),
        pick=pick_text,
        locale=_locale(),
        max_rows=reference_import.MAX_ROWS,
        max_mb=reference_import.MAX_FILE_BYTES // (1024 * 1024),
        kinds=reference_import.KIND_LABELS,
    ), import_status(step, form)


def _import_form(sets: dict, formdata=True) -> ReferenceImportForm:
    form = ReferenceImportForm() if formdata else ReferenceImportForm(formdata=None)
    form.indicator_set.choices = set_choices(sets.values(), pick_text, _locale())
    return form


@bp.route("/references/import", methods=["GET", "POST"], endpoint="reference_import")
def import_page():
    """Step one: the file is checked and kept; nothing is written."""
    tenant = current_tenant()
    require(current_user, "compare.manage", tenant)
    sets = _sets(tenant)
    form = _import_form(sets)
    step = None
    if form.validate_on_submit():
        indicator_set = sets[form.indicator_set.data]
        problem = reference_import.name_problem(tenant.id, form.name.data, indicator_set)
        if problem:
            form.name.errors = [*form.name.errors, problem]
        else:
            step = check_upload(
                reference_import.importer(_user(), tenant.id),
                form.file.data,
                target=reference_import.TARGET,
                options=reference_import.options(form.kind.data, indicator_set, form.name.data),
            )
    return to_import_job(step) or _import_page(form, sets, step)


@bp.route("/references/import/confirm", methods=["POST"], endpoint="reference_import_confirm")
def import_confirm():
    """Step two: the kept file (and the name) is checked again and written."""
    tenant = current_tenant()
    require(current_user, "compare.manage", tenant)
    importer = reference_import.importer(_user(), tenant.id)
    job = start_import_job(importer, target=reference_import.TARGET)
    if job is not None:  # a long file: written by a job, its page shows how far it is
        return to_import_job(job)
    step = confirm_import(importer, target=reference_import.TARGET)
    if step.state == "written":
        flash(reference_import.describe(step.outcome), "success")
        return redirect(url_for("compare.references"))
    return _import_page(_import_form(_sets(tenant), formdata=False), _sets(tenant), step)


@bp.route("/references/example-<kind>.csv")
def reference_example(kind: str):
    tenant = current_tenant()
    require(current_user, "compare.manage", tenant)
    sets = list(_sets(tenant).values())
    if kind not in reference_import.KINDS or not sets:
        abort(404)
    data = reference_export.example_csv(kind, sets[0])
    return _download(data, CSV_MIME, f"reference-{kind}-example.csv")


@bp.route(
    "/references/<int:portfolio_id>/aggregates.xlsx",
    defaults={"fmt": "xlsx"},
    endpoint="reference_export",
)
@bp.route(
    "/references/<int:portfolio_id>/aggregates.csv",
    defaults={"fmt": "csv"},
    endpoint="reference_export",
)
def export_portfolio(portfolio_id: int, fmt: str):
    """One of the region's own portfolios in the aggregates import format."""
    portfolio = get_or_404(ReferencePortfolio, portfolio_id)  # the region's own only
    require(current_user, "compare.manage", portfolio)
    indicator_set = find_indicator_set(portfolio.indicator_set, portfolio.set_version)
    name = download_name(
        "reference", portfolio.id, portfolio.name, "aggregates", extension="." + fmt
    )
    if fmt == "xlsx":
        data = reference_export.portfolio_xlsx(portfolio, indicator_set)
        return _download(data, XLSX_MIME, name)
    return _download(reference_export.portfolio_csv(portfolio, indicator_set), CSV_MIME, name)


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


@bp.route("/references/<int:portfolio_id>/delete", methods=["POST"])
def reference_delete(portfolio_id: int):
    portfolio = get_or_404(ReferencePortfolio, portfolio_id)  # the region's own only
    require(current_user, "compare.manage", portfolio)
    name, published = portfolio.name, portfolio.published
    reference_import.delete_portfolio(portfolio)
    if published:
        flash(_("“%(name)s” is withdrawn: other regions no longer see it.", name=name), "success")
    else:
        flash(_("The reference portfolio “%(name)s” is deleted.", name=name), "success")
    return redirect(url_for("compare.references"))


@bp.route("/references/publish", methods=["POST"])
def publish():
    tenant = current_tenant()
    require(current_user, "compare.manage", tenant)
    sets = _sets(tenant)
    form = PublishForm()
    form.indicator_set.choices = set_choices(sets.values(), pick_text, _locale())
    if not form.validate_on_submit():
        flash(_("Choose an indicator set of this region to publish."), "error")
        return redirect(url_for("compare.references"))
    try:
        portfolio = reference_import.publish_aggregates(
            _user(), tenant, sets[form.indicator_set.data], values_view(_user(), tenant).min_group
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(
            _(
                "The forum's aggregates are published as “%(name)s”. Other regions can now "
                "compare with them; withdraw them here at any time.",
                name=portfolio.name,
            ),
            "success",
        )
    return redirect(url_for("compare.references"))
