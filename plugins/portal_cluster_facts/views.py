from __future__ import annotations

from flask import flash, redirect, url_for

from portal.toolkit import (
    Cluster,
    TenantBlueprint,
    _,
    current_user,
    get_or_404,
    render_template,
    require,
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
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "cluster.view", cluster)
    form = KeyFigureForm()
    if form.validate_on_submit():
        require(current_user, "facts.edit", cluster)
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        services.save_figure(current_user, cluster, data)
        flash(_("The key figures for %(year)s are saved.", year=form.year.data), "success")
        return redirect(url_for("cluster_facts.cluster", cluster_id=cluster.id))
    return render_template(
        "cluster_facts/cluster.html",
        cluster=cluster,
        form=form,
        figures=services.figures_of(cluster.id),
    ), 422 if form.errors else 200


@bp.route("/clusters/<int:cluster_id>/<int:figure_id>/delete", methods=["POST"])
def delete(cluster_id: int, figure_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    figure = get_or_404(KeyFigure, figure_id, belongs_to={"cluster_id": cluster.id})
    services.delete_figure(current_user, cluster, figure)
    flash(_("The key figures for %(year)s are deleted.", year=figure.year), "success")
    return redirect(url_for("cluster_facts.cluster", cluster_id=cluster.id))
