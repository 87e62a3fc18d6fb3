"""Workshop pages: the list, the form, and the workshop page with everything around a
meeting (agenda, invitations, registration, attendance, minutes, materials, decisions),
plus calendar files and the programme's calendar feed."""

from __future__ import annotations

import hmac
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.files import services as files
from portal.files.models import StoredFile
from portal.locking import form_status, saving
from portal.permissions import may, require
from portal.plans import services as plans
from portal.plans.models import Action, Plan
from portal.plugin_panels import panels_for
from portal.programmes.models import Programme
from portal.tenancy import get_or_404
from portal.tenancy.web import public_in_tenant
from portal.web.forms import show_service_error
from portal.web.pagination import page_args, paginate
from portal.workshops import closing, listing, services
from portal.workshops.forms import (
    AgendaItemForm,
    AttendanceForm,
    DecisionForm,
    InviteForm,
    MaterialForm,
    MinutesForm,
    WorkshopForm,
)
from portal.workshops.models import (
    AgendaItem,
    Registration,
    RegistrationStatus,
    Workshop,
    WorkshopInvite,
)

bp = Blueprint("workshops", __name__, url_prefix="/<tenant>/workshops")


def _today() -> date:
    """Today where the region is."""
    return listing.region_today(g.tenant)


def _is_over(workshop: Workshop) -> bool:
    return closing.is_over(workshop, g.tenant.timezone)


def _programme_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(select(Programme.id, Programme.name).order_by(Programme.name))
    return [(pid, name) for pid, name in rows]


def _detail_url(workshop: Workshop, anchor: str = "") -> str:
    return url_for("workshops.detail", workshop_id=workshop.id) + (f"#{anchor}" if anchor else "")


# --- the list -----------------------------------------------------------------------------


@bp.route("/")
def index():
    require(current_user, "workshop.view")
    today = _today()
    upcoming = db.session.execute(listing.workshops_query(today, "upcoming")).all()
    page, per_page = page_args(default_per_page=20)
    past = paginate(listing.workshops_query(today, "past"), page, per_page, scalars=False)
    counts = listing.registered_counts([w.id for w, _name in list(upcoming) + list(past.items)])
    return render_template(
        "workshops/index.html", upcoming=upcoming, past=past, counts=counts, today=today
    )


# --- creating and changing ----------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def create():
    require(current_user, "workshop.create")
    choices = _programme_choices()
    form = WorkshopForm(programme_choices=choices)
    if request.method == "GET":
        wanted = request.args.get("programme_id", type=int)
        if wanted in {pid for pid, _name in choices}:
            form.programme_id.data = wanted
    if form.validate_on_submit():
        try:
            workshop = services.create_workshop(current_user, form.values(), g.tenant.id)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The workshop “%(title)s” is created.", title=workshop.title), "success")
            return redirect(_detail_url(workshop))
    return render_template("workshops/form.html", form=form, workshop=None), (
        422 if form.errors else 200
    )


@bp.route("/<int:workshop_id>/edit", methods=["GET", "POST"])
def edit(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    form = WorkshopForm(obj=workshop, programme_choices=_programme_choices())
    conflict = None
    if form.validate_on_submit():
        try:
            with saving(workshop, form):
                services.update_workshop(current_user, workshop, form.values())
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The changes are saved."), "success")
            return redirect(_detail_url(workshop))
    return render_template(
        "workshops/form.html", form=form, workshop=workshop, conflict=conflict
    ), form_status(form, conflict)


@bp.route("/<int:workshop_id>/delete", methods=["POST"])
def delete(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    title = workshop.title
    # The database drops the file rows; their objects go after the commit (files.lifecycle).
    services.delete_workshop(current_user, workshop)
    flash(_("The workshop “%(title)s” is deleted.", title=title), "success")
    return redirect(url_for("workshops.index"))


# --- the workshop page --------------------------------------------------------------------


def _registrations(workshop: Workshop) -> list[tuple[Registration, User]]:
    """Every registration with its person, in the order people asked (one query)."""
    return list(
        db.session.execute(
            select(Registration, User)
            .join(User, User.id == Registration.user_id)
            .where(Registration.workshop_id == workshop.id)
            .order_by(Registration.requested_at, Registration.id)
        ).all()
    )


def _invites(workshop: Workshop) -> list[tuple[WorkshopInvite, str | None, str | None]]:
    """Invitations with the cluster's or the person's name (one query)."""
    return list(
        db.session.execute(
            select(WorkshopInvite, Cluster.name, User.name)
            .outerjoin(Cluster, Cluster.id == WorkshopInvite.cluster_id)
            .outerjoin(User, User.id == WorkshopInvite.user_id)
            .where(WorkshopInvite.workshop_id == workshop.id)
            .order_by(Cluster.name, User.name, WorkshopInvite.id)
        ).all()
    )


def _materials(workshop: Workshop) -> list[StoredFile]:
    return list(
        db.session.scalars(
            select(StoredFile)
            .where(StoredFile.workshop_id == workshop.id)
            .order_by(StoredFile.created_at, StoredFile.id)
        )
    )


def _decided(workshop: Workshop) -> list[tuple[Action, str, str | None]]:
    """The plans' actions decided at the workshop, with their plan's title and their owner's
    name (one query): what anyone who may read actions sees of them, never a value."""
    rows = db.session.execute(
        select(Action, Plan.title, User.name)
        .join(Plan, Plan.id == Action.plan_id)
        .outerjoin(User, User.id == Action.owner_id)
        .where(Action.workshop_id == workshop.id)
        .order_by(Action.id)
    ).all()
    return [(a, plan, owner) for a, plan, owner in rows if may(current_user, "action.view", a)]


def _plan_choices() -> list[tuple[int, str]]:
    """Plans the current user may add actions to (all of them for coordinators)."""
    from portal.i18n import PLAN_KIND_LABELS

    plan_rows = db.session.scalars(select(Plan).order_by(Plan.title, Plan.id))
    return [
        (plan.id, f"{plan.title} ({PLAN_KIND_LABELS[plan.kind.value]})")
        for plan in plan_rows
        if may(current_user, "plan.manage", plan)
    ]


def _people() -> list[tuple[int, str]]:
    if "_workshop_people" not in g:
        g._workshop_people = plans.people_choices(g.tenant.id)
    return g._workshop_people


def _owners() -> list[tuple[int, str]]:
    """Who may own the action a decision becomes: those who may edit it."""
    return plans.people_choices(g.tenant.id, owners=True)


def _invite_form(workshop: Workshop, invites, formdata=None) -> InviteForm | None:
    if not may(current_user, "workshop.manage", workshop):
        return None
    invited_clusters = {i.cluster_id for i, _c, _u in invites if i.cluster_id}
    invited_people = {i.user_id for i, _c, _u in invites if i.user_id}
    clusters = db.session.execute(select(Cluster.id, Cluster.name).order_by(Cluster.name))
    return InviteForm(
        formdata=formdata,
        cluster_choices=[(cid, name) for cid, name in clusters if cid not in invited_clusters],
        people_choices=[(uid, name) for uid, name in _people() if uid not in invited_people],
    )


def _attendance_form(workshop: Workshop, registered, formdata=None) -> AttendanceForm:
    form = AttendanceForm(
        formdata=formdata,
        registration_choices=[(reg.id, user.name) for reg, user in registered],
    )
    if formdata is None:
        form.attended.data = [reg.id for reg, _user in registered if reg.attended]
        form.version.data = workshop.version
    return form


def _attended(workshop: Workshop) -> dict:
    """Who is marked as attended now (what a refused attendance form shows)."""
    return {
        "attended": list(
            db.session.scalars(
                select(Registration.id).where(
                    Registration.workshop_id == workshop.id,
                    Registration.status == RegistrationStatus.REGISTERED,
                    Registration.attended.is_(True),
                )
            )
        )
    }


def _render_detail(workshop: Workshop, status: int = 200, **forms):
    """The workshop page; a form that failed is passed in to show its errors."""
    manage = may(current_user, "workshop.manage", workshop)
    registrations = _registrations(workshop)
    registered = [(r, u) for r, u in registrations if r.status == RegistrationStatus.REGISTERED]
    waiting = [(r, u) for r, u in registrations if r.status == RegistrationStatus.WAITLISTED]
    mine = next((r for r, u in registrations if u.id == current_user.id), None)
    waiting_position = next(
        (n for n, (r, _u) in enumerate(waiting, start=1) if r.user_id == current_user.id), None
    )
    invites = _invites(workshop) if manage else []
    plan_choices = _plan_choices()
    programme = (
        db.session.scalar(select(Programme).where(Programme.id == workshop.programme_id))
        if workshop.programme_id
        else None
    )
    context = {
        "workshop": workshop,
        "programme": programme,
        "manage": manage,
        "can_register": may(current_user, "workshop.register", workshop),
        "registered": registered,
        "waiting": waiting,
        "mine": mine,
        "waiting_position": waiting_position,
        "invites": invites,
        "materials": _materials(workshop),
        "decided": _decided(workshop),
        "minutes_html": services.render_minutes(workshop.minutes_md),
        "is_over": _is_over(workshop),
        "has_begun": closing.has_begun(workshop, g.tenant.timezone),
        "today": _today(),
        "plugin_panels": panels_for("workshop_panels", workshop=workshop),
        "agenda_form": forms.get("agenda_form") or AgendaItemForm(formdata=None, prefix="agenda"),
        "invite_form": forms.get("invite_form") or _invite_form(workshop, invites),
        "attendance_form": forms.get("attendance_form") or _attendance_form(workshop, registered),
        "attendance_conflict": forms.get("attendance_conflict"),
        "minutes_form": forms.get("minutes_form")
        or MinutesForm(
            formdata=None, data={"minutes": workshop.minutes_md, "version": workshop.version}
        ),
        "minutes_conflict": forms.get("minutes_conflict"),
        "material_form": forms.get("material_form") or MaterialForm(formdata=None),
        "decision_form": forms.get("decision_form")
        or (
            DecisionForm(
                formdata=None,
                prefix="decision",
                plan_choices=plan_choices,
                people_choices=_owners(),
            )
            if plan_choices
            else None
        ),
    }
    from portal.workshops.registration_views import detail_context

    context.update(detail_context(workshop, manage, mine, forms))  # questions, seats asked
    from portal.workshops import comms_views  # cancelling, messages, who was told

    context.update(comms_views.detail_context(workshop, manage, forms))
    return render_template("workshops/detail.html", **context), status


@bp.route("/<int:workshop_id>")
def detail(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.view", workshop)
    return _render_detail(workshop)


# --- agenda -------------------------------------------------------------------------------


@bp.route("/<int:workshop_id>/agenda", methods=["POST"])
def agenda_add(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    form = AgendaItemForm(prefix="agenda")
    if form.validate_on_submit():
        try:
            services.add_agenda_item(current_user, workshop, form.values())
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The agenda item is added."), "success")
            return redirect(_detail_url(workshop, "agenda"))
    return _render_detail(workshop, 422, agenda_form=form)


@bp.route("/<int:workshop_id>/agenda/<int:item_id>/delete", methods=["POST"])
def agenda_delete(workshop_id: int, item_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    item = get_or_404(AgendaItem, item_id, belongs_to={"workshop_id": workshop.id})
    services.delete_agenda_item(current_user, item)
    flash(_("The agenda item is removed."), "success")
    return redirect(_detail_url(workshop, "agenda"))


# --- invitations --------------------------------------------------------------------------


@bp.route("/<int:workshop_id>/invites", methods=["POST"])
def invite(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    form = _invite_form(workshop, _invites(workshop), formdata=request.form)
    if form.validate_on_submit():
        added = services.invite(
            current_user, workshop, cluster_ids=form.cluster_ids.data, user_ids=form.user_ids.data
        )
        if added:
            flash(
                ngettext("%(num)d invitation is added.", "%(num)d invitations are added.", added),
                "success",
            )
        else:
            flash(_("Nobody new was chosen, so nothing changed."), "info")
        return redirect(_detail_url(workshop, "invitations"))
    return _render_detail(workshop, 422, invite_form=form)


@bp.route("/<int:workshop_id>/invites/<int:invite_id>/delete", methods=["POST"])
def invite_delete(workshop_id: int, invite_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    row = get_or_404(WorkshopInvite, invite_id, belongs_to={"workshop_id": workshop.id})
    services.uninvite(current_user, row)
    flash(_("The invitation is withdrawn."), "success")
    return redirect(_detail_url(workshop, "invitations"))


# --- registration -------------------------------------------------------------------------


@bp.route("/<int:workshop_id>/register", methods=["POST"])
def register(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.register", workshop)
    from portal.workshops.registration_views import registration_answers

    form, answered = registration_answers(workshop)  # the workshop's questions
    if not answered:
        return _render_detail(workshop, 422, register_form=form)
    try:
        registration = services.register(current_user, workshop, answers=form.answers())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        if registration.status == RegistrationStatus.REGISTERED:
            flash(_("You are registered. See you there."), "success")
        else:
            flash(
                _(
                    "All seats are taken, so you are on the waiting list. You get an e-mail if a seat becomes free."
                ),
                "info",
            )
    return redirect(_detail_url(workshop, "registration"))


@bp.route("/<int:workshop_id>/cancel", methods=["POST"])
def cancel(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.view", workshop)
    try:
        registration = services.cancel(current_user, workshop)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        if registration is None:
            flash(_("You were not registered for this workshop."), "info")
        else:
            flash(_("Your registration is cancelled."), "success")
    return redirect(_detail_url(workshop, "registration"))


@bp.route("/<int:workshop_id>/attendance", methods=["POST"])
def attendance(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    registered = [
        (r, u) for r, u in _registrations(workshop) if r.status == RegistrationStatus.REGISTERED
    ]
    form = _attendance_form(workshop, registered, formdata=request.form)
    if form.validate_on_submit():
        # Checked against the workshop's version the page showed (portal.locking): a stale
        # or versionless form answers 409 with who is marked now, the ticks kept.
        try:
            with saving(workshop, form, extra=_attended):
                services.mark_attendance(current_user, workshop, set(form.attended.data or []))
        except ConflictError as exc:
            return _render_detail(workshop, 409, attendance_form=form, attendance_conflict=exc)
        except ServiceError as exc:  # not begun yet: nothing is marked
            db.session.rollback()
            form.attended.errors = [*form.attended.errors, exc.message]
            return _render_detail(workshop, 422, attendance_form=form)
        flash(_("The attendance is saved."), "success")
        return redirect(_detail_url(workshop, "attendance"))
    return _render_detail(workshop, 422, attendance_form=form)


# --- minutes and the end ------------------------------------------------------------------


@bp.route("/<int:workshop_id>/minutes", methods=["POST"])
def minutes(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    form = MinutesForm()
    if form.validate_on_submit():
        try:
            with saving(workshop, form):
                services.set_minutes(current_user, workshop, form.minutes.data or "")
        except ConflictError as exc:
            return _render_detail(workshop, 409, minutes_form=form, minutes_conflict=exc)
        flash(_("The minutes are saved."), "success")
        return redirect(_detail_url(workshop, "minutes-section"))
    return _render_detail(workshop, 422, minutes_form=form)


@bp.route("/<int:workshop_id>/end", methods=["POST"])
def end(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    try:
        closed = closing.end_workshop(workshop)  # refuses one that is not over yet
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        if closed:
            flash(_("The workshop is closed."), "success")
        else:
            flash(_("The workshop was already closed."), "info")
    return redirect(_detail_url(workshop))


# --- materials ----------------------------------------------------------------------------


def _material(workshop: Workshop, file_id: int) -> StoredFile:
    stored = get_or_404(StoredFile, file_id, belongs_to={"workshop_id": workshop.id})
    return stored


@bp.route("/<int:workshop_id>/materials", methods=["POST"])
def material_upload(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    form = MaterialForm()
    if form.validate_on_submit():
        try:
            stored = files.store(
                form.file.data,
                tenant_id=workshop.tenant_id,
                user_id=current_user.id,
                workshop_id=workshop.id,
            )
            db.session.commit()
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("“%(name)s” is uploaded.", name=stored.filename), "success")
            return redirect(_detail_url(workshop, "materials"))
    return _render_detail(workshop, 422, material_form=form)


@bp.route("/<int:workshop_id>/materials/<int:file_id>")
def material_download(workshop_id: int, file_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.view", workshop)
    return files.send(_material(workshop, file_id))


@bp.route("/<int:workshop_id>/materials/<int:file_id>/delete", methods=["POST"])
def material_delete(workshop_id: int, file_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.manage", workshop)
    stored = _material(workshop, file_id)
    name = stored.filename
    files.delete(stored)
    flash(_("“%(name)s” is deleted.", name=name), "success")
    return redirect(_detail_url(workshop, "materials"))


# --- decisions become actions -------------------------------------------------------------


@bp.route("/<int:workshop_id>/decisions", methods=["POST"])
def decision(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.view", workshop)
    plan_choices = _plan_choices()
    if not plan_choices:
        abort(403)
    form = DecisionForm(prefix="decision", plan_choices=plan_choices, people_choices=_owners())
    if form.validate_on_submit():
        plan = get_or_404(Plan, form.plan_id.data)
        require(current_user, "plan.manage", plan)
        data = {
            "title": form.title.data,
            "owner_id": form.owner_id.data,
            "due_date": form.due_date.data,
            "workshop_id": workshop.id,
        }
        try:
            action = plans.create_action(current_user, plan, data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            _flash_action(action)
            return redirect(_detail_url(workshop, "decisions"))
    return _render_detail(workshop, 422, decision_form=form)


def _flash_action(action) -> None:
    url = url_for("plans.action_detail", action_id=action.id)
    link = Markup('<a href="{}">{}</a>').format(url, action.title)
    # Translated around a placeholder, then escaped, so only the link is markup.
    message = escape(_("The action %(link)s is added to the plan.", link="%(link)s"))
    flash(message.replace("%(link)s", link), "success")


# --- calendar files -----------------------------------------------------------------------


def _ics(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-cache",
        },
    )


@bp.route("/<int:workshop_id>.ics")
def ics(workshop_id: int):
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, "workshop.view", workshop)
    url = url_for("workshops.detail", workshop_id=workshop.id, _external=True)
    body = services.calendar([(workshop, url)], g.tenant, workshop.title)
    return _ics(body, f"workshop-{workshop.id}.ics")


@bp.route("/feed/<int:programme_id>/<key>.ics")
@public_in_tenant
def feed(programme_id: int, key: str):
    """The programme's workshops for calendar apps: the secret key stands in for a sign-in."""
    programme = db.session.scalar(select(Programme).where(Programme.id == programme_id))
    if programme is None or not hmac.compare_digest(
        key.encode("utf-8"), (programme.calendar_key or "").encode("utf-8")
    ):
        # Nobody is signed in here: the error page must not name the region either.
        g.tenant = None
        abort(404)
    workshops = db.session.scalars(
        select(Workshop)
        .where(Workshop.programme_id == programme.id)
        .order_by(Workshop.day, Workshop.start_time, Workshop.id)
    )
    entries = [
        (w, url_for("workshops.detail", workshop_id=w.id, _external=True)) for w in workshops
    ]
    body = services.calendar(entries, g.tenant, programme.name)
    return _ics(body, f"programme-{programme.id}.ics")


# Registration questions, answers, seats asked for, registrants' downloads: their own module.
from portal.workshops import registration_views  # noqa: E402, F401
