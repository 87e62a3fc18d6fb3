"""A programme's progress report for its funders: its clusters with their goals and progress,
the joint plans, milestones, overdue actions, the labels its clusters hold and what falls due
(the label calendar), the indicators it works on and the plugins' sections (the joint
plugin's joint actions and effort saved, through ``programme_report_sections``).

One function builds it for the page and the PDF alike, in a fixed number of queries whatever
the number of clusters, plans, actions and labels. Privacy: awarded labels, plans and
progress are for everyone of the region; whatever rests on a cluster's own values (whether a
next level can be reached, and from when) only for readers the policy lets see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.improvement.summaries import programme_summary
from portal.labels import calendar_data
from portal.labels.calendar import SchemeCalendar
from portal.labels.scheme import ClusterEvidence, add_months
from portal.labels.services import clusters_evidence, current_schemes
from portal.plans import progress
from portal.plans.models import Action, Plan, PlanKind
from portal.plans.services import overdue_clause
from portal.privacy.policy import values_view
from portal.programmes.models import Milestone, Programme, ProgrammeCluster

LABEL_HORIZON_MONTHS = 12  # labels lapsing within a year count as due
OVERDUE_LISTED = 100  # the report lists this many overdue actions; the rest are counted


@dataclass(frozen=True)
class HeldLabel:
    scheme: str  # the scheme's title
    level: str  # the level's name
    awarded_on: date
    expires_on: date
    due: bool  # lapses within the horizon
    renewal_planned: date | None  # the day of the assessment planned to renew it in time


@dataclass(frozen=True)
class NextLevel:
    scheme: str
    level: str
    eligible: bool  # every rule met today
    earliest: date | None


@dataclass
class ClusterLine:
    cluster: Cluster
    goal: str
    progress: progress.Progress
    labels: list[HeldLabel] = field(default_factory=list)
    next_levels: list[NextLevel] = field(default_factory=list)
    values_shown: bool = False  # the reader sees its own values (next levels)


@dataclass
class ProgrammeReport:
    programme: Programme
    today: date
    horizon: date
    total: progress.Progress
    overdue_count: int
    clusters: list[ClusterLine]
    joint_plans: list[tuple[Plan, progress.Progress]]
    own_plans: int
    milestones: list[Milestone]
    overdue: list[Action]
    improvement: list[Any]  # improvement.summaries.IndicatorSummary rows
    labels_held: int
    labels_due: int
    values_hidden: int  # clusters whose own values the reader may not see


def _cluster_lines(programme: Programme) -> list[tuple[ProgrammeCluster, Cluster]]:
    rows = db.session.scalars(
        select(ProgrammeCluster)
        .join(ProgrammeCluster.cluster)
        .options(contains_eager(ProgrammeCluster.cluster))
        .where(ProgrammeCluster.programme_id == programme.id)
        .order_by(Cluster.name, ProgrammeCluster.id)
    ).all()
    return [(row, row.cluster) for row in rows]


def _labels(calendars: list[SchemeCalendar], horizon: date, sees: bool):
    held, ahead = [], []
    for calendar in calendars:
        title = str(calendar.scheme.title)
        for dates in calendar.held:
            label = dates.held
            held.append(
                HeldLabel(
                    title,
                    str(dates.level.name),
                    label.awarded_on,
                    label.expires_on,
                    label.expires_on <= horizon and not dates.covered,
                    dates.renewal.planned_on if dates.renewal else None,
                )
            )
        if sees and calendar.next_level:
            nxt = next(d for d in calendar.levels if d.level.id == calendar.next_level)
            ahead.append(NextLevel(title, str(nxt.level.name), nxt.eligible, nxt.earliest))
    return held, ahead


def programme_report(programme: Programme, user: Any, tenant: Any, today: date) -> ProgrammeReport:
    """Everything the report shows, for ``user`` (the privacy policy's reader)."""
    view = values_view(user, tenant)
    horizon = add_months(today, LABEL_HORIZON_MONTHS)
    members = _cluster_lines(programme)
    ids = [cluster.id for _row, cluster in members]
    done = progress.clusters_progress_for(programme.id, ids)

    # The label calendar: awarded labels and planned assessments for every reader; the
    # rounds and evidence behind the next levels only where the reader sees the values.
    schemes = current_schemes(tenant.id)
    evidence = clusters_evidence(ids) if ids and schemes else {}
    for cluster_id in ids:
        if not view.sees(cluster_id) and cluster_id in evidence:
            evidence[cluster_id] = ClusterEvidence(labels=evidence[cluster_id].labels)
    calendars = (
        calendar_data.calendars(ids, schemes, today, evidence=evidence) if ids and schemes else {}
    )
    lines = []
    for row, cluster in members:
        sees = view.sees(cluster.id)
        held, ahead = _labels(calendars.get(cluster.id, []), horizon, sees)
        lines.append(
            ClusterLine(cluster, row.goal, done.get(cluster.id, progress.EMPTY), held, ahead, sees)
        )

    total, overdue_count = progress.programme_progress_and_overdue(programme.id, today)
    joint = db.session.scalars(
        select(Plan)
        .where(Plan.programme_id == programme.id, Plan.kind == PlanKind.JOINT)
        .order_by(Plan.title, Plan.id)
    ).all()
    own_plans = db.session.scalar(
        select(func.count(Plan.id)).where(
            Plan.programme_id == programme.id, Plan.kind == PlanKind.INDIVIDUAL
        )
    )
    plans_done = progress.plans_progress([plan.id for plan in joint])
    in_programme = select(Plan.id).where(Plan.programme_id == programme.id)
    overdue = db.session.scalars(
        select(Action)
        .where(Action.plan_id.in_(in_programme), overdue_clause(today))
        .options(joinedload(Action.owner), joinedload(Action.plan))
        .order_by(Action.due_date, Action.id)
        .limit(OVERDUE_LISTED)
    ).all()
    milestones = db.session.scalars(
        select(Milestone)
        .where(Milestone.programme_id == programme.id)
        .order_by(Milestone.due_date, Milestone.id)
    ).all()
    return ProgrammeReport(
        programme=programme,
        today=today,
        horizon=horizon,
        total=total,
        overdue_count=int(overdue_count or 0),
        clusters=lines,
        joint_plans=[(plan, plans_done.get(plan.id, progress.EMPTY)) for plan in joint],
        own_plans=int(own_plans or 0),
        milestones=list(milestones),
        overdue=list(overdue),
        improvement=programme_summary(programme, user, today),
        labels_held=sum(len(line.labels) for line in lines),
        labels_due=sum(1 for line in lines for label in line.labels if label.due),
        values_hidden=sum(1 for line in lines if not line.values_shown),
    )
