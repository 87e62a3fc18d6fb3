"""Plans and actions: the plan page with filters, inline htmx edits and a timeline;
the action page with comments, attachments and history; "my work"."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.clusters.models import Cluster
from portal.clusters.services import cluster_choices
from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.files import services as files
from portal.files.models import StoredFile
from portal.formatting import format_date
from portal.i18n import ACTION_STATUS_LABELS, PRIORITY_LABELS
from portal.improvement import links
from portal.improvement.summaries import action_effects, plan_indicators
from portal.locking import form_status, saving
from portal.permissions import may, require
from portal.plans import comments as comment_service
from portal.plans import listing, progress, services
from portal.plans.forms import ActionForm, AttachmentForm, CommentForm, PlanForm, QuickEditForm
from portal.plans.models import Action, ActionComment, Plan
from portal.plugin_panels import panels_for
from portal.programmes.models import Milestone, Programme
from portal.tenancy import cache_scopes, get_or_404
from portal.web import timeline
from portal.web.forms import show_service_error
from portal.web.fragments import Deferred
from portal.web.htmx import announce, is_htmx, wants_fragment
from portal.web.page_cache import cached_page
from portal.web.pagination import Page, page_args, paginate
from portal.web.personal import depends_on_viewer, same_person
from portal.workshops.models import Registration, RegistrationStatus, Workshop

bp = Blueprint("plans", __name__, url_prefix="/<tenant>")
# Actions a page of a plan: every row is a small form; the rest is a click on "Next" away.
PER_PAGE = 20
# The timeline draws the first actions of the page: a readable picture, a bounded cost.
TIMELINE_BARS = 10
# "My work": the first few overdue and soon-due actions (the counts say how many in all), a
# page of all open actions, the next workshops.
MY_WORK_PER_PAGE = 20
MY_WORK_WORKSHOPS = 10


# --- plans ------------------------------------------------------------------------------


@bp.route("/plans/")
def index():
    require(current_user, "plan.view")
    plans = db.session.scalars(listing.plans_query()).all()
    programmes = dict(db.session.execute(select(Programme.id, Programme.name)).all())
    return render_template(
        "plans/index.html",
        plans=plans,
        programmes=programmes,
        progress=progress.plans_progress([p.id for p in plans]),
    )


@bp.route("/plans/new", methods=["GET", "POST"])
def create():
    cluster = programme = None
    if request.args.get("cluster_id", type=int):
        cluster = get_or_404(Cluster, request.args.get("cluster_id", type=int))
    elif request.args.get("programme_id", type=int):
        programme = get_or_404(Programme, request.args.get("programme_id", type=int))
    else:
        from portal.plans.chooser import plan_chooser

        return plan_chooser(g.tenant)
    require(current_user, "plan.create", cluster if cluster is not None else programme)
    form = PlanForm()
    if request.method == "GET" and programme is not None:
        form.start_date.data, form.end_date.data = programme.start_date, programme.end_date
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        try:
            plan = services.create_plan(
                current_user, data, tenant_id=g.tenant.id, cluster=cluster, programme=programme
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The plan is created."), "success")
            return redirect(url_for("plans.detail", plan_id=plan.id))
    return render_template(
        "plans/form.html", form=form, plan=None, cluster=cluster, programme=programme
    ), 422 if form.errors else 200


def _filters() -> services.ActionFilters:
    owner = request.args.get("owner", "")
    owner_id = current_user.id if owner == "me" else request.args.get("owner", type=int)
    if owner_id is not None:
        depends_on_viewer()  # "me", or someone the page names as the reader or not
    return services.ActionFilters(
        status=request.args.get("status", ""),
        owner_id=owner_id,
        unowned=owner == "none",
        cluster_id=request.args.get("cluster", type=int),
        overdue=request.args.get("overdue") == "1",
        sort=request.args.get("sort", "due"),
        q=request.args.get("q", "")[:100],
    )


class _IdUrl:
    """``url_for(endpoint, action_id=…)`` for every row of a table at the cost of one call."""

    _MARK = 918273645

    def __init__(self, endpoint: str):
        head, tail = url_for(endpoint, action_id=self._MARK).split(str(self._MARK))
        self.head, self.tail = str(escape(head)), str(escape(tail))

    def __call__(self, action_id: int) -> Markup:
        return Markup(f"{self.head}{int(action_id)}{self.tail}")  # noqa: S704 - escaped above


def _status_options() -> dict[str, Markup]:
    """The <option>s of the status select with each status selected: built once a page."""
    labels = [(code, escape(str(label))) for code, label in ACTION_STATUS_LABELS.items()]
    return {
        current: Markup(  # noqa: S704 - the codes are ours, the labels escaped above
            "".join(
                f'<option value="{code}"{" selected" if code == current else ""}>{label}</option>'
                for code, label in labels
            )
        )
        for current, _label in labels
    }


def _rows_context(plan: Plan, actions: list[Action]) -> dict:
    """What the action rows need, computed once for the page rather than once a row.

    Editing a row is for the plan's managers and, unless they only observe, the action's
    owner: ``may`` is asked only for rows the user owns but does not manage.
    """
    can_manage = may(current_user, "plan.manage", plan)
    editable = {
        a.id
        for a in actions
        if can_manage
        or (same_person(current_user, a.owner_id) and may(current_user, "action.edit", a))
    }
    return {
        "can_manage": can_manage,
        "editable": editable,
        "action_url": _IdUrl("plans.action_detail"),
        "quick_url": _IdUrl("plans.action_quick"),
        "status_options": _status_options(),
        "csrf_value": generate_csrf(),
        # Translated once: formatted per row with the (escaped on output) title.
        "row_text": {
            "status_of": _("Status of %(title)s"),
            "progress_of": _("Progress of %(title)s in percent"),
            "save": _("Save"),
            "select": _("Select %(title)s"),
            "overdue": _("overdue"),
            "high": str(PRIORITY_LABELS["high"]),
        },
        "due_labels": {
            d: format_date(d, "medium") for d in {a.due_date for a in actions if a.due_date}
        },
    }


def _plan_timeline(plan: Plan, actions: list[Action], today: date, action_url: _IdUrl):
    items = [
        {
            "label": a.title,
            "start": a.start_date or a.due_date,
            "end": a.due_date or a.start_date,
            "status": a.status.value,
            "url": action_url(a.id),
            "note": f"{a.title} · {a.status.value} · {a.progress} %",
        }
        for a in actions
        if a.start_date or a.due_date
    ]
    marks = []
    if plan.programme_id:
        marks = [
            {
                "label": m.title,
                "day": m.due_date,
                "kind": m.kind.value,
                "url": "",
                "note": f"{m.due_date.isoformat()} · {m.title}",
            }
            for m in db.session.scalars(
                select(Milestone).where(Milestone.programme_id == plan.programme_id)
            )
        ]
    return timeline.build(plan.start_date, plan.end_date, items, marks, today)


def _filter_choice_label(pagination, filters: services.ActionFilters) -> tuple[str, str]:
    """Names of the person and the cluster a link filtered by (the lists offer no others):
    taken from the listed actions, which all have them, else a placeholder."""
    owner = cluster = ""
    for action in pagination.items:
        if filters.owner_id and action.owner is not None and not owner:
            owner = action.owner.name
        if filters.cluster_id and not cluster:
            cluster = next((c.name for c in action.clusters if c.id == filters.cluster_id), "")
    if filters.owner_id and not owner:
        owner = _("The chosen person")
    if filters.cluster_id and not cluster:
        cluster = _("The chosen cluster")
    return owner, cluster


@bp.route("/plans/<int:plan_id>")
@cached_page(
    scopes=lambda plan_id: [cache_scopes.plan(plan_id), cache_scopes.PROGRAMMES], shared=True
)
def detail(plan_id: int):
    plan = get_or_404(Plan, plan_id, joinedload(Plan.cluster))
    require(current_user, "plan.view", plan)
    page, _per_page = page_args(default_per_page=PER_PAGE)
    filters = _filters()
    pagination = paginate(services.actions_query(plan.id, filters), page, PER_PAGE)
    context = {
        "plan": plan,
        "pagination": pagination,
        "filters": filters,
        "today": filters.today,
        **_rows_context(plan, pagination.items),
    }
    context.update(bulk_views.bulk_context(plan, context["editable"]))
    if wants_fragment("actions"):
        return render_template("plans/_actions.html", **context)
    programme = db.session.get(Programme, plan.programme_id) if plan.programme_id else None
    owner_label, cluster_label = _filter_choice_label(pagination, filters)
    return render_template(
        "plans/detail.html",
        **context,
        programme=programme,
        owner_label=owner_label,
        cluster_label=cluster_label,
        progress=progress.plans_progress([plan.id])[plan.id],
        timeline=_plan_timeline(
            plan, pagination.items[:TIMELINE_BARS], filters.today, context["action_url"]
        ),
        timeline_left_out=max(0, len(pagination.items) - TIMELINE_BARS),
        timeline_bars=TIMELINE_BARS,
        plugin_panels=panels_for("plan_panels", plan=plan),
        indicators=plan_indicators(plan, current_user, filters.today),
    )


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
def edit(plan_id: int):
    plan = get_or_404(Plan, plan_id)
    require(current_user, "plan.manage", plan)
    form = PlanForm(obj=plan)
    conflict = None
    if form.validate_on_submit():
        try:
            with saving(plan, form):
                services.update_plan(
                    current_user, plan, {k: v for k, v in form.data.items() if k != "csrf_token"}
                )
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("plans.detail", plan_id=plan.id))
    return render_template(
        "plans/form.html", form=form, plan=plan, cluster=None, programme=None, conflict=conflict
    ), form_status(form, conflict)


@bp.route("/plans/<int:plan_id>/delete", methods=["POST"])
def delete(plan_id: int):
    plan = get_or_404(Plan, plan_id)
    require(current_user, "plan.manage", plan)
    services.delete_plan(current_user, plan)
    flash(_("The plan is deleted."), "success")
    return redirect(url_for("plans.index"))


# --- actions ----------------------------------------------------------------------------


def _workshop_choices(keep: int | None = None) -> list[tuple[int, str]]:
    """The workshops an action may have been decided at: the region's held so far (today's
    included, on the region's clock), newest first, and the one it names (``keep``)."""
    today = datetime.now(ZoneInfo(g.tenant.timezone)).date()
    held = Workshop.day <= today
    rows = db.session.execute(
        select(Workshop.id, Workshop.title, Workshop.day)
        .where(or_(held, Workshop.id == keep) if keep else held)
        .order_by(Workshop.day.desc(), Workshop.id.desc())
    )
    return [(wid, f"{title} · {format_date(day, 'medium')}") for wid, title, day in rows]


def _action_form(
    plan: Plan, owner_id: int | None = None, workshop_id: int | None = None, **kwargs
) -> ActionForm:
    """The owner is one of those who may edit the action, or the one it has (``owner_id``);
    the workshop one held so far, or the one it has (``workshop_id``)."""
    people = services.people_choices(plan.tenant_id, owners=True, keep=owner_id)
    return ActionForm(
        people=people,
        cluster_choices=cluster_choices(),
        workshops=_workshop_choices(keep=workshop_id),
        indicator_choices=links.choices(plan.tenant_id, _locale()),
        **kwargs,
    )


def _locale() -> str:
    return str(get_locale() or "en")


@bp.route("/plans/<int:plan_id>/actions/new", methods=["GET", "POST"])
def action_create(plan_id: int):
    plan = get_or_404(Plan, plan_id)
    require(current_user, "plan.manage", plan)
    form = _action_form(plan)
    if request.method == "GET" and plan.cluster_id:
        form.clusters.data = [plan.cluster_id]
    if form.validate_on_submit():
        try:
            action = services.create_action(
                current_user,
                plan,
                form.values(),
                form.clusters.data or [],
                indicator_keys=links.parse_texts(form.indicators.data or []),
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The action is added."), "success")
            return redirect(url_for("plans.action_detail", action_id=action.id))
    return render_template(
        "plans/action_form.html", form=form, plan=plan, action=None, conflict=None, locale=_locale()
    ), (422 if form.errors else 200)


def _action(action_id: int) -> Action:
    return get_or_404(
        Action,
        action_id,
        selectinload(Action.plan),
        selectinload(Action.clusters),
        selectinload(Action.owner),
        selectinload(Action.indicators),
    )


@bp.route("/actions/<int:action_id>")
def action_detail(action_id: int):
    action = _action(action_id)
    require(current_user, "action.view", action)
    people = services.people_choices(action.tenant_id)
    comments = db.session.scalars(
        select(ActionComment)
        .where(ActionComment.action_id == action.id)
        .options(joinedload(ActionComment.author), joinedload(ActionComment.hidden_by))
        .order_by(ActionComment.created_at, ActionComment.id)
    ).all()
    attachments = db.session.scalars(
        select(StoredFile).where(StoredFile.action_id == action.id).order_by(StoredFile.created_at)
    ).all()
    workshop = db.session.get(Workshop, action.workshop_id) if action.workshop_id else None
    return render_template(
        "plans/action.html",
        action=action,
        plan=action.plan,
        comments=comments,
        mentioned_names=comment_service.mentioned_names(comments),
        attachments=attachments,
        history=services.history(action),
        workshop=workshop,
        comment_form=CommentForm(people=people),
        attachment_form=AttachmentForm(),
        people=dict(people),
        today=date.today(),
        effects=action_effects(action, current_user, date.today()),
    )


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
def action_edit(action_id: int):
    action = _action(action_id)
    require(current_user, "action.edit", action)
    form = _action_form(action.plan, action.owner_id, action.workshop_id, obj=action)
    if request.method == "GET":
        form.owner_id.data = str(action.owner_id) if action.owner_id else ""
        form.workshop_id.data = str(action.workshop_id) if action.workshop_id else ""
        form.status.data, form.priority.data = action.status.value, action.priority.value
        form.clusters.data = [c.id for c in action.clusters]
        form.indicators.data = [links.key_text(link.key) for link in action.indicators]
        form.version.data = action.version
    conflict = None
    if form.validate_on_submit():
        try:
            services.update_action(
                current_user,
                action,
                form.values(),
                expected_version=form,
                cluster_ids=form.clusters.data or [],
                indicator_keys=links.parse_texts(form.indicators.data or []),
            )
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("plans.action_detail", action_id=action.id))
    status = 409 if conflict else (422 if form.errors else 200)
    return render_template(
        "plans/action_form.html",
        form=form,
        plan=action.plan,
        action=action,
        conflict=conflict,
        # The names a conflict notice shows: read only when there is one.
        people=Deferred(lambda: dict(services.people_choices(action.tenant_id, everyone=True))),
        locale=_locale(),
    ), status


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.route("/actions/<int:action_id>/quick", methods=["POST"])
def action_quick(action_id: int):
    """Status and progress from the plan's table: a row fragment for htmx, else a redirect."""
    action = _action(action_id)
    require(current_user, "action.edit", action)
    form = QuickEditForm()
    error, status = None, 200
    if form.validate_on_submit():
        data = {"status": form.status.data}
        if form.progress.data is not None:
            data["progress"] = form.progress.data
        try:
            services.update_action(current_user, action, data, expected_version=form.version.data)
        except ConflictError as exc:
            error, status = exc.message, 409
        except ServiceError as exc:
            db.session.rollback()
            error, status = exc.message, 422
    else:
        error, status = " ".join(str(m) for ms in form.errors.values() for m in ms), 422
    if not is_htmx():
        if error:
            flash(error, "error")
        else:
            flash(_("The changes are saved."), "success")
        return redirect(request.referrer or url_for("plans.detail", plan_id=action.plan_id))
    if error:
        # The row shows the action as stored, whatever a refused save left on it. After a
        # save its commit expired it already (what ran after, notices and hooks, reloaded
        # it): refreshing again read it and its plan, clusters and aims a second time.
        db.session.refresh(action)
    response = make_response(
        render_template(
            "plans/_action_row.html",
            action=action,
            plan=action.plan,
            error=error,
            today=date.today(),
            **_rows_context(action.plan, [action]),
        ),
        status,
    )
    if not error:  # an error is said by the row itself (role="alert")
        announce(response, _("%(title)s: the changes are saved.", title=action.title))
    return response


@bp.route("/actions/<int:action_id>/delete", methods=["POST"])
def action_delete(action_id: int):
    action = _action(action_id)
    require(current_user, "action.delete", action)
    plan_id = action.plan_id
    services.delete_action(current_user, action)
    flash(_("The action is deleted."), "success")
    return redirect(url_for("plans.detail", plan_id=plan_id))


@bp.route("/actions/<int:action_id>/comments", methods=["POST"])
def action_comment(action_id: int):
    action = _action(action_id)
    require(current_user, "action.comment", action)
    form = CommentForm(people=services.people_choices(action.tenant_id))
    if form.validate_on_submit():
        try:
            services.add_comment(current_user, action, form.body.data, form.mention.data or [])
        except ServiceError as exc:
            flash(exc.message, "error")
        else:
            flash(_("The comment is added."), "success")
    else:
        flash(_("Write a comment first."), "error")
    return redirect(url_for("plans.action_detail", action_id=action.id) + "#comments")


def _attachment(action: Action, file_id: int) -> StoredFile:
    stored = get_or_404(StoredFile, file_id, belongs_to={"action_id": action.id})
    return stored


@bp.route("/actions/<int:action_id>/attachments", methods=["POST"])
def attachment_upload(action_id: int):
    action = _action(action_id)
    require(current_user, "action.edit", action)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            files.store(
                form.file.data,
                tenant_id=action.tenant_id,
                user_id=current_user.id,
                action_id=action.id,
            )
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("The file is attached."), "success")
    else:
        flash(_("Choose a file."), "error")
    return redirect(url_for("plans.action_detail", action_id=action.id) + "#attachments")


@bp.route("/actions/<int:action_id>/attachments/<int:file_id>")
def attachment_download(action_id: int, file_id: int):
    action = _action(action_id)
    require(current_user, "action.view", action)
    return files.send(_attachment(action, file_id))


@bp.route("/actions/<int:action_id>/attachments/<int:file_id>/delete", methods=["POST"])
def attachment_delete(action_id: int, file_id: int):
    action = _action(action_id)
    require(current_user, "action.edit", action)
    files.delete(_attachment(action, file_id))
    flash(_("The file is removed."), "success")
    return redirect(url_for("plans.action_detail", action_id=action.id) + "#attachments")


# --- my work ----------------------------------------------------------------------------


@bp.route("/my-work")
# The actions the reader owns, with their plans' titles, and the reader's registrations.
@cached_page(
    scopes=lambda: [
        cache_scopes.owner(current_user.id),
        cache_scopes.PLANS,
        cache_scopes.registrant(current_user.id),
    ]
)
def my_work():
    require(current_user, "tenant.view", g.tenant)
    today = date.today()
    page, per_page = page_args(default_per_page=MY_WORK_PER_PAGE)
    work = services.my_work(current_user.id, today, page=page, per_page=per_page)
    workshops = db.session.execute(
        select(Workshop, Registration.status)
        .join(Registration, Registration.workshop_id == Workshop.id)
        .where(
            Registration.user_id == current_user.id,
            Workshop.day >= today,
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .order_by(Workshop.day, Workshop.start_time)
        .limit(MY_WORK_WORKSHOPS + 1)
    ).all()
    listed = work.overdue_items + work.soon_items + work.page_items
    days = {a.due_date for a in listed if a.due_date} | {w.day for w, _status in workshops}
    return render_template(
        "plans/my_work.html",
        work=work,
        everything=Page(work.page_items, work.page, per_page, work.open),
        workshops=workshops[:MY_WORK_WORKSHOPS],
        more_workshops=len(workshops) > MY_WORK_WORKSHOPS,
        today=today,
        action_url=_IdUrl("plans.action_detail"),
        day_labels={d: format_date(d, "medium") for d in days},
        status_labels={code: str(label) for code, label in ACTION_STATUS_LABELS.items()},
    )


# The comments' own routes (edit, delete, hide) live beside these, on the same blueprint.
import portal.plans.comment_views  # noqa: E402, F401

# The bulk edit's route is on this blueprint (plans.bulk_edit), in its own module.
from portal.plans import bulk_views  # noqa: E402
