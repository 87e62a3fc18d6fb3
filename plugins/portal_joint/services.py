"""Joint actions: the one place that validates, checks permissions, writes and notifies.

Pages, htmx fragments and the JSON API all call these. A stale ``version`` (someone
else saved first) raises ``ConflictError``; bad input raises ``ServiceError`` with messages
per field; nothing is written then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.toolkit import (
    Cluster,
    Programme,
    ServiceError,
    _,
    check_version,
    cluster_managers,
    db,
    find_indicator_set,
    people_of,
    post_notification,
    require,
)
from portal_joint.models import (
    JointAction,
    JointStatus,
    LinkedIndicator,
    Participation,
    PartStatus,
)

ACTION_FIELDS = (
    "title",
    "aim",
    "lead_user_id",
    "lead_cluster_id",
    "start_date",
    "due_date",
    "budget_money",
    "budget_hours",
    "workshop_id",
)
PART_FIELDS = (
    "tasks",
    "owner_id",
    "status",
    "progress",
    "hours_spent",
    "money_spent",
    "solo_hours",
    "solo_money",
)
MONEY_LIMIT = Decimal("1000000000")
HOURS_LIMIT = Decimal("1000000")


# --- reading ------------------------------------------------------------------------------


def board(programme_id: int | None = None) -> list[JointAction]:
    """Joint actions with their participants, leads and linked indicators: four queries,
    whatever the number of actions or participants (the JSON API pages the same query)."""
    from portal_joint.listing import ActionFilters, actions_query

    return list(db.session.scalars(actions_query(ActionFilters(programme_id=programme_id))))


def promised_by(cluster_id: int) -> list[Participation]:
    """What a cluster has promised: its parts in joint actions, newest due first."""
    return list(
        db.session.scalars(
            select(Participation)
            .join(JointAction, JointAction.id == Participation.action_id)
            .where(Participation.cluster_id == cluster_id)
            .options(selectinload(Participation.action))
            .order_by(JointAction.due_date.is_(None), JointAction.due_date, Participation.id)
        )
    )


# --- validation ---------------------------------------------------------------------------


def _decimal(value: Any, limit: Decimal, field: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        errors[field] = [_("Enter a number.")]
        return None
    if not number.is_finite() or number < 0 or number >= limit:
        errors[field] = [_("Enter a number from 0 up to %(limit)s.", limit=f"{limit:,.0f}")]
        return None
    return number


def _person_error(user_id: int, tenant_id: int) -> list[str] | None:
    """Why the person cannot lead a joint action or own a contribution (None: they can):
    someone of the region who may then work on it, not an observer or an assessor."""
    from portal.toolkit import role_in
    from portal_joint.permissions import MAY_WORK

    role = role_in(_user(user_id), tenant_id)
    if role is None:
        return [_("Choose a person of this region.")]
    if role not in MAY_WORK:
        return [
            _("Choose someone who may work on the joint action: observers and assessors may not.")
        ]
    return None


def _clean_action(
    data: dict[str, Any], tenant_id: int, current_lead: int | None = None
) -> dict[str, Any]:
    values = {k: data[k] for k in ACTION_FIELDS if k in data}
    errors: dict[str, list[str]] = {}
    if "title" in values:
        values["title"] = (values["title"] or "").strip()
        if not values["title"]:
            errors["title"] = [_("A joint action needs a title.")]
        elif len(values["title"]) > 200:
            errors["title"] = [_("At most %(n)d characters.", n=200)]
    if "aim" in values:
        values["aim"] = (values["aim"] or "").strip()[:5000]
    for field, limit in (("budget_money", MONEY_LIMIT), ("budget_hours", HOURS_LIMIT)):
        if field in values:
            values[field] = _decimal(values[field], limit, field, errors)
    start, due = values.get("start_date"), values.get("due_date")
    if start and due and due < start:
        errors["due_date"] = [_("The due date cannot be before the start.")]
    lead_cluster = values.get("lead_cluster_id")
    if (
        lead_cluster
        and db.session.scalar(select(Cluster.id).where(Cluster.id == lead_cluster)) is None
    ):
        errors["lead_cluster_id"] = [_("Choose a cluster of this region.")]
    lead = values.get("lead_user_id")
    if lead and lead != current_lead and (problem := _person_error(lead, tenant_id)):
        errors["lead_user_id"] = problem
    if errors:
        raise ServiceError(_("Check the marked fields."), errors)
    return values


def _user(user_id: int):
    from portal.toolkit import User

    return db.session.get(User, user_id)


def conflict_message() -> str:
    return _("Someone else changed this in the meantime. Check the current values.")


def _check_version(obj: Any, version: int | None, current: dict) -> None:
    """The core's optimistic locking (toolkit ``check_version``; the race after this check is
    refused by the version column of ``Versioned``: the pages save inside ``saving``)."""
    check_version(obj, version, message=conflict_message())


# --- joint actions --------------------------------------------------------------------------


def create_action(
    user,
    programme: Programme,
    data: dict[str, Any],
    *,
    origin: str = "manual",
    indicators: list[tuple[str, str, str]] = (),
    clusters: list[int] = (),
) -> JointAction:
    if user is not None:
        require(user, "joint.create", programme)
    values = _clean_action({"title": "", **data}, programme.tenant_id)
    action = JointAction(
        tenant_id=programme.tenant_id,
        programme_id=programme.id,
        origin=origin[:20],
        status=JointStatus(data.get("status") or JointStatus.PROPOSED),
        **values,
    )
    db.session.add(action)
    db.session.flush()
    for set_id, version, indicator_id in indicators:
        link_indicator(None, action, set_id, version, indicator_id, commit=False)
    for cluster_id in clusters:
        # a scoped query, not the identity map: another region's cluster is never found
        cluster = db.session.scalar(select(Cluster).where(Cluster.id == cluster_id))
        if cluster is not None:
            _add_part(action, cluster, date.today())
    db.session.commit()
    return action


def update_action(user, action: JointAction, data: dict[str, Any], version: int | None = None):
    if user is not None:
        require(user, "joint.manage", action)
    _check_version(action, version, {f: getattr(action, f) for f in ACTION_FIELDS})
    values = _clean_action(data, action.tenant_id, current_lead=action.lead_user_id)
    changed = {k: v for k, v in values.items() if getattr(action, k) != v}
    for key, value in changed.items():
        setattr(action, key, value)
    if changed:
        action.version += 1
        _notify(action, user, "changed", ", ".join(sorted(changed)))
    db.session.commit()
    return action


def move(user, action: JointAction, status: str, version: int | None = None) -> JointAction:
    """Move a joint action to another status (a board column)."""
    if user is not None:
        require(user, "joint.manage", action)
    try:
        new = JointStatus(status)
    except ValueError:
        raise ServiceError(_("Unknown status."), {"status": [_("Unknown status.")]}) from None
    _check_version(action, version, {"status": action.status})
    if new != action.status:
        action.status = new
        action.version += 1
        _notify(action, user, "status", new.value)
    db.session.commit()
    return action


def delete_action(user, action: JointAction) -> None:
    if user is not None:
        require(user, "joint.manage", action)
    db.session.delete(action)
    db.session.commit()


def link_indicator(
    user, action: JointAction, set_id: str, version: str, indicator_id: str, commit=True
):
    if user is not None:
        require(user, "joint.manage", action)
    indicator_set = find_indicator_set(set_id, version)
    if indicator_set is None or indicator_set.indicator(indicator_id) is None:
        raise ServiceError(_("Unknown indicator."), {"indicator": [_("Unknown indicator.")]})
    if any(i.indicator_set == set_id and i.indicator_id == indicator_id for i in action.indicators):
        return None
    link = LinkedIndicator(
        tenant_id=action.tenant_id,
        action_id=action.id,
        indicator_set=set_id,
        set_version=version,
        indicator_id=indicator_id,
    )
    action.indicators.append(link)
    if commit:
        db.session.commit()
    return link


# --- participation --------------------------------------------------------------------------


def _add_part(action: JointAction, cluster: Cluster, on: date) -> Participation:
    part = next((p for p in action.parts if p.cluster_id == cluster.id), None)
    if part is None:
        part = Participation(
            tenant_id=action.tenant_id, action_id=action.id, cluster_id=cluster.id, joined_on=on
        )
        action.parts.append(part)
    else:  # joining again after leaving
        part.joined_on, part.left_on = on, None
        part.version += 1
    return part


def join(user, action: JointAction, cluster: Cluster, on: date | None = None) -> Participation:
    if user is not None:
        require(user, "joint.join", cluster)
    if action.status in (JointStatus.DONE, JointStatus.CANCELLED):
        raise ServiceError(_("This joint action is closed."))
    existing = next((p for p in action.parts if p.cluster_id == cluster.id), None)
    if existing is not None and existing.left_on is None:
        raise ServiceError(_("%(cluster)s takes part already.", cluster=cluster.name))
    part = _add_part(action, cluster, on or date.today())
    db.session.flush()
    _notify(action, user, "joined", cluster.name)
    db.session.commit()
    return part


def leave(user, part: Participation, on: date | None = None) -> Participation:
    if user is not None:
        require(user, "joint.join", part.cluster)
    if part.left_on is not None:
        raise ServiceError(_("%(cluster)s has left already.", cluster=part.cluster.name))
    day = on or date.today()
    if day < part.joined_on:
        raise ServiceError(_("A cluster cannot leave before it joined."))
    part.left_on = day
    part.version += 1
    _notify(part.action, user, "left", part.cluster.name)
    db.session.commit()
    return part


def update_part(user, part: Participation, data: dict[str, Any], version: int | None = None):
    """A participating cluster's contribution: tasks, owner, status, progress, spent, solo."""
    if user is not None:
        require(user, "joint.contribute", part)
    _check_version(part, version, {f: getattr(part, f) for f in PART_FIELDS})
    values = {k: data[k] for k in PART_FIELDS if k in data}
    errors: dict[str, list[str]] = {}
    if "tasks" in values:
        values["tasks"] = (values["tasks"] or "").strip()[:5000]
    if "status" in values:
        try:
            values["status"] = PartStatus(values["status"])
        except ValueError:
            errors["status"] = [_("Unknown status.")]
    if "progress" in values:
        try:
            values["progress"] = int(values["progress"] or 0)
            if not 0 <= values["progress"] <= 100:
                raise ValueError
        except (TypeError, ValueError):
            errors["progress"] = [_("Between %(low)s and %(high)s.", low="0", high="100")]
    for field in ("hours_spent", "solo_hours"):
        if field in values:
            values[field] = _decimal(values[field], HOURS_LIMIT, field, errors)
    for field in ("money_spent", "solo_money"):
        if field in values:
            values[field] = _decimal(values[field], MONEY_LIMIT, field, errors)
    for field in ("hours_spent", "money_spent"):  # spent is never "unknown": empty is 0
        if field in values and values[field] is None and field not in errors:
            values[field] = Decimal(0)
    owner = values.get("owner_id")
    if owner and owner != part.owner_id and (problem := _person_error(owner, part.tenant_id)):
        errors["owner_id"] = problem
    if errors:
        raise ServiceError(_("Check the marked fields."), errors)
    changed = {k: v for k, v in values.items() if getattr(part, k) != v}
    for key, value in changed.items():
        setattr(part, key, value)
    if changed:
        part.version += 1
    db.session.commit()
    return part


# --- notices --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeText:
    kind: str
    detail: str


def people_to_tell(action: JointAction) -> set[int]:
    """The lead, each active part's owner and the participating clusters' managers: those
    with an active role in the region (a deactivated lead or owner stays on the record but is
    told nothing)."""
    active = [p for p in action.parts if p.left_on is None]
    people = {p.owner_id for p in active if p.owner_id}
    if action.lead_user_id:
        people.add(action.lead_user_id)
    if people:
        people &= {user_id for user_id, _name in people_of(action.tenant_id)}
    for managers in cluster_managers({p.cluster_id for p in active}).values():
        people.update(u.id for u in managers)
    return people


def _notify(action: JointAction, actor, kind: str, detail: str) -> None:
    """Tell the people of a joint action through the core's notification centre (kinds
    ``joint.<kind>``, registered in ``portal_joint.digest.NOTIFICATION_KINDS``); in the
    caller's transaction."""
    post_notification(
        people_to_tell(action),
        f"joint.{kind}",
        tenant_id=action.tenant_id,
        subject_type="joint_action",
        subject_id=action.id,
        actor=actor,
        params={"detail": detail[:200], "title": action.title},
    )
