"""Joint action pages: the board of a programme, a joint action with each cluster's
contribution, what a cluster has promised, the timeline and the export.

Every page loads its objects through ``get_or_404`` (scoped to the region) and checks the
permission before doing anything else; every change goes through :mod:`services`. One URL
serves the whole page or, asked by htmx, just the fragment it swaps; every form also works
as a plain form without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.toolkit import (
    CSV_MIME,
    XLSX_MIME,
    Cluster,
    ConflictError,
    Programme,
    ProgrammeCluster,
    ServiceError,
    Workshop,
    _,
    cluster_ids_of,
    current_tenant,
    current_user,
    db,
    download_name,
    find_indicator_set,
    get_or_404,
    is_htmx,
    may,
    pick_text,
    render_template,
    require,
    saving,
    to_csv,
    to_xlsx,
    wants_fragment,
)
from portal_joint import baselines, charts, export, listing, rollup, services
from portal_joint.blueprint import bp
from portal_joint.forms import (
    JOINT_STATUS_LABELS,
    ORIGIN_LABELS,
    PART_STATUS_LABELS,
    ConfirmForm,
    JoinForm,
    JointActionForm,
    MoveForm,
    PartForm,
    indicator_choices,
    people_choices,
)
from portal_joint.models import JointAction, JointStatus, Participation

CLOSED = (JointStatus.DONE, JointStatus.CANCELLED)


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"JOINT_STATUS_LABELS": JOINT_STATUS_LABELS, "PART_STATUS_LABELS": PART_STATUS_LABELS}


# --- helpers ------------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _next_url(value: Any, fallback: str) -> str:
    """A page of this region to go back to, else ``fallback`` (never another site)."""
    tenant = current_tenant()
    if (
        isinstance(value, str)
        and value.startswith(f"/{tenant.slug}/")
        and "//" not in value
        and "\\" not in value
    ):
        return value
    return fallback


def _show_errors(form, exc: ServiceError) -> None:
    """Put a service's refusal on the form's fields; what has no field becomes a message."""
    db.session.rollback()
    for name, messages in exc.field_errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            flash(" ".join(str(m) for m in messages), "error")
    if not exc.field_errors:
        flash(exc.message, "error")


def _refused(form, obj) -> None:
    """After a refused save: nothing of it stays, and the form names the stored version (its
    input is kept, so saving it again overwrites knowingly)."""
    db.session.rollback()
    form.version.data = obj.version


def _programmes() -> list[Programme]:
    return list(
        db.session.scalars(select(Programme).order_by(Programme.start_date.desc(), Programme.name))
    )


def _programme_arg(*, required: bool = True) -> Programme | None:
    """The programme named by ``?programme=``; one of another region is not found."""
    programme_id = _int(request.args.get("programme"))
    if programme_id is None:
        if required:
            abort(404)
        return None
    return get_or_404(Programme, programme_id)


def _programme_clusters(programme_id: int) -> list[Cluster]:
    return list(
        db.session.scalars(
            select(Cluster)
            .join(ProgrammeCluster, ProgrammeCluster.cluster_id == Cluster.id)
            .where(ProgrammeCluster.programme_id == programme_id)
            .order_by(Cluster.name)
        )
    )


def _overdue(action: JointAction, today: date) -> bool:
    return listing.overdue(action, today)


def _action(action_id: int) -> JointAction:
    return get_or_404(
        JointAction,
        action_id,
        selectinload(JointAction.parts).selectinload(Participation.cluster),
        selectinload(JointAction.parts).selectinload(Participation.owner),
        selectinload(JointAction.indicators),
        selectinload(JointAction.lead_user),
        selectinload(JointAction.lead_cluster),
    )


def _part(action: JointAction, part_id: int) -> Participation:
    return get_or_404(Participation, part_id, belongs_to={"action_id": action.id})


# --- the board ----------------------------------------------------------------------------------


@dataclass
class Card:
    action: JointAction
    progress: rollup.Progress
    participants: int
    overdue: bool
    can_manage: bool


def _board(
    programme: Programme, *, message: str = "", error: str = "", touched: int | None = None
) -> dict[str, Any]:
    """Everything the board shows: a fixed number of queries, whatever the size."""
    actions = services.board(programme.id)
    today = date.today()
    columns: dict[str, list[Card]] = {s.value: [] for s in JointStatus}
    for action in actions:
        columns[action.status.value].append(
            Card(
                action,
                rollup.action_progress(action),
                listing.participants(action),
                _overdue(action, today),
                may(current_user, "joint.manage", action),
            )
        )
    return {
        "programme": programme,
        "columns": columns,
        "count": len(actions),
        "today": today,
        "progress": rollup.programme_progress(actions),
        **_programme_effort(actions),
        "message": message,
        "error": error,
        "touched": touched,  # the card just moved (or not moved): marked on the board
        "can_create": may(current_user, "joint.create", programme),
    }


def _my_clusters() -> list[Cluster]:
    ids = cluster_ids_of(current_user, current_tenant())
    if not ids:
        return []
    return list(
        db.session.scalars(select(Cluster).where(Cluster.id.in_(ids)).order_by(Cluster.name))
    )


@bp.route("/")
def index():
    require(current_user, "joint.view", current_tenant())
    programme = _programme_arg(required=False)
    if programme is not None and wants_fragment("board"):
        return render_template("joint/_board.html", **_board(programme))
    programmes = _programmes()
    if programme is None and programmes:
        programme = programmes[0]
    context = _board(programme) if programme is not None else {"programme": None}
    return render_template(
        "joint/index.html", programmes=programmes, my_clusters=_my_clusters(), **context
    )


@bp.route("/actions/<int:action_id>/move", methods=["POST"])
def move(action_id: int):
    """A card's "Move to": the board fragment for htmx, else back to where it came from."""
    action = get_or_404(JointAction, action_id)
    require(current_user, "joint.manage", action)
    programme = get_or_404(Programme, action.programme_id)
    form = MoveForm()
    title = action.title
    message, error, code = "", "", 200
    version = _int(form.version.data)
    if not form.validate_on_submit():
        error, code = _("The form has expired. Reload the page and try again."), 400
    elif version is None:
        error, code = _("This page is out of date. Reload it and try again."), 422
    else:
        try:
            # saving: a move another save overtook while this one was written is refused too
            with saving(action, version, message=services.conflict_message()):
                services.move(current_user, action, form.status.data or "", version)
        except ConflictError:
            db.session.rollback()
            error, code = (
                _(
                    "“%(title)s” was not moved: someone else changed it in the meantime. "
                    "It is shown as it is now; move it again if you still want to.",
                    title=title,
                ),
                409,
            )
        except ServiceError as exc:
            db.session.rollback()
            error, code = exc.message, 422
        else:
            message = _(
                "“%(title)s” is now: %(status)s.",
                title=title,
                status=JOINT_STATUS_LABELS[action.status.value],
            )
    if is_htmx():
        return render_template(
            "joint/_board.html",
            **_board(programme, message=message, error=error, touched=action_id),
        ), code
    flash(error or message, "error" if error else "success")
    fallback = url_for("joint.index", programme=programme.id) + "#board"
    return redirect(_next_url(form.next.data, fallback))


# --- creating, changing, deleting -------------------------------------------------------------


def _action_form(programme: Programme, action: JointAction | None = None, **kwargs):
    clusters = [(c.id, c.name) for c in _programme_clusters(programme.id)]
    if action is not None and action.lead_cluster and action.lead_cluster_id not in dict(clusters):
        clusters.append((action.lead_cluster.id, action.lead_cluster.name))
    # A form shows only the indicators not linked yet, but takes a linked one back (someone
    # may have linked it in the meantime: linking is idempotent).
    skip = (
        {(i.indicator_set, i.indicator_id) for i in action.indicators}
        if action is not None and request.method == "GET"
        else set()
    )
    tenant = current_tenant()
    form = JointActionForm(
        people=people_choices(tenant, action.lead_user_id if action else None),
        cluster_choices=clusters,
        indicator_choices=indicator_choices(tenant.id, skip),
        **kwargs,
    )
    if action is not None:
        form.indicators.label.text = _("Add indicators it should improve")
    return form


@bp.route("/new", methods=["GET", "POST"])
def new():
    programme = _programme_arg()
    require(current_user, "joint.create", programme)
    form = _action_form(programme)
    if request.method == "GET":
        form.clusters.data = [c for c, _name in form.clusters.choices]
    failed = False
    if form.validate_on_submit():
        try:
            action = services.create_action(
                current_user,
                programme,
                form.values(),
                indicators=form.chosen_indicators(),
                clusters=form.clusters.data or [],
            )
        except ServiceError as exc:
            _show_errors(form, exc)
            failed = True
        else:
            flash(_("The joint action is created."), "success")
            return redirect(url_for("joint.detail", action_id=action.id))
    failed = failed or bool(form.errors)
    return render_template(
        "joint/form.html", form=form, programme=programme, action=None, conflict=None
    ), (422 if failed else 200)


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
def edit(action_id: int):
    action = _action(action_id)
    require(current_user, "joint.manage", action)
    programme = get_or_404(Programme, action.programme_id)
    form = _action_form(programme, action, obj=action if request.method == "GET" else None)
    if request.method == "GET":
        form.lead_user_id.data = str(action.lead_user_id) if action.lead_user_id else ""
        form.lead_cluster_id.data = str(action.lead_cluster_id) if action.lead_cluster_id else ""
        form.budget_money.data = _plain(action.budget_money)
        form.budget_hours.data = _plain(action.budget_hours)
        form.version.data = action.version
        form.indicators.data = []
    conflict, failed = None, False
    if form.validate_on_submit():
        version = _int(form.version.data)
        try:
            # saving: a stale form is refused up front, and a save that another one overtook
            # while it was written (StaleDataError at a flush) likewise, with the input kept.
            with saving(action, form, message=services.conflict_message()):
                # Linked first, saved with the changes (or rolled back with them): once the
                # changes are saved, the user may no longer be the lead.
                for set_id, set_version, indicator_id in form.chosen_indicators():
                    services.link_indicator(
                        current_user, action, set_id, set_version, indicator_id, commit=False
                    )
                services.update_action(
                    current_user, action, form.values(), -1 if version is None else version
                )
        except ConflictError as exc:
            conflict = exc
            _refused(form, action)
        except ServiceError as exc:
            _show_errors(form, exc)
            failed = True
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("joint.detail", action_id=action.id))
    failed = failed or bool(form.errors)
    people = dict(people_choices(current_tenant(), action.lead_user_id))
    clusters = {c.id: c.name for c in _programme_clusters(programme.id)}
    return render_template(
        "joint/form.html",
        form=form,
        programme=programme,
        action=action,
        conflict=conflict,
        people=people,
        clusters=clusters,
        linked=[i["name"] for i in _indicator_names(action)],
    ), (409 if conflict else 422 if failed else 200)


def _plain(value: Decimal | None) -> str:
    """A stored number as a form shows it: no trailing zeros, no exponent."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@bp.route("/actions/<int:action_id>/delete", methods=["GET", "POST"])
def delete(action_id: int):
    """GET: what deleting removes, and the button; POST with ``confirm=yes``: delete."""
    action = _action(action_id)
    require(current_user, "joint.manage", action)
    form = ConfirmForm()
    if form.validate_on_submit() and request.form.get("confirm") == "yes":
        programme_id, title = action.programme_id, action.title
        services.delete_action(current_user, action)
        flash(_("“%(title)s” is deleted.", title=title), "success")
        return redirect(url_for("joint.index", programme=programme_id))
    return render_template("joint/delete.html", action=action, form=form)


# --- one joint action -------------------------------------------------------------------------


def _indicator_names(action: JointAction) -> list[dict[str, str]]:
    locale = str(get_locale() or "en")
    found = []
    for link in action.indicators:
        indicator_set = find_indicator_set(link.indicator_set, link.set_version)
        indicator = indicator_set.indicator(link.indicator_id) if indicator_set else None
        found.append(
            {
                "name": pick_text(indicator.name, locale) if indicator else link.indicator_id,
                "set": (
                    pick_text(indicator_set.title, locale)
                    if indicator_set
                    else f"{link.indicator_set} {link.set_version}"
                ),
            }
        )
    return found


def _effects(action: JointAction):
    """The effect on the linked indicators, when the part of the plugin that reads it is
    there (``effects.for_action``)."""
    try:
        from portal_joint import effects
    except ImportError:
        return None
    return effects.for_action(action)


def _joinable(action: JointAction) -> list[Cluster]:
    """The programme's clusters not taking part now that the user may join for."""
    if action.status in CLOSED:
        return []
    active = {p.cluster_id for p in action.parts if p.left_on is None}
    return [
        c
        for c in _programme_clusters(action.programme_id)
        if c.id not in active and may(current_user, "joint.join", c)
    ]


def _programme_effort(actions: list[JointAction]) -> dict[str, Any]:
    found = baselines.for_actions(actions)
    return {
        "money": rollup.programme_effort(actions, "money", found),
        "hours": rollup.programme_effort(actions, "hours", found),
    }


def _summary(action: JointAction) -> dict[str, Any]:
    figures = listing.summary(action)  # the API's joint action answers the same figures
    units = {"money": figures["money"], "hours": figures["hours"]}
    return {**figures, "picture": charts.effort_picture(units)}


def _sorted_parts(action: JointAction) -> list[Participation]:
    return listing.sorted_parts(action)


@bp.route("/actions/<int:action_id>")
def detail(action_id: int):
    action = _action(action_id)
    require(current_user, "joint.view", action)
    programme = get_or_404(Programme, action.programme_id)
    workshop = db.session.get(Workshop, action.workshop_id) if action.workshop_id else None
    joinable = _joinable(action)
    return render_template(
        "joint/detail.html",
        action=action,
        programme=programme,
        workshop=workshop,
        origin=ORIGIN_LABELS.get(action.origin, action.origin),
        indicators=_indicator_names(action),
        parts=_sorted_parts(action),
        today=date.today(),
        overdue=_overdue(action, date.today()),
        join_form=JoinForm(clusters=joinable) if joinable else None,
        confirm_form=ConfirmForm(),
        move_form=MoveForm(),
        can_manage=may(current_user, "joint.manage", action),
        effects=_effects(action),
        **_summary(action),
    )


@bp.route("/actions/<int:action_id>/join", methods=["POST"])
def join(action_id: int):
    action = _action(action_id)
    require(current_user, "joint.view", action)
    cluster_id = _int(request.form.get("cluster_id"))
    if cluster_id is None:
        flash(_("Choose a cluster."), "error")
        return redirect(url_for("joint.detail", action_id=action.id) + "#participants")
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "joint.join", cluster)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.join(current_user, action, cluster)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(
            _(
                "%(cluster)s takes part in “%(title)s” now.",
                cluster=cluster.name,
                title=action.title,
            ),
            "success",
        )
    return redirect(url_for("joint.detail", action_id=action.id) + "#participants")


@bp.route("/actions/<int:action_id>/parts/<int:part_id>/leave", methods=["POST"])
def leave(action_id: int, part_id: int):
    action = _action(action_id)
    part = _part(action, part_id)
    require(current_user, "joint.join", part.cluster)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.leave(current_user, part)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(
            _(
                "%(cluster)s has left “%(title)s”. What it did stays on record.",
                cluster=part.cluster.name,
                title=action.title,
            ),
            "success",
        )
    return redirect(url_for("joint.detail", action_id=action.id) + "#participants")


@bp.route("/actions/<int:action_id>/parts/<int:part_id>", methods=["GET", "POST"])
def part_edit(action_id: int, part_id: int):
    """A cluster's contribution. With htmx the form replaces the contribution's card on the
    joint action's page, and a save answers the new card; without it, a page of its own."""
    action = _action(action_id)
    part = _part(action, part_id)
    require(current_user, "joint.contribute", part)
    form = PartForm(
        prefix=f"part-{part.id}", people=people_choices(current_tenant(), part.owner_id)
    )
    if request.method == "GET":
        _fill_part_form(form, part)
    conflict, failed = None, False
    if form.validate_on_submit():
        version = _int(form.version.data)
        try:
            with saving(part, form, message=services.conflict_message()):
                services.update_part(
                    current_user, part, form.values(), -1 if version is None else version
                )
        except ConflictError as exc:
            conflict = exc
            _refused(form, part)
        except ServiceError as exc:
            _show_errors(form, exc)
            failed = True
        else:
            message = _("The contribution of %(cluster)s is saved.", cluster=part.cluster.name)
            if is_htmx():
                return render_template(
                    "joint/_part_saved.html",
                    action=action,
                    part=part,
                    message=message,
                    **_summary(action),
                )
            flash(message, "success")
            return redirect(url_for("joint.detail", action_id=action.id) + f"#part-{part.id}")
    failed = failed or bool(form.errors)
    code = 409 if conflict else 422 if failed else 200
    context = {
        "action": action,
        "part": part,
        "form": form,
        "conflict": conflict,
        "people": dict(people_choices(current_tenant(), part.owner_id)),
    }
    if is_htmx():
        return render_template("joint/_part_form.html", inline=True, **context), code
    return render_template("joint/part_form.html", inline=False, **context), code


def _fill_part_form(form: PartForm, part: Participation) -> None:
    form.tasks.data = part.tasks
    form.owner_id.data = str(part.owner_id) if part.owner_id else ""
    form.status.data = part.status.value
    form.progress.data = str(part.progress)
    form.hours_spent.data = _plain(part.hours_spent)
    form.money_spent.data = _plain(part.money_spent)
    form.solo_hours.data = _plain(part.solo_hours)
    form.solo_money.data = _plain(part.solo_money)
    form.version.data = part.version


# --- a cluster's promises, the timeline, the export ------------------------------------------


@bp.route("/clusters/<int:cluster_id>")
def cluster(cluster_id: int):
    """What a cluster has promised: its contributions to joint actions."""
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "joint.view", cluster)
    parts = services.promised_by(cluster.id)
    programme_ids = {p.action.programme_id for p in parts}
    programmes = (
        {
            p.id: p
            for p in db.session.scalars(select(Programme).where(Programme.id.in_(programme_ids)))
        }
        if programme_ids
        else {}
    )
    active = [p for p in parts if p.left_on is None]
    today = date.today()
    return render_template(
        "joint/cluster.html",
        cluster=cluster,
        active=active,
        left=[p for p in parts if p.left_on is not None],
        programmes=programmes,
        today=today,
        overdue={p.id for p in active if _overdue(p.action, today)},
        hours=sum((p.hours_spent or Decimal(0) for p in active), Decimal(0)),
        money=sum((p.money_spent or Decimal(0) for p in active), Decimal(0)),
        open_count=sum(1 for p in active if p.action.status not in CLOSED),
    )


@bp.route("/timeline")
def timeline():
    require(current_user, "joint.view", current_tenant())
    programme = _programme_arg(required=False)
    programmes = _programmes()
    if programme is None and programmes:
        programme = programmes[0]
    picture, undated, actions = None, [], []
    today = date.today()
    if programme is not None:
        actions = services.board(programme.id)
        dated = [a for a in actions if a.start_date or a.due_date]
        undated = [a for a in actions if not (a.start_date or a.due_date)]
        items = [
            {
                "label": a.title,
                "status": a.status.value,
                "start": a.start_date,
                "end": a.due_date,
                "url": url_for("joint.detail", action_id=a.id),
                "overdue": _overdue(a, today),
            }
            for a in dated
        ]
        picture = charts.timeline(programme.start_date, programme.end_date, items, today)
    return render_template(
        "joint/timeline.html",
        programmes=programmes,
        programme=programme,
        picture=picture,
        undated=undated,
        count=len(actions),
        today=today,
        colours=charts.STATUS_COLOURS,
    )


@bp.route("/export.xlsx", defaults={"fmt": "xlsx"}, endpoint="export")
@bp.route("/export.csv", defaults={"fmt": "csv"}, endpoint="export")
def export_file(fmt: str):
    programme = _programme_arg()
    require(current_user, "joint.view", programme)
    rows = export.rows(export.actions_of(programme))
    if fmt == "csv":
        data, mimetype = to_csv(export.header(), rows), CSV_MIME
    else:
        data, mimetype = to_xlsx([(_("Joint actions"), export.header(), rows)]), XLSX_MIME
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": (
                'attachment; filename="'
                + download_name("joint-actions", programme.id, programme.name, extension="." + fmt)
                + '"'
            ),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
