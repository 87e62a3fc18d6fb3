"""Plans in the JSON API: the plans list (by cluster, programme, kind and state) and one
plan with its progress, and a new action of a plan, over the plans' services."""

from __future__ import annotations

from datetime import date

from flask import g, url_for
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy.orm import selectinload

from portal.api.actions import etag_data
from portal.api.helpers import documented, found_first, page_body, service_errors
from portal.api.schemas.actions import ActionCreateSchema, ActionSchema
from portal.api.schemas.plans import PlanArgsSchema, PlanPageSchema, PlanSchema
from portal.improvement import links
from portal.permissions import require
from portal.plans import listing, progress, services
from portal.plans.models import Action, Plan
from portal.tenancy import get_or_404
from portal.web.pagination import paginate

blp = Blueprint(
    "api_plans",
    __name__,
    url_prefix="/api/v1/<tenant>",
    description="Improvement plans: a cluster's own and a programme's joint ones.",
)


def _plan(plan: Plan, done: progress.Progress) -> dict:
    return {
        **{k: getattr(plan, k) for k in PlanSchema().fields if k != "progress"},
        "progress": {
            "percent": float(round(done.percent, 1)),
            "actions": done.actions,
            "done": done.done,
        },
    }


@blp.route("/plans")
@blp.arguments(PlanArgsSchema, location="query", as_kwargs=True)
@blp.response(200, PlanPageSchema)
@documented(blp, 422)
def list_plans(page: int, per_page: int, **filters):
    """The region's plans, filtered and sorted, each with its progress (three queries)."""
    require(current_user, "plan.view")
    stmt = listing.plans_query(listing.PlanFilters(**filters, today=date.today()))
    result = paginate(stmt, page, per_page)
    done = progress.plans_progress([p.id for p in result.items])
    return page_body(result, lambda plan: _plan(plan, done[plan.id]))


@blp.route("/plans/<int:plan_id>")
@blp.response(200, PlanSchema)
@documented(blp)
def get_plan(plan_id: int):
    """One plan with its progress (its actions: /plans/{plan_id}/actions)."""
    plan = get_or_404(Plan, plan_id)
    require(current_user, "plan.view", plan)
    return _plan(plan, progress.plans_progress([plan.id])[plan.id])


@blp.route("/plans/<int:plan_id>/actions", methods=["POST"])
@found_first(plan_id=Plan)
@blp.etag
@blp.arguments(ActionCreateSchema)
@blp.response(201, ActionSchema)
@documented(blp, 403, 422)
def create_action(data: dict, plan_id: int):
    """A new action of the plan (the `write` scope, and a role that manages the plan),
    checked as the action form is. The answer names it (Location) and its version (ETag)."""
    plan = get_or_404(Plan, plan_id)
    cluster_ids = data.pop("cluster_ids", None)
    texts = data.pop("indicators", None) or []
    with service_errors(409):
        action = services.create_action(
            current_user, plan, data, cluster_ids, indicator_keys=links.parse_texts(texts)
        )
    action = get_or_404(Action, action.id, selectinload(Action.clusters))
    blp.set_etag(etag_data(action))
    location = url_for("api_actions.get_action", tenant=g.tenant.slug, action_id=action.id)
    return action, 201, {"Location": location}
