"""Loading what the label calendar (``portal.labels.calendar``) works on, in a fixed number of
queries whatever the number of clusters, labels, rounds or plans: a cluster's calendar page
and the region's label risk list."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels.calendar import (
    PlannedData,
    Risk,
    SchemeCalendar,
    projected_finish,
    risks,
    scheme_calendar,
)
from portal.labels.models import Label, PlannedAssessment
from portal.labels.scheme import ClusterEvidence, LabelScheme
from portal.labels.services import clusters_evidence, clusters_labels
from portal.plans.models import OPEN_STATUSES, Action, Plan, PlanKind


def _of(stmt, column, cluster_ids: Collection[int] | None):
    return stmt if cluster_ids is None else stmt.where(column.in_(list(cluster_ids)))


def planned_assessments(cluster_ids: Collection[int] | None) -> dict[int, list[PlannedAssessment]]:
    """The clusters' planned assessments by cluster, by day: one query."""
    found: dict[int, list[PlannedAssessment]] = {}
    rows = db.session.scalars(
        _of(select(PlannedAssessment), PlannedAssessment.cluster_id, cluster_ids).order_by(
            PlannedAssessment.planned_on, PlannedAssessment.id
        )
    )
    for row in rows:
        found.setdefault(row.cluster_id, []).append(row)
    return found


def as_data(rows: list[PlannedAssessment]) -> list[PlannedData]:
    return [PlannedData(p.scheme, p.kind, p.planned_on, p.level or "", p.id) for p in rows]


@dataclass(frozen=True)
class PlanFinish:
    plan: Plan
    finish: date  # projected
    open_actions: int


def plan_finishes(cluster_ids: Collection[int] | None, today: date) -> dict[int, PlanFinish]:
    """Each cluster's newest individual plan (the latest end) with its projected finish: two
    queries."""
    plans = db.session.scalars(
        _of(select(Plan), Plan.cluster_id, cluster_ids)
        .where(Plan.kind == PlanKind.INDIVIDUAL, Plan.cluster_id.is_not(None))
        .order_by(Plan.end_date, Plan.id)
    ).all()
    newest = {plan.cluster_id: plan for plan in plans}  # the last one wins: the latest end
    if not newest:
        return {}
    open_actions = {
        plan_id: (latest, count)
        for plan_id, latest, count in db.session.execute(
            select(Action.plan_id, func.max(Action.due_date), func.count(Action.id))
            .where(
                Action.plan_id.in_([p.id for p in newest.values()]),
                Action.status.in_(OPEN_STATUSES),
            )
            .group_by(Action.plan_id)
        )
    }
    found = {}
    for cluster_id, plan in newest.items():
        latest, count = open_actions.get(plan.id, (None, 0))
        found[cluster_id] = PlanFinish(
            plan, projected_finish(plan.end_date, latest, count, today), count
        )
    return found


def calendars(
    cluster_ids: Collection[int] | None,
    schemes: list[LabelScheme],
    today: date,
    evidence: dict[int, ClusterEvidence] | None = None,
    planned: dict[int, list[PlannedAssessment]] | None = None,
    finishes: dict[int, PlanFinish] | None = None,
    evaluate: bool = True,
) -> dict[int, list[SchemeCalendar]]:
    """Every scheme's calendar of each cluster (None: every cluster of the tenant in scope
    that has anything to show). ``evaluate=False``: the held labels' dates only, without
    checking the rules (see ``scheme_calendar``), so without loading the rounds."""
    if evidence is None:
        evidence = (clusters_evidence if evaluate else clusters_labels)(cluster_ids)
    planned = planned_assessments(cluster_ids) if planned is None else planned
    finishes = plan_finishes(cluster_ids, today) if finishes is None else finishes
    ids = set(cluster_ids) if cluster_ids is not None else set(evidence) | set(planned)
    found = {}
    for cluster_id in ids:
        finish = finishes.get(cluster_id)
        found[cluster_id] = [
            scheme_calendar(
                scheme,
                evidence.get(cluster_id, ClusterEvidence()),
                today,
                as_data(planned.get(cluster_id, [])),
                finish.finish if finish else None,
                evaluate,
            )
            for scheme in schemes
        ]
    return found


@dataclass(frozen=True)
class RiskList:
    rows: list[tuple[Risk, Cluster]]
    hidden: int  # clusters of the region the viewer may not see the values of


def region_risks(
    view, schemes: list[LabelScheme], today: date, horizon: date, kind: str = "", scheme: str = ""
) -> RiskList:
    """The label risks of the region's clusters whose values ``view`` (the privacy policy's
    decision for the viewer) shows, soonest first: a fixed number of queries."""
    # Ids and names only: the risk lines' clusters are loaded at the end (a region of 2,000
    # clusters has a few dozen lines, most pages one kind of risk).
    names = db.session.execute(select(Cluster.id, Cluster.name)).all()
    shown = {cid: name for cid, name in names if view.sees(cid)}
    hidden = len(names) - len(shown)
    wanted = [s for s in schemes if not scheme or s.id == scheme]
    if not shown or not wanted:
        return RiskList([], hidden)
    ids = None if len(shown) == len(names) else list(shown)
    if kind == "no_renewal":
        # Only a label held today and expiring by the horizon can lapse: the calendars of
        # those clusters alone (a region of 2,000 clusters has a few dozen).
        lapsing = db.session.scalars(
            select(Label.cluster_id)
            .where(Label.awarded_on <= today, Label.expires_on >= today)
            .where(Label.expires_on <= horizon)
            .distinct()
        ).all()
        ids = sorted(set(lapsing) & set(shown))
    # Only "can apply" checks the rules; only "plan late" needs the plans' finish.
    evaluate = kind in ("", "can_apply")
    finishes = None if kind in ("", "plan_late") else {}
    found_risks = []
    for cluster_id, found in calendars(
        ids, wanted, today, finishes=finishes, evaluate=evaluate
    ).items():
        if cluster_id not in shown:
            continue
        for calendar in found:
            for risk in risks(cluster_id, calendar, horizon):
                if not kind or risk.kind == kind:
                    found_risks.append(risk)
    found_risks.sort(key=lambda r: (r.day, shown[r.cluster_id].lower(), r.cluster_id, r.kind))
    wanted_ids = sorted({r.cluster_id for r in found_risks})
    clusters = {
        c.id: c for c in db.session.scalars(select(Cluster).where(Cluster.id.in_(wanted_ids)))
    }
    return RiskList([(r, clusters[r.cluster_id]) for r in found_risks], hidden)
