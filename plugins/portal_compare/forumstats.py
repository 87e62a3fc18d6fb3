"""The forum's statistics of one indicator set version, worked out once and kept between
requests.

The scorecard of 500 clusters by 31 indicators aggregates 15,500 values; doing that on every
request is the bulk of the page's time. ``forum_stats`` keeps the result under a key that
changes whenever the data does: the tenant, the set version, the rounds' fingerprint
(``rounds_fingerprint``: count, newest id, newest change) and the clusters' fingerprint (a
renamed cluster changes its rows). It is computed once per change for every worker and host
(the core's ``shared_value``: Redis or the database, add-if-absent, one worker computes while
the others wait) and kept in a small in-process LRU in front. A stale entry is never served;
an old one just falls out of the LRU and expires in the shared store.

The entries hold every cluster of the forum, before privacy: who sees which rows, whether
names are shown and which aggregates are too small to show are applied per request by the
kinds (``portal_compare.kinds``), so one entry serves every viewer.

Which round of a cluster counts: its newest *full* round of the version (a value for every
indicator); a newer partial round does not replace it, it is kept in ``newer_partial`` for the
page to show marked. A cluster with partial rounds only counts with its newest one, marked
partial, and each indicator's aggregate counts the clusters with a value for it. Clusters are
numbered by their stable pseudonyms (``cluster_pseudonyms``), never by name or entry order.

``read_page_state`` reads what the pages' ETags and the cache key need in two queries: one for the
plugin's own rows (settings, reference portfolios) and the clusters, one for the rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from flask import g, has_app_context
from sqlalchemy import Integer, bindparam, func, or_, select

from portal.toolkit import (
    Cluster,
    Coverage,
    ForumRounds,
    Keep,
    cluster_pseudonyms,
    db,
    forum_rounds,
    rounds_fingerprint,
    shared_key,
    shared_value,
    unscoped,
)
from portal_compare.models import ReferencePortfolio
from portal_compare.stats import Summary, position, summarise

# Per process: (figure, tenant, set version, clusters, rounds) -> figure; ~1 MB at 500 clusters.
_KEPT = Keep("portal_compare_stats", at_most=16)
T = TypeVar("T")


# --- what changed -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageState:
    """What the comparison pages depend on besides the options and the viewer's privacy
    decision (the core's policy, in each page's key): a fingerprint of the reference
    portfolios the region may pick, of its clusters and of its rounds."""

    references: tuple
    clusters: tuple
    rounds: str

    @property
    def key(self) -> tuple:
        return (
            self.references,
            self.clusters,
            self.rounds,
        )


def _state_statement():
    """One statement for the usable reference portfolios and the clusters of the tenant
    ``:tenant``; built once (it runs on every visit, a revisit too)."""
    tenant = bindparam("tenant", type_=Integer)

    usable = or_(ReferencePortfolio.tenant_id == tenant, ReferencePortfolio.published.is_(True))

    def references(column):
        return select(column).where(usable).scalar_subquery()

    def clusters(column):
        return select(column).where(Cluster.tenant_id == tenant).scalar_subquery()

    return select(
        references(func.count(ReferencePortfolio.id)),
        references(func.sum(ReferencePortfolio.id)),
        references(func.max(ReferencePortfolio.updated_at)),
        clusters(func.count(Cluster.id)),
        clusters(func.max(Cluster.id)),
        clusters(func.max(Cluster.updated_at)),
    )


_STATE = None


def read_page_state(tenant_id: int) -> PageState:
    """Two queries, whatever the size of the forum."""
    global _STATE
    if _STATE is None:
        _STATE = _state_statement()
    # Other regions' published portfolios count too; every part names its tenant itself.
    with unscoped():
        row = db.session.execute(_STATE, {"tenant": tenant_id}).one()
    return PageState(tuple(row[0:3]), tuple(row[3:6]), rounds_fingerprint())


def remembered_state(tenant_id: int) -> PageState | None:
    """The state a page read for its ETag and keeps while it computes (``remember_state``)."""
    remembered = g.get("compare_state") if has_app_context() else None
    if remembered is not None and remembered[0] == tenant_id:
        return remembered[1]
    return None


def remember_state(tenant_id: int, state: PageState | None) -> None:
    """A page keeps the state it read for its ETag while it computes (None forgets it)."""
    if state is None:
        g.pop("compare_state", None)
    else:
        g.compare_state = (tenant_id, state)


# --- the statistics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ForumRound:
    """One cluster's counted round, its values in the set's order of indicators."""

    cluster_id: int
    cluster_name: str
    round_id: int
    held_on: date
    cells: tuple[tuple[float, str] | None, ...]
    coverage: Coverage

    @property
    def partial(self) -> bool:
        return self.coverage.partial


@dataclass
class ForumStats:
    """Every cluster's counted round of a set version (``forum_rounds``: the newest full
    one, else the newest partial one) and what is worked out from them."""

    rounds: list[ForumRound]  # by cluster name
    numbered: list[int]  # indexes into ``rounds`` in the order of the clusters' numbers
    numbers: dict[int, int]  # cluster id -> its stable pseudonym ("Cluster 417")
    summaries: dict[str, Summary | None]  # per indicator, every cluster (before suppression)
    scores: dict[str | None, list[float]]  # per group (None: every indicator), per round
    # Newer partial rounds a full one is counted instead of (by cluster name).
    newer_partial: list[ForumRound] = field(default_factory=list)
    _orders: dict[tuple, list[int]] = field(default_factory=dict)
    # Drawings that depend on nothing but these statistics and the language (the charts').
    drawings: dict[tuple, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.rounds)

    @property
    def partial_count(self) -> int:
        """How many of the counted rounds are partial (clusters without a full round)."""
        return sum(1 for r in self.rounds if r.partial)

    def order(self, sort: str, by_name: bool) -> list[int]:
        """Indexes into ``rounds`` in a sort's order ("name", "score", "-group:<id>"...):
        ties keep the base order, by name or (``by_name`` False) by number."""
        key = (sort, by_name)
        found = self._orders.get(key)
        if found is None:
            base = list(range(len(self.rounds))) if by_name else list(self.numbered)
            if sort != "name":
                plain = sort.removeprefix("-")
                group = plain.removeprefix("group:") if plain.startswith("group:") else None
                scores = self.scores.get(group) or [0.0] * len(self.rounds)
                base.sort(key=scores.__getitem__, reverse=sort.startswith("-"))
            found = self._orders[key] = base
        return found


def _forum_round(indicator_set, ids: list[str], r) -> ForumRound:
    return ForumRound(
        r.cluster_id,
        r.cluster_name,
        r.round_id,
        r.held_on,
        tuple(r.values.get(i) for i in ids),
        indicator_set.coverage(r.values),
    )


def compute(indicator_set, rounds: ForumRounds, numbers: dict[int, int]) -> ForumStats:
    """The statistics of ``rounds`` (``forum_rounds``: one counted round per cluster, by
    name); ``numbers`` are the clusters' pseudonyms (``cluster_pseudonyms``)."""
    indicators = list(indicator_set.indicators)
    ids = [i.id for i in indicators]
    forum = [_forum_round(indicator_set, ids, r) for r in rounds.counted]
    newer = [_forum_round(indicator_set, ids, r) for r in rounds.newer_partial]
    numbered = sorted(range(len(forum)), key=lambda n: numbers.get(forum[n].cluster_id, 0))
    summaries: dict[str, Summary | None] = {}
    for column, indicator in enumerate(indicators):
        present = [row.cells[column] for row in forum if row.cells[column] is not None]
        summaries[indicator.id] = summarise(
            [value for value, _light in present], [light for _value, light in present]
        )
    groups = [None, *dict.fromkeys(i.group for i in indicators)]
    scales = [(i.minimum, i.maximum, i.higher_is_better, i.group) for i in indicators]
    scores: dict[str | None, list[float]] = {group: [] for group in groups}
    for row in forum:
        sums = dict.fromkeys(groups, 0.0)
        counts = dict.fromkeys(groups, 0)
        for cell, (low, high, up, group) in zip(row.cells, scales, strict=True):
            if cell is None:
                continue
            at = position(cell[0], low, high, up)
            sums[None] += at
            counts[None] += 1
            sums[group] += at
            counts[group] += 1
        for group in groups:
            scores[group].append(sums[group] / counts[group] if counts[group] else 0.0)
    return ForumStats(forum, numbered, dict(numbers), summaries, scores, newer)


def forum_stats(tenant_id: int, indicator_set, loader=None) -> ForumStats:
    """The forum's statistics of the set version: from the cache while nothing changed, when
    a page read the state (``remember_state``); else (other callers) computed afresh.
    ``loader(indicator_set)`` answers the rounds (``forum_rounds`` by default)."""
    return kept_while_unchanged(
        tenant_id,
        "forum",
        (indicator_set.id, indicator_set.version, _name(loader)),
        lambda: _compute(tenant_id, indicator_set, loader),
    )


def kept_while_unchanged(tenant_id: int, name: str, parts: tuple, compute: Callable[[], T]) -> T:
    """A figure worked out from the region's rounds and clusters alone (``name`` and
    ``parts`` say which, e.g. the set version), kept while neither changes: in this process's
    LRU and, computed once per change for every worker and host, in the core's
    ``shared_value`` (Redis or the database). Only when a page read the state
    (``remember_state``), which is read before the rounds, so an entry is never older than its
    key; otherwise computed afresh. What ``compute`` answers must not depend on the viewer:
    the privacy policy is applied per request, after."""
    state = remembered_state(tenant_id)
    if state is None:
        return compute()
    key = (name, tenant_id, *parts, state.clusters, state.rounds)
    return _KEPT.get_or_make(
        key, lambda: shared_value(shared_key(f"compare:{name}:{tenant_id}", *key), compute)
    )


def _compute(tenant_id: int, indicator_set, loader) -> ForumStats:
    rounds = (loader or forum_rounds)(indicator_set)
    return compute(indicator_set, rounds, cluster_pseudonyms(tenant_id))


def _name(loader) -> str:
    """Which loader worked the rounds out (part of the shared key)."""
    loader = loader or forum_rounds
    return f"{getattr(loader, '__module__', '')}.{getattr(loader, '__qualname__', '')}"
