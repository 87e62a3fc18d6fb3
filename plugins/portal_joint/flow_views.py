"""Joint actions made in one step from elsewhere, the notices page, and the plugin's panels.

* from a weak indicator (a *finding*, the ``followup_targets`` hook): the joint plan's
  programme gets a joint action with the finding's title and description, the indicator
  linked (origin ``scorecard``);
* from a goal of a joint plan (origin ``plan_goal``), offered on the plan's page;
* decided at a workshop of a programme (origin ``workshop``), offered on the workshop's page.

Each is a POST that loads what it names through the tenant (another region's id: 404), checks
``joint.create`` on the programme, then validates; a second click finds the joint action made
by the first instead of making another.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import or_, select

from portal.toolkit import (
    Panel,
    Programme,
    ServiceError,
    Workshop,
    _,
    _l,
    cluster_ids_of,
    current_tenant,
    current_user,
    db,
    depends_on_viewer,
    get_or_404,
    joint_plans,
    may,
    require,
)
from portal_joint import services
from portal_joint.blueprint import bp
from portal_joint.digest import status_label
from portal_joint.models import JointAction, JointStatus, Participation

CLOSED = (JointStatus.DONE, JointStatus.CANCELLED)
DASHBOARD_DAYS = 14
DASHBOARD_LIMIT = 8
TITLE_MAX = 200
LIST_MARK = re.compile(r"^[-*•](\s+|$)")


def _safe_next(target: str | None) -> str | None:
    """Only local paths: an open redirect would help phishing."""
    if not target:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return None
    return target


def _detail(action: JointAction):
    return redirect(
        _safe_next(request.form.get("next")) or url_for("joint.detail", action_id=action.id)
    )


def _text(name: str, limit: int) -> str:
    return (request.form.get(name) or "").strip()[:limit]


def _joint_plan():
    """The tenant's joint plan named by the form's ``plan_id``, else 404."""
    plan_id = request.form.get("plan_id", type=int)
    if plan_id is None:
        abort(404)
    plan = next((p for p in joint_plans() if p.id == plan_id), None)
    if plan is None:
        abort(404)
    return plan


def _programme_or_refuse(programme_id: int | None, back: str):
    """The programme joint actions go to, after the permission check; None (with a message)
    when there is none."""
    if programme_id is None:
        require(current_user, "joint.create", current_tenant())
        flash(_("Joint actions belong to a programme, and this has none."), "error")
        return None
    programme = get_or_404(Programme, programme_id)
    require(current_user, "joint.create", programme)
    return programme


def _existing(programme_id: int, title: str, origin: str) -> JointAction | None:
    """A joint action made the same way before (a second click), not cancelled."""
    return db.session.scalar(
        select(JointAction)
        .where(
            JointAction.programme_id == programme_id,
            JointAction.title == title,
            JointAction.origin == origin,
            JointAction.status != JointStatus.CANCELLED,
        )
        .order_by(JointAction.id)
        .limit(1)
    )


def _create(programme, data: dict, back: str, **kwargs):
    title = data["title"]
    found = _existing(programme.id, title, kwargs["origin"])
    if found is not None:
        flash(_("“%(title)s” is a joint action already.", title=title), "info")
        return _detail(found)
    try:
        action = services.create_action(current_user, programme, data, **kwargs)
    except ServiceError as exc:
        db.session.rollback()
        # These forms have no fields to mark: say what is wrong with each.
        details = [e for errors in exc.field_errors.values() for e in errors]
        flash(" ".join(details) if details else exc.message, "error")
        return redirect(back)
    flash(_("The joint action “%(title)s” is created.", title=action.title), "success")
    return _detail(action)


@bp.route("/from-finding", methods=["POST"])
def from_finding():
    """A weak indicator (or another finding) becomes a joint action of the programme of the
    joint plan it was sent to (``followup_targets``)."""
    plan = _joint_plan()
    back = _safe_next(request.form.get("next")) or url_for("plans.detail", plan_id=plan.id)
    programme = _programme_or_refuse(plan.programme_id, back)
    if programme is None:
        return redirect(back)
    title = _text("title", TITLE_MAX)
    if not title:
        flash(_("A joint action needs a title."), "error")
        return redirect(back)
    indicator = tuple(_text(f, 100) for f in ("indicator_set", "set_version", "indicator_id"))
    if indicator[2] and not all(indicator):
        flash(_("Unknown indicator."), "error")
        return redirect(back)
    return _create(
        programme,
        {"title": title, "aim": _text("description", 5000)},
        back,
        origin="scorecard",
        indicators=[indicator] if indicator[2] else [],
    )


def goal_lines(goals: str) -> list[str]:
    """A plan's goals, one per line, without list marks."""
    found = []
    for line in (goals or "").splitlines():
        text = LIST_MARK.sub("", line.strip()).strip()
        if text and text not in found:
            found.append(text)
    return found


def goal_title(goal: str) -> str:
    """A goal's title: the part before ": " (goals made from findings read "title: why")."""
    head = goal.split(": ", 1)[0].strip() or goal
    return head if len(head) <= TITLE_MAX else head[: TITLE_MAX - 1].rstrip() + "…"


@bp.route("/from-goal", methods=["POST"])
def from_goal():
    """A goal of a joint plan becomes a joint action of the plan's programme."""
    plan = _joint_plan()
    back = url_for("plans.detail", plan_id=plan.id)
    programme = _programme_or_refuse(plan.programme_id, back)
    if programme is None:
        return redirect(back)
    goal = " ".join(_text("goal", 5000).split())
    goal = goal_lines(goal)[0] if goal_lines(goal) else ""
    if not goal:
        flash(_("Choose a goal of the joint plan."), "error")
        return redirect(back)
    title = goal_title(goal)
    aim = goal if goal != title else ""
    return _create(programme, {"title": title, "aim": aim}, back, origin="plan_goal")


@bp.route("/from-workshop", methods=["POST"])
def from_workshop():
    """A joint action decided at a workshop of a programme."""
    workshop_id = request.form.get("workshop_id", type=int)
    if workshop_id is None:
        abort(404)
    workshop = get_or_404(Workshop, workshop_id)
    back = url_for("workshops.detail", workshop_id=workshop.id)
    programme = _programme_or_refuse(workshop.programme_id, back)
    if programme is None:
        return redirect(back)
    title = _text("title", TITLE_MAX + 1)
    if not title:
        flash(_("A joint action needs a title."), "error")
        return redirect(back)
    return _create(
        programme,
        {"title": title, "workshop_id": workshop.id, "status": JointStatus.PLANNED.value},
        back,
        origin="workshop",
    )


# --- notices ------------------------------------------------------------------------------


def due_soon(user, tenant, days: int = DASHBOARD_DAYS, today: date | None = None, limit=None):
    """Open joint actions due within ``days`` (or overdue) that the person leads, owns a part
    of, or in which one of their clusters takes part: two queries."""
    today = today or date.today()
    depends_on_viewer()  # what the person leads or owns
    mine = cluster_ids_of(user, tenant)
    parts = select(Participation.action_id).where(
        Participation.left_on.is_(None),
        or_(Participation.owner_id == user.id, Participation.cluster_id.in_(sorted(mine))),
    )
    stmt = (
        select(JointAction)
        .where(
            JointAction.status.not_in(CLOSED),
            JointAction.due_date.is_not(None),
            JointAction.due_date <= today + timedelta(days=days),
            or_(JointAction.lead_user_id == user.id, JointAction.id.in_(parts)),
        )
        .order_by(JointAction.due_date, JointAction.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


@bp.route("/notices")
def notices():
    """Moved: the notices are the core's notifications now (its page lists them)."""
    require(current_user, "joint.view", current_tenant())
    return redirect(url_for("notifications.index"), 301)


@bp.route("/notices/read", methods=["POST"])
def notices_read():
    """Moved: marking read happens on the core's notifications page."""
    require(current_user, "joint.view", current_tenant())
    return redirect(url_for("notifications.read_all"), 307)


# --- panels on the core's pages -----------------------------------------------------------


def dashboard_panels(tenant, user) -> list[Panel]:
    """The unread count and the joint actions due soon: three queries."""
    if not may(user, "joint.view", tenant):
        return []
    due = due_soon(user, tenant, limit=DASHBOARD_LIMIT + 1)
    return [
        Panel(
            _l("Joint actions"),
            "joint/_dashboard_panel.html",
            {
                "due": due[:DASHBOARD_LIMIT],
                "more": len(due) > DASHBOARD_LIMIT,
                "days": DASHBOARD_DAYS,
                "today": date.today(),
            },
            order=40,
        )
    ]


def plan_panels(plan, user) -> list[Panel]:
    """A joint plan's goals, each one click from a joint action: two queries."""
    if str(plan.kind) != "joint" or plan.programme_id is None:
        return []
    programme = db.session.get(Programme, plan.programme_id)
    if programme is None or not may(user, "joint.create", programme):
        return []
    goals = goal_lines(plan.goals)
    made = dict(
        db.session.execute(
            select(JointAction.title, JointAction.id)
            .where(
                JointAction.programme_id == programme.id,
                JointAction.origin == "plan_goal",
                JointAction.status != JointStatus.CANCELLED,
            )
            .order_by(JointAction.id.desc())
        ).all()
    )
    rows = [SimpleNamespace(text=g, action_id=made.get(goal_title(g))) for g in goals]
    return [
        Panel(
            _l("Goals as joint actions"),
            "joint/_plan_panel.html",
            {"plan": plan, "goals": rows},
            order=60,
        )
    ]


def workshop_panels(workshop, user) -> list[Panel]:
    """The joint actions decided at a workshop (also once it no longer belongs to their
    programme), and (for those who may, at a programme's workshop) a form for one more: two
    queries at most."""
    if not may(user, "joint.view", workshop):
        return []
    actions = db.session.scalars(
        select(JointAction).where(JointAction.workshop_id == workshop.id).order_by(JointAction.id)
    ).all()
    programme = db.session.get(Programme, workshop.programme_id) if workshop.programme_id else None
    can_create = programme is not None and may(user, "joint.create", programme)
    if not actions and not can_create:
        return []
    return [
        Panel(
            _l("Joint actions decided here"),
            "joint/_workshop_panel.html",
            {
                "workshop": workshop,
                "actions": actions,
                "can_create": can_create,
                "status_label": status_label,
            },
            order=40,
        )
    ]
