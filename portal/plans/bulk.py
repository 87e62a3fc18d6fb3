"""Bulk edits on a plan's page: the status, the owner or the due date of several actions at once.

All or nothing, like an import: every selected action is first found (in this plan, in this
region: another id is a 404), then each is checked as a single edit would be (the permission
``action.edit``, the version the user read, the owner, the due date against its start), and
only when all pass are they written, in ONE transaction (the audit log gets an entry per action
from the flush listener); the ``action_saved`` events follow the commit, one per changed action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import NotFound

from portal.accounts.models import User
from portal.errors import ConflictError, ServiceError
from portal.events import apply_changes, emit
from portal.extensions import db
from portal.permissions import require
from portal.plans.models import Action, ActionStatus, Plan
from portal.plans.services import _check_owner, _clean_action

# The most actions one submit may change: a page of the plan is 20; more is not a person.
MOST = 200
NOBODY = "none"  # the owner choice that leaves the actions without an owner


@dataclass
class BulkChange:
    """What to set on every selected action; ``None`` leaves a field as it is."""

    status: str | None = None
    owner: str | None = None  # a user id, or NOBODY
    due_date: date | None = None
    # action id -> the version the user read
    selected: dict[int, int] = field(default_factory=dict)


def parse_selection(ids: list[str], versions: dict[str, str]) -> dict[int, int]:
    """Posted ids and their ``version-<id>`` fields as {id: version}; bad ones refused."""
    selected: dict[int, int] = {}
    for raw in ids:
        try:
            action_id = int(raw)
            selected[action_id] = int(versions.get(str(action_id), ""))
        except ValueError:
            raise ServiceError(_("The selection could not be read; reload the page.")) from None
    return selected


def _values(change: BulkChange, tenant_id: int) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if change.status:
        try:
            values["status"] = ActionStatus(change.status)
        except ValueError:
            message = _("Choose one of the statuses offered.")
            raise ServiceError(message, {"status": [message]}) from None
    if change.owner:
        if change.owner == NOBODY:
            values["owner_id"] = None
        else:
            try:
                values["owner_id"] = int(change.owner)
            except ValueError:
                message = _("Choose a person of this region.")
                raise ServiceError(message, {"owner": [message]}) from None
            _check_owner(values["owner_id"], tenant_id)
    if change.due_date is not None:
        values["due_date"] = change.due_date
    if not values:
        message = _("Choose a status, an owner or a due date to set.")
        raise ServiceError(message, {"status": [message]})
    return _clean_action(values)


def _titles(actions: list[Action]) -> str:
    return ", ".join(f"“{a.title}”" for a in actions)


def bulk_update(user: User | None, plan: Plan, change: BulkChange) -> list[Action]:
    """Set the change on every selected action of the plan, or on none; return the changed.

    ServiceError (bad input, a due date before an action's start), ConflictError (someone
    changed one meanwhile: which are named), 403 (an action the user may not edit), 404 (an
    id that is not an action of this plan)."""
    if not change.selected:
        raise ServiceError(_("Select at least one action."))
    if len(change.selected) > MOST:
        raise ServiceError(_("Select at most %(num)d actions at once.", num=MOST))
    values = _values(change, plan.tenant_id)
    actions = db.session.scalars(
        select(Action)
        .where(Action.id.in_(change.selected), Action.plan_id == plan.id)
        .options(joinedload(Action.plan))
        .order_by(Action.id)
    ).all()
    if len(actions) != len(change.selected):
        raise NotFound()
    if user is not None:
        for action in actions:
            require(user, "action.edit", action)
    stale = [a for a in actions if a.version != change.selected[a.id]]
    if stale:
        raise ConflictError(_stale_message(stale), {})
    due = values.get("due_date")
    early = [a for a in actions if due and a.start_date and due < a.start_date]
    if early:
        message = _(
            "The due date is before the start of %(titles)s; nothing was changed.",
            titles=_titles(early),
        )
        raise ServiceError(message, {"due_date": [message]})
    changed: list[tuple[Action, dict]] = []
    try:
        for action in actions:
            changes = apply_changes(action, values)
            if changes:
                changed.append((action, changes))
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ConflictError(
            _("Someone changed one of the selected actions just now; nothing was changed."), {}
        ) from None
    for action, changes in changed:
        emit(
            "action_saved", plan.tenant_id, action=action, created=False, changes=changes, user=user
        )
    return [action for action, _changes in changed]


def _stale_message(stale: list[Action]) -> str:
    return ngettext(
        "Someone else changed %(titles)s since you loaded the page; nothing was changed. "
        "Check it and apply your change again.",
        "Someone else changed %(num)d of the selected actions since you loaded the page "
        "(%(titles)s); nothing was changed. Check them and apply your change again.",
        len(stale),
        titles=_titles(stale),
    )


def summary(count: int) -> str:
    return ngettext("%(num)d action updated.", "%(num)d actions updated.", count)
