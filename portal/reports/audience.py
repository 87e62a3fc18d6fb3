"""Who may read a report: the reader it was made for, in which role, and which clusters' own
values it may contain, as the privacy policy decided for that reader (``portal.privacy``).
The cover of every report says it, on the page and in the PDF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from portal.i18n import ROLE_LABELS
from portal.permissions import role_in
from portal.privacy.policy import values_view


@dataclass(frozen=True)
class Audience:
    reader: str  # "Prepared for Kari Nordmann, coordinator"
    contains: str  # which values it may carry


def report_audience(user: Any, tenant: Any) -> Audience:
    """The cover's lines for ``user`` reading a report of the region ``tenant``."""
    view = values_view(user, tenant)
    role = role_in(user, tenant) if getattr(user, "is_authenticated", False) else None
    if role is not None:
        role_name = str(ROLE_LABELS.get(str(role), str(role))).lower()
    elif getattr(user, "is_platform_admin", False):
        role_name = _("platform administrator")
    else:
        role_name = ""
    name = getattr(user, "name", "") or ""
    reader = (
        _("Prepared for %(name)s, %(role)s", name=name, role=role_name)
        if role_name
        else _("Prepared for %(name)s", name=name)
    )
    if view.sees_all:
        contains = _(
            "Contains every cluster's own values, as the region's rules allow this reader."
        )
    elif view.visible_cluster_ids and view.own_cluster_ids >= view.visible_cluster_ids:
        contains = _(
            "Contains the own values of the reader's clusters; of the others only aggregates "
            "of at least %(k)d clusters.",
            k=view.min_group,
        )
    elif view.visible_cluster_ids:
        contains = _(
            "Contains the own values of the clusters that shared them with this reader; of the "
            "others only aggregates of at least %(k)d clusters.",
            k=view.min_group,
        )
    else:
        contains = _(
            "Contains no cluster's own values: only aggregates of at least %(k)d clusters.",
            k=view.min_group,
        )
    return Audience(reader, contains)
