"""The plan page's bulk edit: a plain form POST (no JavaScript needed) of the selected rows'
ids and versions and what to set; success goes back to the plan with a summary, a refusal
shows the selection again with the message (409 when someone saved meanwhile, 422 for bad
input), the input kept."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.permissions import require
from portal.plans import bulk, services
from portal.plans.models import Action, Plan
from portal.plans.views import bp
from portal.tenancy import get_or_404

VERSION_PREFIX = "version-"


def bulk_context(plan: Plan, editable: set[int]) -> dict:
    """What the plan page's bulk form needs: only when the user may edit some of its rows."""
    if not editable:
        return {"bulk_people": None}
    return {"bulk_people": services.people_choices(plan.tenant_id, owners=True)}


def _posted_change() -> bulk.BulkChange:
    form = request.form
    versions = {
        key.removeprefix(VERSION_PREFIX): value
        for key, value in form.items()
        if key.startswith(VERSION_PREFIX)
    }
    ids = list(versions) if form.get("select_all") else form.getlist("selected")
    due = None
    if form.get("due_date", "").strip():
        try:
            due = date.fromisoformat(form["due_date"].strip())
        except ValueError:
            message = _("The due date is not a date (use the format YYYY-MM-DD).")
            raise ServiceError(message, {"due_date": [message]}) from None
    return bulk.BulkChange(
        status=form.get("status") or None,
        owner=form.get("owner") or None,
        due_date=due,
        selected=bulk.parse_selection(ids, versions),
    )


def _back(plan: Plan) -> str:
    """The plan page the form was sent from (its filters and page kept), else the plan."""
    home = url_for("plans.detail", plan_id=plan.id)
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path == home:
        return home + (f"?{referrer.query}" if referrer.query else "")
    return home


@bp.route("/plans/<int:plan_id>/bulk", methods=["POST"])
def bulk_edit(plan_id: int):
    plan = get_or_404(Plan, plan_id)
    require(current_user, "plan.view", plan)
    change = bulk.BulkChange()
    try:
        change = _posted_change()
        changed = bulk.bulk_update(current_user, plan, change)
    except ConflictError as exc:
        return _refused(plan, change, exc.message, 409)
    except ServiceError as exc:
        db.session.rollback()
        return _refused(plan, change, exc.message, 422)
    flash(bulk.summary(len(changed)), "success")
    return redirect(_back(plan))


def _refused(plan: Plan, change: bulk.BulkChange, message: str, status: int):
    """The selection with the message and the chosen values kept. After a conflict it carries
    the versions stored now, so sending it again applies the change to what the user sees;
    otherwise the versions the user read, still checked."""
    actions = (
        db.session.scalars(
            select(Action)
            .where(Action.id.in_(change.selected), Action.plan_id == plan.id)
            .options(selectinload(Action.owner))
            .order_by(Action.id)
        ).all()
        if change.selected
        else []
    )
    return render_template(
        "plans/bulk.html",
        plan=plan,
        actions=actions,
        change=change,
        form=request.form,
        message=message,
        versions={a.id: a.version for a in actions} if status == 409 else change.selected,
        bulk_people=services.people_choices(plan.tenant_id, owners=True),
    ), status
