"""The one place that answers "may user U do action A on object O?".

Views, templates (``may(...)``), services and the CLI all ask here. Actions the
core does not know are put to the plugins' ``check_permission`` hook; anything
nobody answers is denied.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, has_request_context
from sqlalchemy import select

from portal.accounts.models import Membership, Role, User
from portal.clusters.models import Cluster, MemberOrganisation
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.web.personal import depends_on_viewer, same_person

# Every role of a tenant may read everything in it (observers included).
READ_ACTIONS = frozenset({"tenant.view", "cluster.view", "member.view"})
COORDINATOR_ACTIONS = frozenset(
    {
        "tenant.manage",
        "tenant.people",
        "tenant.plugins",
        "tenant.audit",
        "cluster.create",
        "cluster.delete",
    }
)
CLUSTER_ACTIONS = frozenset(
    {
        "cluster.edit",
        "member.create",
        "member.edit",
        "member.delete",
        "member.import",
        # A cluster's rounds (managers: self-assessments only) and its documented
        # improvements: its managers and coordinators.
        "round.manage",
        "round.self_assess",
        "label.evidence",
        # Assessments planned toward a label (the label calendar): planning, not evidence.
        "label.plan",
    }
)
PLATFORM_ACTIONS = frozenset({"platform.admin", "tenant.create"})
# Programmes, workshops, plans and actions: rules in _process_rule.
READ_ACTIONS = READ_ACTIONS | {
    "label.view",
    "programme.view",
    "workshop.view",
    "plan.view",
    "action.view",
}
# A cluster's own benchmark values: the privacy policy decides (portal.privacy.policy).
# Asked of the privacy policy: a cluster's evidence (round.view) and its workings
# (self-assessments, drafts, who entered what and the corrections: round.workings).
VALUES_ACTIONS = frozenset({"round.view", "round.workings"})
# A cluster's choice to share its own report with the region's observers: its managers.
SHARING_ACTIONS = frozenset({"cluster.share_values"})
COORDINATOR_ACTIONS = COORDINATOR_ACTIONS | {
    "label.award",
    "programme.create",
    "programme.manage",
    "workshop.create",
    "workshop.manage",
}
# Certified experts: they benchmark and audit any cluster of the region (their results are
# theirs: coordinators may enter one on an expert's behalf, naming the expert; only assessors
# correct a confirmed one), record expert reviews and award labels; they take no part in the
# joint process.
ASSESSOR_ACTIONS = frozenset(
    {
        "round.manage",
        "round.assess",
        "round.correct",
        "label.evidence",
        "label.review",
        "label.award",
    }
)
# Only the experts themselves correct a confirmed result (coordinators do not).
ASSESSOR_ONLY_ACTIONS = frozenset({"round.correct"})
PROCESS_ACTIONS = frozenset(
    {
        "workshop.register",  # everyone but observers, when invited (or a coordinator)
        "plan.create",  # on a cluster (individual plan) or a programme (joint plan)
        "plan.manage",  # change the plan, add and delete its actions
        "action.edit",  # the plan's managers and the action's owner
        "action.delete",
        "action.comment",
    }
)
# A comment on an action: its author edits and deletes it (while they may comment at all and
# no coordinator hid it); coordinators hide and show it again (not edit what others wrote).
COMMENT_ACTIONS = frozenset({"comment.edit", "comment.delete", "comment.hide"})
CORE_ACTIONS = (
    COMMENT_ACTIONS
    | READ_ACTIONS
    | COORDINATOR_ACTIONS
    | CLUSTER_ACTIONS
    | PLATFORM_ACTIONS
    | PROCESS_ACTIONS
    | VALUES_ACTIONS
    | SHARING_ACTIONS
    | ASSESSOR_ACTIONS
)


# Who may be made an action's owner: the roles whose owner may edit the action
# ("action.edit" in _process_rule). Observers and assessors may not, so they own none.
ACTION_OWNER_ROLES = frozenset({Role.COORDINATOR, Role.CLUSTER_MANAGER, Role.MEMBER})


def membership_for(user: User | None, tenant: Tenant | int | None) -> Membership | None:
    """The user's membership in the tenant, loaded once per request."""
    if user is None or not getattr(user, "is_authenticated", False) or tenant is None:
        return None
    tenant_id = getattr(tenant, "id", tenant)
    cache = g.setdefault("_memberships", {}) if has_request_context() else {}
    key = (user.id, tenant_id)
    if key not in cache:
        from portal.tenancy.scope import tenant_scope

        with tenant_scope(tenant_id):
            # The clusters load when a rule first asks for them (the tenant criteria of this
            # query go with them); the access check of every request needs only the role.
            # A deactivated membership gives no access (portal.accounts.services).
            cache[key] = db.session.scalar(
                select(Membership).where(Membership.user_id == user.id, Membership.active)
            )
    return cache[key]


def _tenant_of(obj: Any) -> int | None:
    if isinstance(obj, Tenant):
        return obj.id
    tenant_id = getattr(obj, "tenant_id", None)
    if tenant_id is not None:
        return tenant_id
    tenant = g.get("tenant") if has_request_context() else None
    return tenant.id if tenant is not None else None


def _cluster_id_of(obj: Any) -> int | None:
    if isinstance(obj, Cluster):
        return obj.id
    if isinstance(obj, MemberOrganisation):
        return obj.cluster_id
    return getattr(obj, "cluster_id", None)


def may(user: User | None, action: str, obj: Any = None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_platform_admin:
        return True
    if action in PLATFORM_ACTIONS:
        return False
    if action in VALUES_ACTIONS:
        from portal.privacy.policy import may_see_values

        return may_see_values(user, obj, workings=action == "round.workings")
    membership = membership_for(user, _tenant_of(obj))
    if action in CORE_ACTIONS:
        if membership is None:
            return False
        return _core_rule(membership, action, obj)
    host = current_app.extensions["portal_plugins"]
    answer = host.call_first(
        "check_permission", tenant_id=_tenant_of(obj), user=user, action=action, obj=obj
    )
    return bool(answer)


def _core_rule(membership: Membership, action: str, obj: Any) -> bool:
    role = membership.role
    if action in READ_ACTIONS:
        return True
    if action in SHARING_ACTIONS:
        return role == Role.CLUSTER_MANAGER and _cluster_id_of(obj) in membership.cluster_ids
    if action in ASSESSOR_ONLY_ACTIONS:
        return role == Role.ASSESSOR
    if action in COMMENT_ACTIONS:
        return _comment_rule(membership, action, obj)
    if role == Role.COORDINATOR:
        return True
    if role == Role.ASSESSOR:
        return action in ASSESSOR_ACTIONS
    if action in CLUSTER_ACTIONS and role == Role.CLUSTER_MANAGER:
        return _cluster_id_of(obj) in membership.cluster_ids
    if action in PROCESS_ACTIONS:
        return _process_rule(membership, action, obj)
    return False


def _comment_rule(membership: Membership, action: str, obj: Any) -> bool:
    if action == "comment.hide":
        return membership.role == Role.COORDINATOR
    if membership.role in {Role.OBSERVER, Role.ASSESSOR}:
        return False  # they may not comment, so they keep no comment of their own to change
    mine = obj is not None and same_person(membership.user, getattr(obj, "author_id", None))
    if action == "comment.edit":
        return mine and getattr(obj, "hidden_at", None) is None
    return mine


def _manages_plan(membership: Membership, plan: Any) -> bool:
    """Coordinators manage every plan; a cluster manager the plans of their clusters."""
    from portal.plans.models import PlanKind

    if membership.role != Role.CLUSTER_MANAGER or plan is None:
        return False
    return plan.kind == PlanKind.INDIVIDUAL and plan.cluster_id in membership.cluster_ids


def _process_rule(membership: Membership, action: str, obj: Any) -> bool:
    """Non-coordinators in the joint process (coordinators were allowed already)."""
    from portal.clusters.models import Cluster
    from portal.plans.models import Action, Plan

    role = membership.role
    if role == Role.OBSERVER:
        return False
    if action == "workshop.register":
        from portal.workshops.services import is_invited

        depends_on_viewer()  # invitations name people as well as clusters
        return is_invited(membership, obj)
    if action == "action.comment":
        return True
    if action == "plan.create":
        # An individual plan for one of the manager's clusters; joint plans: coordinators.
        return (
            role == Role.CLUSTER_MANAGER
            and isinstance(obj, Cluster)
            and obj.id in membership.cluster_ids
        )
    if action == "plan.manage" and isinstance(obj, Plan):
        return _manages_plan(membership, obj)
    if isinstance(obj, Action):
        if action == "action.edit" and same_person(membership.user, obj.owner_id):
            return True
        return _manages_plan(membership, obj.plan)
    return False


def role_in(user: User | None, tenant: Tenant | int | None) -> Role | None:
    membership = membership_for(user, tenant)
    return membership.role if membership else None


def require(user: User | None, action: str, obj: Any = None) -> None:
    """Abort with 403 (and an audit entry) unless the user may act."""
    if may(user, action, obj):
        return
    from portal.audit.services import record_denied

    record_denied(user, action, obj)
    abort(403)
