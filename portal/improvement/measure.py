"""Measuring work on indicators from the region's confirmed rounds, for one viewer: what the
plan, action, cluster and programme pages (and plugins, through the toolkit) show.

The arithmetic is :mod:`portal.improvement.effect`; this module loads what it needs in bulk
(one query per indicator set version for the values, one for the region's work on the same
indicators) and asks the privacy policy (``values_view``) what the viewer may see.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select

from portal.benchmarking.models import BenchmarkRound, IndicatorValue
from portal.extensions import db
from portal.improvement.effect import Effect, Window, effect
from portal.improvement.work import IndicatorKey, IndicatorWork, region_work
from portal.keeps import Keep
from portal.labels.scheme import exact

# (tenant, rounds fingerprint, keys) -> values
ROUND_VALUES = Keep("portal_round_values", at_most=16)
# Per kept set of values: the newest values up to (or first after) a day, by (key, day, side).
# A region's work starts and ends on a few hundred distinct days, so the pages measuring it
# ask again and again; each entry is at most one value per cluster.
SLICES_AT_MOST = 2048


def round_values(tenant_id: int, keys: Iterable[IndicatorKey]) -> RoundValues:
    """The values of ``keys`` in the region's confirmed rounds, kept by the process until a
    round of the region is added, changed (its values too) or deleted: the rounds'
    fingerprint is one query, loading them one per set version (a programme's summary at 500
    clusters: 62,000 values, a third of its render)."""
    from portal.benchmarking.comparisons import rounds_fingerprint

    key = (tenant_id, rounds_fingerprint(), frozenset(keys))
    return ROUND_VALUES.get_or_make(key, lambda: RoundValues(key[2]))


class RoundValues:
    """The values of some indicators in every confirmed round of the region (benchmarkings
    and audits; never a self-assessment or a draft): one query per set version."""

    def __init__(self, keys: Iterable[IndicatorKey]):
        self._slices: dict[tuple, dict[int, Decimal]] = {}
        # (set, version) -> cluster -> [(held_on, round id, {indicator: value})], oldest first
        self._rounds: dict[tuple[str, str], dict[int, list]] = {}
        self._days: dict[tuple[str, str], dict[int, list[date]]] = {}
        wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
        for indicator_set, version, indicator_id in keys:
            wanted[(indicator_set, version)].add(indicator_id)
        for (indicator_set, version), ids in sorted(wanted.items()):
            rows = db.session.execute(
                select(
                    BenchmarkRound.id,
                    BenchmarkRound.cluster_id,
                    BenchmarkRound.held_on,
                    IndicatorValue.indicator_id,
                    IndicatorValue.value,
                )
                .outerjoin(
                    IndicatorValue,
                    and_(
                        IndicatorValue.round_id == BenchmarkRound.id,
                        IndicatorValue.indicator_id.in_(sorted(ids)),
                    ),
                )
                .where(
                    BenchmarkRound.indicator_set == indicator_set,
                    BenchmarkRound.set_version == version,
                    BenchmarkRound.counts_as_evidence(),
                )
                .order_by(BenchmarkRound.cluster_id, BenchmarkRound.held_on, BenchmarkRound.id)
            )
            clusters: dict[int, list] = defaultdict(list)
            for round_id, cluster_id, held_on, indicator_id, value in rows:
                rounds = clusters[cluster_id]
                if not rounds or rounds[-1][1] != round_id:
                    rounds.append((held_on, round_id, {}))
                if indicator_id is not None and value is not None:
                    rounds[-1][2][indicator_id] = exact(value)
            self._rounds[(indicator_set, version)] = dict(clusters)
            self._days[(indicator_set, version)] = {
                c: [r[0] for r in rounds] for c, rounds in clusters.items()
            }

    def clusters(self, key: IndicatorKey) -> list[int]:
        return sorted(self._rounds.get(key[:2], {}))

    def history(self, key: IndicatorKey, cluster_id: int) -> list[tuple[date, Decimal | None]]:
        """The cluster's value in each of its rounds, oldest first."""
        rounds = self._rounds.get(key[:2], {}).get(cluster_id, [])
        return [(held_on, values.get(key[2])) for held_on, _id, values in rounds]

    def before(self, key: IndicatorKey, day: date) -> dict[int, Decimal]:
        """Each cluster's value in its newest round up to ``day`` (when that round has one).
        The answer is shared: do not change it."""
        return self._slice(key, day, before=True)

    def after(self, key: IndicatorKey, day: date) -> dict[int, Decimal]:
        """Each cluster's value in its first round after ``day`` (when that round has one).
        The answer is shared: do not change it."""
        return self._slice(key, day, before=False)

    def _slice(self, key: IndicatorKey, day: date, *, before: bool) -> dict[int, Decimal]:
        memo = (key, day, before)
        found = self._slices.get(memo)
        if found is not None:
            return found
        found = {}
        days = self._days.get(key[:2], {})
        for cluster_id, rounds in self._rounds.get(key[:2], {}).items():
            at = bisect_right(days[cluster_id], day) - (1 if before else 0)
            if 0 <= at < len(rounds) and (value := rounds[at][2].get(key[2])) is not None:
                found[cluster_id] = value
        if len(self._slices) >= SLICES_AT_MOST:  # the oldest first (insertion order)
            self._slices.pop(next(iter(self._slices)), None)
        self._slices[memo] = found
        return found


@dataclass(frozen=True)
class Measured:
    work: IndicatorWork
    window: Window
    effect: Effect


class Measurer:
    """Effects of pieces of work for one viewer: ``measure(work)``. The region's other work
    on the same indicators is loaded once (the clusters doing it in the same window are
    left out of the others), and the values once per set version."""

    def __init__(
        self,
        tenant: Any,
        keys: Iterable[IndicatorKey],
        *,
        view: Any,
        today: date | None = None,
        work: list[IndicatorWork] | None = None,
    ):
        self.today = today or date.today()
        self.keys = sorted(set(keys))
        self.view = view
        self.work = work if work is not None else region_work(tenant, self.keys)
        self.values = round_values(tenant.id, self.keys)
        # Each piece with when it ran, worked out once (``measure`` compares every piece with
        # every other on its indicator).
        self._by_key: dict[IndicatorKey, list[tuple[IndicatorWork, tuple]]] = defaultdict(list)
        for piece in self.work:
            self._by_key[piece.key].append((piece, piece.ran()))

    def measure(self, piece: IndicatorWork) -> Measured:
        span = piece.window(self.today)
        if not span.over:
            return Measured(piece, span, effect(piece.key[2], span, {}, {}, set(), min_group=0))
        left_out = set(piece.left_early)
        for other, ran in self._by_key.get(piece.key, ()):
            if other.id == piece.id and other.kind == piece.kind:
                continue
            if span.overlaps(*ran):
                left_out |= other.clusters - piece.clusters
        return Measured(
            piece,
            span,
            effect(
                piece.key[2],
                span,
                self.values.before(piece.key, span.before_day),
                self.values.after(piece.key, span.after_day),
                set(piece.clusters),
                min_group=self.view.min_group,
                left_out=left_out,
                sees=self.view.sees,
            ),
        )
