"""Benchmarking rounds of a cluster: the grid of traffic lights, changes, entering a round."""

from __future__ import annotations

import math
from contextlib import nullcontext

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.benchmarking import services
from portal.benchmarking.forms import KIND_LABELS, CorrectionForm, RoundForm
from portal.benchmarking.indicators import IndicatorSet, pick
from portal.benchmarking.models import BenchmarkRound, RoundKind
from portal.benchmarking.reading import cluster_reading, offered_set
from portal.clusters.models import Cluster
from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.i18n import ROLE_LABELS
from portal.locking import saving
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
    reading = cluster_reading(current_user, cluster)
    if not reading.values:
        # The privacy policy: this viewer sees aggregates only, never this cluster's values.
        return render_template("benchmarking/rounds_hidden.html", **context)
    # A sharing choice shows the cluster's evidence; its own circle sees its workings too.
    workings = reading.workings
    grids = services.cluster_grids(cluster.id, evidence_only=not workings)
    comparison, reordered = None, False
    old_id, new_id = request.args.get("old", type=int), request.args.get("new", type=int)
    if old_id and new_id:
        rounds_by_id = {r.id: r for grid in grids for r in grid.rounds}
        old, new = rounds_by_id.get(old_id), rounds_by_id.get(new_id)
        if old and new and old is not new and old.indicator_set == new.indicator_set:
            indicator_set = next(gr.indicator_set for gr in grids if old in gr.rounds)
            # Always from the older round to the newer one; a reversed pair is put in order
            # (and the page says so), so "improved" never means "declined".
            if (old.held_on, old.id) > (new.held_on, new.id):
                old, new, reordered = new, old, True
            if indicator_set is not None:
                comparison = (old, new, services.compare(indicator_set, old, new))
    return render_template(
        "benchmarking/rounds.html",
        grids=grids,
        comparison=comparison,
        reordered=reordered,
        coverage=_coverage(grids),
        workings=workings,
        **context,
    )


def _coverage(grids) -> dict:
    """Round id -> how much of its indicator set version it covers (``Coverage``)."""
    found = {}
    for grid in grids:
        for round_ in grid.rounds:
            indicator_set = (
                services.find_set(round_.indicator_set, round_.set_version) or grid.indicator_set
            )
            if indicator_set is not None:
                ids = [i for i, by_round in grid.cells.items() if round_.id in by_round]
                found[round_.id] = indicator_set.coverage(ids)
    return found


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


def _round_page(cluster, indicator_set, form, round_=None, errors=None, status=200, conflict=None):
    current = {v.indicator_id: v for v in round_.values} if round_ else {}
    return render_template(
        "benchmarking/round_form.html",
        cluster=cluster,
        indicator_set=indicator_set,
        form=form,
        round=round_,
        correcting=isinstance(form, CorrectionForm),
        current=current,
        errors=errors or {},
        pick=pick,
        locale=_locale(),
        submitted=request.form if request.method == "POST" else None,
        conflict=conflict,
    ), status


def _offer_kinds(form: RoundForm, cluster: Cluster, round_: BenchmarkRound | None) -> None:
    """The kinds this user may enter; a round keeps its kind once confirmed."""
    if round_ is not None and round_.locked:
        kinds = [round_.kind]
    else:
        kinds = [k for k in RoundKind if services.may_enter(current_user, cluster, k)]
    form.kind.choices = [(k.value, KIND_LABELS[k]) for k in kinds]
    if request.method == "GET" and round_ is None and kinds:
        form.kind.data = (
            RoundKind.BENCHMARKING.value if RoundKind.BENCHMARKING in kinds else kinds[0].value
        )


def _save(
    cluster: Cluster, indicator_set: IndicatorSet, form: RoundForm, round_: BenchmarkRound | None
):
    values, errors = _values(indicator_set)
    if form.validate_on_submit() and not errors:
        data = {
            "held_on": form.held_on.data,
            "assessor": form.assessor.data,
            "kind": form.kind.data,
            "notes": form.notes.data,
            "confirm": request.form.get("confirm") == "1",
        }
        try:
            with saving(round_, form) if round_ is not None else nullcontext():
                if isinstance(form, CorrectionForm):
                    data["reason"] = form.reason.data
                    saved = services.correct_round(
                        current_user, round_, indicator_set, data, values
                    )
                else:
                    saved = services.save_round(
                        current_user, cluster, indicator_set, data, values, existing=round_
                    )
        except ConflictError as exc:
            return _round_page(cluster, indicator_set, form, round_, errors, 409, exc)
        except ServiceError as exc:
            db.session.rollback()
            show_service_error_fields(form, exc, errors)
        else:
            if isinstance(form, CorrectionForm):
                flash(_("The correction is saved; the replaced result is kept."), "success")
            elif saved.confirmed and saved.kind != RoundKind.SELF_ASSESSMENT:
                flash(_("The round is saved and confirmed: it is locked now."), "success")
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
    indicator_set = offered_set(
        g.tenant.id, request.args.get("set", ""), request.args.get("version", "")
    )
    if indicator_set is None:
        abort(404)
    form = RoundForm()
    _offer_kinds(form, cluster, None)
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
    """A draft (or a self-assessment) is changed here; a confirmed benchmarking or audit is
    corrected here by an assessor, with a reason."""
    round_ = _round(round_id)
    require(current_user, "round.manage", round_)
    indicator_set = services.find_set(round_.indicator_set, round_.set_version)
    if indicator_set is None:
        abort(404)  # the plugin that ships the set is gone
    if round_.locked:
        if not may(current_user, "round.correct", round_):
            flash(
                _("This round is confirmed and locked. An assessor corrects it, with a reason."),
                "error",
            )
            return redirect(url_for("benchmarking.round_history", round_id=round_.id))
        form = CorrectionForm(obj=round_)
    else:
        form = RoundForm(obj=round_)
    _offer_kinds(form, round_.cluster, round_)
    if request.method == "POST":
        return _save(round_.cluster, indicator_set, form, round_)
    return _round_page(round_.cluster, indicator_set, form, round_)


@bp.route("/rounds/<int:round_id>/confirm", methods=["POST"])
def round_confirm(round_id: int):
    round_ = _round(round_id)
    require(current_user, "round.assess", round_)
    try:
        services.confirm_round(current_user, round_)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The round is confirmed: it is locked now."), "success")
    return redirect(
        url_for("benchmarking.rounds", cluster_id=round_.cluster_id, _anchor=f"round-{round_.id}")
    )


@bp.route("/rounds/<int:round_id>/history")
def round_history(round_id: int):
    """Who entered and confirmed the round, and every correction with the result it replaced."""
    round_ = _round(round_id)
    require(current_user, "round.workings", round_)
    return render_template(
        "benchmarking/history.html",
        round=round_,
        cluster=round_.cluster,
        indicator_set=services.find_set(round_.indicator_set, round_.set_version),
        pick=pick,
        locale=_locale(),
        kind_labels=KIND_LABELS,
        role_labels=ROLE_LABELS,
    )


@bp.route("/rounds/<int:round_id>/delete", methods=["POST"])
def round_delete(round_id: int):
    round_ = _round(round_id)
    require(current_user, "round.manage", round_)
    cluster_id = round_.cluster_id
    try:
        services.delete_round(current_user, round_)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The round is deleted."), "success")
    return redirect(url_for("benchmarking.rounds", cluster_id=cluster_id))
