"""Improvement plans and actions: the actions pages, htmx edits, imports and the CLI share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import Membership, User
from portal.audit.services import note_change
from portal.audit.words import EntryWords, object_history
from portal.clusters.models import Cluster
from portal.errors import ServiceError
from portal.events import apply_changes, emit
from portal.extensions import db
from portal.locking import saving
from portal.permissions import ACTION_OWNER_ROLES, require
from portal.plans.models import (
    OPEN_STATUSES,
    Action,
    ActionCluster,
    ActionComment,
    ActionStatus,
    Plan,
    PlanKind,
    Priority,
)
from portal.programmes.models import Programme

EFFORT_FIELDS = ("planned_hours", "spent_hours", "planned_money", "spent_money")
EFFORT_LIMIT = Decimal("1000000000")  # hours or money: beyond it, a typing error
PLAN_FIELDS = ("title", "start_date", "end_date", "goals", "focus_areas")
ACTION_FIELDS = (
    "title",
    "description",
    "owner_id",
    "start_date",
    "due_date",
    "status",
    "progress",
    "priority",
    "weight",
    "workshop_id",
    *EFFORT_FIELDS,
)


# --- plans ------------------------------------------------------------------------------


def _check_period(start: date | None, end: date | None, end_field: str = "end_date") -> None:
    if start and end and end < start:
        raise ServiceError(
            _("The end comes before the start."),
            {end_field: [_("The end comes before the start.")]},
        )


def create_plan(
    user: User | None,
    data: dict[str, Any],
    *,
    tenant_id: int,
    cluster: Cluster | None = None,
    programme: Programme | None = None,
) -> Plan:
    if cluster is None and programme is None:
        raise ServiceError(_("A plan belongs to a cluster or to a programme."))
    if user is not None:
        require(user, "plan.create", cluster if cluster is not None else programme)
    values = {k: data.get(k) for k in PLAN_FIELDS if k in data}
    missing = [k for k in ("title", "start_date", "end_date") if not values.get(k)]
    if missing:
        # The forms and the API ask for them first; a caller that forgets gets this, not the
        # database's refusal.
        message = _("A plan needs a title, a start and an end.")
        raise ServiceError(message, {k: [message] for k in missing})
    _check_period(values.get("start_date"), values.get("end_date"))
    plan = Plan(
        tenant_id=tenant_id,
        kind=PlanKind.INDIVIDUAL if cluster is not None else PlanKind.JOINT,
        cluster_id=cluster.id if cluster is not None else None,
        programme_id=programme.id if programme is not None else None,
        **values,
    )
    db.session.add(plan)
    db.session.commit()
    emit("plan_saved", tenant_id, plan=plan, created=True, changes={}, user=user)
    return plan


def update_plan(user: User | None, plan: Plan, data: dict[str, Any]) -> Plan:
    if user is not None:
        require(user, "plan.manage", plan)
    values = {k: data[k] for k in PLAN_FIELDS if k in data}
    _check_period(values.get("start_date", plan.start_date), values.get("end_date", plan.end_date))
    changes = apply_changes(plan, values)
    db.session.commit()
    if changes:
        emit("plan_saved", plan.tenant_id, plan=plan, created=False, changes=changes, user=user)
    return plan


def delete_plan(user: User | None, plan: Plan) -> None:
    if user is not None:
        require(user, "plan.manage", plan)
    db.session.delete(plan)
    db.session.commit()


def plan_options(stmt: Select | None = None) -> Select:
    """Plans with what their list shows (cluster, programme name) loaded in the same query."""
    stmt = stmt if stmt is not None else select(Plan)
    return stmt.options(selectinload(Plan.cluster)).order_by(Plan.start_date.desc(), Plan.id)


# --- actions ----------------------------------------------------------------------------


@dataclass
class ActionFilters:
    status: str = ""
    owner_id: int | None = None
    cluster_id: int | None = None
    overdue: bool = False
    sort: str = "due"
    today: date = field(default_factory=date.today)
    # Words in the title, the owner's name or e-mail, or a responsible cluster's name.
    q: str = ""
    # Only actions nobody owns yet.
    unowned: bool = False

    @property
    def active(self) -> bool:
        return bool(
            self.status
            or self.owner_id
            or self.cluster_id
            or self.overdue
            or self.q
            or self.unowned
        )


SORTS = {
    "due": (Action.due_date.is_(None), Action.due_date, Action.id),
    "-due": (Action.due_date.is_(None), Action.due_date.desc(), Action.id),
    "title": (func.lower(Action.title), Action.id),
    "status": (Action.status, Action.id),
    "progress": (Action.progress, Action.id),
    "-progress": (Action.progress.desc(), Action.id),
    "priority": (Action.priority, Action.id),
}


def overdue_clause(today: date):
    return and_(Action.due_date < today, Action.status.in_(OPEN_STATUSES))


def actions_query(plan_id: int | None, filters: ActionFilters) -> Select:
    stmt = select(Action).options(selectinload(Action.clusters), joinedload(Action.owner))
    if plan_id is not None:
        stmt = stmt.where(Action.plan_id == plan_id)
    if filters.status in {s.value for s in ActionStatus}:
        stmt = stmt.where(Action.status == ActionStatus(filters.status))
    if filters.owner_id:
        stmt = stmt.where(Action.owner_id == filters.owner_id)
    elif filters.unowned:
        stmt = stmt.where(Action.owner_id.is_(None))
    if filters.q.strip():
        stmt = stmt.where(_matches(filters.q.strip().lower()))
    if filters.cluster_id:
        stmt = stmt.where(
            Action.id.in_(
                select(ActionCluster.action_id).where(
                    ActionCluster.cluster_id == filters.cluster_id
                )
            )
        )
    if filters.overdue:
        stmt = stmt.where(overdue_clause(filters.today))
    return stmt.order_by(*SORTS.get(filters.sort, SORTS["due"]))


def _matches(text: str):
    """Actions whose title, owner (name or e-mail) or a responsible cluster contains the text."""
    people = select(User.id).where(
        or_(
            func.lower(User.name).contains(text, autoescape=True),
            func.lower(User.email).contains(text, autoescape=True),
        )
    )
    clusters = (
        select(ActionCluster.action_id)
        .join(Cluster, Cluster.id == ActionCluster.cluster_id)
        .where(func.lower(Cluster.name).contains(text, autoescape=True))
    )
    return or_(
        func.lower(Action.title).contains(text, autoescape=True),
        Action.owner_id.in_(people),
        Action.id.in_(clusters),
    )


def _check_owner(owner_id: int | None, tenant_id: int, current: int | None = None) -> None:
    """A new owner must be a person of the region who may edit the action (owners edit
    their actions; observers and assessors may not). ``current``, the owner the action has,
    may stay."""
    if owner_id is None or owner_id == current:
        return
    found = db.session.execute(
        select(Membership.role, Membership.active, User.name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.user_id == owner_id, Membership.tenant_id == tenant_id)
    ).first()
    if found is None:
        raise ServiceError(
            _("The owner must be a person of this region."),
            {"owner_id": [_("Choose a person of this region.")]},
        )
    if not found.active:  # a deactivated role in the region: not made an owner anew
        message = _("%(name)s is deactivated, so cannot own an action.", name=found.name)
        raise ServiceError(message, {"owner_id": [message]})
    if found.role not in ACTION_OWNER_ROLES:
        raise ServiceError(
            _("%(name)s may not edit actions, so cannot own one.", name=found.name),
            {
                "owner_id": [
                    _("Choose someone who may edit the action: observers and assessors may not.")
                ]
            },
        )


def _check_workshop(workshop_id: int | None, tenant_id: int, current: int | None = None) -> None:
    """The workshop an action was decided at is one of the region's (``current``, the one
    the action names, may stay)."""
    from portal.workshops.models import Workshop

    if workshop_id is None or workshop_id == current:
        return
    found = db.session.scalar(
        select(Workshop.id).where(Workshop.id == workshop_id, Workshop.tenant_id == tenant_id)
    )
    if found is None:
        message = _("There is no workshop with the id %(id)d in this region.", id=workshop_id)
        raise ServiceError(message, {"workshop_id": [message]})


def _check_clusters(cluster_ids: list[int] | None, tenant_id: int) -> None:
    """Responsible clusters are clusters of the region (the form offers no others; a caller
    without a form, the JSON API, is told which are not)."""
    if not cluster_ids:
        return
    known = set(
        db.session.scalars(
            select(Cluster.id).where(Cluster.id.in_(cluster_ids), Cluster.tenant_id == tenant_id)
        )
    )
    unknown = sorted(set(cluster_ids) - known)
    if unknown:
        message = _(
            "There is no cluster with the id %(ids)s in this region.",
            ids=", ".join(str(i) for i in unknown[:10]),
        )
        raise ServiceError(message, {"cluster_ids": [message]})


def _clean_action(values: dict[str, Any]) -> dict[str, Any]:
    if "status" in values and values["status"] is not None:
        values["status"] = ActionStatus(values["status"])
    if "priority" in values and values["priority"] is not None:
        values["priority"] = Priority(values["priority"])
    if "progress" in values:
        progress = values["progress"] if values["progress"] is not None else 0
        if not 0 <= int(progress) <= 100:
            raise ServiceError(
                _("Progress is a number from 0 to 100."),
                {"progress": [_("Progress is a number from 0 to 100.")]},
            )
        values["progress"] = int(progress)
    if values.get("status") == ActionStatus.DONE:
        values["progress"] = 100
    if "weight" in values:
        weight = values["weight"] if values["weight"] is not None else 1.0
        if not 0 < float(weight) <= 1000:
            raise ServiceError(
                _("The weight is a number above 0 (1 is normal)."),
                {"weight": [_("The weight is a number above 0 (1 is normal).")]},
            )
        values["weight"] = float(weight)
    for name in EFFORT_FIELDS:
        if name in values:
            values[name] = clean_effort(name, values[name])
    if "title" in values:
        values["title"] = (values["title"] or "").strip()
        if not values["title"]:
            raise ServiceError(_("The title is missing."), {"title": [_("The title is missing.")]})
    _check_period(values.get("start_date"), values.get("due_date"), "due_date")
    return values


def clean_effort(name: str, value: Any) -> Decimal | None:
    """Hours or money: empty, or a number from 0 (hours to one decimal, money to cents)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or not 0 <= number < EFFORT_LIMIT:
        message = _("Give a number from 0, or leave it empty.")
        raise ServiceError(message, {name: [message]})
    return number.quantize(Decimal("0.1") if name.endswith("hours") else Decimal("0.01"))


def _checked_keys(action: Action, keys: list | None) -> list | None:
    """The indicator keys to link, checked (None: leave the action's links as they are)."""
    from portal.improvement.links import check_keys

    if keys is None:
        return None
    return check_keys(action.tenant_id, keys, keep=[link.key for link in action.indicators])


def _indicator_changes(action: Action, keys: list | None, changes: dict[str, Any]) -> None:
    """Link the action to ``keys`` (checked; None: leave its links) and note the change."""
    from portal.improvement.links import set_action_indicators

    if keys is None:
        return
    changed = set_action_indicators(action, keys)
    if changed is not None:
        changes["indicators"] = changed


def _note_related(action: Action, cluster_ids: list[int] | None, keys: list | None) -> None:
    """Put the changes of the action's clusters and indicators in its own history entry:
    noted before anything is written, so the flush that writes the action carries them."""
    from portal.improvement.links import key_text

    if cluster_ids is not None:
        before = sorted(c.id for c in action.clusters)
        if sorted(cluster_ids) != before:
            note_change(action, "clusters", *_cluster_names(before, cluster_ids))
    if keys is not None:
        before_keys = sorted(key_text(link.key) for link in action.indicators)
        after_keys = sorted(key_text(key) for key in keys)
        if before_keys != after_keys:
            note_change(action, "indicators", before_keys, after_keys)


def set_action_clusters(action: Action, cluster_ids: list[int]) -> None:
    from portal.clusters.services import sync_cluster_links

    sync_cluster_links(ActionCluster, "action_id", action.id, action.tenant_id, cluster_ids)
    db.session.expire(action, ["clusters"])


def create_action(
    user: User | None,
    plan: Plan,
    data: dict[str, Any],
    cluster_ids: list[int] | None = None,
    indicator_keys: list | None = None,
) -> Action:
    """A new action of the plan (``indicator_keys``: the indicators it aims at, see
    ``portal.improvement.links``)."""
    if user is not None:
        require(user, "plan.manage", plan)
    values = _clean_action({k: data[k] for k in ACTION_FIELDS if k in data})
    _check_owner(values.get("owner_id"), plan.tenant_id)
    _check_workshop(values.get("workshop_id"), plan.tenant_id)
    _check_clusters(cluster_ids, plan.tenant_id)
    action = Action(tenant_id=plan.tenant_id, plan_id=plan.id, **values)
    db.session.add(action)
    db.session.flush()
    if cluster_ids is None and plan.cluster_id is not None:
        cluster_ids = [plan.cluster_id]
    set_action_clusters(action, cluster_ids or [])
    _indicator_changes(action, _checked_keys(action, indicator_keys), {})
    db.session.commit()
    emit("action_saved", plan.tenant_id, action=action, created=True, changes={}, user=user)
    return action


def update_action(
    user: User | None,
    action: Action,
    data: dict[str, Any],
    *,
    expected_version: Any = None,
    cluster_ids: list[int] | None = None,
    indicator_keys: list | None = None,
) -> Action:
    """Change an action; refuse with the current values if someone saved since it was read
    (``expected_version``: the version the user read, or their form): also when the other save
    lands while this one is under way, e.g. while the clusters are set (portal.locking)."""
    if user is not None:
        require(user, "action.edit", action)
    message = _(
        "Someone else changed this action while you edited it. Here is what it says now; "
        "apply your change again."
    )
    with saving(action, expected_version, message=message, extra=_cluster_ids):
        values = _clean_action({k: data[k] for k in ACTION_FIELDS if k in data})
        if "owner_id" in values:
            _check_owner(values["owner_id"], action.tenant_id, current=action.owner_id)
        if "workshop_id" in values:
            _check_workshop(values["workshop_id"], action.tenant_id, current=action.workshop_id)
        _check_clusters(cluster_ids, action.tenant_id)
        keys = _checked_keys(action, indicator_keys)
        _note_related(action, cluster_ids, keys)
        changes = apply_changes(action, values)
        if cluster_ids is not None:
            before = sorted(c.id for c in action.clusters)
            set_action_clusters(action, cluster_ids)
            if sorted(cluster_ids) != before:
                changes["clusters"] = (before, sorted(cluster_ids))
        _indicator_changes(action, keys, changes)
        db.session.commit()
    if changes:
        emit(
            "action_saved",
            action.tenant_id,
            action=action,
            created=False,
            changes=changes,
            user=user,
        )
    return action


def _cluster_names(before: list[int], after: list[int]) -> tuple[list[str], list[str]]:
    """The clusters' names (for the history), in one query."""
    names = dict(
        db.session.execute(
            select(Cluster.id, Cluster.name).where(Cluster.id.in_(set(before) | set(after)))
        ).all()
    )
    return sorted(names.get(i, str(i)) for i in before), sorted(names.get(i, str(i)) for i in after)


def _cluster_ids(action: Action) -> dict[str, Any]:
    return {
        "clusters": sorted(c.id for c in action.clusters),
        "indicators": sorted("/".join(link.key) for link in action.indicators),
    }


def delete_action(user: User | None, action: Action) -> None:
    if user is not None:
        require(user, "action.delete", action)
    db.session.delete(action)
    db.session.commit()


def add_comment(user: User, action: Action, body: str, mention_ids: list[int]) -> ActionComment:
    from portal.notifications.producers import comment_added

    require(user, "action.comment", action)
    body = (body or "").strip()
    if not body:
        raise ServiceError(_("The comment is empty."), {"body": [_("Write a comment first.")]})
    mentioned = db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            User.id.in_(mention_ids or [-1]),
            Membership.tenant_id == action.tenant_id,
            Membership.active.is_(True),
            User.active.is_(True),
        )
    ).all()
    comment = ActionComment(
        tenant_id=action.tenant_id,
        action_id=action.id,
        author_id=user.id,
        body=body,
        mentioned=",".join(u.email for u in mentioned),
    )
    db.session.add(comment)
    # The people mentioned and the action's followers (the notification centre; mailed as
    # each person chose).
    comment_added(user, action, comment, list(mentioned))
    db.session.commit()
    return comment


def history(action: Action, limit: int = 100) -> list[EntryWords]:
    """Who changed what, when: the action's changes in the audit log, in words (refused
    attempts are no part of it)."""
    return object_history(action.tenant_id, "plan_action", action.id, limit)


MY_WORK_LIST = 5


@dataclass
class MyWork:
    """What "my work" shows: counts, the first overdue and soon-due actions, a page of all."""

    open: int
    overdue: int
    soon: int
    overdue_items: list[Action]
    soon_items: list[Action]
    page_items: list[Action]
    page: int = 1


def my_work(
    user_id: int,
    today: date,
    *,
    page: int = 1,
    per_page: int = 25,
    due_within_days: int = 14,
    listed: int = MY_WORK_LIST,
) -> MyWork:
    """The user's open actions in two queries whatever their number: the counts (one
    aggregate), then the first ``listed`` overdue and soon-due ones and the page of all
    (one windowed query). A page beyond the last shows the last."""
    from datetime import timedelta

    soon_end = today + timedelta(days=due_within_days)
    mine = and_(Action.owner_id == user_id, Action.status.in_(OPEN_STATUSES))
    is_overdue = Action.due_date < today
    is_soon = and_(Action.due_date >= today, Action.due_date <= soon_end)
    total, overdue, soon = db.session.execute(
        select(
            func.count(Action.id),
            func.coalesce(func.sum(case((is_overdue, 1), else_=0)), 0),
            func.coalesce(func.sum(case((is_soon, 1), else_=0)), 0),
        ).where(mine)
    ).one()
    result = MyWork(int(total or 0), int(overdue), int(soon), [], [], [])
    result.page = page = max(1, min(page, -(-result.open // per_page)))
    if not result.open:
        return result
    order = (Action.due_date.is_(None), Action.due_date, Action.id)
    bucket = case((is_overdue, 1), (is_soon, 2), else_=0)
    ranked = (
        select(
            Action.id.label("id"),
            bucket.label("bucket"),
            func.row_number().over(partition_by=bucket, order_by=order).label("in_bucket"),
            func.row_number().over(order_by=order).label("overall"),
        )
        .where(mine)
        .subquery()
    )
    first = (page - 1) * per_page + 1
    rows = db.session.execute(
        select(Action, ranked.c.bucket, ranked.c.in_bucket, ranked.c.overall)
        .join(ranked, ranked.c.id == Action.id)
        .where(
            or_(
                and_(ranked.c.bucket != 0, ranked.c.in_bucket <= listed),
                ranked.c.overall.between(first, first + per_page - 1),
            )
        )
        .options(joinedload(Action.plan))
        .order_by(ranked.c.overall)
    ).all()
    for action, bucket_of, in_bucket, overall in rows:
        if bucket_of == 1 and in_bucket <= listed:
            result.overdue_items.append(action)
        elif bucket_of == 2 and in_bucket <= listed:
            result.soon_items.append(action)
        if first <= overall < first + per_page:
            result.page_items.append(action)
    return result


def people_choices(
    tenant_id: int,
    *,
    owners: bool = False,
    keep: int | None = None,
    everyone: bool = False,
    limit: int | None = None,
) -> list[tuple[int, str]]:
    """(id, name) of the people of the tenant who may be offered, by name: an active role
    (a deactivated membership or account is not offered anew). ``owners``: only those who may
    own an action (they may edit it). ``keep``: the owner an action has, whatever they are
    now. ``everyone``: the deactivated too (names to show, not people to offer). ``limit``: the
    first so many by name."""
    stmt = (
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant_id)
    )
    offered = [] if everyone else [Membership.active.is_(True), User.active.is_(True)]
    if owners:
        offered.append(Membership.role.in_(ACTION_OWNER_ROLES))
    if offered:
        stmt = stmt.where(and_(*offered) if keep is None else or_(and_(*offered), User.id == keep))
    rows = db.session.execute(stmt.order_by(User.name, User.id).limit(limit)).all()
    return [(user_id, name) for user_id, name in rows]


def search_text(stmt: Select, text: str) -> Select:
    like = f"%{text.strip().lower()}%"
    return stmt.where(
        or_(func.lower(Action.title).like(like), func.lower(Action.description).like(like))
    )
