"""Who sees what, in one place.

* Coordinators and assessors see every cluster's values; other clusters are named only to
  coordinators, and only where the region allows it (settings).
* Cluster managers and members see their own clusters' values and aggregates of the others.
* Observers see aggregates only.
* Aggregates of fewer than the region's smallest group (default 5) are not shown.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.toolkit import (
    ComparisonContext,
    Role,
    cluster_ids_of,
    db,
    role_in,
)
from portal_compare.models import DEFAULT_MIN_GROUP, CompareSettings

SEES_ALL = (Role.COORDINATOR, Role.ASSESSOR)


def settings_for(tenant_id: int) -> CompareSettings:
    """The region's settings (defaults when it has none; not added to the session)."""
    found = db.session.scalar(select(CompareSettings).where(CompareSettings.tenant_id == tenant_id))
    return found or CompareSettings(
        tenant_id=tenant_id, min_group=DEFAULT_MIN_GROUP, show_names=False
    )


def context_for(
    user, tenant, indicator_set, *, cluster=None, locale="en", options=None, settings=None
):
    """What a comparison is computed for, privacy decided. ``settings``: the region's
    settings when the caller has read them already."""
    role = role_in(user, tenant)
    settings = settings if settings is not None else settings_for(tenant.id)
    sees_all = role in SEES_ALL or bool(getattr(user, "is_platform_admin", False))
    return ComparisonContext(
        tenant=tenant,
        user=user,
        indicator_set=indicator_set,
        cluster=cluster,
        visible_cluster_ids=frozenset() if sees_all else cluster_ids_of(user, tenant),
        sees_all=sees_all,
        min_group=settings.min_group,
        show_names=sees_all and role != Role.ASSESSOR and settings.show_names,
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
    if action == "compare.manage":  # settings and reference portfolios
        return role == Role.COORDINATOR
    if action == "compare.cluster":  # one cluster's own values
        if role in SEES_ALL:
            return True
        return role in (Role.CLUSTER_MANAGER, Role.MEMBER) and obj.id in cluster_ids_of(
            user, obj.tenant_id
        )
    return False
