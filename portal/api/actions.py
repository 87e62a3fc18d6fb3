"""A plan's actions in the JSON API: the list, one action with its ETag, and changes under
optimistic locking (If-Match), over the plans' services."""

from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy.orm import selectinload

from portal.api.helpers import service_errors
from portal.api.schemas.actions import (
    ActionArgsSchema,
    ActionPageSchema,
    ActionPatchSchema,
    ActionSchema,
)
from portal.extensions import db
from portal.permissions import require
from portal.plans import services
from portal.plans.models import Action, Plan
from portal.tenancy import get_or_404
from portal.web.pagination import paginate

blp = Blueprint(
    "api_actions",
    __name__,
    url_prefix="/api/v1/<tenant>",
    description="Improvement plans' actions.",
)


def etag_data(action: Action) -> dict:
    # The stored version: any change of the action (or its clusters) moves it on.
    return {"action": action.id, "version": action.version}


def _action(action_id: int) -> Action:
    return get_or_404(Action, action_id, selectinload(Action.clusters), selectinload(Action.plan))


@blp.route("/plans/<int:plan_id>/actions")
@blp.arguments(ActionArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ActionPageSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def list_actions(plan_id: int, page: int, per_page: int, status: str, sort: str):
    """The plan's actions, filtered by status and sorted like the plan's page."""
    plan = get_or_404(Plan, plan_id)
    require(current_user, "plan.view", plan)
    filters = services.ActionFilters(status=status, sort=sort)
    result = paginate(services.actions_query(plan.id, filters), page, per_page)
    return {
        "items": result.items,
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    }


@blp.route("/actions/<int:action_id>")
@blp.etag
@blp.response(200, ActionSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def get_action(action_id: int):
    """One action; its ETag names the version to send back in If-Match when changing it."""
    action = _action(action_id)
    require(current_user, "action.view", action)
    blp.set_etag(etag_data(action))
    return action


@blp.route("/actions/<int:action_id>", methods=["PATCH"])
@blp.etag
@blp.arguments(ActionPatchSchema)
@blp.response(200, ActionSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def patch_action(data: dict, action_id: int):
    """Change the status, progress, title or due date (the `write` scope, and a role that
    may edit the action). Checked like the plan's forms; If-Match must name the version read."""
    action = _action(action_id)
    blp.check_etag(etag_data(action))
    # A ConflictError: someone saved between the If-Match check and this write (412).
    with service_errors():
        services.update_action(current_user, action, data, expected_version=action.version)
    db.session.refresh(action)
    blp.set_etag(etag_data(action))
    return action
