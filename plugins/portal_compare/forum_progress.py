"""The forum over time: pure functions (no database, no Flask) over rounds and values.

* A *coordinated benchmarking* (a wave) is a calendar month in which at least ``min_clusters``
  clusters of the forum were benchmarked in the set version (the region's smallest group:
  fewer could not be shown anyway); neighbouring such months are one wave (a benchmarking
  that ran over a month's end).
* Between two waves each indicator is compared over the clusters benchmarked in both (the
  same clusters before and after, so a cluster joining or leaving does not move the
  figures): the median and the share of red, yellow and green lights in each wave, exact
  decimals. An indicator *improved* when its median moved the good way (its direction,
  "higher is better" or not), or, with the median unchanged, when the green share grew
  (for the direction of lights, the set's thresholds already apply it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

LIGHTS = ("red", "yellow", "green")


@dataclass(frozen=True)
class Wave:
    first_day: date  # the first day of its first month
    last_day: date  # the last round's day
    clusters: int  # distinct clusters benchmarked in it

    @property
    def key(self) -> str:
        return self.first_day.isoformat()


def _month(day: date) -> tuple[int, int]:
    return (day.year, day.month)


def _next_month(month: tuple[int, int]) -> tuple[int, int]:
    year, number = month
    return (year + 1, 1) if number == 12 else (year, number + 1)


def waves(rounds: Iterable[tuple[int, date]], min_clusters: int) -> list[Wave]:
    """The coordinated benchmarkings among ``(cluster id, day)`` rounds, oldest first."""
    by_month: dict[tuple[int, int], set[int]] = defaultdict(set)
    last: dict[tuple[int, int], date] = {}
    for cluster_id, day in rounds:
        month = _month(day)
        by_month[month].add(cluster_id)
        last[month] = max(last.get(month, day), day)
    qualifying = sorted(m for m, clusters in by_month.items() if len(clusters) >= min_clusters)
    found: list[Wave] = []
    run: list[tuple[int, int]] = []
    for month in qualifying + [None]:  # type: ignore[list-item]
        if run and (month is None or month != _next_month(run[-1])):
            clusters = set().union(*(by_month[m] for m in run))
            found.append(Wave(date(run[0][0], run[0][1], 1), last[run[-1]], len(clusters)))
            run = []
        if month is not None:
            run.append(month)
    return found


def median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Side:
    median: Decimal
    lights: dict[str, int]  # light -> clusters


@dataclass(frozen=True)
class IndicatorMove:
    indicator_id: str
    clusters: int  # benchmarked on it in both waves
    before: Side | None  # None: too few clusters to show
    after: Side | None
    direction: str  # "improved", "declined", "same", "hidden"


def _side(cells: list[tuple[Decimal, str]]) -> Side:
    lights = dict.fromkeys(LIGHTS, 0)
    for _value, light in cells:
        if light in lights:
            lights[light] += 1
    return Side(median([value for value, _light in cells]), lights)


def moves(
    indicators: Iterable[tuple[str, bool]],
    before: dict[int, dict[str, tuple[Decimal, str]]],
    after: dict[int, dict[str, tuple[Decimal, str]]],
    min_group: int,
) -> list[IndicatorMove]:
    """Per indicator ``(id, higher is better)``, in the given order, how the forum moved
    between two waves: ``before`` / ``after`` map each cluster to its values and lights in
    that wave. Fewer than ``min_group`` clusters in both waves: only the count is told."""
    found = []
    for indicator_id, higher_is_better in indicators:
        paired = [
            c
            for c in sorted(set(before) & set(after))
            if indicator_id in before[c] and indicator_id in after[c]
        ]
        if not paired or len(paired) < min_group:
            found.append(IndicatorMove(indicator_id, len(paired), None, None, "hidden"))
            continue
        old = _side([before[c][indicator_id] for c in paired])
        new = _side([after[c][indicator_id] for c in paired])
        change = new.median - old.median
        if not higher_is_better:
            change = -change
        if change == 0:
            change = Decimal(new.lights["green"] - old.lights["green"])
        direction = "improved" if change > 0 else "declined" if change < 0 else "same"
        found.append(IndicatorMove(indicator_id, len(paired), old, new, direction))
    return found
