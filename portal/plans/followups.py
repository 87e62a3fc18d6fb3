"""Turning a finding (a weak indicator of a comparison, say) into work in one step.

A *follow-up target* is a place a finding can go: the core offers a goal or an action of a
programme's joint plan; plugins add more through the ``followup_targets`` hook (e.g. a joint
action). Each target is a POST endpoint that takes the form fields of
:data:`FINDING_FIELDS`, creates what it makes, and redirects to it (or back to ``next``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.views import safe_next
from portal.errors import ServiceError
from portal.extensions import db
from portal.permissions import require
from portal.plans import services
from portal.plans.models import Plan, PlanKind
from portal.tenancy import get_or_404

# What a finding carries: the joint plan it goes to, its title and description, and the
# indicator it is about (optional).
FINDING_FIELDS = ("plan_id", "title", "description", "indicator_set", "set_version", "indicator_id")


@dataclass(frozen=True)
class FollowupTarget:
    id: str
    label: Any  # the button's text (translated lazily)
    endpoint: str  # a POST endpoint taking FINDING_FIELDS and ``next``
    order: int = 100


CORE_TARGETS = (
    FollowupTarget("joint_goal", _l("Add as a goal of the joint plan"), "followups.goal", 10),
    FollowupTarget(
        "joint_plan_action", _l("Add as an action of the joint plan"), "followups.action", 20
    ),
)


def followup_targets(tenant) -> list[FollowupTarget]:
    """The core's targets and those of the plugins switched on for the tenant."""
    host = current_app.extensions["portal_plugins"]
    targets = list(CORE_TARGETS)
    for items in host.call("followup_targets", tenant_id=tenant.id, tenant=tenant):
        targets.extend(items)
    return sorted(targets, key=lambda t: (t.order, t.id))


def joint_plans() -> list[Plan]:
    """The tenant's joint plans, newest first (where findings can go)."""
    return list(
        db.session.scalars(
            select(Plan).where(Plan.kind == PlanKind.JOINT).order_by(Plan.end_date.desc(), Plan.id)
        )
    )


bp = Blueprint("followups", __name__, url_prefix="/<tenant>")


def _finding() -> tuple[Plan, str, str]:
    plan_id = request.form.get("plan_id", type=int)
    if plan_id is None:
        abort(404)
    plan = get_or_404(Plan, plan_id)
    if plan.kind != PlanKind.JOINT:
        abort(404)
    require(current_user, "plan.manage", plan)
    title = (request.form.get("title") or "").strip()[:200]
    description = (request.form.get("description") or "").strip()[:5000]
    return plan, title, description


def _back(plan: Plan):
    target = safe_next(request.form.get("next"))
    return redirect(target or url_for("plans.detail", plan_id=plan.id))


@bp.route("/followups/goal", methods=["POST"])
def goal():
    plan, title, description = _finding()
    if not title:
        flash(_("A goal needs a title."), "error")
        return _back(plan)
    line = f"- {title}" + (f": {description}" if description else "")
    goals = plan.goals.rstrip()
    if line in goals.splitlines():
        flash(_("The joint plan has this goal already."), "info")
        return _back(plan)
    services.update_plan(current_user, plan, {"goals": f"{goals}\n{line}".strip()})
    flash(_("Added to the goals of %(plan)s.", plan=plan.title), "success")
    return _back(plan)


def _finding_indicators() -> list[tuple[str, str, str]]:
    """The indicator the finding is about, when it names one (checked by the services)."""
    key = tuple(
        (request.form.get(name) or "").strip()[:100]
        for name in ("indicator_set", "set_version", "indicator_id")
    )
    return [key] if all(key) else []


@bp.route("/followups/action", methods=["POST"])
def action():
    plan, title, description = _finding()
    try:
        created = services.create_action(
            current_user,
            plan,
            {"title": title, "description": description},
            indicator_keys=_finding_indicators(),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(plan)
    flash(_("The action is added to %(plan)s.", plan=plan.title), "success")
    return redirect(url_for("plans.action_detail", action_id=created.id))
