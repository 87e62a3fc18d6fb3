"""Benchmarking rounds of a cluster: the grid of traffic lights, changes, entering a round."""

from __future__ import annotations

import math

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.benchmarking import services
from portal.benchmarking.forms import RoundForm
from portal.benchmarking.indicators import IndicatorSet, pick
from portal.benchmarking.models import BenchmarkRound
from portal.clusters.models import Cluster
from portal.errors import ServiceError
from portal.permissions import may, require
from portal.plans.action_import import _parse_float
from portal.tenancy import get_or_404
from portal.web.forms import show_service_error

bp = Blueprint("benchmarking", __name__, url_prefix="/<tenant>")


def _locale() -> str:
    return str(get_locale() or "en")


@bp.route("/clusters/<int:cluster_id>/rounds")
def rounds(cluster_id: int):
    from portal.privacy.models import Audience
    from portal.privacy.services import choice_in_force

    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "tenant.view", cluster)
    shared = choice_in_force(cluster.tenant_id, Audience.OBSERVERS, cluster.id)
    context = {
        "cluster": cluster,
        "sets": services.available_sets(g.tenant.id),
        "pick": pick,
        "locale": _locale(),
        "shared_with_observers": shared,
    }
    if not may(current_user, "round.view", cluster):
        # The privacy policy: this viewer sees aggregates only, never this cluster's values.
        return render_template("benchmarking/rounds_hidden.html", **context)
    grids = services.cluster_grids(cluster.id)
    comparison = None
    old_id, new_id = request.args.get("old", type=int), request.args.get("new", type=int)
    if old_id and new_id:
        rounds_by_id = {r.id: r for grid in grids for r in grid.rounds}
        old, new = rounds_by_id.get(old_id), rounds_by_id.get(new_id)
        if old and new and old.indicator_set == new.indicator_set:
            indicator_set = next(gr.indicator_set for gr in grids if old in gr.rounds)
            if indicator_set is not None:
                comparison = (old, new, services.compare(indicator_set, old, new))
    return render_template(
        "benchmarking/rounds.html", grids=grids, comparison=comparison, **context
    )


def _values(indicator_set: IndicatorSet) -> tuple[dict, dict[str, list[str]]]:
    values, errors = {}, {}
    for indicator in indicator_set.indicators:
        raw = request.form.get(f"v-{indicator.id}", "").strip().replace(",", ".")
        comment = request.form.get(f"c-{indicator.id}", "")[:2000]
        if not raw:
            values[indicator.id] = (None, comment)
            continue
        try:
            number = _parse_float(raw)
            if not math.isfinite(number):
                raise ValueError(raw)
        except ValueError:
            errors[indicator.id] = [_("Enter a number.")]
            continue
        values[indicator.id] = (number, comment)
    return values, errors


def _round_page(cluster, indicator_set, form, round_=None, errors=None, status=200):
    current = {v.indicator_id: v for v in round_.values} if round_ else {}
    return render_template(
        "benchmarking/round_form.html",
        cluster=cluster,
        indicator_set=indicator_set,
        form=form,
        round=round_,
        current=current,
        errors=errors or {},
        pick=pick,
        locale=_locale(),
        submitted=request.form if request.method == "POST" else None,
    ), status


def _save(
    cluster: Cluster, indicator_set: IndicatorSet, form: RoundForm, round_: BenchmarkRound | None
):
    values, errors = _values(indicator_set)
    if form.validate_on_submit() and not errors:
        data = {
            "held_on": form.held_on.data,
            "assessor": form.assessor.data,
            "audit": form.audit.data,
            "notes": form.notes.data,
        }
        try:
            saved = services.save_round(
                current_user, cluster, indicator_set, data, values, existing=round_
            )
        except ServiceError as exc:
            show_service_error_fields(form, exc, errors)
        else:
            flash(_("The round is saved."), "success")
            return redirect(
                url_for("benchmarking.rounds", cluster_id=cluster.id, _anchor=f"round-{saved.id}")
            )
    return _round_page(cluster, indicator_set, form, round_, errors, 422)


def show_service_error_fields(form, exc: ServiceError, errors: dict) -> None:
    """Errors of the round's own fields go on the form; those of indicators on their rows."""
    on_form = {k: v for k, v in exc.field_errors.items() if hasattr(form, k)}
    errors.update({k: v for k, v in exc.field_errors.items() if k not in on_form})
    show_service_error(form, ServiceError(exc.message, on_form))


@bp.route("/clusters/<int:cluster_id>/rounds/new", methods=["GET", "POST"])
def round_create(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "round.manage", cluster)
    indicator_set = services.find_set(request.args.get("set", ""), request.args.get("version", ""))
    if indicator_set is None or indicator_set not in services.available_sets(g.tenant.id):
        abort(404)
    form = RoundForm()
    if request.method == "POST":
        return _save(cluster, indicator_set, form, None)
    return _round_page(cluster, indicator_set, form)


def _round(round_id: int) -> BenchmarkRound:
    return get_or_404(
        BenchmarkRound,
        round_id,
        selectinload(BenchmarkRound.values),
        selectinload(BenchmarkRound.cluster),
    )


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
def round_edit(round_id: int):
    round_ = _round(round_id)
    require(current_user, "round.manage", round_)
    indicator_set = services.find_set(round_.indicator_set, round_.set_version)
    if indicator_set is None:
        abort(404)  # the plugin that ships the set is gone
    form = RoundForm(obj=round_)
    if request.method == "POST":
        return _save(round_.cluster, indicator_set, form, round_)
    return _round_page(round_.cluster, indicator_set, form, round_)


@bp.route("/rounds/<int:round_id>/delete", methods=["POST"])
def round_delete(round_id: int):
    round_ = _round(round_id)
    require(current_user, "round.manage", round_)
    cluster_id = round_.cluster_id
    services.delete_round(current_user, round_)
    flash(_("The round is deleted."), "success")
    return redirect(url_for("benchmarking.rounds", cluster_id=cluster_id))
