"""Loading the measured baseline of effort (:mod:`portal.improvement.effort`): the region's
own actions in one query, and the aggregates other regions publish in one more.

Tenant isolation: the other regions are read deliberately across tenants (``unscoped``), and
only as sums per region and indicator, computed by the database (no action, cluster or figure
of another region leaves it), and only of the regions that chose to share them
(``Tenant.effort_baseline_shared``). An own action aimed at two of a joint action's
indicators counts once in the region's own figures; in a published region's, it counts for
each indicator (its aggregate is per indicator, so nothing finer is read).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select

from portal.extensions import db
from portal.improvement.effort import (
    UNITS,
    Baseline,
    Published,
    SpentAction,
    Tally,
    baseline,
    tally,
)
from portal.tenancy import unscoped

IndicatorKey = tuple[str, str, str]


def _key_filter(link: Any, keys: list[IndicatorKey]):
    return or_(
        *(
            and_(link.indicator_set == s, link.set_version == v, link.indicator_id == i)
            for s, v, i in keys
        )
    )


def own_spending(keys: Iterable[IndicatorKey]) -> list[SpentAction]:
    """The region's own actions (individual plans) done with a spent figure, aimed at any of
    ``keys``: one query."""
    from portal.plans.models import (
        Action,
        ActionCluster,
        ActionIndicator,
        ActionStatus,
        Plan,
        PlanKind,
    )

    keys = sorted(set(keys))
    if not keys:
        return []
    rows = db.session.execute(
        select(
            Action.id,
            Action.spent_money,
            Action.spent_hours,
            ActionIndicator.indicator_set,
            ActionIndicator.set_version,
            ActionIndicator.indicator_id,
            ActionCluster.cluster_id,
        )
        .join(Plan, Plan.id == Action.plan_id)
        .join(ActionIndicator, ActionIndicator.action_id == Action.id)
        .join(ActionCluster, ActionCluster.action_id == Action.id)
        .where(
            Plan.kind == PlanKind.INDIVIDUAL,
            Action.status == ActionStatus.DONE,
            or_(Action.spent_money.is_not(None), Action.spent_hours.is_not(None)),
            _key_filter(ActionIndicator, keys),
        )
        .order_by(Action.id)
    )
    found: dict[int, tuple[Any, Any, set, set]] = {}
    for action_id, money, hours, indicator_set, version, indicator_id, cluster_id in rows:
        entry = found.setdefault(action_id, (money, hours, set(), set()))
        entry[2].add((indicator_set, version, indicator_id))
        entry[3].add(cluster_id)
    return [
        SpentAction(i, frozenset(clusters), "done", money, hours, frozenset(linked))
        for i, (money, hours, linked, clusters) in found.items()
    ]


def published_spending(tenant: Any, keys: Iterable[IndicatorKey]) -> list[tuple[str, Published]]:
    """Per other region that shares its baseline and per indicator of ``keys``: its own
    actions' spending summed, in both units (one query; aggregates only). Money counts only
    from regions that keep their amounts in this region's currency."""
    from portal.plans.models import (
        Action,
        ActionCluster,
        ActionIndicator,
        ActionStatus,
        Plan,
        PlanKind,
    )
    from portal.tenancy.models import Tenant

    keys = sorted(set(keys))
    if not keys:
        return []
    link_cols = (
        ActionIndicator.indicator_set,
        ActionIndicator.set_version,
        ActionIndicator.indicator_id,
    )
    with unscoped():
        per_action = (
            select(
                Action.id.label("action_id"),
                Action.tenant_id.label("tenant_id"),
                Action.spent_money.label("money"),
                Action.spent_hours.label("hours"),
                *link_cols,
                func.min(ActionCluster.cluster_id).label("first_cluster"),
            )
            .join(Plan, Plan.id == Action.plan_id)
            .join(Tenant, Tenant.id == Action.tenant_id)
            .join(ActionIndicator, ActionIndicator.action_id == Action.id)
            .join(ActionCluster, ActionCluster.action_id == Action.id)
            .where(
                Tenant.effort_baseline_shared.is_(True),
                Tenant.id != tenant.id,
                Plan.kind == PlanKind.INDIVIDUAL,
                Action.status == ActionStatus.DONE,
                _key_filter(ActionIndicator, keys),
            )
            .group_by(
                Action.id, Action.tenant_id, Action.spent_money, Action.spent_hours, *link_cols
            )
            .subquery()
        )
        pair = ActionCluster.__table__.alias("pair")
        columns = []
        for unit in UNITS:
            figure = per_action.c[unit]
            has = figure.is_not(None)
            columns += [
                func.count(distinct(case((has, per_action.c.action_id)))),
                func.count(distinct(case((has, pair.c.cluster_id)))),
                func.count(case((has, 1))),
                func.sum(
                    case((and_(has, pair.c.cluster_id == per_action.c.first_cluster), figure))
                ),
            ]
        rows = db.session.execute(
            select(
                per_action.c.tenant_id,
                Tenant.values_min_group,
                Tenant.currency,
                per_action.c.indicator_set,
                per_action.c.set_version,
                per_action.c.indicator_id,
                *columns,
            )
            .join(pair, pair.c.action_id == per_action.c.action_id)
            .join(Tenant, Tenant.id == per_action.c.tenant_id)
            .group_by(
                per_action.c.tenant_id,
                Tenant.values_min_group,
                Tenant.currency,
                per_action.c.indicator_set,
                per_action.c.set_version,
                per_action.c.indicator_id,
            )
        ).all()
    found = []
    for region_id, min_group, currency, indicator_set, version, indicator_id, *figures in rows:
        for index, unit in enumerate(UNITS):
            if unit == "money" and currency != tenant.currency:
                continue  # amounts in another currency are not comparable
            actions, clusters, pairs, total = figures[index * 4 : index * 4 + 4]
            if pairs:
                key = (indicator_set, version, indicator_id)
                found.append(
                    (
                        unit,
                        Published(
                            region_id, key, _tally(actions, clusters, pairs, total), min_group
                        ),
                    )
                )
    return found


def _tally(actions: int, clusters: int, pairs: int, total: Any) -> Tally:
    return Tally(int(actions), int(clusters), int(pairs), Decimal(str(total or 0)), 1)


class EffortBaselines:
    """The measured baselines of a region for one viewer: ``of(keys)`` -> unit -> Baseline,
    for any of the ``keys`` loaded at first (two queries in all, whatever the number of
    actions, indicators or regions)."""

    def __init__(self, tenant: Any, keys: Iterable[IndicatorKey], *, view: Any):
        self.keys = sorted(set(keys))
        self.view = view
        self.own = own_spending(self.keys)
        self.published: dict[str, list[Published]] = defaultdict(list)
        for unit, found in published_spending(tenant, self.keys):
            self.published[unit].append(found)

    def of(self, keys: Iterable[IndicatorKey]) -> dict[str, Baseline]:
        keys = sorted(set(keys))
        return {
            unit: baseline(
                unit,
                tally(self.own, keys, unit),
                self.published[unit],
                keys=keys,
                min_group=self.view.min_group,
                sees=self.view.sees,
            )
            for unit in UNITS
        }
