"""Changing who sees benchmark values: the region's settings and the recorded choices."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.db import utcnow
from portal.errors import ServiceError
from portal.extensions import db
from portal.permissions import require
from portal.privacy.models import Audience, ValuesSharing
from portal.privacy.policy import MIN_GROUP_HIGH, MIN_GROUP_LOW
from portal.tenancy.scope import tenant_scope


def choices_in_force(
    tenant_id: int, audience: Audience, cluster_id: int | None
) -> list[ValuesSharing]:
    with tenant_scope(tenant_id):
        stmt = select(ValuesSharing).where(
            ValuesSharing.audience == audience, ValuesSharing.ended_at.is_(None)
        )
        stmt = stmt.where(
            ValuesSharing.cluster_id.is_(None)
            if cluster_id is None
            else ValuesSharing.cluster_id == cluster_id
        )
        return list(db.session.scalars(stmt.order_by(ValuesSharing.id)))


def choice_in_force(
    tenant_id: int, audience: Audience, cluster_id: int | None
) -> ValuesSharing | None:
    """The choice in force (the first, should two have been made at the same moment)."""
    found = choices_in_force(tenant_id, audience, cluster_id)
    return found[0] if found else None


def history(tenant_id: int, cluster_id: int | None = None, limit: int = 20) -> list[ValuesSharing]:
    """The region's choices (or one cluster's), newest first."""
    with tenant_scope(tenant_id):
        stmt = select(ValuesSharing)
        if cluster_id is not None:
            stmt = stmt.where(ValuesSharing.cluster_id == cluster_id)
        return list(db.session.scalars(stmt.order_by(ValuesSharing.started_at.desc()).limit(limit)))


def _set_choice(
    user: Any, tenant_id: int, audience: Audience, cluster_id: int | None, shared: bool
) -> bool:
    """Start or end a choice; answers whether anything changed."""
    current = choices_in_force(tenant_id, audience, cluster_id)
    if shared and not current:
        db.session.add(
            ValuesSharing(
                tenant_id=tenant_id,
                cluster_id=cluster_id,
                audience=audience,
                started_at=utcnow(),
                started_by_id=getattr(user, "id", None),
            )
        )
        return True
    if not shared and current:
        for choice in current:
            choice.ended_at = utcnow()
            choice.ended_by_id = getattr(user, "id", None)
        return True
    return False


def update_settings(user: Any, tenant: Any, data: dict[str, Any]) -> None:
    """The region's settings: ``min_group``, ``names_shown`` and ``forum_shared``."""
    if user is not None:
        require(user, "tenant.manage", tenant)
    min_group = data.get("min_group")
    if not isinstance(min_group, int) or not MIN_GROUP_LOW <= min_group <= MIN_GROUP_HIGH:
        message = _("Between %(min)s and %(max)s.", min=MIN_GROUP_LOW, max=MIN_GROUP_HIGH)
        raise ServiceError(_("Check the marked fields."), {"min_group": [message]})
    tenant.values_min_group = min_group
    tenant.values_names_shown = bool(data.get("names_shown"))
    _set_choice(user, tenant.id, Audience.FORUM, None, bool(data.get("forum_shared")))
    db.session.commit()


def share_with_observers(user: Any, cluster: Any, shared: bool) -> bool:
    """A cluster shares its own report with the region's observers, or stops sharing it."""
    if user is not None:
        require(user, "cluster.share_values", cluster)
    changed = _set_choice(user, cluster.tenant_id, Audience.OBSERVERS, cluster.id, shared)
    db.session.commit()
    return changed
