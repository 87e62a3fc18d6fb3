"""Joint actions in the JSON API (the ``api_blueprints`` hook): the region's joint actions,
filtered like the board, one joint action with its figures and effects, and each cluster's
contribution: listed, joined (as "Take part" does) and changed under If-Match (as the
contribution form does). Every read and write goes through ``listing`` and ``services``, the
pages' own; effects through the core's measurer and its privacy policy."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.toolkit import (
    ApiBlueprint,
    Cluster,
    PageArgsSchema,
    _,
    api_abort,
    api_documented,
    api_found_first,
    api_paged,
    api_service_errors,
    current_tenant,
    current_user,
    db,
    get_or_404,
    require,
    saving,
)
from portal_joint import listing, rollup, services
from portal_joint.api_schemas import (
    ContributionCreateSchema,
    ContributionPageSchema,
    ContributionPatchSchema,
    ContributionSchema,
    JointActionArgsSchema,
    JointActionDetailSchema,
    JointActionPageSchema,
)
from portal_joint.models import JointAction, Participation

blp = ApiBlueprint(
    "api_joint",
    __name__,
    url_prefix="/api/v1/<tenant>/joint",
    description="Joint actions of programmes and each cluster's contribution (plugin joint).",
)


def _text(value: Decimal | None) -> str | None:
    """An exact amount as the text of its decimal (no exponent), or None."""
    return None if value is None else format(Decimal(value), "f")


def _action_row(action: JointAction, today: date) -> dict[str, Any]:
    progress = rollup.action_progress(action)
    return {
        **{
            key: getattr(action, key)
            for key in (
                "id",
                "programme_id",
                "title",
                "aim",
                "start_date",
                "due_date",
                "lead_user_id",
                "lead_cluster_id",
                "workshop_id",
                "origin",
                "version",
            )
        },
        "status": action.status.value,
        "overdue": listing.overdue(action, today),
        "budget_money": _text(action.budget_money),
        "budget_hours": _text(action.budget_hours),
        "participants": listing.participants(action),
        "progress": {"value": progress.value, "basis": progress.basis, "counted": progress.counted},
        "indicators": [
            {
                "indicator_set": i.indicator_set,
                "set_version": i.set_version,
                "indicator_id": i.indicator_id,
            }
            for i in action.indicators
        ],
    }


def _effort(effort) -> dict[str, Any]:
    return {
        "together": _text(effort.together),
        "basis": effort.basis,
        "alone": _text(effort.alone),
        "saved": _text(effort.saved),
        "source": effort.source,
        "participants": effort.participants,
        "estimated": effort.estimated,
        "pending": effort.pending,
    }


def _group(group) -> dict[str, Any]:
    return {
        "clusters": group.clusters,
        "before": _text(group.before),
        "after": _text(group.after),
        "change": _text(group.change),
    }


def _effect(row) -> dict[str, Any]:
    link, name, effect = row
    return {
        "indicator": {
            "indicator_set": link.indicator_set,
            "set_version": link.set_version,
            "indicator_id": link.indicator_id,
        },
        "name": name,
        "reason": effect.reason,
        "before_day": effect.window.before_day,
        "after_day": effect.window.after_day,
        "participants": _group(effect.worked),
        "others": _group(effect.others),
        "difference": _text(effect.difference),
        "min_group": effect.min_group,
    }


def _part_row(part: Participation) -> dict[str, Any]:
    return {
        **{
            key: getattr(part, key)
            for key in (
                "id",
                "action_id",
                "cluster_id",
                "joined_on",
                "left_on",
                "tasks",
                "owner_id",
                "progress",
                "version",
            )
        },
        "cluster_name": part.cluster.name,
        "status": part.status.value,
        **{
            key: _text(getattr(part, key))
            for key in ("hours_spent", "money_spent", "solo_hours", "solo_money")
        },
    }


def _etag(part: Participation) -> dict[str, int]:
    return {"contribution": part.id, "version": part.version}


def _action(action_id: int) -> JointAction:
    action = get_or_404(
        JointAction,
        action_id,
        selectinload(JointAction.parts).selectinload(Participation.cluster),
        selectinload(JointAction.indicators),
    )
    require(current_user, "joint.view", action)
    return action


def _part(part_id: int) -> Participation:
    part = get_or_404(
        Participation,
        part_id,
        selectinload(Participation.cluster),
        selectinload(Participation.action),
    )
    require(current_user, "joint.view", part)
    return part


@blp.route("/actions")
@blp.arguments(JointActionArgsSchema, location="query", as_kwargs=True)
@blp.response(200, JointActionPageSchema)
@api_documented(blp, 422)
def list_actions(page: int, per_page: int, **filters):
    """The region's joint actions, filtered like the board (programme, status) and a
    cluster's page (the clusters taking part), due first; with progress (four queries)."""
    require(current_user, "joint.view", current_tenant())
    stmt = listing.actions_query(listing.ActionFilters(**filters), clusters=False)
    today = date.today()
    return api_paged(stmt, page, per_page, row=lambda action: _action_row(action, today))


@blp.route("/actions/<int:joint_action_id>")
@blp.etag
@blp.response(200, JointActionDetailSchema)
@api_documented(blp)
def get_action(joint_action_id: int):
    """One joint action with its progress, the effort saved and the effect on its linked
    indicators (groups' means only as the core's privacy policy allows)."""
    from portal_joint import effects

    action = _action(joint_action_id)
    figures = listing.summary(action)
    blp.set_etag({"joint_action": action.id, "version": action.version})
    return {
        **_action_row(action, date.today()),
        "effort_money": _effort(figures["money"]),
        "effort_hours": _effort(figures["hours"]),
        "effects": [_effect(row) for row in effects.for_action(action)],
    }


@blp.route("/actions/<int:joint_action_id>/contributions")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ContributionPageSchema)
@api_documented(blp, 422)
def list_contributions(joint_action_id: int, page: int, per_page: int):
    """Each cluster's contribution, as the joint action's page lists them: the clusters
    taking part first, by name, then those that left (two queries)."""
    action = get_or_404(JointAction, joint_action_id)
    require(current_user, "joint.view", action)
    return api_paged(listing.parts_query(action.id), page, per_page, row=_part_row)


@blp.route("/actions/<int:joint_action_id>/contributions", methods=["POST"])
@api_found_first(joint_action_id=JointAction)
@blp.etag
@blp.arguments(ContributionCreateSchema)
@blp.response(201, ContributionSchema)
@api_documented(blp, 403, 422)
def create_contribution(data: dict, joint_action_id: int):
    """A cluster takes part (the `write` scope; its managers or a coordinator), as the
    page's "Take part": refused when the action is closed or the cluster takes part already.
    A cluster that left joins again with its record kept."""
    action = _action(joint_action_id)
    cluster = db.session.scalar(select(Cluster).where(Cluster.id == data["cluster_id"]))
    if cluster is None:  # another region's cluster is no cluster here
        message = _("Choose a cluster of this region.")
        api_abort(422, message=message, errors={"cluster_id": [message]})
    require(current_user, "joint.join", cluster)
    with api_service_errors(409):
        part = services.join(current_user, action, cluster)
    part = _part(part.id)
    blp.set_etag(_etag(part))
    location = url_for("api_joint.get_contribution", tenant=current_tenant().slug, part_id=part.id)
    return _part_row(part), 201, {"Location": location}


@blp.route("/contributions/<int:part_id>")
@blp.etag
@blp.response(200, ContributionSchema)
@api_documented(blp)
def get_contribution(part_id: int):
    """One contribution; its ETag names the version to send back in If-Match."""
    part = _part(part_id)
    blp.set_etag(_etag(part))
    return _part_row(part)


@blp.route("/contributions/<int:part_id>", methods=["PATCH"])
@api_found_first(part_id=Participation)
@blp.etag
@blp.arguments(ContributionPatchSchema)
@blp.response(200, ContributionSchema)
@api_documented(blp, 403, 409, 412, 422, 428)
def patch_contribution(data: dict, part_id: int):
    """Change a contribution (the `write` scope; the cluster's managers, the part's owner,
    the action's lead or a coordinator): tasks, owner, status, progress, hours and money
    spent, the estimates alone. Checked as the contribution form is; If-Match must name the
    version read (412 when someone saved since)."""
    part = _part(part_id)
    blp.check_etag(_etag(part))
    with api_service_errors(), saving(part, part.version, message=services.conflict_message()):
        services.update_part(current_user, part, data, part.version)
    db.session.refresh(part)
    blp.set_etag(_etag(part))
    return _part_row(part)
