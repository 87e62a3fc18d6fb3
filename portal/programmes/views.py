"""Programme pages: the list, the overview at a glance, participants, milestones."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.clusters.models import Cluster
from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.improvement.summaries import programme_summary
from portal.locking import form_status, saving
from portal.permissions import require
from portal.plans import progress
from portal.plugin_panels import panels_for
from portal.programmes import listing, services
from portal.programmes.forms import GoalForm, MilestoneForm, ParticipantForm, ProgrammeForm
from portal.programmes.models import Milestone, Programme, ProgrammeCluster
from portal.tenancy import cache_scopes, get_or_404
from portal.web import timeline
from portal.web.forms import show_service_error
from portal.web.fragments import Deferred
from portal.web.htmx import wants_fragment
from portal.web.page_cache import cached_page
from portal.web.pagination import page_args, paginate

bp = Blueprint("programmes", __name__, url_prefix="/<tenant>/programmes")


def _form_values(form) -> dict:
    return {k: v for k, v in form.data.items() if k != "csrf_token"}


@bp.route("/")
def index():
    require(current_user, "programme.view")
    today = date.today()
    rows = db.session.execute(listing.programmes_query(today=today)).all()
    done = progress.programmes_progress([p.id for p, _n in rows])
    return render_template("programmes/index.html", rows=rows, progress=done, today=today)


@bp.route("/new", methods=["GET", "POST"])
def create():
    require(current_user, "programme.create")
    form = ProgrammeForm()
    if form.validate_on_submit():
        try:
            programme = services.create_programme(current_user, _form_values(form), g.tenant.id)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The programme “%(name)s” is created.", name=programme.name), "success")
            return redirect(url_for("programmes.detail", programme_id=programme.id))
    return render_template(
        "programmes/form.html", form=form, programme=None
    ), 422 if form.errors else 200


def _search() -> str:
    return request.args.get("q", "").strip()[:100]


def _timeline(programme: Programme, overview: services.Overview, today: date):
    """The programme period, its joint plans (the first few), the clusters' own plans as one
    bar, the milestones and the workshops nearest to today: bounded, whatever the data."""
    marks = [
        {
            "label": m.title,
            "day": m.due_date,
            "kind": m.kind.value,
            "url": "",
            "note": f"{m.due_date.isoformat()} · {m.title}",
        }
        for m in overview.milestones
    ]
    marks += [
        {
            "label": w.title,
            "day": w.day,
            "kind": "workshop",
            "url": url_for("workshops.detail", workshop_id=w.id),
            "note": f"{w.day.isoformat()} · {w.title}",
        }
        for w in overview.timeline_workshops
    ]
    items = [
        {
            "label": programme.name,
            "start": programme.start_date,
            "end": programme.end_date,
            "status": "",
            "url": "",
            "note": programme.name,
        }
    ]
    items += [
        {
            "label": plan.title,
            "start": plan.start_date,
            "end": plan.end_date,
            "status": "",
            "url": url_for("plans.detail", plan_id=plan.id),
            "note": plan.title,
        }
        for plan in overview.joint_plans
    ]
    own = overview.own_plans
    if own.count:
        label = ngettext(
            "%(num)d own plan of a cluster", "%(num)d own plans of the clusters", own.count
        )
        items.append(
            {
                "label": label,
                "start": own.start,
                "end": own.end,
                "status": "",
                "url": "#participants-heading",
                "note": label,
            }
        )
    return timeline.build(programme.start_date, programme.end_date, items, marks, today)


def _participants_fragment(programme: Programme):
    page, per_page = page_args(default_per_page=services.PARTICIPANTS_PER_PAGE)
    search = _search()
    return render_template(
        "programmes/_participants.html",
        programme=programme,
        participants=services.participants_page(programme, search, page, per_page),
        search=search,
    )


@bp.route("/<int:programme_id>")
# Its plans (joint and its clusters' own plans in it), actions, milestones and participants
# touch the programme's scope; its clusters, people, workshops and plugins the region's.
# Around its body (a kept fragment) the page shows the programme's own row (``programmes``),
# the indicators its work aims at (``aims``) and the plugins' panels: kept as a frame an
# action's progress, or any write to an action aimed at nothing, leaves in place
# (portal.web.page_frames).
@cached_page(
    scopes=lambda programme_id: [cache_scopes.programme(programme_id)],
    shared=True,
    frame=lambda programme_id: [cache_scopes.PROGRAMMES, cache_scopes.AIMS],
)
def detail(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(current_user, "programme.view", programme)
    if wants_fragment("participants"):
        return _participants_fragment(programme)
    page, per_page = page_args(default_per_page=services.PARTICIPANTS_PER_PAGE)
    today = date.today()
    search = _search()
    # Read only by the page's body, which every kind of reader sees alike (a kept fragment):
    # worked out only when the body is rendered, not when it comes from the keep.
    overview = Deferred(
        lambda: services.overview(programme, today, search=search, page=page, per_page=per_page)
    )
    return render_template(
        "programmes/detail.html",
        programme=programme,
        overview=overview,
        today=today,
        timeline=Deferred(lambda: _timeline(programme, overview, today)),
        # Read by the frame (between the kept blocks): not the whole overview.
        upcoming=Deferred(lambda: services.upcoming(programme, today)),
        milestone_form=MilestoneForm(),
        plugin_panels=panels_for("programme_panels", programme=programme),
        improvement=programme_summary(programme, current_user, today),
    )


@bp.route("/<int:programme_id>/edit", methods=["GET", "POST"])
def edit(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(current_user, "programme.manage", programme)
    form = ProgrammeForm(obj=programme)
    conflict = None
    if form.validate_on_submit():
        try:
            with saving(programme, form):
                services.update_programme(current_user, programme, _form_values(form))
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("programmes.detail", programme_id=programme.id))
    return render_template(
        "programmes/form.html", form=form, programme=programme, conflict=conflict
    ), form_status(form, conflict)


@bp.route("/<int:programme_id>/delete", methods=["POST"])
def delete(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(current_user, "programme.manage", programme)
    services.delete_programme(current_user, programme)
    flash(_("The programme is deleted."), "success")
    return redirect(url_for("programmes.index"))


@bp.route("/<int:programme_id>/calendar-key", methods=["POST"])
def renew_calendar_key(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    services.renew_calendar_key(current_user, programme)
    flash(_("The calendar has a new address; the old one no longer works."), "success")
    return redirect(url_for("programmes.detail", programme_id=programme.id))


def _add_from_form(programme: Programme) -> None:
    """Add the posted cluster: it must be one of the tenant's (404 otherwise) and not take
    part yet. Says how it went in a flash message."""
    form = ParticipantForm()
    if not form.validate_on_submit():
        if "goal" in form.errors:
            flash(_("The goal may have at most 2000 characters."), "error")
        else:
            flash(_("Choose a cluster."), "error")
        return
    cluster = get_or_404(Cluster, form.cluster_id.data)
    try:
        services.add_participant(current_user, programme, cluster, form.goal.data)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(name)s takes part now.", name=cluster.name), "success")


def _list_args(values) -> dict:
    """The search and page to go back to, from a posted form."""
    args = {}
    search = (values.get("q") or "").strip()[:100]
    if search:
        args["q"] = search
    page = values.get("page", type=int)
    if page and page > 1:
        args["page"] = page
    return args


@bp.route("/<int:programme_id>/participants", methods=["POST"])
def add_participant(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(current_user, "programme.manage", programme)
    _add_from_form(programme)
    return redirect(url_for("programmes.detail", programme_id=programme.id))


@bp.route("/<int:programme_id>/participants/add", methods=["GET", "POST"])
def add_participants(programme_id: int):
    """Find clusters that do not take part yet (search, pages) and add them one by one."""
    programme = get_or_404(Programme, programme_id)
    require(current_user, "programme.manage", programme)
    if request.method == "POST":
        _add_from_form(programme)
        return redirect(
            url_for(
                "programmes.add_participants", programme_id=programme.id, **_list_args(request.form)
            )
        )
    page, per_page = page_args(default_per_page=services.CANDIDATES_PER_PAGE)
    search = _search()
    context = {
        "programme": programme,
        "candidates": paginate(services.candidates_query(programme, search), page, per_page),
        "search": search,
    }
    if wants_fragment("candidates"):
        return render_template("programmes/_candidates.html", **context)
    return render_template("programmes/add_participants.html", **context)


def _back_to_participants(programme: Programme):
    return redirect(
        url_for("programmes.detail", programme_id=programme.id, **_list_args(request.form))
        + "#participants-heading"
    )


def _participant(programme: Programme, participant_id: int) -> ProgrammeCluster:
    participant = get_or_404(
        ProgrammeCluster, participant_id, belongs_to={"programme_id": programme.id}
    )
    return participant


@bp.route("/<int:programme_id>/participants/<int:participant_id>")
def participant(programme_id: int, participant_id: int):
    """One participant's goal and its removal: forms kept off the (paged) list."""
    programme = get_or_404(Programme, programme_id)
    participant = _participant(programme, participant_id)
    require(current_user, "programme.manage", programme)
    return render_template(
        "programmes/participant.html",
        programme=programme,
        participant=participant,
        form=GoalForm(obj=participant),
        back=_list_args(request.args),
        conflict=None,
    )


@bp.route("/<int:programme_id>/participants/<int:participant_id>/goal", methods=["POST"])
def set_goal(programme_id: int, participant_id: int):
    """Save the goal checked against the version the page showed (portal.locking): a stale
    or versionless form answers 409 with the goal as stored and the user's text kept, a goal
    too long 422 with the text kept."""
    programme = get_or_404(Programme, programme_id)
    participant = _participant(programme, participant_id)
    require(current_user, "programme.manage", programme)
    form = GoalForm()
    conflict = None
    if form.validate_on_submit():
        try:
            with saving(participant, form):
                services.set_goal(current_user, participant, form.goal.data)
        except ConflictError as exc:
            conflict = exc
        else:
            flash(_("The goal is saved."), "success")
            return _back_to_participants(programme)
    return render_template(
        "programmes/participant.html",
        programme=programme,
        participant=participant,
        form=form,
        back=_list_args(request.form),
        conflict=conflict,
    ), form_status(form, conflict)


@bp.route("/<int:programme_id>/participants/<int:participant_id>/delete", methods=["POST"])
def remove_participant(programme_id: int, participant_id: int):
    programme = get_or_404(Programme, programme_id)
    participant = _participant(programme, participant_id)
    require(current_user, "programme.manage", programme)
    services.remove_participant(current_user, participant)
    flash(_("The cluster no longer takes part."), "success")
    return _back_to_participants(programme)


@bp.route("/<int:programme_id>/milestones", methods=["POST"])
def add_milestone(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(current_user, "programme.manage", programme)
    form = MilestoneForm()
    if form.validate_on_submit():
        services.add_milestone(current_user, programme, _form_values(form))
        flash(_("The milestone is added."), "success")
    else:
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
    return redirect(url_for("programmes.detail", programme_id=programme.id) + "#milestones")


def _milestone(programme: Programme, milestone_id: int) -> Milestone:
    milestone = get_or_404(Milestone, milestone_id, belongs_to={"programme_id": programme.id})
    return milestone


@bp.route("/<int:programme_id>/milestones/<int:milestone_id>/done", methods=["POST"])
def toggle_milestone(programme_id: int, milestone_id: int):
    programme = get_or_404(Programme, programme_id)
    milestone = _milestone(programme, milestone_id)
    require(current_user, "programme.manage", programme)
    # A stale button (someone changed the milestone since the page was shown), or one that
    # names no version ("" when none was posted), answers 409 with the milestone as it is now
    # (portal.locking; the app's handler shows it).
    with saving(milestone, request.form.get("version", "")):
        services.update_milestone(
            current_user, milestone, {"done": request.form.get("done") == "1"}
        )
    return redirect(url_for("programmes.detail", programme_id=programme.id) + "#milestones")


@bp.route("/<int:programme_id>/milestones/<int:milestone_id>/delete", methods=["POST"])
def delete_milestone(programme_id: int, milestone_id: int):
    programme = get_or_404(Programme, programme_id)
    milestone = _milestone(programme, milestone_id)
    require(current_user, "programme.manage", programme)
    services.delete_milestone(current_user, milestone)
    flash(_("The milestone is deleted."), "success")
    return redirect(url_for("programmes.detail", programme_id=programme.id) + "#milestones")
