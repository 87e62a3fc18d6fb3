"""The plan page's bulk edit: a plain form POST (no JavaScript needed) of the selected rows'
ids and versions and what to set; success goes back to the plan with a summary, a refusal
shows the selection again with the message (409 when someone saved meanwhile, 422 for bad
input), the input kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Membership, User
from portal.accounts.services import normalise_email
from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.permissions import require
from portal.plans import bulk, services
from portal.plans.models import Action, Plan
from portal.plans.views import bp
from portal.tenancy import get_or_404

VERSION_PREFIX = "version-"
# Past so many people who may own actions, the form asks for the new owner's e-mail address
# instead of listing everyone (a region of 2,000 clusters has thousands: the page would grow
# with the region, and nobody picks from such a list).
OWNERS_LISTED = 50


def _owner_choices(tenant_id: int) -> list[tuple[int, str]] | None:
    """The people the form lists as owners, or None: too many, ask for an e-mail address."""
    people = services.people_choices(tenant_id, owners=True, limit=OWNERS_LISTED + 1)
    return people if len(people) <= OWNERS_LISTED else None


def bulk_context(plan: Plan, editable: set[int]) -> dict:
    """What the plan page's bulk form needs: only when the user may edit some of its rows."""
    if not editable:
        return {"bulk_people": []}
    return {"bulk_people": _owner_choices(plan.tenant_id)}


def _owner_by_email(plan: Plan, change: bulk.BulkChange) -> bulk.BulkChange:
    """The owner named by e-mail address (when the form asks for one), as a user id: a person
    of the region; whether they may own actions is checked with the rest of the change."""
    email = request.form.get("owner_email", "").strip()
    if not email or change.owner:
        return change
    # Addresses are stored as normalise_email leaves them: the same on the indexed column.
    found = db.session.scalar(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == plan.tenant_id, User.email == normalise_email(email))
    )
    if found is None:
        message = _("Nobody of the region has the e-mail address %(email)s.", email=email)
        raise ServiceError(message, {"owner": [message]})
    return replace(change, owner=str(found))


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
        change = _owner_by_email(plan, change)
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
        bulk_people=_owner_choices(plan.tenant_id),
    ), status
