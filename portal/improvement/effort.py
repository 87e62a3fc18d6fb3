"""What clusters really spend on their own actions on an indicator, the *measured baseline*
of going alone: pure functions (no database, no Flask), exact decimals.

What counts (the pages say the same):

* a cluster's own actions: the actions of individual plans (never a joint plan's, never a
  joint action), *done*, with a spent figure in that unit (money in the region's currency,
  or hours; an action with spent hours and no spent money counts for hours only), aimed at
  any of the indicators asked about (an action aimed at two of them counts once);
* per cluster per action: an action several clusters share counts its spending split
  equally among them, so the baseline's figure is the total spent divided by the
  (action, cluster) pairs;
* privacy: a region's own figures count when they cover at least the privacy policy's
  smallest group of clusters, or the viewer may see each of those clusters; another
  region's figures count only where that region publishes them, and only as an aggregate
  over at least its smallest group (and the reader's) of clusters;
* *basis*: "region" (this region's figures), "published" (this region's, where they count,
  with the published regions'), else "none": the joint actions then fall back to the
  clusters' own estimates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

IndicatorKey = tuple[str, str, str]
UNITS = ("money", "hours")
REGION, PUBLISHED, NONE = "region", "published", "none"
ZERO = Decimal(0)


@dataclass(frozen=True)
class SpentAction:
    """One of a cluster's own actions, as the baseline reads it."""

    id: int
    clusters: frozenset[int]
    status: str
    money: Decimal | None  # spent; None: no figure
    hours: Decimal | None
    keys: frozenset[IndicatorKey]

    def spent(self, unit: str) -> Decimal | None:
        return self.money if unit == "money" else self.hours


@dataclass(frozen=True)
class Tally:
    """Spending on own actions, summed: ``actions`` actions of ``clusters`` clusters, with
    ``pairs`` (action, cluster) pairs and ``total`` spent."""

    actions: int = 0
    clusters: int = 0
    pairs: int = 0
    total: Decimal = ZERO
    regions: int = 0  # other regions whose published figures are in it
    cluster_ids: frozenset[int] = field(default=frozenset(), compare=False)

    @property
    def per_cluster(self) -> Decimal | None:
        """What one cluster spent on one action, on average (None without any)."""
        return self.total / self.pairs if self.pairs else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.actions + other.actions,
            self.clusters + other.clusters,
            self.pairs + other.pairs,
            self.total + other.total,
            self.regions + other.regions,
            self.cluster_ids | other.cluster_ids,
        )


NOTHING = Tally()


@dataclass(frozen=True)
class Published:
    """Another region's aggregate for one indicator, and that region's smallest group."""

    region_id: int
    key: IndicatorKey
    tally: Tally
    min_group: int


def _counted(
    actions: Iterable[SpentAction], keys: Iterable[IndicatorKey], unit: str
) -> list[tuple[SpentAction, Decimal]]:
    """The actions that count, each once (the first listing of an id), with what it cost."""
    wanted = set(keys)
    seen: set[int] = set()
    found = []
    for action in actions:
        if action.id in seen:
            continue
        seen.add(action.id)
        spent = action.spent(unit)
        counts = action.status == "done" and spent is not None and action.clusters
        if counts and action.keys & wanted:
            found.append((action, Decimal(spent)))
    return found


def costs(
    actions: Iterable[SpentAction], keys: Iterable[IndicatorKey], unit: str
) -> list[tuple[int, int, Decimal]]:
    """``(action id, cluster id, cost)`` per cluster per counted action (see the module)."""
    return [
        (action.id, c, spent / len(action.clusters))
        for action, spent in _counted(actions, keys, unit)
        for c in sorted(action.clusters)
    ]


def tally(actions: Iterable[SpentAction], keys: Iterable[IndicatorKey], unit: str) -> Tally:
    """The region's own spending on ``keys`` in ``unit``, summed."""
    counted = _counted(actions, keys, unit)
    if not counted:
        return NOTHING
    clusters = frozenset(c for action, _spent in counted for c in action.clusters)
    return Tally(
        len(counted),
        len(clusters),
        sum(len(action.clusters) for action, _spent in counted),
        sum((spent for _action, spent in counted), ZERO),
        0,
        clusters,
    )


@dataclass(frozen=True)
class Baseline:
    """The measured baseline of one unit for some indicators, and where it comes from."""

    unit: str
    basis: str  # REGION, PUBLISHED or NONE
    tally: Tally = NOTHING

    @property
    def per_cluster(self) -> Decimal | None:
        return self.tally.per_cluster if self.basis != NONE else None


def group_counts(own: Tally, *, min_group: int, sees: Callable[[int], bool] | None = None) -> bool:
    """Whether the region's own figures may count: the policy's group rule."""
    if not own.pairs:
        return False
    if own.clusters >= min_group:
        return True
    return sees is not None and bool(own.cluster_ids) and all(sees(c) for c in own.cluster_ids)


def baseline(
    unit: str,
    own: Tally,
    published: Iterable[Published] = (),
    *,
    keys: Iterable[IndicatorKey] = (),
    min_group: int,
    sees: Callable[[int], bool] | None = None,
) -> Baseline:
    """The baseline for ``keys`` from the region's own tally and other regions' published
    aggregates (each counted only when it covers the larger of both smallest groups)."""
    wanted = set(keys)
    others = NOTHING
    regions: set[int] = set()
    for found in published:
        if found.key not in wanted or not found.tally.pairs:
            continue
        if found.tally.clusters < max(found.min_group, min_group):
            continue
        others = others + found.tally
        regions.add(found.region_id)
    counted = own if group_counts(own, min_group=min_group, sees=sees) else NOTHING
    if others.pairs:
        both = counted + others
        return Baseline(unit, PUBLISHED, _with_regions(both, len(regions)))
    if counted.pairs:
        return Baseline(unit, REGION, counted)
    return Baseline(unit, NONE)


def _with_regions(found: Tally, regions: int) -> Tally:
    return Tally(
        found.actions, found.clusters, found.pairs, found.total, regions, found.cluster_ids
    )
