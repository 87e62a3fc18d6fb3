"""The work of a region aimed at indicators, whoever keeps it: the core's plan actions and what
plugins answer through the ``indicator_work`` hook (the joint plugin's joint actions).

One query for the core's actions (and whatever each plugin's answer costs, a query or two),
whatever the number of actions, clusters or indicators.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, event, select, type_coerce
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.i18n import ACTION_STATUS_LABELS
from portal.improvement.effect import Window, ends_when_changed, window
from portal.keeps import Keep, reading_request
from portal.tenancy.cache_scopes import AIMS, REGION
from portal.tenancy.versioning import scope_version, scope_versions

IndicatorKey = tuple[str, str, str]


@dataclass(frozen=True)
class IndicatorWork:
    """One piece of work aimed at one indicator.

    ``kind`` says whose it is ("action" for a plan's action; a plugin names its own, e.g.
    "joint_action"); ``clusters``: the clusters doing it; ``left_early``: clusters that
    took part and left before it ended (in neither group of its effect); ``endpoint`` and
    ``args``: where the page of the work is (``url_for``)."""

    kind: str
    id: int
    title: str
    key: IndicatorKey
    clusters: frozenset[int]
    status: str
    start_date: date | None
    due_date: date | None
    entered_on: date | None = None
    changed_on: date | None = None
    left_early: frozenset[int] = frozenset()
    endpoint: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    plan_id: int | None = None  # a plan's action: its plan
    programme_id: int | None = None  # the programme it belongs to, when a plugin's is one's
    money_spent: Any = None  # Decimal or None: what the work cost (all its clusters)
    hours_spent: Any = None
    kind_name: Any = None  # what to call it on a page (translated lazily), e.g. "Joint action"
    status_name: Any = None  # its status in words (translated lazily)

    def ran(self) -> tuple[date | None, date | None]:
        """From when to when it ran (None at the end: still running, or unknown)."""
        end = self.due_date
        if ends_when_changed(self.status, end):
            end = self.changed_on
        return self.start_date or self.entered_on, end

    def window(self, today: date) -> Window:
        return window(
            self.start_date, self.due_date, self.status, self.entered_on, self.changed_on, today
        )


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None


def plan_action_work(
    keys: Iterable[IndicatorKey] | None = None,
    *,
    plan_ids: Iterable[int] | None = None,
    cluster_id: int | None = None,
) -> list[IndicatorWork]:
    """The region's plan actions aimed at indicators (at ``keys``, of ``plan_ids``, or of
    one cluster, when given; cancelled actions are no work): one query, of the columns the
    work holds (no ORM object per row: a region of 5,000 aimed actions is read in a tenth of
    the time)."""
    from portal.plans.models import Action, ActionCluster, ActionIndicator, ActionStatus

    stmt = (
        select(
            Action.id,
            Action.title,
            # The stored text ("done"), not the enum: looking each row's up costs more than
            # the rest of its reading.
            type_coerce(Action.status, String).label("status"),
            Action.start_date,
            Action.due_date,
            Action.created_at,
            Action.updated_at,
            Action.plan_id,
            Action.spent_money,
            Action.spent_hours,
            ActionIndicator.indicator_set,
            ActionIndicator.set_version,
            ActionIndicator.indicator_id,
            ActionCluster.cluster_id,
        )
        .join(ActionIndicator, ActionIndicator.action_id == Action.id)
        .outerjoin(ActionCluster, ActionCluster.action_id == Action.id)
        .where(Action.status != ActionStatus.CANCELLED)
        .order_by(Action.id, ActionIndicator.id)
    )
    if keys is not None:
        wanted = set(keys)
        if not wanted:
            return []
        stmt = stmt.where(ActionIndicator.indicator_id.in_(sorted({k[2] for k in wanted})))
    if plan_ids is not None:
        stmt = stmt.where(Action.plan_id.in_(list(plan_ids) or [-1]))
    if cluster_id is not None:
        stmt = stmt.where(
            Action.id.in_(
                select(ActionCluster.action_id).where(ActionCluster.cluster_id == cluster_id)
            )
        )
    found: dict[tuple[int, IndicatorKey], tuple[Any, set[int]]] = {}
    for row in db.session.execute(stmt):
        key = (row.indicator_set, row.set_version, row.indicator_id)
        if keys is not None and key not in wanted:
            continue
        entry = found.setdefault((row.id, key), (row, set()))
        if row.cluster_id is not None:
            entry[1].add(row.cluster_id)
    kind_name = _l("Action")  # one lazy string for every piece
    return [
        _action_work(row, key, clusters, kind_name)
        for (_action_id, key), (row, clusters) in found.items()
    ]


def _action_work(row: Any, key: IndicatorKey, clusters: set[int], kind_name: Any) -> IndicatorWork:
    status = row.status
    return IndicatorWork(
        "action",
        row.id,
        row.title,
        key,
        frozenset(clusters),
        status,
        row.start_date,
        row.due_date,
        _day(row.created_at),
        # Only read when the window ends the day it changed: kept None otherwise, so the
        # work (and what is kept on the ``work`` scope) does not move with each day's edit.
        _day(row.updated_at) if ends_when_changed(status, row.due_date) else None,
        endpoint="plans.action_detail",
        args={"action_id": row.id},
        plan_id=row.plan_id,
        money_spent=row.spent_money,
        hours_spent=row.spent_hours,
        kind_name=kind_name,
        status_name=ACTION_STATUS_LABELS.get(status, status),
    )


PLUGIN_WORK = Keep("portal_plugin_work", at_most=32)  # (tenant, region version, keys) -> answers


@event.listens_for(Session, "after_commit")
def _forget_plugin_work(_session) -> None:
    """A write in the request: the plugins are asked again (see ``plugin_work``)."""
    if has_request_context():
        g.pop("_plugin_work", None)


def plugin_work(tenant: Any, keys: Iterable[IndicatorKey]) -> list[IndicatorWork]:
    """The work the plugins the region switched on answer for ``keys``.

    A reading request asks the plugins once: a later call for some of the same keys (a page's
    summary asks for every key, then its measurer for the summary's) is answered from the
    first, until a commit. The answers are also kept by the process until the region's
    ``region`` scope changes: every table the cache registry does not list touches it, so
    every plugin's table does (the hook's contract: answer from the plugin's own rows). An
    action's or a comment's write leaves them in place."""
    wanted = frozenset(keys)
    if not wanted:
        return []
    memo = None
    asked: frozenset = frozenset()
    if reading_request():
        memo = g.setdefault("_plugin_work", {})
        asked, answered = memo.get(tenant.id, (asked, []))
        if wanted <= asked:
            return [w for w in answered if w.key in wanted]
        kept_key = (tenant.id, scope_version(tenant.id, REGION), wanted)
        found = PLUGIN_WORK.get(kept_key)
        if found is not None:
            memo[tenant.id] = (wanted, found)
            return list(found)
    found = []
    host = current_app.extensions["portal_plugins"]
    for answer in host.call(
        "indicator_work", tenant_id=tenant.id, tenant=tenant, keys=sorted(wanted)
    ):
        found.extend(w for w in answer if w.key in wanted)
    if memo is not None and len(wanted) > len(asked):
        memo[tenant.id] = (wanted, found)
    if memo is not None:
        PLUGIN_WORK.put(kept_key, tuple(found))
    return found


def region_work(tenant: Any, keys: Iterable[IndicatorKey]) -> list[IndicatorWork]:
    """Every piece of work of the region aimed at any of ``keys``: the core's plan actions
    and the answers of the plugins the region switched on."""
    keys = sorted(set(keys))
    if not keys:
        return []
    return list(_kept_action_work(tenant.id, keys)) + plugin_work(tenant, keys)


# (tenant, region and aims versions, keys) -> the region's plan actions aimed at the keys
REGION_ACTION_WORK = Keep("portal_region_action_work", at_most=16)


def _kept_action_work(tenant_id: int, keys: list[IndicatorKey]) -> tuple[IndicatorWork, ...]:
    """``plan_action_work(keys)``, kept by the process for reading requests while the
    region's work on indicators (the ``aims`` scope: every aimed action's columns the work
    reads, its aims and responsible clusters, the plans) and its own rows (``region``: the
    clusters) stay as they were. Every measurer and the scorecard's forum over time read the
    region's work; a progress update, a comment or any write to an action aimed at nothing
    leaves it in place. The answer is shared: do not change it."""
    if not reading_request():
        return tuple(plan_action_work(keys))
    versions = scope_versions(tenant_id, (REGION, AIMS))  # read before the work
    return REGION_ACTION_WORK.get_or_make(
        (tenant_id, versions, tuple(keys)), lambda: tuple(plan_action_work(keys))
    )


def every_key(tenant_id: int) -> list[IndicatorKey]:
    """Every indicator of every version of the region's indicator sets (no query)."""
    from portal.benchmarking.services import available_sets

    return [
        (indicator_set.id, indicator_set.version, indicator.id)
        for indicator_set in available_sets(tenant_id)
        for indicator in indicator_set.indicators
    ]
