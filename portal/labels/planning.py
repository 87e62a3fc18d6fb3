"""Assessments a cluster plans toward a label (``PlannedAssessment``): planning them, moving
them, dropping them. The cluster's managers and the region's coordinators may
(``label.plan``); an edit names the version it was made on (``portal.locking``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.errors import ServiceError
from portal.extensions import db
from portal.labels.calendar import KINDS
from portal.labels.models import PlannedAssessment
from portal.labels.scheme import LabelScheme
from portal.permissions import require

KIND_LABELS = {
    "benchmarking": _l("Benchmarking"),
    "audit": _l("Audit"),
    "expert_review": _l("Expert review"),
}
NOTES_LIMIT = 2000


def _checked(values: dict[str, Any], schemes: list[LabelScheme]) -> dict[str, Any]:
    scheme = next((s for s in schemes if s.id == values.get("scheme")), None)
    if scheme is None:
        message = _("Choose a label scheme of this region.")
        raise ServiceError(message, {"scheme": [message]})
    if values.get("kind") not in KINDS:
        message = _("Choose the kind of assessment.")
        raise ServiceError(message, {"kind": [message]})
    level = values.get("level") or ""
    if level and scheme.level(level) is None:
        message = _("This level is not one of %(scheme)s.", scheme=scheme.title)
        raise ServiceError(message, {"level": [message]})
    if not isinstance(values.get("planned_on"), date):
        message = _("Enter the planned day as YYYY-MM-DD.")
        raise ServiceError(message, {"planned_on": [message]})
    return {
        "scheme": scheme.id,
        "kind": values["kind"],
        "level": level,
        "planned_on": values["planned_on"],
        "notes": (values.get("notes") or "").strip()[:NOTES_LIMIT],
    }


def plan_assessment(
    user, cluster, values: dict[str, Any], schemes: list[LabelScheme]
) -> PlannedAssessment:
    """Plan an assessment of ``cluster`` (``schemes``: the region's switched-on schemes)."""
    if user is not None:
        require(user, "label.plan", cluster)
    planned = PlannedAssessment(
        tenant_id=cluster.tenant_id,
        cluster_id=cluster.id,
        created_by_id=user.id if user is not None else None,
        **_checked(values, schemes),
    )
    db.session.add(planned)
    db.session.commit()
    return planned


def update_assessment(
    user, planned: PlannedAssessment, values: dict[str, Any], schemes: list[LabelScheme]
) -> PlannedAssessment:
    """Change a planned assessment (call it inside ``portal.locking.saving``)."""
    if user is not None:
        require(user, "label.plan", planned)
    for key, value in _checked(values, schemes).items():
        setattr(planned, key, value)
    db.session.commit()
    return planned


def drop_assessment(user, planned: PlannedAssessment) -> None:
    if user is not None:
        require(user, "label.plan", planned)
    db.session.delete(planned)
    db.session.commit()
