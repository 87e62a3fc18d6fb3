"""What the region's front page shows, per role: gathered here, not in the view.

Every panel is a bounded list with its total, read in a fixed number of queries however many
clusters, programmes, actions, workshops or labels the region holds (tests/test_front_page.py
counts them at two sizes). What a panel may show of a cluster's benchmark values (label steps,
label risks, rounds) is the privacy policy's decision (``values_view``), never this module's.

The page is kept by ``@cached_page`` per user, language and day, under the versions of what its
panels read (``portal.main.front_scopes``): a cluster manager's page stays while other
clusters work on their actions; a page with a panel of the whole region's work or news (the
coordinator's activity) is renewed by any write to the region.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import url_for
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import Membership, MembershipCluster, User
from portal.audit.models import AuditEntry
from portal.audit.services import tenant_entries_query
from portal.audit.words import CHANGE_ACTIONS, describe, object_types
from portal.benchmarking.models import BenchmarkRound, RoundKind
from portal.clusters.models import Cluster
from portal.clusters.services import clusters_with_counts
from portal.extensions import db
from portal.imports.kinds import page_of
from portal.imports.models import ImportJob, PendingImport
from portal.labels import calendar_data
from portal.labels import services as label_services
from portal.labels.models import Label, PlannedAssessment
from portal.labels.scheme import add_months
from portal.permissions import may, membership_for
from portal.plans import progress
from portal.plans.figures import OpenDue
from portal.plans.models import Plan
from portal.plans.services import MyWork, my_work
from portal.privacy.policy import ValuesView, values_view
from portal.programmes.listing import programmes_query
from portal.programmes.models import Programme
from portal.web.page_cache import keep_page_until
from portal.workshops.listing import registered_counts, workshops_query
from portal.workshops.models import Registration, Workshop, WorkshopInvite
from portal.workshops.registration_models import SeatRequest, SeatRequestStatus

SHOWN = 5  # rows per panel; each panel links to its full list
ACTIVITY_SHOWN = 8
LAPSING_MONTHS = 6  # "lapsing soon": within so many months, no renewal planned
# What the roles see first (an administrator without a membership sees the coordinator's).
PANELS = {
    "coordinator": (
        "programmes",
        "workshops",
        "overdue",
        "lapsing",
        "waiting",
        "activity",
        "clusters",
    ),
    "cluster_manager": ("plans", "work", "label_steps", "invited", "imports", "clusters"),
    "member": ("work", "invited", "programmes", "clusters"),
    "observer": ("programmes", "register", "clusters"),
    "assessor": ("rounds", "planned", "lapsing", "imports", "clusters"),
}
CLUSTERS_SHOWN = 8


@dataclass
class Panel:
    """The first rows of a list, and how many there are in all."""

    items: list[Any] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> bool:
        return self.total > len(self.items)


@dataclass(frozen=True)
class LabelStep:
    """A cluster's next label step in one scheme: the next level, the earliest day it can be
    reached and what is still missing; and the soonest lapsing label held, with the latest
    day for its renewal's assessment and whether one is planned in time."""

    cluster: Cluster
    scheme: Any
    next_level: Any  # Level or None (the top held)
    earliest: date | None
    missing: int
    renew_level: Any = None
    renew_by: date | None = None
    renewal_planned: bool = False
    eligible: bool = False  # every rule of the next level is met today


@dataclass
class FrontPage:
    role: str
    today: date
    values: ValuesView
    panels: tuple[str, ...]
    data: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None


def role_of(user: User, tenant) -> str:
    membership = membership_for(user, tenant)
    if membership is None:
        return "coordinator"  # a platform administrator
    return membership.role.value


def front_page(user: User, tenant, today: date) -> FrontPage:
    role = role_of(user, tenant)
    page = FrontPage(role, today, values_view(user, tenant), PANELS.get(role, ()))
    for name in page.panels:
        page.data.update(GATHER[name](user, tenant, page))
    return page


def _windowed(stmt, limit: int = SHOWN) -> Panel:
    """The first ``limit`` rows of ``stmt`` and their total, in one query."""
    rows = db.session.execute(stmt.add_columns(func.count().over()).limit(limit)).all()
    if not rows:
        return Panel()
    return Panel([row[:-1] if len(row) > 2 else row[0] for row in rows], rows[0][-1])


# --- coordinators ------------------------------------------------------------------------


def _programmes(user, tenant, page: FrontPage) -> dict:
    """The programmes running or to come, soonest ending first, with their progress."""
    panel = _windowed(programmes_ending_from(programmes_query(today=page.today), page.today))
    found = progress.programmes_progress([p.id for p, _n in panel.items])
    panel.items = [(p, n, found[p.id]) for p, n in panel.items]
    return {"programmes": panel}


def programmes_ending_from(stmt, today: date):
    """Running or to come, soonest ending first (the panel, and the scopes it reads)."""
    stmt = stmt.where(Programme.end_date >= today).order_by(None)
    return stmt.order_by(Programme.end_date, Programme.id)


def _workshops(user, tenant, page: FrontPage) -> dict:
    panel = _windowed(workshops_query(page.today, "upcoming"))
    seats = registered_counts([w.id for w, _name in panel.items])
    panel.items = [(w, name, seats.get(w.id, 0)) for w, name in panel.items]
    return {"workshops": panel}


def _overdue(user, tenant, page: FrontPage) -> dict:
    """Overdue actions by cluster (individual plans) and of joint plans, most first: from
    the kept open actions per plan and due date (``portal.plans.figures``), not the actions."""
    count = func.sum(OpenDue.open)
    stmt = (
        select(Plan.cluster_id, Cluster.name, count)
        .join(Plan, Plan.id == OpenDue.plan_id)
        .outerjoin(Cluster, Cluster.id == Plan.cluster_id)
        .where(progress.overdue_before(page.today))
        .group_by(Plan.cluster_id, Cluster.name)
        .order_by(count.desc(), Cluster.name)
    )
    rows = db.session.execute(
        stmt.add_columns(func.sum(count).over(), func.count().over()).limit(SHOWN + 1)
    ).all()
    panel = Panel([(cid, name, n) for cid, name, n, _all, _groups in rows])
    panel.total = int(rows[0][3]) if rows else 0
    return {"overdue": panel, "overdue_groups": rows[0][4] if rows else 0}


def _lapsing(user, tenant, page: FrontPage) -> dict:
    """Labels lapsing within ``LAPSING_MONTHS`` with no renewal planned (the label risk list:
    of the clusters whose values the viewer sees)."""
    found = calendar_data.region_risks(
        page.values,
        label_services.current_schemes(tenant.id),
        page.today,
        add_months(page.today, LAPSING_MONTHS),
        "no_renewal",
    )
    return {"lapsing": Panel(found.rows(0, SHOWN), len(found)), "lapsing_hidden": found.hidden}


def _seat_requests(user, tenant, page: FrontPage) -> Panel:
    if not may(user, "workshop.manage", tenant):
        return Panel()
    return _windowed(
        select(SeatRequest, Workshop, User)
        .join(Workshop, Workshop.id == SeatRequest.workshop_id)
        .join(User, User.id == SeatRequest.user_id)
        .where(SeatRequest.status == SeatRequestStatus.PENDING)
        .order_by(Workshop.day, SeatRequest.requested_at, SeatRequest.id)
    )


def _rounds(user, tenant, page: FrontPage) -> dict:
    """Benchmarkings and audits not yet confirmed (drafts), oldest first: for who may confirm
    them (assessors, coordinators); only clusters whose workings the policy shows."""
    if not may(user, "round.assess", tenant) or not page.values.workings_all:
        return {"rounds": Panel()}
    return {
        "rounds": _windowed(
            select(BenchmarkRound, Cluster)
            .join(Cluster, Cluster.id == BenchmarkRound.cluster_id)
            .where(
                BenchmarkRound.confirmed_at.is_(None),
                BenchmarkRound.kind != RoundKind.SELF_ASSESSMENT,
            )
            .order_by(BenchmarkRound.held_on, BenchmarkRound.id)
        )
    }


def _imports(user, tenant, page: FrontPage) -> dict:
    """The user's own checked uploads not confirmed yet (only the uploader may confirm)."""
    panel = _windowed(
        select(PendingImport)
        .where(
            PendingImport.user_id == user.id,
            PendingImport.checked.is_(True),  # one a job still checks is on the job's page
            PendingImport.confirmed_at.is_(None),
            PendingImport.expires_at > datetime.now(UTC),
        )
        .order_by(PendingImport.created_at.desc(), PendingImport.id.desc())
    )
    if panel.items:  # the kept page must not list them once they can no longer be confirmed
        keep_page_until(min(p.expires_at for p in panel.items))
    # A file a job checked is confirmed on the job's page.
    jobs = (
        dict(
            db.session.execute(
                select(ImportJob.pending_id, ImportJob.id).where(
                    ImportJob.pending_id.in_([p.id for p in panel.items])
                )
            ).all()
        )
        if panel.items
        else {}
    )
    panel.items = [
        (
            p,
            url_for("import_jobs.show", job_id=jobs[p.id])
            if p.id in jobs
            else page_of(p.kind, p.target),
        )
        for p in panel.items
    ]
    return {"imports": panel}


def _waiting(user, tenant, page: FrontPage) -> dict:
    return (
        {"seat_requests": _seat_requests(user, tenant, page)}
        | _rounds(user, tenant, page)
        | _imports(user, tenant, page)
    )


def _activity(user, tenant, page: FrontPage) -> dict:
    """The region's newest changes, in words (portal.audit.words): for who reads the audit log."""
    if not may(user, "tenant.audit", tenant):
        return {"activity": Panel()}
    entries = db.session.scalars(
        tenant_entries_query(tenant.id)
        .where(AuditEntry.action.in_(CHANGE_ACTIONS))
        # Things people know by name (actions, workshops, labels), not the rows that link
        # them (an action's indicators and clusters), which the audit log still lists.
        .where(AuditEntry.object_type.in_([t for t, _name in object_types()]))
        .limit(ACTIVITY_SHOWN)
    ).all()
    words = describe(entries)
    return {"activity": Panel(words, len(words))}


# --- cluster managers and members -----------------------------------------------------------


def _own_cluster_ids(user, tenant) -> list[int]:
    membership = membership_for(user, tenant)
    return sorted(membership.cluster_ids) if membership is not None else []


def _plans(user, tenant, page: FrontPage) -> dict:
    ids = _own_cluster_ids(user, tenant)
    if not ids:
        return {"plans": Panel()}
    panel = _windowed(
        select(Plan)
        .options(joinedload(Plan.cluster))
        .where(Plan.cluster_id.in_(ids))
        .order_by(Plan.end_date.desc(), Plan.id.desc())
    )
    found = progress.plans_progress([p.id for p in panel.items])
    panel.items = [(p, found[p.id]) for p in panel.items]
    return {"plans": panel}


def _work(user, tenant, page: FrontPage) -> dict:
    work: MyWork = my_work(user.id, page.today, per_page=1, listed=SHOWN)
    return {"work": work}


def _label_steps(user, tenant, page: FrontPage) -> dict:
    """Each own cluster's next label step per scheme (the label calendar, as the path to the
    next label computes it), for the clusters whose values the policy shows the viewer."""
    ids = [cid for cid in _own_cluster_ids(user, tenant) if page.values.sees(cid)]
    schemes = label_services.current_schemes(tenant.id)
    if not ids or not schemes:
        return {"label_steps": []}
    clusters = {c.id: c for c in db.session.scalars(select(Cluster).where(Cluster.id.in_(ids)))}
    steps = []
    for cluster_id, found in sorted(calendar_data.calendars(ids, schemes, page.today).items()):
        for calendar in found:
            nxt = next((d for d in calendar.levels if d.level.id == calendar.next_level), None)
            lapsing = sorted((d for d in calendar.held if not d.covered), key=lambda d: d.renew_by)
            first = lapsing[0] if lapsing else None
            steps.append(
                LabelStep(
                    clusters[cluster_id],
                    calendar.scheme,
                    nxt.level if nxt else None,
                    nxt.earliest if nxt else None,
                    len(nxt.unmet) if nxt else 0,
                    first.level if first else None,
                    first.renew_by if first else None,
                    bool(first and first.renewal),
                    bool(nxt and nxt.eligible),
                )
            )
    steps.sort(key=lambda s: (s.cluster.name.lower(), s.cluster.id, s.scheme.id))
    return {"label_steps": steps}


def _invited(user, tenant, page: FrontPage) -> dict:
    """Upcoming workshops the user is invited to (in person or through a cluster), with the
    user's registration if any."""
    clusters = (
        select(MembershipCluster.cluster_id)
        .join(Membership, Membership.id == MembershipCluster.membership_id)
        .where(Membership.user_id == user.id)
    )
    invited = select(WorkshopInvite.workshop_id).where(
        or_(WorkshopInvite.user_id == user.id, WorkshopInvite.cluster_id.in_(clusters))
    )
    return {
        "invited": _windowed(
            select(Workshop, Registration.status)
            .outerjoin(
                Registration,
                and_(Registration.workshop_id == Workshop.id, Registration.user_id == user.id),
            )
            .where(
                Workshop.day >= page.today,
                Workshop.cancelled_at.is_(None),
                Workshop.id.in_(invited),
            )
            .order_by(Workshop.day, Workshop.start_time, Workshop.id)
        )
    }


# --- observers and assessors -----------------------------------------------------------------


def _register(user, tenant, page: FrontPage) -> dict:
    """Labels held today, soonest lapsing first: public in the region (no scores here)."""
    return {
        "register": _windowed(
            select(Label)
            .options(joinedload(Label.cluster))
            .where(Label.awarded_on <= page.today, Label.expires_on >= page.today)
            .order_by(Label.expires_on, Label.id)
        )
    }


def _planned(user, tenant, page: FrontPage) -> dict:
    """Assessments clusters planned from today on (an assessor's coming work)."""
    if not page.values.sees_all:
        return {"planned": Panel()}
    return {
        "planned": _windowed(
            select(PlannedAssessment, Cluster)
            .join(Cluster, Cluster.id == PlannedAssessment.cluster_id)
            .where(PlannedAssessment.planned_on >= page.today)
            .order_by(PlannedAssessment.planned_on, PlannedAssessment.id)
        )
    }


def _clusters(user, tenant, page: FrontPage) -> dict:
    """The forum's clusters by name, with their member counts (the full list links on)."""
    rows = db.session.execute(clusters_with_counts().limit(CLUSTERS_SHOWN)).all()
    return {"clusters": Panel([tuple(row) for row in rows], len(rows))}


GATHER = {
    "clusters": _clusters,
    "programmes": _programmes,
    "workshops": _workshops,
    "overdue": _overdue,
    "lapsing": _lapsing,
    "waiting": _waiting,
    "activity": _activity,
    "plans": _plans,
    "work": _work,
    "label_steps": _label_steps,
    "invited": _invited,
    "register": _register,
    "rounds": _rounds,
    "planned": _planned,
    "imports": _imports,
}
