"""The one policy on benchmark values: who sees which cluster's own values, and which
aggregates may be shown. Every page, export, report, API endpoint and plugin asks here
(plugins through ``portal.toolkit.values_view``); none decides on its own.

The rules (../shared/domain.md, "Who sees a cluster's benchmark values"):

* A cluster's own values (its rounds and lights, scores, label-rule reasons that quote
  values, evidence, exports and printable reports) are seen by its cluster managers and
  members, the region's coordinators and assessors, and the platform's administrators.
* Everyone else sees aggregates only, and only of groups of at least the region's minimum
  (``Tenant.values_min_group``), so that no single cluster can be recognised.
* Two recorded choices widen the circle (``ValuesSharing``, with who and when): the region
  shares named values inside the forum (its managers and members then see every cluster's
  values), and a cluster shares its own report with the region's observers (funders).
* The wider circles (a forum share, an observers share) see a cluster's evidence only: its
  confirmed benchmarkings and audits. Its workings (self-assessments, drafts, who entered
  what and the corrections' history) stay with its own circle: its managers and members,
  the coordinators, assessors and administrators (``sees_workings``).
* Names in forum comparisons: coordinators see them where the region chose so
  (``Tenant.values_names_shown``), everyone in the forum while named values are shared;
  assessors benchmark, they never see names in comparisons.

A viewer's decision is computed once per request; the sharing choices are kept across
reading requests by the region's data version, which every choice renews.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.keeps import Keep, reading_request

MIN_GROUP_LOW, MIN_GROUP_HIGH, DEFAULT_MIN_GROUP = 3, 50, 5
SEES_ALL_ROLES = frozenset({Role.COORDINATOR, Role.ASSESSOR})
FORUM_ROLES = frozenset({Role.COORDINATOR, Role.ASSESSOR, Role.CLUSTER_MANAGER, Role.MEMBER})
SHARING = Keep("portal_values_sharing", at_most=1000)  # (tenant, region) -> SharingState


@dataclass(frozen=True)
class SharingState:
    """The choices in force in a region."""

    forum: bool = False
    observer_clusters: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ValuesView:
    """What one viewer may see of a region's benchmark values."""

    tenant_id: int
    sees_all: bool  # every cluster's own values
    visible_cluster_ids: frozenset[int]  # besides ``sees_all``: whose own values
    own_cluster_ids: frozenset[int]  # the viewer's own clusters (managers and members)
    min_group: int
    names_shown: bool  # other clusters named in forum comparisons
    forum_shared: bool = False
    workings_all: bool = False  # every cluster's workings (coordinators, assessors, admins)

    def sees(self, cluster_id: int | None) -> bool:
        """Whether the viewer may see this cluster's own values."""
        return self.sees_all or (cluster_id is not None and cluster_id in self.visible_cluster_ids)

    def sees_workings(self, cluster_id: int | None) -> bool:
        """Whether the viewer sees the cluster's workings (self-assessments, drafts, history)
        besides its evidence: its own circle does; a sharing choice shows evidence only."""
        if self.workings_all:
            return True
        return (
            cluster_id is not None and cluster_id in self.own_cluster_ids and self.sees(cluster_id)
        )

    def label_score(self, label: Any) -> Any:
        """A label's score, or None: the label is public, its score is the cluster's own
        value (the region's published register shows scores only when it publishes them)."""
        return label.score if self.sees(label.cluster_id) else None

    def group_shown(self, count: int) -> bool:
        """Whether an aggregate over ``count`` clusters may be shown to this viewer."""
        return count >= self.min_group

    @property
    def sees_any(self) -> bool:
        return self.sees_all or bool(self.visible_cluster_ids)

    @property
    def key(self) -> tuple:
        """The decision as a cache key: a page kept for one viewer may serve another only
        when their decisions are the same."""
        return (
            self.tenant_id,
            self.sees_all,
            tuple(sorted(self.visible_cluster_ids)),
            self.min_group,
            self.names_shown,
            self.workings_all,
            tuple(sorted(self.own_cluster_ids)),
        )


NOBODY = ValuesView(0, False, frozenset(), frozenset(), DEFAULT_MIN_GROUP, False)


def sharing_state(tenant: Any) -> SharingState:
    """The region's sharing choices in force: one query, none on a reading request whose
    region has not changed since they were read."""
    from portal.tenancy.versioning import region_mark

    reading = reading_request()
    key = (tenant.id, region_mark(tenant))
    kept = SHARING.get(key) if reading else None
    if kept is not None:
        return kept
    from portal.privacy.models import Audience, ValuesSharing
    from portal.tenancy.scope import tenant_scope

    with tenant_scope(tenant.id):
        rows = db.session.execute(
            select(ValuesSharing.audience, ValuesSharing.cluster_id).where(
                ValuesSharing.ended_at.is_(None)
            )
        ).all()
    state = SharingState(
        forum=any(audience == Audience.FORUM for audience, _c in rows),
        observer_clusters=frozenset(
            cluster_id
            for audience, cluster_id in rows
            if audience == Audience.OBSERVERS and cluster_id is not None
        ),
    )
    if reading:
        SHARING.put(key, state)
    return state


def values_view(user: Any, tenant: Any) -> ValuesView:
    """The viewer's decision in the region ``tenant`` (a Tenant): computed once a request."""
    if tenant is None:
        return NOBODY
    if user is None or not getattr(user, "is_authenticated", False):
        # Nobody signed in (a job, a mail): no cluster's values, the region's minimum.
        min_group = tenant.values_min_group or DEFAULT_MIN_GROUP
        return ValuesView(tenant.id, False, frozenset(), frozenset(), min_group, False)
    memo = g.setdefault("_values_views", {}) if has_request_context() else {}
    # The data version: a request that changes a setting or a choice sees its own change.
    key = (user.id, tenant.id, tenant.data_version)
    if key not in memo:
        memo[key] = _decide(user, tenant)
    return memo[key]


def _decide(user: Any, tenant: Any) -> ValuesView:
    from portal.permissions import membership_for

    min_group = tenant.values_min_group or DEFAULT_MIN_GROUP
    if not user.is_active:
        return ValuesView(tenant.id, False, frozenset(), frozenset(), min_group, False)
    state = sharing_state(tenant)
    membership = membership_for(user, tenant)
    role = membership.role if membership is not None else None
    own = frozenset(membership.cluster_ids) if membership is not None else frozenset()
    if user.is_platform_admin or role in SEES_ALL_ROLES:
        named = role != Role.ASSESSOR and (tenant.values_names_shown or state.forum)
        return ValuesView(
            tenant.id, True, frozenset(), own, min_group, named, state.forum, workings_all=True
        )
    if role in FORUM_ROLES and state.forum:
        return ValuesView(tenant.id, True, frozenset(), own, min_group, True, True)
    if role in (Role.CLUSTER_MANAGER, Role.MEMBER):
        return ValuesView(tenant.id, False, own, own, min_group, False, state.forum)
    if role == Role.OBSERVER:
        # An observer's clusters (if any) are no circle of theirs: shared reports only.
        shared = state.observer_clusters
        return ValuesView(tenant.id, False, shared, frozenset(), min_group, False, state.forum)
    return ValuesView(tenant.id, False, frozenset(), frozenset(), min_group, False)


def may_see_values(user: Any, obj: Any, *, workings: bool = False) -> bool:
    """Whether ``user`` may see the own values of the cluster ``obj`` is or belongs to
    (a Cluster, or anything with ``cluster_id`` and ``tenant_id``); with ``workings``, its
    self-assessments, drafts and history too."""
    from portal.clusters.models import Cluster
    from portal.tenancy.models import Tenant

    cluster_id = obj.id if isinstance(obj, Cluster) else getattr(obj, "cluster_id", None)
    tenant_id = getattr(obj, "tenant_id", None)
    if cluster_id is None or tenant_id is None:
        return False
    tenant = g.get("tenant") if has_request_context() else None
    if getattr(tenant, "id", None) != tenant_id:
        tenant = db.session.get(Tenant, tenant_id)
    view = values_view(user, tenant)
    return view.sees_workings(cluster_id) if workings else view.sees(cluster_id)


def rounds_clause(view: ValuesView) -> Any:
    """The SQL condition of the rounds whose values ``view`` may see (lists over many
    clusters, as :meth:`ValuesView.sees` and :meth:`ValuesView.sees_workings` decide one):
    every round of a cluster whose workings it sees; the evidence (confirmed benchmarkings
    and audits) of the other clusters it sees; nothing else."""
    from sqlalchemy import and_, or_, true

    from portal.benchmarking.models import BenchmarkRound

    if view.workings_all:
        return true()
    seen = (
        true() if view.sees_all else BenchmarkRound.cluster_id.in_(sorted(view.visible_cluster_ids))
    )
    own = sorted(c for c in view.own_cluster_ids if view.sees_workings(c))
    return or_(and_(seen, BenchmarkRound.counts_as_evidence()), BenchmarkRound.cluster_id.in_(own))


def round_shown(view: ValuesView, round_: Any) -> bool:
    """Whether ``view`` may see this round's values (the one-round case of
    :func:`rounds_clause`)."""
    if view.sees_workings(round_.cluster_id):
        return True
    return view.sees(round_.cluster_id) and round_.locked
