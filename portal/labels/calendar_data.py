"""Loading what the label calendar (``portal.labels.calendar``) works on, in a fixed number of
queries whatever the number of clusters, labels, rounds or plans: a cluster's calendar page
and the region's label risk list."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import get_locale
from sqlalchemy import func, select

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.keeps import Keep, reading_request
from portal.labels.calendar import (
    PlannedData,
    Risk,
    SchemeCalendar,
    evaluate_scheme,
    projected_finish,
    risks,
    scheme_calendar,
)
from portal.labels.models import Label, PlannedAssessment
from portal.labels.scheme import ClusterEvidence, LabelScheme
from portal.labels.services import clusters_evidence, clusters_labels
from portal.plans.models import OPEN_STATUSES, Action, Plan, PlanKind
from portal.tenancy.cache_scopes import REGION, WORK
from portal.tenancy.scope import current_tenant_id
from portal.tenancy.versioning import scope_version, scope_versions


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
    plan: Any  # the plan's id, title, start_date and end_date (a row, not the ORM object)
    finish: date  # projected
    open_actions: int


def plan_finishes(cluster_ids: Collection[int] | None, today: date) -> dict[int, PlanFinish]:
    """Each cluster's newest individual plan (the latest end) with its projected finish: two
    queries, of the columns shown (a region of 2,000 clusters has as many plans)."""
    plans = db.session.execute(
        _of(
            select(Plan.id, Plan.cluster_id, Plan.title, Plan.start_date, Plan.end_date),
            Plan.cluster_id,
            cluster_ids,
        )
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
    checking the rules (see ``scheme_calendar``), so without loading the rounds.

    The rules' verdicts are kept by the process (:func:`_kept_evaluations`) until the
    region's evidence changes: then only the labels are loaded, not every round."""
    kept = _kept_evaluations(schemes, today) if evaluate and evidence is None else None
    known = _known_ids(kept, cluster_ids, schemes)
    if evidence is None:
        if known is not None:
            evidence = clusters_labels(cluster_ids)  # what a calendar reads besides the rules
        else:
            evidence = (clusters_evidence if evaluate else clusters_labels)(cluster_ids)
    planned = planned_assessments(cluster_ids) if planned is None else planned
    finishes = plan_finishes(cluster_ids, today) if finishes is None else finishes
    if cluster_ids is not None:
        ids = set(cluster_ids)
    else:
        ids = (known if known is not None else set(evidence)) | set(planned)
    found = {}
    for cluster_id in ids:
        finish = finishes.get(cluster_id)
        mine = evidence.get(cluster_id, ClusterEvidence())
        calendars_of = []
        for scheme in schemes:
            evaluation = None
            if evaluate:
                slot = (cluster_id, scheme.id, scheme.version)
                evaluation = kept.get(slot) if known is not None else None
                if evaluation is None:
                    evaluation = evaluate_scheme(scheme, mine, today)
                    if kept is not None:
                        kept[slot] = evaluation
            calendars_of.append(
                scheme_calendar(
                    scheme,
                    mine,
                    today,
                    as_data(planned.get(cluster_id, [])),
                    finish.finish if finish else None,
                    evaluate,
                    evaluation,
                )
            )
        found[cluster_id] = calendars_of
    if kept is not None and known is None and cluster_ids is None:
        kept[ALL] = frozenset(evidence)
    return found


# --- the rules' verdicts, kept ----------------------------------------------------------------

# (region, evidence version, day, language, schemes) -> (cluster, scheme, version) -> verdicts
VERDICTS = Keep("portal_label_evaluations", at_most=4)
ALL = "all"  # the clusters with evidence, when a calendar of every cluster was made


def _kept_evaluations(schemes: list[LabelScheme], today: date) -> dict | None:
    """The process's evaluations of the rules for the region in scope, by (cluster, scheme,
    version), for a reading request; None otherwise. Keyed by the version of the region's
    ``region`` cache scope: rounds, values, labels and documented evidence are tables the
    cache registry does not list, so every write to them moves it, while an action's or a
    comment's write does not. And by the day and the language (the verdicts' messages)."""
    tenant_id = current_tenant_id()
    if tenant_id is None or not reading_request():
        return None
    key = (
        tenant_id,
        scope_version(tenant_id, REGION),
        today,
        str(get_locale()),
        tuple((s.id, s.version) for s in schemes),
    )
    return VERDICTS.get_or_make(key, dict)


def _known_ids(kept, cluster_ids, schemes) -> set[int] | None:
    """The clusters whose every scheme's verdicts are kept (for ``cluster_ids``, or every
    cluster with evidence), or None when some must be worked out."""
    if not kept:
        return None
    if cluster_ids is None:
        if ALL not in kept:
            return None
        wanted = set(kept[ALL])
    else:
        wanted = set(cluster_ids)
    slots = [(c, s.id, s.version) for c in wanted for s in schemes]
    return wanted if all(slot in kept for slot in slots) else None


@dataclass(frozen=True)
class RiskList:
    lines: tuple[Risk, ...]  # soonest first
    hidden: int  # clusters of the region the viewer may not see the values of

    def __len__(self) -> int:
        return len(self.lines)

    def rows(self, start: int = 0, stop: int | None = None) -> list[tuple[Risk, Cluster]]:
        """The lines ``start:stop`` with their clusters, loaded in one query for just these
        (a page shows a few of a region's hundred lines)."""
        lines = self.lines[start:stop]
        ids = sorted({r.cluster_id for r in lines})
        clusters = {c.id: c for c in db.session.scalars(select(Cluster).where(Cluster.id.in_(ids)))}
        # A cluster deleted since the lines were worked out has no line.
        return [(r, clusters[r.cluster_id]) for r in lines if r.cluster_id in clusters]


def region_risks(
    view, schemes: list[LabelScheme], today: date, horizon: date, kind: str = "", scheme: str = ""
) -> RiskList:
    """The label risks of the region's clusters whose values ``view`` (the privacy policy's
    decision for the viewer) shows, soonest first: a fixed number of queries. The lines are
    kept by the process for reading requests (``_kept_risk_lines``); ``rows`` loads the
    clusters of those shown."""
    return RiskList(*_kept_risk_lines(view, schemes, today, horizon, kind, scheme))


# (region, versions, privacy decision, day, horizon, filters) -> (lines, hidden)
RISKS = Keep("portal_label_risks", at_most=16)


def _kept_risk_lines(view, schemes, today, horizon, kind, scheme) -> tuple[tuple[Risk, ...], int]:
    """``_risk_lines``, kept by the process for reading requests while what they read stays
    as it was: labels, planned assessments, clusters, rounds and evidence (the ``region``
    scope: tables the cache registry does not list) and the plans with their open actions'
    statuses and due days (the ``work`` scope, which an action's progress or a comment leaves
    in place). Per privacy decision, day, horizon, filters, schemes and language (the rules'
    messages)."""
    tenant_id = current_tenant_id()
    if tenant_id is None or not reading_request():
        return _risk_lines(view, schemes, today, horizon, kind, scheme)
    key = (
        tenant_id,
        scope_versions(tenant_id, (REGION, WORK)),  # read before the data the lines read
        view.key,
        today,
        horizon,
        kind,
        scheme,
        tuple((s.id, s.version) for s in schemes),
        str(get_locale()),
    )
    return RISKS.get_or_make(key, lambda: _risk_lines(view, schemes, today, horizon, kind, scheme))


def _risk_lines(view, schemes, today, horizon, kind, scheme) -> tuple[tuple[Risk, ...], int]:
    """The risk lines, soonest first, and how many clusters the viewer may not see."""
    # Ids and names only: a region of 2,000 clusters has a few dozen lines, most pages one
    # kind of risk.
    names = db.session.execute(select(Cluster.id, Cluster.name)).all()
    shown = {cid: name for cid, name in names if view.sees(cid)}
    hidden = len(names) - len(shown)
    wanted = [s for s in schemes if not scheme or s.id == scheme]
    if not shown or not wanted:
        return (), hidden
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
    return tuple(found_risks), hidden
