"""What comparison plugins read: rounds in bulk, and the comparison kinds plugins register.

Every loader here runs one query, whatever the number of clusters or rounds; the tenant
criteria of the session keep them inside the current tenant. They read what counts: confirmed
benchmarkings and audits (a self-assessment or a draft is the cluster's own working paper).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select

from portal.benchmarking.indicators import IndicatorSet
from portal.benchmarking.models import BenchmarkRound, IndicatorValue, RoundKind
from portal.clusters.models import Cluster
from portal.extensions import db


@dataclass(frozen=True)
class ClusterRound:
    """One round of one cluster with its values: indicator id -> (value, light)."""

    cluster_id: int
    cluster_name: str
    round_id: int
    held_on: date
    indicator_set: str
    set_version: str
    audit: bool
    values: dict[str, tuple[float, str]] = field(default_factory=dict)


def _collect(rows) -> list[ClusterRound]:
    rounds: dict[int, ClusterRound] = {}
    for row in rows:
        found = rounds.get(row.round_id)
        if found is None:
            found = rounds[row.round_id] = ClusterRound(
                row.cluster_id,
                row.cluster_name,
                row.round_id,
                row.held_on,
                row.indicator_set,
                row.set_version,
                row.kind == RoundKind.AUDIT,
                {},
            )
        if row.indicator_id is not None:
            found.values[row.indicator_id] = (row.value, row.light)
    return list(rounds.values())


def _round_rows(rounds_subquery):
    return (
        select(
            rounds_subquery.c.id.label("round_id"),
            rounds_subquery.c.cluster_id,
            Cluster.name.label("cluster_name"),
            rounds_subquery.c.held_on,
            rounds_subquery.c.indicator_set,
            rounds_subquery.c.set_version,
            rounds_subquery.c.kind,
            IndicatorValue.indicator_id,
            IndicatorValue.value,
            IndicatorValue.light,
        )
        .join(Cluster, Cluster.id == rounds_subquery.c.cluster_id)
        .outerjoin(IndicatorValue, IndicatorValue.round_id == rounds_subquery.c.id)
    )


def latest_rounds(
    indicator_set: str, set_version: str, *, on: date | None = None
) -> list[ClusterRound]:
    """The newest round of each cluster of the tenant in one set version (up to ``on``),
    ordered by cluster name: one query."""
    newest = func.row_number().over(
        partition_by=BenchmarkRound.cluster_id,
        order_by=(BenchmarkRound.held_on.desc(), BenchmarkRound.id.desc()),
    )
    ranked = select(BenchmarkRound, newest.label("rank")).where(
        BenchmarkRound.indicator_set == indicator_set,
        BenchmarkRound.set_version == set_version,
        BenchmarkRound.counts_as_evidence(),
    )
    if on is not None:
        ranked = ranked.where(BenchmarkRound.held_on <= on)
    ranked = ranked.subquery()
    latest = select(ranked).where(ranked.c.rank == 1).subquery()
    rows = db.session.execute(
        _round_rows(latest).order_by(Cluster.name, latest.c.id, IndicatorValue.indicator_id)
    )
    return _collect(rows)


@dataclass(frozen=True)
class ForumRounds:
    """What a forum comparison counts of each cluster (``forum_rounds``): ``counted``, one
    round per cluster by cluster name, and ``newer_partial``, the newer partial rounds a
    full one was counted instead of (by cluster name)."""

    counted: list[ClusterRound]
    newer_partial: list[ClusterRound]


def forum_rounds(indicator_set: IndicatorSet, *, on: date | None = None) -> ForumRounds:
    """Per cluster of the tenant, the round a forum comparison counts in one set version (up
    to ``on``): the newest *full* round (a value for every indicator of the version); a
    cluster without a full round counts with its newest (partial) round. A partial round
    never replaces an older full one silently: a newer partial round comes back in
    ``newer_partial``, for the page to show marked. One query."""
    ids = [i.id for i in indicator_set.indicators]
    covered = func.count(IndicatorValue.id).label("covered")
    base = (
        select(BenchmarkRound, covered)
        .outerjoin(
            IndicatorValue,
            (IndicatorValue.round_id == BenchmarkRound.id) & IndicatorValue.indicator_id.in_(ids),
        )
        .where(
            BenchmarkRound.indicator_set == indicator_set.id,
            BenchmarkRound.set_version == indicator_set.version,
            BenchmarkRound.counts_as_evidence(),
        )
        .group_by(BenchmarkRound.id)
    )
    if on is not None:
        base = base.where(BenchmarkRound.held_on <= on)
    base = base.subquery()
    newest_first = (base.c.held_on.desc(), base.c.id.desc())
    full_first = case((base.c.covered >= len(ids), 0), else_=1)
    ranked = select(
        base,
        func.row_number()
        .over(partition_by=base.c.cluster_id, order_by=(full_first, *newest_first))
        .label("counted_rank"),
        func.row_number()
        .over(partition_by=base.c.cluster_id, order_by=newest_first)
        .label("newest_rank"),
    ).subquery()
    chosen = (
        select(ranked).where((ranked.c.counted_rank == 1) | (ranked.c.newest_rank == 1)).subquery()
    )
    rows = db.session.execute(
        _round_rows(chosen)
        .add_columns(chosen.c.counted_rank)
        .order_by(Cluster.name, chosen.c.id, IndicatorValue.indicator_id)
    ).all()
    return ForumRounds(
        _collect(r for r in rows if r.counted_rank == 1),
        _collect(r for r in rows if r.counted_rank != 1),
    )


def first_rounds_after(indicator_set: str, set_version: str, after: date) -> list[ClusterRound]:
    """The first round of each cluster of the tenant in one set version held after ``after``:
    one query."""
    first = func.row_number().over(
        partition_by=BenchmarkRound.cluster_id,
        order_by=(BenchmarkRound.held_on, BenchmarkRound.id),
    )
    ranked = (
        select(BenchmarkRound, first.label("rank"))
        .where(
            BenchmarkRound.indicator_set == indicator_set,
            BenchmarkRound.set_version == set_version,
            BenchmarkRound.held_on > after,
            BenchmarkRound.counts_as_evidence(),
        )
        .subquery()
    )
    earliest = select(ranked).where(ranked.c.rank == 1).subquery()
    rows = db.session.execute(
        _round_rows(earliest).order_by(Cluster.name, earliest.c.id, IndicatorValue.indicator_id)
    )
    return _collect(rows)


def cluster_rounds(cluster_id: int, indicator_set: str | None = None) -> list[ClusterRound]:
    """Every round of one cluster (of one set, if given), oldest first: one query."""
    stmt = select(BenchmarkRound).where(
        BenchmarkRound.cluster_id == cluster_id, BenchmarkRound.counts_as_evidence()
    )
    if indicator_set is not None:
        stmt = stmt.where(BenchmarkRound.indicator_set == indicator_set)
    rounds = stmt.subquery()
    rows = db.session.execute(
        _round_rows(rounds).order_by(rounds.c.held_on, rounds.c.id, IndicatorValue.indicator_id)
    )
    return _collect(rows)


def round_days(indicator_set: str, set_version: str) -> list[tuple[int, date]]:
    """``(cluster id, day)`` of every round of the tenant in one set version, oldest first
    (when the forum was benchmarked, without the values): one query."""
    rows = db.session.execute(
        select(BenchmarkRound.cluster_id, BenchmarkRound.held_on)
        .where(
            BenchmarkRound.indicator_set == indicator_set,
            BenchmarkRound.set_version == set_version,
            BenchmarkRound.counts_as_evidence(),
        )
        .order_by(BenchmarkRound.held_on, BenchmarkRound.id)
    )
    return [(cluster_id, held_on) for cluster_id, held_on in rows]


def rounds_fingerprint() -> str:
    """Changes whenever a round of the tenant is added, changed or deleted (for ETags)."""
    count, last_id, last_change = db.session.execute(
        select(
            func.count(BenchmarkRound.id),
            func.max(BenchmarkRound.id),
            func.max(BenchmarkRound.updated_at),
        )
    ).one()
    return f"{count}-{last_id or 0}-{last_change.isoformat() if last_change else ''}"


# --- comparison kinds ---------------------------------------------------------------------


@dataclass
class ComparisonContext:
    """What a comparison is computed for. ``cluster`` is set for cluster comparisons.

    ``visible_cluster_ids`` are the clusters whose own values the viewer may see (all of them
    for coordinators); ``min_group`` is the smallest group whose aggregates may be shown;
    ``show_names`` says whether other clusters may be named."""

    tenant: Any
    user: Any
    indicator_set: IndicatorSet
    cluster: Any = None
    visible_cluster_ids: frozenset[int] = frozenset()
    sees_all: bool = False  # coordinators (and assessors): every cluster's own values
    min_group: int = 5
    show_names: bool = False
    locale: str = "en"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ComparisonKind:
    """A way to compare rounds. ``compute(context)`` answers any object the ``template`` (a
    fragment, rendered with ``result`` and ``context``) shows. ``scope`` is "cluster" (needs a
    cluster) or "forum"; ``indicator_sets`` limits it to some set ids (empty: any set)."""

    id: str
    title: Any
    compute: Callable[[ComparisonContext], Any]
    template: str
    scope: str = "cluster"
    indicator_sets: tuple[str, ...] = ()
    order: int = 100
    coordinators_only: bool = False

    def works_on(self, indicator_set: IndicatorSet) -> bool:
        return not self.indicator_sets or indicator_set.id in self.indicator_sets


def comparison_kinds(tenant_id: int) -> list[ComparisonKind]:
    """The kinds the plugins switched on for the tenant register, in their order."""
    host = current_app.extensions["portal_plugins"]
    kinds = {}
    for _plugin, items in host.call_named("comparison_kinds", tenant_id=tenant_id):
        for kind in items or ():
            kinds.setdefault(kind.id, kind)
    return sorted(kinds.values(), key=lambda k: (k.order, k.id))
