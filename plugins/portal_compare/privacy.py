"""Who sees what in comparisons: the core's one privacy policy (``values_view`` in the
toolkit) decides; this module only turns its decision into a comparison's context.

* Coordinators and assessors see every cluster's values; names are shown to coordinators
  where the region chose so, and to everyone in the forum while it shares named values.
* Cluster managers and members see their own clusters' values and aggregates of the others.
* Observers see aggregates, and the values of clusters that share their report with them.
* Aggregates of fewer than the region's smallest group are not shown.
"""

from __future__ import annotations

from portal.toolkit import ComparisonContext, Role, may, role_in, values_view


def context_for(user, tenant, indicator_set, *, cluster=None, locale="en", options=None):
    """What a comparison is computed for, privacy decided by the core's policy."""
    view = values_view(user, tenant)
    return ComparisonContext(
        tenant=tenant,
        user=user,
        indicator_set=indicator_set,
        cluster=cluster,
        visible_cluster_ids=view.visible_cluster_ids,
        sees_all=view.sees_all,
        min_group=view.min_group,
        show_names=view.names_shown,
        locale=locale,
        options=options or {},
    )


def may_see_cluster(context: ComparisonContext, cluster_id: int) -> bool:
    return context.sees_all or cluster_id in context.visible_cluster_ids


def check(user, action: str, obj) -> bool | None:
    """The plugin's permissions (the ``check_permission`` hook)."""
    if not action.startswith("compare."):
        return None
    role = role_in(user, getattr(obj, "tenant_id", None) or getattr(obj, "id", None))
    if role is None:
        return False
    if action == "compare.view":  # aggregates of the forum
        return True
    if action == "compare.manage":  # reference portfolios
        return role == Role.COORDINATOR
    if action == "compare.cluster":  # one cluster's own values: the core's policy
        return may(user, "round.view", obj)
    return False
