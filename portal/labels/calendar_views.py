"""A cluster's label calendar (its labels and when they lapse, when each next level can be
reached, the latest renewal dates and its plan's projected finish on one timeline) and the
assessments it plans. Routes on the labels blueprint."""

from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.clusters.models import Cluster
from portal.errors import ConflictError, ServiceError
from portal.labels import calendar_data, planning, services
from portal.labels.calendar import SchemeCalendar
from portal.labels.forms import PlannedAssessmentForm
from portal.labels.models import PlannedAssessment
from portal.labels.scheme import ClusterEvidence, add_months
from portal.labels.views import bp
from portal.locking import form_status, saving
from portal.permissions import may, require
from portal.privacy.policy import values_view
from portal.tenancy import get_or_404
from portal.web import timeline
from portal.web.forms import show_service_error

# Colours of the timeline's bars and marks (each also has its own shape and a table row).
TONES = {"bronze": "#8c5a2b", "silver": "#5b6770", "gold": "#8a6100"}
PLAN_COLOUR = "#0072B2"


def _chart(calendar: SchemeCalendar, finish, sees: bool, today: date):
    """The scheme's timeline: a bar per label held and for the plan, marks for the planned
    assessments, the latest renewal dates and (for those who see the values) the earliest
    dates of the levels ahead."""
    items, marks = [], []
    for dates in calendar.held:
        items.append(
            {
                "label": _("%(level)s held", level=dates.level.name),
                "start": dates.held.awarded_on,
                "end": dates.held.expires_on,
                "tone": TONES.get(dates.level.tone, "#5b6770"),
            }
        )
        marks.append(
            {
                "label": _("Latest renewal date: %(level)s", level=dates.level.name),
                "day": dates.renew_by,
                "kind": "deadline",
            }
        )
    if finish is not None:
        items.append(
            {
                "label": _("Plan: %(title)s", title=finish.plan.title),
                "start": finish.plan.start_date,
                "end": finish.finish,
                "tone": PLAN_COLOUR,
            }
        )
    for planned in calendar.planned:
        marks.append(
            {
                "label": _(
                    "Planned: %(kind)s", kind=planning.KIND_LABELS.get(planned.kind, planned.kind)
                ),
                "day": planned.planned_on,
                "kind": "planned",
            }
        )
    if sees:
        for dates in calendar.ahead:
            if dates.earliest is not None:
                marks.append(
                    {
                        "label": _("Earliest: %(level)s", level=dates.level.name),
                        "day": dates.earliest,
                        "kind": "earliest",
                    }
                )
    if not items and not marks:
        return None
    chart = timeline.build(today, add_months(today, 12), items, marks, today, left=200)
    for bar, item in zip(chart.bars, items, strict=True):
        bar.colour = item["tone"]
    chart.marks.sort(key=lambda m: m.day)
    return chart


def _calendar_page(cluster: Cluster, form: PlannedAssessmentForm | None, status: int = 200):
    today = date.today()
    schemes = services.current_schemes(g.tenant.id)
    # Awarded labels, planned assessments and plans are for everyone of the region; the
    # rules' verdicts, the earliest dates and what is missing rest on the cluster's values,
    # which the privacy policy shows only to those who may see them.
    sees = values_view(current_user, g.tenant).sees(cluster.id)
    evidence = services.clusters_evidence([cluster.id]).get(cluster.id, ClusterEvidence())
    if not sees:
        evidence = ClusterEvidence(labels=evidence.labels)
    planned = calendar_data.planned_assessments([cluster.id]).get(cluster.id, [])
    finish = calendar_data.plan_finishes([cluster.id], today).get(cluster.id)
    found = calendar_data.calendars(
        [cluster.id],
        schemes,
        today,
        evidence={cluster.id: evidence},
        planned={cluster.id: planned},
        finishes={cluster.id: finish} if finish else {},
    )[cluster.id]
    too_late = {p.id for c in found for d in c.levels for p in d.too_late}
    can_plan = may(current_user, "label.plan", cluster)
    if form is None and can_plan and schemes:
        form = PlannedAssessmentForm(formdata=None).offer(schemes)
    return render_template(
        "labels/calendar.html",
        cluster=cluster,
        calendars=[(c, _chart(c, finish, sees, today)) for c in found],
        finish=finish,
        planned=planned,
        too_late=too_late,
        today=today,
        sees_values=sees,
        can_plan=can_plan,
        form=form,
        scheme_titles={s.id: s.title for s in schemes},
        level_names={(s.id, lvl.id): lvl.name for s in schemes for lvl in s.levels},
        kind_labels=planning.KIND_LABELS,
    ), status


@bp.route("/clusters/<int:cluster_id>/labels/calendar")
def calendar(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "label.view", cluster)
    return _calendar_page(cluster, None)


@bp.route("/clusters/<int:cluster_id>/labels/planned", methods=["POST"])
def plan_create(cluster_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "label.plan", cluster)
    schemes = services.current_schemes(g.tenant.id)
    form = PlannedAssessmentForm().offer(schemes)
    if form.validate_on_submit():
        try:
            planning.plan_assessment(current_user, cluster, form.values(), schemes)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The assessment is planned."), "success")
            return redirect(url_for("labels.calendar", cluster_id=cluster.id))
    return _calendar_page(cluster, form, 422)


def _planned_of(cluster: Cluster, planned_id: int) -> PlannedAssessment:
    return get_or_404(PlannedAssessment, planned_id, belongs_to={"cluster_id": cluster.id})


@bp.route(
    "/clusters/<int:cluster_id>/labels/planned/<int:planned_id>/edit", methods=["GET", "POST"]
)
def plan_edit(cluster_id: int, planned_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    planned = _planned_of(cluster, planned_id)
    require(current_user, "label.plan", planned)
    schemes = services.current_schemes(g.tenant.id)
    form = PlannedAssessmentForm(obj=planned).offer(schemes)
    conflict = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            with saving(planned, form):
                planning.update_assessment(current_user, planned, form.values(), schemes)
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("labels.calendar", cluster_id=cluster.id))
    return render_template(
        "labels/planned_form.html", form=form, cluster=cluster, planned=planned, conflict=conflict
    ), form_status(form, conflict)


@bp.route("/clusters/<int:cluster_id>/labels/planned/<int:planned_id>/delete", methods=["POST"])
def plan_delete(cluster_id: int, planned_id: int):
    cluster = get_or_404(Cluster, cluster_id)
    planned = _planned_of(cluster, planned_id)
    require(current_user, "label.plan", planned)
    planning.drop_assessment(current_user, planned)
    flash(_("The planned assessment is removed."), "success")
    return redirect(url_for("labels.calendar", cluster_id=cluster.id))
