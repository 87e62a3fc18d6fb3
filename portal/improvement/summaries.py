"""What the action, plan, cluster and programme pages say about the indicators the work aims
at: ONE function per page (``action_effects``, ``plan_indicators``, ``cluster_summary``,
``programme_summary``), so the HTML pages, their htmx fragments and an API answer the same.

Each measures with :class:`portal.improvement.measure.Measurer` (the region's work on the
same indicators, the confirmed rounds' values) for the viewer the privacy policy describes
(``values_view``), and counts with :func:`portal.improvement.effect.movements`. Queries: the
work of the page (one), the region's work on its indicators (one, plus what plugins' answers
cost), the values (one per indicator set version), whatever the number of actions, rounds or
clusters; none beyond the work when nothing is linked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from sqlalchemy import func, select

from portal.extensions import db
from portal.improvement.chart import before_after
from portal.improvement.effect import NO_DATA, TOO_FEW, Movement, direction, movements
from portal.improvement.links import IndicatorInfo, describe
from portal.improvement.measure import Measured, Measurer
from portal.improvement.work import (
    IndicatorKey,
    IndicatorWork,
    every_key,
    plan_action_work,
    plugin_work,
)
from portal.keeps import Keep, reading_request
from portal.privacy.policy import values_view
from portal.tenancy.cache_scopes import AIMS, REGION
from portal.tenancy.versioning import scope_versions

SUMMARIES = Keep("portal_improvement_summaries", at_most=64)  # see _kept_summary
# The work a summary covers, whoever reads it: worked out once for every privacy decision.
SUMMARY_WORK = Keep("portal_improvement_summary_work", at_most=64)


def _locale() -> str:
    return str(get_locale() or "en")


def _tenant(tenant_id: int) -> Any:
    from portal.tenancy.models import Tenant

    return db.session.get(Tenant, tenant_id)  # the request's region: no query


def _hidden(measured: Measured, view: Any) -> bool:
    """Over, but the workers' values are not the viewer's to see (too few of them, and not
    the viewer's own): then not even whether they have rounds before and after is told (a
    cluster's page keeps when it was assessed from outsiders too), so "no data" is hidden
    as well."""
    found = measured.effect
    if found.reason not in (TOO_FEW, NO_DATA) or found.worked.change is not None:
        return False
    clusters = measured.work.clusters
    return bool(clusters) and not (
        len(clusters) >= view.min_group or all(view.sees(c) for c in clusters)
    )


# --- the action page ----------------------------------------------------------------------


@dataclass(frozen=True)
class ActionEffect:
    """The effect of one action on one of its indicators (``measured`` None: a cancelled
    action is no work, nothing is measured)."""

    info: IndicatorInfo
    measured: Measured | None
    moved: str | None  # effect.IMPROVED / DECLINED / UNCHANGED; None: not measured or shown
    chart: dict[str, Any] | None
    hidden: bool = False


def action_effects(action: Any, user: Any, today: date) -> list[ActionEffect]:
    """Per indicator the action aims at: its measured effect, as the viewer may see it."""
    keys = [link.key for link in action.indicators]
    if not keys:
        return []
    infos = describe(keys, _locale())
    status = str(getattr(action.status, "value", action.status))
    if status == "cancelled":
        return [ActionEffect(infos[key], None, None, None) for key in keys]
    tenant = _tenant(action.tenant_id)
    measurer = Measurer(tenant, keys, view=values_view(user, tenant), today=today)
    pieces = {w.key: w for w in measurer.work if w.kind == "action" and w.id == action.id}
    rows = []
    for key in keys:
        info = infos[key]
        measured = measurer.measure(pieces[key]) if key in pieces else None
        found = measured.effect if measured is not None else None
        chart = None
        if found is not None and found.worked.change is not None:
            lines = [("worked", found.worked.before, found.worked.after)]
            lines.append(("others", found.others.before, found.others.after))
            chart = before_after(lines, info.scale)
        rows.append(
            ActionEffect(
                info,
                measured,
                direction(found, info.higher_is_better),
                chart,
                measured is not None and _hidden(measured, measurer.view),
            )
        )
    return rows


# --- plan, cluster and programme summaries --------------------------------------------------


@dataclass(frozen=True)
class WorkLine:
    """One action aimed at an indicator, as a summary lists it."""

    work: IndicatorWork
    measured: Measured
    moved: str | None  # as ActionEffect.moved, or "hidden": its clusters' own values


@dataclass(frozen=True)
class IndicatorSummary:
    info: IndicatorInfo
    movement: Movement  # actions, done, measured, improved, worsened
    lines: list[WorkLine]
    hidden: int  # measured but not the viewer's to see
    history: dict[date, Decimal | None] | None = None  # the plan's cluster's value per round

    @property
    def not_measured(self) -> int:
        return self.movement.actions - self.movement.measured - self.hidden

    @property
    def unchanged(self) -> int:
        return self.movement.measured - self.movement.improved - self.movement.worsened


def _kept_summary(
    page: tuple, tenant_id: int, work_of, user: Any, today: date
) -> tuple[list[IndicatorSummary], Measurer | None]:
    """``_summarise`` of ``work_of()``, kept by the process for reading requests while what
    it reads stays as it was: the region's work on indicators (every action aimed at one, its
    aims and responsible clusters: the ``aims`` scope, which an action's progress, owner or
    comment leaves in place, and any write to an action aimed at nothing) and the rounds,
    values and plugins' work (the ``region`` scope). Per page (``page``: what it summarises),
    the viewer's privacy decision, the language and the day. The answer is shared: do not
    change it."""
    if not reading_request():
        return _summarise(tenant_id, work_of(), user, today)
    versions = scope_versions(tenant_id, (REGION, AIMS))
    view = values_view(user, _tenant(tenant_id))
    key = (tenant_id, page, versions, view.key, _locale(), today)

    def work() -> list[IndicatorWork]:
        return SUMMARY_WORK.get_or_make((tenant_id, page, versions), work_of)

    return SUMMARIES.get_or_make(key, lambda: _summarise(tenant_id, work(), user, today))


def _summarise(
    tenant_id: int, work: list[IndicatorWork], user: Any, today: date
) -> tuple[list[IndicatorSummary], Measurer | None]:
    if not work:
        return [], None
    keys = list(dict.fromkeys(w.key for w in work))
    infos = describe(keys, _locale())
    tenant = _tenant(tenant_id)
    measurer = Measurer(tenant, keys, view=values_view(user, tenant), today=today)
    by_key: dict[IndicatorKey, list[WorkLine]] = defaultdict(list)
    for piece in work:
        measured = measurer.measure(piece)
        moved = (
            "hidden"  # the viewer may not learn even whether it was measured
            if _hidden(measured, measurer.view)
            else direction(measured.effect, infos[piece.key].higher_is_better)
        )
        by_key[piece.key].append(WorkLine(piece, measured, moved))
    counted = movements(
        (line.work.key, line.work.status, line.measured.effect, infos[key].higher_is_better)
        for key in keys
        for line in by_key[key]
    )
    rows = [
        IndicatorSummary(
            infos[m.indicator_key],
            m,
            by_key[m.indicator_key],
            sum(_hidden(line.measured, measurer.view) for line in by_key[m.indicator_key]),
        )
        for m in counted
    ]
    rows.sort(key=lambda row: (row.info.set_title, row.info.name.casefold()))
    return rows, measurer


@dataclass(frozen=True)
class EffortTotals:
    """Effort of a plan's actions, planned and spent (None: no action gives it)."""

    planned_hours: Decimal | None = None
    spent_hours: Decimal | None = None
    planned_money: Decimal | None = None
    spent_money: Decimal | None = None

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (self.planned_hours, self.spent_hours, self.planned_money, self.spent_money)
        )


def effort_totals(plan_id: int) -> EffortTotals:
    """The sums over the plan's actions (cancelled ones too: what they cost was spent)."""
    from portal.plans.models import Action

    row = db.session.execute(
        select(
            func.sum(Action.planned_hours),
            func.sum(Action.spent_hours),
            func.sum(Action.planned_money),
            func.sum(Action.spent_money),
        ).where(Action.plan_id == plan_id)
    ).one()
    return EffortTotals(*(Decimal(str(v)) if v is not None else None for v in row))


@dataclass(frozen=True)
class PlanIndicators:
    rows: list[IndicatorSummary]
    effort: EffortTotals
    # An individual plan: whether the viewer sees its cluster's values (None: a joint plan).
    sees_values: bool | None = None
    history_days: list[date] = field(default_factory=list)  # the cluster's rounds, oldest first


def plan_indicators(plan: Any, user: Any, today: date) -> PlanIndicators:
    """The indicators the plan's actions aim at, with the actions, their effects counted and
    (an individual plan, for those who may see its cluster's values) the cluster's values in
    each of its rounds; and the plan's effort, planned and spent."""
    rows, measurer = _kept_summary(
        ("plan", plan.id),
        plan.tenant_id,
        lambda: plan_action_work(plan_ids=[plan.id]),
        user,
        today,
    )
    sees = None
    days: list[date] = []
    if plan.cluster_id is not None:
        sees = values_view(user, _tenant(plan.tenant_id)).sees(plan.cluster_id)
        if sees and measurer is not None:
            rows = [
                IndicatorSummary(
                    r.info,
                    r.movement,
                    r.lines,
                    r.hidden,
                    dict(measurer.values.history(r.info.key, plan.cluster_id)),
                )
                for r in rows
            ]
            days = sorted({day for r in rows for day in r.history or ()})
    return PlanIndicators(rows, effort_totals(plan.id), sees, days)


def _plugins_work(tenant_id: int, keep) -> list[IndicatorWork]:
    """The plugins' work of the region (joint actions, say) that ``keep`` wants."""
    return [w for w in plugin_work(_tenant(tenant_id), every_key(tenant_id)) if keep(w)]


def cluster_summary(cluster: Any, user: Any, today: date) -> list[IndicatorSummary]:
    """The indicators the cluster's actions (of any plan it is responsible in, and the
    plugins' work it takes part in, e.g. joint actions) aim at: how many are done and how
    the indicators moved."""

    def work() -> list[IndicatorWork]:
        found = plan_action_work(cluster_id=cluster.id)
        return found + _plugins_work(cluster.tenant_id, lambda w: cluster.id in w.clusters)

    rows, _measurer = _kept_summary(("cluster", cluster.id), cluster.tenant_id, work, user, today)
    return rows


def programme_summary(programme: Any, user: Any, today: date) -> list[IndicatorSummary]:
    """The same over every plan of the programme (its joint plan and its clusters' plans)
    and the plugins' work of the programme (its joint actions)."""
    from portal.plans.models import Plan

    def work() -> list[IndicatorWork]:
        plan_ids = db.session.scalars(
            select(Plan.id).where(Plan.programme_id == programme.id)
        ).all()
        found = plan_action_work(plan_ids=plan_ids) if plan_ids else []
        return found + _plugins_work(programme.tenant_id, lambda w: w.programme_id == programme.id)

    rows, _measurer = _kept_summary(
        ("programme", programme.id), programme.tenant_id, work, user, today
    )
    return rows
