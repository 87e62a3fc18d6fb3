"""Who may do what with joint actions (the ``check_permission`` hook).

* everyone in the region reads (``joint.view``);
* coordinators create joint actions in a programme and manage every one;
* the lead (a person) manages their joint action: details, status, indicators;
* a cluster manager joins and leaves for their own clusters, and keeps their cluster's
  contribution; a contribution's owner keeps it too; observers and assessors read.
"""

from __future__ import annotations

from portal.toolkit import Cluster, Role, cluster_ids_of, role_in, same_person

# Who works on joint actions: leads them, owns a contribution, edits what they lead or own.
# Observers and assessors read only, so they are neither leads nor owners.
MAY_WORK = frozenset({Role.COORDINATOR, Role.CLUSTER_MANAGER, Role.MEMBER})


def _tenant_id(obj):
    return getattr(obj, "tenant_id", None) or getattr(obj, "id", None)


def check(user, action: str, obj) -> bool | None:
    if not action.startswith("joint."):
        return None
    role = role_in(user, _tenant_id(obj))
    if role is None:
        return False
    if action == "joint.view":
        return True
    if role not in MAY_WORK:
        return False  # read only, also where an older record names them lead or owner
    if role == Role.COORDINATOR:
        return action in {"joint.create", "joint.manage", "joint.join", "joint.contribute"}
    from portal_joint.models import JointAction, Participation

    if action == "joint.manage" and isinstance(obj, JointAction):
        return same_person(user, obj.lead_user_id)
    mine = cluster_ids_of(user, _tenant_id(obj)) if role == Role.CLUSTER_MANAGER else frozenset()
    if action == "joint.join" and isinstance(obj, Cluster):
        return obj.id in mine
    if action == "joint.contribute" and isinstance(obj, Participation):
        return (
            obj.cluster_id in mine
            or same_person(user, obj.owner_id)
            or same_person(user, obj.action.lead_user_id)
        )
    return False
