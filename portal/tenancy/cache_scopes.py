"""What a write touches: the cache scopes of a changed row, in one registry.

A *scope* names an object or a collection a page can show (``programme:7``, ``plan:12``,
``individual-plans``, ``user:3:inbox``). Each has a version in ``cache_version`` (tenant,
scope, version), bumped when the transaction that wrote to it commits
(:mod:`portal.tenancy.versioning`). A cached page keys on the versions of the scopes it
declares (:mod:`portal.web.page_cache`), always with ``region``.

The registry below maps a table to the scopes its rows touch. Children name their parents (as
Rails' ``touch``): an action touches its plan, and its plan's programme (looked up once per
flush). **A table not listed touches ``region``**, which every cached page depends on: a new
model is safe by default (it empties the region's pages, as every write did before), and only
a model listed here can leave unrelated pages in place. So list a model only when you know
every page that shows it declares one of the scopes it touches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from portal.improvement.effect import ends_when_changed

REGION = "region"
INDIVIDUAL_PLANS = "individual-plans"
# Any programme's own rows (name, dates, participants, milestones: shown on its plans' pages).
PROGRAMMES = "programmes"
# Any plan's own row (its title on the actions of "my work", whatever plan they are in).
PLANS = "plans"
# Any workshop registration: who holds a seat or waits for one (the seat counts).
REGISTRATIONS = "registrations"
# The region's work: which actions exist, in which plan, with what title, status, dates and
# spending, aimed at which indicators, done by which clusters; and its plans (what
# ``portal.improvement.work.IndicatorWork`` and the plans' projected finishes read). Everything
# about actions but their progress, owner, priority, weight, description and comments. The
# kept improvement summaries and label risk lists key on it and on ``region`` (rounds, values,
# labels, the plugins' work), so a progress update or a comment leaves them in place.
WORK = "work"
# The region's work *on indicators*: the actions aimed at an indicator (what ``work`` says of
# them) and the aims themselves, what ``portal.improvement.work.IndicatorWork`` reads. A write
# that moves it moves ``work`` too; a status change of an action aimed at nothing moves
# ``work`` alone (the overdue lists and the plans' projected finishes read it), and leaves the
# improvement summaries, the programme page's frame and the scorecard in place.
AIMS = "aims"
# The action's columns the work reads; its ``changed_on`` is the day of ``updated_at`` (read
# only for a done action without a due day: ``portal.improvement.effect.ends_when_changed``).
_WORK_COLUMNS = (
    "title",
    "status",
    "start_date",
    "due_date",
    "plan_id",
    "spent_money",
    "spent_hours",
    "created_at",
)


def programme(programme_id: int | None) -> str:
    return f"programme:{programme_id}"


def plan(plan_id: int | None) -> str:
    return f"plan:{plan_id}"


def cluster(cluster_id: int | None) -> str:
    """A cluster's plans and the actions it is responsible for, in any plan (its page)."""
    return f"cluster:{cluster_id}"


def owner(user_id: int) -> str:
    """The actions a person owns (their own work: "my work" and its front-page panel)."""
    return f"user:{user_id}:actions"


def registrant(user_id: int) -> str:
    """A person's own workshop registrations (their upcoming workshops, their invitations'
    answers)."""
    return f"user:{user_id}:registrations"


def inbox(user_id: int) -> str:
    """A person's notifications (the header's unread count on every page they see)."""
    return f"user:{user_id}:inbox"


def _now_and_before(row, column: str) -> set:
    """The column's value and, for a changed row, the value it had (both pages show it)."""
    values = {getattr(row, column)}
    history = inspect(row).attrs[column].history
    values.update(history.deleted or ())
    return values - {None}


def _plan_scopes(row) -> list[str]:
    # A plan's programme and cluster decide whose summaries its actions' work counts in.
    scopes = [plan(row.id), WORK, AIMS, PLANS] if row.id is not None else [REGION]
    if row.programme_id is not None:
        scopes.append(programme(row.programme_id))
    else:
        scopes.append(INDIVIDUAL_PLANS)  # a cluster's own plan: shown on programme pages too
    scopes += [cluster(cluster_id) for cluster_id in _now_and_before(row, "cluster_id")]
    return scopes


def _programme_child(row) -> list[str]:
    if row.programme_id is None:
        return [REGION]
    return [programme(row.programme_id), PROGRAMMES]


_BY_TABLE: dict[str, Callable] = {
    "programme": lambda row: [programme(row.id), PROGRAMMES] if row.id is not None else [REGION],
    "programme_cluster": _programme_child,
    "milestone": _programme_child,
    "plan": _plan_scopes,
    "notification": lambda row: [inbox(row.recipient_id)],
    "registration": lambda row: [
        REGISTRATIONS,
        *(registrant(user_id) for user_id in _now_and_before(row, "user_id")),
    ],
    "registration_answers": lambda row: [REGISTRATIONS],
    # A workshop's mail log (who was told what): only the workshop's own pages show it, and
    # they key on the region's data version, which every write moves.
    "workshop_notice": lambda row: [],
    # Written with the change it describes, which touches the changed object's own scopes; no
    # page keyed on scopes shows the audit log (those that do key on the whole region).
    "audit_entry": lambda row: [],
    # A comment shows only on its action's page (not kept), in search (not kept) and in the
    # region's activity (keyed on every write): it renews no programme, plan or cluster page.
    # Its mentions' and followers' notifications touch their inboxes.
    "action_comment": lambda row: [],
}
# Rows under an action: they touch the action's plan (and so its programme) and the clusters
# responsible for it (a tie itself: its cluster, also when the tie is new or removed).
_UNDER_ACTION = {"action_cluster", "action_indicator"}


def _changes_work(session: Session, row) -> bool:
    """Whether writing this action changes the region's work on indicators: a new, deleted
    or bulk-written action always may; a changed one when a column work reads changed."""
    state = inspect(row)
    if not state.persistent or row in session.deleted:
        return True
    attrs = state.attrs
    if any(attrs[name].history.has_changes() for name in (*_WORK_COLUMNS, "updated_at")):
        return True
    # The UPDATE sets ``updated_at`` to now (its onupdate): a new day changes ``changed_on``,
    # which the work reads only for a done action without a due day (its window ends then).
    if not ends_when_changed(row.status, row.due_date):
        return False
    before = state.dict.get("updated_at")
    if before is None:
        return True  # not loaded: the day it had is unknown
    return before.date() != datetime.now(before.tzinfo or UTC).date()


def is_listed(row) -> bool:
    table = getattr(type(row), "__tablename__", None)
    return table in _BY_TABLE or table in _UNDER_ACTION or table == "plan_action"


def scopes_of(session: Session, rows: Iterable) -> set[str]:
    """The scopes the given changed rows touch (``region`` for any table not listed)."""
    scopes: set[str] = set()
    plan_ids: set[int] = set()
    action_ids: set[int] = set()
    working: set[int] = set()  # stored actions whose work changes: aimed at anything?
    for row in rows:
        table = getattr(type(row), "__tablename__", None)
        if table == "plan_action":
            if row.plan_id is None:
                scopes.add(REGION)
            else:
                plan_ids.add(row.plan_id)
            if row.id is not None:
                action_ids.add(row.id)  # its ties to clusters, as they are before this write
            # Whoever owns it now and owned it before this write (an owner's work changes).
            scopes.update(owner(user_id) for user_id in _now_and_before(row, "owner_id"))
            if _changes_work(session, row):
                scopes.add(WORK)
                # A new action has no aim yet (its aims, written with it, touch ``aims``).
                if row.id is not None:
                    working.add(row.id)
        elif table in _UNDER_ACTION:
            action_ids.add(row.action_id)
            scopes.update((WORK, AIMS))  # an aim or a responsible cluster
            if table == "action_cluster":
                scopes.add(cluster(row.cluster_id) if row.cluster_id is not None else REGION)
        elif table in _BY_TABLE:
            scopes.update(_BY_TABLE[table](row))
        else:
            scopes.add(REGION)
    action_ids.discard(None)
    if working and AIMS not in scopes and _any_aimed(session, working):
        scopes.add(AIMS)
    if action_ids:
        plan_ids.update(_plans_of_actions(session, action_ids))
        scopes.update(cluster(c) for c in _clusters_of_actions(session, action_ids))
    if plan_ids:
        scopes.update(_plan_parents(session, plan_ids))
    return scopes


def _plans_of_actions(session: Session, action_ids: set[int]) -> set[int]:
    from portal.plans.models import Action

    table = Action.__table__
    rows = session.connection().execute(
        select(table.c.plan_id).where(table.c.id.in_(sorted(action_ids)))
    )
    return {plan_id for (plan_id,) in rows}


def _any_aimed(session: Session, action_ids: set[int]) -> bool:
    """Whether any of the actions is aimed at an indicator (as stored before this flush)."""
    from portal.plans.models import ActionIndicator

    table = ActionIndicator.__table__
    found = session.connection().execute(
        select(table.c.id).where(table.c.action_id.in_(sorted(action_ids))).limit(1)
    )
    return found.first() is not None


def _clusters_of_actions(session: Session, action_ids: set[int]) -> set[int]:
    from portal.plans.models import ActionCluster

    table = ActionCluster.__table__
    rows = session.connection().execute(
        select(table.c.cluster_id).where(table.c.action_id.in_(sorted(action_ids)))
    )
    return {cluster_id for (cluster_id,) in rows}


def _plan_parents(session: Session, plan_ids: set[int]) -> set[str]:
    from portal.plans.models import Plan

    table = Plan.__table__
    rows = session.connection().execute(
        select(table.c.id, table.c.programme_id, table.c.cluster_id).where(
            table.c.id.in_(sorted(plan_ids))
        )
    )
    scopes = {plan(plan_id) for plan_id in plan_ids}
    found = set()
    for plan_id, programme_id, cluster_id in rows:
        found.add(plan_id)
        scopes.add(programme(programme_id) if programme_id is not None else INDIVIDUAL_PLANS)
        if cluster_id is not None:
            scopes.add(cluster(cluster_id))  # the cluster's page shows its plans' progress
    if found != plan_ids:
        scopes.add(REGION)  # a plan not written yet or gone: its parent is unknown
    return scopes
