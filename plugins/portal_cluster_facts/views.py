from __future__ import annotations

from contextlib import nullcontext

from flask import flash, redirect, request, url_for

from portal.toolkit import (
    Cluster,
    ConflictError,
    TenantBlueprint,
    _,
    current_user,
    form_status,
    get_or_404,
    render_template,
    require,
    saving,
)
from portal_cluster_facts import services
from portal_cluster_facts.forms import KeyFigureForm
from portal_cluster_facts.models import KeyFigure

bp = TenantBlueprint("cluster_facts", __name__, url_prefix="/facts")


@bp.route("/")
def overview():
    require(current_user, "cluster.view")
    rows = services.latest_per_cluster()
    return render_template("cluster_facts/overview.html", rows=rows, totals=services.totals(rows))


@bp.route("/clusters/<int:cluster_id>", methods=["GET", "POST"])
def cluster(cluster_id: int):
    """The cluster's figures per year and the form to report a year; ``?year=`` fills the
    form with that year's figures (and their version) to change them."""
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "cluster.view", cluster)
    editing = None
    if request.method == "GET":
        editing = services.figure_for(cluster.id, request.args.get("year", type=int))
    form = KeyFigureForm(obj=editing)
    conflict = None
    if form.validate_on_submit():
        require(current_user, "facts.edit", cluster)
        data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "version")}
        # A year reported afresh (the form names no version) that is reported already is
        # refused, never replaced silently: 409 with the stored figures, the input kept and
        # the form moved on to their version, so saving again replaces them knowingly. A form
        # filled from the year's figures is refused when someone changed them meanwhile.
        figure = services.figure_for(cluster.id, form.year.data)
        reported = _(
            "The key figures for %(year)s are reported already. Here is what they say; to "
            "replace them with yours, check your input below and save again.",
            year=form.year.data,
        )
        try:
            with (
                saving(figure, form, missing_message=reported)
                if figure is not None
                else nullcontext()
            ):
                services.save_figure(current_user, cluster, data)
        except ConflictError as exc:
            conflict = exc
        else:
            flash(_("The key figures for %(year)s are saved.", year=form.year.data), "success")
            return redirect(url_for("cluster_facts.cluster", cluster_id=cluster.id))
    return render_template(
        "cluster_facts/cluster.html",
        cluster=cluster,
        form=form,
        conflict=conflict,
        figures=services.figures_of(cluster.id),
    ), form_status(form, conflict)


@bp.route("/clusters/<int:cluster_id>/<int:figure_id>/delete", methods=["POST"])
def delete(cluster_id: int, figure_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    figure = get_or_404(KeyFigure, figure_id, belongs_to={"cluster_id": cluster.id})
    services.delete_figure(current_user, cluster, figure)
    flash(_("The key figures for %(year)s are deleted.", year=figure.year), "success")
    return redirect(url_for("cluster_facts.cluster", cluster_id=cluster.id))
